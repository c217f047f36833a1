package producer_test

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/feedsync/go-feedsync/feedsync"
	"github.com/feedsync/go-feedsync/producer"
	"github.com/feedsync/go-feedsync/store"
	"github.com/feedsync/go-feedsync/store/sqlite"
)

// BenchmarkIncremental writes the partial feed of the last 10 changes, for a
// peer (so each change also costs a PeerVersion lookup, echo suppression),
// from SQLite stores of 1k and 1M items. The cost must grow with the number
// of changes, not of items (FS-FEED-1, store.ChangeReader): compare ns/op
// across sizes; the target is 1M within 2x of 1k.
//
// The stores are built once per run of the test binary, in a temporary
// directory removed by TestMain: the 1M store takes a minute or two (one
// transaction of Puts).
//
// Run: go test -run '^$' -bench Incremental -benchmem -count 5 ./producer/
func BenchmarkIncremental(b *testing.B) {
	ctx := context.Background()
	for _, n := range []int{1_000, 1_000_000} {
		b.Run(fmt.Sprintf("items=%d", n), func(b *testing.B) {
			db := benchStore(b, n)
			var buf bytes.Buffer
			withTx(b, db.st, false, func(tx store.Tx) {
				if _, err := producer.Incremental(ctx, tx, db.since, &buf, producer.Options{Peer: "phone"}); err != nil {
					b.Fatal(err)
				}
			})
			if f := read(b, buf.Bytes()); len(f.IDs) != 10 {
				b.Fatalf("the feed holds %d items, want 10", len(f.IDs))
			}
			for b.Loop() {
				tx, err := db.st.Begin(ctx, false)
				if err != nil {
					b.Fatal(err)
				}
				_, err = producer.Incremental(ctx, tx, db.since, io.Discard, producer.Options{Peer: "phone"})
				tx.Rollback()
				if err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// benchDB is a store built for the benchmarks and the token of its last 10
// changes.
type benchDB struct {
	st    store.Store
	since producer.Token
	err   error
}

var (
	benchMu  sync.Mutex
	benchDir string
	benchDBs = map[int]*benchDB{}
)

// TestMain removes the benchmark stores when the test binary ends.
func TestMain(m *testing.M) {
	code := m.Run()
	benchMu.Lock()
	for _, db := range benchDBs {
		if db.st != nil {
			db.st.Close()
		}
	}
	if benchDir != "" {
		os.RemoveAll(benchDir)
	}
	benchMu.Unlock()
	os.Exit(code)
}

// benchStore returns an SQLite store of n items whose last 10 changes are
// updates of 10 of them, built the first time it is asked for.
func benchStore(b *testing.B, n int) *benchDB {
	b.Helper()
	benchMu.Lock()
	defer benchMu.Unlock()
	db, ok := benchDBs[n]
	if !ok {
		db = buildStore(n)
		benchDBs[n] = db
	}
	if db.err != nil {
		b.Fatal(db.err)
	}
	return db
}

func buildStore(n int) *benchDB {
	ctx := context.Background()
	db := &benchDB{}
	if benchDir == "" {
		if benchDir, db.err = os.MkdirTemp("", "feedsync-producer-bench-"); db.err != nil {
			return db
		}
	}
	s, err := sqlite.Open(ctx, filepath.Join(benchDir, fmt.Sprintf("items-%d.db", n)), sqlite.Options{})
	if err != nil {
		db.err = err
		return db
	}
	db.st = s
	// The fast path: the items are copies of one standalone item with the
	// id replaced, read back with UnmarshalItem, all put in one
	// transaction.
	when := time.Date(2009, 4, 2, 8, 0, 0, 0, time.UTC)
	tmpl, err := feedsync.Create(feedsync.Atom, entry("Task: buy stamps and postcards"), "bench-0000000", feedsync.Stamp{By: "laptop", When: when}, false)
	if err == nil {
		tmpl, err = feedsync.Update(tmpl, nil, feedsync.Stamp{By: "phone", When: when.Add(time.Hour)})
	}
	var xml []byte
	if err == nil {
		xml, err = feedsync.MarshalItem(tmpl)
	}
	if err != nil {
		db.err = err
		return db
	}
	item := func(i int) (*feedsync.Item, error) {
		return feedsync.UnmarshalItem(bytes.Replace(xml, []byte("bench-0000000"), fmt.Appendf(nil, "bench-%07d", i), 1))
	}
	db.err = func() error {
		tx, err := s.Begin(ctx, true)
		if err != nil {
			return err
		}
		defer tx.Rollback()
		for i := range n {
			it, err := item(i)
			if err != nil {
				return err
			}
			if _, err := tx.Put(ctx, it); err != nil {
				return err
			}
		}
		if err := tx.Commit(); err != nil {
			return err
		}
		// The last 10 changes: updates spread over the store.
		tx, err = s.Begin(ctx, true)
		if err != nil {
			return err
		}
		defer tx.Rollback()
		last, err := tx.LastSeq(ctx)
		if err != nil {
			return err
		}
		db.since = producer.Token{Store: s.ID(), Seq: last}
		for k := range 10 {
			it, err := item(k * n / 10)
			if err == nil {
				it, err = feedsync.Update(it, nil, feedsync.Stamp{By: "tablet", When: when.Add(2 * time.Hour)})
			}
			if err != nil {
				return err
			}
			if _, err := tx.Put(ctx, it); err != nil {
				return err
			}
		}
		return tx.Commit()
	}()
	return db
}

// BenchmarkIncrementalRatio measures the same as BenchmarkIncremental with
// the two sizes interleaved: each iteration writes the feed from the 1k store
// and then from the 1M store, and the benchmark reports each one's time per
// feed and their ratio, 1M over 1k, which load changes on the machine affect
// alike.
//
// Run: go test -run '^$' -bench IncrementalRatio -count 5 ./producer/
func BenchmarkIncrementalRatio(b *testing.B) {
	ctx := context.Background()
	small, large := benchStore(b, 1_000), benchStore(b, 1_000_000)
	var ts, tl time.Duration
	feed := func(db *benchDB) time.Duration {
		start := time.Now()
		tx, err := db.st.Begin(ctx, false)
		if err != nil {
			b.Fatal(err)
		}
		_, err = producer.Incremental(ctx, tx, db.since, io.Discard, producer.Options{Peer: "phone"})
		tx.Rollback()
		if err != nil {
			b.Fatal(err)
		}
		return time.Since(start)
	}
	for b.Loop() {
		ts += feed(small)
		tl += feed(large)
	}
	b.ReportMetric(float64(ts.Nanoseconds())/float64(b.N), "ns/feed-1k")
	b.ReportMetric(float64(tl.Nanoseconds())/float64(b.N), "ns/feed-1M")
	b.ReportMetric(tl.Seconds()/ts.Seconds(), "1M/1k")
}
