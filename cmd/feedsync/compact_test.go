package main

import (
	"encoding/json"
	"reflect"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/feedsync/go-feedsync/feedsync"
)

// TestCompactFeed: compact FILE purges histories (FS-PURGE-1..4), cuts the
// tombstones' payload (FS-DELETE-2) and, with --retain, drops tombstones
// whose deletion is older than the window (FS-RETAIN-1), rewriting the file
// atomically; the result validates and keeps every version.
func TestCompactFeed(t *testing.T) {
	h := newHarness(t)
	h.ok("", "create", "tasks.xml", "--by", "laptop", "--id", "long", "--set", "title=v1", "--set", "description=first")
	for i, by := range []string{"laptop", "phone", "laptop"} {
		h.now = h.now.Add(time.Minute)
		h.ok("", "update", "tasks.xml", "--by", by, "--id", "long", "--set", "title=v"+strconv.Itoa(i+2))
	}
	h.ok("", "create", "tasks.xml", "--by", "laptop", "--id", "old", "--set", "title=Old", "--set", "description=a long text")
	h.ok("", "delete", "tasks.xml", "--by", "phone", "--id", "old")
	h.now = h.now.Add(48 * time.Hour)
	h.ok("", "create", "tasks.xml", "--by", "laptop", "--id", "recent", "--set", "title=Recent", "--set", "description=a long text")
	h.ok("", "delete", "tasks.xml", "--by", "phone", "--id", "recent")
	before := h.items("tasks.xml")

	// Without --retain, nothing is forgotten; to standard output.
	r := h.ok("", "compact", "tasks.xml", "-o", "-")
	if !strings.Contains(r.stderr, "1 history purged, 2 tombstones minimised, 0 tombstones forgotten") {
		t.Errorf("compact without --retain:\n%s", r.stderr)
	}
	if !strings.Contains(r.stdout, `id="old"`) {
		t.Error("the old tombstone went without --retain")
	}

	h.now = h.now.Add(time.Hour)
	r = h.ok("", "compact", "tasks.xml", "--retain", "24h", "--json")
	var sum compactJSON
	if err := json.Unmarshal([]byte(r.stdout), &sum); err != nil {
		t.Fatalf("--json: %v\n%s", err, r.stdout)
	}
	if want := (compactJSON{Target: "tasks.xml", Scanned: 3, Purged: 1, Minimized: 1, Removed: 1}); !reflect.DeepEqual(sum, want) {
		t.Errorf("summary = %+v, want %+v", sum, want)
	}
	after := h.items("tasks.xml")
	if after["old"] != nil {
		t.Error("the tombstone older than the window is still there")
	}
	for _, id := range []string{"long", "recent"} {
		if after[id] == nil || !sameTop(after[id].Sync.Top(), before[id].Sync.Top()) || after[id].Sync.Updates != before[id].Sync.Updates {
			t.Errorf("%s changed version: %+v, was %+v", id, after[id].Sync, before[id].Sync)
		}
	}
	if got := len(after["long"].Sync.History); got != 2 {
		t.Errorf("long keeps %d history entries, want 2 (laptop's and phone's latest)", got)
	}
	if p, err := after["recent"].Payload(); err != nil || p.SelectElement("description") != nil || p.SelectElement("title") == nil {
		t.Errorf("minimal RSS tombstone: want its title and no description (%v)", err)
	}
	h.ok("", "validate", "tasks.xml")
	if got, want := h.files(), []string{"tasks.xml"}; strings.Join(got, " ") != strings.Join(want, " ") {
		t.Errorf("files %v, want %v (no temporary file left)", got, want)
	}
	h.fails(exitUsage, []string{"--retain must not be negative"}, "compact", "tasks.xml", "--retain", "-1h")
	h.fails(exitUsage, []string{"-o goes with a feed file"}, "compact", "--store", "sqlite:x.db", "-o", "out.xml")
}

func sameTop(a, b feedsync.History) bool {
	return a.By == b.By && a.Sequence == b.Sequence && a.When.Equal(b.When)
}

// TestCompactStore: compact --store ages tombstones by the store's own
// clock: the first run marks, a run the window later forgets what the
// first had seen, and records the forgotten horizon (FS-RETAIN-1).
func TestCompactStore(t *testing.T) {
	h := newHarness(t)
	dsn := "sqlite:" + h.path("tasks.db")
	h.ok("", "create", "--store", dsn, "--by", "laptop", "--id", "old", "--set", "title=Old", "--set", "description=text")
	h.ok("", "delete", "--store", dsn, "--by", "phone", "--id", "old")
	h.ok("", "create", "--store", dsn, "--by", "laptop", "--id", "live", "--set", "title=Live")

	r := h.ok("", "compact", "--store", dsn, "--retain", "720h")
	if !strings.Contains(r.stderr, "1 tombstone minimised, 0 tombstones forgotten") {
		t.Errorf("first compaction:\n%s", r.stderr)
	}
	h.now = h.now.Add(721 * time.Hour)
	r = h.ok("", "compact", "--store", dsn, "--retain", "720h")
	if !strings.Contains(r.stderr, "1 tombstone forgotten (forgotten horizon: change 2)") {
		t.Errorf("compaction a window later:\n%s", r.stderr)
	}
	m := h.storeManifest(dsn)
	if len(m) != 1 || m[0].ID != "live" {
		t.Errorf("store holds %v, want only live", m)
	}
}

// TestServeRetain: serve --retain compacts its store periodically, logging
// each run, and forgets old tombstones (FS-RETAIN-1).
func TestServeRetain(t *testing.T) {
	h := newHarness(t)
	dsn := "sqlite:" + h.path("server.db")
	h.ok("", "create", "--store", dsn, "--by", "laptop", "--id", "old", "--set", "title=Old")
	h.ok("", "delete", "--store", dsn, "--by", "phone", "--id", "old")
	srv := startServe(t, h, "--store", dsn, "--retain", "1s", "--compact-every", "200ms")
	deadline := time.Now().Add(20 * time.Second)
	for !strings.Contains(srv.logs.String(), "removed=1") {
		if time.Now().After(deadline) {
			t.Fatalf("no compaction removed the tombstone:\n%s", srv.logs)
		}
		time.Sleep(50 * time.Millisecond)
	}
	srv.stop(t)
	if !strings.Contains(srv.logs.String(), "msg=compaction every=200ms retain=1s") {
		t.Errorf("serve does not say it compacts:\n%s", srv.logs)
	}
	if m := h.storeManifest(dsn); len(m) != 0 {
		t.Errorf("store holds %v after compaction, want nothing", m)
	}
}
