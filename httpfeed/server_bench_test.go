package httpfeed_test

import (
	"bytes"
	"cmp"
	"compress/gzip"
	"context"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http/httptest"
	"os"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/feedsync/go-feedsync/feedsync"
	"github.com/feedsync/go-feedsync/httpfeed"
	"github.com/feedsync/go-feedsync/store"
)

// The server side of sync by versions first and of a paged pull, measured
// in process (a ResponseRecorder, no network) against a store of
// serverBenchItems items of about 1.5 KB: what a server spends on one
// client's first two-way sync after a pull-only sync (POST ?versions: the
// client's summary of every item it holds) and on an initial pull (GET
// ?limit pages, GET ?versions pages). Compare runs with benchstat.

// reportCPU reports the CPU time of the process (GC included) per
// operation since start (cpuTime): steadier than ns/op on a busy machine.
func reportCPU(b *testing.B, start time.Duration) {
	b.ReportMetric(float64(cpuTime(b)-start)/float64(b.N), "cpu-ns/op")
}

// serverBenchItems is the size of the store the server benchmarks serve.
const serverBenchItems = 20_000

// benchWords make the payload text: ordinary words, so that it
// compresses as real notes do.
var benchWords = strings.Fields(`the a of to and in for on with at by from up about into over after
task list note parcel stamps post office corner card queue machine back cards airmail postcards
opening hours holidays year meeting project report budget review draft send call email reply
client invoice payment order delivery address street city garden kitchen paint window door roof`)

// benchItem returns item i of the server benchmarks, about 1.5 KB of XML.
func benchItem(i int) *feedsync.Item {
	r := rand.New(rand.NewPCG(uint64(i), 2026))
	var text strings.Builder
	for text.Len() < 1100 {
		if text.Len() > 0 {
			text.WriteByte(' ')
		}
		text.WriteString(benchWords[r.IntN(len(benchWords))])
	}
	id := fmt.Sprintf("task-%07d", i)
	p := rssItem("Task " + strconv.Itoa(i))
	p.SelectElement("description").SetText(text.String())
	return must(feedsync.Create(feedsync.RSS, p, id, stamp("server", i%1000), false))
}

// serverBenchStore returns a store of kind ("sqlite", "memory",
// "postgres" or "postgres-by-item") holding benchItem 0 to n-1, filled
// before the benchmark's loop (b.Loop runs the setup once). The PostgreSQL
// kinds skip without a test server; "postgres-by-item" hides the batch
// methods of its transactions (unbatched), for comparison.
func serverBenchStore(b *testing.B, kind string, n int) store.Store {
	b.Helper()
	var st store.Store
	switch kind {
	case "sqlite":
		st = newSQLite(b)
	case "postgres", "postgres-by-item":
		dsn := postgresDSN(b)
		st = openPostgres(b, dsn, newPostgresSchema(b, dsn))
		if kind == "postgres-by-item" {
			st = unbatched{st}
		}
	default:
		st = newMemory(b)
	}
	ctx := context.Background()
	for start := 0; start < n; start += 10_000 {
		tx, err := st.Begin(ctx, true)
		if err != nil {
			b.Fatal(err)
		}
		for i := start; i < min(n, start+10_000); i++ {
			if _, err := tx.Put(ctx, benchItem(i)); err != nil {
				b.Fatal(err)
			}
		}
		if err := tx.Commit(); err != nil {
			b.Fatal(err)
		}
	}
	return st
}

// unbatched is a store whose transactions are not store.BatchReader or
// store.BatchWriter: store.StatMany and the rest fall back to one call per
// item.
type unbatched struct{ store.Store }

func (u unbatched) Begin(ctx context.Context, writable bool) (store.Tx, error) {
	tx, err := u.Store.Begin(ctx, writable)
	if err != nil {
		return nil, err
	}
	return struct{ store.Tx }{tx}, nil
}

// gzipped returns b gzip-compressed, as Client sends request bodies.
func gzipped(b []byte) []byte {
	var buf bytes.Buffer
	zw, _ := gzip.NewWriterLevel(&buf, gzip.BestSpeed)
	zw.Write(b)
	zw.Close()
	return buf.Bytes()
}

// gunzip returns the body of rec, decompressed if it is gzip.
func gunzip(b *testing.B, rec *httptest.ResponseRecorder) []byte {
	if rec.Header().Get("Content-Encoding") != "gzip" {
		return rec.Body.Bytes()
	}
	zr, err := gzip.NewReader(rec.Body)
	if err != nil {
		b.Fatal(err)
	}
	out, err := io.ReadAll(zr)
	if err != nil {
		b.Fatal(err)
	}
	return out
}

// heldSummary returns the server's summary of every item of h's store
// (GET ?versions, page by page): what a client that pulled them all
// holds. Every 1000th line names a version the server lacks (by
// "client" instead of "server"), as a client's own edits do.
func heldSummary(b *testing.B, h *httpfeed.Handler) []byte {
	var out []byte
	since := ""
	for {
		rec := serve(h, newRequest("GET", "/?versions&since="+since, nil))
		if rec.Code != 200 {
			b.Fatalf("GET ?versions: %d %s", rec.Code, rec.Body)
		}
		out = append(out, rec.Body.Bytes()...)
		since = rec.Header().Get(httpfeed.HeaderToken)
		if rec.Header().Get(httpfeed.HeaderMore) != "true" {
			break
		}
	}
	lines := bytes.SplitAfter(out, []byte("\n"))
	for i := 0; i < len(lines); i += 1000 {
		lines[i] = bytes.Replace(lines[i], []byte(`["server",`), []byte(`["client",`), 1)
	}
	return bytes.Join(lines, nil)
}

// BenchmarkServeHeld measures POST ?versions: the first summary a client
// sends after a pull-only sync, every item it holds, gzip-compressed as
// Client sends it, from a named peer (the server forgets what it knew of
// the peer, compares each line with its store, records the version the
// peer holds and answers the ids it lacks).
func BenchmarkServeHeld(b *testing.B) {
	for _, kind := range []string{"sqlite", "memory", "postgres", "postgres-by-item"} {
		b.Run(kind, func(b *testing.B) {
			st := serverBenchStore(b, kind, serverBenchItems)
			h := &httpfeed.Handler{Store: st}
			body := gzipped(heldSummary(b, h))
			want := (serverBenchItems + 999) / 1000
			b.ReportAllocs()
			start := cpuTime(b)
			for b.Loop() {
				req := newRequest("POST", "/?versions", body, httpfeed.HeaderPeer, "client",
					"Content-Encoding", "gzip", "Content-Type", "application/x-ndjson")
				rec := serve(h, req)
				if rec.Code != 200 {
					b.Fatalf("POST ?versions: %d %s", rec.Code, rec.Body)
				}
				if n := bytes.Count(rec.Body.Bytes(), []byte("\n")); n != want {
					b.Fatalf("POST ?versions: %d ids lacking, want %d", n, want)
				}
			}
			reportCPU(b, start)
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*serverBenchItems), "ns/line")
		})
	}
}

// BenchmarkServePull measures an initial pull from the server side: GET
// ?limit pages from the start of the store to its end, compressed as
// Client asks (zstd, else gzip; FEEDSYNC_BENCH_ENCODING sets the
// Accept-Encoding sent), for a named peer, as Client.Sync asks for them
// into an empty store. wire-B/op is the compressed bytes of a pull.
func BenchmarkServePull(b *testing.B) {
	benchEncoding := cmp.Or(os.Getenv("FEEDSYNC_BENCH_ENCODING"), "zstd, gzip")
	for _, kind := range []string{"sqlite", "memory"} {
		b.Run(kind, func(b *testing.B) {
			st := serverBenchStore(b, kind, serverBenchItems)
			h := &httpfeed.Handler{Store: st}
			b.ReportAllocs()
			var bytesOut int64
			start := cpuTime(b)
			for b.Loop() {
				since, pages := "", 0
				for {
					q := "/?limit=" + strconv.Itoa(httpfeed.DefaultPageItems)
					if since != "" {
						q += "&since=" + since
					}
					rec := serve(h, newRequest("GET", q, nil, httpfeed.HeaderPeer, "client", httpfeed.HeaderPeerMark, "", "Accept-Encoding", benchEncoding))
					if rec.Code != 200 {
						b.Fatalf("GET %s: %d %s", q, rec.Code, rec.Body)
					}
					bytesOut += int64(rec.Body.Len())
					pages++
					since = rec.Header().Get(httpfeed.HeaderToken)
					if rec.Header().Get(httpfeed.HeaderMore) != "true" {
						break
					}
				}
				if want := (serverBenchItems + httpfeed.DefaultPageItems - 1) / httpfeed.DefaultPageItems; pages < want {
					b.Fatalf("%d pages, want at least %d", pages, want)
				}
			}
			reportCPU(b, start)
			b.ReportMetric(float64(bytesOut)/float64(b.N), "wire-B/op")
		})
	}
}

// BenchmarkServeSummary measures GET ?versions from the start of the store
// to its end, gzip-compressed: the server's side of a client's pull by
// versions first.
func BenchmarkServeSummary(b *testing.B) {
	for _, kind := range []string{"sqlite", "memory"} {
		b.Run(kind, func(b *testing.B) {
			st := serverBenchStore(b, kind, serverBenchItems)
			h := &httpfeed.Handler{Store: st}
			b.ReportAllocs()
			start := cpuTime(b)
			for b.Loop() {
				since, lines := "", 0
				for {
					rec := serve(h, newRequest("GET", "/?versions&since="+since, nil, "Accept-Encoding", "gzip"))
					if rec.Code != 200 {
						b.Fatalf("GET ?versions: %d %s", rec.Code, rec.Body)
					}
					lines += bytes.Count(gunzip(b, rec), []byte("\n"))
					since = rec.Header().Get(httpfeed.HeaderToken)
					if rec.Header().Get(httpfeed.HeaderMore) != "true" {
						break
					}
				}
				if lines != serverBenchItems {
					b.Fatalf("%d summary lines, want %d", lines, serverBenchItems)
				}
			}
			reportCPU(b, start)
		})
	}
}
