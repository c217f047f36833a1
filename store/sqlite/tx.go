package sqlite

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

// The statements of a transaction, prepared on its connection the first
// time they are used and kept with the connection for the transactions
// that reuse it (see conn), so that a bulk of Puts parses the upsert once
// and a short poll compiles nothing.
const (
	qGet      = `SELECT xml FROM items WHERE id = ?`
	qChanges  = `SELECT seq, id, xml FROM items WHERE seq > ? ORDER BY seq LIMIT ?`
	qStat     = `SELECT ` + statCols + ` FROM items WHERE id = ?`
	qStats    = `SELECT ` + statCols + ` FROM items WHERE seq > ? ORDER BY seq LIMIT ?`
	qStatsXML = `SELECT ` + statCols + `, xml FROM items WHERE seq > ? ORDER BY seq LIMIT ?`
	qPut      = qPutValues + `
ON CONFLICT (id) DO UPDATE SET seq = excluded.seq, updates = excluded.updates,
	deleted = excluded.deleted, top_by = excluded.top_by, top_seq = excluded.top_seq,
	top_when = excluded.top_when, digest = excluded.digest, conflicts = excluded.conflicts,
	conflicts_digest = excluded.conflicts_digest, xml = excluded.xml`
	qLastSeq     = `SELECT seq FROM counter WHERE k = 1`
	qSetSeq      = `UPDATE counter SET seq = ? WHERE k = 1`
	qCount       = `SELECT COUNT(*) FROM items`
	qPeerVersion = `SELECT top_by, top_seq, top_when, conflicts FROM peer_versions
WHERE peer = (SELECT num FROM peer_names WHERE name = ?) AND id = ?`
	qAddPeerName    = `INSERT INTO peer_names (name) VALUES (?) ON CONFLICT (name) DO NOTHING`
	qSetPeerVersion = `INSERT INTO peer_versions (peer, id, top_by, top_seq, top_when, conflicts)
VALUES ((SELECT num FROM peer_names WHERE name = ?), ?, ?, ?, ?, ?)
ON CONFLICT (peer, id) DO UPDATE SET top_by = excluded.top_by, top_seq = excluded.top_seq,
	top_when = excluded.top_when, conflicts = excluded.conflicts`
	qPeerSeq    = `SELECT sent_seq FROM peers WHERE peer = ?`
	qSetPeerSeq = `INSERT INTO peers (peer, sent_seq) VALUES (?, ?)
ON CONFLICT (peer) DO UPDATE SET sent_seq = excluded.sent_seq`
	qPeerState    = `SELECT received, sent, resume FROM peer_state WHERE peer = ?`
	qSetPeerState = `INSERT INTO peer_state (peer, received, sent, resume) VALUES (?, ?, ?, ?)
ON CONFLICT (peer) DO UPDATE SET received = excluded.received, sent = excluded.sent, resume = excluded.resume`
	qDelPeerState    = `DELETE FROM peer_state WHERE peer = ?`
	qDelPeerVersions = `DELETE FROM peer_versions WHERE peer = (SELECT num FROM peer_names WHERE name = ?)`
	qHistoryMark     = `SELECT mark FROM history WHERE seq >= ? ORDER BY seq LIMIT 1`
	qAddHistory      = `INSERT INTO history (seq, mark) VALUES (?, ?)`
	qFeedInfo        = `SELECT format, title, link, description, atom_id, updated FROM feed WHERE k = 1`
	qSetFeedInfo     = `INSERT INTO feed (k, format, title, link, description, atom_id, updated) VALUES (1, ?, ?, ?, ?, ?, ?)
ON CONFLICT (k) DO UPDATE SET format = excluded.format, title = excluded.title, link = excluded.link,
	description = excluded.description, atom_id = excluded.atom_id, updated = excluded.updated`
)

// qPutValues is qPut up to its ON CONFLICT clause (batch.go).
const qPutValues = `INSERT INTO items (seq, id, updates, deleted, top_by, top_seq, top_when, digest, conflicts, conflicts_digest, xml)
VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`

// statCols are the columns scanStat reads.
const statCols = `seq, id, updates, deleted, top_by, top_seq, top_when, digest, conflicts, conflicts_digest`

// scanStat reads the statCols of one row.
func scanStat(scan func(dest ...any) error) (store.ItemStat, error) {
	var st store.ItemStat
	var when sql.NullInt64
	var digest []byte
	if err := scan(&st.Seq, &st.ID, &st.Updates, &st.Deleted, &st.Version.Top.By, &st.Version.Top.Sequence, &when,
		&digest, &st.Conflicts, &st.Version.Conflicts); err != nil {
		return store.ItemStat{}, err
	}
	st.Version.Top.When = fromUnix(when)
	d, err := itemrow.Digest(st.ID, digest)
	if err != nil {
		return store.ItemStat{}, err
	}
	st.Digest = d
	return st, nil
}

// tx is a transaction on a connection of its own, taken from the Store's
// pool for the life of the transaction.
type tx struct {
	s    *Store
	c    *conn
	conn *sql.Conn // c.c
	// State is the Tx's life (txstate), with the counter a writable Tx
	// reads at Begin, holding the write lock, counts up on each Put and
	// writes back at Commit.
	txstate.State
	// named holds the peers known to have a row in peer_names in this
	// transaction (SetPeerVersion).
	named map[string]bool
	// puts and versions are the writes of Put and SetPeerVersion not
	// made yet (batch.go): they go in statements of many rows, before
	// anything else the Tx does.
	puts     []pendingPut
	versions []pendingVersion
	args     []any
}

var (
	_ store.Tx        = (*tx)(nil)
	_ store.XMLReader = (*tx)(nil)
)

// enter checks that the Tx may run a method (txstate.State.Check), and
// makes the writes Put and SetPeerVersion left pending, which the method
// may depend on.
func (t *tx) enter(ctx context.Context, write bool) error {
	if err := t.Check(ctx, write); err != nil {
		return err
	}
	return t.flush(ctx)
}

func (t *tx) stmt(ctx context.Context, q string) (*sql.Stmt, error) {
	return t.c.stmt(ctx, q)
}

func (t *tx) queryRow(ctx context.Context, q string, args []any, dest ...any) error {
	st, err := t.stmt(ctx, q)
	if err != nil {
		return err
	}
	return st.QueryRowContext(ctx, args...).Scan(dest...)
}

// query runs the prepared statement q; the caller closes the rows.
func (t *tx) query(ctx context.Context, q string, args ...any) (*sql.Rows, error) {
	st, err := t.stmt(ctx, q)
	if err != nil {
		return nil, err
	}
	return st.QueryContext(ctx, args...)
}

func (t *tx) exec(ctx context.Context, q string, args ...any) error {
	st, err := t.stmt(ctx, q)
	if err != nil {
		return err
	}
	_, err = st.ExecContext(ctx, args...)
	return err
}

func (t *tx) Get(ctx context.Context, id string) (*feedsync.Item, error) {
	return t.GetLimits(ctx, id, feedsync.ReaderOptions{})
}

// GetLimits is Get with the reader limits opts (store.RepairReader).
func (t *tx) GetLimits(ctx context.Context, id string, opts feedsync.ReaderOptions) (*feedsync.Item, error) {
	if err := t.enter(ctx, false); err != nil {
		return nil, fmt.Errorf("sqlite: get item %q: %w", id, err)
	}
	var xml []byte
	err := t.queryRow(ctx, qGet, []any{id}, &xml)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("sqlite: get item %q: %w", id, t.Fail(err))
	}
	it, err := itemrow.DecodeLimits(id, xml, opts)
	if err != nil {
		return nil, fmt.Errorf("sqlite: get: %w", t.Fail(err))
	}
	return it, nil
}

func (t *tx) Stat(ctx context.Context, id string) (store.ItemStat, bool, error) {
	if err := t.enter(ctx, false); err != nil {
		return store.ItemStat{}, false, fmt.Errorf("sqlite: stat item %q: %w", id, err)
	}
	st, err := t.stmt(ctx, qStat)
	if err != nil {
		return store.ItemStat{}, false, fmt.Errorf("sqlite: stat item %q: %w", id, t.Fail(err))
	}
	stat, err := scanStat(st.QueryRowContext(ctx, id).Scan)
	if errors.Is(err, sql.ErrNoRows) {
		return store.ItemStat{}, false, nil
	}
	if err != nil {
		return store.ItemStat{}, false, fmt.Errorf("sqlite: stat item %q: %w", id, t.Fail(err))
	}
	return stat, true, nil
}

func (t *tx) Put(ctx context.Context, it *feedsync.Item) (int64, error) {
	id := ""
	if it != nil {
		id = it.ID()
	}
	if err := t.Check(ctx, true); err != nil {
		return 0, fmt.Errorf("sqlite: put item %q: %w", id, err)
	}
	r, err := itemrow.FromItem(it)
	if err != nil {
		return 0, fmt.Errorf("sqlite: put item %q: %w", id, t.Fail(err))
	}
	t.Seq++
	t.puts = append(t.puts, pendingPut{seq: t.Seq, row: r})
	if len(t.puts) == putBatch {
		if err := t.flushPuts(ctx); err != nil {
			return 0, err
		}
	}
	return t.Seq, nil
}

// batch reads the rows changed after seq after, ascending, up to
// itemrow.BatchRows rows or itemrow.BatchBytes of stored items; more reports whether
// there may be more. The whole batch is read before the caller sees any
// of it, so the caller may use the Tx while it works through the batch.
func (t *tx) batch(ctx context.Context, after int64) ([]itemrow.Change, bool, error) {
	rows, err := t.query(ctx, qChanges, after, itemrow.BatchRows)
	if err != nil {
		return nil, false, err
	}
	out, more, err := itemrow.ScanChanges(rows)
	if cerr := rows.Close(); err == nil {
		err = cerr
	}
	return out, more, err
}

func (t *tx) Changes(ctx context.Context, after int64) iter.Seq2[store.Change, error] {
	return t.ChangesLimits(ctx, after, feedsync.ReaderOptions{})
}

// ChangesLimits is Changes with the reader limits opts
// (store.RepairReader).
func (t *tx) ChangesLimits(ctx context.Context, after int64, opts feedsync.ReaderOptions) iter.Seq2[store.Change, error] {
	enter := func() error { return t.enter(ctx, false) }
	read := func(after int64) ([]itemrow.Change, bool, error) { return t.batch(ctx, after) }
	return itemrow.Changes("sqlite", after, opts, itemrow.Batches("sqlite", enter, read, t.Fail), t.Fail)
}

// statBatch reads the stats of up to itemrow.BatchRows rows changed after
// seq after, ascending, before the caller sees any of them.
func (t *tx) statBatch(ctx context.Context, after int64) ([]store.ItemStat, error) {
	rows, err := t.query(ctx, qStats, after, itemrow.BatchRows)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	return itemrow.ScanStats(rows, scanStat)
}

func (t *tx) Stats(ctx context.Context, after int64) iter.Seq2[store.ItemStat, error] {
	return itemrow.Pages(after, func(after int64) ([]store.ItemStat, bool, error) {
		if err := t.enter(ctx, false); err != nil {
			return nil, false, fmt.Errorf("sqlite: stats after %d: %w", after, err)
		}
		stats, err := t.statBatch(ctx, after)
		if err != nil {
			return nil, false, fmt.Errorf("sqlite: stats after %d: %w", after, t.Fail(err))
		}
		return stats, len(stats) == itemrow.BatchRows, nil
	}, itemrow.StatSeq)
}

// xmlBatch reads the stats and stored items of the rows changed after seq
// after, ascending, as batch does.
func (t *tx) xmlBatch(ctx context.Context, after int64) ([]itemrow.StatRow, bool, error) {
	rows, err := t.query(ctx, qStatsXML, after, itemrow.BatchRows)
	if err != nil {
		return nil, false, err
	}
	out, more, err := itemrow.ScanStatRows(rows, scanStat)
	if cerr := rows.Close(); err == nil {
		err = cerr
	}
	return out, more, err
}

func (t *tx) ChangesXML(ctx context.Context, after int64) iter.Seq2[store.XMLChange, error] {
	enter := func() error { return t.enter(ctx, false) }
	read := func(after int64) ([]itemrow.StatRow, bool, error) { return t.xmlBatch(ctx, after) }
	return itemrow.ChangesXML("sqlite", after, itemrow.Batches("sqlite", enter, read, t.Fail), t.Fail)
}

func (t *tx) All(ctx context.Context) iter.Seq2[*feedsync.Item, error] {
	return itemrow.Items(t.Changes(ctx, 0))
}

func (t *tx) LastSeq(ctx context.Context) (int64, error) {
	if err := t.enter(ctx, false); err != nil {
		return 0, fmt.Errorf("sqlite: last seq: %w", err)
	}
	if t.Writable {
		return t.Seq, nil
	}
	var seq int64
	if err := t.queryRow(ctx, qLastSeq, nil, &seq); err != nil {
		return 0, fmt.Errorf("sqlite: last seq: %w", t.Fail(err))
	}
	return seq, nil
}

func (t *tx) Count(ctx context.Context) (int, error) {
	if err := t.enter(ctx, false); err != nil {
		return 0, fmt.Errorf("sqlite: count: %w", err)
	}
	var n int
	if err := t.queryRow(ctx, qCount, nil, &n); err != nil {
		return 0, fmt.Errorf("sqlite: count: %w", t.Fail(err))
	}
	return n, nil
}

func (t *tx) PeerVersion(ctx context.Context, peer, id string) (store.Version, bool, error) {
	if err := t.enter(ctx, false); err != nil {
		return store.Version{}, false, fmt.Errorf("sqlite: version of item %q at peer %q: %w", id, peer, err)
	}
	var v store.Version
	var when sql.NullInt64
	err := t.queryRow(ctx, qPeerVersion, []any{peer, id}, &v.Top.By, &v.Top.Sequence, &when, &v.Conflicts)
	if errors.Is(err, sql.ErrNoRows) {
		return store.Version{}, false, nil
	}
	if err != nil {
		return store.Version{}, false, fmt.Errorf("sqlite: version of item %q at peer %q: %w", id, peer, t.Fail(err))
	}
	v.Top.When = fromUnix(when)
	return v, true, nil
}

func (t *tx) PeerSeq(ctx context.Context, peer string) (int64, error) {
	if err := t.enter(ctx, false); err != nil {
		return 0, fmt.Errorf("sqlite: seq sent to peer %q: %w", peer, err)
	}
	var seq int64
	err := t.queryRow(ctx, qPeerSeq, []any{peer}, &seq)
	if errors.Is(err, sql.ErrNoRows) {
		return 0, nil
	}
	if err != nil {
		return 0, fmt.Errorf("sqlite: seq sent to peer %q: %w", peer, t.Fail(err))
	}
	return seq, nil
}

func (t *tx) SetPeerVersion(ctx context.Context, peer, id string, v store.Version) error {
	if err := t.Check(ctx, true); err != nil {
		return fmt.Errorf("sqlite: set version of item %q at peer %q: %w", id, peer, err)
	}
	if !t.named[peer] {
		// The peer's number: made on its first version, kept for good
		// (ForgetPeer drops the versions, not the name).
		if err := t.exec(ctx, qAddPeerName, peer); err != nil {
			return fmt.Errorf("sqlite: set version of item %q at peer %q: %w", id, peer, t.Fail(err))
		}
		if t.named == nil {
			t.named = map[string]bool{}
		}
		t.named[peer] = true
	}
	t.versions = append(t.versions, pendingVersion{peer: peer, id: id, v: v})
	if len(t.versions) == versionBatch {
		return t.flushVersions(ctx)
	}
	return nil
}

func (t *tx) SetPeerSeq(ctx context.Context, peer string, seq int64) error {
	if err := t.enter(ctx, true); err != nil {
		return fmt.Errorf("sqlite: set seq sent to peer %q: %w", peer, err)
	}
	if err := t.exec(ctx, qSetPeerSeq, peer, seq); err != nil {
		return fmt.Errorf("sqlite: set seq sent to peer %q: %w", peer, t.Fail(err))
	}
	return nil
}

func (t *tx) PeerState(ctx context.Context, peer string) (store.PeerState, error) {
	if err := t.enter(ctx, false); err != nil {
		return store.PeerState{}, fmt.Errorf("sqlite: sync state of peer %q: %w", peer, err)
	}
	var ps store.PeerState
	err := t.queryRow(ctx, qPeerState, []any{peer}, &ps.Received, &ps.Sent, &ps.Resume)
	if errors.Is(err, sql.ErrNoRows) {
		return store.PeerState{}, nil
	}
	if err != nil {
		return store.PeerState{}, fmt.Errorf("sqlite: sync state of peer %q: %w", peer, t.Fail(err))
	}
	return ps, nil
}

func (t *tx) SetPeerState(ctx context.Context, peer string, ps store.PeerState) error {
	if err := t.enter(ctx, true); err != nil {
		return fmt.Errorf("sqlite: set sync state of peer %q: %w", peer, err)
	}
	var err error
	if ps.IsZero() {
		err = t.exec(ctx, qDelPeerState, peer)
	} else {
		err = t.exec(ctx, qSetPeerState, peer, ps.Received, ps.Sent, ps.Resume)
	}
	if err != nil {
		return fmt.Errorf("sqlite: set sync state of peer %q: %w", peer, t.Fail(err))
	}
	return nil
}

func (t *tx) ForgetPeer(ctx context.Context, peer string) error {
	if err := t.enter(ctx, true); err != nil {
		return fmt.Errorf("sqlite: forget peer %q: %w", peer, err)
	}
	err := t.exec(ctx, qDelPeerVersions, peer)
	if err == nil {
		err = t.exec(ctx, qDelPeerState, peer)
	}
	if err != nil {
		return fmt.Errorf("sqlite: forget peer %q: %w", peer, t.Fail(err))
	}
	return nil
}

func (t *tx) HistoryMark(ctx context.Context, seq int64) (string, bool, error) {
	if err := t.enter(ctx, false); err != nil {
		return "", false, fmt.Errorf("sqlite: history mark of %d: %w", seq, err)
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
	err = t.queryRow(ctx, qHistoryMark, []any{seq}, &mark)
	if errors.Is(err, sql.ErrNoRows) {
		return "", false, nil
	}
	if err != nil {
		return "", false, fmt.Errorf("sqlite: history mark of %d: %w", seq, t.Fail(err))
	}
	return mark, true, nil
}

func (t *tx) FeedInfo(ctx context.Context) (feedsync.FeedInfo, feedsync.Format, error) {
	if err := t.enter(ctx, false); err != nil {
		return feedsync.FeedInfo{}, 0, fmt.Errorf("sqlite: feed info: %w", err)
	}
	var info feedsync.FeedInfo
	var format string
	var updated sql.NullInt64
	err := t.queryRow(ctx, qFeedInfo, nil, &format, &info.Title, &info.Link, &info.Description, &info.ID, &updated)
	if errors.Is(err, sql.ErrNoRows) {
		return feedsync.FeedInfo{}, feedsync.FormatUnknown, nil
	}
	if err != nil {
		return feedsync.FeedInfo{}, 0, fmt.Errorf("sqlite: feed info: %w", t.Fail(err))
	}
	info.Updated = fromUnix(updated)
	f, err := parseFormat(format)
	if err != nil {
		return feedsync.FeedInfo{}, 0, fmt.Errorf("sqlite: feed info: %w", t.Fail(err))
	}
	return info, f, nil
}

func (t *tx) SetFeedInfo(ctx context.Context, info feedsync.FeedInfo, format feedsync.Format) error {
	if err := t.enter(ctx, true); err != nil {
		return fmt.Errorf("sqlite: set feed info: %w", err)
	}
	info = store.NormalizeFeedInfo(info)
	if err := t.exec(ctx, qSetFeedInfo, format.String(), info.Title, info.Link, info.Description, info.ID,
		unixOrNil(info.Updated)); err != nil {
		return fmt.Errorf("sqlite: set feed info: %w", t.Fail(err))
	}
	return nil
}

func (t *tx) Commit() error {
	if err := t.CanCommit(); err != nil {
		if !t.Done() {
			t.end(rollback(t.conn))
		}
		return fmt.Errorf("sqlite: commit: %w", err)
	}
	// Commit must not be cut short by a caller's ctx: it has none.
	ctx := context.Background()
	if err := t.flush(ctx); err != nil {
		t.end(rollback(t.conn))
		return fmt.Errorf("sqlite: commit: %w", err)
	}
	if t.Changed() {
		if err := t.exec(ctx, qSetSeq, t.Seq); err != nil {
			t.end(rollback(t.conn))
			return fmt.Errorf("sqlite: commit: save seq: %w", t.s.errClosedIf(err))
		}
		if err := t.exec(ctx, qAddHistory, t.Seq, t.Mark()); err != nil {
			t.end(rollback(t.conn))
			return fmt.Errorf("sqlite: commit: save history mark: %w", t.s.errClosedIf(err))
		}
	}
	if err := t.exec(ctx, "COMMIT"); err != nil {
		t.end(rollback(t.conn))
		return fmt.Errorf("sqlite: commit: %w", t.s.errClosedIf(err))
	}
	changed := t.Changed()
	t.end(nil)
	if changed {
		t.s.signal.Notify()
	}
	return nil
}

func (t *tx) Rollback() error {
	if t.Done() {
		return fmt.Errorf("sqlite: rollback: %w", store.ErrTxDone)
	}
	err := rollback(t.conn)
	t.end(err)
	if err != nil {
		return fmt.Errorf("sqlite: rollback: %w", t.s.errClosedIf(err))
	}
	return nil
}

// end releases what the Tx holds. Its connection goes back to the Store's
// pool unless the Tx failed or its rollback did: after a failure the
// connection's state is unknown (a transaction may still be open on it),
// so it is discarded.
func (t *tx) end(rollbackErr error) {
	t.End()
	t.s.release(t.c, rollbackErr != nil || t.Failed() != nil)
	t.c, t.conn = nil, nil
	if t.Writable {
		<-t.s.writer
	}
}

func unixOrNil(t time.Time) any {
	if t.IsZero() {
		return nil
	}
	return t.Unix()
}

func fromUnix(n sql.NullInt64) time.Time {
	if !n.Valid {
		return time.Time{}
	}
	return time.Unix(n.Int64, 0).UTC()
}

func parseFormat(s string) (feedsync.Format, error) {
	if s == feedsync.FormatUnknown.String() {
		return feedsync.FormatUnknown, nil
	}
	return feedsync.ParseFormat(s)
}

// The statements of compaction (store.Compact).
const (
	qRewrite = `UPDATE items SET updates = ?, deleted = ?, digest = ?, conflicts = ?, xml = ?
WHERE id = ? AND top_by = ? AND top_seq = ? AND top_when IS ? AND conflicts_digest = ?`
	qRemove             = `DELETE FROM items WHERE id = ?`
	qRemovePeerVersions = `DELETE FROM peer_versions WHERE peer IN (SELECT num FROM peer_names) AND id = ?`
	qRetention          = `SELECT horizon, compacted, swept, marks FROM retention WHERE k = 1`
	qSetRetention       = `INSERT INTO retention (k, horizon, compacted, swept, marks) VALUES (1, ?, ?, ?, ?)
ON CONFLICT (k) DO UPDATE SET horizon = excluded.horizon, compacted = excluded.compacted, swept = excluded.swept,
	marks = excluded.marks`
)

func (t *tx) Rewrite(ctx context.Context, it *feedsync.Item) error {
	id := ""
	if it != nil {
		id = it.ID()
	}
	if err := t.enter(ctx, true); err != nil {
		return fmt.Errorf("sqlite: rewrite item %q: %w", id, err)
	}
	r, err := itemrow.FromItem(it)
	if err != nil {
		return fmt.Errorf("sqlite: rewrite item %q: %w", id, t.Fail(err))
	}
	st, err := t.stmt(ctx, qRewrite)
	if err != nil {
		return fmt.Errorf("sqlite: rewrite item %q: %w", id, t.Fail(err))
	}
	v := r.Version
	res, err := st.ExecContext(ctx, r.Updates, r.Deleted, r.Digest[:], r.Conflicts, r.Data,
		r.ID, v.Top.By, v.Top.Sequence, unixOrNil(v.Top.When), v.Conflicts)
	if err != nil {
		return fmt.Errorf("sqlite: rewrite item %q: %w", id, t.Fail(err))
	}
	if n, err := res.RowsAffected(); err != nil || n != 1 {
		return fmt.Errorf("sqlite: rewrite item %q: %w", id, t.Fail(errors.Join(store.ErrNotSameVersion, err)))
	}
	return nil
}

func (t *tx) Remove(ctx context.Context, id string) (int64, error) {
	if err := t.enter(ctx, true); err != nil {
		return 0, fmt.Errorf("sqlite: remove item %q: %w", id, err)
	}
	if err := t.exec(ctx, qRemove, id); err != nil {
		return 0, fmt.Errorf("sqlite: remove item %q: %w", id, t.Fail(err))
	}
	if err := t.exec(ctx, qRemovePeerVersions, id); err != nil {
		return 0, fmt.Errorf("sqlite: remove item %q: peer versions: %w", id, t.Fail(err))
	}
	t.Seq++
	return t.Seq, nil
}

func (t *tx) Retention(ctx context.Context) (store.Retention, error) {
	if err := t.enter(ctx, false); err != nil {
		return store.Retention{}, fmt.Errorf("sqlite: retention: %w", err)
	}
	var r store.Retention
	var marks string
	err := t.queryRow(ctx, qRetention, nil, &r.Horizon, &r.Compacted, &r.Swept, &marks)
	if errors.Is(err, sql.ErrNoRows) {
		return store.Retention{}, nil
	}
	if err == nil {
		r.Marks, err = itemrow.DecodeMarks(marks)
	}
	if err != nil {
		return store.Retention{}, fmt.Errorf("sqlite: retention: %w", t.Fail(err))
	}
	return r, nil
}

func (t *tx) SetRetention(ctx context.Context, r store.Retention) error {
	if err := t.enter(ctx, true); err != nil {
		return fmt.Errorf("sqlite: set retention: %w", err)
	}
	marks, err := itemrow.EncodeMarks(r.Marks)
	if err == nil {
		err = t.exec(ctx, qSetRetention, r.Horizon, r.Compacted, r.Swept, marks)
	}
	if err != nil {
		return fmt.Errorf("sqlite: set retention: %w", t.Fail(err))
	}
	return nil
}

var (
	_ store.SQLTx        = (*tx)(nil)
	_ store.RepairReader = (*tx)(nil)
)

// SQLDialect returns "sqlite" (store.SQLTx).
func (t *tx) SQLDialect() string { return "sqlite" }

// ExecSQL runs a statement in the transaction (store.SQLTx). It is
// prepared on the connection once and kept, as the store's own are.
func (t *tx) ExecSQL(ctx context.Context, q string, args ...any) (int64, error) {
	if err := t.enter(ctx, true); err != nil {
		return 0, fmt.Errorf("sqlite: exec: %w", err)
	}
	st, err := t.stmt(ctx, q)
	if err != nil {
		return 0, fmt.Errorf("sqlite: exec: %w", t.Fail(err))
	}
	res, err := st.ExecContext(ctx, args...)
	if err != nil {
		return 0, fmt.Errorf("sqlite: exec: %w", t.Fail(err))
	}
	n, err := res.RowsAffected()
	if err != nil {
		return 0, fmt.Errorf("sqlite: exec: %w", t.Fail(err))
	}
	return n, nil
}

// QuerySQL runs a query in the transaction and calls row for each result
// row (store.SQLTx).
func (t *tx) QuerySQL(ctx context.Context, q string, args []any, row func(scan func(dest ...any) error) error) error {
	if err := t.enter(ctx, false); err != nil {
		return fmt.Errorf("sqlite: query: %w", err)
	}
	st, err := t.stmt(ctx, q)
	if err != nil {
		return fmt.Errorf("sqlite: query: %w", t.Fail(err))
	}
	rows, err := st.QueryContext(ctx, args...)
	if err != nil {
		return fmt.Errorf("sqlite: query: %w", t.Fail(err))
	}
	defer rows.Close()
	for rows.Next() {
		if err := row(rows.Scan); err != nil {
			return t.Fail(err)
		}
	}
	if err := rows.Err(); err != nil {
		return fmt.Errorf("sqlite: query: %w", t.Fail(err))
	}
	return nil
}
