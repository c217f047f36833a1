package httpfeed_test

import (
	"bytes"
	"compress/gzip"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/klauspost/compress/zstd"

	"github.com/feedsync/go-feedsync/feedsync"
	"github.com/feedsync/go-feedsync/httpfeed"
	"github.com/feedsync/go-feedsync/internal/feedtest"
	"github.com/feedsync/go-feedsync/store"
)

// rawClient sends requests as they are: net/http neither adds
// Accept-Encoding nor decodes the answer.
var rawClient = &http.Client{Transport: &http.Transport{DisableCompression: true}, Timeout: testClient.Timeout}

// rawGet sends a GET over real HTTP with the headers given (name, value
// pairs) and returns the response and its body as it came.
func rawGet(t testing.TB, url string, header ...string) (*http.Response, []byte) {
	t.Helper()
	return feedtest.HTTPGet(t, rawClient, url, header...)
}

// decode returns body decoded from the content coding enc.
func decode(t testing.TB, enc string, body []byte) []byte {
	t.Helper()
	var r io.Reader
	switch enc {
	case "":
		return body
	case "gzip":
		zr, err := gzip.NewReader(bytes.NewReader(body))
		if err != nil {
			t.Fatalf("gzip body: %v", err)
		}
		r = zr
	case "zstd":
		zr, err := zstd.NewReader(bytes.NewReader(body))
		if err != nil {
			t.Fatalf("zstd body: %v", err)
		}
		defer zr.Close()
		r = zr
	default:
		t.Fatalf("unexpected Content-Encoding %q", enc)
	}
	out, err := io.ReadAll(r)
	if err != nil {
		t.Fatalf("decode %s body: %v", enc, err)
	}
	return out
}

func zstdBytes(t testing.TB, b []byte) []byte {
	t.Helper()
	zw, err := zstd.NewWriter(nil)
	if err != nil {
		t.Fatal(err)
	}
	return zw.EncodeAll(b, nil)
}

// Every response that compresses (a streamed feed, a held page, a summary)
// picks its coding from Accept-Encoding by q value: zstd when it is wanted
// at least as much as gzip, gzip when only that is, none otherwise; and
// the body decodes to what an uncompressed answer holds.
func TestContentCodingNegotiation(t *testing.T) {
	st := storeOfBenchItems(t, 120)
	srv := newServer(t, &httpfeed.Handler{Store: st})
	cases := []struct{ accept, want string }{
		{"", ""},
		{"gzip", "gzip"},
		{"zstd", "zstd"},
		{"zstd, gzip", "zstd"},
		{"gzip, zstd", "zstd"},
		{"gzip, deflate, br, zstd", "zstd"}, // what Chromium sends
		{"gzip;q=1, zstd;q=0.5", "gzip"},
		{"zstd;q=0.5, gzip", "gzip"},
		{"gzip;q=0.5, zstd", "zstd"},
		{"zstd;q=0", ""},
		{"zstd;q=0, gzip", "gzip"},
		{"zstd, gzip;q=0", "zstd"},
		{"identity", ""},
		{"br", ""},
		{"*", ""},
	}
	for _, path := range []string{"/", "/?limit=100", "/?versions"} {
		plainResp, plain := rawGet(t, srv.URL+path)
		if plainResp.StatusCode != 200 || len(plain) < 4096 {
			t.Fatalf("GET %s: %d, %d bytes; want 200 and more than 4 KiB", path, plainResp.StatusCode, len(plain))
		}
		for _, c := range cases {
			resp, body := rawGet(t, srv.URL+path, "Accept-Encoding", c.accept)
			if resp.StatusCode != 200 {
				t.Fatalf("GET %s, Accept-Encoding %q: %d", path, c.accept, resp.StatusCode)
			}
			got := resp.Header.Get("Content-Encoding")
			if got != c.want {
				t.Errorf("GET %s, Accept-Encoding %q: Content-Encoding %q, want %q", path, c.accept, got, c.want)
				continue
			}
			if c.want != "" && len(body) >= len(plain)/2 {
				t.Errorf("GET %s, %s: %d bytes of %d plain, not compressed", path, c.want, len(body), len(plain))
			}
			if !bytes.Equal(decode(t, got, body), plain) && path != "/" {
				t.Errorf("GET %s, Accept-Encoding %q: decoded body differs from the plain one", path, c.accept)
			}
			if path == "/" {
				// The complete feed's updated time may differ: compare items.
				_, want := readFeed(t, plain)
				_, have := readFeed(t, decode(t, got, body))
				if !slices.Equal(ids(have), ids(want)) {
					t.Errorf("GET /, Accept-Encoding %q: items differ from the plain feed", c.accept)
				}
			}
			if !strings.Contains(resp.Header.Get("Vary"), "Accept-Encoding") {
				t.Errorf("GET %s: Vary %q lacks Accept-Encoding", path, resp.Header.Get("Vary"))
			}
			if ae := resp.Header.Get("Accept-Encoding"); ae != "zstd, gzip" {
				t.Errorf("GET %s: Accept-Encoding %q, want the codings request bodies may have", path, ae)
			}
		}
	}
}

// The ETag is made from what the feed is made of, not from its bytes: it
// is weak and the same whatever the coding, and If-None-Match gets a 304
// without a body under every coding.
func TestETagAcrossCodings(t *testing.T) {
	st := storeOfBenchItems(t, 120)
	srv := newServer(t, &httpfeed.Handler{Store: st})
	for _, path := range []string{"/", "/?limit=100"} {
		tags := map[string]string{}
		for _, enc := range []string{"", "gzip", "zstd"} {
			resp, _ := rawGet(t, srv.URL+path, "Accept-Encoding", enc)
			if resp.Header.Get("Content-Encoding") != enc {
				t.Fatalf("GET %s: Content-Encoding %q, want %q", path, resp.Header.Get("Content-Encoding"), enc)
			}
			tags[enc] = resp.Header.Get("ETag")
		}
		tag := tags[""]
		if !strings.HasPrefix(tag, `W/"`) || tags["gzip"] != tag || tags["zstd"] != tag {
			t.Errorf("GET %s: ETags %v, want one weak tag for every coding", path, tags)
		}
		for _, enc := range []string{"", "gzip", "zstd"} {
			resp, body := rawGet(t, srv.URL+path, "Accept-Encoding", enc, "If-None-Match", tag)
			if resp.StatusCode != http.StatusNotModified || len(body) != 0 || resp.Header.Get("Content-Encoding") != "" {
				t.Errorf("GET %s, %q, If-None-Match: %d, %d bytes, Content-Encoding %q; want 304 and nothing", path, enc, resp.StatusCode, len(body), resp.Header.Get("Content-Encoding"))
			}
		}
	}
}

// A zstd request body is merged like a gzip one; one that decodes beyond
// MaxBodyBytes is refused with 413 (a zstd bomb), and one that is not zstd
// with 400 naming zstd. Nothing of a refused body is applied.
func TestPostZstdBody(t *testing.T) {
	ok := func(id string) *feedsync.Item { return create(id, "phone", 1) }
	bomb := zstdBytes(t, append(feedOf(t, ok("y"))[:60], bytes.Repeat([]byte(" "), 8<<20)...))
	if len(bomb) > 4096 {
		t.Fatalf("bomb is %d bytes, want it under the limit", len(bomb))
	}
	lines := []byte(`{"id":"a"}` + "\n")
	tests := []struct {
		name, query string
		body        []byte
		wantCode    int
		wantErr     string
	}{
		{name: "feed", body: zstdBytes(t, feedOf(t, ok("a"))), wantCode: 200},
		{name: "bomb", body: bomb, wantCode: 413, wantErr: "larger than 4096 bytes"},
		{name: "bomb summary", query: "?versions", body: zstdBytes(t, append(lines, bytes.Repeat([]byte("\n"), 8<<20)...)), wantCode: 413, wantErr: "larger than 4096 bytes"},
		{name: "not zstd", body: feedOf(t, ok("m")), wantCode: 400, wantErr: "zstd"},
		{name: "empty", body: []byte{}, wantCode: 400}, // no frame: an empty feed
		{name: "cut off", body: zstdBytes(t, feedOf(t, ok("m"), ok("n")))[:100], wantCode: 400, wantErr: "zstd"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			st := newMemory(t)
			put(t, st, create("keep", "laptop", 1))
			before := lastSeq(t, st)
			srv := newServer(t, &httpfeed.Handler{Store: st, MaxBodyBytes: 4096, MaxItems: 3})
			req, err := http.NewRequest("POST", srv.URL+"/"+tc.query, bytes.NewReader(tc.body))
			if err != nil {
				t.Fatal(err)
			}
			req.Header.Set("Content-Encoding", "zstd")
			resp, err := rawClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			body, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			if resp.StatusCode != tc.wantCode {
				t.Fatalf("code %d (%s), want %d", resp.StatusCode, body, tc.wantCode)
			}
			if tc.wantCode == 200 {
				if get(t, st, "a") == nil {
					t.Errorf("zstd POST answered 200 but a is not stored")
				}
				return
			}
			var p httpfeed.Problem
			if err := json.Unmarshal(body, &p); err != nil || !strings.Contains(p.Error, tc.wantErr) {
				t.Errorf("problem %s (%v), want an error containing %q", body, err, tc.wantErr)
			}
			if got := lastSeq(t, st); got != before || count(t, st) != 1 {
				t.Errorf("store changed: last seq %d → %d; want nothing applied", before, got)
			}
		})
	}
}

// codings records the Content-Encoding of requests and responses.
type codings struct {
	h         http.Handler
	advertise bool // keep the handler's Accept-Encoding (an older server has none)
	mu        sync.Mutex
	req, resp []string
}

func (c *codings) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	rw := &codingWriter{ResponseWriter: w, c: c}
	c.mu.Lock()
	c.req = append(c.req, r.Method+" "+r.Header.Get("Content-Encoding"))
	c.mu.Unlock()
	c.h.ServeHTTP(rw, r)
}

type codingWriter struct {
	http.ResponseWriter
	c *codings
}

func (w *codingWriter) WriteHeader(code int) {
	if !w.c.advertise {
		w.Header().Del("Accept-Encoding")
	}
	w.c.mu.Lock()
	w.c.resp = append(w.c.resp, w.Header().Get("Content-Encoding"))
	w.c.mu.Unlock()
	w.ResponseWriter.WriteHeader(code)
}

func (w *codingWriter) Write(p []byte) (int, error) { return w.ResponseWriter.Write(p) }

// Client asks for zstd, decodes it, and sends zstd bodies to a server that
// said it takes them; to one that did not (an older server) it sends gzip.
// Syncs converge either way: a first pull, pushes, both ways.
func TestSyncZstd(t *testing.T) {
	for _, advertise := range []bool{true, false} {
		server := newMemory(t)
		var items []*feedsync.Item
		for i := range 150 {
			items = append(items, benchItem(i))
		}
		put(t, server, items...)
		rec := &codings{h: &httpfeed.Handler{Store: server}, advertise: advertise}
		srv := newServer(t, rec)
		a, b := newSQLite(t), newMemory(t)
		ca := &httpfeed.Client{URL: srv.URL, Peer: "laptop", HTTP: testClient}
		cb := &httpfeed.Client{URL: srv.URL, Peer: "phone", HTTP: testClient}
		if res := syncOK(t, ca, a, httpfeed.Pull); res.Pulled.Added != 150 {
			t.Fatalf("first pull: %+v, want 150 added", res.Pulled)
		}
		edit(t, a, "x", "laptop", 1)
		edit(t, b, "y", "phone", 2)
		syncOK(t, ca, a, httpfeed.Both)
		syncOK(t, cb, b, httpfeed.Both)
		syncOK(t, ca, a, httpfeed.Both)
		sameManifests(t, []string{"server", "a", "b"}, []store.Store{server, a, b})

		rec.mu.Lock()
		reqs, resps := slices.Clone(rec.req), slices.Clone(rec.resp)
		rec.mu.Unlock()
		if !slices.Contains(resps, "zstd") || slices.Contains(resps, "gzip") {
			t.Errorf("advertise %v: response codings %v, want zstd and never gzip", advertise, resps)
		}
		wantBody, notBody := "POST zstd", "POST gzip"
		if !advertise {
			wantBody, notBody = notBody, wantBody
		}
		if !slices.Contains(reqs, wantBody) || slices.Contains(reqs, notBody) {
			t.Errorf("advertise %v: requests %v, want bodies as %q and none as %q", advertise, reqs, wantBody, notBody)
		}
	}
}

// NoZstd keeps a client to gzip both ways; NoGzip sends bodies plain.
func TestClientNoZstd(t *testing.T) {
	server := newMemory(t)
	var items []*feedsync.Item
	for i := range 50 {
		items = append(items, benchItem(i))
	}
	put(t, server, items...)
	for _, c := range []struct {
		noZstd, noGzip bool
		resp, body     string
	}{{true, false, "gzip", "POST gzip"}, {false, true, "zstd", "POST "}} {
		rec := &codings{h: &httpfeed.Handler{Store: server}, advertise: true}
		srv := newServer(t, rec)
		st := newMemory(t)
		cl := &httpfeed.Client{URL: srv.URL, Peer: "p" + itoa(len(c.resp)), HTTP: testClient, NoZstd: c.noZstd, NoGzip: c.noGzip}
		syncOK(t, cl, st, httpfeed.Pull)
		edit(t, st, "x", "p", 1)
		syncOK(t, cl, st, httpfeed.Both)
		syncOK(t, cl, st, httpfeed.Both)
		rec.mu.Lock()
		if !slices.Contains(rec.resp, c.resp) || !slices.Contains(rec.req, c.body) {
			t.Errorf("NoZstd %v NoGzip %v: responses %v, requests %v; want %q answers and %q bodies", c.noZstd, c.noGzip, rec.resp, rec.req, c.resp, c.body)
		}
		rec.mu.Unlock()
	}
}

// refuseZstd says it takes zstd bodies but answers 415 to them, as a
// server behind a proxy that strips them might.
type refuseZstd struct {
	h       http.Handler
	mu      sync.Mutex
	refused int
}

func (s *refuseZstd) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.Header.Get("Content-Encoding") == "zstd" {
		s.mu.Lock()
		s.refused++
		s.mu.Unlock()
		w.Header().Set("Accept-Encoding", "zstd, gzip")
		http.Error(w, "no zstd here", http.StatusUnsupportedMediaType)
		return
	}
	s.h.ServeHTTP(w, r)
}

// A 415 to a zstd body fails that request, and the client sends gzip to
// that collection from then on, though it still lists zstd.
func TestClientZstdRefused(t *testing.T) {
	server := newMemory(t)
	h := &refuseZstd{h: &httpfeed.Handler{Store: server}}
	srv := newServer(t, h)
	st := newMemory(t)
	cl := &httpfeed.Client{URL: srv.URL, Peer: "laptop", HTTP: testClient}
	for i := range 20 {
		edit(t, st, "a"+itoa(i), "laptop", i)
	}
	_, err := cl.Sync(t.Context(), st, httpfeed.Both)
	var se *httpfeed.StatusError
	if !errors.As(err, &se) || se.StatusCode != http.StatusUnsupportedMediaType {
		t.Fatalf("sync after the server listed zstd: %v, want a 415", err)
	}
	syncOK(t, cl, st, httpfeed.Both)
	edit(t, st, "b", "laptop", 30)
	syncOK(t, cl, st, httpfeed.Both)
	if h.refused != 1 {
		t.Errorf("%d zstd bodies refused, want 1 and gzip after it", h.refused)
	}
	sameManifests(t, []string{"server", "client"}, []store.Store{server, st})
}
