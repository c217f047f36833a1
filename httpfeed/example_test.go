package httpfeed_test

import (
	"context"
	"fmt"
	"log"
	"net/http"
	"net/http/httptest"
	"time"

	"github.com/beevik/etree"

	"github.com/feedsync/go-feedsync/feedsync"
	"github.com/feedsync/go-feedsync/httpfeed"
	"github.com/feedsync/go-feedsync/store"
)

// A server with one collection behind bearer tokens, and two endpoints that
// sync their stores with it. The server part is the README's snippet.
func Example() {
	tasks := store.NewMemory() // or store/open.Open(ctx, "sqlite:tasks.db")
	defer tasks.Close()

	metrics := &httpfeed.Metrics{}
	mux := http.NewServeMux()
	mux.Handle("/tasks", &httpfeed.Handler{Store: tasks, Name: "tasks", Metrics: metrics})
	mux.Handle("/metrics", metrics)
	// Each token names its client: the handler keeps what each one holds
	// under that name, so that it never sends a client its own changes.
	handler := httpfeed.BearerAuth(map[string]string{
		"laptop-secret": "laptop",
		"phone-secret":  "phone",
	}, mux)

	srv := httptest.NewServer(handler) // or http.ListenAndServe(addr, handler)
	defer srv.Close()

	ctx := context.Background()
	laptop, phone := store.NewMemory(), store.NewMemory()
	defer laptop.Close()
	defer phone.Close()

	// The laptop creates an item and syncs; then the phone syncs.
	payload := etree.NewElement("item")
	payload.CreateElement("title").SetText("Buy stamps")
	it, err := feedsync.Create(feedsync.RSS, payload, "stamps", feedsync.Stamp{By: "laptop", When: time.Date(2009, 4, 1, 9, 0, 0, 0, time.UTC)}, false)
	if err != nil {
		log.Fatal(err)
	}
	tx, err := laptop.Begin(ctx, true)
	if err != nil {
		log.Fatal(err)
	}
	if _, err := tx.Put(ctx, it); err != nil {
		log.Fatal(err)
	}
	if err := tx.Commit(); err != nil {
		log.Fatal(err)
	}

	toLaptop := &httpfeed.Client{URL: srv.URL + "/tasks", Token: "laptop-secret"}
	toPhone := &httpfeed.Client{URL: srv.URL + "/tasks", Token: "phone-secret"}
	res, err := toLaptop.Sync(ctx, laptop, httpfeed.Both)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Printf("laptop: pushed %d item; server: %s\n", res.PushedItems, res.Pushed)
	res, err = toPhone.Sync(ctx, phone, httpfeed.Both)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Printf("phone: pulled the %s feed: %s\n", res.PulledKind, res.Pulled)
	res, err = toLaptop.Sync(ctx, laptop, httpfeed.Both)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Printf("laptop again: pushed %d items, pulled the %s feed: %s\n", res.PushedItems, res.PulledKind, res.Pulled)
	// Output:
	// laptop: pushed 1 item; server: 1 new, 0 updated, 0 deleted, 0 conflicts, 0 unchanged, 0 rejected
	// phone: pulled the full feed: 1 new, 0 updated, 0 deleted, 0 conflicts, 0 unchanged, 0 rejected
	// laptop again: pushed 0 items, pulled the incremental feed: 0 new, 0 updated, 0 deleted, 0 conflicts, 0 unchanged, 0 rejected
}
