package benchdata

import (
	"context"
	"fmt"
	"runtime"
	"testing"
	"time"

	"github.com/feedsync/go-feedsync/feedsync"
	"github.com/feedsync/go-feedsync/store"
	"github.com/feedsync/go-feedsync/store/internal/itemrow"
)

// PutBench is what BenchmarkPut and BenchmarkPutRatio of a database store
// compare: N items put in one transaction through the store ("store"), a
// consumer's work per item ("merge" into an empty store, "remerge" of the
// same feed again: Get, MergeItem, Put if changed, SetPeerVersion), and a
// plain bulk insert of the same rows into the same table ("bulk").
type PutBench struct {
	// Open returns a new, empty store, closed when b ends.
	Open func(b *testing.B) store.Store
	// Bulk inserts rows, with seqs 1…, into the items table of s (new,
	// from Open) with raw SQL: one prepared INSERT in one transaction.
	Bulk func(ctx context.Context, s store.Store, rows []itemrow.Row) error
}

// putAll puts items in one transaction of s.
func putAll(ctx context.Context, s store.Store, items []*feedsync.Item) error {
	tx, err := s.Begin(ctx, true)
	if err != nil {
		return err
	}
	defer tx.Rollback()
	for _, it := range items {
		if _, err := tx.Put(ctx, it); err != nil {
			return err
		}
	}
	return tx.Commit()
}

// merge runs Merge of items from a peer in one transaction of s, and
// reports how many items it put.
func merge(ctx context.Context, s store.Store, items []*feedsync.Item) (int, error) {
	tx, err := s.Begin(ctx, true)
	if err != nil {
		return 0, err
	}
	defer tx.Rollback()
	puts, err := Merge(ctx, tx, "https://peer.example/feed", items)
	if err != nil {
		return puts, err
	}
	return puts, tx.Commit()
}

// Put runs the sub-benchmarks store, merge, remerge and bulk, each
// reporting items/s.
func (p PutBench) Put(b *testing.B) {
	ctx := context.Background()
	all := Items(N)
	perSecond := func(b *testing.B) {
		b.ReportMetric(float64(len(all)*b.N)/b.Elapsed().Seconds(), "items/s")
	}
	// fresh times fn on a new store each iteration.
	fresh := func(fn func(s store.Store) error) func(b *testing.B) {
		return func(b *testing.B) {
			runtime.GC() // do not bill this run for the garbage of the last
			for b.Loop() {
				b.StopTimer()
				s := p.Open(b)
				b.StartTimer()
				if err := fn(s); err != nil {
					b.Fatal(err)
				}
			}
			perSecond(b)
		}
	}
	b.Run("store", fresh(func(s store.Store) error { return putAll(ctx, s, all) }))
	b.Run("merge", fresh(func(s store.Store) error { return mergeWant(ctx, s, all, len(all)) }))
	b.Run("remerge", func(b *testing.B) {
		s := p.Open(b)
		if err := mergeWant(ctx, s, all, len(all)); err != nil {
			b.Fatal(err)
		}
		runtime.GC()
		b.ResetTimer()
		for b.Loop() {
			if err := mergeWant(ctx, s, all, 0); err != nil {
				b.Fatal(err)
			}
		}
		perSecond(b)
	})
	b.Run("bulk", func(b *testing.B) {
		rows, err := Rows(all)
		if err != nil {
			b.Fatal(err)
		}
		fresh(func(s store.Store) error { return p.Bulk(ctx, s, rows) })(b)
	})
}

// mergeWant is merge, failing unless it put want items.
func mergeWant(ctx context.Context, s store.Store, items []*feedsync.Item, want int) error {
	puts, err := merge(ctx, s, items)
	if err == nil && puts != want {
		err = fmt.Errorf("merge put %d items, want %d", puts, want)
	}
	return err
}

// Ratio runs store, merge and bulk one after the other in each iteration,
// on new stores, and reports the rate ratios of the iterations together
// (store/bulk, merge/bulk): on a shared machine whose load drifts, paired
// runs compare better than separate benchmarks.
func (p PutBench) Ratio(b *testing.B) {
	ctx := context.Background()
	all := Items(N)
	rows, err := Rows(all)
	if err != nil {
		b.Fatal(err)
	}
	timed := func(fn func(s store.Store) error) time.Duration {
		s := p.Open(b)
		runtime.GC()
		start := time.Now()
		if err := fn(s); err != nil {
			b.Fatal(err)
		}
		return time.Since(start)
	}
	var storeT, mergeT, bulkT time.Duration
	for b.Loop() {
		storeT += timed(func(s store.Store) error { return putAll(ctx, s, all) })
		mergeT += timed(func(s store.Store) error { _, err := merge(ctx, s, all); return err })
		bulkT += timed(func(s store.Store) error { return p.Bulk(ctx, s, rows) })
	}
	b.ReportMetric(bulkT.Seconds()/storeT.Seconds(), "store/bulk")
	b.ReportMetric(bulkT.Seconds()/mergeT.Seconds(), "merge/bulk")
}

// ChangesTail times Changes after last-10, the incremental feed of the
// last 10 changes of s, whose last change is last; it reports nothing but
// the time, which should not grow with the size of s.
func ChangesTail(b *testing.B, s store.Store, last int64) {
	ctx := context.Background()
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
}
