package httpfeed_test

import (
	"bytes"
	"context"
	"fmt"
	"net"
	"net/http"
	"runtime"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/feedsync/go-feedsync/feedsync"
	"github.com/feedsync/go-feedsync/httpfeed"
	"github.com/feedsync/go-feedsync/store"
)

// BenchmarkFarmPropagation measures how long a change POSTed to one of
// three servers peering in a loop (P1→P2→P3→P1, each with a SQLite store
// of its own, httpfeed.Peer links, on loopback) takes to reach a
// long-polling client of each of the others: p50 and p99 over b.N changes,
// in milliseconds. (With 30 s polling instead, a client notices a change
// 15 s after it lands on average, and a link that polls adds as much per
// hop.)
func BenchmarkFarmPropagation(b *testing.B) {
	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	defer wg.Wait()
	defer cancel()
	stores := []store.Store{newSQLite(b), newSQLite(b), newSQLite(b)}
	urls := make([]string, 3)
	for i, st := range stores {
		urls[i] = newServer(b, &httpfeed.Handler{Store: st}).URL
	}
	for i, st := range stores {
		p := &httpfeed.Peer{
			Client:   &httpfeed.Client{URL: urls[(i+1)%3], Peer: fmt.Sprintf("p%d", i+1)},
			Store:    st,
			Interval: time.Minute,
		}
		wg.Go(func() { p.Run(ctx) })
	}

	// A long-polling client at P2 and at P3 records when each item
	// reaches it.
	var mu sync.Mutex
	arrived := map[string][]time.Time{}
	cond := sync.NewCond(&mu)
	for _, u := range urls[1:] {
		c := &httpfeed.Client{URL: u, Peer: "watcher"}
		wg.Go(func() {
			token := ""
			for ctx.Err() == nil {
				if token != "" {
					if changed, _, err := c.Wait(ctx, token, 30*time.Second); err != nil || !changed {
						continue
					}
				}
				resp, err := c.Get(ctx, token, "")
				if err != nil {
					continue
				}
				_, items, err := feedsync.ReadAll(resp.Body)
				resp.Body.Close()
				if err != nil {
					continue
				}
				now := time.Now()
				mu.Lock()
				for _, it := range items {
					arrived[it.ID()] = append(arrived[it.ID()], now)
				}
				cond.Broadcast()
				mu.Unlock()
				token = resp.Token
			}
		})
	}

	var lat []float64
	writer := &http.Client{Timeout: 30 * time.Second}
	b.ResetTimer()
	for i := range b.N {
		id := fmt.Sprintf("chg-%d", i)
		it := create(id, "writer", i)
		var buf bytes.Buffer
		if err := feedsync.WriteAll(&buf, feedsync.NewHeader(feedsync.RSS, feedsync.FeedInfo{}), []*feedsync.Item{it}); err != nil {
			b.Fatal(err)
		}
		req, _ := http.NewRequest("POST", urls[0], &buf)
		req.Header.Set(httpfeed.HeaderPeer, "writer")
		start := time.Now()
		resp, err := writer.Do(req)
		if err != nil || resp.StatusCode != 200 {
			b.Fatalf("POST: %v %v", resp, err)
		}
		resp.Body.Close()
		deadline := time.AfterFunc(30*time.Second, func() { mu.Lock(); cond.Broadcast(); mu.Unlock() })
		mu.Lock()
		for len(arrived[id]) < 2 && time.Since(start) < 30*time.Second {
			cond.Wait()
		}
		got := arrived[id]
		mu.Unlock()
		deadline.Stop()
		if len(got) < 2 {
			b.Fatalf("change %d reached %d of the 2 watchers in 30s", i, len(got))
		}
		for _, t := range got {
			lat = append(lat, float64(t.Sub(start).Microseconds())/1000)
		}
	}
	b.StopTimer()
	slices.Sort(lat)
	b.ReportMetric(lat[len(lat)/2], "p50-ms")
	b.ReportMetric(lat[len(lat)*99/100], "p99-ms")
	b.ReportMetric(lat[len(lat)-1], "max-ms")
}

// BenchmarkIdleLongPolls measures what 1000 long polls waiting at one
// server (SQLite, loopback) cost: the server's heap and goroutine stacks
// per waiter (each waiter is a bare connection that sent its request,
// with no goroutine nor buffers of its own, so what grows is the
// server's side), and the latency of others' empty polls meanwhile,
// against the same polls with no one waiting.
func BenchmarkIdleLongPolls(b *testing.B) {
	const waiters = 1000
	st := newSQLite(b)
	put(b, st, create("a", "laptop", 1))
	m := &httpfeed.Metrics{}
	srv := newServer(b, &httpfeed.Handler{Store: st, Metrics: m})
	tok := tokenOfB(b, srv.URL)
	poll := func(n int) []float64 {
		c := &http.Client{Timeout: 30 * time.Second}
		var lat []float64
		for range n {
			start := time.Now()
			resp, err := c.Get(srv.URL + "/?since=" + tok)
			if err != nil {
				b.Fatal(err)
			}
			resp.Body.Close()
			lat = append(lat, float64(time.Since(start).Microseconds())/1000)
		}
		slices.Sort(lat)
		return lat
	}
	for b.Loop() {
		idle := poll(500)
		var before, after runtime.MemStats
		runtime.GC()
		runtime.ReadMemStats(&before)
		conns := make([]net.Conn, 0, waiters)
		for range waiters {
			c, err := net.Dial("tcp", srv.Listener.Addr().String())
			if err != nil {
				b.Fatal(err)
			}
			if _, err := fmt.Fprintf(c, "HEAD /?since=%s&wait=60 HTTP/1.1\r\nHost: bench\r\n\r\n", tok); err != nil {
				b.Fatal(err)
			}
			conns = append(conns, c)
		}
		for i := 0; !strings.Contains(metricsText(m), fmt.Sprintf("feedsync_waiting_requests{collection=\"\"} %d", waiters)); i++ {
			if i == 3000 {
				b.Fatal("the waiters did not all arrive")
			}
			time.Sleep(10 * time.Millisecond)
		}
		runtime.GC()
		runtime.ReadMemStats(&after)
		busy := poll(500)
		for _, c := range conns {
			c.Close()
		}
		b.ReportMetric(float64(after.HeapInuse+after.StackInuse-before.HeapInuse-before.StackInuse)/waiters, "bytes/waiter")
		b.ReportMetric(float64(after.StackInuse-before.StackInuse)/waiters, "stack-bytes/waiter")
		b.ReportMetric(idle[len(idle)/2], "idle-p50-ms")
		b.ReportMetric(idle[len(idle)*99/100], "idle-p99-ms")
		b.ReportMetric(busy[len(busy)/2], "with-waiters-p50-ms")
		b.ReportMetric(busy[len(busy)*99/100], "with-waiters-p99-ms")
	}
}

func metricsText(m *httpfeed.Metrics) string {
	var sb strings.Builder
	m.WriteTo(&sb)
	return sb.String()
}

func tokenOfB(b *testing.B, url string) string {
	resp, err := testClient.Get(url)
	if err != nil {
		b.Fatal(err)
	}
	resp.Body.Close()
	return resp.Header.Get(httpfeed.HeaderToken)
}
