package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"

	"github.com/feedsync/go-feedsync/feedsync"
	"github.com/feedsync/go-feedsync/store"
	"github.com/feedsync/go-feedsync/store/internal/itemrow"
)

// migrations are the schema changes, in order: migrations[i] takes the
// schema from version i to version i+1. The version a database has reached
// is kept in the one row of schema_version. Never edit a migration that has
// shipped; add a new one.
var migrations = []string{
	// 1: the initial schema.
	//
	// items: one row per item. seq is the INTEGER PRIMARY KEY, that is the
	// rowid, so "changes after N" is a range scan of the table itself in
	// seq order, and a Put moves the row to its new seq. id has a unique
	// index for Get. The columns between them are the item's
	// store.ItemStat (conflicts_digest is its Version.Conflicts); xml is
	// feedsync.MarshalItem's standalone element (compressed from
	// migration 4 on, see there).
	`
CREATE TABLE meta (
	key   TEXT PRIMARY KEY,
	value TEXT NOT NULL
);
CREATE TABLE counter (
	k   INTEGER PRIMARY KEY CHECK (k = 1),
	seq INTEGER NOT NULL
);
INSERT INTO counter (k, seq) VALUES (1, 0);
CREATE TABLE items (
	seq       INTEGER PRIMARY KEY,
	id        TEXT NOT NULL UNIQUE,
	updates   INTEGER NOT NULL,
	deleted   INTEGER NOT NULL,
	top_by    TEXT NOT NULL,
	top_seq   INTEGER NOT NULL,
	top_when  INTEGER,
	digest    BLOB NOT NULL,
	conflicts INTEGER NOT NULL,
	conflicts_digest TEXT NOT NULL,
	xml       BLOB NOT NULL
);
CREATE TABLE peers (
	peer     TEXT PRIMARY KEY,
	sent_seq INTEGER NOT NULL
);
CREATE TABLE peer_versions (
	peer      TEXT NOT NULL,
	id        TEXT NOT NULL,
	top_by    TEXT NOT NULL,
	top_seq   INTEGER NOT NULL,
	top_when  INTEGER,
	conflicts TEXT NOT NULL,
	PRIMARY KEY (peer, id)
) WITHOUT ROWID;
CREATE TABLE feed (
	k           INTEGER PRIMARY KEY CHECK (k = 1),
	format      TEXT NOT NULL,
	title       TEXT NOT NULL,
	link        TEXT NOT NULL,
	description TEXT NOT NULL,
	atom_id     TEXT NOT NULL,
	updated     INTEGER
);
`,
	// 2: per-peer sync state and history marks.
	//
	// peer_state: one row per peer with a store.PeerState, replacing the
	// pseudo item "#httpfeed-token" that earlier versions of the HTTP
	// client kept its marks under in peer_versions (dropped here: the
	// client starts over with versions first, which costs a summary).
	// history: the mark of each commit, by its last sequence number
	// (store.ChangeReader.HistoryMark). The changes made before this
	// migration share one new mark.
	`
CREATE TABLE peer_state (
	peer     TEXT PRIMARY KEY,
	received TEXT NOT NULL,
	sent     TEXT NOT NULL,
	resume   TEXT NOT NULL
);
CREATE TABLE history (
	seq  INTEGER PRIMARY KEY,
	mark TEXT NOT NULL
);
INSERT INTO history (seq, mark) SELECT seq, lower(hex(randomblob(16))) FROM counter WHERE seq > 0;
DELETE FROM peer_versions WHERE id = '#httpfeed-token';
`,
	// 3: compaction (store.Compact). retention holds the store's
	// store.Retention (marks as itemrow.EncodeMarks writes them);
	// peer_versions_id lets Remove forget what peers hold of an item
	// without scanning every peer's knowledge.
	`
CREATE TABLE retention (
	k         INTEGER PRIMARY KEY CHECK (k = 1),
	horizon   INTEGER NOT NULL,
	compacted INTEGER NOT NULL,
	swept     INTEGER NOT NULL,
	marks     TEXT NOT NULL
);
CREATE INDEX peer_versions_id ON peer_versions (id);
`,
	// 4: items.xml holds the item in the compressed stored form
	// (itemrow.Encode). No change of schema: recodeItems, run with it,
	// rewrites the rows of a database made before it.
	``,
	// 5: peer_versions names its peer by number (peer_names), not by
	// name: a client keeps a row for every item a server sent it, and the
	// peer's name (the server's URL) repeated in each row and in the
	// index by id was about as large as the rest of the row. Rows, index
	// and names are rewritten; the space freed goes back by VACUUM after
	// the migration (compactPeerVersions).
	`
CREATE TABLE peer_names (
	num  INTEGER PRIMARY KEY,
	name TEXT NOT NULL UNIQUE
);
INSERT INTO peer_names (name) SELECT DISTINCT peer FROM peer_versions ORDER BY peer;
CREATE TABLE peer_versions_5 (
	peer      INTEGER NOT NULL,
	id        TEXT NOT NULL,
	top_by    TEXT NOT NULL,
	top_seq   INTEGER NOT NULL,
	top_when  INTEGER,
	conflicts TEXT NOT NULL,
	PRIMARY KEY (peer, id)
) WITHOUT ROWID;
INSERT INTO peer_versions_5 (peer, id, top_by, top_seq, top_when, conflicts)
	SELECT n.num, v.id, v.top_by, v.top_seq, v.top_when, v.conflicts FROM peer_versions v JOIN peer_names n ON n.name = v.peer;
DROP TABLE peer_versions;
ALTER TABLE peer_versions_5 RENAME TO peer_versions;
CREATE INDEX peer_versions_id ON peer_versions (id);
`,
	// 6: no index of peer_versions by id. Remove finds an item's rows by
	// the primary key, once per peer name (there are few), so a client
	// no longer writes an index entry for every item a server sends it.
	`
DROP INDEX peer_versions_id;
`,
}

// dataMigrations are the steps of a migration that SQL cannot do, run
// after the migration of the same number, in its transaction.
var dataMigrations = map[int]func(ctx context.Context, conn *sql.Conn) (changed bool, err error){
	4: recodeItems,
	5: compactPeerVersions,
}

// compactPeerVersions reports whether migration 5 rewrote any row, so that
// the space the old rows held is given back.
func compactPeerVersions(ctx context.Context, conn *sql.Conn) (bool, error) {
	var n int64
	err := conn.QueryRowContext(ctx, `SELECT count(*) FROM peer_names`).Scan(&n)
	return n > 0, err
}

// recodeItems rewrites the item rows of a database made before migration
// 4 in the stored form (itemrow.Recode); it reports whether it rewrote any.
func recodeItems(ctx context.Context, conn *sql.Conn) (bool, error) {
	n, err := itemrow.Recode(func(after int64, limit int) ([]itemrow.Change, error) {
		rows, err := conn.QueryContext(ctx, `SELECT seq, xml FROM items WHERE seq > ? ORDER BY seq LIMIT ?`, after, limit)
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
		for _, c := range batch {
			if _, err := conn.ExecContext(ctx, `UPDATE items SET xml = ? WHERE seq = ?`, c.Data, c.Seq); err != nil {
				return fmt.Errorf("item at seq %d: %w", c.Seq, err)
			}
		}
		return nil
	})
	return n > 0, err
}

// schemaVersion is the schema version this package writes: the number of
// migrations it knows.
var schemaVersion = len(migrations)

// migrate brings the database up to schemaVersion in one write transaction
// (BEGIN IMMEDIATE, so two processes opening a new file at once migrate it
// once: the second waits, then finds the work done) and returns the store's
// id, creating it on first use.
func migrate(ctx context.Context, db *sql.DB) (id string, err error) {
	conn, err := db.Conn(ctx)
	if err != nil {
		return "", err
	}
	defer conn.Close()
	if _, err := conn.ExecContext(ctx, "BEGIN IMMEDIATE"); err != nil {
		return "", err
	}
	defer func() {
		if err != nil {
			rollback(conn)
		}
	}()
	if _, err := conn.ExecContext(ctx, `CREATE TABLE IF NOT EXISTS schema_version (version INTEGER NOT NULL)`); err != nil {
		return "", err
	}
	var v int
	switch err := conn.QueryRowContext(ctx, `SELECT version FROM schema_version`).Scan(&v); {
	case errors.Is(err, sql.ErrNoRows):
		if _, err := conn.ExecContext(ctx, `INSERT INTO schema_version (version) VALUES (0)`); err != nil {
			return "", err
		}
	case err != nil:
		return "", err
	}
	if v > schemaVersion {
		return "", fmt.Errorf("%w: version %d, this program knows up to %d", store.ErrSchemaVersion, v, schemaVersion)
	}
	rewrote := false
	for ; v < schemaVersion; v++ {
		if migrations[v] != "" {
			if _, err := conn.ExecContext(ctx, migrations[v]); err != nil {
				return "", fmt.Errorf("migration %d: %w", v+1, err)
			}
		}
		if step := dataMigrations[v+1]; step != nil {
			changed, err := step(ctx, conn)
			if err != nil {
				return "", fmt.Errorf("migration %d: %w", v+1, err)
			}
			rewrote = rewrote || changed
		}
		if _, err := conn.ExecContext(ctx, `UPDATE schema_version SET version = ?`, v+1); err != nil {
			return "", err
		}
	}
	if _, err := conn.ExecContext(ctx, `INSERT OR IGNORE INTO meta (key, value) VALUES ('store_id', ?)`, feedsync.NewID()); err != nil {
		return "", err
	}
	if err := conn.QueryRowContext(ctx, `SELECT value FROM meta WHERE key = 'store_id'`).Scan(&id); err != nil {
		return "", err
	}
	if _, err := conn.ExecContext(ctx, "COMMIT"); err != nil {
		return "", err
	}
	if rewrote {
		// Give the space the rewritten rows freed back to the file system.
		// The store is correct without it (SQLite reuses free pages), so a
		// failure (another process reading the file, say) is no error.
		conn.ExecContext(ctx, "VACUUM")
	}
	return id, nil
}
