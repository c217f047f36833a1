package httpfeed_test

import (
	"context"
	"errors"
	"io"
	"net/http"
	"sync/atomic"
	"testing"

	"github.com/feedsync/go-feedsync/httpfeed"
	"github.com/feedsync/go-feedsync/producer"
	"github.com/feedsync/go-feedsync/store"
)

// syncOK runs c.Sync and fails the test on error.
func syncOK(t testing.TB, c *httpfeed.Client, st store.Store, dir httpfeed.Direction) httpfeed.SyncResult {
	t.Helper()
	res, err := c.Sync(context.Background(), st, dir)
	if err != nil {
		t.Fatalf("sync %s as %s: %v", dir, c.Peer, err)
	}
	return res
}

// sameManifests fails the test unless every store holds the same items,
// winners, tombstones and conflicts (FS-MERGE-14).
func sameManifests(t testing.TB, names []string, stores []store.Store) {
	t.Helper()
	want := manifest(t, stores[0])
	if len(want) == 0 {
		t.Fatalf("%s holds no items", names[0])
	}
	for i := 1; i < len(stores); i++ {
		if d := producer.Diff(want, manifest(t, stores[i])); len(d) > 0 {
			t.Errorf("%s and %s differ on %d items, first: %s", names[0], names[i], len(d), d[0])
		}
	}
}

func TestSyncTwoClients(t *testing.T) {
	server := newMemory(t)
	srv := newServer(t, &httpfeed.Handler{Store: server})
	a, b := newMemory(t), newSQLite(t)
	ca := &httpfeed.Client{URL: srv.URL, Peer: "laptop", HTTP: testClient}
	cb := &httpfeed.Client{URL: srv.URL, Peer: "phone", HTTP: testClient}

	edit(t, a, "x", "laptop", 1)
	edit(t, a, "y", "laptop", 2)
	res := syncOK(t, ca, a, httpfeed.Both)
	// a holds items: both directions go by versions first (FS-KNOW-1), and
	// nothing a pushed comes back (no echo).
	if res.PushedItems != 2 || res.Pushed == nil || res.Pushed.Added != 2 || res.PulledKind != "versions" || res.Pulled.Changed() || res.Pulled.Unchanged != 0 {
		t.Errorf("first sync of a: %+v, want 2 pushed and added, versions first, nothing pulled back", res)
	}
	res = syncOK(t, cb, b, httpfeed.Both)
	if res.Pulled.Added != 2 {
		t.Errorf("first sync of b pulled %+v, want 2 added", res.Pulled)
	}
	// b had nothing to push the first time; what it pulled is not pushed
	// back the second time.
	if res := syncOK(t, cb, b, httpfeed.Both); res.PushedItems != 0 || res.Pulled.Changed() {
		t.Errorf("second sync of b: %+v, want nothing pushed or pulled", res)
	}

	// Concurrent edits of x: a conflict, which both sides end up holding.
	edit(t, a, "x", "laptop", 10)
	edit(t, b, "x", "phone", 11)
	edit(t, b, "z", "phone", 12)
	syncOK(t, ca, a, httpfeed.Both)
	res = syncOK(t, cb, b, httpfeed.Both)
	if res.Pushed.Conflicts != 1 || res.Pushed.Added != 1 {
		t.Errorf("b's push: %+v, want 1 conflict and 1 added at the server", res.Pushed)
	}
	syncOK(t, ca, a, httpfeed.Both)
	sameManifests(t, []string{"server", "a", "b"}, []store.Store{server, a, b})
	if n := len(get(t, a, "x").Sync.Conflicts); n != 1 {
		t.Errorf("x at a has %d conflict copies, want 1", n)
	}

	// Converged: rounds without edits exchange nothing (echo suppression on
	// both sides).
	for _, c := range []struct {
		cl *httpfeed.Client
		st store.Store
	}{{ca, a}, {cb, b}, {ca, a}} {
		res := syncOK(t, c.cl, c.st, httpfeed.Both)
		if res.PushedItems != 0 || res.Pulled.Changed() || res.Pulled.Unchanged != 0 || res.PulledKind != httpfeed.FeedIncremental {
			t.Errorf("idle sync of %s: %+v, want nothing pushed or pulled", c.cl.Peer, res)
		}
	}
}

func TestSyncDirections(t *testing.T) {
	server := newMemory(t)
	srv := newServer(t, &httpfeed.Handler{Store: server})
	put(t, server, create("from-server", "srv", 1))
	local := newMemory(t)
	edit(t, local, "from-local", "laptop", 2)
	c := &httpfeed.Client{URL: srv.URL, Peer: "laptop", HTTP: testClient}

	res := syncOK(t, c, local, httpfeed.Pull)
	if res.Pushed != nil || res.Pulled.Added != 1 || get(t, server, "from-local") != nil {
		t.Errorf("pull: %+v; server has from-local: %v; want only the pull", res, get(t, server, "from-local") != nil)
	}
	put(t, server, create("later", "srv", 3))
	res = syncOK(t, c, local, httpfeed.Push)
	if res.Pushed == nil || res.Pushed.Added != 1 || res.PulledKind != "" || get(t, local, "later") != nil {
		t.Errorf("push: %+v; local has later: %v; want only the push", res, get(t, local, "later") != nil)
	}
	// The pull token survived the push: the next pull is incremental.
	res = syncOK(t, c, local, httpfeed.Pull)
	if res.PulledKind != httpfeed.FeedIncremental || res.Pulled.Added != 1 || get(t, local, "later") == nil {
		t.Errorf("second pull: %+v, want the one change, incremental", res)
	}
}

// breakingTransport cuts the response body of the request it is armed for
// (the first one match accepts, any with match nil) after limit bytes, as a
// connection that dies mid-transfer.
type breakingTransport struct {
	armed atomic.Bool
	limit int64
	match func(*http.Request) bool
}

func (b *breakingTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	resp, err := http.DefaultTransport.RoundTrip(req)
	if err != nil || (b.match != nil && !b.match(req)) || !b.armed.CompareAndSwap(true, false) {
		return resp, err
	}
	resp.Body = &brokenBody{r: io.LimitReader(resp.Body, b.limit), c: resp.Body}
	return resp, nil
}

type brokenBody struct {
	r io.Reader
	c io.Closer
}

var errCut = errors.New("connection cut")

func (b *brokenBody) Read(p []byte) (int, error) {
	n, err := b.r.Read(p)
	if err == io.EOF {
		return n, errCut
	}
	return n, err
}

func (b *brokenBody) Close() error { return b.c.Close() }

func TestSyncResumesAfterBrokenTransfer(t *testing.T) {
	server := newMemory(t)
	srv := newServer(t, &httpfeed.Handler{Store: server})
	for i := range 40 {
		edit(t, server, "s"+itoa(i), "srv", i)
	}
	local := newSQLite(t)
	edit(t, local, "mine", "laptop", 1)
	// The cut comes in the first fetch of the server's items: the pull
	// goes first, and nothing of it lands.
	bt := &breakingTransport{limit: 3000, match: func(r *http.Request) bool { return r.URL.Query().Has("items") }}
	bt.armed.Store(true)
	c := &httpfeed.Client{URL: srv.URL, Peer: "laptop", HTTP: &http.Client{Transport: bt, Timeout: testClient.Timeout}}

	before := lastSeq(t, local)
	if _, err := c.Sync(context.Background(), local, httpfeed.Both); !errors.Is(err, errCut) {
		t.Fatalf("sync over a cut connection: %v, want the cut", err)
	}
	if got := lastSeq(t, local); got != before || count(t, local) != 1 {
		t.Fatalf("local store changed by a failed sync: seq %d → %d, %d items", before, got, count(t, local))
	}

	// The next sync goes on by versions first, and pushes.
	res := syncOK(t, c, local, httpfeed.Both)
	if res.PushedItems != 1 || res.PulledKind != "versions" || res.Pulled.Added != 40 {
		t.Errorf("resumed sync: %+v, want 1 pushed and 40 added by versions first", res)
	}
	sameManifests(t, []string{"server", "local"}, []store.Store{server, local})
}

func TestSyncServerLostItsData(t *testing.T) {
	var h atomic.Pointer[httpfeed.Handler]
	h.Store(&httpfeed.Handler{Store: newMemory(t)})
	srv := newServer(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { h.Load().ServeHTTP(w, r) }))
	local := newMemory(t)
	c := &httpfeed.Client{URL: srv.URL, Peer: "laptop", HTTP: testClient}
	edit(t, local, "early", "laptop", 1)
	syncOK(t, c, local, httpfeed.Both)
	edit(t, local, "late", "laptop", 2)
	syncOK(t, c, local, httpfeed.Both)

	// The server comes back with an empty store: the token is foreign, and
	// the client pushes everything again in the same Sync.
	fresh := newMemory(t)
	h.Store(&httpfeed.Handler{Store: fresh})
	res := syncOK(t, c, local, httpfeed.Both)
	if res.TokenRejected == "" {
		t.Errorf("sync with a wiped server: no rejected token reported")
	}
	for _, id := range []string{"early", "late"} {
		if get(t, fresh, id) == nil {
			t.Errorf("the wiped server did not get %q back", id)
		}
	}
}

func TestSyncAuth(t *testing.T) {
	server := newMemory(t)
	srv := newServer(t, httpfeed.BearerAuth(map[string]string{"tok": "laptop"}, &httpfeed.Handler{Store: server}))
	local := newMemory(t)
	edit(t, local, "a", "laptop", 1)

	_, err := (&httpfeed.Client{URL: srv.URL, Token: "bad", HTTP: testClient}).Sync(context.Background(), local, httpfeed.Both)
	var se *httpfeed.StatusError
	if !errors.As(err, &se) || se.StatusCode != 401 || se.Problem.Error == "" {
		t.Fatalf("sync with a bad token: %v, want a 401 StatusError with the problem", err)
	}
	syncOK(t, &httpfeed.Client{URL: srv.URL, Token: "tok", HTTP: testClient}, local, httpfeed.Both)
	withTx(t, server, false, func(tx store.Tx) {
		if _, ok, err := tx.PeerVersion(context.Background(), "laptop", "a"); err != nil || !ok {
			t.Errorf("the server did not record the principal's version (%v)", err)
		}
	})
}

func TestClientStatusError(t *testing.T) {
	srv := newServer(t, &httpfeed.Handler{Store: newMemory(t)})
	c := &httpfeed.Client{URL: srv.URL, HTTP: testClient, NoGzip: true}
	_, err := c.Post(context.Background(), io.NopCloser(io.MultiReader()), "", false)
	var se *httpfeed.StatusError
	if !errors.As(err, &se) || se.StatusCode != 400 {
		t.Fatalf("post of an empty body: %v, want a 400 StatusError", err)
	}
}
