package httpfeed_test

import (
	"bytes"
	"context"
	"net/http"
	"net/http/httptest"
	"slices"
	"strconv"
	"testing"
	"time"

	"github.com/feedsync/go-feedsync/feedsync"
	"github.com/feedsync/go-feedsync/httpfeed"
	"github.com/feedsync/go-feedsync/store"
)

// fill puts n items into st, in batches of one transaction each.
func fill(b *testing.B, st store.Store, n int) {
	b.Helper()
	ctx := context.Background()
	for start := 0; start < n; start += 10_000 {
		tx, err := st.Begin(ctx, true)
		if err != nil {
			b.Fatal(err)
		}
		for i := start; i < min(n, start+10_000); i++ {
			if _, err := tx.Put(ctx, create("item-"+strconv.Itoa(i), "laptop", i%1000)); err != nil {
				b.Fatal(err)
			}
		}
		if err := tx.Commit(); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkIncrementalPoll measures polls of a subscriber that is up to
// date: GET ?since=latest against a store of 100k items, which answers an
// empty incremental feed. The handler runs in process (a ResponseRecorder),
// or behind a loopback server. "head" answers from the head the handler
// remembers (head.go), "read" reads the store for every poll, as before.
func BenchmarkIncrementalPoll(b *testing.B) {
	for _, kind := range []string{"memory", "sqlite"} {
		var st store.Store
		if kind == "memory" {
			st = newMemory(b)
		} else {
			st = newSQLite(b)
		}
		fill(b, st, 100_000)
		for _, mode := range []string{"head", "read"} {
			b.Run(kind+"/"+mode, func(b *testing.B) { benchmarkPoll(b, st, mode == "head") })
		}
	}
}

func benchmarkPoll(b *testing.B, st store.Store, fromHead bool) {
	h := &httpfeed.Handler{Store: st}
	if !fromHead {
		httpfeed.SetHeadMaxAge(h, -1)
	}
	tok := serve(h, newRequest("GET", "/?since=x", nil)).Header().Get(httpfeed.HeaderToken)
	req := newRequest("GET", "/?since="+tok, nil, httpfeed.HeaderPeer, "phone", "Accept-Encoding", "gzip")
	if rec := serve(h, req); rec.Code != 200 || rec.Header().Get(httpfeed.HeaderFeed) != httpfeed.FeedIncremental {
		b.Fatalf("poll: %d %s", rec.Code, rec.Header().Get(httpfeed.HeaderFeed))
	}
	b.Run("serial", func(b *testing.B) {
		start := time.Now()
		for b.Loop() {
			rec := httptest.NewRecorder()
			h.ServeHTTP(rec, req)
			if rec.Code != 200 {
				b.Fatal(rec.Code)
			}
		}
		b.ReportMetric(float64(b.N)/time.Since(start).Seconds(), "polls/s")
	})
	b.Run("parallel", func(b *testing.B) {
		start := time.Now()
		b.RunParallel(func(pb *testing.PB) {
			for pb.Next() {
				rec := httptest.NewRecorder()
				h.ServeHTTP(rec, req)
				if rec.Code != 200 {
					b.Error(rec.Code)
					return
				}
			}
		})
		b.ReportMetric(float64(b.N)/time.Since(start).Seconds(), "polls/s")
	})
	b.Run("loopback", func(b *testing.B) {
		srv := httptest.NewServer(h)
		defer srv.Close()
		client := &http.Client{Timeout: 10 * time.Second}
		start := time.Now()
		for b.Loop() {
			r, err := http.NewRequest("GET", srv.URL+"/?since="+tok, nil)
			if err != nil {
				b.Fatal(err)
			}
			r.Header.Set(httpfeed.HeaderPeer, "phone")
			resp, err := client.Do(r)
			if err != nil {
				b.Fatal(err)
			}
			var buf bytes.Buffer
			buf.ReadFrom(resp.Body)
			resp.Body.Close()
			if resp.StatusCode != 200 {
				b.Fatal(resp.StatusCode)
			}
		}
		b.ReportMetric(float64(b.N)/time.Since(start).Seconds(), "polls/s")
	})
}

// BenchmarkPostMerge measures a POST of 1k changed items into a store of
// 10k: each request carries a new update of the same 1k items by the
// client. It reports latency percentiles of the requests: reading the feed,
// merging each item with the stored one and committing.
func BenchmarkPostMerge(b *testing.B) {
	for _, kind := range []string{"memory", "sqlite"} {
		b.Run(kind, func(b *testing.B) {
			var st store.Store
			if kind == "memory" {
				st = newMemory(b)
			} else {
				st = newSQLite(b)
			}
			fill(b, st, 10_000)
			h := &httpfeed.Handler{Store: st}
			mine := make([]*feedsync.Item, 1000)
			for i := range mine {
				mine[i] = get(b, st, "item-"+strconv.Itoa(i*10))
			}
			var lat []time.Duration
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				b.StopTimer()
				for k, it := range mine {
					// A sparse purge keeps the history at one entry per
					// endpoint (FS-PURGE-1), so every request is the same size.
					mine[k] = feedsync.Purge(update(it, "phone", 2000+i))
				}
				body := feedOf(b, mine...)
				req := newRequest("POST", "/", body, httpfeed.HeaderPeer, "phone")
				rec := httptest.NewRecorder()
				b.StartTimer()
				t0 := time.Now()
				h.ServeHTTP(rec, req)
				lat = append(lat, time.Since(t0))
				if rec.Code != 200 {
					b.Fatalf("POST: %d %s", rec.Code, rec.Body)
				}
			}
			b.StopTimer()
			slices.Sort(lat)
			pct := func(p float64) float64 {
				return float64(lat[min(len(lat)-1, int(p*float64(len(lat))))].Microseconds()) / 1000
			}
			b.ReportMetric(pct(0.50), "p50-ms")
			b.ReportMetric(pct(0.90), "p90-ms")
			b.ReportMetric(pct(0.99), "p99-ms")
		})
	}
}
