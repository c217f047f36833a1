package httpfeed_test

import (
	"context"
	"io"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/feedsync/go-feedsync/httpfeed"
	"github.com/feedsync/go-feedsync/store"
)

// longPollWait is the wait the long-poll tests ask for. A test that expects
// a wake-up checks that it came well before this, which a server that only
// answered at the timeout cannot pass, without bounding how fast it is.
const longPollWait = 30 * time.Second

// tokenOf GETs the complete feed from srv and returns its token.
func tokenOf(t *testing.T, url string) string {
	t.Helper()
	resp, err := testClient.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	io.Copy(io.Discard, resp.Body)
	if resp.StatusCode != 200 {
		t.Fatalf("GET %s: %d", url, resp.StatusCode)
	}
	return resp.Header.Get(httpfeed.HeaderToken)
}

// polled is the outcome of a long poll.
type polled struct {
	resp    *http.Response
	body    []byte
	err     error
	elapsed time.Duration
}

// longPoll starts GET url?since=tok&wait=... as peer and returns where its
// outcome arrives.
func longPoll(ctx context.Context, url, tok, peer string, wait time.Duration) <-chan polled {
	out := make(chan polled, 1)
	go func() {
		start := time.Now()
		req, err := http.NewRequestWithContext(ctx, "GET", url+"?since="+tok+"&wait="+wait.String(), nil)
		if err != nil {
			out <- polled{err: err}
			return
		}
		if peer != "" {
			req.Header.Set(httpfeed.HeaderPeer, peer)
		}
		resp, err := (&http.Client{Timeout: 2 * longPollWait}).Do(req)
		if err != nil {
			out <- polled{err: err, elapsed: time.Since(start)}
			return
		}
		body, err := io.ReadAll(resp.Body)
		resp.Body.Close()
		out <- polled{resp: resp, body: body, err: err, elapsed: time.Since(start)}
	}()
	return out
}

// waitFor waits (bounded) until h has n requests waiting, as its metrics say.
func waitFor(t *testing.T, m *httpfeed.Metrics, collection string, n int) {
	t.Helper()
	want := `feedsync_waiting_requests{collection="` + collection + `"} ` + itoa(n)
	for range 1000 {
		var b strings.Builder
		m.WriteTo(&b)
		if strings.Contains(b.String(), want) || (n == 0 && !strings.Contains(b.String(), "feedsync_waiting_requests{")) {
			return
		}
		time.Sleep(10 * time.Millisecond)
	}
	t.Fatalf("never saw %s", want)
}

func postFeed(t *testing.T, url, peer string, body []byte) {
	t.Helper()
	req, err := http.NewRequest("POST", url, strings.NewReader(string(body)))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set(httpfeed.HeaderPeer, peer)
	resp, err := testClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 200 {
		t.Fatalf("POST as %s: %d", peer, resp.StatusCode)
	}
}

// wantWoken checks that a long poll answered with a feed holding want,
// well before its wait was over.
func wantWoken(t *testing.T, ch <-chan polled, want ...string) {
	t.Helper()
	var p polled
	select {
	case p = <-ch:
	case <-time.After(2 * longPollWait):
		t.Fatal("the long poll never answered")
	}
	if p.err != nil {
		t.Fatal(p.err)
	}
	if p.resp.StatusCode != 200 {
		t.Fatalf("long poll: %d %s, want 200 with the change", p.resp.StatusCode, p.body)
	}
	if p.elapsed >= longPollWait/2 {
		t.Errorf("the long poll answered after %v of its %v: not woken by the change", p.elapsed, longPollWait)
	}
	if got := p.resp.Header.Get(httpfeed.HeaderWait); got != "30" {
		t.Errorf("%s = %q, want 30", httpfeed.HeaderWait, got)
	}
	_, items := readFeed(t, p.body)
	if got := ids(items); !slices.Equal(got, want) {
		t.Errorf("long poll feed items = %v, want %v", got, want)
	}
}

func TestLongPollWakesOnChange(t *testing.T) {
	for _, tc := range []struct {
		name string
		open func(testing.TB) store.Store
	}{{"memory", newMemory}, {"sqlite", newSQLite}} {
		t.Run(tc.name, func(t *testing.T) {
			st := tc.open(t)
			put(t, st, create("a", "laptop", 1))
			m := &httpfeed.Metrics{}
			srv := newServer(t, &httpfeed.Handler{Store: st, Metrics: m})
			tok := tokenOf(t, srv.URL)

			ch := longPoll(t.Context(), srv.URL, tok, "tablet", longPollWait)
			waitFor(t, m, "", 1)
			postFeed(t, srv.URL, "phone", feedOf(t, create("b", "phone", 2)))
			wantWoken(t, ch, "b")
			waitFor(t, m, "", 0)
		})
	}
}

// The peer's own POST is not a change for it (echo suppression): its long
// poll keeps waiting, and answers when another endpoint's change lands.
func TestLongPollIgnoresOwnChanges(t *testing.T) {
	st := newMemory(t)
	put(t, st, create("a", "laptop", 1))
	m := &httpfeed.Metrics{}
	srv := newServer(t, &httpfeed.Handler{Store: st, Metrics: m})
	tok := tokenOf(t, srv.URL)

	ch := longPoll(t.Context(), srv.URL, tok, "phone", longPollWait)
	waitFor(t, m, "", 1)
	postFeed(t, srv.URL, "phone", feedOf(t, create("own", "phone", 2)))
	select {
	case p := <-ch:
		t.Fatalf("the peer's own change woke its long poll: %+v", p)
	case <-time.After(300 * time.Millisecond):
	}
	postFeed(t, srv.URL, "laptop", feedOf(t, create("other", "laptop", 3)))
	wantWoken(t, ch, "other")
}

func TestLongPollTimesOut(t *testing.T) {
	st := newMemory(t)
	put(t, st, create("a", "laptop", 1))
	srv := newServer(t, &httpfeed.Handler{Store: st})
	tok := tokenOf(t, srv.URL)
	p := <-longPoll(t.Context(), srv.URL, tok, "", time.Second)
	if p.err != nil {
		t.Fatal(p.err)
	}
	if p.resp.StatusCode != http.StatusNotModified {
		t.Fatalf("long poll without changes: %d, want 304", p.resp.StatusCode)
	}
	if got := p.resp.Header.Get(httpfeed.HeaderWait); got != "1" {
		t.Errorf("%s = %q, want 1", httpfeed.HeaderWait, got)
	}
}

// The server caps the wait, and says so.
func TestLongPollCapped(t *testing.T) {
	st := newMemory(t)
	put(t, st, create("a", "laptop", 1))
	srv := newServer(t, &httpfeed.Handler{Store: st, MaxWait: time.Second})
	tok := tokenOf(t, srv.URL)
	p := <-longPoll(t.Context(), srv.URL, tok, "", time.Hour)
	if p.err != nil {
		t.Fatal(p.err)
	}
	if p.resp.StatusCode != http.StatusNotModified || p.resp.Header.Get(httpfeed.HeaderWait) != "1" {
		t.Fatalf("long poll of an hour against MaxWait 1s: %d, %s %q; want 304 after 1s", p.resp.StatusCode, httpfeed.HeaderWait, p.resp.Header.Get(httpfeed.HeaderWait))
	}
}

// Requests that need no wait pass at once: no since (the complete feed),
// a token of another store, and requests to a server that does not wait
// or has too many waiting (which say so by leaving out FeedSync-Wait).
func TestLongPollPassesAtOnce(t *testing.T) {
	st := newMemory(t)
	put(t, st, create("a", "laptop", 1))
	other := newMemory(t)
	put(t, other, create("x", "laptop", 1))
	otherTok := tokenOf(t, newServer(t, &httpfeed.Handler{Store: other}).URL)

	waiting := &httpfeed.Metrics{}
	busy := &httpfeed.Handler{Store: st, MaxWaiters: 1, Metrics: waiting}
	busySrv := newServer(t, busy)
	tok := tokenOf(t, busySrv.URL)
	blocker := longPoll(t.Context(), busySrv.URL, tok, "", longPollWait)
	waitFor(t, waiting, "", 1)

	for _, tc := range []struct {
		name, url, since string
		status           int
		header           string
	}{
		{"no since", newServer(t, &httpfeed.Handler{Store: st}).URL, "", 200, "30"},
		{"token of another store", newServer(t, &httpfeed.Handler{Store: st}).URL, otherTok, 200, "30"},
		{"server that does not wait", newServer(t, &httpfeed.Handler{Store: st, MaxWait: -1}).URL, tok, 200, ""},
		{"too many waiting", busySrv.URL, tok, 200, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p := <-longPoll(t.Context(), tc.url, tc.since, "", longPollWait)
			if p.err != nil {
				t.Fatal(p.err)
			}
			if p.resp.StatusCode != tc.status || p.elapsed >= longPollWait/2 {
				t.Errorf("status %d after %v, want %d at once", p.resp.StatusCode, p.elapsed, tc.status)
			}
			if got := p.resp.Header.Get(httpfeed.HeaderWait); got != tc.header {
				t.Errorf("%s = %q, want %q", httpfeed.HeaderWait, got, tc.header)
			}
		})
	}
	postFeed(t, busySrv.URL, "phone", feedOf(t, create("b", "phone", 2)))
	wantWoken(t, blocker, "b")
}

func TestLongPollBadWait(t *testing.T) {
	h := &httpfeed.Handler{Store: newMemory(t)}
	for _, w := range []string{"soon", "-5s", "-5"} {
		rec := serve(h, newRequest("GET", "http://example.org/?since=x&wait="+w, nil))
		if rec.Code != http.StatusBadRequest || !strings.Contains(rec.Body.String(), "wait") {
			t.Errorf("wait=%s: %d %s, want 400 naming wait", w, rec.Code, rec.Body)
		}
	}
}

// A client that goes away stops waiting; closing Stop (server shutdown)
// answers every waiter at once.
func TestLongPollEnds(t *testing.T) {
	st := newMemory(t)
	put(t, st, create("a", "laptop", 1))
	m := &httpfeed.Metrics{}
	stop := make(chan struct{})
	srv := newServer(t, &httpfeed.Handler{Store: st, Metrics: m, Stop: stop})
	tok := tokenOf(t, srv.URL)

	ctx, cancel := context.WithCancel(t.Context())
	gone := longPoll(ctx, srv.URL, tok, "", longPollWait)
	waitFor(t, m, "", 1)
	cancel()
	if p := <-gone; p.err == nil {
		t.Errorf("a cancelled long poll got %d", p.resp.StatusCode)
	}
	waitFor(t, m, "", 0)

	ch := longPoll(t.Context(), srv.URL, tok, "", longPollWait)
	waitFor(t, m, "", 1)
	close(stop)
	p := <-ch
	if p.err != nil {
		t.Fatal(p.err)
	}
	if p.resp.StatusCode != http.StatusNotModified || p.elapsed >= longPollWait/2 {
		t.Errorf("long poll at shutdown: %d after %v, want 304 at once", p.resp.StatusCode, p.elapsed)
	}
}

// Two servers sharing one PostgreSQL schema: a change POSTed to one wakes
// a client waiting on the other (LISTEN/NOTIFY between their stores).
func TestLongPollSharedPostgres(t *testing.T) {
	dsn := postgresDSN(t)
	schema := newPostgresSchema(t, dsn)
	a, b := openPostgres(t, dsn, schema), openPostgres(t, dsn, schema)
	put(t, a, create("a", "laptop", 1))
	mb := &httpfeed.Metrics{}
	srvA := newServer(t, &httpfeed.Handler{Store: a})
	srvB := newServer(t, &httpfeed.Handler{Store: b, Metrics: mb})
	tok := tokenOf(t, srvB.URL)

	ch := longPoll(t.Context(), srvB.URL, tok, "tablet", longPollWait)
	waitFor(t, mb, "", 1)
	postFeed(t, srvA.URL, "phone", feedOf(t, create("b", "phone", 2)))
	wantWoken(t, ch, "b")
}

// Client.Wait and Client.Await against servers that long-poll and servers
// that do not.
func TestClientWait(t *testing.T) {
	st := newMemory(t)
	put(t, st, create("a", "laptop", 1))
	m := &httpfeed.Metrics{}
	srv := newServer(t, &httpfeed.Handler{Store: st, Metrics: m})
	tok := tokenOf(t, srv.URL)
	c := &httpfeed.Client{URL: srv.URL, Peer: "tablet"}

	changed, supported, err := c.Wait(t.Context(), tok, time.Second)
	if err != nil || changed || !supported {
		t.Fatalf("Wait without changes = %v, %v, %v; want false, true, nil", changed, supported, err)
	}
	done := make(chan struct{})
	start := time.Now()
	go func() {
		defer close(done)
		c.Await(t.Context(), nil, tok, longPollWait)
	}()
	waitFor(t, m, "", 1)
	postFeed(t, srv.URL, "phone", feedOf(t, create("b", "phone", 2)))
	<-done
	if d := time.Since(start); d >= longPollWait/2 {
		t.Errorf("Await returned after %v of %v: not woken by the change", d, longPollWait)
	}

	// A local commit ends Await too.
	local := newMemory(t)
	tok = tokenOf(t, srv.URL)
	done = make(chan struct{})
	start = time.Now()
	go func() {
		defer close(done)
		c.Await(t.Context(), httpfeed.Changes(local), tok, longPollWait)
	}()
	waitFor(t, m, "", 1)
	put(t, local, create("l", "tablet", 3))
	<-done
	if d := time.Since(start); d >= longPollWait/2 {
		t.Errorf("Await returned after %v of %v: not woken by the local change", d, longPollWait)
	}

	old := newServer(t, &httpfeed.Handler{Store: st, MaxWait: -1})
	c = &httpfeed.Client{URL: old.URL}
	changed, supported, err = c.Wait(t.Context(), tok, time.Second)
	if err != nil || supported {
		t.Fatalf("Wait against a server that does not wait = %v, %v, %v; want supported false", changed, supported, err)
	}
	start = time.Now()
	c.Await(t.Context(), nil, tok, 1500*time.Millisecond)
	if d := time.Since(start); d < time.Second {
		t.Errorf("Await against a server that does not wait returned after %v, want the whole 1.5s (polling)", d)
	}
}
