package table_test

import (
	"context"
	"database/sql"
	"path/filepath"
	"strings"
	"testing"

	"github.com/feedsync/go-feedsync/feedsync"
	"github.com/feedsync/go-feedsync/internal/feedtest"
	"github.com/feedsync/go-feedsync/store"
	"github.com/feedsync/go-feedsync/store/postgres"
	"github.com/feedsync/go-feedsync/store/sqlite"
	"github.com/feedsync/go-feedsync/store/storetest"
	"github.com/feedsync/go-feedsync/store/table"
)

// The conformance suite runs on a Store over a table whose columns take
// anything (text key, nullable text columns): every item the suite puts is
// written back into a row, and the suite's reads go through the same
// transactions as an application's.
func TestConformanceSQLite(t *testing.T) {
	storetest.Run(t, notesSQLite)
}

func TestConformancePostgres(t *testing.T) {
	dsn := feedtest.PostgresDSN(t)
	storetest.Run(t, func(t *testing.T) store.Store { return notesPostgres(t, dsn) })
}

// FS-ROBUST-6: items stored beyond the reader's limits are repaired
// through a Store as through its base store: Compact and a resolution
// read them past the limits in writable transactions, whose repair reads
// (store.RepairReader) are the base store's.
func TestOversizedSQLite(t *testing.T) {
	storetest.RunOversized(t, notesSQLite(t), storetest.PlantSQL)
}

func TestOversizedPostgres(t *testing.T) {
	storetest.RunOversized(t, notesPostgres(t, feedtest.PostgresDSN(t)), storetest.PlantSQL)
}

// notesSQLite returns a Store over a notes table of a new SQLite
// database.
func notesSQLite(t *testing.T) store.Store {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "app.db")
	base, err := sqlite.Open(ctx, path, sqlite.Options{})
	if err != nil {
		t.Fatal(err)
	}
	return openNotes(t, base, `CREATE TABLE notes (id TEXT PRIMARY KEY, title TEXT, description TEXT)`)
}

// notesPostgres returns a Store over a notes table in a new schema of the
// PostgreSQL database dsn, dropped when t ends.
func notesPostgres(t *testing.T, dsn string) store.Store {
	ctx := context.Background()
	schema := "feedsync_table_" + strings.ReplaceAll(feedsync.NewID(), "-", "")
	base, err := postgres.Open(ctx, dsn, postgres.Options{Schema: schema})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { dropSchema(t, dsn, schema) })
	return openNotes(t, base, `CREATE TABLE notes (id text PRIMARY KEY, title text, description text)`)
}

// openNotes makes the notes table with create in the database of base and
// opens a Store over it, closed when t ends.
func openNotes(t *testing.T, base store.Store, create string) store.Store {
	ctx := context.Background()
	feedtest.WithTx(t, base, true, func(tx store.Tx) {
		if _, err := tx.(store.SQLTx).ExecSQL(ctx, create); err != nil {
			t.Fatal(err)
		}
	})
	s, err := table.Open(ctx, base, table.Config{Table: "notes", Key: "id", By: "conformance"})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

// The durable suite reopens a Store, opens two at once on a new database
// and races writers through separate handles; the table is made first, as
// an application's is.
func TestDurableSQLite(t *testing.T) {
	storetest.RunDurable(t, func(t *testing.T) func() (store.Store, error) {
		path := filepath.Join(t.TempDir(), "app.db")
		db, err := sql.Open("sqlite", path)
		if err != nil {
			t.Fatal(err)
		}
		defer db.Close()
		if _, err := db.Exec(`CREATE TABLE notes (id TEXT PRIMARY KEY, title TEXT, description TEXT)`); err != nil {
			t.Fatal(err)
		}
		return func() (store.Store, error) {
			ctx := context.Background()
			base, err := sqlite.Open(ctx, path, sqlite.Options{})
			if err != nil {
				return nil, err
			}
			return openOrClose(ctx, base)
		}
	})
}

func TestDurablePostgres(t *testing.T) {
	dsn := feedtest.PostgresDSN(t)
	storetest.RunDurable(t, func(t *testing.T) func() (store.Store, error) {
		schema := "feedsync_table_" + strings.ReplaceAll(feedsync.NewID(), "-", "")
		db, err := sql.Open("pgx", dsn)
		if err != nil {
			t.Fatal(err)
		}
		defer db.Close()
		t.Cleanup(func() { dropSchema(t, dsn, schema) })
		if _, err := db.Exec(`CREATE SCHEMA "` + schema + `"; CREATE TABLE "` + schema + `".notes (id text PRIMARY KEY, title text, description text)`); err != nil {
			t.Fatal(err)
		}
		return func() (store.Store, error) {
			ctx := context.Background()
			base, err := postgres.Open(ctx, dsn, postgres.Options{Schema: schema})
			if err != nil {
				return nil, err
			}
			return openOrClose(ctx, base)
		}
	})
}

func openOrClose(ctx context.Context, base store.Store) (store.Store, error) {
	s, err := table.Open(ctx, base, table.Config{Table: "notes", Key: "id", By: "conformance"})
	if err != nil {
		base.Close()
		return nil, err
	}
	return s, nil
}
