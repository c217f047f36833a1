package sqltx

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"iter"
	"time"

	"github.com/feedsync/go-feedsync/feedsync"
	"github.com/feedsync/go-feedsync/store"
	"github.com/feedsync/go-feedsync/store/internal/itemrow"
	"github.com/feedsync/go-feedsync/store/internal/txstate"
)

// Tx is a transaction of an SQL store: a store.Tx over its Driver.
type Tx struct {
	// State is the Tx's life (txstate), with the counter a writable Tx
	// reads at Begin, holding the write lock, counts up on each Put and
	// writes back at Commit. The Driver may fail the Tx through it.
	txstate.State
	q      *Dialect
	d      Driver
	rows   RowBatcher // d, if it batches rows itself
	signal *store.Signal
	// args holds the arguments of a statement run at once (argv).
	args []any
}

var (
	_ store.Tx           = (*Tx)(nil)
	_ store.XMLReader    = (*Tx)(nil)
	_ store.SQLTx        = (*Tx)(nil)
	_ store.RepairReader = (*Tx)(nil)
	_ store.BatchReader  = (*Tx)(nil)
	_ store.BatchWriter  = (*Tx)(nil)
)

// New returns the Tx of state run by d with the statements of q. Its
// Commit notifies signal when it took sequence numbers. A Driver that
// fails the Tx itself takes &tx.State after.
func New(q *Dialect, d Driver, state txstate.State, signal *store.Signal) *Tx {
	t := &Tx{State: state, q: q, d: d, signal: signal}
	t.rows, _ = d.(RowBatcher)
	return t
}

// Driver returns the Driver the Tx runs on.
func (t *Tx) Driver() Driver { return t.d }

// enter checks that the Tx may run a read, and makes the writes left
// pending, which the read may see.
func (t *Tx) enter(ctx context.Context, write bool) error {
	if err := t.Check(ctx, write); err != nil {
		return err
	}
	return t.d.Flush(ctx)
}

// enterFor is enter for a read that sees only the rows of the items ids:
// pending writes are made only if one of them may change one of those.
func (t *Tx) enterFor(ctx context.Context, ids ...string) error {
	if err := t.Check(ctx, false); err != nil {
		return err
	}
	for _, id := range ids {
		if t.d.Pending(id) {
			return t.d.Flush(ctx)
		}
	}
	return nil
}

// argv returns args in a buffer of the Tx, for a statement run at once
// (QueryRow, Query), which keeps no argument after it returns: a Tx
// reads one statement at a time, and the slice need not be allocated
// for each.
func (t *Tx) argv(args ...any) []any {
	t.args = append(t.args[:0], args...)
	return t.args
}

// closeRows closes rows after a read that returned err, and returns err
// or else the error of Close.
func closeRows(rows Rows, err error) error {
	if cerr := rows.Close(); err == nil {
		err = cerr
	}
	return err
}

// queryRow runs the query q and scans its row into dest; found is false,
// with no error, when it has none.
func (t *Tx) queryRow(ctx context.Context, q string, args []any, dest ...any) (found bool, err error) {
	err = t.d.QueryRow(ctx, q, args, dest...)
	if errors.Is(err, sql.ErrNoRows) {
		return false, nil
	}
	return err == nil, err
}

// write checks that the Tx may write and makes a write (Driver.Write).
func (t *Tx) write(ctx context.Context, what, item, q string, args ...any) error {
	if err := t.Check(ctx, true); err != nil {
		return fmt.Errorf("%s: %s: %w", t.q.Name, what, err)
	}
	return t.d.Write(ctx, what, item, q, args...)
}

// nullTime is a time column that may be NULL, as the Dialect keeps it.
type nullTime struct {
	unix sql.NullInt64 // UnixTime
	at   *time.Time
}

// timeDest returns where a scan of a time column goes.
func (t *Tx) timeDest(n *nullTime) any {
	if t.q.UnixTime {
		return &n.unix
	}
	return &n.at
}

func (n *nullTime) time() time.Time {
	switch {
	case n.at != nil:
		return n.at.UTC()
	case n.unix.Valid:
		return time.Unix(n.unix.Int64, 0).UTC()
	}
	return time.Time{}
}

// timeArg returns tm as the argument of a time column: NULL for the zero
// time.
func (t *Tx) timeArg(tm time.Time) any {
	switch {
	case tm.IsZero():
		return nil
	case t.q.UnixTime:
		return tm.Unix()
	}
	return tm
}

// scanStat reads the StatCols of one row.
func (t *Tx) scanStat(scan func(dest ...any) error) (store.ItemStat, error) {
	var st store.ItemStat
	var when nullTime
	var digest []byte
	if err := scan(&st.Seq, &st.ID, &st.Updates, &st.Deleted, &st.Version.Top.By, &st.Version.Top.Sequence, t.timeDest(&when),
		&digest, &st.Conflicts, &st.Version.Conflicts); err != nil {
		return store.ItemStat{}, err
	}
	st.Version.Top.When = when.time()
	d, err := itemrow.Digest(st.ID, digest)
	if err != nil {
		return store.ItemStat{}, err
	}
	st.Digest = d
	return st, nil
}

func (t *Tx) Get(ctx context.Context, id string) (*feedsync.Item, error) {
	return t.GetLimits(ctx, id, feedsync.ReaderOptions{})
}

// GetLimits is Get with the reader limits opts (store.RepairReader).
func (t *Tx) GetLimits(ctx context.Context, id string, opts feedsync.ReaderOptions) (*feedsync.Item, error) {
	// A merge gets each incoming item's local version, almost always one
	// that this Tx has not put: the writes pending stay so.
	if err := t.enterFor(ctx, id); err != nil {
		return nil, fmt.Errorf("%s: get item %q: %w", t.q.Name, id, err)
	}
	var xml []byte
	found, err := t.queryRow(ctx, t.q.Get, t.argv(id), &xml)
	if err != nil {
		return nil, fmt.Errorf("%s: get item %q: %w", t.q.Name, id, t.Fail(err))
	}
	if !found {
		return nil, nil
	}
	it, err := itemrow.DecodeLimits(id, xml, opts)
	if err != nil {
		return nil, fmt.Errorf("%s: get: %w", t.q.Name, t.Fail(err))
	}
	return it, nil
}

func (t *Tx) Stat(ctx context.Context, id string) (store.ItemStat, bool, error) {
	if err := t.enterFor(ctx, id); err != nil {
		return store.ItemStat{}, false, fmt.Errorf("%s: stat item %q: %w", t.q.Name, id, err)
	}
	stat, err := t.scanStat(func(dest ...any) error { return t.d.QueryRow(ctx, t.q.Stat, t.argv(id), dest...) })
	if errors.Is(err, sql.ErrNoRows) {
		return store.ItemStat{}, false, nil
	}
	if err != nil {
		return store.ItemStat{}, false, fmt.Errorf("%s: stat item %q: %w", t.q.Name, id, t.Fail(err))
	}
	return stat, true, nil
}

func (t *Tx) Put(ctx context.Context, it *feedsync.Item) (int64, error) {
	id := ""
	if it != nil {
		id = it.ID()
	}
	if err := t.Check(ctx, true); err != nil {
		return 0, fmt.Errorf("%s: put item %q: %w", t.q.Name, id, err)
	}
	r, err := itemrow.FromItem(it)
	if err != nil {
		return 0, fmt.Errorf("%s: put item %q: %w", t.q.Name, id, t.Fail(err))
	}
	seq := t.Next()
	if t.rows != nil {
		err = t.rows.Put(ctx, seq, r)
	} else {
		err = t.writePut(ctx, seq, r)
	}
	if err != nil {
		return 0, err
	}
	return seq, nil
}

// writePut writes the row of Put with the Dialect's statement. It is a
// function of its own so that r goes to the heap only here, where its
// digest's bytes become an argument.
func (t *Tx) writePut(ctx context.Context, seq int64, r itemrow.Row) error {
	v := r.Version
	return t.d.Write(ctx, fmt.Sprintf("put item %q", r.ID), r.ID, t.q.Put, seq, r.ID, r.Updates, r.Deleted, v.Top.By, v.Top.Sequence,
		t.timeArg(v.Top.When), r.Digest[:], r.Conflicts, v.Conflicts, r.Data)
}

// changeBatch reads the rows changed after seq after, ascending, up to
// itemrow.BatchRows rows or itemrow.BatchBytes of stored items; more
// reports whether there may be more. The whole batch is read before the
// caller sees any of it: a connection runs one query at a time, and the
// caller may use the Tx while it works through the batch.
func (t *Tx) changeBatch(ctx context.Context, after int64) ([]itemrow.Change, bool, error) {
	rows, err := t.d.Query(ctx, t.q.Changes, t.argv(after, itemrow.BatchRows)...)
	if err != nil {
		return nil, false, err
	}
	out, more, err := itemrow.ScanChanges(rows)
	return out, more, closeRows(rows, err)
}

func (t *Tx) Changes(ctx context.Context, after int64) iter.Seq2[store.Change, error] {
	return t.ChangesLimits(ctx, after, feedsync.ReaderOptions{})
}

// ChangesLimits is Changes with the reader limits opts
// (store.RepairReader).
func (t *Tx) ChangesLimits(ctx context.Context, after int64, opts feedsync.ReaderOptions) iter.Seq2[store.Change, error] {
	enter := func() error { return t.enter(ctx, false) }
	read := func(after int64) ([]itemrow.Change, bool, error) { return t.changeBatch(ctx, after) }
	return itemrow.Changes(t.q.Name, after, opts, itemrow.Batches(t.q.Name, enter, read, t.Fail), t.Fail)
}

// statBatch reads the stats of up to itemrow.BatchRows rows changed after
// seq after, ascending, before the caller sees any of them.
func (t *Tx) statBatch(ctx context.Context, after int64) ([]store.ItemStat, error) {
	rows, err := t.d.Query(ctx, t.q.Stats, t.argv(after, itemrow.BatchRows)...)
	if err != nil {
		return nil, err
	}
	out, err := itemrow.ScanStats(rows, t.scanStat)
	return out, closeRows(rows, err)
}

func (t *Tx) Stats(ctx context.Context, after int64) iter.Seq2[store.ItemStat, error] {
	return itemrow.Pages(after, func(after int64) ([]store.ItemStat, bool, error) {
		if err := t.enter(ctx, false); err != nil {
			return nil, false, fmt.Errorf("%s: stats after %d: %w", t.q.Name, after, err)
		}
		stats, err := t.statBatch(ctx, after)
		if err != nil {
			return nil, false, fmt.Errorf("%s: stats after %d: %w", t.q.Name, after, t.Fail(err))
		}
		return stats, len(stats) == itemrow.BatchRows, nil
	}, itemrow.StatSeq)
}

// xmlBatch reads the stats and stored items of the rows changed after seq
// after, ascending, as changeBatch does.
func (t *Tx) xmlBatch(ctx context.Context, after int64) ([]itemrow.StatRow, bool, error) {
	rows, err := t.d.Query(ctx, t.q.StatsXML, t.argv(after, itemrow.BatchRows)...)
	if err != nil {
		return nil, false, err
	}
	out, more, err := itemrow.ScanStatRows(rows, t.scanStat)
	return out, more, closeRows(rows, err)
}

func (t *Tx) ChangesXML(ctx context.Context, after int64) iter.Seq2[store.XMLChange, error] {
	enter := func() error { return t.enter(ctx, false) }
	read := func(after int64) ([]itemrow.StatRow, bool, error) { return t.xmlBatch(ctx, after) }
	return itemrow.ChangesXML(t.q.Name, after, itemrow.Batches(t.q.Name, enter, read, t.Fail), t.Fail)
}

func (t *Tx) All(ctx context.Context) iter.Seq2[*feedsync.Item, error] {
	return itemrow.Items(t.Changes(ctx, 0))
}

// LastSeq reads the counter, which no pending write changes: a writable Tx
// holds it.
func (t *Tx) LastSeq(ctx context.Context) (int64, error) {
	if err := t.Check(ctx, false); err != nil {
		return 0, fmt.Errorf("%s: last seq: %w", t.q.Name, err)
	}
	if t.Writable {
		return t.Seq, nil
	}
	var seq int64
	if err := t.d.QueryRow(ctx, t.q.LastSeq, nil, &seq); err != nil {
		return 0, fmt.Errorf("%s: last seq: %w", t.q.Name, t.Fail(err))
	}
	return seq, nil
}

func (t *Tx) Count(ctx context.Context) (int, error) {
	if err := t.enter(ctx, false); err != nil {
		return 0, fmt.Errorf("%s: count: %w", t.q.Name, err)
	}
	var n int
	if err := t.d.QueryRow(ctx, t.q.Count, nil, &n); err != nil {
		return 0, fmt.Errorf("%s: count: %w", t.q.Name, t.Fail(err))
	}
	return n, nil
}

func (t *Tx) PeerVersion(ctx context.Context, peer, id string) (store.Version, bool, error) {
	if err := t.enter(ctx, false); err != nil {
		return store.Version{}, false, fmt.Errorf("%s: version of item %q at peer %q: %w", t.q.Name, id, peer, err)
	}
	var v store.Version
	var when nullTime
	found, err := t.queryRow(ctx, t.q.PeerVersion, t.argv(peer, id), &v.Top.By, &v.Top.Sequence, t.timeDest(&when), &v.Conflicts)
	if err != nil {
		return store.Version{}, false, fmt.Errorf("%s: version of item %q at peer %q: %w", t.q.Name, id, peer, t.Fail(err))
	}
	if !found {
		return store.Version{}, false, nil
	}
	v.Top.When = when.time()
	return v, true, nil
}

func (t *Tx) PeerSeq(ctx context.Context, peer string) (int64, error) {
	if err := t.enter(ctx, false); err != nil {
		return 0, fmt.Errorf("%s: seq sent to peer %q: %w", t.q.Name, peer, err)
	}
	var seq int64
	if _, err := t.queryRow(ctx, t.q.PeerSeq, t.argv(peer), &seq); err != nil {
		return 0, fmt.Errorf("%s: seq sent to peer %q: %w", t.q.Name, peer, t.Fail(err))
	}
	return seq, nil
}

func (t *Tx) SetPeerVersion(ctx context.Context, peer, id string, v store.Version) error {
	if t.rows == nil {
		return t.write(ctx, fmt.Sprintf("set version of item %q at peer %q", id, peer), "", t.q.SetPeerVersion,
			peer, id, v.Top.By, v.Top.Sequence, t.timeArg(feedsync.Normalize(v.Top.When)), v.Conflicts)
	}
	if err := t.Check(ctx, true); err != nil {
		return fmt.Errorf("%s: set version of item %q at peer %q: %w", t.q.Name, id, peer, err)
	}
	return t.rows.SetPeerVersion(ctx, peer, id, v)
}

func (t *Tx) SetPeerSeq(ctx context.Context, peer string, seq int64) error {
	return t.write(ctx, fmt.Sprintf("set seq sent to peer %q", peer), "", t.q.SetPeerSeq, peer, seq)
}

func (t *Tx) PeerState(ctx context.Context, peer string) (store.PeerState, error) {
	if err := t.enter(ctx, false); err != nil {
		return store.PeerState{}, fmt.Errorf("%s: sync state of peer %q: %w", t.q.Name, peer, err)
	}
	var ps store.PeerState
	found, err := t.queryRow(ctx, t.q.PeerState, t.argv(peer), &ps.Received, &ps.Sent, &ps.Resume)
	if err != nil {
		return store.PeerState{}, fmt.Errorf("%s: sync state of peer %q: %w", t.q.Name, peer, t.Fail(err))
	}
	if !found {
		return store.PeerState{}, nil
	}
	return ps, nil
}

func (t *Tx) SetPeerState(ctx context.Context, peer string, ps store.PeerState) error {
	what := fmt.Sprintf("set sync state of peer %q", peer)
	if ps.IsZero() {
		return t.write(ctx, what, "", t.q.DelPeerState, peer)
	}
	return t.write(ctx, what, "", t.q.SetPeerState, peer, ps.Received, ps.Sent, ps.Resume)
}

func (t *Tx) ForgetPeer(ctx context.Context, peer string) error {
	what := fmt.Sprintf("forget peer %q", peer)
	if err := t.write(ctx, what, "", t.q.DelPeerVersions, peer); err != nil {
		return err
	}
	return t.d.Write(ctx, what, "", t.q.DelPeerState, peer)
}

// HistoryMark reads marks, which only Commit writes: no pending write
// changes them.
func (t *Tx) HistoryMark(ctx context.Context, seq int64) (string, bool, error) {
	if err := t.Check(ctx, false); err != nil {
		return "", false, fmt.Errorf("%s: history mark of %d: %w", t.q.Name, seq, err)
	}
	if mark, ok, own := t.OwnMark(seq); own {
		return mark, ok, nil
	}
	last, err := t.LastSeq(ctx)
	if err != nil {
		return "", false, err
	}
	if seq < 0 || seq > last {
		return "", false, nil
	}
	var mark string
	found, err := t.queryRow(ctx, t.q.HistoryMark, t.argv(seq), &mark)
	if err != nil {
		return "", false, fmt.Errorf("%s: history mark of %d: %w", t.q.Name, seq, t.Fail(err))
	}
	return mark, found, nil
}

func (t *Tx) FeedInfo(ctx context.Context) (feedsync.FeedInfo, feedsync.Format, error) {
	if err := t.enter(ctx, false); err != nil {
		return feedsync.FeedInfo{}, 0, fmt.Errorf("%s: feed info: %w", t.q.Name, err)
	}
	var info feedsync.FeedInfo
	var format string
	var updated nullTime
	found, err := t.queryRow(ctx, t.q.FeedInfo, nil, &format, &info.Title, &info.Link, &info.Description, &info.ID, t.timeDest(&updated))
	if err != nil {
		return feedsync.FeedInfo{}, 0, fmt.Errorf("%s: feed info: %w", t.q.Name, t.Fail(err))
	}
	if !found {
		return feedsync.FeedInfo{}, feedsync.FormatUnknown, nil
	}
	info.Updated = updated.time()
	f := feedsync.FormatUnknown
	if format != f.String() {
		if f, err = feedsync.ParseFormat(format); err != nil {
			return feedsync.FeedInfo{}, 0, fmt.Errorf("%s: feed info: %w", t.q.Name, t.Fail(err))
		}
	}
	return info, f, nil
}

func (t *Tx) SetFeedInfo(ctx context.Context, info feedsync.FeedInfo, format feedsync.Format) error {
	info = store.NormalizeFeedInfo(info)
	return t.write(ctx, "set feed info", "", t.q.SetFeedInfo, format.String(), info.Title, info.Link, info.Description, info.ID,
		t.timeArg(info.Updated))
}

func (t *Tx) Commit() error {
	if err := t.CanCommit(); err != nil {
		if !t.Done() {
			t.abort()
		}
		return fmt.Errorf("%s: commit: %w", t.q.Name, err)
	}
	// Commit must not be cut short by a caller's ctx: it has none.
	ctx := context.Background()
	if ferr := t.d.Flush(ctx); ferr != nil {
		err := t.CanCommit() // the flush's failure, as ErrTxFailed
		if err == nil {
			err = ferr
		}
		t.abort()
		return fmt.Errorf("%s: commit: %w", t.q.Name, err)
	}
	if t.Changed() {
		if err := t.d.SaveSeq(ctx, t.Seq); err != nil {
			t.abort()
			return fmt.Errorf("%s: commit: save seq: %w", t.q.Name, t.mapErr(err))
		}
		if _, err := t.d.Exec(ctx, t.q.AddHistory, t.Seq, t.Mark()); err != nil {
			t.abort()
			return fmt.Errorf("%s: commit: save history mark: %w", t.q.Name, t.mapErr(err))
		}
	}
	if err := t.d.Commit(ctx); err != nil {
		t.abort()
		return fmt.Errorf("%s: commit: %w", t.q.Name, t.mapErr(err))
	}
	t.End()
	if t.Changed() {
		t.signal.Notify()
	}
	return nil
}

func (t *Tx) Rollback() error {
	if t.Done() {
		return fmt.Errorf("%s: rollback: %w", t.q.Name, store.ErrTxDone)
	}
	t.End()
	if err := t.d.Rollback(); err != nil {
		return fmt.Errorf("%s: rollback: %w", t.q.Name, t.mapErr(err))
	}
	return nil
}

// abort ends a Tx whose Commit failed; the failure is the caller's to
// report, not the rollback's.
func (t *Tx) abort() {
	t.End()
	t.d.Rollback()
}

// mapErr is the store's rewrite of a driver's error (txstate.State.Map)
// where it does not fail the Tx: at its end.
func (t *Tx) mapErr(err error) error {
	if t.Map != nil {
		return t.Map(err)
	}
	return err
}
