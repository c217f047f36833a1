package httpfeed_test

import (
	"strings"
	"testing"

	"github.com/feedsync/go-feedsync/httpfeed"
)

func TestMetrics(t *testing.T) {
	st := newMemory(t)
	m := &httpfeed.Metrics{}
	h := &httpfeed.Handler{Store: st, Name: `ta"sks`, Metrics: m}
	base := create("a", "laptop", 1)
	put(t, st, update(base, "laptop", 2))
	serve(h, newRequest("POST", "/", feedOf(t, update(base, "phone", 3), create("b", "phone", 4)), httpfeed.HeaderPeer, "phone"))
	serve(h, newRequest("POST", "/", []byte("<rss"), httpfeed.HeaderPeer, "phone"))
	rec := serve(h, newRequest("GET", "/", nil))
	tag := rec.Header().Get("ETag")
	serve(h, newRequest("GET", "/", nil, "If-None-Match", tag))
	serve(h, newRequest("BREW", "/", nil))

	rec = serve(m, newRequest("GET", "/metrics", nil))
	if got := rec.Header().Get("Content-Type"); !strings.HasPrefix(got, "text/plain; version=0.0.4") {
		t.Errorf("Content-Type %q", got)
	}
	out := rec.Body.String()
	for _, want := range []string{
		"# TYPE feedsync_http_requests_total counter\n",
		`feedsync_http_requests_total{collection="ta\"sks",method="POST",code="200"} 1` + "\n",
		`feedsync_http_requests_total{collection="ta\"sks",method="POST",code="400"} 1` + "\n",
		`feedsync_http_requests_total{collection="ta\"sks",method="GET",code="200"} 1` + "\n",
		`feedsync_http_requests_total{collection="ta\"sks",method="GET",code="304"} 1` + "\n",
		`feedsync_http_requests_total{collection="ta\"sks",method="OTHER",code="405"} 1` + "\n",
		"# TYPE feedsync_http_request_duration_seconds histogram\n",
		`feedsync_http_request_duration_seconds_bucket{collection="ta\"sks",method="GET",le="+Inf"} 2` + "\n",
		`feedsync_http_request_duration_seconds_count{collection="ta\"sks",method="POST"} 2` + "\n",
		`feedsync_feeds_total{collection="ta\"sks",kind="full"} 1` + "\n",
		`feedsync_feeds_total{collection="ta\"sks",kind="not_modified"} 1` + "\n",
		`feedsync_merges_total{collection="ta\"sks"} 1` + "\n",
		`feedsync_merged_items_total{collection="ta\"sks",outcome="added"} 1` + "\n",
		`feedsync_merged_items_total{collection="ta\"sks",outcome="conflict"} 1` + "\n",
		`feedsync_conflicts_total{collection="ta\"sks"} 1` + "\n",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("metrics lack %q:\n%s", want, out)
		}
	}
	// Buckets are cumulative and end with the count.
	var last string
	for line := range strings.Lines(out) {
		if strings.HasPrefix(line, `feedsync_http_request_duration_seconds_bucket{collection="ta\"sks",method="POST"`) {
			last = line
		}
	}
	if !strings.HasSuffix(last, "} 2\n") || !strings.Contains(last, `le="+Inf"`) {
		t.Errorf("last POST bucket %q, want le=+Inf with 2", last)
	}

	var nilMetrics *httpfeed.Metrics
	if n, err := nilMetrics.WriteTo(&strings.Builder{}); n != 0 || err != nil {
		t.Errorf("nil Metrics wrote %d bytes, %v", n, err)
	}
}
