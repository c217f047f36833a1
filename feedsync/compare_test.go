package feedsync

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/beevik/etree"
	"github.com/google/go-cmp/cmp"
)

// ---- helpers shared by the rule tests (compare, ops, validate, policy) ----

// rt parses a canonical FeedSync date-time ("" is the zero Time: no when).
func rt(s string) time.Time {
	if s == "" {
		return time.Time{}
	}
	t, err := ParseTime(s)
	if err != nil {
		panic(err)
	}
	return t
}

// rh builds a history entry; when may be "" and by may be "".
func rh(seq int64, when, by string) History {
	return History{Sequence: seq, When: rt(when), By: by}
}

// rsync builds sync metadata.
func rsync(id string, updates int64, hist ...History) *Sync {
	return &Sync{ID: id, Updates: updates, History: hist}
}

// rpayload builds an <item> or <entry> with a <title>.
func rpayload(f Format, title string) *etree.Element {
	tag := "item"
	if f == Atom {
		tag = "entry"
	}
	e := etree.NewElement(tag)
	e.CreateElement("title").SetText(title)
	return e
}

// ritem builds an item with a title and the given metadata.
func ritem(f Format, title string, s *Sync) *Item {
	it := NewItem(f, rpayload(f, title))
	it.Sync = s
	return it
}

// titleOf returns the text of the item's <title>.
func titleOf(t testing.TB, it *Item) string {
	t.Helper()
	p, err := it.Payload()
	if err != nil {
		t.Fatalf("Payload: %v", err)
	}
	if e := p.SelectElement("title"); e != nil {
		return e.Text()
	}
	return ""
}

// describe renders an item's version, payload title and conflict copies as
// one line, so tests compare whole results with cmp.Diff.
func describe(t testing.TB, it *Item) string {
	t.Helper()
	if it == nil {
		return "<nil>"
	}
	if it.Sync == nil {
		return "no-sync " + titleOf(t, it)
	}
	var b strings.Builder
	b.WriteString(version(it.Sync))
	fmt.Fprintf(&b, " %q", titleOf(t, it))
	if it.Sync.Conflicts != nil {
		b.WriteString(" conflicts{")
		for i, c := range it.Sync.Conflicts {
			if i > 0 {
				b.WriteString("; ")
			}
			b.WriteString(describe(t, c))
		}
		b.WriteString("}")
	}
	return b.String()
}

// version renders a version's metadata: "id u=3 [deleted] [nc] 3@a 2@b".
func version(s *Sync) string {
	var b strings.Builder
	fmt.Fprintf(&b, "%s u=%d", s.ID, s.Updates)
	if s.Deleted {
		b.WriteString(" deleted")
	}
	if s.NoConflicts {
		b.WriteString(" nc")
	}
	for _, h := range s.History {
		b.WriteString(" " + h.String())
	}
	return b.String()
}

// versionSet renders the winner and the set of conflict versions of an
// item, order-independently (§17 A-17), for symmetry checks.
func versionSet(t testing.TB, it *Item) (winner string, conflicts map[string]int) {
	t.Helper()
	conflicts = map[string]int{}
	for _, c := range it.Sync.Conflicts {
		conflicts[version(c.Sync)+" "+titleOf(t, c)]++
	}
	return version(it.Sync) + " " + titleOf(t, it), conflicts
}

func mustItem(t testing.TB) func(*Item, error) *Item {
	return func(it *Item, err error) *Item {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
		return it
	}
}

// ---- subsumption ----

func TestHistorySubsumedBy(t *testing.T) {
	const at = "2009-03-05T10:00:00Z"
	tests := []struct {
		name string
		x, y History
		want bool
	}{
		// FS-SUBSUME-1 case 1 and FS-BY-2: a later update by the same by
		// subsumes every earlier one.
		{"FS-SUBSUME-1 named same entry", rh(2, at, "phone"), rh(2, at, "phone"), true},
		{"FS-SUBSUME-1 named later sequence", rh(2, at, "phone"), rh(5, "", "phone"), true},
		{"FS-SUBSUME-1 named earlier sequence", rh(5, at, "phone"), rh(4, at, "phone"), false},
		{"FS-SUBSUME-1 named other by", rh(1, at, "phone"), rh(9, at, "laptop"), false},
		{"FS-SUBSUME-1 named when is irrelevant", rh(2, "2009-01-01T00:00:00Z", "phone"), rh(2, at, "phone"), true},
		// FS-BY-3: by equality is the FS-TYPE-5 equality: %-escapes compare
		// case-insensitively, everything else exactly.
		{"FS-BY-3 percent escape case", rh(1, at, "ep%2fa"), rh(1, at, "ep%2Fa"), true},
		{"FS-BY-3 letters are case-sensitive", rh(1, at, "Phone"), rh(1, at, "phone"), false},
		// FS-SUBSUME-1 case 2, FS-HIST-4: the identity of an anonymous
		// entry is (when, sequence).
		{"FS-HIST-4 anonymous same when and sequence", rh(2, at, ""), rh(2, at, ""), true},
		{"FS-HIST-4 anonymous same instant other zone", rh(2, at, ""), History{Sequence: 2, When: rt(at).In(time.FixedZone("x", 3600))}, true},
		{"FS-HIST-4 anonymous higher sequence", rh(2, at, ""), rh(3, at, ""), false},
		{"FS-HIST-4 anonymous other when", rh(2, at, ""), rh(2, "2009-03-05T10:00:01Z", ""), false},
		{"FS-SUBSUME-1 named never by anonymous", rh(1, at, "phone"), rh(1, at, ""), false},
		{"FS-SUBSUME-1 anonymous never by named", rh(1, at, ""), rh(1, at, "phone"), false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := tc.x.SubsumedBy(tc.y); got != tc.want {
				t.Errorf("%v.SubsumedBy(%v) = %v, want %v", tc.x, tc.y, got, tc.want)
			}
		})
	}
}

func TestSubsumedBy(t *testing.T) {
	base := rsync("f", 2, rh(2, "2009-04-02T08:00:00Z", "phone"), rh(1, "2009-04-01T18:00:00Z", "laptop"))
	laptop3 := rsync("f", 3, rh(3, "2009-04-02T11:00:00Z", "laptop"), base.History[0], base.History[1])
	tablet3 := rsync("f", 3, rh(3, "2009-04-02T11:05:00Z", "tablet"), base.History[0], base.History[1])
	laptop1 := rsync("f", 1, rh(1, "2009-04-01T18:00:00Z", "laptop"))
	tests := []struct {
		name string
		x, y *Sync
		want bool
	}{
		// FS-SUBSUME-3: two identical versions subsume each other.
		{"FS-SUBSUME-3 identical", laptop3, laptop3, true},
		// FS-SUBSUME-3: a derived version subsumes its ancestor.
		{"FS-SUBSUME-3 ancestor by derived", base, laptop3, true},
		{"FS-SUBSUME-3 derived not by ancestor", laptop3, base, false},
		// FS-SUBSUME-2: x's topmost entry matched by ANY entry of y, not
		// only y's topmost (laptop/1 sits at the bottom of tablet3).
		{"FS-SUBSUME-2 any entry of y", laptop1, tablet3, true},
		// FS-SUBSUME-2: a later entry by the same by (laptop/3 covers
		// laptop/1) also counts.
		{"FS-SUBSUME-2 later entry by same by", laptop1, laptop3, true},
		// FS-CONFLICT-1, FS-SUBSUME-3: concurrent edits.
		{"FS-CONFLICT-1 concurrent", laptop3, tablet3, false},
		{"FS-CONFLICT-1 concurrent reverse", tablet3, laptop3, false},
		{"nil", nil, laptop3, false},
		{"no history is never subsumed", rsync("f", 1), laptop3, false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := SubsumedBy(tc.x, tc.y); got != tc.want {
				t.Errorf("SubsumedBy = %v, want %v", got, tc.want)
			}
		})
	}
}

func TestCompare(t *testing.T) {
	a := rsync("f", 2, rh(2, "2009-04-02T08:00:00Z", "a"), rh(1, "2009-04-01T08:00:00Z", "a"))
	b := rsync("f", 3, rh(3, "2009-04-02T09:00:00Z", "b"), rh(2, "2009-04-02T08:00:00Z", "a"), rh(1, "2009-04-01T08:00:00Z", "a"))
	c := rsync("f", 3, rh(3, "2009-04-02T09:00:00Z", "c"), rh(2, "2009-04-02T08:00:00Z", "a"), rh(1, "2009-04-01T08:00:00Z", "a"))
	// FS-CONFLICT-6: anonymous entries with the same when and sequence but
	// a different history below are different versions that subsume each
	// other.
	an1 := rsync("f", 2, rh(2, "2009-03-05T10:00:00Z", ""), rh(1, "2009-03-05T09:00:00Z", ""))
	an2 := rsync("f", 2, rh(2, "2009-03-05T10:00:00Z", ""), rh(1, "2009-03-05T08:00:00Z", ""))
	tests := []struct {
		name string
		a, b *Sync
		want ordering
	}{
		{"FS-SUBSUME-3 equal", a, a.Clone(), orderEqual},
		{"FS-SUBSUME-3 subsumes", b, a, orderSubsumes},
		{"FS-SUBSUME-3 subsumed", a, b, orderSubsumed},
		{"FS-CONFLICT-1 concurrent", b, c, orderConcurrent},
		{"FS-CONFLICT-6 mutual", an1, an2, orderMutual},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := compare(tc.a, tc.b); got != tc.want {
				t.Errorf("compare = %v, want %v", got, tc.want)
			}
		})
	}
}

// ---- winner picking ----

func TestBeats(t *testing.T) {
	const t1, t2 = "2009-04-02T11:00:00Z", "2009-04-02T11:05:00Z"
	v := func(updates int64, when, by string) *Sync {
		return rsync("f", updates, rh(updates, when, by))
	}
	tests := []struct {
		name string
		x, w *Sync
		want bool
	}{
		{"FS-WIN-1 more updates win", v(3, t1, "a"), v(2, t2, "z"), true},
		{"FS-WIN-1 fewer updates lose", v(2, t2, "z"), v(3, t1, "a"), false},
		{"FS-WIN-2 later when wins", v(3, t2, "a"), v(3, t1, "z"), true},
		{"FS-WIN-2 earlier when loses", v(3, t1, "z"), v(3, t2, "a"), false},
		{"FS-WIN-2 a when beats a missing when", v(3, t1, "a"), v(3, "", "z"), true},
		{"FS-WIN-2 a missing when loses to a when", v(3, "", "z"), v(3, t1, "a"), false},
		// §17 A-4: two missing whens count as the same; by decides, for
		// both orders of processing.
		{"FS-WIN-2 A-4 both whens missing, by decides", v(3, "", "b"), v(3, "", "a"), true},
		{"FS-WIN-2 A-4 both whens missing, reverse", v(3, "", "a"), v(3, "", "b"), false},
		{"FS-WIN-3 greater by wins on same when", v(3, t1, "tablet"), v(3, t1, "laptop"), true},
		{"FS-WIN-3 smaller by loses on same when", v(3, t1, "laptop"), v(3, t1, "tablet"), false},
		{"FS-WIN-3 a by beats a missing by", v(3, t1, "a"), v(3, t1, ""), true},
		{"FS-WIN-3 a missing by loses to a by", v(3, t1, ""), v(3, t1, "a"), false},
		// FS-BY-3: ordinal, case-sensitive, shorter prefix first.
		{"FS-BY-3 ordinal: lower case after upper case", v(3, t1, "a"), v(3, t1, "Z"), true},
		{"FS-BY-3 ordinal: prefix is smaller", v(3, t1, "ep10"), v(3, t1, "ep1"), true},
		{"FS-BY-3 ordinal: not by length", v(3, t1, "b"), v(3, t1, "aaaa"), true},
		{"FS-BY-3 ordinal: code points", v(3, t1, "é"), v(3, t1, "z"), true},
		{"FS-WIN-4 full tie keeps the current winner", v(3, t1, "a"), v(3, t1, "a"), false},
		{"FS-WIN-4 full tie, anonymous", v(3, t1, ""), v(3, t1, ""), false},
		{"FS-WIN-4 tie on by after %-escape equality", v(3, t1, "x%2f"), v(3, t1, "x%2F"), false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := Beats(tc.x, tc.w); got != tc.want {
				t.Errorf("Beats(%s, %s) = %v, want %v", version(tc.x), version(tc.w), got, tc.want)
			}
		})
	}

	t.Run("FS-DELETE-3 the deleted flag plays no part", func(t *testing.T) {
		tomb := v(4, t1, "a")
		tomb.Deleted = true
		live := v(3, t2, "z")
		if !Beats(tomb, live) {
			t.Error("tombstone with more updates does not beat a live version")
		}
		live5 := v(5, t1, "a")
		if !Beats(live5, tomb) {
			t.Error("live version with more updates does not beat a tombstone")
		}
	})
}

// The kzu lineage (Mvp.Xml.Synchronization, Mesh4n, Mesh4j) compares by
// lengths and reports no winner for "EP1" vs "EP2", losing a same-second
// concurrent edit (§15). FS-BY-3 ordinal comparison picks EP2, and the merge
// keeps EP1's version as a conflict.
func TestMergeSameSecondConcurrentEditFSBY3(t *testing.T) {
	base := ritem(RSS, "base", rsync("ms-1", 1, rh(1, "2009-04-01T09:00:00Z", "EP1")))
	same := Stamp{When: rt("2009-04-01T10:00:00Z")}
	ep1 := mustItem(t)(Update(base, rpayload(RSS, "EP1 edit"), Stamp{By: "EP1", When: same.When}))
	ep2 := mustItem(t)(Update(base, rpayload(RSS, "EP2 edit"), Stamp{By: "EP2", When: same.When}))

	if !Beats(ep2.Sync, ep1.Sync) || Beats(ep1.Sync, ep2.Sync) {
		t.Fatal("FS-BY-3: EP2 must beat EP1 on an equal when, and not the reverse")
	}
	want := `ms-1 u=2 2@EP2 1@EP1 "EP2 edit" conflicts{ms-1 u=2 2@EP1 1@EP1 "EP1 edit"}`
	for _, dir := range []struct {
		name            string
		local, incoming *Item
	}{{"EP1 merges EP2", ep1, ep2}, {"EP2 merges EP1", ep2, ep1}} {
		t.Run(dir.name, func(t *testing.T) {
			got, out := MergeItem(dir.local, dir.incoming)
			if out != Conflict {
				t.Errorf("outcome = %v, want conflict", out)
			}
			if d := cmp.Diff(want, describe(t, got)); d != "" {
				t.Errorf("result (-want +got):\n%s", d)
			}
		})
	}
}

func TestOutcomeAndOrderingString(t *testing.T) {
	got := []string{}
	for o := Unchanged; o <= Rejected+1; o++ {
		got = append(got, o.String())
	}
	for o := orderEqual; o <= orderMutual+1; o++ {
		got = append(got, o.String())
	}
	want := []string{"unchanged", "added", "updated", "deleted", "conflict", "rejected", "Outcome(6)",
		"equal", "subsumes", "subsumed", "concurrent", "mutual", "ordering(5)"}
	if d := cmp.Diff(want, got); d != "" {
		t.Errorf("String (-want +got):\n%s", d)
	}
}

// ---- merge ----

// e5 builds the two concurrent versions of worked example E5 (Atom): both
// endpoints start from updates=2 (phone/2, laptop/1) and edit before
// syncing.
func e5(t *testing.T) (base, laptop, tablet *Item) {
	t.Helper()
	base = ritem(Atom, "Buy 4 posts", rsync("fence-1", 2,
		rh(2, "2009-04-02T08:00:00Z", "phone"), rh(1, "2009-04-01T18:00:00Z", "laptop")))
	laptop = mustItem(t)(Update(base, rpayload(Atom, "Buy 4 posts and wire"), Stamp{By: "laptop", When: rt("2009-04-02T11:00:00Z")}))
	tablet = mustItem(t)(Update(base, rpayload(Atom, "Buy 6 posts"), Stamp{By: "tablet", When: rt("2009-04-02T11:05:00Z")}))
	return base, laptop, tablet
}

const (
	e5Laptop = `fence-1 u=3 3@laptop 2@phone 1@laptop "Buy 4 posts and wire"`
	e5Tablet = `fence-1 u=3 3@tablet 2@phone 1@laptop "Buy 6 posts"`
	e5Result = e5Tablet + ` conflicts{` + e5Laptop + `}`
	e6Result = `fence-1 u=4 4@tablet 3@laptop 3@tablet 2@phone 1@laptop "Buy 6 posts and wire"`
)

// E4: laptop holds E1 and merges phone's E2. E1 is subsumed and E2 comes
// out exactly as received.
func TestMergeE4(t *testing.T) {
	e1 := mustItem(t)(Create(RSS, rpayload(RSS, "10 first-class"), "stamps-1", Stamp{By: "laptop", When: rt("2009-04-01T09:00:00Z")}, false))
	e2 := mustItem(t)(Update(e1, rpayload(RSS, "10 first-class, 5 postcards"), Stamp{By: "phone", When: rt("2009-04-01T10:15:00Z")}))
	got, out := MergeItem(e1, e2)
	// FS-MERGE-6: pass 1 removes E1 (laptop/1 is in E2's history);
	// FS-MERGE-7: E2 survives pass 2; FS-MERGE-9: W is taken as is.
	if got != e2 {
		t.Errorf("result is not the incoming E2 itself: %s", describe(t, got))
	}
	// FS-MERGE-16: the winner came from the incoming side.
	if out != Updated {
		t.Errorf("outcome = %v, want updated", out)
	}
	if got.Sync.Conflicts != nil {
		t.Errorf("FS-CONFLICTS-3: E4 has conflicts: %s", describe(t, got))
	}
}

// E5: concurrent edits conflict; both endpoints reach the same winner
// (tablet's later when, FS-WIN-2) and the same single conflict copy.
func TestMergeE5(t *testing.T) {
	_, laptop, tablet := e5(t)
	for _, tc := range []struct {
		name            string
		local, incoming *Item
	}{
		{"laptop merges tablet", laptop, tablet},
		{"tablet merges laptop", tablet, laptop},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, out := MergeItem(tc.local, tc.incoming)
			// FS-CONFLICT-1, FS-CONFLICT-2, FS-MERGE-10: the loser is kept
			// in the winner's sx:conflicts.
			if d := cmp.Diff(e5Result, describe(t, got)); d != "" {
				t.Errorf("result (-want +got):\n%s", d)
			}
			// FS-MERGE-16: new conflict versions take precedence.
			if out != Conflict {
				t.Errorf("outcome = %v, want conflict", out)
			}
			// FS-CONFLICTS-1: the copy carries the same id and its own
			// payload; FS-SYNC-6, FS-CONFLICTS-2: it has no conflicts of its
			// own.
			c := got.Sync.Conflicts[0]
			if c.Sync.ID != got.Sync.ID || c.Sync.Conflicts != nil {
				t.Errorf("bad conflict copy %s", describe(t, c))
			}
		})
	}
}

// E6 and E7: tablet resolves; laptop, still holding the E5 result, merges
// the resolution and both its versions are dropped silently.
func TestMergeE7ResolutionElsewhere(t *testing.T) {
	_, laptop, tablet := e5(t)
	onLaptop, _ := MergeItem(laptop, tablet)
	onTablet, _ := MergeItem(tablet, laptop)
	e6 := mustItem(t)(Resolve(onTablet, rpayload(Atom, "Buy 6 posts and wire"), Stamp{By: "tablet", When: rt("2009-04-02T12:00:00Z")}, nil))
	if d := cmp.Diff(e6Result, describe(t, e6)); d != "" {
		t.Fatalf("E6 (-want +got):\n%s", d)
	}

	got, out := MergeItem(onLaptop, e6)
	// FS-RESOLVE-6, FS-CONFLICT-3: both members of L are subsumed by E6.
	if got != e6 {
		t.Errorf("E7: result is not E6 itself: %s", describe(t, got))
	}
	// FS-MERGE-16: the winner came from the incoming side and conflicts
	// were dropped.
	if out != Updated {
		t.Errorf("E7: outcome = %v, want updated", out)
	}

	t.Run("laptop edited meanwhile", func(t *testing.T) {
		// E7's last sentence: laptop/4 is not subsumed by E6 and conflicts.
		l4 := mustItem(t)(Update(onLaptop, rpayload(Atom, "Buy 4 posts, wire, nails"), Stamp{By: "laptop", When: rt("2009-04-02T12:30:00Z")}))
		// FS-UPDATE-4: laptop's own conflict copy (laptop/3) is subsumed by
		// laptop/4 and was dropped by the update; folding skipped all its
		// entries (laptop/3 is subsumed by laptop/4, the rest is present).
		want := `fence-1 u=4 4@laptop 3@tablet 2@phone 1@laptop "Buy 4 posts, wire, nails"`
		if d := cmp.Diff(want, describe(t, l4)); d != "" {
			t.Fatalf("laptop/4 (-want +got):\n%s", d)
		}
		got, out := MergeItem(l4, e6)
		want = want + ` conflicts{` + e6Result + `}`
		if d := cmp.Diff(want, describe(t, got)); d != "" {
			t.Errorf("result (-want +got):\n%s", d)
		}
		if out != Conflict {
			t.Errorf("outcome = %v, want conflict", out)
		}
	})
}

// E8: anonymous histories. FS-HIST-4, FS-CONFLICT-6, §17 A-18.
func TestMergeE8Anonymous(t *testing.T) {
	incoming := ritem(RSS, "incoming", rsync("anon-1", 2, rh(2, "2009-03-05T10:00:00Z", ""), rh(1, "2009-03-05T09:00:00Z", "")))
	t.Run("older local is subsumed", func(t *testing.T) {
		local := ritem(RSS, "local", rsync("anon-1", 1, rh(1, "2009-03-05T09:00:00Z", "")))
		got, out := MergeItem(local, incoming)
		if got != incoming || out != Updated {
			t.Errorf("got %s, %v; want the incoming item, updated", describe(t, got), out)
		}
	})
	t.Run("FS-CONFLICT-6 same topmost, other payload: incoming wins silently", func(t *testing.T) {
		local := ritem(RSS, "local edit", rsync("anon-1", 2, rh(2, "2009-03-05T10:00:00Z", ""), rh(1, "2009-03-05T09:00:00Z", "")))
		got, out := MergeItem(local, incoming)
		if got != incoming || out != Updated {
			t.Errorf("got %s, %v; want the incoming item, updated", describe(t, got), out)
		}
		if got.Sync.Conflicts != nil {
			t.Error("an anonymous collision produced a conflict")
		}
	})
	t.Run("same topmost, same payload: unchanged", func(t *testing.T) {
		local := ritem(RSS, "incoming", incoming.Sync.Clone())
		got, out := MergeItem(local, incoming)
		if got != local || out != Unchanged {
			t.Errorf("got %s, %v; want the local item, unchanged", describe(t, got), out)
		}
	})
}

// MergeItem in the cases FS-MERGE-1..11 and FS-MERGE-16 name.
func TestMergeItem(t *testing.T) {
	_, laptop, tablet := e5(t)
	merged, _ := MergeItem(laptop, tablet)

	t.Run("FS-MERGE-1 no local item", func(t *testing.T) {
		got, out := MergeItem(nil, merged)
		// Added unchanged, with its sx:conflicts.
		if got != merged || out != Added {
			t.Errorf("got %s, %v; want the incoming item, added", describe(t, got), out)
		}
	})
	t.Run("FS-FEED-7 FS-SYNC-1 incoming without sx:sync takes no part", func(t *testing.T) {
		plain := NewItem(Atom, rpayload(Atom, "plain"))
		if got, out := MergeItem(laptop, plain); got != laptop || out != Unchanged {
			t.Errorf("got %s, %v; want the local item, unchanged", describe(t, got), out)
		}
		if got, out := MergeItem(nil, plain); got != nil || out != Unchanged {
			t.Errorf("got %s, %v; want nil, unchanged", describe(t, got), out)
		}
	})
	t.Run("FS-MERGE-13 no incoming item leaves local alone", func(t *testing.T) {
		if got, out := MergeItem(merged, nil); got != merged || out != Unchanged {
			t.Errorf("got %s, %v", describe(t, got), out)
		}
	})
	t.Run("FS-MERGE-2 FS-MERGE-7 identical items leave one survivor", func(t *testing.T) {
		twin := ritem(Atom, "Buy 4 posts and wire", laptop.Sync.Clone())
		got, out := MergeItem(laptop, twin)
		// FS-MERGE-14: merging identical items changes nothing and makes no
		// conflict; the local pointer comes back for byte-stable writing.
		if got != laptop || out != Unchanged {
			t.Errorf("got %s, %v; want the local item, unchanged", describe(t, got), out)
		}
	})
	t.Run("FS-MERGE-3 FS-MERGE-4 existing conflicts take part", func(t *testing.T) {
		// FS-CONFLICT-3: an identical conflict copy from the other side
		// collapses into one.
		got, out := MergeItem(merged, merged.withSync(merged.Sync.Clone()))
		if d := cmp.Diff(e5Result, describe(t, got)); d != "" {
			t.Errorf("result (-want +got):\n%s", d)
		}
		if got != merged || out != Unchanged {
			t.Errorf("want the local item unchanged, got %v", out)
		}
	})
	t.Run("FS-MERGE-5 FS-MERGE-6 FS-MERGE-8 local winner stays, incoming subsumed", func(t *testing.T) {
		got, out := MergeItem(laptop, ritem(Atom, "base", rsync("fence-1", 2,
			rh(2, "2009-04-02T08:00:00Z", "phone"), rh(1, "2009-04-01T18:00:00Z", "laptop"))))
		if got != laptop || out != Unchanged {
			t.Errorf("got %s, %v; want the local item, unchanged", describe(t, got), out)
		}
	})
	t.Run("FS-MERGE-9 W taken as is, histories never combined", func(t *testing.T) {
		got, _ := MergeItem(laptop, tablet)
		if d := cmp.Diff(tablet.Sync.History, got.Sync.History); d != "" {
			t.Errorf("winner history changed (-want +got):\n%s", d)
		}
		if titleOf(t, got) != "Buy 6 posts" {
			t.Errorf("winner payload = %q", titleOf(t, got))
		}
	})
	t.Run("FS-MERGE-10 FS-MERGE-15 conflicts in M order: local survivors first", func(t *testing.T) {
		// Three concurrent versions. Local holds a (winner) with conflict b;
		// incoming brings c, which beats both. M = [b, a, c]; W = c; the
		// conflicts keep M order [b, a]. (Feed-level output order,
		// FS-MERGE-15, is the merge walker's; item level only has M order.)
		a := mustItem(t)(Update(laptop, rpayload(Atom, "a"), Stamp{By: "a", When: rt("2009-04-03T10:00:00Z")}))
		b := mustItem(t)(Update(laptop, rpayload(Atom, "b"), Stamp{By: "b", When: rt("2009-04-03T09:00:00Z")}))
		c := mustItem(t)(Update(laptop, rpayload(Atom, "c"), Stamp{By: "c", When: rt("2009-04-03T11:00:00Z")}))
		ab, _ := MergeItem(a, b)
		got, out := MergeItem(ab, c)
		var order []string
		for _, x := range got.Sync.Conflicts {
			order = append(order, titleOf(t, x))
		}
		if d := cmp.Diff([]string{"b", "a"}, order); d != "" || titleOf(t, got) != "c" {
			t.Errorf("winner %q, conflicts (-want +got):\n%s", titleOf(t, got), d)
		}
		if out != Conflict {
			t.Errorf("outcome = %v, want conflict", out)
		}
	})
	t.Run("FS-MERGE-16 conflicts dropped by a resolution: updated", func(t *testing.T) {
		res := mustItem(t)(ResolveKeep(merged, 0, Stamp{By: "phone", When: rt("2009-04-02T13:00:00Z")}))
		got, out := MergeItem(merged, res)
		if got != res || out != Updated {
			t.Errorf("got %s, %v; want the resolution, updated", describe(t, got), out)
		}
	})
	t.Run("FS-MERGE-16 local winner stays but gains a conflict", func(t *testing.T) {
		// A merge that keeps the local winner but adds conflicts is a change.
		later := mustItem(t)(Update(laptop, rpayload(Atom, "later"), Stamp{By: "laptop", When: rt("2009-04-02T11:30:00Z")}))
		got, out := MergeItem(later, tablet)
		if out != Conflict || titleOf(t, got) != "later" || len(got.Sync.Conflicts) != 1 {
			t.Errorf("got %s, %v; want local winner with tablet's conflict", describe(t, got), out)
		}
	})
	t.Run("FS-MERGE-16 conflict copies replaced or dropped", func(t *testing.T) {
		// Local holds tablet's winner with laptop's copy; incoming is a newer
		// laptop version derived from its copy but not from tablet's: the
		// copy is replaced — a new conflict version.
		l4 := mustItem(t)(Update(laptop, rpayload(Atom, "l4"), Stamp{By: "laptop", When: rt("2009-04-02T11:01:00Z")}))
		got, out := MergeItem(merged, l4)
		if out != Conflict || titleOf(t, got) != "l4" {
			t.Errorf("got %s, %v", describe(t, got), out)
		}
		// And the other way: incoming base (subsumed by everything) while
		// local holds a stale copy subsumed by the incoming side.
		stale := ritem(Atom, "stale", rsync("fence-1", 2, rh(2, "2009-04-02T08:00:00Z", "phone"), rh(1, "2009-04-01T18:00:00Z", "laptop")))
		local := tablet.withSync(tablet.Sync.Clone())
		local.Sync.Conflicts = []*Item{stale}
		got, out = MergeItem(local, laptop)
		// stale is subsumed by laptop's version and removed; laptop's
		// version is concurrent with tablet's: a conflict that is new.
		if out != Conflict || d(t, got) != e5Result {
			t.Errorf("got %s, %v", describe(t, got), out)
		}
		got, out = MergeItem(local, tablet)
		// Here the stale copy is dropped and nothing new appears: updated.
		if out != Updated || d(t, got) != e5Tablet {
			t.Errorf("got %s, %v; want tablet's version alone, updated", describe(t, got), out)
		}
	})
	t.Run("FS-MERGE-16 deleted", func(t *testing.T) {
		tomb := mustItem(t)(Delete(tablet, Stamp{By: "tablet", When: rt("2009-04-02T12:00:00Z")}))
		base := ritem(Atom, "base", rsync("fence-1", 3, tablet.Sync.History...))
		got, out := MergeItem(base, tomb)
		if got != tomb || out != Deleted {
			t.Errorf("got %s, %v; want the tombstone, deleted", describe(t, got), out)
		}
		// FS-DELETE-4: a stale live version does not bring the item back.
		got, out = MergeItem(tomb, base)
		if got != tomb || out != Unchanged {
			t.Errorf("got %s, %v; want the tombstone, unchanged", describe(t, got), out)
		}
		// Undelete arriving from elsewhere is an update.
		back := mustItem(t)(Update(tomb, rpayload(Atom, "back"), Stamp{By: "phone", When: rt("2009-04-02T13:00:00Z")}))
		if got, out = MergeItem(tomb, back); got != back || out != Updated {
			t.Errorf("got %s, %v; want the undeleted item, updated", describe(t, got), out)
		}
	})
}

func d(t testing.TB, it *Item) string { t.Helper(); return describe(t, it) }

// FS-DELETE-3: two concurrent deletions are a conflict (Microsoft's sample
// 6), decided on by when the whens tie.
func TestMergeDoubleDeleteFSDELETE3(t *testing.T) {
	base := ritem(RSS, "x", rsync("dd-1", 1, rh(1, "2009-04-01T09:00:00Z", "EP1")))
	at := rt("2009-04-01T10:00:00Z")
	d1 := mustItem(t)(Delete(base, Stamp{By: "EP1", When: at}))
	d2 := mustItem(t)(Delete(base, Stamp{By: "EP2", When: at}))
	want := `dd-1 u=2 deleted 2@EP2 1@EP1 "x" conflicts{dd-1 u=2 deleted 2@EP1 1@EP1 "x"}`
	for _, tc := range []struct{ local, incoming *Item }{{d1, d2}, {d2, d1}} {
		got, out := MergeItem(tc.local, tc.incoming)
		if g := describe(t, got); g != want {
			t.Errorf("got %s\nwant %s", g, want)
		}
		// Both sides were already deleted, so the new conflict is what
		// is reported.
		if out != Conflict {
			t.Errorf("outcome = %v, want conflict", out)
		}
	}
	// FS-DELETE-3: an update racing a delete is a conflict too.
	up := mustItem(t)(Update(base, rpayload(RSS, "edit"), Stamp{By: "EP2", When: at}))
	got, out := MergeItem(d1, up)
	if out != Conflict || got.Sync.Deleted || len(got.Sync.Conflicts) != 1 || !got.Sync.Conflicts[0].Sync.Deleted {
		t.Errorf("update vs delete: got %s, %v", describe(t, got), out)
	}
}

// FS-NOCONF-1..3, FS-MERGE-11: with noconflicts the merge still picks the
// FS-WIN winner but keeps no losers.
func TestMergeNoConflicts(t *testing.T) {
	st := func(by, when string) Stamp { return Stamp{By: by, When: rt(when)} }
	base := mustItem(t)(Create(RSS, rpayload(RSS, "base"), "nc-1", st("a", "2009-04-01T09:00:00Z"), true))
	// FS-NOCONF-1: the flag set at creation is carried by every update.
	x := mustItem(t)(Update(base, rpayload(RSS, "x"), st("x", "2009-04-01T10:00:00Z")))
	y := mustItem(t)(Update(base, rpayload(RSS, "y"), st("y", "2009-04-01T10:05:00Z")))
	if !x.Sync.NoConflicts || !y.Sync.NoConflicts {
		t.Fatal("FS-NOCONF-1: update dropped noconflicts")
	}
	for _, tc := range []struct{ local, incoming *Item }{{x, y}, {y, x}} {
		// FS-NOCONF-2: last-writer-wins by the FS-WIN order.
		got, out := MergeItem(tc.local, tc.incoming)
		if got != y {
			t.Errorf("winner %s, want y as is", describe(t, got))
		}
		want := Updated
		if tc.local == y {
			want = Unchanged
		}
		if out != want {
			t.Errorf("outcome %v, want %v", out, want)
		}
	}
	t.Run("FS-NOCONF-3 the winner's flag decides", func(t *testing.T) {
		// Versions disagreeing on the flag are invalid input; the merge uses
		// the winner's.
		yOff := y.withSync(y.Sync.Clone())
		yOff.Sync.NoConflicts = false
		got, _ := MergeItem(x, yOff)
		if len(got.Sync.Conflicts) != 1 {
			t.Errorf("winner without noconflicts should keep x: %s", describe(t, got))
		}
		xOff := x.withSync(x.Sync.Clone())
		xOff.Sync.NoConflicts = false
		got, _ = MergeItem(xOff, y)
		if got.Sync.Conflicts != nil {
			t.Errorf("winner with noconflicts kept conflicts: %s", describe(t, got))
		}
	})
	t.Run("FS-MERGE-11 local conflicts dropped when the winner has noconflicts", func(t *testing.T) {
		bad := x.withSync(x.Sync.Clone())
		bad.Sync.Conflicts = []*Item{y}
		got, out := MergeItem(bad, y)
		if got.Sync.Conflicts != nil || out != Updated {
			t.Errorf("got %s, %v", describe(t, got), out)
		}
	})
}

// FS-CONFLICTS-2: nested conflicts are flattened into the same collection.
func TestMergeFlattensNestedConflicts(t *testing.T) {
	_, laptop, tablet := e5(t)
	// A third version concurrent with both.
	other := ritem(Atom, "other", rsync("fence-1", 3, rh(3, "2009-04-02T10:00:00Z", "other"), rh(2, "2009-04-02T08:00:00Z", "phone"), rh(1, "2009-04-01T18:00:00Z", "laptop")))
	nestedCopy := laptop.withSync(laptop.Sync.Clone())
	nestedCopy.Sync.Conflicts = []*Item{other}
	local := tablet.withSync(tablet.Sync.Clone())
	local.Sync.Conflicts = []*Item{nestedCopy}

	got, out := MergeItem(local, tablet)
	want := e5Tablet + ` conflicts{` + describe(t, other) + `; ` + e5Laptop + `}`
	if d := cmp.Diff(want, describe(t, got)); d != "" {
		t.Errorf("result (-want +got):\n%s", d)
	}
	// Flattening is a change, but the versions were all known locally.
	if out != Updated {
		t.Errorf("outcome = %v, want updated", out)
	}
	for _, c := range got.Sync.Conflicts {
		if c.Sync.Conflicts != nil {
			t.Errorf("conflict copy %s still has conflicts", version(c.Sync))
		}
	}
	if local.Sync.Conflicts[0].Sync.Conflicts[0] != other {
		t.Error("input was modified")
	}
}

// FS-MERGE-12, FS-ROBUST-3: duplicates in one incoming feed are merged one
// after the other into the running result, so an older duplicate after a
// newer one cannot replace it.
func TestMergeDuplicatesSequentiallyFSMERGE12(t *testing.T) {
	// FS-MERGE-12, FS-ROBUST-3: the newer duplicate comes first in the feed.
	_, laptop, tablet := e5(t)
	newer, _ := MergeItem(laptop, tablet)
	older := laptop
	got1, _ := MergeItem(nil, newer)
	got2, out := MergeItem(got1, older)
	if got2 != got1 || out != Unchanged {
		t.Errorf("older duplicate changed the result: %s, %v", describe(t, got2), out)
	}
}

// MergeItem never modifies its inputs.
func TestMergeDoesNotMutate(t *testing.T) {
	_, laptop, tablet := e5(t)
	local, _ := MergeItem(laptop, tablet)
	other := mustItem(t)(Update(laptop, rpayload(Atom, "o"), Stamp{By: "o", When: rt("2009-04-02T11:10:00Z")}))
	before := []string{describe(t, local), describe(t, other)}
	MergeItem(local, other)
	MergeItem(other, local)
	after := []string{describe(t, local), describe(t, other)}
	if d := cmp.Diff(before, after); d != "" {
		t.Errorf("inputs changed (-before +after):\n%s", d)
	}
}

// FS-MERGE-14: merging twice changes nothing the second time, merging an
// item with itself changes nothing, and merge(a, b) and merge(b, a) hold
// the same winner and the same conflict versions — on the small cases of
// the worked examples.
func TestMergeIdempotentAndSymmetric(t *testing.T) {
	_, laptop, tablet := e5(t)
	e5m, _ := MergeItem(laptop, tablet)
	e6 := mustItem(t)(ResolveKeep(e5m, 0, Stamp{By: "tablet", When: rt("2009-04-02T12:00:00Z")}))
	tomb := mustItem(t)(Delete(laptop, Stamp{By: "laptop", When: rt("2009-04-02T12:00:00Z")}))
	items := map[string]*Item{"laptop": laptop, "tablet": tablet, "e5": e5m, "e6": e6, "tomb": tomb}
	for an, a := range items {
		for bn, b := range items {
			t.Run(an+"+"+bn, func(t *testing.T) {
				ab, _ := MergeItem(a, b)
				ba, _ := MergeItem(b, a)
				w1, c1 := versionSet(t, ab)
				w2, c2 := versionSet(t, ba)
				if w1 != w2 || !cmp.Equal(c1, c2) {
					t.Errorf("asymmetric:\n a+b %s\n b+a %s", describe(t, ab), describe(t, ba))
				}
				again, out := MergeItem(ab, b)
				if again != ab || out != Unchanged {
					t.Errorf("second merge: %v, %s", out, describe(t, again))
				}
				self, out := MergeItem(ab, ab)
				if self != ab || out != Unchanged {
					t.Errorf("self merge: %v", out)
				}
			})
		}
	}
}

// A small multi-endpoint simulation: endpoints with unique by values edit,
// delete, resolve, purge and merge one item at random (deterministic
// seeds). It checks the properties FS-MERGE-14 asks for and the FS-UPDATE-4
// invariant after every step:
//
//   - merge(a, b) and merge(b, a) hold the same winner and the same
//     conflict versions (FS-MERGE-14, FS-CONFLICT-4);
//   - merging the same incoming item again, or an item with itself, is
//     Unchanged and returns the local pointer;
//   - after any update no conflict copy is subsumed by the item holding it
//     (FS-UPDATE-4, §17 A-9), and CheckSync finds nothing (FS-SYNC-7: the
//     topmost sequence equals updates; FS-CONFLICT-4: no version twice);
//   - after a final exchange every endpoint holds the same winner and
//     conflict set (FS-CONFLICT-3, FS-CONFLICT-4).
func TestMergeSimulation(t *testing.T) {
	for seed := uint64(1); seed <= 60; seed++ {
		noConflicts := seed%5 == 0
		t.Run(fmt.Sprintf("seed=%d/nc=%v", seed, noConflicts), func(t *testing.T) {
			simulate(t, seed, noConflicts)
		})
	}
}

func simulate(t *testing.T, seed uint64, noConflicts bool) {
	r := newRand(seed)
	names := []string{"ep1", "ep2", "ep3", "ep4"}
	clock := rt("2009-04-01T09:00:00Z")
	stamp := func(by string) Stamp {
		// Often the same second, to exercise FS-WIN-3 on by.
		clock = clock.Add(time.Duration(r.intn(2)) * time.Second)
		return Stamp{By: by, When: clock}
	}
	first := mustItem(t)(Create(Atom, rpayload(Atom, "v0"), "sim-1", stamp("ep1"), noConflicts))
	held := map[string]*Item{"ep1": first, "ep2": first, "ep3": nil, "ep4": first}
	checkItem := func(step string, it *Item) {
		t.Helper()
		if it == nil {
			return
		}
		errs, warns := CheckSync(it.Sync)
		if len(errs)+len(warns) > 0 {
			t.Fatalf("%s: CheckSync: %v %v\n%s", step, errs, warns, describe(t, it))
		}
		for _, c := range it.Sync.Conflicts {
			if SubsumedBy(c.Sync, it.Sync) {
				t.Fatalf("%s: FS-UPDATE-4: copy %s subsumed by its item\n%s", step, version(c.Sync), describe(t, it))
			}
		}
	}
	merge := func(step string, a, b *Item) *Item {
		t.Helper()
		ab, _ := MergeItem(a, b)
		if a == nil || b == nil {
			return ab
		}
		ba, _ := MergeItem(b, a)
		// Sparse purging (FS-PURGE) makes two forms of one version that
		// subsume each other; each side then keeps the incoming form, so
		// compare versions by what identifies them: id, updates, flags,
		// topmost entry and payload.
		w1, c1 := logicalSet(t, ab)
		w2, c2 := logicalSet(t, ba)
		if w1 != w2 || !cmp.Equal(c1, c2) {
			t.Fatalf("%s: FS-MERGE-14 asymmetric:\n a %s\n b %s\n a+b %s\n b+a %s", step,
				describe(t, a), describe(t, b), describe(t, ab), describe(t, ba))
		}
		if again, out := MergeItem(ab, b); again != ab || out != Unchanged {
			t.Fatalf("%s: FS-MERGE-14 second merge: %v %s", step, out, describe(t, again))
		}
		if self, out := MergeItem(ab, ab); self != ab || out != Unchanged {
			t.Fatalf("%s: self merge: %v", step, out)
		}
		checkItem(step, ab)
		return ab
	}
	for i := 0; i < 40; i++ {
		by := names[r.intn(len(names))]
		it := held[by]
		step := fmt.Sprintf("step %d %s", i, by)
		var err error
		switch op := r.intn(10); {
		case it == nil || op < 4:
			other := names[r.intn(len(names))]
			step += " merges " + other
			held[by] = merge(step, it, held[other])
			if r.intn(2) == 0 && held[other] != nil && it != nil {
				// Simultaneous exchange: other merges the old state.
				held[other] = merge(step+" (back)", held[other], it)
			}
			continue
		case op < 6:
			step += " updates"
			it, err = Update(it, rpayload(Atom, fmt.Sprintf("%s@%d", by, it.Sync.Updates+1)), stamp(by))
		case op < 7:
			if it.Sync.Deleted {
				step += " undeletes"
				it, err = Update(it, nil, stamp(by))
			} else {
				step += " deletes"
				it, err = Delete(it, stamp(by))
			}
		case op < 9:
			if len(it.Sync.Conflicts) == 0 {
				continue
			}
			step += " resolves"
			it, err = ResolveKeep(it, r.intn(len(it.Sync.Conflicts)+1), stamp(by))
		default:
			step += " purges"
			p := Purge(it)
			if p.Sync.Updates != it.Sync.Updates || !sameEntry(p.Sync.Top(), it.Sync.Top()) {
				t.Fatalf("%s: FS-PURGE-3 changed updates or topmost", step)
			}
			it = p
		}
		if err != nil {
			t.Fatalf("%s: %v", step, err)
		}
		checkItem(step, it)
		held[by] = it
	}
	// Gossip until nothing changes: every endpoint ends with the same
	// winner and conflict set.
	for round := 0; ; round++ {
		changed := false
		for _, a := range names {
			for _, b := range names {
				if a == b {
					continue
				}
				r, out := MergeItem(held[a], held[b])
				if out != Unchanged {
					changed = true
				}
				held[a] = r
			}
		}
		if !changed {
			break
		}
		if round > 5 {
			t.Fatal("no convergence after 5 rounds")
		}
	}
	w0, c0 := versionSet(t, held[names[0]])
	for _, n := range names[1:] {
		w, c := versionSet(t, held[n])
		if w != w0 || !cmp.Equal(c, c0) {
			t.Errorf("%s diverged:\n %s\n %s", n, describe(t, held[names[0]]), describe(t, held[n]))
		}
	}
}

// logicalSet is versionSet with each version reduced to its identity.
func logicalSet(t testing.TB, it *Item) (winner string, conflicts map[string]int) {
	t.Helper()
	key := func(v *Item) string {
		s := v.Sync
		return fmt.Sprintf("%s u=%d d=%v nc=%v top=%s %q", s.ID, s.Updates, s.Deleted, s.NoConflicts, s.Top(), titleOf(t, v))
	}
	conflicts = map[string]int{}
	for _, c := range it.Sync.Conflicts {
		conflicts[key(c)]++
	}
	return key(it), conflicts
}

// newRand is a tiny deterministic generator (splitmix64), so the
// simulation is the same on every Go version.
type simRand struct{ s uint64 }

func newRand(seed uint64) *simRand { return &simRand{seed} }

func (r *simRand) intn(n int) int {
	r.s += 0x9e3779b97f4a7c15
	z := r.s
	z = (z ^ z>>30) * 0xbf58476d1ce4e5b9
	z = (z ^ z>>27) * 0x94d049bb133111eb
	z ^= z >> 31
	return int(z % uint64(n))
}

// FS-BY-1, FS-BY-2: by is the identity of an endpoint and sets the
// granularity of conflict detection. Two endpoints with their own by values
// that edit concurrently conflict; two devices sharing one by do not, and
// one of the two edits is silently lost (S6).
func TestByGranularity(t *testing.T) {
	base := ritem(RSS, "base", rsync("g-1", 1, rh(1, "2009-04-01T09:00:00Z", "server")))
	edit := func(by, title, when string) *Item {
		return mustItem(t)(Update(base, rpayload(RSS, title), Stamp{By: by, When: rt(when)}))
	}
	t.Run("FS-BY-1 own by values conflict", func(t *testing.T) {
		got, out := MergeItem(edit("alice-phone", "phone", "2009-04-01T10:00:00Z"), edit("alice-laptop", "laptop", "2009-04-01T10:01:00Z"))
		if out != Conflict || len(got.Sync.Conflicts) != 1 {
			t.Errorf("got %v %s", out, describe(t, got))
		}
	})
	t.Run("FS-BY-2 shared by loses an edit", func(t *testing.T) {
		phone := edit("alice", "phone", "2009-04-01T10:00:00Z")
		laptop := edit("alice", "laptop", "2009-04-01T10:01:00Z")
		if compare(phone.Sync, laptop.Sync) != orderMutual {
			t.Errorf("compare = %v, want mutual (FS-CONFLICT-6)", compare(phone.Sync, laptop.Sync))
		}
		got, out := MergeItem(phone, laptop)
		// Both versions carry alice/2: each subsumes the other, the incoming
		// one replaces the local one and no conflict is kept.
		if got != laptop || out != Updated {
			t.Errorf("got %v %s", out, describe(t, got))
		}
	})
}

// FS-CONFLICT-5: conflicts are ordinary feed content. An endpoint that never
// saw either version receives the item with its conflicts (FS-MERGE-1) and
// may resolve them; the endpoints that produced the conflict accept that
// resolution.
func TestConflictsTravelFSCONFLICT5(t *testing.T) {
	// FS-CONFLICT-5: laptop publishes the item with its conflict; phone
	// has never seen the item.
	_, laptop, tablet := e5(t)
	onLaptop, _ := MergeItem(laptop, tablet)
	onPhone, out := MergeItem(nil, onLaptop)
	if out != Added || len(onPhone.Sync.Conflicts) != 1 {
		t.Fatalf("phone: %v %s", out, describe(t, onPhone))
	}
	res := mustItem(t)(ResolveKeep(onPhone, 1, Stamp{By: "phone", When: rt("2009-04-02T12:00:00Z")}))
	for _, v := range []*Item{laptop, tablet, onLaptop} {
		got, out := MergeItem(v, res)
		if got != res || out != Updated {
			t.Errorf("merging phone's resolution into %s: %v %s", version(v.Sync), out, describe(t, got))
		}
	}
	if titleOf(t, res) != "Buy 4 posts and wire" {
		t.Errorf("kept %q", titleOf(t, res))
	}
}

// ordering names how two versions relate under FS-SUBSUME-2. It looks at
// metadata only, never at payloads. The names avoid "SubsumedBy", which is
// taken by the function of that name.
type ordering uint8

const (
	// orderEqual: the two versions have the same metadata (Sync.SameVersion).
	orderEqual ordering = iota
	// orderSubsumes: a subsumes b and not the reverse; a was derived from b (or
	// from a later update of b's author), so a merge keeps a and drops b.
	orderSubsumes
	// orderSubsumed: b subsumes a and not the reverse.
	orderSubsumed
	// orderConcurrent: neither subsumes the other; a merge keeps both and they
	// conflict (FS-CONFLICT-1).
	orderConcurrent
	// orderMutual: different versions that nevertheless subsume each other. Only
	// endpoints sharing a by or writing anonymous entries with equal when
	// and sequence produce them; a merge silently keeps the incoming one
	// (FS-CONFLICT-6, §17 A-18).
	orderMutual
)

// String returns "equal", "subsumes", "subsumed", "concurrent" or "mutual".
func (o ordering) String() string {
	switch o {
	case orderEqual:
		return "equal"
	case orderSubsumes:
		return "subsumes"
	case orderSubsumed:
		return "subsumed"
	case orderConcurrent:
		return "concurrent"
	case orderMutual:
		return "mutual"
	}
	return fmt.Sprintf("ordering(%d)", uint8(o))
}

// compare returns how version a relates to version b (FS-SUBSUME-3), so
// that tests can state the relation they expect; MergeItem does not need it.
func compare(a, b *Sync) ordering {
	ab, ba := SubsumedBy(a, b), SubsumedBy(b, a)
	switch {
	case ab && ba:
		if a.SameVersion(b) {
			return orderEqual
		}
		return orderMutual
	case ba:
		return orderSubsumes
	case ab:
		return orderSubsumed
	case a.SameVersion(b):
		// Only versions without history get here (they are never subsumed).
		return orderEqual
	}
	return orderConcurrent
}
