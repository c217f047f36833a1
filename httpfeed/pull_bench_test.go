package httpfeed_test

import (
	"context"
	"io"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strconv"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/feedsync/go-feedsync/httpfeed"
	"github.com/feedsync/go-feedsync/store"
	"github.com/feedsync/go-feedsync/store/sqlite"
)

// benchPullN is the number of items of BenchmarkPull; FEEDSYNC_PULL_N sets
// another.
var benchPullN = envInt("FEEDSYNC_PULL_N", 10_000)

// replay answers each request with the response recorded for the same
// method and query, so that a benchmark of the client spends (almost) no
// CPU time on the server side.
type replay struct {
	mu  sync.Mutex
	rec map[string]*httptest.ResponseRecorder
	h   http.Handler // records what it answers while set
}

func (p *replay) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	key := r.Method + " " + r.URL.RawQuery
	p.mu.Lock()
	rec, h := p.rec[key], p.h
	p.mu.Unlock()
	if h != nil {
		rec = httptest.NewRecorder()
		h.ServeHTTP(rec, r)
		p.mu.Lock()
		p.rec[key] = rec
		p.mu.Unlock()
	} else if rec == nil {
		http.Error(w, "not recorded: "+key, http.StatusInternalServerError)
		io.Copy(io.Discard, r.Body)
		return
	}
	io.Copy(io.Discard, r.Body)
	for k, v := range rec.Header() {
		w.Header()[k] = v
	}
	w.WriteHeader(rec.Code)
	w.Write(rec.Body.Bytes())
}

// BenchmarkPull measures the client side of the initial pull of
// benchPullN items of about 1.5 KB into an empty SQLite store, the
// pull scenario of bench/pouchdb: Client.Sync(Pull) against a server that
// replays the answers a Handler gave (gzip-compressed, as on the wire),
// recorded once. Reports items/s and the client store's size on disk per
// item (the database file and what WAL it left).
func BenchmarkPull(b *testing.B) {
	ctx := context.Background()
	server := newSQLite(b)
	rng := rand.New(rand.NewPCG(1, 2))
	for start := 0; start < benchPullN; start += 10_000 {
		tx, err := server.Begin(ctx, true)
		if err != nil {
			b.Fatal(err)
		}
		for i := start; i < min(benchPullN, start+10_000); i++ {
			if _, err := tx.Put(ctx, bigItem("task-"+strconv.Itoa(i), "server", 1, 1100, rng)); err != nil {
				b.Fatal(err)
			}
		}
		if err := tx.Commit(); err != nil {
			b.Fatal(err)
		}
	}
	p := &replay{rec: map[string]*httptest.ResponseRecorder{}, h: &httpfeed.Handler{Store: server}}
	srv := httptest.NewServer(p)
	b.Cleanup(srv.Close)
	pull := func(b *testing.B) (store.Store, string) {
		b.Helper()
		dir := b.TempDir()
		st, err := sqlite.Open(ctx, filepath.Join(dir, "client.db"), sqlite.Options{})
		if err != nil {
			b.Fatal(err)
		}
		c := &httpfeed.Client{URL: srv.URL, Peer: "client"}
		res, err := c.Sync(ctx, st, httpfeed.Pull)
		if err != nil {
			b.Fatal(err)
		}
		if res.Pulled.Added != benchPullN {
			b.Fatalf("pulled %+v, want %d added", res.Pulled, benchPullN)
		}
		return st, dir
	}
	st, _ := pull(b) // records the answers
	st.Close()
	p.h = nil
	b.Run("client", func(b *testing.B) {
		var size int64
		cpu0 := cpuTime(b)
		for b.Loop() {
			st, dir := pull(b)
			b.StopTimer()
			st.Close()
			size = dirSize(b, dir)
			b.StartTimer()
		}
		// The CPU time of the process (user and system, every goroutine:
		// the client's work and the little of the replay), steadier than
		// ns/op on a busy machine.
		b.ReportMetric(float64((cpuTime(b)-cpu0).Nanoseconds())/float64(b.N), "cpu-ns/op")
		b.ReportMetric(float64(benchPullN*b.N)/b.Elapsed().Seconds(), "items/s")
		b.ReportMetric(float64(size)/float64(benchPullN), "disk-B/item")
	})
}

// cpuTime returns the CPU time the process has used so far.
func cpuTime(b *testing.B) time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		b.Fatal(err)
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// dirSize returns the bytes of the files in dir.
func dirSize(b *testing.B, dir string) int64 {
	b.Helper()
	ents, err := os.ReadDir(dir)
	if err != nil {
		b.Fatal(err)
	}
	var n int64
	for _, e := range ents {
		fi, err := e.Info()
		if err != nil {
			b.Fatal(err)
		}
		n += fi.Size()
	}
	return n
}

// BenchmarkPullSummary measures the client side of a pull by versions
// first: a client whose store already holds the server's serverBenchItems
// items, without knowing that the server holds them (the first sync of a
// copy), reads the server's whole summary, compares it with its store and
// records what the server holds, fetching nothing. Client.Sync(Pull)
// against a server that replays recorded answers; between runs the client
// forgets what it learnt (ForgetPeer). cpu-ns/op counts the syncs alone.
func BenchmarkPullSummary(b *testing.B) {
	for _, kind := range []string{"sqlite", "memory", "postgres"} {
		b.Run(kind, func(b *testing.B) {
			ctx := context.Background()
			server := serverBenchStore(b, "memory", serverBenchItems)
			local := serverBenchStore(b, kind, serverBenchItems)
			p := &replay{rec: map[string]*httptest.ResponseRecorder{}, h: &httpfeed.Handler{Store: server}}
			srv := httptest.NewServer(p)
			b.Cleanup(srv.Close)
			c := &httpfeed.Client{URL: srv.URL, Peer: "client", Remote: "server"}
			pull := func(b *testing.B) {
				res, err := c.Sync(ctx, local, httpfeed.Pull)
				if err != nil {
					b.Fatal(err)
				}
				if res.PulledKind != "versions" || res.SummaryReceived != serverBenchItems || res.Pulled.Changed() {
					b.Fatalf("pull: %+v, want a summary of %d lines and nothing to fetch", res, serverBenchItems)
				}
			}
			forget := func(b *testing.B) {
				withTx(b, local, true, func(tx store.Tx) {
					if err := tx.ForgetPeer(ctx, "server"); err != nil {
						b.Fatal(err)
					}
				})
			}
			pull(b) // records the answers
			p.h = nil
			var cpu time.Duration
			for b.Loop() {
				b.StopTimer()
				forget(b)
				b.StartTimer()
				start := cpuTime(b)
				pull(b)
				cpu += cpuTime(b) - start
			}
			b.ReportMetric(float64(cpu.Nanoseconds())/float64(b.N), "cpu-ns/op")
		})
	}
}
