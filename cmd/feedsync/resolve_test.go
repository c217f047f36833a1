package main

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// e5Merged returns a harness holding merged.xml: the E5 merge result
// (winner by tablet, one conflict copy by laptop).
func e5Merged(t *testing.T) *harness {
	h := newHarness(t)
	h.copyFixture("e5/want.xml", "merged.xml")
	return h
}

// TestResolve checks FS-RESOLVE through the CLI: the resolution is an update
// by --by (FS-RESOLVE-2), folds the copy's history (FS-RESOLVE-3), removes
// sx:conflicts (FS-RESOLVE-4), and keeps the chosen content.
func TestResolve(t *testing.T) {
	tests := []struct {
		name    string
		args    []string
		content string
		kept    string
	}{
		{"keep the winner", []string{"--keep", "0"}, "Buy 6 posts", "kept the winner (by tablet)"},
		{"keep copy 1", []string{"--keep", "1"}, "Buy 4 posts and wire", "kept conflict copy 1 (by laptop)"},
		{"keep from laptop", []string{"--keep-from", "laptop"}, "Buy 4 posts and wire", "kept conflict copy 1 (by laptop)"},
		{"keep from tablet", []string{"--keep-from", "tablet"}, "Buy 6 posts", "kept the winner (by tablet)"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			h := e5Merged(t)
			args := append([]string{"resolve", "merged.xml", "--id", "fence-1", "--by", "phone"}, tc.args...)
			r := h.ok("", args...)
			if want := `resolved "fence-1": ` + tc.kept + "; updates 4, 0 conflict copies left"; !strings.Contains(r.stderr, want) {
				t.Errorf("stderr %q, want %q", r.stderr, want)
			}
			it := h.items("merged.xml")["fence-1"]
			var hist []string
			for _, e := range it.Sync.History {
				hist = append(hist, e.String())
			}
			// E6's shape whichever content is kept: the resolution updates
			// the item as it stands (FS-RESOLVE-1), so the resolver is on
			// top, the copy's laptop/3 folded below it, then the winner's
			// own history.
			want := []string{"4@phone", "3@laptop", "3@tablet", "2@phone", "1@laptop"}
			if diff := cmp.Diff(want, hist); diff != "" {
				t.Errorf("history (-want +got):\n%s", diff)
			}
			if len(it.Sync.Conflicts) != 0 {
				t.Errorf("%d conflict copies left", len(it.Sync.Conflicts))
			}
			p, err := it.Payload()
			if err != nil {
				t.Fatal(err)
			}
			if got := childText(p, "content"); got != tc.content {
				t.Errorf("content %q, want %q", got, tc.content)
			}
			if r := h.ok("", "conflicts", "merged.xml"); r.stdout != "" {
				t.Errorf("conflicts after resolving: %s", r.stdout)
			}
		})
	}
}

// TestResolveMergesAway checks E7: the resolution merged at the other
// endpoint drops both old versions.
func TestResolveMergesAway(t *testing.T) {
	h := e5Merged(t)
	h.copyFixture("e5/want.xml", "other.xml")
	h.ok("", "resolve", "merged.xml", "--id", "fence-1", "--keep", "1", "--by", "tablet")
	r := h.ok("", "merge", "other.xml", "merged.xml", "-o", "other.xml")
	if !strings.Contains(r.stderr, "0 new, 1 updated, 0 deleted, 0 conflicts") {
		t.Errorf("merge of the resolution: %s", r.stderr)
	}
	if n := len(h.items("other.xml")["fence-1"].Sync.Conflicts); n != 0 {
		t.Errorf("%d conflict copies after merging the resolution", n)
	}
}

func TestResolveErrors(t *testing.T) {
	h := e5Merged(t)
	before := h.read("merged.xml")
	h.fails(exitUsage, []string{`feedsync resolve: merged.xml: item "shed-1" has no conflicts`, "feedsync conflicts merged.xml"},
		"resolve", "merged.xml", "--id", "shed-1", "--keep", "0", "--by", "phone")
	h.fails(exitUsage, []string{`--keep 2: item "fence-1" has 1 conflict copies`},
		"resolve", "merged.xml", "--id", "fence-1", "--keep", "2", "--by", "phone")
	h.fails(exitUsage, []string{`--keep-from phone: no version of "fence-1" was last changed by phone (versions 0: tablet, 1: laptop)`},
		"resolve", "merged.xml", "--id", "fence-1", "--keep-from", "phone", "--by", "phone")
	if h.read("merged.xml") != before {
		t.Error("merged.xml changed")
	}
}

// TestConflictsJSON checks the JSON listing.
func TestConflictsJSON(t *testing.T) {
	h := e5Merged(t)
	r := h.ok("", "conflicts", "merged.xml", "--json")
	var got []conflictInfo
	if err := json.Unmarshal([]byte(r.stdout), &got); err != nil {
		t.Fatalf("%v:\n%s", err, r.stdout)
	}
	want := []conflictInfo{{
		ID: "fence-1", Line: 6,
		Winner: versionInfo{Index: 0, By: "tablet", When: "2009-04-02T11:05:00Z", Sequence: 3, Updates: 3, Title: "Fence repair"},
		Conflicts: []versionInfo{{Index: 1, By: "laptop", When: "2009-04-02T11:00:00Z", Sequence: 3, Updates: 3, Title: "Fence repair",
			Differs: []fieldChange{{Field: "content", Winner: "Buy 6 posts", Copy: "Buy 4 posts and wire"}}}},
	}}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("conflicts --json (-want +got):\n%s", diff)
	}
	h.copyFixture("e5/laptop.xml", "clean.xml")
	if r := h.ok("", "conflicts", "clean.xml", "--json", "--fail-on-conflicts"); r.stdout != "[]\n" {
		t.Errorf("no conflicts: %q", r.stdout)
	}
}

// TestConflictsDiff checks that conflicts shows what differs between a
// copy and the winner: fields that differ or exist on one side only, and
// elements no field reads; and nothing for a copy with the same payload.
func TestConflictsDiff(t *testing.T) {
	h := newHarness(t)
	rss := func(by, when, payload string) string {
		return `<rss version="2.0" xmlns:sx="http://feedsync.org/2007/feedsync" xmlns:x="http://example.org/x"><channel><title>t</title>
<item>` + payload + `<sx:sync id="a" updates="2"><sx:history sequence="2" when="` + when + `" by="` + by + `"/><sx:history sequence="1" when="2009-04-01T09:00:00Z" by="laptop"/></sx:sync></item>
</channel></rss>`
	}
	h.write("laptop.xml", rss("laptop", "2009-04-01T10:00:00Z", `<title>Stamps</title><description>10</description><x:note>old</x:note>`))
	h.write("phone.xml", rss("phone", "2009-04-01T11:00:00Z", `<title>Stamps</title><category>post</category><x:note>new</x:note>`))
	h.ok("", "merge", "laptop.xml", "phone.xml", "-o", "merged.xml")
	r := h.ok("", "conflicts", "merged.xml")
	for _, want := range []string{
		`          description: "10" (winner: none)` + "\n",
		`          <category>: none (winner: "<category>post</category>")` + "\n",
		`          <x:note>: "<x:note>old</x:note>" (winner: "<x:note>new</x:note>")` + "\n",
	} {
		if !strings.Contains(r.stdout, want) {
			t.Errorf("conflicts does not say %q:\n%s", want, r.stdout)
		}
	}
	if strings.Contains(r.stdout, "title:") {
		t.Errorf("conflicts lists the title, which is the same:\n%s", r.stdout)
	}

	// The same payload on both sides: nothing differs but the metadata.
	h.write("phone2.xml", rss("phone", "2009-04-01T11:00:00Z", `<title>Stamps</title><description>10</description><x:note>old</x:note>`))
	h.ok("", "merge", "laptop.xml", "phone2.xml", "-o", "same.xml")
	r = h.ok("", "conflicts", "same.xml")
	if strings.Count(r.stdout, "\n") != 3 {
		t.Errorf("differences listed for identical payloads:\n%s", r.stdout)
	}
}
