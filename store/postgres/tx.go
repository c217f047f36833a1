package postgres

import (
	"context"
	"fmt"
	"time"

	"github.com/feedsync/go-feedsync/store/internal/sqltx"
	"github.com/feedsync/go-feedsync/store/internal/txstate"
	"github.com/jackc/pgx/v5"
)

// dialect is PostgreSQL's SQL for sqltx.Tx. pgx prepares each statement on
// a connection the first time it runs there and reuses it (its statement
// cache), so a bulk of Puts parses the upsert once.
var dialect = sqltx.Dialect{
	Name: "postgres",

	Get:      `SELECT xml FROM feedsync_items WHERE id = $1`,
	Changes:  `SELECT seq, id, xml FROM feedsync_items WHERE seq > $1 ORDER BY seq LIMIT $2`,
	Stat:     `SELECT ` + sqltx.StatCols + ` FROM feedsync_items WHERE id = $1`,
	Stats:    `SELECT ` + sqltx.StatCols + ` FROM feedsync_items WHERE seq > $1 ORDER BY seq LIMIT $2`,
	StatsXML: `SELECT ` + sqltx.StatCols + `, xml FROM feedsync_items WHERE seq > $1 ORDER BY seq LIMIT $2`,
	// StatMany and PeerVersions name their ids as one array parameter.
	StatMany: `SELECT ` + sqltx.StatCols + ` FROM feedsync_items WHERE id = ANY($1)`,
	Put: `INSERT INTO feedsync_items (seq, id, updates, deleted, top_by, top_seq, top_when, digest, conflicts, conflicts_digest, xml)
VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)
ON CONFLICT (id) DO UPDATE SET seq = excluded.seq, updates = excluded.updates,
	deleted = excluded.deleted, top_by = excluded.top_by, top_seq = excluded.top_seq,
	top_when = excluded.top_when, digest = excluded.digest, conflicts = excluded.conflicts,
	conflicts_digest = excluded.conflicts_digest, xml = excluded.xml`,
	Rewrite: `UPDATE feedsync_items SET updates = $1, deleted = $2, digest = $3, conflicts = $4, xml = $5
WHERE id = $6 AND top_by = $7 AND top_seq = $8 AND top_when IS NOT DISTINCT FROM $9 AND conflicts_digest = $10`,
	Remove:             `DELETE FROM feedsync_items WHERE id = $1`,
	RemovePeerVersions: `DELETE FROM feedsync_peer_versions WHERE id = $1`,
	LastSeq:            `SELECT seq FROM feedsync_counter WHERE k = 1`,
	Count:              `SELECT COUNT(*) FROM feedsync_items`,

	PeerVersion: `SELECT top_by, top_seq, top_when, conflicts FROM feedsync_peer_versions WHERE peer = $1 AND id = $2`,
	SetPeerVersion: `INSERT INTO feedsync_peer_versions (peer, id, top_by, top_seq, top_when, conflicts) VALUES ($1, $2, $3, $4, $5, $6)
ON CONFLICT (peer, id) DO UPDATE SET top_by = excluded.top_by, top_seq = excluded.top_seq,
	top_when = excluded.top_when, conflicts = excluded.conflicts`,
	PeerVersions: `SELECT id, top_by, top_seq, top_when, conflicts FROM feedsync_peer_versions WHERE peer = $1 AND id = ANY($2)`,
	PeerSeq:      `SELECT sent_seq FROM feedsync_peers WHERE peer = $1`,
	SetPeerSeq: `INSERT INTO feedsync_peers (peer, sent_seq) VALUES ($1, $2)
ON CONFLICT (peer) DO UPDATE SET sent_seq = excluded.sent_seq`,
	PeerState: `SELECT received, sent, resume FROM feedsync_peer_state WHERE peer = $1`,
	SetPeerState: `INSERT INTO feedsync_peer_state (peer, received, sent, resume) VALUES ($1, $2, $3, $4)
ON CONFLICT (peer) DO UPDATE SET received = excluded.received, sent = excluded.sent, resume = excluded.resume`,
	DelPeerState:    `DELETE FROM feedsync_peer_state WHERE peer = $1`,
	DelPeerVersions: `DELETE FROM feedsync_peer_versions WHERE peer = $1`,

	HistoryMark: `SELECT mark FROM feedsync_history WHERE seq >= $1 ORDER BY seq LIMIT 1`,
	AddHistory:  `INSERT INTO feedsync_history (seq, mark) VALUES ($1, $2)`,
	FeedInfo:    `SELECT format, title, link, description, atom_id, updated FROM feedsync_feed WHERE k = 1`,
	SetFeedInfo: `INSERT INTO feedsync_feed (k, format, title, link, description, atom_id, updated) VALUES (1, $1, $2, $3, $4, $5, $6)
ON CONFLICT (k) DO UPDATE SET format = excluded.format, title = excluded.title, link = excluded.link,
	description = excluded.description, atom_id = excluded.atom_id, updated = excluded.updated`,
	Retention: `SELECT horizon, compacted, swept, marks FROM feedsync_retention WHERE k = 1`,
	SetRetention: `INSERT INTO feedsync_retention (k, horizon, compacted, swept, marks) VALUES (1, $1, $2, $3, $4)
ON CONFLICT (k) DO UPDATE SET horizon = excluded.horizon, compacted = excluded.compacted, swept = excluded.swept,
	marks = excluded.marks`,

	BatchIDs:        batchIDs,
	IDArgs:          idArgs,
	SetPeerVersions: setPeerVersions,
}

const (
	qSetSeq = `UPDATE feedsync_counter SET seq = $1 WHERE k = 1`
	// qSetSeqNotify is qSetSeq announcing the change on the store's
	// channel (notify.go), delivered at commit.
	qSetSeqNotify = `UPDATE feedsync_counter SET seq = $1 WHERE k = 1 RETURNING pg_notify($2, '')`
)

// tx is the sqltx.Driver of a transaction on a pooled connection.
type tx struct {
	// State is the sqltx.Tx's, which a failed write fails. PostgreSQL
	// aborts a transaction at its first failed statement anyway; State
	// makes every store behave so.
	*txstate.State
	s  *Store
	tx pgx.Tx
	// pending holds writes not sent yet, what (what each is, for error
	// messages) and items the ids of the items among them (Pending).
	// Writes travel in batches of up to writeBatch statements, one round
	// trip each, instead of one round trip per write; see Flush.
	pending *pgx.Batch
	what    []string
	items   map[string]bool
}

// writeBatch is how many writes wait before they are sent together. A batch
// of upserts is one round trip to the server instead of writeBatch: merging
// a feed into the store (a Get, maybe a Put and a SetPeerVersion per item)
// then costs about one round trip per item, its Get, instead of three.
const writeBatch = 256

var _ sqltx.Driver = (*tx)(nil)

func (t *tx) Exec(ctx context.Context, q string, args ...any) (int64, error) {
	tag, err := t.tx.Exec(ctx, q, args...)
	return tag.RowsAffected(), err
}

func (t *tx) QueryRow(ctx context.Context, q string, args []any, dest ...any) error {
	return t.tx.QueryRow(ctx, q, args...).Scan(dest...)
}

func (t *tx) Query(ctx context.Context, q string, args ...any) (sqltx.Rows, error) {
	rows, err := t.tx.Query(ctx, q, args...)
	if err != nil {
		return nil, err
	}
	return pgRows{rows}, nil
}

// pgRows are pgx.Rows as sqltx.Rows: Close reports the query's error.
type pgRows struct{ pgx.Rows }

func (r pgRows) Close() error {
	r.Rows.Close()
	return r.Rows.Err()
}

// Write adds a write to the pending batch, and sends the batch once it
// holds writeBatch writes.
func (t *tx) Write(ctx context.Context, what, item, q string, args ...any) error {
	if t.pending == nil {
		t.pending, t.items = &pgx.Batch{}, map[string]bool{}
	}
	t.pending.Queue(q, args...)
	t.what = append(t.what, what)
	if item != "" {
		t.items[item] = true
	}
	if t.pending.Len() >= writeBatch {
		return t.Flush(ctx)
	}
	return nil
}

// Flush sends the pending writes in one batch. A failed write fails the Tx
// here, in whichever call came after it, and the error says which write it
// was.
func (t *tx) Flush(ctx context.Context) error {
	if t.pending == nil || t.pending.Len() == 0 {
		return nil
	}
	b, what := t.pending, t.what
	t.pending, t.what, t.items = nil, nil, nil
	br := t.tx.SendBatch(ctx, b)
	for _, w := range what {
		if _, err := br.Exec(); err != nil {
			br.Close()
			return fmt.Errorf("postgres: %w", t.Fail(fmt.Errorf("%s: %w", w, err)))
		}
	}
	if err := br.Close(); err != nil {
		return fmt.Errorf("postgres: send %d writes: %w", len(what), t.Fail(err))
	}
	return nil
}

func (t *tx) Pending(id string) bool { return t.items[id] }

// Peer returns peer: the statements name a peer by its name.
func (t *tx) Peer(_ context.Context, peer string, _ bool) (any, bool, error) { return peer, true, nil }

func (t *tx) SaveSeq(ctx context.Context, seq int64) error {
	_, err := t.tx.Exec(ctx, qSetSeqNotify, seq, t.s.channel)
	return err
}

func (t *tx) Commit(ctx context.Context) error { return t.tx.Commit(ctx) }

func (t *tx) Rollback() error { return t.tx.Rollback(context.Background()) }

func timeOrNil(t time.Time) any {
	if t.IsZero() {
		return nil
	}
	return t
}
