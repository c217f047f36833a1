package sqlite

import (
	"context"
	"database/sql"
	"fmt"
	"time"

	"github.com/feedsync/go-feedsync/store"
	"github.com/feedsync/go-feedsync/store/internal/itemrow"
	"github.com/feedsync/go-feedsync/store/internal/sqltx"
	"github.com/feedsync/go-feedsync/store/internal/txstate"
)

// dialect is SQLite's SQL for sqltx.Tx. The statements are prepared on a
// transaction's connection the first time they are used and kept with the
// connection for the transactions that reuse it (see conn), so that a bulk
// of Puts parses the upsert once and a short poll compiles nothing.
var dialect = sqltx.Dialect{
	Name:     "sqlite",
	UnixTime: true,

	Get:      `SELECT xml FROM items WHERE id = ?`,
	Changes:  `SELECT seq, id, xml FROM items WHERE seq > ? ORDER BY seq LIMIT ?`,
	Stat:     `SELECT ` + sqltx.StatCols + ` FROM items WHERE id = ?`,
	Stats:    `SELECT ` + sqltx.StatCols + ` FROM items WHERE seq > ? ORDER BY seq LIMIT ?`,
	StatsXML: `SELECT ` + sqltx.StatCols + `, xml FROM items WHERE seq > ? ORDER BY seq LIMIT ?`,
	StatMany: `SELECT ` + sqltx.StatCols + ` FROM items WHERE id IN (` + inList(batchIDs) + `)`,
	Put:      qPut,
	Rewrite: `UPDATE items SET updates = ?, deleted = ?, digest = ?, conflicts = ?, xml = ?
WHERE id = ? AND top_by = ? AND top_seq = ? AND top_when IS ? AND conflicts_digest = ?`,
	Remove:             `DELETE FROM items WHERE id = ?`,
	RemovePeerVersions: `DELETE FROM peer_versions WHERE peer IN (SELECT num FROM peer_names) AND id = ?`,
	LastSeq:            qLastSeq,
	Count:              `SELECT COUNT(*) FROM items`,

	PeerVersion: `SELECT top_by, top_seq, top_when, conflicts FROM peer_versions
WHERE peer = (SELECT num FROM peer_names WHERE name = ?) AND id = ?`,
	SetPeerVersion: qSetPeerVersion,
	PeerVersions:   `SELECT id, top_by, top_seq, top_when, conflicts FROM peer_versions WHERE peer = ? AND id IN (` + inList(batchIDs) + `)`,
	PeerSeq:        `SELECT sent_seq FROM peers WHERE peer = ?`,
	SetPeerSeq: `INSERT INTO peers (peer, sent_seq) VALUES (?, ?)
ON CONFLICT (peer) DO UPDATE SET sent_seq = excluded.sent_seq`,
	PeerState: `SELECT received, sent, resume FROM peer_state WHERE peer = ?`,
	SetPeerState: `INSERT INTO peer_state (peer, received, sent, resume) VALUES (?, ?, ?, ?)
ON CONFLICT (peer) DO UPDATE SET received = excluded.received, sent = excluded.sent, resume = excluded.resume`,
	DelPeerState:    `DELETE FROM peer_state WHERE peer = ?`,
	DelPeerVersions: `DELETE FROM peer_versions WHERE peer = (SELECT num FROM peer_names WHERE name = ?)`,

	HistoryMark: `SELECT mark FROM history WHERE seq >= ? ORDER BY seq LIMIT 1`,
	AddHistory:  `INSERT INTO history (seq, mark) VALUES (?, ?)`,
	FeedInfo:    `SELECT format, title, link, description, atom_id, updated FROM feed WHERE k = 1`,
	SetFeedInfo: `INSERT INTO feed (k, format, title, link, description, atom_id, updated) VALUES (1, ?, ?, ?, ?, ?, ?)
ON CONFLICT (k) DO UPDATE SET format = excluded.format, title = excluded.title, link = excluded.link,
	description = excluded.description, atom_id = excluded.atom_id, updated = excluded.updated`,
	Retention: `SELECT horizon, compacted, swept, marks FROM retention WHERE k = 1`,
	SetRetention: `INSERT INTO retention (k, horizon, compacted, swept, marks) VALUES (1, ?, ?, ?, ?)
ON CONFLICT (k) DO UPDATE SET horizon = excluded.horizon, compacted = excluded.compacted, swept = excluded.swept,
	marks = excluded.marks`,

	BatchIDs:        batchIDs,
	IDArgs:          idArgs,
	SetPeerVersions: setPeerVersions,
}

// The statements the store runs itself, besides dialect's.
const (
	qPut = qPutValues + `
ON CONFLICT (id) DO UPDATE SET seq = excluded.seq, updates = excluded.updates,
	deleted = excluded.deleted, top_by = excluded.top_by, top_seq = excluded.top_seq,
	top_when = excluded.top_when, digest = excluded.digest, conflicts = excluded.conflicts,
	conflicts_digest = excluded.conflicts_digest, xml = excluded.xml`
	qLastSeq        = `SELECT seq FROM counter WHERE k = 1`
	qSetSeq         = `UPDATE counter SET seq = ? WHERE k = 1`
	qAddPeerName    = `INSERT INTO peer_names (name) VALUES (?) ON CONFLICT (name) DO NOTHING`
	qSetPeerVersion = `INSERT INTO peer_versions (peer, id, top_by, top_seq, top_when, conflicts)
VALUES ((SELECT num FROM peer_names WHERE name = ?), ?, ?, ?, ?, ?)
ON CONFLICT (peer, id) DO UPDATE SET top_by = excluded.top_by, top_seq = excluded.top_seq,
	top_when = excluded.top_when, conflicts = excluded.conflicts`
)

// qPutValues is qPut up to its ON CONFLICT clause (batch.go).
const qPutValues = `INSERT INTO items (seq, id, updates, deleted, top_by, top_seq, top_when, digest, conflicts, conflicts_digest, xml)
VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`

// tx is the sqltx.Driver of a transaction, on a connection of its own
// taken from the Store's pool for the life of the transaction.
type tx struct {
	// State is the sqltx.Tx's, which a failed write fails.
	*txstate.State
	s    *Store
	c    *conn
	conn *sql.Conn // c.c
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
	_ sqltx.Driver     = (*tx)(nil)
	_ sqltx.RowBatcher = (*tx)(nil)
)

func (t *tx) stmt(ctx context.Context, q string) (*sql.Stmt, error) {
	return t.c.stmt(ctx, q)
}

// exec runs the prepared statement q.
func (t *tx) exec(ctx context.Context, q string, args ...any) error {
	st, err := t.stmt(ctx, q)
	if err != nil {
		return err
	}
	_, err = st.ExecContext(ctx, args...)
	return err
}

func (t *tx) Exec(ctx context.Context, q string, args ...any) (int64, error) {
	st, err := t.stmt(ctx, q)
	if err != nil {
		return 0, err
	}
	res, err := st.ExecContext(ctx, args...)
	if err != nil {
		return 0, err
	}
	return res.RowsAffected()
}

func (t *tx) QueryRow(ctx context.Context, q string, args []any, dest ...any) error {
	st, err := t.stmt(ctx, q)
	if err != nil {
		return err
	}
	return st.QueryRowContext(ctx, args...).Scan(dest...)
}

func (t *tx) Query(ctx context.Context, q string, args ...any) (sqltx.Rows, error) {
	st, err := t.stmt(ctx, q)
	if err != nil {
		return nil, err
	}
	return st.QueryContext(ctx, args...)
}

// Write makes the writes pending first, then q at once.
func (t *tx) Write(ctx context.Context, what, _, q string, args ...any) error {
	if err := t.flush(ctx); err != nil {
		return err
	}
	if err := t.exec(ctx, q, args...); err != nil {
		return fmt.Errorf("sqlite: %s: %w", what, t.Fail(err))
	}
	return nil
}

func (t *tx) Flush(ctx context.Context) error { return t.flush(ctx) }

// Pending reports whether any write is pending: the rows of puts are not
// looked at.
func (t *tx) Pending(string) bool { return len(t.puts) > 0 || len(t.versions) > 0 }

// Put keeps the row pending, and writes the pending rows once they fill a
// statement.
func (t *tx) Put(ctx context.Context, seq int64, r itemrow.Row) error {
	t.puts = append(t.puts, pendingPut{seq: seq, row: r})
	if len(t.puts) == putBatch {
		return t.flushPuts(ctx)
	}
	return nil
}

// SetPeerVersion keeps the version pending, as Put does; it names the peer
// at once.
func (t *tx) SetPeerVersion(ctx context.Context, peer, id string, v store.Version) error {
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

func (t *tx) SaveSeq(ctx context.Context, seq int64) error { return t.exec(ctx, qSetSeq, seq) }

func (t *tx) Commit(ctx context.Context) error {
	if err := t.exec(ctx, "COMMIT"); err != nil {
		return err
	}
	t.end(false)
	return nil
}

func (t *tx) Rollback() error {
	err := rollback(t.conn)
	t.end(err != nil || t.Failed() != nil)
	return err
}

// end releases what the Tx holds. Its connection goes back to the Store's
// pool unless bad: after a failure, of the Tx or of its rollback, the
// connection's state is unknown (a transaction may still be open on it),
// so it is discarded.
func (t *tx) end(bad bool) {
	t.s.release(t.c, bad)
	t.c, t.conn = nil, nil
	if t.State.Writable {
		<-t.s.writer
	}
}

func unixOrNil(t time.Time) any {
	if t.IsZero() {
		return nil
	}
	return t.Unix()
}
