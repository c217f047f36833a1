package postgres

import (
	"context"
	"errors"
	"fmt"
	"iter"
	"time"

	"github.com/feedsync/go-feedsync/feedsync"
	"github.com/feedsync/go-feedsync/store"
	"github.com/feedsync/go-feedsync/store/internal/itemrow"
	"github.com/feedsync/go-feedsync/store/internal/txstate"
	"github.com/jackc/pgx/v5"
)

// The statements of a transaction. pgx prepares each on a connection the
// first time it runs there and reuses it (its statement cache), so a bulk
// of Puts parses the upsert once.
const (
	qGet      = `SELECT xml FROM feedsync_items WHERE id = $1`
	qChanges  = `SELECT seq, id, xml FROM feedsync_items WHERE seq > $1 ORDER BY seq LIMIT $2`
	qStat     = `SELECT ` + statCols + ` FROM feedsync_items WHERE id = $1`
	qStats    = `SELECT ` + statCols + ` FROM feedsync_items WHERE seq > $1 ORDER BY seq LIMIT $2`
	qStatsXML = `SELECT ` + statCols + `, xml FROM feedsync_items WHERE seq > $1 ORDER BY seq LIMIT $2`
	qPut      = `INSERT INTO feedsync_items (seq, id, updates, deleted, top_by, top_seq, top_when, digest, conflicts, conflicts_digest, xml)
VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)
ON CONFLICT (id) DO UPDATE SET seq = excluded.seq, updates = excluded.updates,
	deleted = excluded.deleted, top_by = excluded.top_by, top_seq = excluded.top_seq,
	top_when = excluded.top_when, digest = excluded.digest, conflicts = excluded.conflicts,
	conflicts_digest = excluded.conflicts_digest, xml = excluded.xml`
	qLastSeq = `SELECT seq FROM feedsync_counter WHERE k = 1`
	qSetSeq  = `UPDATE feedsync_counter SET seq = $1 WHERE k = 1`
	// qSetSeqNotify is qSetSeq announcing the change on the store's
	// channel (notify.go), delivered at commit.
	qSetSeqNotify   = `UPDATE feedsync_counter SET seq = $1 WHERE k = 1 RETURNING pg_notify($2, '')`
	qCount          = `SELECT COUNT(*) FROM feedsync_items`
	qPeerVersion    = `SELECT top_by, top_seq, top_when, conflicts FROM feedsync_peer_versions WHERE peer = $1 AND id = $2`
	qSetPeerVersion = `INSERT INTO feedsync_peer_versions (peer, id, top_by, top_seq, top_when, conflicts) VALUES ($1, $2, $3, $4, $5, $6)
ON CONFLICT (peer, id) DO UPDATE SET top_by = excluded.top_by, top_seq = excluded.top_seq,
	top_when = excluded.top_when, conflicts = excluded.conflicts`
	qPeerSeq    = `SELECT sent_seq FROM feedsync_peers WHERE peer = $1`
	qSetPeerSeq = `INSERT INTO feedsync_peers (peer, sent_seq) VALUES ($1, $2)
ON CONFLICT (peer) DO UPDATE SET sent_seq = excluded.sent_seq`
	qPeerState    = `SELECT received, sent, resume FROM feedsync_peer_state WHERE peer = $1`
	qSetPeerState = `INSERT INTO feedsync_peer_state (peer, received, sent, resume) VALUES ($1, $2, $3, $4)
ON CONFLICT (peer) DO UPDATE SET received = excluded.received, sent = excluded.sent, resume = excluded.resume`
	qDelPeerState    = `DELETE FROM feedsync_peer_state WHERE peer = $1`
	qDelPeerVersions = `DELETE FROM feedsync_peer_versions WHERE peer = $1`
	qHistoryMark     = `SELECT mark FROM feedsync_history WHERE seq >= $1 ORDER BY seq LIMIT 1`
	qAddHistory      = `INSERT INTO feedsync_history (seq, mark) VALUES ($1, $2)`
	qFeedInfo        = `SELECT format, title, link, description, atom_id, updated FROM feedsync_feed WHERE k = 1`
	qSetFeedInfo     = `INSERT INTO feedsync_feed (k, format, title, link, description, atom_id, updated) VALUES (1, $1, $2, $3, $4, $5, $6)
ON CONFLICT (k) DO UPDATE SET format = excluded.format, title = excluded.title, link = excluded.link,
	description = excluded.description, atom_id = excluded.atom_id, updated = excluded.updated`
)

// statCols are the columns scanStat reads.
const statCols = `seq, id, updates, deleted, top_by, top_seq, top_when, digest, conflicts, conflicts_digest`

// scanStat reads the statCols of one row.
func scanStat(scan func(dest ...any) error) (store.ItemStat, error) {
	var st store.ItemStat
	var when *time.Time
	var digest []byte
	if err := scan(&st.Seq, &st.ID, &st.Updates, &st.Deleted, &st.Version.Top.By, &st.Version.Top.Sequence, &when,
		&digest, &st.Conflicts, &st.Version.Conflicts); err != nil {
		return store.ItemStat{}, err
	}
	st.Version.Top.When = utc(when)
	d, err := itemrow.Digest(st.ID, digest)
	if err != nil {
		return store.ItemStat{}, err
	}
	st.Digest = d
	return st, nil
}

// tx is a transaction on a pooled connection.
type tx struct {
	s  *Store
	tx pgx.Tx
	// State is the Tx's life (txstate), with the counter a writable Tx
	// reads at Begin, locking its row, counts up on each Put and writes
	// back at Commit. PostgreSQL aborts a transaction at its first failed
	// statement anyway; State makes every store behave so.
	txstate.State
	// pending holds writes not sent yet, what (what each is, for error
	// messages) and items the ids of the items among them (for Get).
	// Writes travel in batches of up to writeBatch statements, one round
	// trip each, instead of one round trip per write; see flush.
	pending *pgx.Batch
	what    []string
	items   map[string]bool
}

// writeBatch is how many writes wait before they are sent together. A batch
// of upserts is one round trip to the server instead of writeBatch: merging
// a feed into the store (a Get, maybe a Put and a SetPeerVersion per item)
// then costs about one round trip per item, its Get, instead of three.
const writeBatch = 256

var (
	_ store.Tx        = (*tx)(nil)
	_ store.XMLReader = (*tx)(nil)
)

// enter checks that the Tx may run a method (txstate.State.Check).
func (t *tx) enter(ctx context.Context, write bool) error { return t.Check(ctx, write) }

func (t *tx) exec(ctx context.Context, q string, args ...any) error {
	_, err := t.tx.Exec(ctx, q, args...)
	return err
}

// queue adds a write to the pending batch, and sends the batch once it
// holds writeBatch writes. what says what the write is, for an error.
func (t *tx) queue(ctx context.Context, what string, q string, args ...any) error {
	if t.pending == nil {
		t.pending, t.items = &pgx.Batch{}, map[string]bool{}
	}
	t.pending.Queue(q, args...)
	t.what = append(t.what, what)
	if t.pending.Len() >= writeBatch {
		return t.flush(ctx)
	}
	return nil
}

// flush sends the pending writes in one batch. A failed write fails the Tx
// here, in whichever call came after it, and the error says which write it
// was.
func (t *tx) flush(ctx context.Context) error {
	if t.pending == nil || t.pending.Len() == 0 {
		return nil
	}
	b, what := t.pending, t.what
	t.pending, t.what, t.items = nil, nil, nil
	br := t.tx.SendBatch(ctx, b)
	for _, w := range what {
		if _, err := br.Exec(); err != nil {
			br.Close()
			return t.Fail(fmt.Errorf("%s: %w", w, err))
		}
	}
	if err := br.Close(); err != nil {
		return t.Fail(err)
	}
	return nil
}

// enterFlushed is enter followed by flush, for every read whose result
// may depend on writes not sent yet.
func (t *tx) enterFlushed(ctx context.Context, write bool) error {
	if err := t.enter(ctx, write); err != nil {
		return err
	}
	return t.flush(ctx)
}

func (t *tx) Get(ctx context.Context, id string) (*feedsync.Item, error) {
	return t.GetLimits(ctx, id, feedsync.ReaderOptions{})
}

// GetLimits is Get with the reader limits opts (store.RepairReader).
func (t *tx) GetLimits(ctx context.Context, id string, opts feedsync.ReaderOptions) (*feedsync.Item, error) {
	if err := t.enter(ctx, false); err != nil {
		return nil, fmt.Errorf("postgres: get item %q: %w", id, err)
	}
	// Get needs the pending writes only if one of them puts id: a merge
	// gets each incoming item's local version, almost always one that this
	// Tx has not put.
	if t.items[id] {
		if err := t.flush(ctx); err != nil {
			return nil, fmt.Errorf("postgres: get item %q: %w", id, err)
		}
	}
	var xml []byte
	err := t.tx.QueryRow(ctx, qGet, id).Scan(&xml)
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("postgres: get item %q: %w", id, t.Fail(err))
	}
	it, err := itemrow.DecodeLimits(id, xml, opts)
	if err != nil {
		return nil, fmt.Errorf("postgres: get: %w", t.Fail(err))
	}
	return it, nil
}

func (t *tx) Stat(ctx context.Context, id string) (store.ItemStat, bool, error) {
	if err := t.enter(ctx, false); err != nil {
		return store.ItemStat{}, false, fmt.Errorf("postgres: stat item %q: %w", id, err)
	}
	if t.items[id] {
		if err := t.flush(ctx); err != nil {
			return store.ItemStat{}, false, fmt.Errorf("postgres: stat item %q: %w", id, err)
		}
	}
	stat, err := scanStat(t.tx.QueryRow(ctx, qStat, id).Scan)
	if errors.Is(err, pgx.ErrNoRows) {
		return store.ItemStat{}, false, nil
	}
	if err != nil {
		return store.ItemStat{}, false, fmt.Errorf("postgres: stat item %q: %w", id, t.Fail(err))
	}
	return stat, true, nil
}

func (t *tx) Put(ctx context.Context, it *feedsync.Item) (int64, error) {
	id := ""
	if it != nil {
		id = it.ID()
	}
	if err := t.enter(ctx, true); err != nil {
		return 0, fmt.Errorf("postgres: put item %q: %w", id, err)
	}
	r, err := itemrow.FromItem(it)
	if err != nil {
		return 0, fmt.Errorf("postgres: put item %q: %w", id, t.Fail(err))
	}
	t.Seq++
	seq := t.Seq
	v := r.Version
	err = t.queue(ctx, fmt.Sprintf("put item %q", r.ID), qPut, seq, r.ID, r.Updates, r.Deleted, v.Top.By, v.Top.Sequence,
		timeOrNil(v.Top.When), r.Digest[:], r.Conflicts, v.Conflicts, r.Data)
	if t.items != nil {
		t.items[r.ID] = true
	}
	if err != nil {
		return 0, fmt.Errorf("postgres: %w", err)
	}
	return seq, nil
}

// batch reads the rows changed after seq after, ascending, up to
// itemrow.BatchRows rows or itemrow.BatchBytes of stored items; more reports whether
// there may be more. The whole batch is read before the caller sees any of
// it: a connection runs one query at a time, and the caller may use the Tx
// while it works through the batch.
func (t *tx) batch(ctx context.Context, after int64) ([]itemrow.Change, bool, error) {
	rows, err := t.tx.Query(ctx, qChanges, after, itemrow.BatchRows)
	if err != nil {
		return nil, false, err
	}
	out, more, err := itemrow.ScanChanges(rows)
	rows.Close()
	if err == nil {
		err = rows.Err()
	}
	return out, more, err
}

func (t *tx) Changes(ctx context.Context, after int64) iter.Seq2[store.Change, error] {
	return t.ChangesLimits(ctx, after, feedsync.ReaderOptions{})
}

// ChangesLimits is Changes with the reader limits opts
// (store.RepairReader).
func (t *tx) ChangesLimits(ctx context.Context, after int64, opts feedsync.ReaderOptions) iter.Seq2[store.Change, error] {
	enter := func() error { return t.enterFlushed(ctx, false) }
	read := func(after int64) ([]itemrow.Change, bool, error) { return t.batch(ctx, after) }
	return itemrow.Changes("postgres", after, opts, itemrow.Batches("postgres", enter, read, t.Fail), t.Fail)
}

// statBatch reads the stats of up to itemrow.BatchRows rows changed after
// seq after, ascending, before the caller sees any of them.
func (t *tx) statBatch(ctx context.Context, after int64) ([]store.ItemStat, error) {
	rows, err := t.tx.Query(ctx, qStats, after, itemrow.BatchRows)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	return itemrow.ScanStats(rows, scanStat)
}

func (t *tx) Stats(ctx context.Context, after int64) iter.Seq2[store.ItemStat, error] {
	return itemrow.Pages(after, func(after int64) ([]store.ItemStat, bool, error) {
		if err := t.enterFlushed(ctx, false); err != nil {
			return nil, false, fmt.Errorf("postgres: stats after %d: %w", after, err)
		}
		stats, err := t.statBatch(ctx, after)
		if err != nil {
			return nil, false, fmt.Errorf("postgres: stats after %d: %w", after, t.Fail(err))
		}
		return stats, len(stats) == itemrow.BatchRows, nil
	}, itemrow.StatSeq)
}

// xmlBatch reads the stats and stored items of the rows changed after seq
// after, ascending, as batch does.
func (t *tx) xmlBatch(ctx context.Context, after int64) ([]itemrow.StatRow, bool, error) {
	rows, err := t.tx.Query(ctx, qStatsXML, after, itemrow.BatchRows)
	if err != nil {
		return nil, false, err
	}
	out, more, err := itemrow.ScanStatRows(rows, scanStat)
	rows.Close()
	if err == nil {
		err = rows.Err()
	}
	return out, more, err
}

func (t *tx) ChangesXML(ctx context.Context, after int64) iter.Seq2[store.XMLChange, error] {
	enter := func() error { return t.enterFlushed(ctx, false) }
	read := func(after int64) ([]itemrow.StatRow, bool, error) { return t.xmlBatch(ctx, after) }
	return itemrow.ChangesXML("postgres", after, itemrow.Batches("postgres", enter, read, t.Fail), t.Fail)
}

func (t *tx) All(ctx context.Context) iter.Seq2[*feedsync.Item, error] {
	return itemrow.Items(t.Changes(ctx, 0))
}

func (t *tx) LastSeq(ctx context.Context) (int64, error) {
	if err := t.enter(ctx, false); err != nil {
		return 0, fmt.Errorf("postgres: last seq: %w", err)
	}
	if t.Writable {
		return t.Seq, nil
	}
	var seq int64
	if err := t.tx.QueryRow(ctx, qLastSeq).Scan(&seq); err != nil {
		return 0, fmt.Errorf("postgres: last seq: %w", t.Fail(err))
	}
	return seq, nil
}

func (t *tx) Count(ctx context.Context) (int, error) {
	if err := t.enterFlushed(ctx, false); err != nil {
		return 0, fmt.Errorf("postgres: count: %w", err)
	}
	var n int
	if err := t.tx.QueryRow(ctx, qCount).Scan(&n); err != nil {
		return 0, fmt.Errorf("postgres: count: %w", t.Fail(err))
	}
	return n, nil
}

func (t *tx) PeerVersion(ctx context.Context, peer, id string) (store.Version, bool, error) {
	if err := t.enterFlushed(ctx, false); err != nil {
		return store.Version{}, false, fmt.Errorf("postgres: version of item %q at peer %q: %w", id, peer, err)
	}
	var v store.Version
	var when *time.Time
	err := t.tx.QueryRow(ctx, qPeerVersion, peer, id).Scan(&v.Top.By, &v.Top.Sequence, &when, &v.Conflicts)
	if errors.Is(err, pgx.ErrNoRows) {
		return store.Version{}, false, nil
	}
	if err != nil {
		return store.Version{}, false, fmt.Errorf("postgres: version of item %q at peer %q: %w", id, peer, t.Fail(err))
	}
	v.Top.When = utc(when)
	return v, true, nil
}

func (t *tx) PeerSeq(ctx context.Context, peer string) (int64, error) {
	if err := t.enterFlushed(ctx, false); err != nil {
		return 0, fmt.Errorf("postgres: seq sent to peer %q: %w", peer, err)
	}
	var seq int64
	err := t.tx.QueryRow(ctx, qPeerSeq, peer).Scan(&seq)
	if errors.Is(err, pgx.ErrNoRows) {
		return 0, nil
	}
	if err != nil {
		return 0, fmt.Errorf("postgres: seq sent to peer %q: %w", peer, t.Fail(err))
	}
	return seq, nil
}

func (t *tx) SetPeerVersion(ctx context.Context, peer, id string, v store.Version) error {
	what := fmt.Sprintf("set version of item %q at peer %q", id, peer)
	if err := t.enter(ctx, true); err != nil {
		return fmt.Errorf("postgres: %s: %w", what, err)
	}
	when := v.Top.When
	if !when.IsZero() {
		when = feedsync.Normalize(when)
	}
	if err := t.queue(ctx, what, qSetPeerVersion, peer, id, v.Top.By, v.Top.Sequence, timeOrNil(when), v.Conflicts); err != nil {
		return fmt.Errorf("postgres: %w", err)
	}
	return nil
}

func (t *tx) SetPeerSeq(ctx context.Context, peer string, seq int64) error {
	what := fmt.Sprintf("set seq sent to peer %q", peer)
	if err := t.enter(ctx, true); err != nil {
		return fmt.Errorf("postgres: %s: %w", what, err)
	}
	if err := t.queue(ctx, what, qSetPeerSeq, peer, seq); err != nil {
		return fmt.Errorf("postgres: %w", err)
	}
	return nil
}

func (t *tx) PeerState(ctx context.Context, peer string) (store.PeerState, error) {
	if err := t.enterFlushed(ctx, false); err != nil {
		return store.PeerState{}, fmt.Errorf("postgres: sync state of peer %q: %w", peer, err)
	}
	var ps store.PeerState
	err := t.tx.QueryRow(ctx, qPeerState, peer).Scan(&ps.Received, &ps.Sent, &ps.Resume)
	if errors.Is(err, pgx.ErrNoRows) {
		return store.PeerState{}, nil
	}
	if err != nil {
		return store.PeerState{}, fmt.Errorf("postgres: sync state of peer %q: %w", peer, t.Fail(err))
	}
	return ps, nil
}

func (t *tx) SetPeerState(ctx context.Context, peer string, ps store.PeerState) error {
	what := fmt.Sprintf("set sync state of peer %q", peer)
	if err := t.enter(ctx, true); err != nil {
		return fmt.Errorf("postgres: %s: %w", what, err)
	}
	var err error
	if ps.IsZero() {
		err = t.queue(ctx, what, qDelPeerState, peer)
	} else {
		err = t.queue(ctx, what, qSetPeerState, peer, ps.Received, ps.Sent, ps.Resume)
	}
	if err != nil {
		return fmt.Errorf("postgres: %w", err)
	}
	return nil
}

func (t *tx) ForgetPeer(ctx context.Context, peer string) error {
	what := fmt.Sprintf("forget peer %q", peer)
	if err := t.enter(ctx, true); err != nil {
		return fmt.Errorf("postgres: %s: %w", what, err)
	}
	if err := t.queue(ctx, what, qDelPeerVersions, peer); err != nil {
		return fmt.Errorf("postgres: %w", err)
	}
	if err := t.queue(ctx, what, qDelPeerState, peer); err != nil {
		return fmt.Errorf("postgres: %w", err)
	}
	return nil
}

func (t *tx) HistoryMark(ctx context.Context, seq int64) (string, bool, error) {
	if err := t.enter(ctx, false); err != nil {
		return "", false, fmt.Errorf("postgres: history mark of %d: %w", seq, err)
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
	err = t.tx.QueryRow(ctx, qHistoryMark, seq).Scan(&mark)
	if errors.Is(err, pgx.ErrNoRows) {
		return "", false, nil
	}
	if err != nil {
		return "", false, fmt.Errorf("postgres: history mark of %d: %w", seq, t.Fail(err))
	}
	return mark, true, nil
}

func (t *tx) FeedInfo(ctx context.Context) (feedsync.FeedInfo, feedsync.Format, error) {
	if err := t.enterFlushed(ctx, false); err != nil {
		return feedsync.FeedInfo{}, 0, fmt.Errorf("postgres: feed info: %w", err)
	}
	var info feedsync.FeedInfo
	var format string
	var updated *time.Time
	err := t.tx.QueryRow(ctx, qFeedInfo).Scan(&format, &info.Title, &info.Link, &info.Description, &info.ID, &updated)
	if errors.Is(err, pgx.ErrNoRows) {
		return feedsync.FeedInfo{}, feedsync.FormatUnknown, nil
	}
	if err != nil {
		return feedsync.FeedInfo{}, 0, fmt.Errorf("postgres: feed info: %w", t.Fail(err))
	}
	info.Updated = utc(updated)
	f, err := parseFormat(format)
	if err != nil {
		return feedsync.FeedInfo{}, 0, fmt.Errorf("postgres: feed info: %w", t.Fail(err))
	}
	return info, f, nil
}

func (t *tx) SetFeedInfo(ctx context.Context, info feedsync.FeedInfo, format feedsync.Format) error {
	if err := t.enter(ctx, true); err != nil {
		return fmt.Errorf("postgres: set feed info: %w", err)
	}
	info = store.NormalizeFeedInfo(info)
	if err := t.queue(ctx, "set feed info", qSetFeedInfo, format.String(), info.Title, info.Link, info.Description, info.ID,
		timeOrNil(info.Updated)); err != nil {
		return fmt.Errorf("postgres: %w", err)
	}
	return nil
}

func (t *tx) Commit() error {
	if t.Done() {
		return fmt.Errorf("postgres: commit: %w", store.ErrTxDone)
	}
	// Commit must not be cut short by a caller's ctx: it has none.
	ctx := context.Background()
	err := t.CanCommit()
	if err == nil && t.flush(ctx) != nil {
		err = t.CanCommit() // the flush's failure, as ErrTxFailed
	}
	t.End()
	if err != nil {
		t.tx.Rollback(ctx)
		return fmt.Errorf("postgres: commit: %w", err)
	}
	if t.Changed() {
		if err := t.exec(ctx, qSetSeqNotify, t.Seq, t.s.channel); err != nil {
			t.tx.Rollback(ctx)
			return fmt.Errorf("postgres: commit: save seq: %w", t.s.errClosedIf(err))
		}
		if err := t.exec(ctx, qAddHistory, t.Seq, t.Mark()); err != nil {
			t.tx.Rollback(ctx)
			return fmt.Errorf("postgres: commit: save history mark: %w", t.s.errClosedIf(err))
		}
	}
	if err := t.tx.Commit(ctx); err != nil {
		return fmt.Errorf("postgres: commit: %w", t.s.errClosedIf(err))
	}
	if t.Changed() {
		// This process's waiters need not wait for the round trip of
		// the notification (which wakes them again, harmlessly).
		t.s.signal.Notify()
	}
	return nil
}

func (t *tx) Rollback() error {
	if t.Done() {
		return fmt.Errorf("postgres: rollback: %w", store.ErrTxDone)
	}
	t.End()
	if err := t.tx.Rollback(context.Background()); err != nil {
		return fmt.Errorf("postgres: rollback: %w", t.s.errClosedIf(err))
	}
	return nil
}

func timeOrNil(t time.Time) any {
	if t.IsZero() {
		return nil
	}
	return t
}

func utc(t *time.Time) time.Time {
	if t == nil {
		return time.Time{}
	}
	return t.UTC()
}

func parseFormat(s string) (feedsync.Format, error) {
	if s == feedsync.FormatUnknown.String() {
		return feedsync.FormatUnknown, nil
	}
	return feedsync.ParseFormat(s)
}

// The statements of compaction (store.Compact).
const (
	qRewrite = `UPDATE feedsync_items SET updates = $1, deleted = $2, digest = $3, conflicts = $4, xml = $5
WHERE id = $6 AND top_by = $7 AND top_seq = $8 AND top_when IS NOT DISTINCT FROM $9 AND conflicts_digest = $10`
	qRemove             = `DELETE FROM feedsync_items WHERE id = $1`
	qRemovePeerVersions = `DELETE FROM feedsync_peer_versions WHERE id = $1`
	qRetention          = `SELECT horizon, compacted, swept, marks FROM feedsync_retention WHERE k = 1`
	qSetRetention       = `INSERT INTO feedsync_retention (k, horizon, compacted, swept, marks) VALUES (1, $1, $2, $3, $4)
ON CONFLICT (k) DO UPDATE SET horizon = excluded.horizon, compacted = excluded.compacted, swept = excluded.swept,
	marks = excluded.marks`
)

// Rewrite is not batched: whether a row had the version is its answer.
func (t *tx) Rewrite(ctx context.Context, it *feedsync.Item) error {
	id := ""
	if it != nil {
		id = it.ID()
	}
	if err := t.enterFlushed(ctx, true); err != nil {
		return fmt.Errorf("postgres: rewrite item %q: %w", id, err)
	}
	r, err := itemrow.FromItem(it)
	if err != nil {
		return fmt.Errorf("postgres: rewrite item %q: %w", id, t.Fail(err))
	}
	v := r.Version
	tag, err := t.tx.Exec(ctx, qRewrite, r.Updates, r.Deleted, r.Digest[:], r.Conflicts, r.Data,
		r.ID, v.Top.By, v.Top.Sequence, timeOrNil(v.Top.When), v.Conflicts)
	if err != nil {
		return fmt.Errorf("postgres: rewrite item %q: %w", id, t.Fail(err))
	}
	if tag.RowsAffected() != 1 {
		return fmt.Errorf("postgres: rewrite item %q: %w", id, t.Fail(store.ErrNotSameVersion))
	}
	return nil
}

func (t *tx) Remove(ctx context.Context, id string) (int64, error) {
	what := fmt.Sprintf("remove item %q", id)
	if err := t.enter(ctx, true); err != nil {
		return 0, fmt.Errorf("postgres: %s: %w", what, err)
	}
	err := t.queue(ctx, what, qRemove, id)
	if t.items != nil {
		t.items[id] = true
	}
	if err == nil {
		err = t.queue(ctx, what+": peer versions", qRemovePeerVersions, id)
	}
	if err != nil {
		return 0, fmt.Errorf("postgres: %w", err)
	}
	t.Seq++
	return t.Seq, nil
}

func (t *tx) Retention(ctx context.Context) (store.Retention, error) {
	if err := t.enterFlushed(ctx, false); err != nil {
		return store.Retention{}, fmt.Errorf("postgres: retention: %w", err)
	}
	var r store.Retention
	var marks string
	err := t.tx.QueryRow(ctx, qRetention).Scan(&r.Horizon, &r.Compacted, &r.Swept, &marks)
	if errors.Is(err, pgx.ErrNoRows) {
		return store.Retention{}, nil
	}
	if err == nil {
		r.Marks, err = itemrow.DecodeMarks(marks)
	}
	if err != nil {
		return store.Retention{}, fmt.Errorf("postgres: retention: %w", t.Fail(err))
	}
	return r, nil
}

func (t *tx) SetRetention(ctx context.Context, r store.Retention) error {
	if err := t.enter(ctx, true); err != nil {
		return fmt.Errorf("postgres: set retention: %w", err)
	}
	marks, err := itemrow.EncodeMarks(r.Marks)
	if err == nil {
		err = t.queue(ctx, "set retention", qSetRetention, r.Horizon, r.Compacted, r.Swept, marks)
	}
	if err != nil {
		return fmt.Errorf("postgres: set retention: %w", err)
	}
	return nil
}

var (
	_ store.SQLTx        = (*tx)(nil)
	_ store.RepairReader = (*tx)(nil)
)

// SQLDialect returns "postgres" (store.SQLTx).
func (t *tx) SQLDialect() string { return "postgres" }

// ExecSQL runs a statement in the transaction (store.SQLTx), after the
// writes waiting in the batch.
func (t *tx) ExecSQL(ctx context.Context, q string, args ...any) (int64, error) {
	if err := t.enterFlushed(ctx, true); err != nil {
		return 0, fmt.Errorf("postgres: exec: %w", err)
	}
	tag, err := t.tx.Exec(ctx, q, args...)
	if err != nil {
		return 0, fmt.Errorf("postgres: exec: %w", t.Fail(err))
	}
	return tag.RowsAffected(), nil
}

// QuerySQL runs a query in the transaction and calls row for each result
// row (store.SQLTx), after the writes waiting in the batch.
func (t *tx) QuerySQL(ctx context.Context, q string, args []any, row func(scan func(dest ...any) error) error) error {
	if err := t.enterFlushed(ctx, false); err != nil {
		return fmt.Errorf("postgres: query: %w", err)
	}
	rows, err := t.tx.Query(ctx, q, args...)
	if err != nil {
		return fmt.Errorf("postgres: query: %w", t.Fail(err))
	}
	defer rows.Close()
	for rows.Next() {
		if err := row(rows.Scan); err != nil {
			return t.Fail(err)
		}
	}
	if err := rows.Err(); err != nil {
		return fmt.Errorf("postgres: query: %w", t.Fail(err))
	}
	return nil
}
