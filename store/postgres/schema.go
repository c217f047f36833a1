package postgres

import (
	"context"
	"errors"
	"fmt"

	"github.com/feedsync/go-feedsync/feedsync"
	"github.com/feedsync/go-feedsync/store"
	"github.com/feedsync/go-feedsync/store/internal/itemrow"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
)

// migrations are the schema changes, in order: migrations[i] takes the
// schema from version i to version i+1. The version a database has reached
// is kept in the one row of feedsync_schema_version. Never edit a migration
// that has shipped; add a new one. Table names carry a feedsync_ prefix
// because the database (or schema) may be shared with other software.
var migrations = []string{
	// 1: the initial schema.
	//
	// feedsync_counter holds the change sequence. Every writable transaction
	// locks its row (SELECT … FOR UPDATE) at Begin and writes it back at
	// Commit, so writers run one at a time and commit in seq order; see
	// doc.go for why.
	//
	// feedsync_items: one row per item; seq (unique, indexed) is the seq of
	// its latest change. The columns between id and xml are the item's
	// store.ItemStat (conflicts_digest is its Version.Conflicts); xml is
	// feedsync.MarshalItem's standalone element (compressed from
	// migration 4 on, see there).
	`
CREATE TABLE feedsync_meta (
	key   text PRIMARY KEY,
	value text NOT NULL
);
CREATE TABLE feedsync_counter (
	k   integer PRIMARY KEY CHECK (k = 1),
	seq bigint NOT NULL
);
INSERT INTO feedsync_counter (k, seq) VALUES (1, 0);
CREATE TABLE feedsync_items (
	id        text PRIMARY KEY,
	seq       bigint NOT NULL,
	updates   bigint NOT NULL,
	deleted   boolean NOT NULL,
	top_by    text NOT NULL,
	top_seq   bigint NOT NULL,
	top_when  timestamptz,
	digest    bytea NOT NULL,
	conflicts integer NOT NULL,
	conflicts_digest text NOT NULL,
	xml       bytea NOT NULL
);
CREATE UNIQUE INDEX feedsync_items_seq ON feedsync_items (seq);
CREATE TABLE feedsync_peers (
	peer     text PRIMARY KEY,
	sent_seq bigint NOT NULL
);
CREATE TABLE feedsync_peer_versions (
	peer      text NOT NULL,
	id        text NOT NULL,
	top_by    text NOT NULL,
	top_seq   bigint NOT NULL,
	top_when  timestamptz,
	conflicts text NOT NULL,
	PRIMARY KEY (peer, id)
);
CREATE TABLE feedsync_feed (
	k           integer PRIMARY KEY CHECK (k = 1),
	format      text NOT NULL,
	title       text NOT NULL,
	link        text NOT NULL,
	description text NOT NULL,
	atom_id     text NOT NULL,
	updated     timestamptz
);
`,
	// 2: per-peer sync state and history marks.
	//
	// feedsync_peer_state: one row per peer with a store.PeerState,
	// replacing the pseudo item "#httpfeed-token" that earlier versions of
	// the HTTP client kept its marks under in feedsync_peer_versions
	// (dropped here: the client starts over with versions first).
	// feedsync_history: the mark of each commit, by its last sequence
	// number (store.ChangeReader.HistoryMark). The changes made before this
	// migration share one new mark.
	`
CREATE TABLE feedsync_peer_state (
	peer     text PRIMARY KEY,
	received text NOT NULL,
	sent     text NOT NULL,
	resume   text NOT NULL
);
CREATE TABLE feedsync_history (
	seq  bigint PRIMARY KEY,
	mark text NOT NULL
);
INSERT INTO feedsync_history (seq, mark)
	SELECT seq, md5(random()::text || clock_timestamp()::text) FROM feedsync_counter WHERE seq > 0;
DELETE FROM feedsync_peer_versions WHERE id = '#httpfeed-token';
`,
	// 3: compaction (store.Compact). feedsync_retention holds the store's
	// store.Retention (marks as itemrow.EncodeMarks writes them);
	// feedsync_peer_versions_id lets Remove forget what peers hold of an
	// item without scanning every peer's knowledge.
	`
CREATE TABLE feedsync_retention (
	k         integer PRIMARY KEY CHECK (k = 1),
	horizon   bigint NOT NULL,
	compacted bigint NOT NULL,
	swept     bigint NOT NULL,
	marks     text NOT NULL
);
CREATE INDEX feedsync_peer_versions_id ON feedsync_peer_versions (id);
`,
	// 4: feedsync_items.xml holds the item in the compressed stored form
	// (itemrow.Encode). No change of schema: recodeItems, run with it,
	// rewrites the rows of a database made before it.
	``,
}

// dataMigrations are the steps of a migration that SQL cannot do, run
// after the migration of the same number, in its transaction.
var dataMigrations = map[int]func(ctx context.Context, tx pgx.Tx) error{
	4: recodeItems,
}

// recodeItems rewrites the item rows of a database made before migration
// 4 in the stored form (itemrow.Recode).
func recodeItems(ctx context.Context, tx pgx.Tx) error {
	_, err := itemrow.Recode(func(after int64, limit int) ([]itemrow.Change, error) {
		rows, err := tx.Query(ctx, `SELECT seq, xml FROM feedsync_items WHERE seq > $1 ORDER BY seq LIMIT $2`, after, limit)
		if err != nil {
			return nil, err
		}
		defer rows.Close()
		var batch []itemrow.Change
		for rows.Next() {
			var c itemrow.Change
			if err := rows.Scan(&c.Seq, &c.Data); err != nil {
				return nil, err
			}
			batch = append(batch, c)
		}
		return batch, rows.Err()
	}, func(batch []itemrow.Change) error {
		b := &pgx.Batch{}
		for _, c := range batch {
			b.Queue(`UPDATE feedsync_items SET xml = $1 WHERE seq = $2`, c.Data, c.Seq)
		}
		return tx.SendBatch(ctx, b).Close()
	})
	return err
}

// schemaVersion is the schema version this package writes: the number of
// migrations it knows.
var schemaVersion = len(migrations)

// migrate brings the schema up to schemaVersion in one transaction and
// returns the store's id, creating it on first use. A transaction-scoped
// advisory lock makes servers that start at once against a new database
// migrate it once: the others wait, then find the work done.
func migrate(ctx context.Context, pool *pgxpool.Pool, schema string) (id string, err error) {
	tx, err := pool.Begin(ctx)
	if err != nil {
		return "", err
	}
	defer tx.Rollback(context.Background())
	if _, err := tx.Exec(ctx, `SELECT pg_advisory_xact_lock(hashtext($1))`, "feedsync migrate "+schema); err != nil {
		return "", err
	}
	if schema != "" {
		if _, err := tx.Exec(ctx, `CREATE SCHEMA IF NOT EXISTS `+pgx.Identifier{schema}.Sanitize()); err != nil {
			return "", err
		}
	}
	if _, err := tx.Exec(ctx, `CREATE TABLE IF NOT EXISTS feedsync_schema_version (version integer NOT NULL)`); err != nil {
		return "", err
	}
	var v int
	switch err := tx.QueryRow(ctx, `SELECT version FROM feedsync_schema_version`).Scan(&v); {
	case errors.Is(err, pgx.ErrNoRows):
		if _, err := tx.Exec(ctx, `INSERT INTO feedsync_schema_version (version) VALUES (0)`); err != nil {
			return "", err
		}
	case err != nil:
		return "", err
	}
	if v > schemaVersion {
		return "", fmt.Errorf("%w: version %d, this program knows up to %d", store.ErrSchemaVersion, v, schemaVersion)
	}
	for ; v < schemaVersion; v++ {
		if migrations[v] != "" {
			if _, err := tx.Exec(ctx, migrations[v]); err != nil {
				return "", fmt.Errorf("migration %d: %w", v+1, err)
			}
		}
		if step := dataMigrations[v+1]; step != nil {
			if err := step(ctx, tx); err != nil {
				return "", fmt.Errorf("migration %d: %w", v+1, err)
			}
		}
		if _, err := tx.Exec(ctx, `UPDATE feedsync_schema_version SET version = $1`, v+1); err != nil {
			return "", err
		}
	}
	if _, err := tx.Exec(ctx, `INSERT INTO feedsync_meta (key, value) VALUES ('store_id', $1) ON CONFLICT (key) DO NOTHING`, feedsync.NewID()); err != nil {
		return "", err
	}
	if err := tx.QueryRow(ctx, `SELECT value FROM feedsync_meta WHERE key = 'store_id'`).Scan(&id); err != nil {
		return "", err
	}
	if err := tx.Commit(ctx); err != nil {
		return "", err
	}
	return id, nil
}
