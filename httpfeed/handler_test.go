package httpfeed_test

import (
	"bytes"
	"compress/gzip"
	"context"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/feedsync/go-feedsync/feedsync"
	"github.com/feedsync/go-feedsync/httpfeed"
	"github.com/feedsync/go-feedsync/producer"
	"github.com/feedsync/go-feedsync/store"
)

func TestGetFullThenIncremental(t *testing.T) {
	st := newMemory(t)
	put(t, st, create("a", "laptop", 1), create("b", "laptop", 2))
	h := &httpfeed.Handler{Store: st}

	rec := serve(h, newRequest("GET", "http://example.org/tasks", nil))
	if rec.Code != 200 {
		t.Fatalf("GET: %d %s", rec.Code, rec.Body)
	}
	if got, want := rec.Header().Get(httpfeed.HeaderFeed), httpfeed.FeedFull; got != want {
		t.Errorf("%s = %q, want %q", httpfeed.HeaderFeed, got, want)
	}
	if got := rec.Header().Get("Content-Type"); !strings.HasPrefix(got, "application/rss+xml") {
		t.Errorf("Content-Type = %q, want RSS (the store has no format of its own)", got)
	}
	fh, items := readFeed(t, rec.Body.Bytes())
	if got, want := ids(items), []string{"a", "b"}; !slices.Equal(got, want) {
		t.Errorf("full feed items = %v, want %v", got, want)
	}
	tok := rec.Header().Get(httpfeed.HeaderToken)
	if tok == "" || fh.Sharing == nil || fh.Sharing.Until != tok {
		t.Fatalf("token header %q, sx:sharing %+v: want the same non-empty token in both", tok, fh.Sharing)
	}

	put(t, st, update(get(t, st, "b"), "phone", 3), create("c", "phone", 4))
	rec = serve(h, newRequest("GET", "http://example.org/tasks?since="+tok, nil))
	if rec.Code != 200 {
		t.Fatalf("GET since: %d %s", rec.Code, rec.Body)
	}
	if got, want := rec.Header().Get(httpfeed.HeaderFeed), httpfeed.FeedIncremental; got != want {
		t.Errorf("%s = %q, want %q", httpfeed.HeaderFeed, got, want)
	}
	fh, items = readFeed(t, rec.Body.Bytes())
	if got, want := ids(items), []string{"b", "c"}; !slices.Equal(got, want) {
		t.Errorf("incremental feed items = %v, want %v", got, want)
	}
	if fh.Sharing == nil || fh.Sharing.Since != tok {
		t.Errorf("incremental sx:sharing = %+v, want since %q", fh.Sharing, tok)
	}
	if fh.Sharing != nil && (len(fh.Sharing.Related) != 1 || fh.Sharing.Related[0].Link != "http://example.org/tasks" || fh.Sharing.Related[0].Type != feedsync.RelatedComplete) {
		t.Errorf("sx:related = %+v, want complete link to http://example.org/tasks", fh.Sharing.Related)
	}
	next := rec.Header().Get(httpfeed.HeaderToken)

	// Nothing changed since next: an empty feed.
	rec = serve(h, newRequest("GET", "http://example.org/tasks?since="+next, nil))
	if _, items := readFeed(t, rec.Body.Bytes()); rec.Code != 200 || len(items) != 0 {
		t.Errorf("GET since latest: %d with %d items, want 200 with none", rec.Code, len(items))
	}
}

func TestGetCompleteURLBehindStripPrefix(t *testing.T) {
	st := newMemory(t)
	put(t, st, create("a", "laptop", 1))
	mux := http.NewServeMux()
	mux.Handle("/feeds/", http.StripPrefix("/feeds", &httpfeed.Router{Collections: map[string]http.Handler{"tasks": &httpfeed.Handler{Store: st}}}))
	tok := serve(mux, newRequest("GET", "http://example.org/feeds/tasks", nil)).Header().Get(httpfeed.HeaderToken)
	rec := serve(mux, newRequest("GET", "http://example.org/feeds/tasks?since="+tok, nil))
	fh, _ := readFeed(t, rec.Body.Bytes())
	if fh.Sharing == nil || len(fh.Sharing.Related) != 1 || fh.Sharing.Related[0].Link != "http://example.org/feeds/tasks" {
		t.Errorf("sx:sharing = %+v, want a complete link to the URL the client used", fh.Sharing)
	}
}

func TestGetFormat(t *testing.T) {
	st := newMemory(t)
	put(t, st, create("a", "laptop", 1))
	h := &httpfeed.Handler{Store: st}
	tests := []struct {
		name   string
		target string
		accept string
		want   string // Content-Type prefix, or "400"
	}{
		{"default", "/", "", "application/rss+xml"},
		{"query atom", "/?format=atom", "", "application/atom+xml"},
		{"query rss", "/?format=RSS", "application/atom+xml", "application/rss+xml"},
		{"accept atom", "/", "application/atom+xml", "application/atom+xml"},
		{"accept q", "/", "application/rss+xml;q=0.4, application/atom+xml;q=0.8", "application/atom+xml"},
		{"accept both equal", "/", "application/atom+xml, application/rss+xml", "application/rss+xml"},
		{"accept other", "/", "text/html, */*;q=0.1", "application/rss+xml"},
		{"query bad", "/?format=json", "", "400"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			rec := serve(h, newRequest("GET", tc.target, nil, "Accept", tc.accept))
			if tc.want == "400" {
				if rec.Code != 400 {
					t.Fatalf("code = %d, want 400", rec.Code)
				}
				var p httpfeed.Problem
				if err := json.Unmarshal(rec.Body.Bytes(), &p); err != nil || !strings.Contains(p.Error, "json") {
					t.Errorf("problem = %s (%v), want one naming the format", rec.Body, err)
				}
				return
			}
			if got := rec.Header().Get("Content-Type"); !strings.HasPrefix(got, tc.want) {
				t.Errorf("Content-Type = %q, want %s", got, tc.want)
			}
			fh, items := readFeed(t, rec.Body.Bytes())
			if want := map[string]feedsync.Format{"application/rss+xml": feedsync.RSS, "application/atom+xml": feedsync.Atom}[tc.want]; fh.Format != want || len(items) != 1 {
				t.Errorf("feed format %v with %d items, want %v with 1", fh.Format, len(items), want)
			}
		})
	}
}

func TestETagNotModified(t *testing.T) {
	st := newMemory(t)
	put(t, st, create("a", "laptop", 1))
	h := &httpfeed.Handler{Store: st}
	rec := serve(h, newRequest("GET", "/", nil))
	tok := rec.Header().Get(httpfeed.HeaderToken)
	rec = serve(h, newRequest("GET", "/?since="+tok, nil, httpfeed.HeaderPeer, "phone"))
	tag := rec.Header().Get("ETag")
	if tag == "" || !strings.HasPrefix(tag, `W/"`) {
		t.Fatalf("ETag = %q, want a weak tag", tag)
	}

	rec = serve(h, newRequest("GET", "/?since="+tok, nil, httpfeed.HeaderPeer, "phone", "If-None-Match", tag))
	if rec.Code != http.StatusNotModified || rec.Body.Len() != 0 {
		t.Fatalf("same request with If-None-Match: %d with %d bytes, want 304 and no body", rec.Code, rec.Body.Len())
	}
	if got := rec.Header().Get(httpfeed.HeaderToken); got != tok {
		t.Errorf("304 token = %q, want %q", got, tok)
	}

	// Another peer, format or since is another feed.
	for _, r := range []*http.Request{
		newRequest("GET", "/?since="+tok, nil, httpfeed.HeaderPeer, "laptop", "If-None-Match", tag),
		newRequest("GET", "/?format=atom&since="+tok, nil, httpfeed.HeaderPeer, "phone", "If-None-Match", tag),
		newRequest("GET", "/", nil, httpfeed.HeaderPeer, "phone", "If-None-Match", tag),
	} {
		if rec := serve(h, r); rec.Code != 200 {
			t.Errorf("%s %v: %d, want 200", r.URL, r.Header, rec.Code)
		}
	}

	// A change makes the tag stale.
	put(t, st, create("b", "laptop", 2))
	rec = serve(h, newRequest("GET", "/?since="+tok, nil, httpfeed.HeaderPeer, "phone", "If-None-Match", tag))
	if rec.Code != 200 {
		t.Fatalf("after a change: %d, want 200", rec.Code)
	}
	if _, items := readFeed(t, rec.Body.Bytes()); !slices.Equal(ids(items), []string{"b"}) {
		t.Errorf("after a change: items %v, want [b]", ids(items))
	}
	if rec.Header().Get("ETag") == tag {
		t.Errorf("ETag did not change after a change")
	}
}

func TestGzip(t *testing.T) {
	st := newMemory(t)
	var items []*feedsync.Item
	for i := range 50 {
		items = append(items, create("item-"+strconv.Itoa(i), "laptop", i))
	}
	put(t, st, items...)
	h := &httpfeed.Handler{Store: st}

	plain := serve(h, newRequest("GET", "/", nil))
	zipped := serve(h, newRequest("GET", "/", nil, "Accept-Encoding", "br, gzip"))
	if got := zipped.Header().Get("Content-Encoding"); got != "gzip" {
		t.Fatalf("Content-Encoding = %q, want gzip", got)
	}
	zr, err := gzip.NewReader(zipped.Body)
	if err != nil {
		t.Fatal(err)
	}
	unzipped, err := io.ReadAll(zr)
	if err != nil {
		t.Fatal(err)
	}
	_, a := readFeed(t, plain.Body.Bytes())
	_, b := readFeed(t, unzipped)
	if !slices.Equal(ids(a), ids(b)) || len(a) != 50 {
		t.Errorf("gzip feed has %d items, plain %d, want the same 50", len(b), len(a))
	}
	if zipped.Body.Len() >= plain.Body.Len() {
		t.Errorf("gzip body %d bytes, plain %d: not compressed", zipped.Body.Len(), plain.Body.Len())
	}
	if got := plain.Header().Get("Content-Length"); got == "" {
		t.Errorf("a small plain feed has no Content-Length")
	}

	// gzip;q=0 refuses it; a tiny feed is not worth compressing.
	if rec := serve(h, newRequest("GET", "/", nil, "Accept-Encoding", "gzip;q=0")); rec.Header().Get("Content-Encoding") != "" {
		t.Errorf("gzip;q=0: Content-Encoding %q", rec.Header().Get("Content-Encoding"))
	}
	tok := plain.Header().Get(httpfeed.HeaderToken)
	if rec := serve(h, newRequest("GET", "/?since="+tok, nil, "Accept-Encoding", "gzip")); rec.Header().Get("Content-Encoding") != "" {
		t.Errorf("empty incremental feed: Content-Encoding %q, want none", rec.Header().Get("Content-Encoding"))
	}
}

func TestGetLargeFeedStreams(t *testing.T) {
	// More than the handler buffers (64 KiB): the feed streams, gzip or not.
	st := newMemory(t)
	var items []*feedsync.Item
	for i := range 600 {
		items = append(items, create("big-"+strconv.Itoa(i), "laptop", i))
	}
	put(t, st, items...)
	h := &httpfeed.Handler{Store: st}
	for _, enc := range []string{"", "gzip"} {
		rec := serve(h, newRequest("GET", "/", nil, "Accept-Encoding", enc))
		body := rec.Body.Bytes()
		if enc == "gzip" {
			zr, err := gzip.NewReader(rec.Body)
			if err != nil {
				t.Fatal(err)
			}
			if body, err = io.ReadAll(zr); err != nil {
				t.Fatal(err)
			}
		}
		if len(body) <= 64<<10 {
			t.Fatalf("feed is only %d bytes; the test needs more than the buffer", len(body))
		}
		if _, got := readFeed(t, body); len(got) != 600 {
			t.Errorf("encoding %q: %d items, want 600", enc, len(got))
		}
	}
}

func TestForeignToken(t *testing.T) {
	st := newMemory(t)
	put(t, st, create("a", "laptop", 1))
	other := newMemory(t)
	put(t, other, create("z", "phone", 1))
	foreign := serve(&httpfeed.Handler{Store: other}, newRequest("GET", "/", nil)).Header().Get(httpfeed.HeaderToken)
	ahead := producer.Token{Store: st.ID(), Seq: 99}.String()

	h := &httpfeed.Handler{Store: st}
	for name, since := range map[string]string{"other store": foreign, "malformed": "not-a-token", "ahead": ahead} {
		t.Run(name, func(t *testing.T) {
			rec := serve(h, newRequest("GET", "/?since="+since, nil))
			if rec.Code != 200 || rec.Header().Get(httpfeed.HeaderFeed) != httpfeed.FeedFull {
				t.Fatalf("%d %s=%q, want 200 full", rec.Code, httpfeed.HeaderFeed, rec.Header().Get(httpfeed.HeaderFeed))
			}
			if rec.Header().Get(httpfeed.HeaderTokenRejected) == "" {
				t.Errorf("no %s header", httpfeed.HeaderTokenRejected)
			}
			if _, items := readFeed(t, rec.Body.Bytes()); !slices.Equal(ids(items), []string{"a"}) {
				t.Errorf("items %v, want the complete feed [a]", ids(items))
			}
		})
	}
}

func TestHead(t *testing.T) {
	st := newMemory(t)
	put(t, st, create("a", "laptop", 1))
	srv := newServer(t, &httpfeed.Handler{Store: st})
	resp, err := testClient.Head(srv.URL)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != 200 || len(body) != 0 || resp.Header.Get(httpfeed.HeaderToken) == "" || resp.ContentLength <= 0 {
		t.Errorf("HEAD: %d, %d body bytes, token %q, length %d; want 200, no body, a token and the length",
			resp.StatusCode, len(body), resp.Header.Get(httpfeed.HeaderToken), resp.ContentLength)
	}
}

func TestPostSummary(t *testing.T) {
	st := newMemory(t)
	put(t, st, create("a", "laptop", 1), create("b", "laptop", 2))
	h := &httpfeed.Handler{Store: st}
	in := feedOf(t, update(get(t, st, "a"), "phone", 5), create("c", "phone", 6), update(get(t, st, "b"), "laptop", 1))
	rec := serve(h, newRequest("POST", "/", in, httpfeed.HeaderPeer, "phone"))
	if rec.Code != 200 || !strings.HasPrefix(rec.Header().Get("Content-Type"), "application/json") {
		t.Fatalf("POST: %d %s", rec.Code, rec.Body)
	}
	var got wireSummary
	if err := json.Unmarshal(rec.Body.Bytes(), &got); err != nil {
		t.Fatal(err)
	}
	if want := (wireSummary{Added: 1, Updated: 2}); !cmp.Equal(got, want) {
		t.Errorf("summary %+v, want %+v", got, want)
	}
	if n := count(t, st); n != 3 {
		t.Errorf("store holds %d items, want 3", n)
	}
	if got, want := title(t, get(t, st, "a")), "a by phone at 5"; got != want {
		t.Errorf("a = %q, want %q", got, want)
	}
}

func TestPostRejectionsListed(t *testing.T) {
	st := newMemory(t)
	h := &httpfeed.Handler{Store: st}
	body := []byte(`<?xml version="1.0"?>
<rss version="2.0" xmlns:sx="http://feedsync.org/2007/feedsync"><channel><title>t</title>
<item><title>ok</title><sx:sync id="ok" updates="1"><sx:history sequence="1" by="phone"/></sx:sync></item>
<item><title>bad</title><sx:sync id="bad" updates="1"></sx:sync></item>
</channel></rss>`)
	rec := serve(h, newRequest("POST", "/", body))
	var got wireSummary
	if err := json.Unmarshal(rec.Body.Bytes(), &got); err != nil || rec.Code != 200 {
		t.Fatalf("POST: %d %s", rec.Code, rec.Body)
	}
	if got.Added != 1 || got.Rejected != 1 || len(got.Rejections) != 1 || got.Rejections[0].Item != "bad" || got.Rejections[0].Line != 4 {
		t.Errorf("summary %+v, want 1 added and item bad rejected at line 4", got)
	}
}

func TestPostWithSinceReturnsServerChanges(t *testing.T) {
	st := newMemory(t)
	put(t, st, create("a", "laptop", 1))
	h := &httpfeed.Handler{Store: st}
	tok := serve(h, newRequest("GET", "/", nil)).Header().Get(httpfeed.HeaderToken)

	// The server changes b; the client (phone) sends c and a change of a.
	put(t, st, create("b", "laptop", 2))
	in := feedOf(t, create("c", "phone", 3), update(get(t, st, "a"), "phone", 4))
	rec := serve(h, newRequest("POST", "/?since="+tok, in, httpfeed.HeaderPeer, "phone"))
	if rec.Code != 200 {
		t.Fatalf("POST since: %d %s", rec.Code, rec.Body)
	}
	var sum wireSummary
	if err := json.Unmarshal([]byte(rec.Header().Get(httpfeed.HeaderSummary)), &sum); err != nil {
		t.Fatalf("%s header %q: %v", httpfeed.HeaderSummary, rec.Header().Get(httpfeed.HeaderSummary), err)
	}
	if want := (wireSummary{Added: 1, Updated: 1}); !cmp.Equal(sum, want) {
		t.Errorf("summary %+v, want %+v", sum, want)
	}
	_, items := readFeed(t, rec.Body.Bytes())
	if got, want := ids(items), []string{"b"}; !slices.Equal(got, want) {
		t.Errorf("feed back = %v, want %v: the server's change without the client's echo", got, want)
	}

	// Without a peer the server cannot tell what the client holds.
	put(t, st, create("d", "laptop", 5))
	rec = serve(h, newRequest("POST", "/?since="+rec.Header().Get(httpfeed.HeaderToken), feedOf(t, create("e", "tablet", 6))))
	if _, items := readFeed(t, rec.Body.Bytes()); !slices.Equal(ids(items), []string{"d", "e"}) {
		t.Errorf("anonymous POST feed back = %v, want [d e]", ids(items))
	}
}

func TestPostErrorsApplyNothing(t *testing.T) {
	ok := func(id string) *feedsync.Item { return create(id, "phone", 1) }
	var big bytes.Buffer
	big.Write(feedOf(t, ok("x")))
	many := feedOf(t, ok("m1"), ok("m2"), ok("m3"), ok("m4"))
	gzipped := func(b []byte) []byte {
		var buf bytes.Buffer
		zw := gzip.NewWriter(&buf)
		zw.Write(b)
		zw.Close()
		return buf.Bytes()
	}
	// A body that decompresses far beyond the limit.
	bomb := gzipped(append(feedOf(t, ok("y"))[:60], bytes.Repeat([]byte(" "), 1<<20)...))

	tests := []struct {
		name     string
		body     []byte
		header   []string
		method   string
		wantCode int
		wantErr  string
		wantItem string
		wantLine int
	}{
		{name: "malformed", body: []byte("<rss version=\"2.0\"><channel>\n<item><title>x</item></channel></rss>"), wantCode: 400, wantErr: "end tag", wantLine: 2},
		{name: "not a feed", body: []byte("<html></html>"), wantCode: 400, wantErr: "not RSS"},
		{name: "truncated", body: feedOf(t, ok("t1"), ok("t2"))[:300], wantCode: 400},
		{name: "duplicate id", body: feedOf(t, ok("d1"), ok("d2"), ok("d1")), wantCode: 400, wantErr: "duplicate", wantItem: "d1"},
		{name: "too many items", body: many, wantCode: 413, wantErr: "more than 3 items"},
		{name: "too large", body: append(bytes.Repeat([]byte(" "), 5000), big.Bytes()...), wantCode: 413, wantErr: "larger than 4096 bytes"},
		{name: "gzip bomb", body: bomb, header: []string{"Content-Encoding", "gzip"}, wantCode: 413, wantErr: "larger than 4096 bytes"},
		{name: "not gzip", body: many, header: []string{"Content-Encoding", "gzip"}, wantCode: 400, wantErr: "gzip"},
		{name: "encoding", body: many, header: []string{"Content-Encoding", "br"}, wantCode: 415},
		{name: "bad peer", body: many, header: []string{httpfeed.HeaderPeer, "a b"}, wantCode: 400, wantErr: httpfeed.HeaderPeer},
		{name: "method", method: "DELETE", wantCode: 405},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			st := newMemory(t)
			put(t, st, create("keep", "laptop", 1))
			before := lastSeq(t, st)
			h := &httpfeed.Handler{Store: st, MaxBodyBytes: 4096, MaxItems: 3}
			method := tc.method
			if method == "" {
				method = "POST"
			}
			rec := serve(h, newRequest(method, "/", tc.body, tc.header...))
			if rec.Code != tc.wantCode {
				t.Fatalf("code %d (%s), want %d", rec.Code, rec.Body, tc.wantCode)
			}
			var p httpfeed.Problem
			if err := json.Unmarshal(rec.Body.Bytes(), &p); err != nil || p.Error == "" {
				t.Fatalf("body %q is not a JSON problem: %v", rec.Body, err)
			}
			if !strings.Contains(p.Error, tc.wantErr) || p.Item != tc.wantItem || (tc.wantLine != 0 && p.Line != tc.wantLine) {
				t.Errorf("problem %+v, want error containing %q, item %q, line %d", p, tc.wantErr, tc.wantItem, tc.wantLine)
			}
			// An RFC 9457 problem: its media type, and the status's title
			// and code (its type about:blank left out).
			if ct := rec.Header().Get("Content-Type"); !strings.HasPrefix(ct, "application/problem+json") {
				t.Errorf("Content-Type %q, want application/problem+json", ct)
			}
			if p.Status != tc.wantCode || p.Title != http.StatusText(tc.wantCode) {
				t.Errorf("problem status %d, title %q; want %d, %q", p.Status, p.Title, tc.wantCode, http.StatusText(tc.wantCode))
			}
			if got := lastSeq(t, st); got != before || count(t, st) != 1 {
				t.Errorf("store changed: last seq %d → %d, %d items; want nothing applied", before, got, count(t, st))
			}
		})
	}
}

func TestPostGzipBody(t *testing.T) {
	st := newMemory(t)
	var buf bytes.Buffer
	zw := gzip.NewWriter(&buf)
	zw.Write(feedOf(t, create("a", "phone", 1)))
	zw.Close()
	rec := serve(&httpfeed.Handler{Store: st}, newRequest("POST", "/", buf.Bytes(), "Content-Encoding", "gzip"))
	if rec.Code != 200 || get(t, st, "a") == nil {
		t.Errorf("gzip POST: %d %s; item stored: %v", rec.Code, rec.Body, get(t, st, "a") != nil)
	}
}

func TestPutMerges(t *testing.T) {
	st := newMemory(t)
	rec := serve(&httpfeed.Handler{Store: st}, newRequest("PUT", "/", feedOf(t, create("a", "phone", 1))))
	if rec.Code != 200 || get(t, st, "a") == nil {
		t.Errorf("PUT: %d %s", rec.Code, rec.Body)
	}
}

func TestClosedStore(t *testing.T) {
	st := store.NewMemory()
	st.Close()
	h := &httpfeed.Handler{Store: st}
	for _, method := range []string{"GET", "POST"} {
		rec := serve(h, newRequest(method, "/", feedOf(t, create("a", "phone", 1))))
		var p httpfeed.Problem
		if rec.Code != http.StatusServiceUnavailable || json.Unmarshal(rec.Body.Bytes(), &p) != nil {
			t.Errorf("%s on a closed store: %d %s, want 503 with a problem", method, rec.Code, rec.Body)
		}
	}
}

func TestPolicyStampsServer(t *testing.T) {
	st := newMemory(t)
	base := create("a", "laptop", 1)
	put(t, st, update(base, "laptop", 2))
	h := &httpfeed.Handler{Store: st, By: "server", Policy: feedsync.LastWriterWins, Now: func() time.Time { return day.Add(time.Hour) }}
	rec := serve(h, newRequest("POST", "/", feedOf(t, update(base, "phone", 3)), httpfeed.HeaderPeer, "phone"))
	if rec.Code != 200 {
		t.Fatalf("POST: %d %s", rec.Code, rec.Body)
	}
	it := get(t, st, "a")
	top := it.Sync.Top()
	if top.By != "server" || !top.When.Equal(day.Add(time.Hour)) || len(it.Sync.Conflicts) != 0 {
		t.Errorf("resolution top entry %+v with %d conflicts, want by server at 01:00 and none", top, len(it.Sync.Conflicts))
	}
	if got, want := title(t, it), "a by phone at 3"; got != want {
		t.Errorf("resolved content %q, want the last writer's %q", got, want)
	}
}

func TestLogs(t *testing.T) {
	st := newMemory(t)
	var buf bytes.Buffer
	h := &httpfeed.Handler{Store: st, Name: "tasks", Logger: slog.New(slog.NewJSONHandler(&buf, nil))}
	serve(h, newRequest("POST", "/", feedOf(t, create("a", "phone", 1)), httpfeed.HeaderPeer, "phone"))
	serve(h, newRequest("POST", "/", []byte("<rss>"), httpfeed.HeaderPeer, "phone"))
	serve(h, newRequest("GET", "/", nil))
	var recs []map[string]any
	for line := range strings.Lines(buf.String()) {
		var m map[string]any
		if err := json.Unmarshal([]byte(line), &m); err != nil {
			t.Fatalf("log line %q: %v", line, err)
		}
		recs = append(recs, m)
	}
	if len(recs) != 3 {
		t.Fatalf("%d log records, want 3:\n%s", len(recs), buf.String())
	}
	want := []map[string]any{
		{"msg": "merge", "collection": "tasks", "peer": "phone", "added": 1.0, "status": 200.0},
		{"msg": "merge failed", "level": "WARN", "status": 400.0},
		{"msg": "feed", "feed": "full", "status": 200.0},
	}
	for i, w := range want {
		for k, v := range w {
			if recs[i][k] != v {
				t.Errorf("record %d: %s = %v, want %v (%v)", i, k, recs[i][k], v, recs[i])
			}
		}
	}
}

func TestRouter(t *testing.T) {
	a, b := newMemory(t), newMemory(t)
	put(t, a, create("in-a", "laptop", 1))
	put(t, b, create("in-b", "laptop", 1))
	rt := &httpfeed.Router{Collections: map[string]http.Handler{
		"alpha": &httpfeed.Handler{Store: a, Name: "alpha"},
		"beta":  &httpfeed.Handler{Store: b, Name: "beta"},
	}}
	rec := serve(rt, newRequest("GET", "/", nil))
	if got, want := strings.TrimSpace(rec.Body.String()), `{"collections":["alpha","beta"]}`; rec.Code != 200 || got != want {
		t.Errorf("GET /: %d %s, want %s", rec.Code, got, want)
	}
	rec = serve(rt, newRequest("GET", "/beta", nil))
	if _, items := readFeed(t, rec.Body.Bytes()); !slices.Equal(ids(items), []string{"in-b"}) {
		t.Errorf("GET /beta: %v", ids(items))
	}
	// A trailing slash names the same collection.
	rec = serve(rt, newRequest("GET", "/beta/", nil))
	if _, items := readFeed(t, rec.Body.Bytes()); rec.Code != 200 || !slices.Equal(ids(items), []string{"in-b"}) {
		t.Errorf("GET /beta/: %d %v", rec.Code, ids(items))
	}
	for _, p := range []string{"/gamma", "/alpha/x", "/alpha//"} {
		rec := serve(rt, newRequest("GET", p, nil))
		if rec.Code != 404 || !strings.Contains(rec.Body.String(), `"collections":["/alpha","/beta"]`) {
			t.Errorf("GET %s: %d %s, want 404 listing the collections", p, rec.Code, rec.Body.String())
		}
		if ct := rec.Header().Get("Content-Type"); !strings.HasPrefix(ct, "application/problem+json") || !strings.Contains(rec.Body.String(), `"status":404`) {
			t.Errorf("GET %s: %s %s, want an RFC 9457 problem", p, ct, rec.Body.String())
		}
	}
	if rec := serve(rt, newRequest("POST", "/", nil)); rec.Code != 405 {
		t.Errorf("POST /: %d, want 405", rec.Code)
	}
}

// TestAtRoot: one collection served alone answers at "/" only; a sync to
// a wrong path fails at once instead of starting marks for it.
func TestAtRoot(t *testing.T) {
	st := newMemory(t)
	put(t, st, create("x", "laptop", 1))
	h := httpfeed.AtRoot(&httpfeed.Handler{Store: st})
	if rec := serve(h, newRequest("GET", "/", nil)); rec.Code != 200 {
		t.Errorf("GET /: %d", rec.Code)
	}
	for _, p := range []string{"/nope", "/tasks/", "//"} {
		rec := serve(h, newRequest("GET", p, nil))
		if rec.Code != 404 || !strings.Contains(rec.Body.String(), `"collections":["/"]`) {
			t.Errorf("GET %s: %d %s, want 404 listing /", p, rec.Code, rec.Body.String())
		}
	}
	srv := newServer(t, h)
	c := &httpfeed.Client{URL: srv.URL + "/nope", Peer: "laptop", HTTP: testClient}
	local := newMemory(t)
	_, err := c.Sync(context.Background(), local, httpfeed.Both)
	var se *httpfeed.StatusError
	if !errors.As(err, &se) || se.StatusCode != 404 {
		t.Errorf("sync with a wrong path: %v, want 404", err)
	}
	if count(t, local) != 0 {
		t.Error("a sync with a wrong path merged something")
	}
}

func TestContextCancelledMergeRollsBack(t *testing.T) {
	st := newMemory(t)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	req := newRequest("POST", "/", feedOf(t, create("a", "phone", 1))).WithContext(ctx)
	rec := serve(&httpfeed.Handler{Store: st}, req)
	if rec.Code < 500 || get(t, st, "a") != nil {
		t.Errorf("cancelled POST: %d, item stored %v; want a 5xx and nothing stored", rec.Code, get(t, st, "a") != nil)
	}
}

func TestAcknowledge(t *testing.T) {
	st := newMemory(t)
	put(t, st, create("a", "laptop", 1), create("b", "laptop", 2))
	peerSeq := func() int64 {
		var n int64
		withTx(t, st, false, func(tx store.Tx) {
			var err error
			if n, err = tx.PeerSeq(context.Background(), "phone"); err != nil {
				t.Fatal(err)
			}
		})
		return n
	}
	tok := serve(&httpfeed.Handler{Store: st}, newRequest("GET", "/", nil)).Header().Get(httpfeed.HeaderToken)
	serve(&httpfeed.Handler{Store: st}, newRequest("GET", "/?since="+tok, nil, httpfeed.HeaderPeer, "phone"))
	if n := peerSeq(); n != 0 {
		t.Errorf("without Acknowledge: peer seq %d, want 0", n)
	}
	serve(&httpfeed.Handler{Store: st, Acknowledge: true}, newRequest("GET", "/?since="+tok, nil, httpfeed.HeaderPeer, "phone"))
	if n := peerSeq(); n != 2 {
		t.Errorf("with Acknowledge: peer seq %d, want 2 (the token's)", n)
	}
}
