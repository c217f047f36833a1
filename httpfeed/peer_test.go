package httpfeed_test

import (
	"context"
	"net/http"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/feedsync/go-feedsync/httpfeed"
	"github.com/feedsync/go-feedsync/store"
)

// waitItem waits (bounded) until st holds item id, and returns how long it
// took.
func waitItem(t *testing.T, st store.Store, id string) time.Duration {
	t.Helper()
	start := time.Now()
	for range 2000 {
		if get(t, st, id) != nil {
			return time.Since(start)
		}
		time.Sleep(5 * time.Millisecond)
	}
	t.Fatalf("item %s never arrived", id)
	return 0
}

// A Peer keeps two stores in sync both ways, each change arriving long
// before its Interval: the remote's by long poll, the local one by the
// store's notification.
func TestPeerSyncsBothWays(t *testing.T) {
	local, remote := newSQLite(t), newSQLite(t)
	srv := newServer(t, &httpfeed.Handler{Store: remote})
	p := &httpfeed.Peer{
		Client:   &httpfeed.Client{URL: srv.URL, Peer: "local"},
		Store:    local,
		Interval: time.Hour,
	}
	ctx, cancel := context.WithCancel(t.Context())
	var wg sync.WaitGroup
	wg.Go(func() { p.Run(ctx) })
	defer wg.Wait()
	defer cancel()

	edit(t, remote, "from-remote", "phone", 1)
	if d := waitItem(t, local, "from-remote"); d > 30*time.Second {
		t.Errorf("the remote change took %v", d)
	}
	edit(t, local, "from-local", "laptop", 2)
	waitItem(t, remote, "from-local")
	// The server has the item before the sync that sent it ends.
	st := waitStatus(t, p, func(s httpfeed.PeerStatus) bool { return s.ItemsSent > 0 })
	if st.Syncs == 0 || st.ItemsSent != 1 || st.ItemsReceived != 1 || st.Errors != 0 || st.URL != srv.URL {
		t.Errorf("Status = %+v, want syncs, 1 item sent, 1 received, no errors", st)
	}
}

// A server that answers 503 with Retry-After is not asked again before
// that time, and the peer syncs once it answers.
func TestPeerHonoursRetryAfter(t *testing.T) {
	local, remote := newMemory(t), newMemory(t)
	edit(t, remote, "x", "phone", 1)
	h := &httpfeed.Handler{Store: remote}
	var calls atomic.Int32
	var first, second atomic.Int64
	srv := newServer(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch calls.Add(1) {
		case 1:
			first.Store(time.Now().UnixNano())
			w.Header().Set("Retry-After", "2")
			http.Error(w, "busy", http.StatusServiceUnavailable)
			return
		case 2:
			second.Store(time.Now().UnixNano())
		}
		h.ServeHTTP(w, r)
	}))
	p := &httpfeed.Peer{Client: &httpfeed.Client{URL: srv.URL, Peer: "local"}, Store: local, Interval: time.Hour}
	ctx, cancel := context.WithCancel(t.Context())
	var wg sync.WaitGroup
	wg.Go(func() { p.Run(ctx) })
	defer wg.Wait()
	defer cancel()
	waitItem(t, local, "x")
	waitStatus(t, p, func(s httpfeed.PeerStatus) bool { return s.Syncs > 0 })
	if gap := time.Duration(second.Load() - first.Load()); gap < 2*time.Second {
		t.Errorf("asked again %v after a 503 with Retry-After: 2", gap)
	}
	if st := p.Status(); st.Errors != 1 || st.Syncs == 0 || st.LastError != "" {
		t.Errorf("Status = %+v, want 1 error, then syncs and no error now", st)
	}
}

// waitStatus waits (bounded) until p's status satisfies ok, and returns it.
func waitStatus(t *testing.T, p *httpfeed.Peer, ok func(httpfeed.PeerStatus) bool) httpfeed.PeerStatus {
	t.Helper()
	st := p.Status()
	for i := 0; !ok(st) && i < 2000; i++ {
		time.Sleep(10 * time.Millisecond)
		st = p.Status()
	}
	return st
}
