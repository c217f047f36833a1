package httpfeed_test

import (
	"context"
	"testing"
	"time"

	"github.com/feedsync/go-feedsync/feedsync"
	"github.com/feedsync/go-feedsync/httpfeed"
	"github.com/feedsync/go-feedsync/store"
)

// deleteItem deletes item id in st as endpoint by.
func deleteItem(t testing.TB, st store.Store, id, by string, minute int) {
	t.Helper()
	withTx(t, st, true, func(tx store.Tx) {
		ctx := context.Background()
		it, err := tx.Get(ctx, id)
		if err != nil || it == nil {
			t.Fatalf("delete %q: %v (found %v)", id, err, it != nil)
		}
		if _, err := tx.Put(ctx, must(feedsync.Delete(it, stamp(by, minute)))); err != nil {
			t.Fatal(err)
		}
	})
}

// alive reports whether st holds item id as a live item (a winner not
// deleted, or any live conflict copy).
func alive(t testing.TB, st store.Store, id string) bool {
	t.Helper()
	it := get(t, st, id)
	if it == nil {
		return false
	}
	if !it.Sync.Deleted {
		return true
	}
	for _, c := range it.Sync.Conflicts {
		if !c.Sync.Deleted {
			return true
		}
	}
	return false
}

// storeKinds opens fresh stores of one kind for a scenario.
var storeKinds = []struct {
	name string
	open func(t *testing.T) func() store.Store
}{
	{"memory", func(t *testing.T) func() store.Store { return func() store.Store { return newMemory(t) } }},
	{"sqlite", func(t *testing.T) func() store.Store { return func() store.Store { return newSQLite(t) } }},
	{"postgres", func(t *testing.T) func() store.Store {
		dsn := postgresDSN(t)
		return func() store.Store { return openPostgres(t, dsn, newPostgresSchema(t, dsn)) }
	}},
}

// TestRetainNoResurrection drives FS-RETAIN-1..3 over real HTTP: the
// server forgets tombstones (store.Compact); a client that synced within
// the window keeps its token and brings nothing back; a client that last
// synced before the deletions is refused (FS-RETAIN-2), removes what the
// server had deleted and knew (pushed by it, or received from the server),
// and keeps and sends its own unsynced changes (FS-RETAIN-3); a pull-only
// client pushing for the first time re-initialises before it pushes; and
// an endpoint syncing from the re-initialised client forgets in turn.
func TestRetainNoResurrection(t *testing.T) {
	for _, kind := range storeKinds {
		t.Run(kind.name, func(t *testing.T) {
			newStore := kind.open(t)
			testRetainNoResurrection(t, newStore)
		})
	}
}

func testRetainNoResurrection(t *testing.T, newStore func() store.Store) {
	ctx := context.Background()
	server := newStore()
	srv := newServer(t, &httpfeed.Handler{Store: server})
	client := func(peer string) *httpfeed.Client {
		return &httpfeed.Client{URL: srv.URL, Peer: peer, HTTP: testClient}
	}
	a, b, c := newStore(), newStore(), newStore()
	ca, cb, cc := client("laptop"), client("phone"), client("reader")
	// d syncs from a, which serves its store too (a mesh).
	d := newStore()
	cd := &httpfeed.Client{URL: newServer(t, &httpfeed.Handler{Store: a}).URL, Peer: "desk", HTTP: testClient}

	// a creates a1 and a2 and pushes them; the server and b create s1
	// and b1; everyone syncs; c only ever pulled.
	edit(t, a, "a1", "laptop", 1)
	edit(t, a, "a2", "laptop", 2)
	syncOK(t, ca, a, httpfeed.Both)
	edit(t, server, "s1", "server", 3)
	edit(t, b, "b1", "phone", 4)
	syncOK(t, cb, b, httpfeed.Both)
	syncOK(t, ca, a, httpfeed.Both)
	syncOK(t, cc, c, httpfeed.Pull)
	syncOK(t, cd, d, httpfeed.Both)
	for _, id := range []string{"a1", "a2", "s1", "b1"} {
		if !alive(t, a, id) || !alive(t, c, id) {
			t.Fatalf("setup: %s missing at a or c", id)
		}
	}

	// b deletes a1, b1 and s1; a, away, edits s1 and creates a3.
	syncOK(t, cb, b, httpfeed.Both)
	for _, id := range []string{"a1", "b1", "s1"} {
		deleteItem(t, b, id, "phone", 10)
	}
	syncOK(t, cb, b, httpfeed.Both)
	edit(t, a, "s1", "laptop", 11)
	edit(t, a, "a3", "laptop", 12)

	// The server forgets the three tombstones.
	t0 := time.Now()
	for _, at := range []time.Time{t0, t0.Add(2 * time.Hour)} {
		if _, err := store.Compact(ctx, server, store.CompactOptions{Retain: time.Hour, Now: func() time.Time { return at }}); err != nil {
			t.Fatal(err)
		}
	}
	for _, id := range []string{"a1", "b1", "s1"} {
		if get(t, server, id) != nil {
			t.Fatalf("compaction kept the tombstone of %s", id)
		}
	}

	// b synced within the window: its token stands, and its tombstones
	// stay tombstones.
	res := syncOK(t, cb, b, httpfeed.Both)
	if res.TokenRejected != "" || res.PulledKind != httpfeed.FeedIncremental || res.Forgotten != 0 {
		t.Errorf("sync of b within the window: %+v, want its token accepted", res)
	}

	// a last synced before the deletions: refused, re-initialised.
	res = syncOK(t, ca, a, httpfeed.Both)
	if res.TokenRejected == "" || res.PulledKind != "versions" {
		t.Errorf("sync of a: %+v, want its token refused and the server's items compared by versions first", res)
	}
	if res.Forgotten != 2 {
		t.Errorf("sync of a forgot %d items, want 2 (a1 it pushed, b1 it received)", res.Forgotten)
	}
	for id, want := range map[string]bool{"a1": false, "b1": false, "s1": true, "a2": true, "a3": true} {
		if got := alive(t, a, id); got != want {
			t.Errorf("after re-initialisation, %s alive at a = %v, want %v", id, got, want)
		}
	}
	if it := get(t, a, "s1"); it == nil || it.Sync.Top().By != "laptop" {
		t.Errorf("a's unsynced edit of s1 was not kept: %v", it)
	}
	// a's own subscribers may hold a1 and b1 alive: a's horizon moved.
	withTx(t, a, false, func(tx store.Tx) {
		ret, err := tx.Retention(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if ret.Horizon == 0 {
			t.Error("a removed items without raising its forgotten horizon")
		}
	})

	// d, which had a1 and b1 from a, is refused by a in turn and forgets
	// them too.
	res = syncOK(t, cd, d, httpfeed.Both)
	if res.Forgotten != 2 || alive(t, d, "a1") || alive(t, d, "b1") {
		t.Errorf("sync of d with a after a forgot: %+v, a1 alive %v, b1 alive %v; want both forgotten", res, alive(t, d, "a1"), alive(t, d, "b1"))
	}

	// c only pulled before: its first push re-initialises first.
	res = syncOK(t, cc, c, httpfeed.Both)
	if res.Forgotten != 2 {
		t.Errorf("sync of c forgot %d items, want 2 (a1, b1, received from the server)", res.Forgotten)
	}

	// A few more rounds, everyone: nothing deleted comes back, anywhere.
	for range 2 {
		for _, e := range []struct {
			c  *httpfeed.Client
			st store.Store
		}{{ca, a}, {cb, b}, {cc, c}, {cd, d}} {
			syncOK(t, e.c, e.st, httpfeed.Both)
		}
	}
	for name, st := range map[string]store.Store{"server": server, "a": a, "b": b, "c": c, "d": d} {
		for _, id := range []string{"a1", "b1"} {
			if alive(t, st, id) {
				t.Errorf("%s is alive again at %s", id, name)
			}
		}
		for _, id := range []string{"a2", "a3", "s1"} {
			if !alive(t, st, id) {
				t.Errorf("%s is missing at %s", id, name)
			}
		}
	}
}
