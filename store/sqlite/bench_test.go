package sqlite

import (
	"context"
	"crypto/sha256"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/feedsync/go-feedsync/store"
	"github.com/feedsync/go-feedsync/store/internal/benchdata"
	"github.com/feedsync/go-feedsync/store/internal/itemrow"
)

// Benchmarks of what the project's targets are about:
//
//   - BenchmarkPut: 100k items (read from a feed, as a consumer gets them)
//     put in one transaction through the store ("store") against a plain
//     bulk insert of the same rows into the same table shape ("bulk": raw
//     INSERTs with one prepared statement in one transaction, rows computed
//     beforehand). Compare their items/s. "merge" and "remerge" time a
//     consumer's work per item (Get, MergeItem, Put, SetPeerVersion).
//   - BenchmarkPutRatio: the same, store, merge and bulk in turn in each
//     iteration, reporting the rate ratios (paired runs, for a machine
//     whose load drifts).
//   - BenchmarkChanges: Changes after LastSeq-10 (an incremental feed of
//     the last 10 changes) in stores of 1k, 100k and 1M items. Compare
//     ns/op across sizes. The databases are generated once and kept in
//     os.TempDir()/feedsync-bench for later runs.
//
// Run: go test -run '^$' -bench . -benchmem ./store/sqlite/

func BenchmarkPut(b *testing.B) { putBench().Put(b) }

// BenchmarkPutRatio runs store, merge and bulk one after the other in each
// iteration (benchdata.PutBench.Ratio).
func BenchmarkPutRatio(b *testing.B) { putBench().Ratio(b) }

func putBench() benchdata.PutBench {
	return benchdata.PutBench{
		Open: func(b *testing.B) store.Store {
			b.Helper()
			s, err := Open(context.Background(), filepath.Join(b.TempDir(), "bench.db"), Options{})
			if err != nil {
				b.Fatal(err)
			}
			b.Cleanup(func() { s.Close() })
			return s
		},
		Bulk: func(ctx context.Context, s store.Store, rows []itemrow.Row) error {
			return bulkInsert(ctx, s.(*Store), rows, 0)
		},
	}
}

// bulkInsert inserts rows with seqs from seq0+1 on with raw SQL: one
// prepared INSERT in one transaction, the fastest plain way to fill the
// items table.
func bulkInsert(ctx context.Context, s *Store, rows []itemrow.Row, seq0 int64) error {
	conn, err := s.db.Conn(ctx)
	if err != nil {
		return err
	}
	defer conn.Close()
	if _, err := conn.ExecContext(ctx, "BEGIN IMMEDIATE"); err != nil {
		return err
	}
	st, err := conn.PrepareContext(ctx, `INSERT INTO items (seq, id, updates, deleted, top_by, top_seq, top_when, digest, conflicts, conflicts_digest, xml)
VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`)
	if err != nil {
		return err
	}
	defer st.Close()
	for i, r := range rows {
		v := r.Version
		if _, err := st.ExecContext(ctx, seq0+int64(i)+1, r.ID, r.Updates, r.Deleted, v.Top.By, v.Top.Sequence, unixOrNil(v.Top.When),
			r.Digest[:], r.Conflicts, v.Conflicts, r.Data); err != nil {
			rollback(conn)
			return err
		}
	}
	if _, err := conn.ExecContext(ctx, `UPDATE counter SET seq = ? WHERE k = 1`, seq0+int64(len(rows))); err != nil {
		rollback(conn)
		return err
	}
	_, err = conn.ExecContext(ctx, "COMMIT")
	return err
}

func BenchmarkChanges(b *testing.B) {
	ctx := context.Background()
	for _, n := range []int{1_000, 100_000, 1_000_000} {
		b.Run(fmt.Sprintf("items=%d", n), func(b *testing.B) {
			s := benchDB(b, n)
			tx, err := s.Begin(ctx, false)
			if err != nil {
				b.Fatal(err)
			}
			last, err := tx.LastSeq(ctx)
			tx.Rollback()
			if err != nil {
				b.Fatal(err)
			}
			benchdata.ChangesTail(b, s, last)
		})
	}
}

// benchDB returns a store of n items, generated the first time and kept in
// os.TempDir()/feedsync-bench. The rows are copies of one marshalled item
// with its id rewritten, inserted with bulkInsert: 1M items take seconds
// instead of the minutes Create and Put would.
func benchDB(b *testing.B, n int) store.Store {
	b.Helper()
	ctx := context.Background()
	dir := filepath.Join(os.TempDir(), "feedsync-bench")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		b.Fatal(err)
	}
	// The name carries a hash of the migrations, so a changed schema makes
	// a new database rather than reusing a stale one.
	sum := sha256.Sum256([]byte(strings.Join(migrations, "\n")))
	path := filepath.Join(dir, fmt.Sprintf("sqlite-%x-%d.db", sum[:6], n))
	done := path + ".done"
	if _, err := os.Stat(done); err != nil {
		os.Remove(path)
		os.Remove(path + "-wal")
		os.Remove(path + "-shm")
		s, err := Open(ctx, path, Options{})
		if err != nil {
			b.Fatal(err)
		}
		if err := fill(ctx, s, n); err != nil {
			b.Fatal(err)
		}
		if err := s.Close(); err != nil {
			b.Fatal(err)
		}
		if err := os.WriteFile(done, nil, 0o644); err != nil {
			b.Fatal(err)
		}
	}
	s, err := Open(ctx, path, Options{})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { s.Close() })
	return s
}

// fill inserts n items made from one template, in chunks of 100k rows.
func fill(ctx context.Context, s *Store, n int) error {
	const chunk = 100_000
	rows := make([]itemrow.Row, 0, chunk)
	for start := 0; start < n; start += chunk {
		rows = rows[:0]
		err := benchdata.Clones(start, min(n, start+chunk), func(_ int64, r itemrow.Row) error {
			rows = append(rows, r)
			return nil
		})
		if err != nil {
			return err
		}
		if err := bulkInsert(ctx, s, rows, int64(start)); err != nil {
			return err
		}
	}
	return nil
}
