package main

import (
	"context"
	"fmt"
	"net/http"
	"os"
	"slices"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/beevik/etree"
	"github.com/google/go-cmp/cmp"

	"github.com/feedsync/go-feedsync/feedsync"
	"github.com/feedsync/go-feedsync/httpfeed"
	"github.com/feedsync/go-feedsync/producer"
	"github.com/feedsync/go-feedsync/store"
	"github.com/feedsync/go-feedsync/store/open"
)

// farmClients and farmRounds size TestServeFarmUnderLoad: the clients
// editing at once, and the edits (each followed by a sync) of each.
// FEEDSYNC_FARM_ROUNDS raises the rounds by hand; CI keeps them few.
const farmClients = 20

func farmRounds(t *testing.T) int {
	v := os.Getenv("FEEDSYNC_FARM_ROUNDS")
	if v == "" {
		return 3
	}
	n, err := strconv.Atoi(v)
	if err != nil || n < 1 || n > 1000 {
		t.Fatalf("FEEDSYNC_FARM_ROUNDS=%q: want 1 to 1000", v)
	}
	return n
}

// serverErrors counts the answers of 5xx a server gave to clients still
// there, and remembers the first few.
type serverErrors struct {
	mu    sync.Mutex
	n     int
	first []string
}

func (e *serverErrors) wrap(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		sw := &codeWriter{ResponseWriter: w}
		next.ServeHTTP(sw, r)
		// A request whose client went away (a peer that stops waiting
		// at a change of its own) gets no answer: what its handler
		// wrote reached no one.
		if sw.code >= 500 && r.Context().Err() == nil {
			e.mu.Lock()
			e.n++
			if len(e.first) < 5 {
				e.first = append(e.first, fmt.Sprintf("%s %s: %d", r.Method, r.URL, sw.code))
			}
			e.mu.Unlock()
		}
	})
}

func (e *serverErrors) String() string {
	e.mu.Lock()
	defer e.mu.Unlock()
	return fmt.Sprintf("%d answers of 5xx, first %v", e.n, e.first)
}

func (e *serverErrors) count() int {
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.n
}

type codeWriter struct {
	http.ResponseWriter
	code int
}

func (c *codeWriter) WriteHeader(code int) {
	if c.code == 0 {
		c.code = code
	}
	c.ResponseWriter.WriteHeader(code)
}

func (c *codeWriter) Write(p []byte) (int, error) {
	if c.code == 0 {
		c.code = http.StatusOK
	}
	return c.ResponseWriter.Write(p)
}

func (c *codeWriter) Unwrap() http.ResponseWriter { return c.ResponseWriter }

// farmEdit creates item id in st, by by, or updates it, with title; it
// returns the history entry the edit made.
func farmEdit(ctx context.Context, st store.Store, id, by, title string) (feedsync.History, error) {
	tx, err := st.Begin(ctx, true)
	if err != nil {
		return feedsync.History{}, err
	}
	defer tx.Rollback()
	it, err := tx.Get(ctx, id)
	if err != nil {
		return feedsync.History{}, fmt.Errorf("get %s: %w", id, err)
	}
	payload := etree.NewElement("item")
	payload.CreateElement("title").SetText(title)
	s := feedsync.Stamp{By: by, When: time.Now().UTC().Truncate(time.Second)}
	if it == nil {
		it, err = feedsync.Create(feedsync.RSS, payload, id, s, false)
	} else {
		it, err = feedsync.Update(it, payload, s)
	}
	if err != nil {
		return feedsync.History{}, fmt.Errorf("edit %s: %w", id, err)
	}
	if _, err := tx.Put(ctx, it); err != nil {
		return feedsync.History{}, fmt.Errorf("put %s: %w", id, err)
	}
	return it.Sync.Top(), tx.Commit()
}

// A farm under load: three servers, each with a SQLite store of its own,
// peer in a loop (P1→P2→P3→P1) while 20 clients, spread over them, edit
// and sync at once: items of their own, and two items they all edit.
// Then every server and every client holds the same versions; no edit is
// lost (each history entry a client made is subsumed by an entry of the
// item's history or of one of its conflicts', FS-SUBSUME-1, FS-BY-2,
// FS-CONFLICTS-1: an edit survives, or a later one by the same client
// does; and the items of one writer end with its last title); and no
// request got a 5xx answer.
func TestServeFarmUnderLoad(t *testing.T) {
	rounds := farmRounds(t)
	h := newHarness(t)
	addrs := freeAddrs(t, 3)
	urls := make([]string, 3)
	for i, a := range addrs {
		urls[i] = "http://" + a + "/"
	}
	dbs := []string{h.path("p1.db"), h.path("p2.db"), h.path("p3.db")}
	errs := &serverErrors{}
	for i := range 3 {
		startServeWrapped(t, h, errs.wrap, "--store", "sqlite:"+dbs[i], "--addr", addrs[i], "--by", fmt.Sprintf("p%d", i+1),
			"--peer", urls[(i+1)%3], "--peer-interval", "2s")
	}

	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	type client struct {
		name  string
		st    store.Store
		c     *httpfeed.Client
		made  map[string][]feedsync.History // id → the entries it made
		title string                        // the last title of its own item
	}
	clients := make([]*client, farmClients)
	for i := range clients {
		name := fmt.Sprintf("c%d", i+1)
		st := store.NewMemory()
		t.Cleanup(func() { st.Close() })
		clients[i] = &client{
			name: name,
			st:   st,
			c:    &httpfeed.Client{URL: urls[i%3], Peer: name, HTTP: &http.Client{Timeout: time.Minute}},
			made: map[string][]feedsync.History{},
		}
	}
	var wg sync.WaitGroup
	failed := make(chan error, farmClients)
	for _, cl := range clients {
		wg.Go(func() {
			for r := range rounds {
				edits := []struct{ id, title string }{
					{"own-" + cl.name, fmt.Sprintf("%s round %d", cl.name, r)},
					{fmt.Sprintf("shared-%d", r%2), fmt.Sprintf("%s round %d", cl.name, r)},
				}
				for _, e := range edits {
					entry, err := farmEdit(ctx, cl.st, e.id, cl.name, e.title)
					if err != nil {
						failed <- fmt.Errorf("%s: %w", cl.name, err)
						return
					}
					cl.made[e.id] = append(cl.made[e.id], entry)
				}
				cl.title = edits[0].title
				if _, err := cl.c.Sync(ctx, cl.st, httpfeed.Both); err != nil {
					failed <- fmt.Errorf("%s: sync in round %d: %w", cl.name, r, err)
					return
				}
			}
		})
	}
	wg.Wait()
	close(failed)
	for err := range failed {
		t.Error(err)
	}
	if t.Failed() {
		t.Fatalf("servers: %s", errs)
	}

	// Every server converges; then every client, after one more sync.
	want := waitConverged(t, farmClients+2, dbs...)
	for _, cl := range clients {
		if _, err := cl.c.Sync(ctx, cl.st, httpfeed.Both); err != nil {
			t.Fatalf("%s: last sync: %v", cl.name, err)
		}
		got, err := producer.StoreManifest(ctx, cl.st)
		if err != nil {
			t.Fatal(err)
		}
		if !cmp.Equal(got, want) {
			t.Errorf("%s differs from the servers (-servers +client):\n%s", cl.name, cmp.Diff(want, got))
		}
	}

	// No edit is lost: read the items at P1 (the others hold the same).
	items := map[string]*feedsync.Item{}
	st, err := open.Open(ctx, "sqlite:"+dbs[0])
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	tx, err := st.Begin(ctx, false)
	if err != nil {
		t.Fatal(err)
	}
	for it, err := range tx.All(ctx) {
		if err != nil {
			t.Fatal(err)
		}
		items[it.ID()] = it
	}
	tx.Rollback()
	for _, cl := range clients {
		for id, entries := range cl.made {
			it := items[id]
			if it == nil {
				t.Errorf("%s: %s is missing", cl.name, id)
				continue
			}
			held := slices.Clone(it.Sync.History)
			for _, c := range it.Sync.Conflicts {
				held = append(held, c.Sync.History...)
			}
			for _, e := range entries {
				if !slices.ContainsFunc(held, e.SubsumedBy) {
					t.Errorf("%s: the edit %s of %s is lost", cl.name, e, id)
				}
			}
		}
		own := items["own-"+cl.name]
		if p, err := own.Payload(); err != nil || p.SelectElement("title") == nil || p.SelectElement("title").Text() != cl.title || len(own.Sync.Conflicts) != 0 {
			t.Errorf("%s: its own item ends as %+v, want its last title %q and no conflict", cl.name, own.Sync, cl.title)
		}
	}
	if n := errs.count(); n != 0 {
		t.Errorf("servers: %s", errs)
	}
	t.Logf("%d clients, %d rounds: %d items at every endpoint", farmClients, rounds, len(want))
}
