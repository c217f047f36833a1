package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/feedsync/go-feedsync/feedsync"
	"github.com/feedsync/go-feedsync/httpfeed"
	"github.com/feedsync/go-feedsync/producer"
	"github.com/feedsync/go-feedsync/store"
	"github.com/feedsync/go-feedsync/store/open"
)

// newFeedServer serves a memory store with httpfeed on loopback.
func newFeedServer(t *testing.T) (*httptest.Server, store.Store) {
	t.Helper()
	st := store.NewMemory()
	srv := httptest.NewServer(&httpfeed.Handler{Store: st})
	t.Cleanup(func() { srv.Close(); st.Close() })
	return srv, st
}

func storeManifest(t *testing.T, dsn string) producer.Manifest {
	t.Helper()
	st, err := open.Open(context.Background(), dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	m, err := producer.StoreManifest(context.Background(), st)
	if err != nil {
		t.Fatal(err)
	}
	return m
}

func TestSyncStoresAndFileConverge(t *testing.T) {
	// Two stores and a feed file edit one item concurrently and sync
	// through one server: all end with the same winner and conflicts.
	h := newHarness(t)
	srv, server := newFeedServer(t)
	laptop, phone := "sqlite:"+h.path("laptop.db"), "sqlite:"+h.path("phone.db")

	h.ok("", "create", "tasks.xml", "--by", "tablet", "--id", "fence", "--set", "title=Fence")
	h.ok("", "sync", srv.URL, "--feed", "tasks.xml", "--by", "tablet")
	h.ok("", "sync", srv.URL, "--store", laptop, "--by", "laptop")
	h.ok("", "sync", srv.URL, "--store", phone, "--by", "phone")

	// The tablet (a file) and the phone (a store) edit the item at the
	// same time.
	h.now = h.now.Add(time.Hour)
	h.ok("", "update", "tasks.xml", "--by", "tablet", "--id", "fence", "--set", "title=Fence, 4 posts")
	r := h.ok("", "sync", srv.URL, "--store", phone, "--by", "phone")
	if !strings.Contains(r.stderr, "push: nothing to send") || !strings.Contains(r.stderr, "pull (incremental feed): 0 new, 0 updated") {
		t.Errorf("phone's idle sync:\n%s", r.stderr)
	}
	editStore(t, phone, "fence", "phone", h.now.Add(time.Minute))
	h.ok("", "sync", srv.URL, "--feed", "tasks.xml", "--by", "tablet")
	r = h.ok("", "sync", srv.URL, "--store", phone, "--by", "phone")
	if !strings.Contains(r.stderr, "push: 1 item sent; server: 0 new, 0 updated, 0 deleted, 1 conflict") {
		t.Errorf("phone's sync of a concurrent edit:\n%s", r.stderr)
	}
	r = h.ok("", "sync", srv.URL, "--feed", "tasks.xml", "--by", "tablet")
	if !strings.Contains(r.stderr, "run 'feedsync conflicts tasks.xml'") {
		t.Errorf("tablet's sync does not point at the conflict:\n%s", r.stderr)
	}
	for range 2 {
		h.ok("", "sync", srv.URL, "--store", laptop, "--by", "laptop")
		h.ok("", "sync", srv.URL, "--store", phone, "--by", "phone")
		h.ok("", "sync", srv.URL, "--feed", "tasks.xml", "--by", "tablet")
	}
	want, err := producer.StoreManifest(context.Background(), server)
	if err != nil {
		t.Fatal(err)
	}
	f, err := os.Open(h.path("tasks.xml"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	fileManifest, err := producer.FeedManifest(feedsync.NewReader(f))
	if err != nil {
		t.Fatal(err)
	}
	for name, got := range map[string]producer.Manifest{"laptop": storeManifest(t, laptop), "phone": storeManifest(t, phone), "tasks.xml": fileManifest} {
		if d := producer.Diff(want, got); len(d) > 0 {
			t.Errorf("%s differs from the server: %v", name, d)
		}
	}
	if want[0].Conflicts != 1 {
		t.Errorf("the server's item has %d conflict copies, want 1", want[0].Conflicts)
	}
}

// editStore updates item id in the store dsn as endpoint by.
func editStore(t *testing.T, dsn, id, by string, when time.Time) {
	t.Helper()
	st, err := open.Open(context.Background(), dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	ctx := context.Background()
	tx, err := st.Begin(ctx, true)
	if err != nil {
		t.Fatal(err)
	}
	defer tx.Rollback()
	it, err := tx.Get(ctx, id)
	if err != nil || it == nil {
		t.Fatalf("get %s: %v", id, err)
	}
	it, err = feedsync.Update(it, rssPayload(id+" by "+by), feedsync.Stamp{By: by, When: when})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := tx.Put(ctx, it); err != nil {
		t.Fatal(err)
	}
	if err := tx.Commit(); err != nil {
		t.Fatal(err)
	}
}

func TestSyncPullAndPushOnly(t *testing.T) {
	h := newHarness(t)
	srv, server := newFeedServer(t)
	put := func(id string) {
		tx, err := server.Begin(context.Background(), true)
		if err != nil {
			t.Fatal(err)
		}
		defer tx.Rollback()
		if _, err := tx.Put(context.Background(), must(feedsync.Create(feedsync.RSS, rssPayload(id), id, feedsync.Stamp{By: "srv", When: h.now}, false))); err != nil {
			t.Fatal(err)
		}
		if err := tx.Commit(); err != nil {
			t.Fatal(err)
		}
	}
	put("from-server")
	h.ok("", "create", "mine.xml", "--by", "laptop", "--id", "mine", "--set", "title=Mine")

	r := h.ok("", "sync", srv.URL, "--feed", "mine.xml", "--by", "laptop", "--pull")
	if strings.Contains(r.stderr, "push:") || h.items("mine.xml")["from-server"] == nil {
		t.Errorf("--pull:\n%s", r.stderr)
	}
	if got := get(t, server, "mine"); got != nil {
		t.Errorf("--pull pushed mine")
	}
	put("later")
	r = h.ok("", "sync", srv.URL, "--feed", "mine.xml", "--by", "laptop", "--push")
	if !strings.Contains(r.stderr, "server: 1 new") || strings.Contains(r.stderr, "pull") || h.items("mine.xml")["later"] != nil {
		t.Errorf("--push:\n%s", r.stderr)
	}
	if get(t, server, "mine") == nil {
		t.Errorf("--push did not push mine")
	}
	r = h.ok("", "sync", srv.URL, "--feed", "mine.xml", "--by", "laptop", "--push")
	if !strings.Contains(r.stderr, "push: nothing to send") {
		t.Errorf("second --push:\n%s", r.stderr)
	}
	r = h.ok("", "sync", srv.URL, "--feed", "mine.xml", "--by", "laptop", "--pull")
	if !strings.Contains(r.stderr, "pull (incremental feed): 1 new") {
		t.Errorf("second --pull:\n%s", r.stderr)
	}
}

func get(t *testing.T, st store.Store, id string) *feedsync.Item {
	t.Helper()
	tx, err := st.Begin(context.Background(), false)
	if err != nil {
		t.Fatal(err)
	}
	defer tx.Rollback()
	it, err := tx.Get(context.Background(), id)
	if err != nil {
		t.Fatal(err)
	}
	return it
}

func TestSyncFailureLeavesFileAndState(t *testing.T) {
	// A server that breaks off its answer: the feed file and the state
	// file stay as they were, and the next sync picks up.
	h := newHarness(t)
	st := store.NewMemory()
	defer st.Close()
	var broken atomic.Bool
	inner := &httpfeed.Handler{Store: st}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if broken.Load() {
			w.Header().Set("Content-Type", "application/rss+xml")
			w.Write([]byte(`<?xml version="1.0"?><rss version="2.0"><channel><title>x</title><item><title>cut`))
			panic(http.ErrAbortHandler)
		}
		inner.ServeHTTP(w, r)
	}))
	defer srv.Close()

	h.ok("", "create", "a.xml", "--by", "laptop", "--id", "one", "--set", "title=One")
	h.ok("", "sync", srv.URL, "--feed", "a.xml", "--by", "laptop")
	file, state := h.read("a.xml"), h.read("a.xml.sync.json")

	h.ok("", "create", "b.xml", "--by", "phone", "--id", "two", "--set", "title=Two")
	h.ok("", "sync", srv.URL, "--feed", "b.xml", "--by", "phone")
	broken.Store(true)
	h.fails(exitUsage, []string{"feedsync sync:"}, "sync", srv.URL, "--feed", "a.xml", "--by", "laptop")
	if h.read("a.xml") != file || h.read("a.xml.sync.json") != state {
		t.Fatalf("a failed sync changed a.xml or its state")
	}
	broken.Store(false)
	h.ok("", "sync", srv.URL, "--feed", "a.xml", "--by", "laptop")
	if h.items("a.xml")["two"] == nil {
		t.Errorf("the next sync did not bring item two")
	}

	// A corrupt state file is an input error that says what to do.
	h.write("a.xml.sync.json", "{")
	h.fails(exitUsage, []string{"a.xml.sync.json", "Remove the file"}, "sync", srv.URL, "--feed", "a.xml", "--by", "laptop")
	var s syncState
	if err := json.Unmarshal([]byte(state), &s); err != nil || len(s.Remotes) != 1 || s.Remotes[srv.URL+"/"] == nil || s.Remotes[srv.URL+"/"].Received == "" {
		t.Errorf("state %s: want one remote %s/ with a token (%v)", state, srv.URL, err)
	}
}

// newSyncCommand returns a sync command run by a Main on the harness, with
// hooks; paths must be absolute (it does not change directory).
func newSyncCommand(h *harness, stderr *bytes.Buffer) *SyncCommand {
	m := &Main{
		Stdin:  strings.NewReader(""),
		Stdout: &bytes.Buffer{},
		Stderr: stderr,
		Getenv: func(k string) string { return h.env[k] },
		Now:    func() time.Time { return h.now },
	}
	return &SyncCommand{m: m}
}

func TestSyncWatch(t *testing.T) {
	h := newHarness(t)
	srv, server := newFeedServer(t)
	var stderr bytes.Buffer
	c := newSyncCommand(h, &stderr)
	rounds := 0
	c.afterRound = func(err error) bool {
		if err != nil {
			t.Errorf("round %d: %v", rounds, err)
		}
		rounds++
		if rounds == 1 {
			// Between rounds, another endpoint adds an item.
			tx, err := server.Begin(context.Background(), true)
			if err != nil {
				t.Fatal(err)
			}
			defer tx.Rollback()
			tx.Put(context.Background(), must(feedsync.Create(feedsync.RSS, rssPayload("x"), "x", feedsync.Stamp{By: "srv", When: h.now}, false)))
			if err := tx.Commit(); err != nil {
				t.Fatal(err)
			}
		}
		return rounds < 3
	}
	err := c.Run(context.Background(), []string{srv.URL, "--feed", h.path("w.xml"), "--by", "laptop", "--watch", "--interval", "1ms"})
	if err != nil || rounds != 3 {
		t.Fatalf("watch: %v after %d rounds", err, rounds)
	}
	if h.items("w.xml")["x"] == nil {
		t.Errorf("watch did not bring the item added between rounds:\n%s", stderr.String())
	}
	// Rounds that move nothing are quiet: only the second one reports.
	if got := strings.Count(stderr.String(), "pull ("); got != 1 || !strings.Contains(stderr.String(), "pull (incremental feed): 1 new") {
		t.Errorf("watch reports:\n%s\nwant one, of the new item", stderr.String())
	}

	// Failures back off; a cancelled ctx ends the loop without error.
	srv.Close()
	stderr.Reset()
	c = newSyncCommand(h, &stderr)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	failures := 0
	c.afterRound = func(err error) bool {
		if err == nil {
			t.Errorf("a round against a closed server succeeded")
		}
		if failures++; failures == 4 {
			cancel()
		}
		return failures < 10
	}
	if err := c.Run(ctx, []string{srv.URL, "--feed", h.path("w.xml"), "--by", "laptop", "--watch", "--interval", "1ms"}); err != nil {
		t.Errorf("interrupted watch: %v, want nil", err)
	}
	if failures != 4 {
		t.Errorf("%d rounds, want 4 (the 4th cancelled)", failures)
	}
	for _, want := range []string{"retrying in 1ms", "retrying in 2ms", "retrying in 4ms"} {
		if !strings.Contains(stderr.String(), want) {
			t.Errorf("stderr lacks %q:\n%s", want, stderr.String())
		}
	}
}

func TestSyncWatchStopsOnRefusal(t *testing.T) {
	h := newHarness(t)
	st := store.NewMemory()
	defer st.Close()
	srv := httptest.NewServer(httpfeed.BearerAuth(map[string]string{"good": "laptop"}, &httpfeed.Handler{Store: st}))
	defer srv.Close()
	var stderr bytes.Buffer
	c := newSyncCommand(h, &stderr)
	rounds := 0
	c.afterRound = func(error) bool { rounds++; return rounds < 5 }
	err := c.Run(context.Background(), []string{srv.URL, "--store", "memory:", "--by", "laptop", "--token", "bad", "--watch", "--interval", "1ms"})
	var se *httpfeed.StatusError
	if !errors.As(err, &se) || se.StatusCode != 401 || rounds != 1 {
		t.Errorf("watch with a bad token: %v after %d rounds, want a 401 after 1", err, rounds)
	}
}

func TestSyncProgress(t *testing.T) {
	h := newHarness(t)
	srv, server := newFeedServer(t)
	tx, err := server.Begin(context.Background(), true)
	if err != nil {
		t.Fatal(err)
	}
	for _, id := range []string{"p1", "p2", "p3"} {
		if _, err := tx.Put(context.Background(), must(feedsync.Create(feedsync.RSS, rssPayload(id), id, feedsync.Stamp{By: "srv", When: h.now}, false))); err != nil {
			t.Fatal(err)
		}
	}
	if err := tx.Commit(); err != nil {
		t.Fatal(err)
	}
	var stderr bytes.Buffer
	c := newSyncCommand(h, &stderr)
	c.showProgress = true
	c.m.Now = func() time.Time { h.now = h.now.Add(time.Second); return h.now } // a slow transfer
	if err := c.Run(context.Background(), []string{srv.URL, "--store", "memory:", "--by", "laptop"}); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(stderr.String(), "\rfeedsync sync: 3 items, ") {
		t.Errorf("no progress line:\n%q", stderr.String())
	}

	// Not a terminal, not forced: no progress.
	stderr.Reset()
	c = newSyncCommand(h, &stderr)
	if err := c.Run(context.Background(), []string{srv.URL, "--store", "memory:", "--by", "laptop"}); err != nil {
		t.Fatal(err)
	}
	if strings.Contains(stderr.String(), "\r") {
		t.Errorf("progress on a non-terminal:\n%q", stderr.String())
	}
}

func TestSyncUsageErrors(t *testing.T) {
	h := newHarness(t)
	tests := []struct {
		args []string
		want []string
	}{
		{[]string{"sync"}, []string{"missing URL"}},
		{[]string{"sync", "ftp://x/", "--feed", "a.xml"}, []string{`"ftp://x/" is not an http:// or https:// URL`}},
		{[]string{"sync", "http://127.0.0.1:1/"}, []string{"give exactly one of --store DSN and --feed FILE"}},
		{[]string{"sync", "http://127.0.0.1:1/", "--store", "memory:", "--feed", "a.xml"}, []string{"exactly one"}},
		{[]string{"sync", "http://127.0.0.1:1/", "--feed", "a.xml", "--pull", "--push"}, []string{"--pull and --push cannot be used together"}},
		{[]string{"sync", "http://127.0.0.1:1/", "--feed", "a.xml", "--interval", "0s"}, []string{"must be positive"}},
		{[]string{"sync", "http://127.0.0.1:1/", "--feed", "a.xml", "--by", "lap top"}, []string{`--by "lap top" is not a valid endpoint identifier`}},
	}
	for _, tc := range tests {
		t.Run(strings.Join(tc.args, " "), func(t *testing.T) {
			h.fails(exitUsage, tc.want, tc.args...)
		})
	}
}

// sync --watch waits for the server's changes with long polls: a change
// made at the server arrives long before --interval; against a server
// that does not offer long polls it polls every --interval.
func TestSyncWatchLongPoll(t *testing.T) {
	for _, tc := range []struct {
		name     string
		maxWait  time.Duration
		interval string
	}{
		{"long poll", 0, "10m"},
		{"polling fallback", -1, "200ms"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			h := newHarness(t)
			server := store.NewMemory()
			srv := httptest.NewServer(&httpfeed.Handler{Store: server, MaxWait: tc.maxWait})
			t.Cleanup(func() { srv.Close(); server.Close() })
			var stderr bytes.Buffer
			c := newSyncCommand(h, &stderr)
			ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
			defer cancel()
			rounds := 0
			c.afterRound = func(err error) bool {
				if err != nil {
					t.Errorf("round %d: %v", rounds, err)
				}
				rounds++
				if rounds == 1 {
					// After the first round, while the client waits, another
					// endpoint adds an item at the server.
					go func() {
						time.Sleep(100 * time.Millisecond)
						tx, err := server.Begin(context.Background(), true)
						if err != nil {
							t.Error(err)
							return
						}
						defer tx.Rollback()
						tx.Put(context.Background(), must(feedsync.Create(feedsync.RSS, rssPayload("x"), "x", feedsync.Stamp{By: "srv", When: h.now}, false)))
						if err := tx.Commit(); err != nil {
							t.Error(err)
						}
					}()
					return true
				}
				return !strings.Contains(stderr.String(), "1 new")
			}
			start := time.Now()
			err := c.Run(ctx, []string{srv.URL, "--store", "sqlite:" + h.path("w.db"), "--by", "laptop", "--watch", "--interval", tc.interval})
			if err != nil {
				t.Fatal(err)
			}
			if !strings.Contains(stderr.String(), "pull (incremental feed): 1 new") {
				t.Fatalf("the server's change did not arrive within 30s (%d rounds):\n%s", rounds, stderr.String())
			}
			if d := time.Since(start); tc.maxWait == 0 && d >= 15*time.Second {
				t.Errorf("the change arrived after %v, with --interval 10m: not by long poll", d)
			}
		})
	}
}

// TestSyncNetworkErrorNamesURLOnce checks that a server that cannot be
// reached is reported with its URL once, not twice (*url.Error repeats it).
func TestSyncNetworkErrorNamesURLOnce(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close() // nothing listens there now
	h := newHarness(t)
	url := "http://" + addr + "/tasks"
	for _, args := range [][]string{
		{"sync", url, "--store", "memory:", "--by", "laptop"},
		{"sync", url, "--feed", "a.xml", "--by", "laptop"},
	} {
		r := h.fails(exitUsage, []string{"feedsync sync: ", "connection refused"}, args...)
		if n := strings.Count(r.stderr, "http://"+addr); n != 1 {
			t.Errorf("the URL is named %d times:\n%s", n, r.stderr)
		}
	}
}
