package store

import (
	"bytes"
	"context"
	"fmt"
	"iter"
	"slices"
	"sort"
	"sync"

	"github.com/feedsync/go-feedsync/feedsync"
	"github.com/feedsync/go-feedsync/store/internal/txstate"
)

// Memory is a Store that keeps everything in memory, for tests and for
// programs that load a feed, work on it and write it out again. Its data
// goes with it when the program ends.
//
// It has the transaction semantics of the database stores: one writable Tx
// at a time, whose changes stay private until Commit (Rollback drops them),
// while read-only transactions see the committed state (read committed,
// as PostgreSQL's default: each call sees the latest commit). Items are kept
// encoded (feedsync.ItemEncoder), so an item returned by Get is a
// fresh value that the caller may not corrupt the store through.
type Memory struct {
	id string
	// writer holds a token while a writable Tx is open; Begin waits for it.
	writer chan struct{}

	mu     sync.RWMutex // guards everything below
	closed bool
	items  map[string]*memRow
	// log lists rows in ascending seq. A row superseded by a later Put of
	// the same id stays until the log is compacted; readers skip it by
	// checking that items still points at it.
	log       []*memRow
	seq       int64
	peerSeq   map[string]int64
	peerVer   map[peerKey]Version
	peerState map[string]PeerState
	// marks lists the history marks of the commits, ascending by the last
	// sequence number of each commit (HistoryMark).
	marks  []histMark
	info   feedsync.FeedInfo
	format feedsync.Format

	signal Signal // Notify after a commit that took sequence numbers
	ret    Retention
}

// histMark is the mark of one commit and its last sequence number.
type histMark struct {
	seq  int64
	mark string
}

var (
	_ Store    = (*Memory)(nil)
	_ Notifier = (*Memory)(nil)
)

type memRow struct {
	id   string
	seq  int64
	stat ItemStat
	data []byte
}

type peerKey struct{ peer, id string }

// NewMemory returns an empty in-memory store with a new random ID.
func NewMemory() *Memory {
	return &Memory{
		id:        feedsync.NewID(),
		writer:    make(chan struct{}, 1),
		items:     map[string]*memRow{},
		peerSeq:   map[string]int64{},
		peerVer:   map[peerKey]Version{},
		peerState: map[string]PeerState{},
	}
}

// ID returns the store's random identifier.
func (m *Memory) ID() string { return m.id }

// Changed returns a channel closed by the next commit of a Put
// (Notifier).
func (m *Memory) Changed() <-chan struct{} { return m.signal.Changed() }

// Close marks the store closed: Begin and the methods of open transactions
// return ErrClosed afterwards. Closing twice is harmless.
func (m *Memory) Close() error {
	m.mu.Lock()
	m.closed = true
	m.mu.Unlock()
	return nil
}

// Begin starts a transaction. A writable one waits, within ctx, for the
// previous writable one to end.
func (m *Memory) Begin(ctx context.Context, writable bool) (Tx, error) {
	if writable {
		select {
		case m.writer <- struct{}{}:
		case <-ctx.Done():
			return nil, fmt.Errorf("store: begin: %w", ctx.Err())
		}
	}
	m.mu.RLock()
	closed, seq := m.closed, m.seq
	m.mu.RUnlock()
	if closed {
		if writable {
			<-m.writer
		}
		return nil, fmt.Errorf("store: begin: %w", ErrClosed)
	}
	tx := &memTx{m: m, State: txstate.State{Writable: writable}}
	if writable {
		tx.Seq, tx.Seq0 = seq, seq
		tx.items = map[string]*memRow{}
		tx.peerSeq = map[string]int64{}
		tx.peerVer = map[peerKey]Version{}
		tx.peerState = map[string]PeerState{}
		tx.forgot = map[string]bool{}
	}
	return tx, nil
}

// memTx is a Memory transaction. A writable one keeps its changes in its
// own maps (an overlay) until Commit copies them into the store under the
// store's lock; reads look at the overlay first.
type memTx struct {
	m *Memory
	// State is the Tx's life, its sequence numbers and history mark. The
	// store's closing is checked under its lock (rlock), not by State.
	txstate.State

	// The overlay of a writable Tx. A removed item is a nil row in items;
	// a row rewritten in place (Rewrite) keeps its seq, and rewritten
	// lists those of them that are the store's, to swap into its log at
	// Commit.
	items     map[string]*memRow
	log       []*memRow
	rewritten []*memRow
	added     int // ids new to the store
	enc       feedsync.ItemEncoder
	removed   int // ids of the store removed
	peerSeq   map[string]int64
	peerVer   map[peerKey]Version
	peerState map[string]PeerState
	forgot    map[string]bool // peers whose committed knowledge ForgetPeer dropped
	info      *feedInfo
	ret       *Retention
}

var _ Tx = (*memTx)(nil)

type feedInfo struct {
	info   feedsync.FeedInfo
	format feedsync.Format
}

// rlock takes the store's read lock, failing if the store is closed.
func (tx *memTx) rlock() error {
	tx.m.mu.RLock()
	if tx.m.closed {
		tx.m.mu.RUnlock()
		return tx.Fail(ErrClosed)
	}
	return nil
}

// decodeRow restores the item of r. The item refers to a copy of r's
// bytes, so that nothing done to it can reach the store.
func decodeRow(r *memRow) (*feedsync.Item, error) {
	var dec feedsync.ItemDecoder
	it, err := dec.Decode(bytes.Clone(r.data))
	if err != nil {
		return nil, fmt.Errorf("store: decode item %q: %w", r.id, err)
	}
	return it, nil
}

// encode returns the encoded form of it, in a slice of its own.
func (tx *memTx) encode(it *feedsync.Item) ([]byte, error) {
	b, err := tx.enc.Encode(it)
	if err != nil {
		return nil, err
	}
	return bytes.Clone(b), nil
}

func (tx *memTx) Get(ctx context.Context, id string) (*feedsync.Item, error) {
	if err := tx.Check(ctx, false); err != nil {
		return nil, fmt.Errorf("store: get item %q: %w", id, err)
	}
	r, ok := tx.items[id]
	if !ok {
		if err := tx.rlock(); err != nil {
			return nil, fmt.Errorf("store: get item %q: %w", id, err)
		}
		r = tx.m.items[id]
		tx.m.mu.RUnlock()
	}
	if r == nil {
		return nil, nil
	}
	it, err := decodeRow(r)
	if err != nil {
		return nil, tx.Fail(err)
	}
	return it, nil
}

func (tx *memTx) Stat(ctx context.Context, id string) (ItemStat, bool, error) {
	if err := tx.Check(ctx, false); err != nil {
		return ItemStat{}, false, fmt.Errorf("store: stat item %q: %w", id, err)
	}
	r, ok := tx.items[id]
	if !ok {
		if err := tx.rlock(); err != nil {
			return ItemStat{}, false, fmt.Errorf("store: stat item %q: %w", id, err)
		}
		r = tx.m.items[id]
		tx.m.mu.RUnlock()
	}
	if r == nil {
		return ItemStat{}, false, nil
	}
	return r.stat, true, nil
}

func (tx *memTx) Put(ctx context.Context, it *feedsync.Item) (int64, error) {
	id := ""
	if it != nil {
		id = it.ID()
	}
	if err := tx.Check(ctx, true); err != nil {
		return 0, fmt.Errorf("store: put item %q: %w", id, err)
	}
	stat, err := StatOf(it)
	if err != nil {
		return 0, fmt.Errorf("store: put item %q: %w", id, tx.Fail(err))
	}
	return tx.putRow(it, stat)
}

// putRow is Put after its checks: it keeps it with stat.
func (tx *memTx) putRow(it *feedsync.Item, stat ItemStat) (int64, error) {
	id := stat.ID
	data, err := tx.encode(it)
	if err != nil {
		return 0, fmt.Errorf("store: put item %q: %w", id, tx.Fail(err))
	}
	if o, ok := tx.items[id]; !ok || o == nil {
		if err := tx.rlock(); err != nil {
			return 0, fmt.Errorf("store: put item %q: %w", id, err)
		}
		_, exists := tx.m.items[id]
		tx.m.mu.RUnlock()
		switch {
		case !exists:
			tx.added++
		case ok: // removed earlier in this Tx, back again
			tx.removed--
		}
	}
	tx.Seq++
	stat.Seq = tx.Seq
	r := &memRow{id: id, seq: tx.Seq, stat: stat, data: data}
	tx.items[id] = r
	tx.log = append(tx.log, r)
	return r.seq, nil
}

// batch returns up to max rows changed after seq after, ascending, each the
// latest row of its id as this Tx sees it.
func (tx *memTx) batch(after int64, max int) ([]*memRow, error) {
	var out []*memRow
	if err := tx.rlock(); err != nil {
		return nil, err
	}
	log := tx.m.log
	i := sort.Search(len(log), func(i int) bool { return log[i].seq > after })
	for ; i < len(log) && len(out) < max; i++ {
		r := log[i]
		if tx.m.items[r.id] != r {
			continue // superseded by a later commit
		}
		if o, ok := tx.items[r.id]; ok {
			if o != nil && o.seq == r.seq {
				out = append(out, o) // rewritten in this Tx
			}
			continue // else superseded or removed in this Tx
		}
		out = append(out, r)
	}
	tx.m.mu.RUnlock()
	// The overlay's seqs are all above the store's: the store cannot change
	// under a writable Tx, which is the only writer.
	i = sort.Search(len(tx.log), func(i int) bool { return tx.log[i].seq > after })
	for ; i < len(tx.log) && len(out) < max; i++ {
		if r := tx.log[i]; tx.items[r.id] == r {
			out = append(out, r)
		}
	}
	return out, nil
}

const memBatch = 256

// rows returns the latest row of each item changed after seq after, in
// ascending seq, reading the store in batches so that the loop body may
// use the Tx.
func (tx *memTx) rows(ctx context.Context, after int64) iter.Seq2[*memRow, error] {
	return func(yield func(*memRow, error) bool) {
		for {
			if err := tx.Check(ctx, false); err != nil {
				yield(nil, fmt.Errorf("store: changes after %d: %w", after, err))
				return
			}
			rows, err := tx.batch(after, memBatch)
			if err != nil {
				yield(nil, fmt.Errorf("store: changes after %d: %w", after, err))
				return
			}
			for _, r := range rows {
				if !yield(r, nil) {
					return
				}
				after = r.seq
			}
			if len(rows) < memBatch {
				return
			}
		}
	}
}

func (tx *memTx) Changes(ctx context.Context, after int64) iter.Seq2[Change, error] {
	return func(yield func(Change, error) bool) {
		for r, err := range tx.rows(ctx, after) {
			if err != nil {
				yield(Change{}, err)
				return
			}
			it, err := decodeRow(r)
			if err != nil {
				yield(Change{}, tx.Fail(err))
				return
			}
			if !yield(Change{Seq: r.seq, Item: it}, nil) {
				return
			}
		}
	}
}

func (tx *memTx) Stats(ctx context.Context, after int64) iter.Seq2[ItemStat, error] {
	return func(yield func(ItemStat, error) bool) {
		for r, err := range tx.rows(ctx, after) {
			if err != nil {
				yield(ItemStat{}, err)
				return
			}
			if !yield(r.stat, nil) {
				return
			}
		}
	}
}

func (tx *memTx) All(ctx context.Context) iter.Seq2[*feedsync.Item, error] {
	return func(yield func(*feedsync.Item, error) bool) {
		for c, err := range tx.Changes(ctx, 0) {
			if !yield(c.Item, err) {
				return
			}
		}
	}
}

func (tx *memTx) LastSeq(ctx context.Context) (int64, error) {
	if err := tx.Check(ctx, false); err != nil {
		return 0, fmt.Errorf("store: last seq: %w", err)
	}
	if tx.Writable {
		return tx.Seq, nil
	}
	if err := tx.rlock(); err != nil {
		return 0, fmt.Errorf("store: last seq: %w", err)
	}
	defer tx.m.mu.RUnlock()
	return tx.m.seq, nil
}

func (tx *memTx) Count(ctx context.Context) (int, error) {
	if err := tx.Check(ctx, false); err != nil {
		return 0, fmt.Errorf("store: count: %w", err)
	}
	if err := tx.rlock(); err != nil {
		return 0, fmt.Errorf("store: count: %w", err)
	}
	defer tx.m.mu.RUnlock()
	return len(tx.m.items) + tx.added - tx.removed, nil
}

func (tx *memTx) PeerVersion(ctx context.Context, peer, id string) (Version, bool, error) {
	if err := tx.Check(ctx, false); err != nil {
		return Version{}, false, fmt.Errorf("store: version of item %q at peer %q: %w", id, peer, err)
	}
	k := peerKey{peer, id}
	if v, ok := tx.peerVer[k]; ok {
		return v, true, nil
	}
	if tx.forgot[peer] {
		return Version{}, false, nil
	}
	if err := tx.rlock(); err != nil {
		return Version{}, false, fmt.Errorf("store: version of item %q at peer %q: %w", id, peer, err)
	}
	defer tx.m.mu.RUnlock()
	v, ok := tx.m.peerVer[k]
	return v, ok, nil
}

func (tx *memTx) PeerSeq(ctx context.Context, peer string) (int64, error) {
	if err := tx.Check(ctx, false); err != nil {
		return 0, fmt.Errorf("store: seq sent to peer %q: %w", peer, err)
	}
	if s, ok := tx.peerSeq[peer]; ok {
		return s, nil
	}
	if err := tx.rlock(); err != nil {
		return 0, fmt.Errorf("store: seq sent to peer %q: %w", peer, err)
	}
	defer tx.m.mu.RUnlock()
	return tx.m.peerSeq[peer], nil
}

func (tx *memTx) SetPeerVersion(ctx context.Context, peer, id string, v Version) error {
	if err := tx.Check(ctx, true); err != nil {
		return fmt.Errorf("store: set version of item %q at peer %q: %w", id, peer, err)
	}
	v.Top = bare(v.Top)
	tx.peerVer[peerKey{peer, id}] = v
	return nil
}

func (tx *memTx) SetPeerSeq(ctx context.Context, peer string, seq int64) error {
	if err := tx.Check(ctx, true); err != nil {
		return fmt.Errorf("store: set seq sent to peer %q: %w", peer, err)
	}
	tx.peerSeq[peer] = seq
	return nil
}

func (tx *memTx) PeerState(ctx context.Context, peer string) (PeerState, error) {
	if err := tx.Check(ctx, false); err != nil {
		return PeerState{}, fmt.Errorf("store: sync state of peer %q: %w", peer, err)
	}
	if s, ok := tx.peerState[peer]; ok {
		return s, nil
	}
	if tx.forgot[peer] {
		return PeerState{}, nil
	}
	if err := tx.rlock(); err != nil {
		return PeerState{}, fmt.Errorf("store: sync state of peer %q: %w", peer, err)
	}
	defer tx.m.mu.RUnlock()
	return tx.m.peerState[peer], nil
}

func (tx *memTx) SetPeerState(ctx context.Context, peer string, s PeerState) error {
	if err := tx.Check(ctx, true); err != nil {
		return fmt.Errorf("store: set sync state of peer %q: %w", peer, err)
	}
	tx.peerState[peer] = s
	return nil
}

func (tx *memTx) ForgetPeer(ctx context.Context, peer string) error {
	if err := tx.Check(ctx, true); err != nil {
		return fmt.Errorf("store: forget peer %q: %w", peer, err)
	}
	for k := range tx.peerVer {
		if k.peer == peer {
			delete(tx.peerVer, k)
		}
	}
	delete(tx.peerState, peer)
	tx.forgot[peer] = true
	return nil
}

func (tx *memTx) HistoryMark(ctx context.Context, seq int64) (string, bool, error) {
	if err := tx.Check(ctx, false); err != nil {
		return "", false, fmt.Errorf("store: history mark of %d: %w", seq, err)
	}
	if mark, ok, own := tx.OwnMark(seq); own {
		return mark, ok, nil
	}
	if err := tx.rlock(); err != nil {
		return "", false, fmt.Errorf("store: history mark of %d: %w", seq, err)
	}
	defer tx.m.mu.RUnlock()
	if seq < 0 || seq > tx.m.seq {
		return "", false, nil
	}
	marks := tx.m.marks
	i := sort.Search(len(marks), func(i int) bool { return marks[i].seq >= seq })
	if i == len(marks) {
		return "", false, nil
	}
	return marks[i].mark, true, nil
}

func (tx *memTx) FeedInfo(ctx context.Context) (feedsync.FeedInfo, feedsync.Format, error) {
	if err := tx.Check(ctx, false); err != nil {
		return feedsync.FeedInfo{}, 0, fmt.Errorf("store: feed info: %w", err)
	}
	if tx.info != nil {
		return tx.info.info, tx.info.format, nil
	}
	if err := tx.rlock(); err != nil {
		return feedsync.FeedInfo{}, 0, fmt.Errorf("store: feed info: %w", err)
	}
	defer tx.m.mu.RUnlock()
	return tx.m.info, tx.m.format, nil
}

func (tx *memTx) SetFeedInfo(ctx context.Context, info feedsync.FeedInfo, format feedsync.Format) error {
	if err := tx.Check(ctx, true); err != nil {
		return fmt.Errorf("store: set feed info: %w", err)
	}
	tx.info = &feedInfo{NormalizeFeedInfo(info), format}
	return nil
}

func (tx *memTx) Commit() error {
	if err := tx.CanCommit(); err != nil {
		if !tx.Done() {
			tx.end()
		}
		return fmt.Errorf("store: commit: %w", err)
	}
	if !tx.Writable {
		tx.end()
		return nil
	}
	m := tx.m
	m.mu.Lock()
	if m.closed {
		m.mu.Unlock()
		tx.end()
		return fmt.Errorf("store: commit: %w", ErrClosed)
	}
	for id, r := range tx.items {
		if r != nil {
			m.items[id] = r
		}
	}
	m.log = append(m.log, tx.log...)
	changed := m.seq != tx.Seq
	if tx.Changed() {
		m.marks = append(m.marks, histMark{tx.Seq, tx.Mark()})
	}
	m.seq = tx.Seq
	for p, s := range tx.peerSeq {
		m.peerSeq[p] = s
	}
	if len(tx.forgot) > 0 {
		for k := range m.peerVer {
			if tx.forgot[k.peer] {
				delete(m.peerVer, k)
			}
		}
		for p := range tx.forgot {
			delete(m.peerState, p)
		}
	}
	for k, v := range tx.peerVer {
		m.peerVer[k] = v
	}
	for p, s := range tx.peerState {
		if s.IsZero() {
			delete(m.peerState, p)
		} else {
			m.peerState[p] = s
		}
	}
	if tx.info != nil {
		m.info, m.format = tx.info.info, tx.info.format
	}
	if tx.ret != nil {
		m.ret = *tx.ret
	}
	for _, r := range tx.rewritten {
		if m.items[r.id] != r {
			continue // put again or removed later in this Tx
		}
		if i, ok := sort.Find(len(m.log), func(i int) int { return cmpSeq(r.seq, m.log[i].seq) }); ok {
			m.log[i] = r
		}
	}
	gone := map[string]bool{}
	for id, r := range tx.items {
		if r == nil {
			delete(m.items, id)
			gone[id] = true
		}
	}
	if len(gone) > 0 {
		for k := range m.peerVer {
			if gone[k.id] {
				delete(m.peerVer, k)
			}
		}
	}
	// Drop superseded rows once they outnumber the live ones, so the log
	// stays within twice the item count (plus some slack) and Changes
	// never wades through many stale rows.
	if len(m.log) > 2*len(m.items)+1024 {
		live := make([]*memRow, 0, len(m.items))
		for _, r := range m.log {
			if m.items[r.id] == r {
				live = append(live, r)
			}
		}
		m.log = live
	}
	m.mu.Unlock()
	tx.end()
	if changed {
		m.signal.Notify()
	}
	return nil
}

func (tx *memTx) Rollback() error {
	if tx.Done() {
		return fmt.Errorf("store: rollback: %w", ErrTxDone)
	}
	tx.end()
	return nil
}

// end marks the Tx done, drops its overlay and lets the next writer in.
func (tx *memTx) end() {
	tx.End()
	tx.items, tx.log, tx.rewritten, tx.peerSeq, tx.peerVer, tx.info, tx.ret = nil, nil, nil, nil, nil, nil, nil
	tx.peerState, tx.forgot = nil, nil
	if tx.Writable {
		<-tx.m.writer
	}
}

func cmpSeq(a, b int64) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

// current returns the row of id as this Tx sees it, nil if none.
func (tx *memTx) current(id string) (*memRow, error) {
	if r, ok := tx.items[id]; ok {
		return r, nil
	}
	if err := tx.rlock(); err != nil {
		return nil, err
	}
	defer tx.m.mu.RUnlock()
	return tx.m.items[id], nil
}

func (tx *memTx) Rewrite(ctx context.Context, it *feedsync.Item) error {
	id := ""
	if it != nil {
		id = it.ID()
	}
	if err := tx.Check(ctx, true); err != nil {
		return fmt.Errorf("store: rewrite item %q: %w", id, err)
	}
	stat, err := StatOf(it)
	if err != nil {
		return fmt.Errorf("store: rewrite item %q: %w", id, tx.Fail(err))
	}
	old, err := tx.current(id)
	if err != nil {
		return fmt.Errorf("store: rewrite item %q: %w", id, err)
	}
	if old == nil || !old.stat.Version.Equal(stat.Version) {
		return fmt.Errorf("store: rewrite item %q: %w", id, tx.Fail(ErrNotSameVersion))
	}
	data, err := tx.encode(it)
	if err != nil {
		return fmt.Errorf("store: rewrite item %q: %w", id, tx.Fail(err))
	}
	stat.Seq = old.seq
	r := &memRow{id: id, seq: old.seq, stat: stat, data: data}
	tx.items[id] = r
	if i, ok := sort.Find(len(tx.log), func(i int) int { return cmpSeq(r.seq, tx.log[i].seq) }); ok {
		tx.log[i] = r // put earlier in this Tx
	} else {
		tx.rewritten = append(tx.rewritten, r)
	}
	return nil
}

func (tx *memTx) Remove(ctx context.Context, id string) (int64, error) {
	if err := tx.Check(ctx, true); err != nil {
		return 0, fmt.Errorf("store: remove item %q: %w", id, err)
	}
	tx.Seq++
	o, inTx := tx.items[id]
	if inTx && o == nil {
		return tx.Seq, nil // removed already
	}
	if err := tx.rlock(); err != nil {
		return 0, fmt.Errorf("store: remove item %q: %w", id, err)
	}
	_, inStore := tx.m.items[id]
	tx.m.mu.RUnlock()
	switch {
	case inStore:
		tx.removed++
	case inTx:
		tx.added-- // put in this Tx only
	default:
		return tx.Seq, nil
	}
	tx.items[id] = nil
	for k := range tx.peerVer {
		if k.id == id {
			delete(tx.peerVer, k)
		}
	}
	return tx.Seq, nil
}

func (tx *memTx) Retention(ctx context.Context) (Retention, error) {
	if err := tx.Check(ctx, false); err != nil {
		return Retention{}, fmt.Errorf("store: retention: %w", err)
	}
	if tx.ret != nil {
		return cloneRetention(*tx.ret), nil
	}
	if err := tx.rlock(); err != nil {
		return Retention{}, fmt.Errorf("store: retention: %w", err)
	}
	defer tx.m.mu.RUnlock()
	return cloneRetention(tx.m.ret), nil
}

func (tx *memTx) SetRetention(ctx context.Context, r Retention) error {
	if err := tx.Check(ctx, true); err != nil {
		return fmt.Errorf("store: set retention: %w", err)
	}
	r = NormalizeRetention(r)
	tx.ret = &r
	return nil
}

func cloneRetention(r Retention) Retention {
	r.Marks = slices.Clone(r.Marks)
	return r
}

// NormalizeRetention returns r as stores keep it: mark instants in UTC, to
// whole seconds (FS-TYPE-4), and Marks nil when empty.
func NormalizeRetention(r Retention) Retention {
	if len(r.Marks) == 0 {
		r.Marks = nil
		return r
	}
	ms := make([]Mark, len(r.Marks))
	for i, m := range r.Marks {
		ms[i] = Mark{At: feedsync.Normalize(m.At), Seq: m.Seq}
	}
	r.Marks = ms
	return r
}
