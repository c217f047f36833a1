package main

import (
	"encoding/json"
	"fmt"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// verifyHarness holds E5's two feeds and variants of laptop's, each
// differing from it in one way.
func verifyHarness(t *testing.T) *harness {
	t.Helper()
	h := newHarness(t)
	h.copyFixture("e5/laptop.xml", "laptop.xml")
	h.copyFixture("e5/tablet.xml", "tablet.xml")
	laptop := h.read("laptop.xml")
	// The same items, in another order and another format.
	h.ok("", "merge", "tablet.xml", "laptop.xml", "--format", "rss", "-o", "rss.xml")
	h.ok("", "merge", "laptop.xml", "tablet.xml", "-o", "merged.xml")
	// shed-1 deleted by laptop.
	h.write("deleted.xml", laptop)
	h.ok("", "delete", "deleted.xml", "--id", "shed-1", "--by", "laptop")
	// The content of fence-1 changed without an update (FS-UPDATE-6).
	h.write("edited.xml", strings.Replace(laptop, "Buy 4 posts and wire", "Buy 5 posts", 1))
	return h
}

// TestVerify compares feeds: the exit code and one line per differing
// item, naming it and what differs.
func TestVerify(t *testing.T) {
	h := verifyHarness(t)
	tests := []struct {
		a, b string
		code int
		want string
	}{
		{"laptop.xml", "laptop.xml", exitOK, "same: 2 items\n"},
		{"merged.xml", "merged.xml", exitOK, "same: 3 items\n"},
		{"laptop.xml", "tablet.xml", exitProblem, `"fence-1": different winner: laptop.xml has updates 3, top 3@laptop; tablet.xml has updates 3, top 3@tablet
"gravel-1": only in tablet.xml (updates 1, top 1@tablet)
"shed-1": only in laptop.xml (updates 1, top 1@laptop)
`},
		{"merged.xml", "tablet.xml", exitProblem, `"fence-1": different conflicts: merged.xml has updates 3, top 3@tablet, 1 conflict; tablet.xml has updates 3, top 3@tablet
"shed-1": only in merged.xml (updates 1, top 1@laptop)
`},
		{"laptop.xml", "deleted.xml", exitProblem, `"shed-1": different winner, different deleted flag: laptop.xml has updates 1, top 1@laptop; deleted.xml has updates 2, top 2@laptop, deleted
`},
		{"laptop.xml", "edited.xml", exitProblem, `"fence-1": different payload of the same version: laptop.xml has updates 3, top 3@laptop; edited.xml has updates 3, top 3@laptop
`},
		// FS-FEED-10: the RSS form of the same items is the same state.
		{"merged.xml", "rss.xml", exitOK, "same: 3 items\n"},
	}
	for _, tc := range tests {
		t.Run(tc.a+" "+tc.b, func(t *testing.T) {
			r := h.run("", "verify", tc.a, tc.b)
			if r.code != tc.code {
				t.Errorf("exit %d, want %d\n%s", r.code, tc.code, r.stderr)
			}
			if diff := cmp.Diff(tc.want, r.stdout); diff != "" {
				t.Errorf("stdout (-want +got):\n%s", diff)
			}
			if tc.code == exitProblem {
				n := strings.Count(tc.want, "\n")
				want := "feedsync verify: 1 item differs between "
				if n > 1 {
					want = fmt.Sprintf("feedsync verify: %d items differ between ", n)
				}
				if !strings.HasPrefix(r.stderr, want+tc.a+" (") {
					t.Errorf("stderr %q, want it to start with %q", r.stderr, want+tc.a)
				}
			}
		})
	}
}

// TestVerifyJSON checks the JSON form of a comparison.
func TestVerifyJSON(t *testing.T) {
	h := verifyHarness(t)
	r := h.run(h.read("deleted.xml"), "verify", "merged.xml", "-", "--json")
	if r.code != exitProblem {
		t.Fatalf("exit %d, want 1\n%s", r.code, r.stderr)
	}
	var got verifyReport
	if err := json.Unmarshal([]byte(r.stdout), &got); err != nil {
		t.Fatalf("%v\n%s", err, r.stdout)
	}
	want := verifyReport{
		A: "merged.xml", B: "<stdin>", ItemsA: 3, ItemsB: 2,
		Differences: []verifyDifference{
			{
				ID:   "fence-1",
				What: []string{"winner", "conflicts"},
				A:    &verifyEntry{Updates: 3, Top: historyInfo{Sequence: 3, When: "2009-04-02T11:05:00Z", By: "tablet"}, Conflicts: 1},
				B:    &verifyEntry{Updates: 3, Top: historyInfo{Sequence: 3, When: "2009-04-02T11:00:00Z", By: "laptop"}},
			},
			{
				ID:   "gravel-1",
				What: []string{"only_a"},
				A:    &verifyEntry{Updates: 1, Top: historyInfo{Sequence: 1, When: "2009-04-02T10:00:00Z", By: "tablet"}},
			},
			{
				ID:   "shed-1",
				What: []string{"winner", "deleted"},
				A:    &verifyEntry{Updates: 1, Top: historyInfo{Sequence: 1, When: "2009-04-02T09:30:00Z", By: "laptop"}},
				B:    &verifyEntry{Updates: 2, Top: historyInfo{Sequence: 2, When: "2009-04-02T12:00:00Z", By: "laptop"}, Deleted: true},
			},
		},
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("JSON (-want +got):\n%s", diff)
	}

	r = h.ok("", "verify", "laptop.xml", "laptop.xml", "--json")
	if !strings.Contains(r.stdout, `"same":true`) || !strings.Contains(r.stdout, `"differences":[]`) {
		t.Errorf("JSON of a match:\n%s", r.stdout)
	}
}

// TestVerifyStores compares stores with each other and with feeds:
// two SQLite stores that merged E5's feeds in opposite orders converge
// (FS-MERGE-14) and hold what the file merge holds.
func TestVerifyStores(t *testing.T) {
	h := verifyHarness(t)
	h.ok("", "merge", "--store", "a.db", "laptop.xml")
	h.ok("", "merge", "--store", "a.db", "tablet.xml")
	h.ok("", "merge", "--store", "sqlite:b.db", "tablet.xml")
	h.ok("", "merge", "--store", "sqlite:b.db", "laptop.xml")
	h.ok("", "merge", "--store", "c.db", "laptop.xml")

	tests := []struct{ a, b, want string }{
		{"a.db", "sqlite:b.db", "same: 3 items\n"},
		{"b.db", "merged.xml", "same: 3 items\n"},
		{"rss.xml", "a.db", "same: 3 items\n"},
		{"c.db", "laptop.xml", "same: 2 items\n"},
	}
	for _, tc := range tests {
		if r := h.ok("", "verify", tc.a, tc.b); r.stdout != tc.want {
			t.Errorf("verify %s %s: %s, want %s", tc.a, tc.b, r.stdout, tc.want)
		}
	}
	// c.db merged laptop's feed only: fence-1 is laptop's version there.
	r := h.fails(exitProblem, []string{"feedsync verify: 2 items differ between a.db (3 items) and c.db (2 items)"}, "verify", "a.db", "c.db")
	want := `"fence-1": different winner, different conflicts: a.db has updates 3, top 3@tablet, 1 conflict; c.db has updates 3, top 3@laptop
"gravel-1": only in a.db (updates 1, top 1@tablet)
`
	if diff := cmp.Diff(want, r.stdout); diff != "" {
		t.Errorf("stdout (-want +got):\n%s", diff)
	}
}

// TestVerifyErrors checks input errors: exit 2, naming the endpoint, and
// no database created by a mistyped store name.
func TestVerifyErrors(t *testing.T) {
	h := newHarness(t)
	h.copyFixture("e5/laptop.xml", "laptop.xml")
	h.copyFixture("invalid.xml", "invalid.xml")
	h.write("dup.xml", `<rss><channel xmlns:sx="http://feedsync.org/2007/feedsync">
<item><sx:sync id="a" updates="1"><sx:history sequence="1" by="x"/></sx:sync></item>
<item><sx:sync id="a" updates="1"><sx:history sequence="1" by="y"/></sx:sync></item>
</channel></rss>`)
	tests := []struct {
		args []string
		want []string
	}{
		{[]string{"verify", "laptop.xml"}, []string{"feedsync verify: missing B"}},
		{[]string{"verify", "-", "-"}, []string{"cannot both be standard input"}},
		{[]string{"verify", "laptop.xml", "missing.xml"}, []string{"feedsync verify: missing.xml: no such file or directory"}},
		{[]string{"verify", "missing.db", "laptop.xml"}, []string{"feedsync verify: missing.db: no such store"}},
		{[]string{"verify", "laptop.xml", "invalid.xml"}, []string{"feedsync verify: invalid.xml: ", `item "nohist"`, "FS-ROBUST-1"}},
		{[]string{"verify", "laptop.xml", "dup.xml"}, []string{"feedsync verify: dup.xml: ", "duplicate sync id"}},
		{[]string{"verify", "laptop.xml", "laptop.xml", "--nope"}, []string{"unknown flag --nope"}},
	}
	for _, tc := range tests {
		t.Run(strings.Join(tc.args, " "), func(t *testing.T) {
			h.fails(exitUsage, tc.want, tc.args...)
		})
	}
	if got := h.files(); len(got) != 3 {
		t.Errorf("files after failed verifies: %v", got)
	}
}
