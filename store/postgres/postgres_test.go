package postgres

import (
	"context"
	"errors"
	"os"
	"strings"
	"testing"
	"time"

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

// FS-ROBUST-6: items planted beyond the reader's limits fail normal reads
// with a message that says how to repair them, and are repaired.
func TestOversized(t *testing.T) {
	dsn := testDSN(t)
	s, err := Open(t.Context(), dsn, Options{Schema: newSchema(t, dsn)})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	storetest.RunOversized(t, s, storetest.PlantSQL)
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

// Puts travel in batches, so the server's error for one comes from a later
// call; it must name the item and fail the Tx like any error.
func TestBatchedPutError(t *testing.T) {
	dsn := testDSN(t)
	ctx := t.Context()
	s, err := Open(ctx, dsn, Options{Schema: newSchema(t, dsn)})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	when := time.Date(2009, 4, 2, 8, 0, 0, 0, time.UTC)
	good, err := feedsync.Create(feedsync.RSS, nil, "good-1", feedsync.Stamp{By: "laptop", When: when}, false)
	if err != nil {
		t.Fatal(err)
	}
	// A by that is not UTF-8: readers accept any by (FS-TYPE-6), but
	// PostgreSQL refuses the text.
	bad, err := feedsync.Create(feedsync.RSS, nil, "bad-1", feedsync.Stamp{By: "laptop", When: when}, false)
	if err != nil {
		t.Fatal(err)
	}
	bad.Sync = bad.Sync.Clone()
	bad.Sync.History[0].By = "lap\xfftop"

	for _, then := range []string{"count", "commit"} {
		t.Run(then, func(t *testing.T) {
			tx, err := s.Begin(ctx, true)
			if err != nil {
				t.Fatal(err)
			}
			defer tx.Rollback()
			for _, it := range []*feedsync.Item{good, bad} {
				if _, err := tx.Put(ctx, it); err != nil {
					t.Fatalf("put %q: %v (expected the error later)", it.ID(), err)
				}
			}
			if then == "count" {
				_, err = tx.Count(ctx)
				if err == nil || !strings.Contains(err.Error(), `"bad-1"`) {
					t.Errorf("Count after a bad Put: %v, want an error naming bad-1", err)
				}
			}
			err = tx.Commit()
			if !errors.Is(err, store.ErrTxFailed) || !strings.Contains(err.Error(), `"bad-1"`) {
				t.Errorf("Commit: %v, want ErrTxFailed naming bad-1", err)
			}
			rtx, err := s.Begin(ctx, false)
			if err != nil {
				t.Fatal(err)
			}
			defer rtx.Rollback()
			if n, err := rtx.Count(ctx); err != nil || n != 0 {
				t.Errorf("Count after the failed Tx = %d, %v; want 0", n, err)
			}
		})
	}
}

// Migration 4 rewrites the uncompressed rows of a version 3 database in
// the stored form (itemrow.Encode).
func TestMigrationRecodesItems(t *testing.T) {
	dsn := testDSN(t)
	schema := newSchema(t, dsn)
	storetest.RunRecode(t, func() (store.Store, error) { return Open(t.Context(), dsn, Options{Schema: schema}) },
		func(st store.Store, xml map[string][]byte) error {
			s := st.(*Store)
			for id, b := range xml {
				if _, err := s.pool.Exec(t.Context(), `UPDATE feedsync_items SET xml = $1 WHERE id = $2`, b, id); err != nil {
					return err
				}
			}
			_, err := s.pool.Exec(t.Context(), `UPDATE feedsync_schema_version SET version = 3`)
			return err
		},
		storetest.EncodedRows("feedsync_items"))
}

// The conformance test's Batch case reaches the one-query-per-batch
// methods only if a Tx of the store has them: store.StatMany and the rest
// fall back to the one-item methods silently otherwise.
func TestBatchMethods(t *testing.T) {
	dsn := testDSN(t)
	s, err := Open(t.Context(), dsn, Options{Schema: newSchema(t, dsn)})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	for _, write := range []bool{false, true} {
		tx, err := s.Begin(t.Context(), write)
		if err != nil {
			t.Fatal(err)
		}
		if _, ok := tx.(store.BatchReader); !ok {
			t.Errorf("Tx (write %v) %T is not a store.BatchReader", write, tx)
		}
		if _, ok := tx.(store.BatchWriter); write && !ok {
			t.Errorf("Tx (write %v) %T is not a store.BatchWriter", write, tx)
		}
		if err := tx.Rollback(); err != nil {
			t.Fatal(err)
		}
	}
}
