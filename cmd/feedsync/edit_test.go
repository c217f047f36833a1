package main

import (
	"encoding/json"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/feedsync/go-feedsync/converter"
	"github.com/feedsync/go-feedsync/feedsync"
)

// fields returns the record of an item as converter.Map reads it.
func fields(t *testing.T, it *feedsync.Item) map[string]any {
	t.Helper()
	p, err := payloadOf(it)
	if err != nil {
		t.Fatal(err)
	}
	m, err := converter.Map{Format: it.Format()}.FromPayload(p)
	if err != nil {
		t.Fatal(err)
	}
	return m
}

// TestCreateUpdateDelete walks one item through its life: create
// (FS-CREATE), update (FS-UPDATE-1..3), delete (FS-DELETE-1), undelete by
// an update (FS-UPDATE-5), in both formats, with FEED rewritten in place.
func TestCreateUpdateDelete(t *testing.T) {
	for _, format := range []string{"rss", "atom"} {
		t.Run(format, func(t *testing.T) {
			h := newHarness(t)
			// A new feed is made when FEED does not exist.
			r := h.ok("", "create", "tasks.xml", "--by", "laptop", "--id", "stamps-1", "--format", format, "--title", "Tasks",
				"--set", "title=Buy stamps", "--fields", `{"done":false,"count":10}`)
			if !strings.Contains(r.stderr, `created "stamps-1" in tasks.xml`) {
				t.Errorf("create said %q", r.stderr)
			}
			it := h.items("tasks.xml")["stamps-1"]
			if it == nil || it.Sync.Updates != 1 || it.Sync.Top().String() != "1@laptop" || !it.Sync.Top().When.Equal(h.now) {
				t.Fatalf("created item: %+v", it)
			}
			want := map[string]any{"title": "Buy stamps", "done": false, "count": json.Number("10")}
			if diff := cmp.Diff(want, fields(t, it)); diff != "" {
				t.Errorf("created fields (-want +got):\n%s", diff)
			}

			// A second item, with a generated id, appended.
			h.ok("", "create", "tasks.xml", "--by", "laptop", "--set", "title=Fix the fence")
			if n := len(h.items("tasks.xml")); n != 2 {
				t.Errorf("%d items after the second create", n)
			}

			h.now = h.now.Add(time.Hour)
			r = h.ok("", "update", "tasks.xml", "--id", "stamps-1", "--by", "phone", "--set", "description=first-class", "--fields", `{"count":12}`, "--unset", "done")
			if !strings.Contains(r.stderr, `updated "stamps-1" (updates 2)`) {
				t.Errorf("update said %q", r.stderr)
			}
			it = h.items("tasks.xml")["stamps-1"]
			if it.Sync.Updates != 2 || it.Sync.Top().By != "phone" || len(it.Sync.History) != 2 {
				t.Errorf("updated sync: %+v", it.Sync)
			}
			want = map[string]any{"title": "Buy stamps", "description": "first-class", "count": json.Number("12")}
			if diff := cmp.Diff(want, fields(t, it)); diff != "" {
				t.Errorf("updated fields (-want +got):\n%s", diff)
			}

			// Setting what is already there is not an update (FS-UPDATE-6).
			before := h.read("tasks.xml")
			r = h.ok("", "update", "tasks.xml", "--id", "stamps-1", "--by", "phone", "--set", "title=Buy stamps")
			if !strings.Contains(r.stderr, "unchanged") || h.read("tasks.xml") != before {
				t.Errorf("a no-op update changed the feed: %s", r.stderr)
			}

			r = h.ok("", "delete", "tasks.xml", "--id", "stamps-1", "--by", "laptop")
			if !strings.Contains(r.stderr, `deleted "stamps-1" (updates 3`) {
				t.Errorf("delete said %q", r.stderr)
			}
			it = h.items("tasks.xml")["stamps-1"]
			if !it.Sync.Deleted || it.Sync.Updates != 3 {
				t.Errorf("deleted item: %+v", it.Sync)
			}
			h.fails(exitUsage, []string{`feedsync delete: tasks.xml: item "stamps-1" is deleted already`}, "delete", "tasks.xml", "--id", "stamps-1", "--by", "laptop")

			r = h.ok("", "update", "tasks.xml", "--id", "stamps-1", "--by", "laptop", "--set", "title=Buy stamps")
			if !strings.Contains(r.stderr, `undeleted "stamps-1" (updates 4)`) {
				t.Errorf("undelete said %q", r.stderr)
			}
			if it = h.items("tasks.xml")["stamps-1"]; it.Sync.Deleted {
				t.Error("still deleted after the update")
			}
			h.ok("", "validate", "tasks.xml", "--strict")
			if got, want := h.files(), []string{"tasks.xml"}; !slices.Equal(got, want) {
				t.Errorf("files: %v, want %v", got, want)
			}
		})
	}
}

// TestUpdateKeepsForeignContent updates an item written by another program:
// elements no field describes, and the Atom id, stay (FS-TYPE-1).
func TestUpdateKeepsForeignContent(t *testing.T) {
	h := newHarness(t)
	h.copyFixture("e5/tablet.xml", "feed.xml")
	h.write("feed.xml", strings.Replace(h.read("feed.xml"), "<title>Order gravel</title>",
		`<title>Order gravel</title><link rel="edit" href="https://example.org/edit/3"/><geo:lat xmlns:geo="http://www.w3.org/2003/01/geo/wgs84_pos#">51.5</geo:lat>`, 1))
	h.ok("", "update", "feed.xml", "--id", "gravel-1", "--by", "laptop", "--set", "title=Order more gravel")
	got := h.read("feed.xml")
	for _, keep := range []string{
		`<link rel="edit" href="https://example.org/edit/3"/>`,
		`>51.5</geo:lat>`,
		`<id>urn:uuid:5b0e0000-0000-4000-8000-000000000003</id>`,
		`<title>Order more gravel</title>`,
		`<updated>2009-04-02T12:00:00Z</updated>`, // Atom's updated follows the change
	} {
		if !strings.Contains(got, keep) {
			t.Errorf("updated feed lacks %s:\n%s", keep, got)
		}
	}
	// The other items are untouched.
	orig := h.items("feed.xml")
	if orig["fence-1"].Sync.Updates != 3 {
		t.Error("fence-1 changed")
	}
}

func TestEditErrors(t *testing.T) {
	h := newHarness(t)
	h.copyFixture("e5/laptop.xml", "feed.xml")
	h.copyFixture("invalid.xml", "invalid.xml")
	before := h.read("feed.xml")
	h.fails(exitUsage, []string{`feedsync update: feed.xml: no item with id "nope"`, "Run 'feedsync show feed.xml'"},
		"update", "feed.xml", "--id", "nope", "--set", "a=b", "--by", "laptop")
	h.fails(exitUsage, []string{`feedsync create: feed.xml: an item with id "fence-1" exists already`},
		"create", "feed.xml", "--id", "fence-1", "--set", "a=b", "--by", "laptop")
	h.fails(exitUsage, []string{`feedsync delete: invalid.xml: item "ok-1" (line 8): duplicate sync id`},
		"delete", "invalid.xml", "--id", "ok-1", "--by", "laptop")
	h.fails(exitUsage, []string{`feedsync delete: invalid.xml: item "nohist" (line 6): invalid sx:sync`},
		"delete", "invalid.xml", "--id", "nohist", "--by", "laptop")
	if h.read("feed.xml") != before {
		t.Error("feed.xml changed")
	}
	if got, want := h.files(), []string{"feed.xml", "invalid.xml"}; !slices.Equal(got, want) {
		t.Errorf("files: %v, want %v", got, want)
	}
}

// TestEditOutput writes the result elsewhere instead of in place.
func TestEditOutput(t *testing.T) {
	h := newHarness(t)
	h.copyFixture("e5/laptop.xml", "feed.xml")
	before := h.read("feed.xml")
	h.ok("", "delete", "feed.xml", "--id", "shed-1", "--by", "laptop", "-o", "out.xml")
	r := h.ok("", "delete", "feed.xml", "--id", "shed-1", "--by", "laptop", "-o", "-")
	if h.read("feed.xml") != before {
		t.Error("feed.xml changed")
	}
	if !h.items("out.xml")["shed-1"].Sync.Deleted {
		t.Error("out.xml: shed-1 is not deleted")
	}
	if r.stdout != h.read("out.xml") {
		t.Error("-o - wrote something else than -o out.xml")
	}
}

// TestCreateNoConflicts: --noconflicts is set at creation (FS-CREATE-3)
// and a later update carries it (FS-UPDATE-7).
func TestCreateNoConflicts(t *testing.T) {
	h := newHarness(t)
	h.ok("", "create", "feed.xml", "--id", "a", "--set", "title=A", "--noconflicts", "--by", "laptop")
	h.ok("", "update", "feed.xml", "--id", "a", "--set", "title=B", "--by", "laptop")
	if it := h.items("feed.xml")["a"]; !it.Sync.NoConflicts || it.Sync.Updates != 2 {
		t.Errorf("noconflicts %v, updates %d", it.Sync.NoConflicts, it.Sync.Updates)
	}
}
