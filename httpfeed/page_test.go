package httpfeed_test

import (
	"compress/gzip"
	"io"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/feedsync/go-feedsync/httpfeed"
)

// A paged GET (?limit, what Client.Sync asks for) and a summary page (GET
// ?versions) carry an ETag as the complete feed does, and answer the same
// request with If-None-Match by 304 without a body, with the page's token:
// a poller that is up to date costs a status line. Another page (since,
// limit, peer, peer mark) or a change in the store is another tag.
func TestPageETagNotModified(t *testing.T) {
	st := newMemory(t)
	put(t, st, create("a", "laptop", 1), create("b", "laptop", 2), create("c", "laptop", 3))
	h := &httpfeed.Handler{Store: st}
	first := serve(h, newRequest("GET", "/?limit=2", nil, httpfeed.HeaderPeer, "phone", httpfeed.HeaderPeerMark, ""))
	tok := first.Header().Get(httpfeed.HeaderToken)
	if first.Code != 200 || first.Header().Get(httpfeed.HeaderMore) != "true" {
		t.Fatalf("first page: %d, more %q", first.Code, first.Header().Get(httpfeed.HeaderMore))
	}
	page := func(since, limit, peer, mark string, header ...string) *http.Request {
		return newRequest("GET", "/?since="+since+"&limit="+limit, nil,
			append([]string{httpfeed.HeaderPeer, peer, httpfeed.HeaderPeerMark, mark}, header...)...)
	}
	for _, tc := range []struct {
		name string
		req  func(header ...string) *http.Request
	}{
		{"feed page", func(header ...string) *http.Request { return page(tok, "2", "phone", "", header...) }},
		{"first feed page", func(header ...string) *http.Request {
			return newRequest("GET", "/?limit=2", nil, append([]string{httpfeed.HeaderPeer, "phone", httpfeed.HeaderPeerMark, ""}, header...)...)
		}},
		{"summary page", func(header ...string) *http.Request {
			return newRequest("GET", "/?versions&limit=2", nil, header...)
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			rec := serve(h, tc.req())
			tag := rec.Header().Get("ETag")
			if rec.Code != 200 || !strings.HasPrefix(tag, `W/"`) {
				t.Fatalf("%d, ETag %q; want 200 and a weak tag", rec.Code, tag)
			}
			if cc := rec.Header().Get("Cache-Control"); cc != "no-cache" {
				t.Errorf("Cache-Control %q, want no-cache", cc)
			}
			again := serve(h, tc.req("If-None-Match", tag))
			if again.Code != http.StatusNotModified || again.Body.Len() != 0 {
				t.Fatalf("same request with If-None-Match: %d with %d bytes, want 304 and no body", again.Code, again.Body.Len())
			}
			for _, k := range []string{httpfeed.HeaderToken, httpfeed.HeaderMore, "ETag"} {
				if got, want := again.Header().Get(k), rec.Header().Get(k); got != want {
					t.Errorf("304 %s = %q, want %q as in the 200", k, got, want)
				}
			}
			// Another tag is another page.
			if other := serve(h, tc.req("If-None-Match", `W/"0123"`)); other.Code != 200 {
				t.Errorf("If-None-Match of another tag: %d, want 200", other.Code)
			}
		})
	}

	tag := serve(h, page(tok, "2", "phone", "")).Header().Get("ETag")
	for name, r := range map[string]*http.Request{
		"other limit":     page(tok, "1", "phone", "", "If-None-Match", tag),
		"other peer":      page(tok, "2", "laptop", "", "If-None-Match", tag),
		"other peer mark": page(tok, "2", "phone", "x", "If-None-Match", tag),
		"other since":     page(first.Header().Get(httpfeed.HeaderToken)+"x", "2", "phone", "", "If-None-Match", tag),
		"complete feed":   newRequest("GET", "/", nil, httpfeed.HeaderPeer, "phone", "If-None-Match", tag),
	} {
		if rec := serve(h, r); rec.Code == http.StatusNotModified {
			t.Errorf("%s: 304 for the tag of another page", name)
		}
	}
	sumTag := serve(h, newRequest("GET", "/?versions&limit=2", nil)).Header().Get("ETag")

	// A change makes the tags stale.
	put(t, st, create("d", "laptop", 4))
	rec := serve(h, page(tok, "2", "phone", "", "If-None-Match", tag))
	if rec.Code != 200 || rec.Header().Get("ETag") == tag {
		t.Errorf("page after a change: %d, ETag %q; want 200 and a new tag", rec.Code, rec.Header().Get("ETag"))
	}
	rec = serve(h, newRequest("GET", "/?versions&limit=2", nil, "If-None-Match", sumTag))
	if rec.Code != 200 || rec.Header().Get("ETag") == sumTag {
		t.Errorf("summary page after a change: %d, ETag %q; want 200 and a new tag", rec.Code, rec.Header().Get("ETag"))
	}
}

// A page larger than what a response holds before it goes out is
// gzip-compressed when the request accepts it (held compressed until its
// token is known), and it is the same page as without gzip; HEAD sends
// the headers only.
func TestPageGzip(t *testing.T) {
	st := storeOfBenchItems(t, 120)
	h := &httpfeed.Handler{Store: st}
	plain := serve(h, newRequest("GET", "/?limit=100", nil))
	zipped := serve(h, newRequest("GET", "/?limit=100", nil, "Accept-Encoding", "gzip"))
	if plain.Code != 200 || zipped.Code != 200 {
		t.Fatalf("GET: %d and %d", plain.Code, zipped.Code)
	}
	if plain.Body.Len() < 100<<10 || plain.Header().Get("Content-Encoding") != "" {
		t.Fatalf("page without gzip: %d bytes, Content-Encoding %q; want more than 100 KiB, none", plain.Body.Len(), plain.Header().Get("Content-Encoding"))
	}
	if zipped.Header().Get("Content-Encoding") != "gzip" || zipped.Header().Get("Content-Length") != strconv.Itoa(zipped.Body.Len()) {
		t.Fatalf("page with gzip: Content-Encoding %q, Content-Length %q for %d bytes", zipped.Header().Get("Content-Encoding"), zipped.Header().Get("Content-Length"), zipped.Body.Len())
	}
	zr, err := gzip.NewReader(zipped.Body)
	if err != nil {
		t.Fatal(err)
	}
	body, err := io.ReadAll(zr)
	if err != nil {
		t.Fatal(err)
	}
	_, want := readFeed(t, plain.Body.Bytes())
	_, got := readFeed(t, body)
	if len(want) != 100 || !slices.Equal(ids(got), ids(want)) {
		t.Errorf("gzip page holds %d items, plain page %d; want the same 100", len(got), len(want))
	}
	for _, k := range []string{httpfeed.HeaderToken, httpfeed.HeaderMore, "ETag"} {
		if zipped.Header().Get(k) != plain.Header().Get(k) {
			t.Errorf("%s: %q with gzip, %q without", k, zipped.Header().Get(k), plain.Header().Get(k))
		}
	}
	head := serve(h, newRequest("HEAD", "/?limit=100", nil, "Accept-Encoding", "gzip"))
	if head.Code != 200 || head.Body.Len() != 0 || head.Header().Get(httpfeed.HeaderToken) != plain.Header().Get(httpfeed.HeaderToken) {
		t.Errorf("HEAD: %d with %d bytes, token %q", head.Code, head.Body.Len(), head.Header().Get(httpfeed.HeaderToken))
	}
}
