package postgres

import (
	"context"
	"fmt"
	"runtime"
	"testing"
	"time"

	"github.com/feedsync/go-feedsync/store/internal/benchdata"
	"github.com/feedsync/go-feedsync/store/internal/itemrow"
	"github.com/jackc/pgx/v5"
)

// Benchmarks of what the project's targets are about (they need
// FEEDSYNC_TEST_POSTGRES, like the tests):
//
//   - BenchmarkPut: 100k items (read from a feed, as a consumer gets them)
//     put in one transaction through the store ("store") against a plain
//     bulk insert of the same rows into the same table ("bulk": raw INSERTs
//     with one prepared statement in one transaction, rows computed
//     beforehand). Compare their items/s. "merge" and "remerge" time a
//     consumer's work per item (Get, MergeItem, Put, SetPeerVersion).
//   - BenchmarkPutRatio: the same, store, merge and bulk in turn in each
//     iteration, reporting the rate ratios (paired runs, for a machine
//     whose load drifts).
//   - BenchmarkChanges: Changes after LastSeq-10 (an incremental feed of
//     the last 10 changes) in stores of 1k and 100k items. Compare ns/op.
//
// Each run works in schemas of its own, dropped afterwards.
//
// Run: go test -run '^$' -bench . -benchmem ./store/postgres/

func BenchmarkPut(b *testing.B) {
	dsn := testDSN(b)
	ctx := context.Background()
	all := benchdata.Items(benchdata.N)
	open := func(b *testing.B) *Store {
		b.Helper()
		s, err := Open(ctx, dsn, Options{Schema: newSchema(b, dsn)})
		if err != nil {
			b.Fatal(err)
		}
		b.Cleanup(func() { s.Close() })
		return s
	}
	b.Run("store", func(b *testing.B) {
		runtime.GC() // do not bill this run for the garbage of the last
		for b.Loop() {
			b.StopTimer()
			s := open(b)
			b.StartTimer()
			tx, err := s.Begin(ctx, true)
			if err != nil {
				b.Fatal(err)
			}
			for _, it := range all {
				if _, err := tx.Put(ctx, it); err != nil {
					b.Fatal(err)
				}
			}
			if err := tx.Commit(); err != nil {
				b.Fatal(err)
			}
		}
		b.ReportMetric(float64(len(all)*b.N)/b.Elapsed().Seconds(), "items/s")
	})
	// merge and remerge time what a consumer does per incoming item (Get,
	// MergeItem, Put if changed, SetPeerVersion) for a feed of new items
	// into an empty store, and for the same feed again (nothing changes).
	merge := func(b *testing.B, s *Store, wantPuts int) {
		b.Helper()
		tx, err := s.Begin(ctx, true)
		if err != nil {
			b.Fatal(err)
		}
		defer tx.Rollback()
		puts, err := benchdata.Merge(ctx, tx, "https://peer.example/feed", all)
		if err != nil {
			b.Fatal(err)
		}
		if puts != wantPuts {
			b.Fatalf("merge put %d items, want %d", puts, wantPuts)
		}
		if err := tx.Commit(); err != nil {
			b.Fatal(err)
		}
	}
	b.Run("merge", func(b *testing.B) {
		runtime.GC()
		for b.Loop() {
			b.StopTimer()
			s := open(b)
			b.StartTimer()
			merge(b, s, len(all))
		}
		b.ReportMetric(float64(len(all)*b.N)/b.Elapsed().Seconds(), "items/s")
	})
	b.Run("remerge", func(b *testing.B) {
		s := open(b)
		merge(b, s, len(all))
		runtime.GC()
		b.ResetTimer()
		for b.Loop() {
			merge(b, s, 0)
		}
		b.ReportMetric(float64(len(all)*b.N)/b.Elapsed().Seconds(), "items/s")
	})
	b.Run("bulk", func(b *testing.B) {
		rows, err := benchdata.Rows(all)
		if err != nil {
			b.Fatal(err)
		}
		b.ResetTimer()
		runtime.GC() // do not bill this run for the garbage of the last
		for b.Loop() {
			b.StopTimer()
			s := open(b)
			b.StartTimer()
			if err := bulkInsert(ctx, s, rows); err != nil {
				b.Fatal(err)
			}
		}
		b.ReportMetric(float64(len(all)*b.N)/b.Elapsed().Seconds(), "items/s")
	})
}

// BenchmarkPutRatio runs store, merge and bulk one after the other in each
// iteration, on fresh databases, and reports the rate ratios of the
// iterations together: on a shared machine whose load drifts, paired
// runs compare better than separate benchmarks.
func BenchmarkPutRatio(b *testing.B) {
	ctx := context.Background()
	all := benchdata.Items(benchdata.N)
	rows, err := benchdata.Rows(all)
	if err != nil {
		b.Fatal(err)
	}
	dsn := testDSN(b)
	open := func(b *testing.B) *Store {
		b.Helper()
		s, err := Open(ctx, dsn, Options{Schema: newSchema(b, dsn)})
		if err != nil {
			b.Fatal(err)
		}
		b.Cleanup(func() { s.Close() })
		return s
	}
	timed := func(fn func(s *Store) error) time.Duration {
		s := open(b)
		runtime.GC()
		start := time.Now()
		if err := fn(s); err != nil {
			b.Fatal(err)
		}
		return time.Since(start)
	}
	var storeT, mergeT, bulkT time.Duration
	for b.Loop() {
		storeT += timed(func(s *Store) error {
			tx, err := s.Begin(ctx, true)
			if err != nil {
				return err
			}
			defer tx.Rollback()
			for _, it := range all {
				if _, err := tx.Put(ctx, it); err != nil {
					return err
				}
			}
			return tx.Commit()
		})
		mergeT += timed(func(s *Store) error {
			tx, err := s.Begin(ctx, true)
			if err != nil {
				return err
			}
			defer tx.Rollback()
			if _, err := benchdata.Merge(ctx, tx, "https://peer.example/feed", all); err != nil {
				return err
			}
			return tx.Commit()
		})
		bulkT += timed(func(s *Store) error { return bulkInsert(ctx, s, rows) })
	}
	b.ReportMetric(bulkT.Seconds()/storeT.Seconds(), "store/bulk")
	b.ReportMetric(bulkT.Seconds()/mergeT.Seconds(), "merge/bulk")
}

// bulkInsert inserts rows (seqs 1…) with raw SQL: one prepared INSERT
// executed per row in one transaction.
func bulkInsert(ctx context.Context, s *Store, rows []itemrow.Row) error {
	tx, err := s.pool.Begin(ctx)
	if err != nil {
		return err
	}
	defer tx.Rollback(ctx)
	if _, err := tx.Prepare(ctx, "bulk", `INSERT INTO feedsync_items (seq, id, updates, deleted, top_by, top_seq, top_when, digest, conflicts, conflicts_digest, xml)
VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)`); err != nil {
		return err
	}
	for i, r := range rows {
		v := r.Version
		if _, err := tx.Exec(ctx, "bulk", int64(i)+1, r.ID, r.Updates, r.Deleted, v.Top.By, v.Top.Sequence, timeOrNil(v.Top.When),
			r.Digest[:], r.Conflicts, v.Conflicts, r.Data); err != nil {
			return err
		}
	}
	if _, err := tx.Exec(ctx, qSetSeq, int64(len(rows))); err != nil {
		return err
	}
	return tx.Commit(ctx)
}

func BenchmarkChanges(b *testing.B) {
	dsn := testDSN(b)
	ctx := context.Background()
	for _, n := range []int{1_000, 100_000} {
		b.Run(fmt.Sprintf("items=%d", n), func(b *testing.B) {
			s, err := Open(ctx, dsn, Options{Schema: newSchema(b, dsn)})
			if err != nil {
				b.Fatal(err)
			}
			defer s.Close()
			if err := fill(ctx, s, n); err != nil {
				b.Fatal(err)
			}
			last := int64(n)
			b.ResetTimer()
			runtime.GC() // do not bill this run for the garbage of the last
			for b.Loop() {
				tx, err := s.Begin(ctx, false)
				if err != nil {
					b.Fatal(err)
				}
				got := 0
				for c, err := range tx.Changes(ctx, last-10) {
					if err != nil {
						b.Fatal(err)
					}
					if c.Item.Sync == nil {
						b.Fatal("item without sync")
					}
					got++
				}
				tx.Rollback()
				if got != 10 {
					b.Fatalf("got %d changes, want 10", got)
				}
			}
		})
	}
}

// fill copies n template items into the store (COPY), then analyses the
// table so the planner knows its size.
func fill(ctx context.Context, s *Store, n int) error {
	var rows [][]any
	err := benchdata.Clones(0, n, func(seq int64, r itemrow.Row) error {
		v := r.Version
		rows = append(rows, []any{seq, r.ID, r.Updates, r.Deleted, v.Top.By, v.Top.Sequence, timeOrNil(v.Top.When), r.Digest[:], r.Conflicts, v.Conflicts, r.Data})
		return nil
	})
	if err != nil {
		return err
	}
	cols := []string{"seq", "id", "updates", "deleted", "top_by", "top_seq", "top_when", "digest", "conflicts", "conflicts_digest", "xml"}
	if _, err := s.pool.CopyFrom(ctx, pgx.Identifier{"feedsync_items"}, cols, pgx.CopyFromRows(rows)); err != nil {
		return err
	}
	if _, err := s.pool.Exec(ctx, qSetSeq, int64(n)); err != nil {
		return err
	}
	_, err = s.pool.Exec(ctx, `ANALYZE feedsync_items`)
	return err
}
