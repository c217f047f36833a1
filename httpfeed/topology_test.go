package httpfeed_test

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"

	"github.com/feedsync/go-feedsync/feedsync"
	"github.com/feedsync/go-feedsync/httpfeed"
	"github.com/feedsync/go-feedsync/store"
)

// Topologies of endpoints syncing over real HTTP on loopback, with
// concurrent edits: every endpoint must end with the same items, winners,
// tombstones and conflicts (FS-MERGE-14), and no edit may be lost.
//
// Every loop runs a fixed number of rounds, and every request has a
// timeout (testClient).

// editE updates item id in st as endpoint by at minute, or creates it; for
// goroutines, which may not call t.Fatal.
func editE(ctx context.Context, st store.Store, id, by string, minute int) error {
	tx, err := st.Begin(ctx, true)
	if err != nil {
		return err
	}
	defer tx.Rollback()
	it, err := tx.Get(ctx, id)
	if err != nil {
		return err
	}
	if it == nil {
		it, err = feedsync.Create(feedsync.RSS, rssItem(id+" by "+by), id, stamp(by, minute), false)
	} else {
		it, err = feedsync.Update(it, rssItem(fmt.Sprintf("%s by %s at %d", id, by, minute)), stamp(by, minute))
	}
	if err != nil {
		return err
	}
	if _, err := tx.Put(ctx, it); err != nil {
		return err
	}
	return tx.Commit()
}

// concurrently runs f(i) for i in [0, n) in goroutines and fails the test
// with the first error.
func concurrently(t *testing.T, n int, f func(i int) error) {
	t.Helper()
	errs := make([]error, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() { errs[i] = f(i) })
	}
	wg.Wait()
	if err := errors.Join(errs...); err != nil {
		t.Fatal(err)
	}
}

// endpoint is one syncing endpoint of a topology.
type endpoint struct {
	name   string
	st     store.Store
	client *httpfeed.Client
}

// editRound makes endpoint e's edits of round r: its own items (created in
// round 0, updated after) and one of a few shared items, which other
// endpoints edit at the same time.
func (e *endpoint) editRound(ctx context.Context, i, r int) error {
	minute := r*100 + i
	for k := range 2 {
		if err := editE(ctx, e.st, fmt.Sprintf("%s-own-%d", e.name, k), e.name, minute); err != nil {
			return err
		}
	}
	return editE(ctx, e.st, fmt.Sprintf("shared-%d", (i+r)%3), e.name, minute)
}

// checkOwnEdits checks that st holds the latest version of every
// endpoint's own items: rounds updates, the last by the endpoint itself.
func checkOwnEdits(t *testing.T, where string, st store.Store, eps []*endpoint, rounds int) {
	t.Helper()
	for _, e := range eps {
		for k := range 2 {
			id := fmt.Sprintf("%s-own-%d", e.name, k)
			it := get(t, st, id)
			if it == nil {
				t.Errorf("%s lacks %s", where, id)
				continue
			}
			if top := it.Sync.Top(); it.Sync.Updates != int64(rounds) || top.By != e.name {
				t.Errorf("%s: %s has updates=%d top %s/%d, want %d by %s (an edit was lost)",
					where, id, it.Sync.Updates, top.By, top.Sequence, rounds, e.name)
			}
		}
	}
}

func storesOf(eps []*endpoint) ([]string, []store.Store) {
	var names []string
	var stores []store.Store
	for _, e := range eps {
		names = append(names, e.name)
		stores = append(stores, e.st)
	}
	return names, stores
}

func TestTopologyClientServer(t *testing.T) {
	const clients, rounds = 20, 3
	ctx := context.Background()
	server := newSQLite(t)
	srv := newServer(t, &httpfeed.Handler{Store: server, Name: "tasks"})
	eps := make([]*endpoint, clients)
	for i := range eps {
		name := fmt.Sprintf("c%02d", i)
		st := newMemory(t)
		if i%4 == 0 {
			st = newSQLite(t)
		}
		eps[i] = &endpoint{name: name, st: st, client: &httpfeed.Client{URL: srv.URL, Peer: name, HTTP: testClient}}
	}
	for r := range rounds {
		concurrently(t, clients, func(i int) error {
			e := eps[i]
			if err := e.editRound(ctx, i, r); err != nil {
				return fmt.Errorf("%s round %d: edit: %w", e.name, r, err)
			}
			if _, err := e.client.Sync(ctx, e.st, httpfeed.Both); err != nil {
				return fmt.Errorf("%s round %d: %w", e.name, r, err)
			}
			return nil
		})
	}
	// A final round of syncs: the first pass brings everything to the
	// server, the second brings it back to every client.
	for range 2 {
		for _, e := range eps {
			syncOK(t, e.client, e.st, httpfeed.Both)
		}
	}
	names, stores := storesOf(eps)
	sameManifests(t, append([]string{"server"}, names...), append([]store.Store{server}, stores...))
	checkOwnEdits(t, "server", server, eps, rounds)
	conflicts := 0
	for k := range 3 {
		if it := get(t, server, fmt.Sprintf("shared-%d", k)); it != nil {
			conflicts += len(it.Sync.Conflicts)
		}
	}
	if conflicts == 0 {
		t.Errorf("no conflicts on the shared items: the clients' concurrent edits did not race")
	}

	// Converged: one more round exchanges nothing.
	for _, e := range eps {
		res := syncOK(t, e.client, e.st, httpfeed.Both)
		if res.PushedItems != 0 || res.Pulled.Changed() {
			t.Errorf("%s after convergence: pushed %d, pulled %s; want nothing", e.name, res.PushedItems, res.Pulled)
		}
	}
}

func TestTopologyMeshLoop(t *testing.T) {
	// P1 → P2 → P3 → P1: each endpoint serves its own SQLite store and
	// syncs it with the next one's server, so changes travel round the
	// loop both ways and come back to where they started.
	const rounds = 4
	ctx := context.Background()
	eps := make([]*endpoint, 3)
	urls := make([]string, 3)
	for i := range eps {
		name := fmt.Sprintf("P%d", i+1)
		st := newSQLite(t)
		urls[i] = newServer(t, &httpfeed.Handler{Store: st, Name: name}).URL
		eps[i] = &endpoint{name: name, st: st}
	}
	for i, e := range eps {
		e.client = &httpfeed.Client{URL: urls[(i+1)%3], Peer: e.name, HTTP: testClient}
	}
	for r := range rounds {
		concurrently(t, 3, func(i int) error {
			e := eps[i]
			if err := e.editRound(ctx, i, r); err != nil {
				return fmt.Errorf("%s round %d: edit: %w", e.name, r, err)
			}
			if _, err := e.client.Sync(ctx, e.st, httpfeed.Both); err != nil {
				return fmt.Errorf("%s round %d: %w", e.name, r, err)
			}
			return nil
		})
	}
	// Final rounds: twice round the loop, one sync at a time.
	for range 2 {
		for _, e := range eps {
			syncOK(t, e.client, e.st, httpfeed.Both)
		}
	}
	names, stores := storesOf(eps)
	sameManifests(t, names, stores)
	for _, e := range eps {
		checkOwnEdits(t, e.name, e.st, eps, rounds)
	}
}

func TestTopologyServerFarm(t *testing.T) {
	// Two servers share one PostgreSQL store (two Store values on the same
	// schema, as two processes would); clients alternate between them and
	// POST at the same time. No update may be lost.
	dsn := postgresDSN(t)
	const clients, rounds = 8, 3
	ctx := context.Background()
	schema := newPostgresSchema(t, dsn)
	pg1 := openPostgres(t, dsn, schema)
	pg2 := openPostgres(t, dsn, schema)
	if pg1.ID() != pg2.ID() {
		t.Fatalf("two handles on one schema have ids %q and %q", pg1.ID(), pg2.ID())
	}
	srvs := []string{
		newServer(t, &httpfeed.Handler{Store: pg1, Name: "farm-1"}).URL,
		newServer(t, &httpfeed.Handler{Store: pg2, Name: "farm-2"}).URL,
	}
	eps := make([]*endpoint, clients)
	for i := range eps {
		name := fmt.Sprintf("f%02d", i)
		eps[i] = &endpoint{name: name, st: newMemory(t)}
	}
	// Each round, a client talks to the other server than last time,
	// under one Remote name: the servers are one store, so a token from
	// either is good at both.
	clientFor := func(i, r int) *httpfeed.Client {
		return &httpfeed.Client{URL: srvs[(i+r)%2], Remote: "farm", Peer: eps[i].name, HTTP: testClient}
	}
	for r := range rounds {
		concurrently(t, clients, func(i int) error {
			e := eps[i]
			if err := e.editRound(ctx, i, r); err != nil {
				return fmt.Errorf("%s round %d: edit: %w", e.name, r, err)
			}
			res, err := clientFor(i, r).Sync(ctx, e.st, httpfeed.Both)
			if err != nil {
				return fmt.Errorf("%s round %d: %w", e.name, r, err)
			}
			if r > 0 && res.PulledKind != httpfeed.FeedIncremental {
				return fmt.Errorf("%s round %d: pulled a %s feed from the other server, want incremental (%s)", e.name, r, res.PulledKind, res.TokenRejected)
			}
			return nil
		})
	}
	for f := range 2 {
		for i, e := range eps {
			syncOK(t, clientFor(i, f), e.st, httpfeed.Both)
		}
	}
	checkOwnEdits(t, "the shared store", pg1, eps, rounds)
	names, stores := storesOf(eps)
	sameManifests(t, append([]string{"pg1", "pg2"}, names...), append([]store.Store{pg1, pg2}, stores...))
}
