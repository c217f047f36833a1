package main

import (
	"slices"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// TestMergeE5 is the worked example E5: laptop and tablet edit fence-1
// concurrently; the merge keeps tablet's version (same updates, later when,
// FS-WIN-2) and laptop's as a conflict copy (FS-MERGE-10). gravel-1 is new
// (FS-MERGE-1), shed-1 is only local and stays (FS-MERGE-13). The result is
// the golden file testdata/e5/want.xml.
func TestMergeE5(t *testing.T) {
	h := newHarness(t)
	h.copyFixture("e5/laptop.xml", "laptop.xml")
	h.copyFixture("e5/tablet.xml", "tablet.xml")

	// Flags after the positional arguments, as users type them.
	r := h.ok("", "merge", "laptop.xml", "tablet.xml", "-o", "laptop.xml")
	if want := "laptop.xml: 1 new, 0 updated, 0 deleted, 1 conflict, 0 unchanged, 0 rejected\n"; !strings.HasPrefix(r.stderr, want) {
		t.Errorf("summary:\n%s\nwant %s", r.stderr, want)
	}
	if !strings.Contains(r.stderr, "feedsync conflicts laptop.xml") {
		t.Errorf("no hint to review the conflict: %s", r.stderr)
	}
	merged := h.read("laptop.xml")
	golden(t, "e5/want.xml", merged)

	r = h.ok("", "conflicts", "laptop.xml")
	want := `fence-1 (line 6): 1 conflict copy
  winner  3@tablet  2009-04-02T11:05:00Z  updates=3  "Fence repair"
       1  3@laptop  2009-04-02T11:00:00Z  updates=3  "Fence repair"
          content: "Buy 4 posts and wire" (winner: "Buy 6 posts")
`
	if diff := cmp.Diff(want, r.stdout); diff != "" {
		t.Errorf("conflicts (-want +got):\n%s", diff)
	}
	h.fails(exitProblem, []string{"feedsync conflicts: laptop.xml: 1 item with conflicts"}, "conflicts", "laptop.xml", "--fail-on-conflicts")

	// The same merge again changes nothing (FS-MERGE-14).
	r = h.ok("", "merge", "laptop.xml", "tablet.xml", "-o", "laptop.xml")
	if !strings.Contains(r.stderr, "0 new, 0 updated, 0 deleted, 0 conflicts, 2 unchanged, 0 rejected") {
		t.Errorf("second merge: %s", r.stderr)
	}
	if got := h.read("laptop.xml"); got != merged {
		t.Errorf("a repeated merge changed the feed:\n%s", cmp.Diff(merged, got))
	}

	// Tablet merges laptop's original feed the other way round and reaches
	// the same winner and the same conflict copy.
	h.copyFixture("e5/laptop.xml", "laptop-orig.xml")
	h.ok("", "merge", "tablet.xml", "laptop-orig.xml", "-o", "tablet.xml")
	a, b := h.items("laptop.xml")["fence-1"], h.items("tablet.xml")["fence-1"]
	if !a.Sync.SameVersion(b.Sync) || len(b.Sync.Conflicts) != 1 || !a.Sync.Conflicts[0].Sync.SameVersion(b.Sync.Conflicts[0].Sync) {
		t.Errorf("the two endpoints disagree on fence-1")
	}
}

// TestMergeFailOnConflicts checks exit 1, after the output was written.
func TestMergeFailOnConflicts(t *testing.T) {
	h := newHarness(t)
	h.copyFixture("e5/laptop.xml", "laptop.xml")
	h.copyFixture("e5/tablet.xml", "tablet.xml")
	h.fails(exitProblem, []string{"feedsync merge: 1 item with new conflicts"}, "merge", "--fail-on-conflicts", "laptop.xml", "tablet.xml", "-o", "out.xml")
	if len(h.items("out.xml")["fence-1"].Sync.Conflicts) != 1 {
		t.Error("out.xml does not hold the conflict")
	}
}

// TestMergeFailOnReject checks that an incoming item with invalid sync
// metadata (FS-ROBUST-1) is reported and left out, with exit 0 by default
// and exit 1 with --fail-on-reject; the rest of the feed is merged either
// way.
func TestMergeFailOnReject(t *testing.T) {
	h := newHarness(t)
	h.copyFixture("e5/laptop.xml", "laptop.xml")
	h.write("bad.xml", `<rss version="2.0" xmlns:sx="http://feedsync.org/2007/feedsync"><channel><title>bad</title>
<item><title>no history</title><sx:sync id="nohist" updates="1"></sx:sync></item>
<item><title>fine</title><sx:sync id="fine" updates="1"><sx:history sequence="1" by="tablet"/></sx:sync></item>
</channel></rss>`)
	r := h.ok("", "merge", "laptop.xml", "bad.xml", "-o", "out.xml")
	if !strings.Contains(r.stderr, `rejected: `) || !strings.Contains(r.stderr, "1 new, 0 updated, 0 deleted, 0 conflicts, 0 unchanged, 1 rejected") {
		t.Errorf("stderr:\n%s", r.stderr)
	}
	h.fails(exitProblem, []string{"1 new, 0 updated", "feedsync merge: 1 incoming item rejected"}, "merge", "laptop.xml", "bad.xml", "-o", "out2.xml", "--fail-on-reject")
	if h.items("out2.xml")["fine"] == nil {
		t.Error("with --fail-on-reject, the valid item was not merged")
	}
}

// TestMergeStdinAndStdout reads INCOMING from standard input and writes the
// result to standard output.
func TestMergeStdinAndStdout(t *testing.T) {
	h := newHarness(t)
	h.copyFixture("e5/laptop.xml", "laptop.xml")
	h.copyFixture("e5/tablet.xml", "tablet.xml")
	r := h.ok(h.read("tablet.xml"), "merge", "laptop.xml", "-")
	if !strings.Contains(r.stdout, "<sx:conflicts>") || !strings.Contains(r.stderr, "<stdout>: 1 new") {
		t.Errorf("stdout:\n%s\nstderr:\n%s", r.stdout, r.stderr)
	}
}

// TestMergeAtomic checks that a merge that fails leaves the output exactly
// as it was and no temporary file behind.
func TestMergeAtomic(t *testing.T) {
	tests := []struct {
		name     string
		incoming string
		want     []string
	}{
		{"malformed XML", "<feed xmlns=\"http://www.w3.org/2005/Atom\"><entry><title>x</entry></feed>", []string{"feedsync merge: tablet.xml:", "line 1"}},
		{"not a feed", "<html><body/></html>", []string{"feedsync merge: tablet.xml: line 1: root element <html> is not RSS 2.0 <rss> or Atom 1.0 <feed>\n"}},
		{"duplicate ids", `<rss><channel xmlns:sx="http://feedsync.org/2007/feedsync">
<item><sx:sync id="a" updates="1"><sx:history sequence="1" by="x"/></sx:sync></item>
<item><sx:sync id="a" updates="1"><sx:history sequence="1" by="y"/></sx:sync></item>
</channel></rss>`, []string{"feedsync merge: tablet.xml:", `item "a" (line 3)`, "duplicate sync id"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			h := newHarness(t)
			h.copyFixture("e5/laptop.xml", "laptop.xml")
			before := h.read("laptop.xml")
			h.write("tablet.xml", tc.incoming)
			h.fails(exitUsage, tc.want, "merge", "laptop.xml", "tablet.xml", "-o", "laptop.xml")
			if got := h.read("laptop.xml"); got != before {
				t.Errorf("laptop.xml changed by a failed merge")
			}
			if got, want := h.files(), []string{"laptop.xml", "tablet.xml"}; !slices.Equal(got, want) {
				t.Errorf("files: %v, want %v", got, want)
			}
		})
	}
}

// TestMergePolicies checks the automatic policies: each resolves E5's
// conflict with an update by --by (FS-RESOLVE-2) that keeps the chosen
// content; keep and defer leave the conflict.
func TestMergePolicies(t *testing.T) {
	tests := []struct {
		policy      string
		wantContent string
		wantTop     string
		conflicts   int
	}{
		{"keep", "Buy 6 posts", "tablet", 1},
		{"defer", "Buy 6 posts", "tablet", 1},
		{"source", "Buy 6 posts", "phone", 0},
		{"destination", "Buy 4 posts and wire", "phone", 0},
		{"lww", "Buy 6 posts", "phone", 0},
		{"endpoint:laptop", "Buy 4 posts and wire", "phone", 0},
	}
	for _, tc := range tests {
		t.Run(tc.policy, func(t *testing.T) {
			h := newHarness(t)
			h.copyFixture("e5/laptop.xml", "laptop.xml")
			h.copyFixture("e5/tablet.xml", "tablet.xml")
			r := h.ok("", "merge", "laptop.xml", "tablet.xml", "-o", "out.xml", "--policy", tc.policy, "--by", "phone")
			it := h.items("out.xml")["fence-1"]
			if got := len(it.Sync.Conflicts); got != tc.conflicts {
				t.Errorf("%d conflict copies, want %d", got, tc.conflicts)
			}
			if got := it.Sync.Top().By; got != tc.wantTop {
				t.Errorf("topmost by %q, want %q", got, tc.wantTop)
			}
			p, err := it.Payload()
			if err != nil {
				t.Fatal(err)
			}
			if got := childText(p, "content"); got != tc.wantContent {
				t.Errorf("content %q, want %q", got, tc.wantContent)
			}
			if tc.policy == "defer" && !strings.Contains(r.stderr, `conflict to review: "fence-1"`) {
				t.Errorf("defer does not list the conflict: %s", r.stderr)
			}
		})
	}
}

// TestMergeFormats merges an Atom feed into an RSS one (FS-FEED-10): the
// output keeps the local format unless --format says otherwise.
func TestMergeFormats(t *testing.T) {
	h := newHarness(t)
	h.write("data.jsonl", `{"id":"fence-1","title":"Fence"}`+"\n")
	h.ok("", "produce", "data.jsonl", "--by", "desk", "-o", "local.xml")
	h.copyFixture("e5/tablet.xml", "tablet.xml")
	r := h.ok("", "merge", "local.xml", "tablet.xml")
	if !strings.Contains(r.stdout, "<rss") || !strings.Contains(r.stdout, "<sx:conflicts>") {
		t.Errorf("RSS output with a conflict expected:\n%s", r.stdout)
	}
	r = h.ok("", "merge", "local.xml", "tablet.xml", "--format", "atom")
	if !strings.Contains(r.stdout, "<feed") {
		t.Errorf("Atom output expected:\n%s", r.stdout)
	}
}
