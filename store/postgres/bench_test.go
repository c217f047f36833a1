package postgres

import (
	"context"
	"fmt"
	"testing"

	"github.com/feedsync/go-feedsync/store"
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

func BenchmarkPut(b *testing.B) { putBench(b).Put(b) }

// BenchmarkPutRatio runs store, merge and bulk one after the other in each
// iteration (benchdata.PutBench.Ratio).
func BenchmarkPutRatio(b *testing.B) { putBench(b).Ratio(b) }

func putBench(b *testing.B) benchdata.PutBench {
	dsn := testDSN(b)
	return benchdata.PutBench{
		Open: func(b *testing.B) store.Store {
			b.Helper()
			s, err := Open(context.Background(), dsn, Options{Schema: newSchema(b, dsn)})
			if err != nil {
				b.Fatal(err)
			}
			b.Cleanup(func() { s.Close() })
			return s
		},
		Bulk: func(ctx context.Context, s store.Store, rows []itemrow.Row) error {
			return bulkInsert(ctx, s.(*Store), rows)
		},
	}
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
			benchdata.ChangesTail(b, s, int64(n))
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
