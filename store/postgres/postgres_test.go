package postgres

import (
	"context"
	"errors"
	"os"
	"strings"
	"testing"

	"github.com/feedsync/go-feedsync/feedsync"
	"github.com/feedsync/go-feedsync/store"
	"github.com/feedsync/go-feedsync/store/storetest"
	"github.com/jackc/pgx/v5"
)

// testDSN returns the test server's DSN, or skips the test.
func testDSN(t testing.TB) string {
	t.Helper()
	dsn := os.Getenv("FEEDSYNC_TEST_POSTGRES")
	if dsn == "" {
		t.Skip("PostgreSQL tests need a server: set FEEDSYNC_TEST_POSTGRES=postgres://postgres@127.0.0.1:5432/test?sslmode=disable")
	}
	return dsn
}

// newSchema returns the name of a schema of its own for t, dropped with
// everything in it when t ends. Open creates it.
func newSchema(t testing.TB, dsn string) string {
	t.Helper()
	name := "feedsync_test_" + strings.ReplaceAll(feedsync.NewID(), "-", "")
	t.Cleanup(func() {
		ctx := context.Background()
		conn, err := pgx.Connect(ctx, dsn)
		if err != nil {
			t.Errorf("drop schema %s: %v", name, err)
			return
		}
		defer conn.Close(ctx)
		if _, err := conn.Exec(ctx, `DROP SCHEMA IF EXISTS `+pgx.Identifier{name}.Sanitize()+` CASCADE`); err != nil {
			t.Errorf("drop schema %s: %v", name, err)
		}
	})
	return name
}

func TestConformance(t *testing.T) {
	dsn := testDSN(t)
	storetest.Run(t, func(t *testing.T) store.Store {
		s, err := Open(t.Context(), dsn, Options{Schema: newSchema(t, dsn)})
		if err != nil {
			t.Fatal(err)
		}
		return s
	})
}

func TestDurable(t *testing.T) {
	dsn := testDSN(t)
	storetest.RunDurable(t, func(t *testing.T) func() (store.Store, error) {
		schema := newSchema(t, dsn)
		return func() (store.Store, error) { return Open(context.Background(), dsn, Options{Schema: schema}) }
	})
}

func TestSchema(t *testing.T) {
	dsn := testDSN(t)
	ctx := t.Context()
	schema := newSchema(t, dsn)
	s, err := Open(ctx, dsn, Options{Schema: schema})
	if err != nil {
		t.Fatal(err)
	}
	var version, rows int
	if err := s.pool.QueryRow(ctx, `SELECT max(version), count(*) FROM feedsync_schema_version`).Scan(&version, &rows); err != nil {
		t.Fatal(err)
	}
	if version != len(migrations) || rows != 1 {
		t.Errorf("feedsync_schema_version holds %d rows, version %d; want 1 row, version %d", rows, version, len(migrations))
	}
	var where string
	if err := s.pool.QueryRow(ctx, `SELECT table_schema FROM information_schema.tables WHERE table_name = 'feedsync_items' AND table_schema = $1`, schema).Scan(&where); err != nil {
		t.Fatalf("feedsync_items is not in schema %s: %v", schema, err)
	}
	// A database from a newer program is refused, not downgraded.
	if _, err := s.pool.Exec(ctx, `UPDATE feedsync_schema_version SET version = $1`, len(migrations)+1); err != nil {
		t.Fatal(err)
	}
	s.Close()
	s2, err := Open(ctx, dsn, Options{Schema: schema})
	if err == nil {
		s2.Close()
		t.Fatal("Open of a database with a newer schema succeeded")
	}
	if !errors.Is(err, store.ErrSchemaVersion) {
		t.Errorf("error %q does not wrap ErrSchemaVersion", err)
	}
}
