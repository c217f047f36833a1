package httpfeed

import (
	"bufio"
	"cmp"
	"fmt"
	"io"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/feedsync/go-feedsync/merge"
)

// latencyBuckets are the upper bounds, in seconds, of the request latency
// histogram: from a cached poll to a large merge.
var latencyBuckets = []float64{0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30}

// Metrics counts what Handlers do, and serves the counts in the Prometheus
// text exposition format (ServeHTTP, WriteTo):
//
//   - feedsync_http_requests_total{collection,method,code}: requests.
//   - feedsync_http_request_duration_seconds{collection,method}: a latency
//     histogram.
//   - feedsync_feeds_total{collection,kind}: feeds sent, by kind: full,
//     incremental, not_modified (a 304).
//   - feedsync_merges_total{collection}: POSTed feeds merged (committed).
//   - feedsync_merged_items_total{collection,outcome}: their items by
//     outcome: added, updated, deleted, conflict, unchanged, rejected
//     (FS-MERGE-16).
//   - feedsync_conflicts_total{collection}: items that gained conflicts
//     (FS-CONFLICT-2).
//   - feedsync_waiting_requests{collection}: requests waiting for a
//     change (long polls), now.
//   - feedsync_peer_*{collection,peer}: the state of each Peer added
//     with AddPeer: up, last_sync_timestamp_seconds, syncs_total,
//     errors_total, items_sent_total, items_received_total,
//     items_rejected_total and lag (see PeerStatus).
//
// Share one Metrics between the Handlers of a server. The zero value is
// ready to use, and a nil *Metrics counts nothing. It is safe for
// concurrent use.
type Metrics struct {
	mu        sync.Mutex
	requests  map[requestKey]uint64
	latency   map[latencyKey]*histogram
	feeds     map[[2]string]uint64
	merges    map[string]uint64
	items     map[[2]string]uint64
	conflicts map[string]uint64
	waiting   map[string]int64
	peers     []*Peer
}

type requestKey struct {
	collection, method string
	code               int
}

type latencyKey struct{ collection, method string }

type histogram struct {
	counts []uint64 // per bucket, not cumulative; the last is +Inf
	sum    float64
	n      uint64
}

var _ http.Handler = (*Metrics)(nil)

// methodLabel bounds the method label to the methods HTTP defines.
func methodLabel(m string) string {
	switch m {
	case http.MethodGet, http.MethodHead, http.MethodPost, http.MethodPut, http.MethodDelete,
		http.MethodPatch, http.MethodOptions, http.MethodConnect, http.MethodTrace:
		return m
	}
	return "OTHER"
}

func (m *Metrics) observeRequest(collection, method string, code int, d time.Duration) {
	if m == nil {
		return
	}
	method = methodLabel(method)
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.requests == nil {
		m.requests = make(map[requestKey]uint64)
		m.latency = make(map[latencyKey]*histogram)
	}
	m.requests[requestKey{collection, method, code}]++
	k := latencyKey{collection, method}
	h := m.latency[k]
	if h == nil {
		h = &histogram{counts: make([]uint64, len(latencyBuckets)+1)}
		m.latency[k] = h
	}
	s := d.Seconds()
	i, _ := slices.BinarySearch(latencyBuckets, s)
	h.counts[i]++
	h.sum += s
	h.n++
}

func (m *Metrics) observeFeed(collection, kind string) {
	if m == nil {
		return
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.feeds == nil {
		m.feeds = make(map[[2]string]uint64)
	}
	m.feeds[[2]string{collection, kind}]++
}

func (m *Metrics) observeMerge(collection string, s merge.Summary) {
	if m == nil {
		return
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.merges == nil {
		m.merges = make(map[string]uint64)
		m.items = make(map[[2]string]uint64)
		m.conflicts = make(map[string]uint64)
	}
	m.merges[collection]++
	for _, o := range []struct {
		name string
		n    int
	}{
		{"added", s.Added}, {"updated", s.Updated}, {"deleted", s.Deleted},
		{"conflict", s.Conflicts}, {"unchanged", s.Unchanged}, {"rejected", s.Rejected},
	} {
		m.items[[2]string{collection, o.name}] += uint64(o.n)
	}
	m.conflicts[collection] += uint64(s.Conflicts)
}

func (m *Metrics) addWaiting(collection string, n int64) {
	if m == nil {
		return
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.waiting == nil {
		m.waiting = make(map[string]int64)
	}
	m.waiting[collection] += n
}

// AddPeer adds the state of p to the metrics (feedsync_peer_*).
func (m *Metrics) AddPeer(p *Peer) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.peers = append(m.peers, p)
}

// writePeers writes the peer families; the statuses are read before, as
// they read the stores.
func writePeers(w io.Writer, peers []PeerStatus) {
	type series struct {
		name, typ, help string
		value           func(PeerStatus) float64
	}
	for _, f := range []series{
		{"feedsync_peer_up", "gauge", "1 when the last sync with the peer succeeded.", func(s PeerStatus) float64 {
			if s.LastError == "" && !s.LastSync.IsZero() {
				return 1
			}
			return 0
		}},
		{"feedsync_peer_last_sync_timestamp_seconds", "gauge", "End of the last successful sync with the peer, Unix time; 0 before one.", func(s PeerStatus) float64 {
			if s.LastSync.IsZero() {
				return 0
			}
			return float64(s.LastSync.UnixMilli()) / 1000
		}},
		{"feedsync_peer_syncs_total", "counter", "Successful syncs with the peer.", func(s PeerStatus) float64 { return float64(s.Syncs) }},
		{"feedsync_peer_errors_total", "counter", "Failed syncs with the peer.", func(s PeerStatus) float64 { return float64(s.Errors) }},
		{"feedsync_peer_items_sent_total", "counter", "Items pushed to the peer.", func(s PeerStatus) float64 { return float64(s.ItemsSent) }},
		{"feedsync_peer_items_received_total", "counter", "Changes merged from the peer's feeds.", func(s PeerStatus) float64 { return float64(s.ItemsReceived) }},
		{"feedsync_peer_items_rejected_total", "counter", "Items pushed that the peer rejected.", func(s PeerStatus) float64 { return float64(s.ItemsRejected) }},
		{"feedsync_peer_lag", "gauge", "Local changes made since the last successful sync with the peer began.", func(s PeerStatus) float64 { return float64(s.Lag) }},
	} {
		family(w, f.name, f.typ, f.help)
		for _, s := range peers {
			sample(w, f.name, labels("collection", s.Collection, "peer", s.URL), f.value(s))
		}
	}
}

// ServeHTTP writes the metrics in the Prometheus text format.
func (m *Metrics) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		w.Header().Set("Allow", "GET, HEAD")
		writeProblem(w, http.StatusMethodNotAllowed, Problem{Error: "method " + r.Method + " not allowed"})
		return
	}
	w.Header().Set("Content-Type", "text/plain; version=0.0.4; charset=utf-8")
	m.WriteTo(w)
}

// WriteTo writes the metrics to w in the Prometheus text format, series in
// a fixed order.
func (m *Metrics) WriteTo(w io.Writer) (int64, error) {
	cw := &countWriter{w: bufio.NewWriter(w)}
	if m == nil {
		return 0, nil
	}
	m.mu.Lock()
	peers := slices.Clone(m.peers)
	m.mu.Unlock()
	statuses := make([]PeerStatus, len(peers))
	for i, p := range peers {
		statuses[i] = p.Status()
	}
	slices.SortFunc(statuses, func(a, b PeerStatus) int {
		return cmp.Or(cmp.Compare(a.Collection, b.Collection), cmp.Compare(a.URL, b.URL))
	})
	m.mu.Lock()
	defer m.mu.Unlock()

	family(cw, "feedsync_http_requests_total", "counter", "HTTP requests by collection, method and status code.")
	for _, k := range sortedKeys(m.requests, func(a, b requestKey) int {
		return cmp.Or(cmp.Compare(a.collection, b.collection), cmp.Compare(a.method, b.method), cmp.Compare(a.code, b.code))
	}) {
		sample(cw, "feedsync_http_requests_total", labels("collection", k.collection, "method", k.method, "code", strconv.Itoa(k.code)), float64(m.requests[k]))
	}

	family(cw, "feedsync_http_request_duration_seconds", "histogram", "HTTP request latency by collection and method.")
	for _, k := range sortedKeys(m.latency, func(a, b latencyKey) int {
		return cmp.Or(cmp.Compare(a.collection, b.collection), cmp.Compare(a.method, b.method))
	}) {
		h := m.latency[k]
		base := labels("collection", k.collection, "method", k.method)
		var cum uint64
		for i, c := range h.counts {
			cum += c
			le := "+Inf"
			if i < len(latencyBuckets) {
				le = strconv.FormatFloat(latencyBuckets[i], 'g', -1, 64)
			}
			sample(cw, "feedsync_http_request_duration_seconds_bucket", base+`,le="`+le+`"`, float64(cum))
		}
		sample(cw, "feedsync_http_request_duration_seconds_sum", base, h.sum)
		sample(cw, "feedsync_http_request_duration_seconds_count", base, float64(h.n))
	}

	family(cw, "feedsync_feeds_total", "counter", "Feeds sent by collection and kind (full, incremental, not_modified).")
	for _, k := range sortedKeys(m.feeds, cmpPair) {
		sample(cw, "feedsync_feeds_total", labels("collection", k[0], "kind", k[1]), float64(m.feeds[k]))
	}

	family(cw, "feedsync_merges_total", "counter", "POSTed feeds merged and committed, by collection.")
	for _, k := range sortedKeys(m.merges, strings.Compare) {
		sample(cw, "feedsync_merges_total", labels("collection", k), float64(m.merges[k]))
	}

	family(cw, "feedsync_merged_items_total", "counter", "Items of merged feeds by collection and outcome.")
	for _, k := range sortedKeys(m.items, cmpPair) {
		sample(cw, "feedsync_merged_items_total", labels("collection", k[0], "outcome", k[1]), float64(m.items[k]))
	}

	family(cw, "feedsync_conflicts_total", "counter", "Items that gained conflicting versions in a merge, by collection.")
	for _, k := range sortedKeys(m.conflicts, strings.Compare) {
		sample(cw, "feedsync_conflicts_total", labels("collection", k), float64(m.conflicts[k]))
	}

	family(cw, "feedsync_waiting_requests", "gauge", "Requests waiting for a change (long polls), by collection.")
	for _, k := range sortedKeys(m.waiting, strings.Compare) {
		sample(cw, "feedsync_waiting_requests", labels("collection", k), float64(m.waiting[k]))
	}
	if len(statuses) > 0 {
		writePeers(cw, statuses)
	}

	if cw.err == nil {
		cw.err = cw.w.Flush()
	}
	return cw.n, cw.err
}

func cmpPair(a, b [2]string) int {
	return cmp.Or(strings.Compare(a[0], b[0]), strings.Compare(a[1], b[1]))
}

func sortedKeys[K comparable, V any](m map[K]V, compare func(a, b K) int) []K {
	keys := make([]K, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.SortFunc(keys, compare)
	return keys
}

func family(w io.Writer, name, typ, help string) {
	fmt.Fprintf(w, "# HELP %s %s\n# TYPE %s %s\n", name, help, name, typ)
}

func sample(w io.Writer, name, labels string, v float64) {
	fmt.Fprintf(w, "%s{%s} %s\n", name, labels, strconv.FormatFloat(v, 'g', -1, 64))
}

// labels formats name="value" pairs, escaping values as the text format
// asks (backslash, double quote, newline).
func labels(kv ...string) string {
	var b strings.Builder
	for i := 0; i+1 < len(kv); i += 2 {
		if i > 0 {
			b.WriteByte(',')
		}
		b.WriteString(kv[i])
		b.WriteString(`="`)
		b.WriteString(labelEscaper.Replace(kv[i+1]))
		b.WriteByte('"')
	}
	return b.String()
}

var labelEscaper = strings.NewReplacer(`\`, `\\`, `"`, `\"`, "\n", `\n`)

type countWriter struct {
	w   *bufio.Writer
	n   int64
	err error
}

func (c *countWriter) Write(p []byte) (int, error) {
	if c.err != nil {
		return 0, c.err
	}
	n, err := c.w.Write(p)
	c.n += int64(n)
	c.err = err
	return n, err
}
