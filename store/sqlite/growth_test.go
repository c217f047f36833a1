package sqlite

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/beevik/etree"

	"github.com/feedsync/go-feedsync/feedsync"
	"github.com/feedsync/go-feedsync/producer"
	"github.com/feedsync/go-feedsync/store"
)

// TestChurnGrowth is the growth check of retention (FS-RETAIN-1,
// FS-PURGE-1..4, FS-DELETE-2), opt-in because it runs many windows:
//
//	FEEDSYNC_LONG=1 go test -run TestChurnGrowth -v ./store/sqlite/
//
// Two stores get the same steady churn for many simulated retention
// windows: each window creates items, edits some of them, and deletes the
// items made the window before; a subscriber syncs once per window. One
// store is compacted at the end of every window with the window as
// retention ("compacted"), the other never ("kept"). It logs, per window,
// the database size (after a WAL checkpoint, free pages excluded), the item
// count, and the bytes of the subscriber's incremental feed and of the
// complete feed, then the ratios between the last and the first windows
// after warm-up (and of the incremental feed's time, best of 5 per window,
// for information: timings are never asserted). The compacted store must stay flat: a late window within
// 1.25x of an early one (sizes are deterministic, not timings); the kept
// store grows with every window.
func TestChurnGrowth(t *testing.T) {
	if os.Getenv("FEEDSYNC_LONG") == "" {
		t.Skip("opt-in: set FEEDSYNC_LONG=1")
	}
	const (
		windows  = 40
		perWin   = 250 // items created (and later deleted) per window
		edits    = 3   // updates of each item during its life
		warmup   = 4   // windows before the first measured one
		window   = 24 * time.Hour
		maxRatio = 1.25
	)
	ctx := context.Background()
	t0 := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	type stats struct {
		size, items, incr, full int64
		incrTime                time.Duration
	}
	run := func(compact bool) []stats {
		s, err := Open(ctx, filepath.Join(t.TempDir(), "churn.db"), Options{})
		if err != nil {
			t.Fatal(err)
		}
		defer s.Close()
		var out []stats
		var token producer.Token
		for w := range windows {
			now := t0.Add(time.Duration(w) * window)
			tx, err := s.Begin(ctx, true)
			if err != nil {
				t.Fatal(err)
			}
			for i := range perWin {
				id := fmt.Sprintf("w%d-%d", w, i)
				e := etree.NewElement("item")
				e.CreateElement("title").SetText(id)
				e.CreateElement("description").SetText(fmt.Sprintf("%0400d", i))
				it, err := feedsync.Create(feedsync.RSS, e, id, feedsync.Stamp{By: "writer", When: now}, false)
				if err != nil {
					t.Fatal(err)
				}
				for k := range edits {
					by := []string{"laptop", "phone", "tablet"}[k%3]
					if it, err = feedsync.Update(it, nil, feedsync.Stamp{By: by, When: now.Add(time.Duration(k+1) * time.Minute)}); err != nil {
						t.Fatal(err)
					}
				}
				if _, err := tx.Put(ctx, it); err != nil {
					t.Fatal(err)
				}
				if w == 0 {
					continue
				}
				old, err := tx.Get(ctx, fmt.Sprintf("w%d-%d", w-1, i))
				if err != nil {
					t.Fatal(err)
				}
				gone, err := feedsync.Delete(old, feedsync.Stamp{By: "writer", When: now.Add(time.Hour)})
				if err != nil {
					t.Fatal(err)
				}
				if _, err := tx.Put(ctx, gone); err != nil {
					t.Fatal(err)
				}
			}
			if err := tx.Commit(); err != nil {
				t.Fatal(err)
			}
			// The subscriber's incremental feed of this window.
			var st stats
			rtx, err := s.Begin(ctx, false)
			if err != nil {
				t.Fatal(err)
			}
			// Timed as the best of 5 runs: one run on a shared machine
			// measures the machine.
			var buf bytes.Buffer
			next := token
			for r := range 5 {
				buf.Reset()
				start := time.Now()
				if token.IsZero() {
					next, err = producer.Full(ctx, rtx, s.ID(), io.Discard, producer.Options{})
				} else {
					next, err = producer.Incremental(ctx, rtx, token, &buf, producer.Options{})
				}
				if d := time.Since(start); r == 0 || d < st.incrTime {
					st.incrTime = d
				}
				if err != nil {
					t.Fatal(err)
				}
			}
			token = next
			st.incr = int64(buf.Len())
			var full countWriter
			if _, err := producer.Full(ctx, rtx, s.ID(), &full, producer.Options{}); err != nil {
				t.Fatal(err)
			}
			st.full = full.n
			n, err := rtx.Count(ctx)
			if err != nil {
				t.Fatal(err)
			}
			st.items = int64(n)
			rtx.Rollback()
			if compact {
				if _, err := store.Compact(ctx, s, store.CompactOptions{Retain: window, Now: func() time.Time { return now.Add(window - time.Minute) }}); err != nil {
					t.Fatal(err)
				}
			}
			if st.size, err = s.usedBytes(ctx); err != nil {
				t.Fatal(err)
			}
			out = append(out, st)
		}
		return out
	}
	kept := run(false)
	compacted := run(true)
	t.Logf("%6s | %28s | %28s", "", "compacted", "kept")
	t.Logf("%6s | %8s %6s %6s %6s | %8s %6s %6s %6s", "window", "db KiB", "items", "incr", "full", "db KiB", "items", "incr", "full")
	for w := range windows {
		c, k := compacted[w], kept[w]
		t.Logf("%6d | %8d %6d %5dK %5dK | %8d %6d %5dK %5dK", w, c.size>>10, c.items, c.incr>>10, c.full>>10, k.size>>10, k.items, k.incr>>10, k.full>>10)
	}
	ratio := func(s []stats, f func(stats) int64) float64 {
		early, late := int64(0), int64(0)
		for _, x := range s[warmup : warmup+5] {
			early += f(x)
		}
		for _, x := range s[windows-5:] {
			late += f(x)
		}
		return float64(late) / float64(early)
	}
	timeRatio := func(s []stats) float64 {
		var early, late time.Duration
		for _, x := range s[warmup : warmup+5] {
			early += x.incrTime
		}
		for _, x := range s[windows-5:] {
			late += x.incrTime
		}
		return float64(late) / float64(early)
	}
	size := func(s stats) int64 { return s.size }
	items := func(s stats) int64 { return s.items }
	incr := func(s stats) int64 { return s.incr }
	full := func(s stats) int64 { return s.full }
	t.Logf("late/early (windows %d-%d vs %d-%d): compacted: size %.2f, items %.2f, incremental feed bytes %.2f (time %.2f), complete feed %.2f",
		windows-5, windows-1, warmup, warmup+4, ratio(compacted, size), ratio(compacted, items), ratio(compacted, incr), timeRatio(compacted), ratio(compacted, full))
	t.Logf("late/early: kept: size %.2f, items %.2f, incremental feed bytes %.2f (time %.2f), complete feed %.2f",
		ratio(kept, size), ratio(kept, items), ratio(kept, incr), timeRatio(kept), ratio(kept, full))
	for name, f := range map[string]func(stats) int64{"size": size, "items": items, "incremental feed": incr, "complete feed": full} {
		if r := ratio(compacted, f); r > maxRatio {
			t.Errorf("compacted store: %s grew %.2fx from early to late windows, want at most %.2fx", name, r, maxRatio)
		}
	}
	if r := ratio(kept, size); r < 2 {
		t.Errorf("the store without compaction grew only %.2fx: the churn does not show what compaction bounds", r)
	}
}

// usedBytes returns the database's size without free pages, after a WAL
// checkpoint: what the data takes, which a VACUUM would leave.
func (s *Store) usedBytes(ctx context.Context) (int64, error) {
	if _, err := s.db.ExecContext(ctx, `PRAGMA wal_checkpoint(TRUNCATE)`); err != nil {
		return 0, err
	}
	var pages, free, size int64
	for q, v := range map[string]*int64{`PRAGMA page_count`: &pages, `PRAGMA freelist_count`: &free, `PRAGMA page_size`: &size} {
		if err := s.db.QueryRowContext(ctx, q).Scan(v); err != nil {
			return 0, err
		}
	}
	return (pages - free) * size, nil
}

// countWriter counts the bytes written to it.
type countWriter struct{ n int64 }

func (w *countWriter) Write(p []byte) (int, error) {
	w.n += int64(len(p))
	return len(p), nil
}
