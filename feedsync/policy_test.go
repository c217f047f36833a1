package feedsync

import (
	"errors"
	"testing"

	"github.com/beevik/etree"
	"github.com/google/go-cmp/cmp"
)

// policyCase is a conflict where the local winner is not the incoming one:
// laptop edited later (11:30) than tablet (11:05), so FS-WIN keeps laptop's
// version and tablet's becomes the conflict copy.
func policyCase(t *testing.T) (local, incoming, merged *Item) {
	t.Helper()
	_, laptop, tablet := e5(t)
	local = mustItem(t)(Update(laptop, rpayload(Atom, "laptop late"), Stamp{By: "laptop", When: rt("2009-04-02T11:30:00Z")}))
	merged, out := MergeItem(local, tablet)
	if out != Conflict || titleOf(t, merged) != "laptop late" {
		t.Fatalf("setup: %v %s", out, describe(t, merged))
	}
	return local, tablet, merged
}

func TestPolicies(t *testing.T) {
	local, incoming, merged := policyCase(t)
	st := Stamp{By: "hub", When: rt("2009-04-02T12:00:00Z")}
	tests := []struct {
		name      string
		policy    ConflictPolicy
		wantTitle string // "" means merged must come back as it is
	}{
		{"KeepConflicts FS-CONFLICT-2 spec default", KeepConflicts, ""},
		{"Defer", Defer, ""},
		{"SourceWins", SourceWins, "Buy 6 posts"},
		{"DestinationWins", DestinationWins, "laptop late"},
		{"EndpointWins tablet", EndpointWins("tablet"), "Buy 6 posts"},
		{"EndpointWins laptop", EndpointWins("laptop"), "laptop late"},
		{"EndpointWins unknown falls back to the winner", EndpointWins("nobody"), "laptop late"},
		{"LastWriterWins", LastWriterWins, "laptop late"},
		{"MergeFunc", MergeFunc(func(w *Item, cs []*Item) (*etree.Element, bool, error) {
			p, err := w.Payload()
			if err != nil {
				return nil, false, err
			}
			p.SelectElement("title").SetText(titleOf(t, w) + " + " + titleOf(t, cs[0]))
			return p, false, nil
		}), "laptop late + Buy 6 posts"},
	}
	before := []string{describe(t, local), describe(t, incoming), describe(t, merged)}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := tc.policy.Apply(merged, local, incoming, st)
			if err != nil {
				t.Fatal(err)
			}
			if tc.wantTitle == "" {
				if got != merged {
					t.Errorf("got %s, want merged as it is", describe(t, got))
				}
				return
			}
			// The choice is applied as a resolution stamped by the local
			// endpoint (FS-RESOLVE-2): updates+1, hub on top, no conflicts
			// left (FS-RESOLVE-4).
			want := `fence-1 u=5 5@hub 3@tablet 4@laptop 3@laptop 2@phone 1@laptop "` + tc.wantTitle + `"`
			if d := cmp.Diff(want, describe(t, got)); d != "" {
				t.Errorf("(-want +got):\n%s", d)
			}
			// FS-RESOLVE-6: it subsumes every version involved, so both
			// sides accept it silently.
			for _, v := range []*Item{local, incoming, merged} {
				if r, out := MergeItem(v, got); r != got || out != Updated {
					t.Errorf("merge into %s: %v", version(v.Sync), out)
				}
			}
		})
	}
	after := []string{describe(t, local), describe(t, incoming), describe(t, merged)}
	if d := cmp.Diff(before, after); d != "" {
		t.Errorf("inputs changed (-before +after):\n%s", d)
	}
	if KeepConflicts == Defer {
		t.Error("Defer must be distinguishable from KeepConflicts")
	}
}

func TestPoliciesWithoutConflicts(t *testing.T) {
	_, laptop, _ := e5(t)
	st := Stamp{By: "hub", When: rt("2009-04-02T12:00:00Z")}
	called := false
	mf := MergeFunc(func(*Item, []*Item) (*etree.Element, bool, error) { called = true; return nil, false, nil })
	for _, p := range []ConflictPolicy{KeepConflicts, Defer, SourceWins, DestinationWins, EndpointWins("x"), LastWriterWins, mf} {
		got, err := p.Apply(laptop, nil, laptop, st)
		if err != nil || got != laptop {
			t.Errorf("%T: got %v, %v; want the item itself", p, got, err)
		}
	}
	if called {
		t.Error("MergeFunc called without conflicts")
	}
}

func TestLastWriterWins(t *testing.T) {
	st := Stamp{By: "hub", When: rt("2009-04-03T00:00:00Z")}
	base := ritem(RSS, "base", rsync("lww", 1, rh(1, "2009-04-01T09:00:00Z", "a")))
	// x has more updates (FS-WIN-1 winner), y the latest when.
	x1 := mustItem(t)(Update(base, rpayload(RSS, "x1"), Stamp{By: "x", When: rt("2009-04-01T10:00:00Z")}))
	x := mustItem(t)(Update(x1, rpayload(RSS, "x"), Stamp{By: "x", When: rt("2009-04-01T10:01:00Z")}))
	y := mustItem(t)(Update(base, rpayload(RSS, "y"), Stamp{By: "y", When: rt("2009-04-01T11:00:00Z")}))
	m, _ := MergeItem(x, y)
	if titleOf(t, m) != "x" {
		t.Fatalf("setup: FS-WIN-1 winner should be x: %s", describe(t, m))
	}
	got := mustItem(t)(LastWriterWins.Apply(m, x, y, st))
	if titleOf(t, got) != "y" {
		t.Errorf("latest when lost: %s", describe(t, got))
	}
	// Equal whens: FS-WIN decides (z > y on by, FS-BY-3).
	z := mustItem(t)(Update(base, rpayload(RSS, "z"), Stamp{By: "z", When: rt("2009-04-01T11:00:00Z")}))
	m2, _ := MergeItem(m, z)
	got = mustItem(t)(LastWriterWins.Apply(m2, m, z, st))
	if titleOf(t, got) != "z" {
		t.Errorf("tie on when: %s", describe(t, got))
	}
	// A when beats a missing when.
	n := mustItem(t)(Update(base, rpayload(RSS, "n"), Stamp{By: "n"}))
	nn := mustItem(t)(Update(n, rpayload(RSS, "nn"), Stamp{By: "n"}))
	m3, _ := MergeItem(nn, y)
	if titleOf(t, m3) != "nn" {
		t.Fatalf("setup: %s", describe(t, m3))
	}
	got = mustItem(t)(LastWriterWins.Apply(m3, nn, y, st))
	if titleOf(t, got) != "y" {
		t.Errorf("missing when won: %s", describe(t, got))
	}
}

// Policies keep a tombstone's deleted flag with its content (FS-DELETE-3:
// tombstones are ordinary versions).
func TestPolicyKeepsTombstone(t *testing.T) {
	_, laptop, tablet := e5(t)
	tomb := mustItem(t)(Delete(tablet, Stamp{By: "tablet", When: rt("2009-04-02T11:06:00Z")}))
	later := mustItem(t)(Update(laptop, rpayload(Atom, "later"), Stamp{By: "laptop", When: rt("2009-04-02T11:07:00Z")}))
	m, _ := MergeItem(later, tomb) // both updates=4; later's when wins
	if m.Sync.Deleted || len(m.Sync.Conflicts) != 1 {
		t.Fatalf("setup: %s", describe(t, m))
	}
	st := Stamp{By: "laptop", When: rt("2009-04-02T12:00:00Z")}
	got := mustItem(t)(SourceWins.Apply(m, later, tomb, st))
	if !got.Sync.Deleted {
		t.Errorf("SourceWins did not keep the incoming deletion: %s", describe(t, got))
	}
	got = mustItem(t)(DestinationWins.Apply(m, later, tomb, st))
	if got.Sync.Deleted || titleOf(t, got) != "later" {
		t.Errorf("DestinationWins: %s", describe(t, got))
	}
	got = mustItem(t)(MergeFunc(func(*Item, []*Item) (*etree.Element, bool, error) { return nil, true, nil }).Apply(m, later, tomb, st))
	if !got.Sync.Deleted || titleOf(t, got) != "later" {
		t.Errorf("MergeFunc deletion: %s", describe(t, got))
	}
}

// SourceWins when the incoming winner did not survive: the incoming item
// held a conflict copy that did, so that copy is the incoming side's
// content. DestinationWins mirrors it.
func TestSourceWinsSurvivingCopy(t *testing.T) {
	_, laptop, tablet := e5(t)
	st := Stamp{By: "hub", When: rt("2009-04-02T12:00:00Z")}
	// incoming: tablet's winner with laptop's copy. local: "other", an edit
	// of tablet's version, so the merge drops tablet/3 and keeps laptop/3.
	incoming, _ := MergeItem(laptop, tablet)
	other := mustItem(t)(Update(tablet, rpayload(Atom, "other"), Stamp{By: "other", When: rt("2009-04-02T11:20:00Z")}))
	m, _ := MergeItem(other, incoming) // tablet/3 dropped, laptop/3 kept
	want := `fence-1 u=4 4@other 3@tablet 2@phone 1@laptop "other" conflicts{` + e5Laptop + `}`
	if d := cmp.Diff(want, describe(t, m)); d != "" {
		t.Fatalf("setup (-want +got):\n%s", d)
	}
	got := mustItem(t)(SourceWins.Apply(m, other, incoming, st))
	if titleOf(t, got) != "Buy 4 posts and wire" {
		t.Errorf("SourceWins: %s", describe(t, got))
	}
	got = mustItem(t)(DestinationWins.Apply(m, other, incoming, st))
	if titleOf(t, got) != "other" {
		t.Errorf("DestinationWins: %s", describe(t, got))
	}
	// Added item (no local side): DestinationWins keeps the winner.
	got = mustItem(t)(DestinationWins.Apply(incoming, nil, incoming, st))
	if titleOf(t, got) != "Buy 6 posts" || got.Sync.Conflicts != nil {
		t.Errorf("DestinationWins without local: %s", describe(t, got))
	}
}

func TestPolicyErrors(t *testing.T) {
	local, incoming, merged := policyCase(t)
	boom := errors.New("boom")
	_, err := MergeFunc(func(*Item, []*Item) (*etree.Element, bool, error) { return nil, false, boom }).Apply(merged, local, incoming, Stamp{By: "hub"})
	var ie *ItemError
	if !errors.Is(err, boom) || !errors.As(err, &ie) || ie.ID != "fence-1" {
		t.Errorf("MergeFunc error: %v", err)
	}
	if _, err := SourceWins.Apply(merged, local, incoming, Stamp{}); !errors.Is(err, ErrBadStamp) {
		t.Errorf("empty stamp: %v", err)
	}
	if _, err := MergeFunc(nil).Apply(merged, local, incoming, Stamp{By: "hub"}); err == nil {
		t.Error("nil MergeFunc accepted")
	}
}

// Two endpoints that resolve the same conflict automatically before seeing
// each other's resolution produce concurrent resolutions (FS-CONFLICT-1):
// a new conflict, whatever they chose. With a policy that chooses the same
// version everywhere the contents agree; the item settles as soon as one
// resolution reaches the other endpoint before it resolves again
// (FS-RESOLVE-6).
func TestConcurrentAutomaticResolution(t *testing.T) {
	_, laptop, tablet := e5(t)
	onLaptop, _ := MergeItem(laptop, tablet)
	onTablet, _ := MergeItem(tablet, laptop)
	stL := Stamp{By: "laptop", When: rt("2009-04-02T12:00:00Z")}
	stT := Stamp{By: "tablet", When: rt("2009-04-02T12:00:00Z")}

	t.Run("same choice", func(t *testing.T) {
		resL := mustItem(t)(LastWriterWins.Apply(onLaptop, laptop, tablet, stL))
		resT := mustItem(t)(LastWriterWins.Apply(onTablet, tablet, laptop, stT))
		if titleOf(t, resL) != titleOf(t, resT) {
			t.Fatalf("LastWriterWins chose differently: %q vs %q", titleOf(t, resL), titleOf(t, resT))
		}
		m, out := MergeItem(resL, resT)
		if out != Conflict {
			t.Errorf("concurrent resolutions: %v, want conflict", out)
		}
		for _, c := range m.Sync.Conflicts {
			if titleOf(t, c) != titleOf(t, m) {
				t.Errorf("contents differ: %q vs %q", titleOf(t, c), titleOf(t, m))
			}
		}
		// laptop resolves again; tablet merges that before resolving: done.
		r2 := mustItem(t)(LastWriterWins.Apply(m, resL, resT, stL))
		got, out := MergeItem(resT, r2)
		if got != r2 || out != Updated || got.Sync.Conflicts != nil {
			t.Errorf("no convergence: %v %s", out, describe(t, got))
		}
	})
	t.Run("different choices", func(t *testing.T) {
		// DestinationWins: each keeps its own content.
		resL := mustItem(t)(DestinationWins.Apply(onLaptop, laptop, tablet, stL))
		resT := mustItem(t)(DestinationWins.Apply(onTablet, tablet, laptop, stT))
		if titleOf(t, resL) == titleOf(t, resT) {
			t.Fatal("DestinationWins chose the same content on both sides")
		}
		m, out := MergeItem(resL, resT)
		if out != Conflict || titleOf(t, m.Sync.Conflicts[0]) == titleOf(t, m) {
			t.Errorf("want a conflict between different contents: %s", describe(t, m))
		}
	})
}
