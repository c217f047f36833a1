package main

import (
	"context"
	"net/http/httptest"
	"os"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/feedsync/go-feedsync/httpfeed"
	"github.com/feedsync/go-feedsync/store"
)

// holdLock takes the lock of a feed file as another command would.
func holdLock(t *testing.T, path string) (release func()) {
	t.Helper()
	release, err := (&Main{}).lock(context.Background(), path)
	if err != nil {
		t.Fatal(err)
	}
	return release
}

// A command that would rewrite a feed file another command is rewriting
// waits for it, up to Main.LockWait, then fails saying which file is busy;
// the file is left as it was.
func TestLockedFeedFailsClearly(t *testing.T) {
	h := newHarness(t)
	h.ok("", "create", "tasks.xml", "--by", "laptop", "--id", "a", "--set", "title=A")
	before := h.read("tasks.xml")
	release := holdLock(t, h.path("tasks.xml"))
	h.lockWait = 100 * time.Millisecond
	for _, args := range [][]string{
		{"update", "tasks.xml", "--by", "laptop", "--id", "a", "--set", "title=B"},
		{"create", "tasks.xml", "--by", "laptop", "--id", "b", "--set", "title=B"},
		{"delete", "tasks.xml", "--by", "laptop", "--id", "a"},
		{"merge", "other.xml", "tasks.xml", "-o", "tasks.xml"},
		{"sync", "http://127.0.0.1:1/", "--feed", "tasks.xml", "--by", "laptop"},
	} {
		if args[0] == "merge" {
			h.write("other.xml", before)
		}
		h.fails(exitUsage, []string{"tasks.xml is being changed by another feedsync command"}, args...)
	}
	if h.read("tasks.xml") != before {
		t.Error("tasks.xml changed while locked")
	}
	release()
	h.ok("", "update", "tasks.xml", "--by", "laptop", "--id", "a", "--set", "title=B")
	if got := h.files(); strings.Join(got, " ") != "other.xml tasks.xml" {
		t.Errorf("files left: %v", got)
	}
}

// A second command waits for the first one's lock, then works on the file
// the first one wrote.
func TestLockedFeedWaits(t *testing.T) {
	h := newHarness(t)
	h.ok("", "create", "tasks.xml", "--by", "laptop", "--id", "a", "--set", "title=A")
	release := holdLock(t, h.path("tasks.xml"))
	done := make(chan result, 1)
	m := &Main{Stdin: strings.NewReader(""), Stdout: new(strings.Builder), Stderr: new(strings.Builder),
		Getenv: func(k string) string { return h.env[k] }, Now: func() time.Time { return h.now }}
	go func() {
		err := m.Run(context.Background(), []string{"update", h.path("tasks.xml"), "--by", "phone", "--id", "a", "--set", "title=B"})
		done <- result{code: ExitCode(err), stderr: m.Stderr.(*strings.Builder).String()}
	}()
	select {
	case r := <-done:
		t.Fatalf("update ran while the file was locked: %+v", r)
	case <-time.After(300 * time.Millisecond):
	}
	release()
	select {
	case r := <-done:
		if r.code != 0 {
			t.Fatalf("update after the lock was released: %+v", r)
		}
	case <-time.After(20 * time.Second):
		t.Fatal("update still waiting after the lock was released")
	}
	if got := h.items("tasks.xml")["a"]; got == nil || got.Sync.Top().By != "phone" {
		t.Errorf("update not applied")
	}
}

// Temporary files a killed command left beside a feed are removed by the
// next command that rewrites it.
func TestStaleTempFilesRemoved(t *testing.T) {
	h := newHarness(t)
	h.ok("", "create", "tasks.xml", "--by", "laptop", "--id", "a", "--set", "title=A")
	h.write(".tasks.xml.tmp-123456", "half a feed")
	h.write(".other.xml.tmp-1", "not ours")
	h.ok("", "update", "tasks.xml", "--by", "laptop", "--id", "a", "--set", "title=B")
	if got := h.files(); strings.Join(got, " ") != ".other.xml.tmp-1 tasks.xml" {
		t.Errorf("files: %v, want the stale temporary file of tasks.xml gone", got)
	}
}

// Issue: an update of the same file during a sync --feed dropped the item
// the sync pulled while the saved token moved past it, so it was never
// pulled again. With the lock, each round keeps both the pulled item and
// the update, in whichever order the two commands ran.
func TestSyncFeedAndUpdateConcurrently(t *testing.T) {
	h := newHarness(t)
	st := store.NewMemory()
	srv := httptest.NewServer(&httpfeed.Handler{Store: st})
	t.Cleanup(func() { srv.Close(); st.Close() })
	server := h.path("server.xml")
	h.ok("", "create", "tasks.xml", "--by", "laptop", "--id", "mine", "--set", "title=0")
	h.ok("", "sync", srv.URL, "--feed", h.path("tasks.xml"), "--by", "laptop")
	h.ok("", "sync", srv.URL, "--feed", server, "--by", "phone")
	newMain := func() *Main {
		return &Main{Stdin: strings.NewReader(""), Stdout: new(strings.Builder), Stderr: new(strings.Builder),
			Getenv: func(k string) string { return h.env[k] }, Now: func() time.Time { return h.now }}
	}
	for round := range 6 {
		id := "pulled" + strconv.Itoa(round)
		// The phone adds an item to the server for the laptop to pull.
		h.ok("", "create", server, "--by", "phone", "--id", id, "--set", "title=P")
		h.ok("", "sync", srv.URL, "--feed", server, "--by", "phone")
		errs := make(chan error, 2)
		go func() {
			errs <- newMain().Run(context.Background(), []string{"sync", srv.URL, "--feed", h.path("tasks.xml"), "--by", "laptop"})
		}()
		go func() {
			errs <- newMain().Run(context.Background(), []string{"update", h.path("tasks.xml"), "--by", "laptop", "--id", "mine", "--set", "title=" + strconv.Itoa(round+1)})
		}()
		for range 2 {
			if err := <-errs; err != nil {
				t.Fatalf("round %d: %v", round, err)
			}
		}
		items := h.items("tasks.xml")
		if items[id] == nil {
			t.Fatalf("round %d: the pulled item %s is not in the file", round, id)
		}
		if got := fields(t, items["mine"])["title"]; got != strconv.Itoa(round+1) {
			t.Fatalf("round %d: the update is lost: title %v", round, got)
		}
	}
	if _, err := os.Stat(h.path(".tasks.xml.lock")); !os.IsNotExist(err) {
		t.Errorf("lock file left: %v", err)
	}
}
