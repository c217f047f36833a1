package table_test

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/feedsync/go-feedsync/httpfeed"
	"github.com/feedsync/go-feedsync/store"
)

// TestConvergeHTTP serves a tracked table over HTTP while the application
// keeps writing it with plain SQL, and a peer (phone) edits its own tasks
// and syncs with httpfeed.Client all the while. Afterwards both endpoints
// hold the same items (FS-MERGE), every row the application wrote is at
// the peer and every task of the peer is a row (no change missed), a write
// made in the middle of a sync arrives with the next one, and a further
// sync moves nothing either way (no echo).
func TestConvergeHTTP(t *testing.T) {
	dialects(t, func(t *testing.T, a *app) {
		ctx := context.Background()
		server := a.open("laptop")
		// duringSync, when set, is a write the application makes while the
		// server handles a POST, that is while a sync merges.
		var duringSync chan string
		handler := &httpfeed.Handler{Store: server, Name: "tasks"}
		srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if r.Method == http.MethodPost && duringSync != nil {
				title := <-duringSync
				wrote := make(chan error)
				go func() { wrote <- a.try(`UPDATE TASKS SET title = ? WHERE id = 1`, title) }()
				handler.ServeHTTP(w, r)
				if err := <-wrote; err != nil {
					t.Errorf("write during a sync: %v", err)
				}
				return
			}
			handler.ServeHTTP(w, r)
		}))
		defer srv.Close()
		peer := store.NewMemory()
		defer peer.Close()
		phone := tasks(peer, "phone")
		client := &httpfeed.Client{URL: srv.URL, Peer: "phone"}
		syncOnce := func() httpfeed.SyncResult {
			t.Helper()
			res, err := client.Sync(ctx, peer, httpfeed.Both)
			if err != nil {
				t.Fatal(err)
			}
			return res
		}

		// The application writes tasks 1..10 while phone edits 101..105.
		const writes = 150
		finished := make(chan error, 1)
		go func() {
			for i := range writes {
				k := i%10 + 1
				var err error
				if i%7 == 3 {
					err = a.try(`DELETE FROM TASKS WHERE id = ?`, k)
				} else {
					err = a.try(`INSERT INTO TASKS (id, title, done) VALUES (?, ?, ?)
ON CONFLICT (id) DO UPDATE SET title = excluded.title, done = excluded.done`, k, fmt.Sprintf("app %d", i), i%2 == 0)
				}
				if err != nil {
					finished <- fmt.Errorf("write %d: %w", i, err)
					return
				}
			}
			finished <- nil
		}()
		rounds := 0
	loop:
		for ; rounds < 1000; rounds++ {
			k := fmt.Sprint(101 + rounds%5)
			if err := phone.Put(ctx, k, map[string]any{"title": fmt.Sprintf("phone %d", rounds), "done": "0"}); err != nil {
				t.Fatal(err)
			}
			syncOnce()
			if rounds < 4 {
				continue // phone edits each of 101..105 at least once
			}
			select {
			case err := <-finished:
				if err != nil {
					t.Fatal(err)
				}
				break loop
			default:
			}
		}
		t.Logf("%d syncs ran during %d writes", rounds+1, writes)

		// A write in the middle of a sync.
		a.exec(`INSERT INTO TASKS (id, title) VALUES (1, 'before') ON CONFLICT (id) DO UPDATE SET title = excluded.title`)
		duringSync = make(chan string, 1)
		duringSync <- "during a sync"
		syncOnce()
		duringSync = nil
		syncOnce()
		syncOnce()

		rows, items := a.rows(), values(t, peer)
		if fmt.Sprint(rows) != fmt.Sprint(items) {
			t.Errorf("the table and the peer differ:\nrows:  %v\npeer:  %v", rows, items)
		}
		if got := rows["1"]; got != "during a sync/false" && got != "during a sync/true" {
			t.Errorf("row 1 = %q, want the write made during a sync", got)
		}
		for k := 101; k <= 105; k++ {
			if _, ok := rows[fmt.Sprint(k)]; !ok {
				t.Errorf("phone's task %d has no row", k)
			}
		}
		if a, b := manifestSum(t, server), manifestSum(t, peer); a != b {
			t.Error("the endpoints' manifests differ")
		}
		for _, c := range []*struct {
			name string
			st   store.Store
		}{{"server", server}, {"peer", peer}} {
			if cs, err := tasks(c.st, "x").Conflicts(ctx); err != nil || len(cs) != 0 {
				t.Errorf("%s has conflicts: %+v, %v", c.name, cs, err)
			}
		}
		res := syncOnce()
		p := res.Pulled
		if res.PushedItems != 0 || p.Added+p.Updated+p.Deleted+p.Conflicts+p.Unchanged != 0 {
			t.Errorf("a sync without changes moved items (echo): pushed %d, pulled %+v", res.PushedItems, p)
		}
	})
}
