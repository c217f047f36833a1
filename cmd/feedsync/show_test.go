package main

import (
	"encoding/json"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestShow(t *testing.T) {
	h := newHarness(t)
	h.copyFixture("e5/want.xml", "feed.xml")
	h.write("feed.xml", h.read("feed.xml")[:len(h.read("feed.xml"))-len("</feed>\n")]+
		`  <entry><title>plain</title><id>urn:x</id><updated>2009-04-02T10:00:00Z</updated></entry>
</feed>
`)
	r := h.ok("", "show", "feed.xml")
	want := `fence-1 (line 6)  updates=3  1 conflict  "Fence repair"
  history: 3@tablet 2009-04-02T11:05:00Z, 2@phone 2009-04-02T08:00:00Z, 1@laptop 2009-04-01T18:00:00Z
shed-1 (line 30)  updates=1  "Paint the shed"
  history: 1@laptop 2009-04-02T09:30:00Z
gravel-1 (line 38)  updates=1  "Order gravel"
  history: 1@tablet 2009-04-02T10:00:00Z
- (line 46)  not synchronized  "plain"
`
	if diff := cmp.Diff(want, r.stdout); diff != "" {
		t.Errorf("show (-want +got):\n%s", diff)
	}
	if want := "feed.xml: 4 items (3 synchronized, 0 deleted, 1 with conflicts)\n"; r.stderr != want {
		t.Errorf("stderr %q, want %q", r.stderr, want)
	}

	r = h.ok("", "show", "feed.xml", "--id", "fence-1")
	want = `fence-1 (line 6)  updates=3  1 conflict  "Fence repair"
  history: 3@tablet 2009-04-02T11:05:00Z, 2@phone 2009-04-02T08:00:00Z, 1@laptop 2009-04-01T18:00:00Z
  fields: {"content":"Buy 6 posts","title":"Fence repair"}
       1  3@laptop  2009-04-02T11:00:00Z  updates=3  "Fence repair"
          fields: {"content":"Buy 4 posts and wire","title":"Fence repair"}
`
	if diff := cmp.Diff(want, r.stdout); diff != "" {
		t.Errorf("show --id (-want +got):\n%s", diff)
	}

	r = h.ok("", "show", "feed.xml", "--json", "--id", "shed-1")
	var got []itemInfo
	if err := json.Unmarshal([]byte(r.stdout), &got); err != nil {
		t.Fatalf("%v:\n%s", err, r.stdout)
	}
	wantJSON := []itemInfo{{
		ID: "shed-1", Line: 30, Synchronized: true, Updates: 1, Title: "Paint the shed",
		History: []historyInfo{{Sequence: 1, When: "2009-04-02T09:30:00Z", By: "laptop"}},
		Fields:  map[string]any{"title": "Paint the shed"},
	}}
	if diff := cmp.Diff(wantJSON, got); diff != "" {
		t.Errorf("show --json (-want +got):\n%s", diff)
	}
	r = h.ok("", "show", "feed.xml", "--json")
	if err := json.Unmarshal([]byte(r.stdout), &got); err != nil || len(got) != 4 || got[0].Conflicts != 1 || len(got[0].Copies) != 1 {
		t.Errorf("show --json: %v\n%s", err, r.stdout)
	}

	h.fails(exitUsage, []string{`feedsync show: feed.xml: no item with id "nope"`}, "show", "feed.xml", "--id", "nope")
}
