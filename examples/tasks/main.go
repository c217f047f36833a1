// Command tasks is a small task list web application whose tasks live in
// its own SQLite table, written with plain SQL, and are shared with other
// endpoints as a FeedSync feed: package store/table tracks the table with
// triggers, httpfeed serves it at /feed, and a page lists the conflicts
// that syncs leave, side by side, with a button to keep one version
// (package collection).
//
//	go run ./examples/tasks -db tasks.db -by laptop
//
// then open http://127.0.0.1:8081/ and sync another endpoint with it:
//
//	feedsync sync http://127.0.0.1:8081/feed --feed phone.xml --by phone
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"log"
	"net/http"
	"os"
	"os/signal"
	"syscall"
	"time"
)

func main() {
	db := flag.String("db", "tasks.db", "the SQLite database of the tasks (created if missing)")
	addr := flag.String("addr", "127.0.0.1:8081", "where to listen")
	by := flag.String("by", "webapp", "this endpoint's identifier in the feed's history (FS-BY-1)")
	flag.Parse()
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, *db, *addr, *by); err != nil {
		log.Fatal(err)
	}
}

func run(ctx context.Context, db, addr, by string) error {
	app, err := Open(ctx, db, by)
	if err != nil {
		return err
	}
	defer app.Close()
	srv := &http.Server{Addr: addr, Handler: app, ReadHeaderTimeout: 10 * time.Second}
	go func() {
		<-ctx.Done()
		shutdown, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		srv.Shutdown(shutdown)
	}()
	fmt.Fprintf(os.Stderr, "tasks: http://%s/ (feed at /feed, by %s)\n", addr, by)
	if err := srv.ListenAndServe(); !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	return nil
}
