package feedsync

import (
	"errors"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

// E1, E2 and E3 of docs/RULES.md §16: create, update, delete.
func TestExamplesE1E2E3(t *testing.T) {
	e1 := mustItem(t)(Create(RSS, rpayload(RSS, "Buy stamps"), "stamps-1", Stamp{By: "laptop", When: rt("2009-04-01T09:00:00Z")}, false))
	e2 := mustItem(t)(Update(e1, rpayload(RSS, "Buy stamps, 5 postcards"), Stamp{By: "phone", When: rt("2009-04-01T10:15:00Z")}))
	e3 := mustItem(t)(Delete(e2, Stamp{By: "laptop", When: rt("2009-04-01T11:00:00Z")}))
	got := []string{describe(t, e1), describe(t, e2), describe(t, e3)}
	want := []string{
		`stamps-1 u=1 1@laptop "Buy stamps"`,
		`stamps-1 u=2 2@phone 1@laptop "Buy stamps, 5 postcards"`,
		// FS-DELETE-2: the tombstone keeps its payload.
		`stamps-1 u=3 deleted 3@laptop 2@phone 1@laptop "Buy stamps, 5 postcards"`,
	}
	if d := cmp.Diff(want, got); d != "" {
		t.Errorf("E1..E3 (-want +got):\n%s", d)
	}
	if !e3.Sync.History[0].When.Equal(rt("2009-04-01T11:00:00Z")) || e3.Format() != RSS {
		t.Errorf("E3 topmost when %v, format %v", e3.Sync.History[0].When, e3.Format())
	}
}

// E6: tablet resolves the E5 conflict with combined content.
func TestResolveE6(t *testing.T) {
	_, laptop, tablet := e5(t)
	onTablet, _ := MergeItem(tablet, laptop)
	got := mustItem(t)(Resolve(onTablet, rpayload(Atom, "Buy 6 posts and wire"), Stamp{By: "tablet", When: rt("2009-04-02T12:00:00Z")}, nil))
	// FS-RESOLVE-2: update first (tablet/4 on top); FS-RESOLVE-3: laptop/3
	// is folded directly below, phone/2 and laptop/1 are skipped;
	// FS-RESOLVE-4: the empty sx:conflicts is gone. FS-HIST-1: the history
	// is no longer sorted by sequence, and stays so.
	if d := cmp.Diff(e6Result, describe(t, got)); d != "" {
		t.Errorf("E6 (-want +got):\n%s", d)
	}
	// FS-RESOLVE-6: the result subsumes the previous winner and the copy.
	if !SubsumedBy(onTablet.Sync, got.Sync) || !SubsumedBy(onTablet.Sync.Conflicts[0].Sync, got.Sync) {
		t.Error("resolution does not subsume the resolved versions")
	}
}

func TestCreate(t *testing.T) {
	st := Stamp{By: "laptop", When: time.Date(2009, 4, 1, 11, 0, 0, 999, time.FixedZone("CEST", 2*3600))}
	t.Run("FS-CREATE-1 FS-CREATE-2 FS-SYNC-3 fresh id, one entry", func(t *testing.T) {
		it := mustItem(t)(Create(Atom, rpayload(Atom, "x"), "", st, false))
		if !ValidID(it.Sync.ID) {
			t.Errorf("FS-CREATE-1: generated id %q is not a valid NSS", it.Sync.ID)
		}
		// FS-TYPE-4 via Normalize: UTC, whole seconds.
		want := []History{{Sequence: 1, When: time.Date(2009, 4, 1, 9, 0, 0, 0, time.UTC), By: "laptop"}}
		if d := cmp.Diff(want, it.Sync.History); d != "" {
			t.Errorf("history (-want +got):\n%s", d)
		}
		if it.Sync.Updates != 1 || it.Sync.Deleted || it.Sync.NoConflicts || it.Sync.Conflicts != nil {
			t.Errorf("got %s", describe(t, it))
		}
		if it.Sync.History[0].When.Location() != time.UTC {
			t.Error("when is not in UTC")
		}
		other := mustItem(t)(Create(Atom, nil, "", st, false))
		if other.Sync.ID == it.Sync.ID {
			t.Error("FS-CREATE-1: two creations got the same id")
		}
	})
	t.Run("FS-CREATE-3 noconflicts only at creation", func(t *testing.T) {
		it := mustItem(t)(Create(RSS, nil, "nc", st, true))
		if !it.Sync.NoConflicts {
			t.Error("noconflicts not set")
		}
	})
	t.Run("FS-CREATE-4 converting a plain item keeps its payload", func(t *testing.T) {
		// Microsoft's tutorial converts a plain feed with a script whose
		// name is the by.
		plain := rpayload(RSS, "plain")
		plain.CreateElement("guid").SetText("g-1")
		it := mustItem(t)(Create(RSS, plain, "conv-1", Stamp{By: "convert.js"}, false))
		p, err := it.Payload()
		if err != nil {
			t.Fatal(err)
		}
		if p.SelectElement("guid").Text() != "g-1" || titleOf(t, it) != "plain" {
			t.Error("payload not kept")
		}
		// FS-SYNC-2: the sync id is ours, not the guid.
		if it.ID() != "conv-1" {
			t.Errorf("id = %q", it.ID())
		}
		plain.SelectElement("title").SetText("changed")
		if titleOf(t, it) != "plain" {
			t.Error("Create did not copy the payload")
		}
	})
	t.Run("FS-TYPE-5 given id is validated and normalised", func(t *testing.T) {
		it := mustItem(t)(Create(RSS, nil, "a%2fb", st, false))
		if it.Sync.ID != "a%2Fb" {
			t.Errorf("id = %q, want a%%2Fb", it.Sync.ID)
		}
		_, err := Create(RSS, nil, "a b", st, false)
		var ie *ItemError
		if !errors.Is(err, ErrInvalidSync) || !errors.As(err, &ie) || ie.ID != "a b" {
			t.Errorf("err = %v, want ErrInvalidSync in an ItemError for id \"a b\"", err)
		}
	})
	t.Run("errors", func(t *testing.T) {
		if _, err := Create(RSS, nil, "x", Stamp{}, false); !errors.Is(err, ErrBadStamp) {
			t.Errorf("empty stamp: %v", err)
		}
		if _, err := Create(FormatUnknown, nil, "x", st, false); err == nil {
			t.Error("unknown format accepted")
		}
	})
}

func TestUpdate(t *testing.T) {
	at := func(s string) Stamp { return Stamp{By: "phone", When: rt(s)} }
	orig := ritem(RSS, "v2", rsync("u-1", 2, rh(2, "2009-04-01T10:00:00Z", "laptop"), rh(1, "2009-04-01T09:00:00Z", "laptop")))
	orig.Sync.NoConflicts = true
	before := describe(t, orig)

	it := mustItem(t)(Update(orig, rpayload(RSS, "v3"), at("2009-04-01T11:00:00Z")))
	t.Run("FS-UPDATE-1 FS-UPDATE-2 FS-UPDATE-3 FS-HIST-2 FS-SYNC-7", func(t *testing.T) {
		// updates+1; new entry with sequence = new updates, on top.
		want := `u-1 u=3 nc 3@phone 2@laptop 1@laptop "v3"`
		if d := cmp.Diff(want, describe(t, it)); d != "" {
			t.Errorf("(-want +got):\n%s", d)
		}
		if it.Sync.Top().Sequence != it.Sync.Updates {
			t.Error("topmost sequence differs from updates")
		}
	})
	t.Run("FS-UPDATE-6 FS-UPDATE-7 input unchanged, id and noconflicts kept", func(t *testing.T) {
		if d := describe(t, orig); d != before {
			t.Errorf("input changed: %s", d)
		}
		if it.Sync.ID != "u-1" || !it.Sync.NoConflicts {
			t.Error("id or noconflicts changed")
		}
	})
	t.Run("nil payload keeps the payload", func(t *testing.T) {
		it2 := mustItem(t)(Update(it, nil, at("2009-04-01T12:00:00Z")))
		if titleOf(t, it2) != "v3" {
			t.Errorf("title %q", titleOf(t, it2))
		}
	})
	t.Run("FS-HIST-3 when is best effort: an earlier clock is still topmost", func(t *testing.T) {
		it2 := mustItem(t)(Update(it, nil, Stamp{By: "slow", When: rt("2001-01-01T00:00:00Z")}))
		if it2.Sync.Top().By != "slow" || it2.Sync.Top().Sequence != 4 {
			t.Errorf("got %s", describe(t, it2))
		}
	})
	t.Run("FS-UPDATE-5 undelete", func(t *testing.T) {
		tomb := mustItem(t)(Delete(it, at("2009-04-01T12:00:00Z")))
		back := mustItem(t)(Update(tomb, nil, at("2009-04-01T13:00:00Z")))
		if !tomb.Sync.Deleted || back.Sync.Deleted {
			t.Errorf("deleted: tomb %v, back %v", tomb.Sync.Deleted, back.Sync.Deleted)
		}
	})
	t.Run("FS-TYPE-2 no update past MaxInt", func(t *testing.T) {
		big := ritem(RSS, "x", rsync("big", MaxInt, rh(MaxInt, "", "a")))
		_, err := Update(big, nil, at("2009-04-01T12:00:00Z"))
		var ie *ItemError
		if err == nil || !errors.As(err, &ie) || ie.ID != "big" {
			t.Errorf("err = %v, want an ItemError for big", err)
		}
		ok := ritem(RSS, "x", rsync("ok", MaxInt-1, rh(MaxInt-1, "", "a")))
		if got, err := Update(ok, nil, at("2009-04-01T12:00:00Z")); err != nil || got.Sync.Updates != MaxInt {
			t.Errorf("MaxInt-1 → %v", err)
		}
	})
	t.Run("FS-SYNC-1 errors", func(t *testing.T) {
		plain := NewItem(RSS, rpayload(RSS, "plain"))
		if _, err := Update(plain, nil, at("2009-04-01T12:00:00Z")); !errors.Is(err, ErrNoSync) {
			t.Errorf("no sync: %v", err)
		}
		if _, err := Update(nil, nil, at("2009-04-01T12:00:00Z")); !errors.Is(err, ErrNoSync) {
			t.Errorf("nil item: %v", err)
		}
		if _, err := Update(it, nil, Stamp{By: "bad by"}); !errors.Is(err, ErrBadStamp) {
			t.Errorf("FS-TYPE-6 bad by: %v", err)
		}
		bad := ritem(RSS, "x", rsync("z", 0, rh(1, "", "a")))
		if _, err := Update(bad, nil, at("2009-04-01T12:00:00Z")); !errors.Is(err, ErrInvalidSync) {
			t.Errorf("updates 0: %v", err)
		}
	})
	t.Run("anonymous stamp", func(t *testing.T) {
		// FS-HIST-4 allows when without by (FS-CONFLICT-6 discourages it).
		it2 := mustItem(t)(Update(it, nil, Stamp{When: rt("2009-04-01T12:00:00Z")}))
		if top := it2.Sync.Top(); !top.Anonymous() || top.Sequence != 4 {
			t.Errorf("topmost %v", top)
		}
	})
}

// FS-UPDATE-4 (§17 A-9): an update drops the conflict copies it now
// subsumes and folds their histories; copies from other endpoints stay.
func TestUpdateDropsSubsumedConflictsFSUPDATE4(t *testing.T) {
	_, laptop, tablet := e5(t)
	onLaptop, _ := MergeItem(laptop, tablet) // tablet wins, laptop's copy kept
	if len(onLaptop.Sync.Conflicts) != 1 {
		t.Fatal("setup: no conflict")
	}
	t.Run("own copy is dropped", func(t *testing.T) {
		got := mustItem(t)(Update(onLaptop, nil, Stamp{By: "laptop", When: rt("2009-04-02T13:00:00Z")}))
		want := `fence-1 u=4 4@laptop 3@tablet 2@phone 1@laptop "Buy 6 posts"`
		if d := cmp.Diff(want, describe(t, got)); d != "" {
			t.Errorf("(-want +got):\n%s", d)
		}
		// The dropped copy is subsumed: merging it again brings nothing.
		if r, out := MergeItem(got, laptop); r != got || out != Unchanged {
			t.Errorf("stale copy came back: %v %s", out, describe(t, r))
		}
	})
	t.Run("other endpoint's copy stays", func(t *testing.T) {
		got := mustItem(t)(Update(onLaptop, nil, Stamp{By: "phone", When: rt("2009-04-02T13:00:00Z")}))
		if len(got.Sync.Conflicts) != 1 || got.Sync.Conflicts[0] != onLaptop.Sync.Conflicts[0] {
			t.Errorf("got %s", describe(t, got))
		}
	})
	t.Run("histories folded as in FS-RESOLVE-3, in order, repeatedly", func(t *testing.T) {
		// The item holds two stale copies: c1 by x (which knows y/5) and c2
		// by y/4. Updating as x drops c1 (x/3 ≤ x/9); folding c1 brings
		// y/5, which subsumes c2, so c2 goes too.
		c1 := ritem(RSS, "c1", rsync("f", 6, rh(6, "2009-01-01T00:00:06Z", "x"), rh(5, "2009-01-01T00:00:05Z", "y"), rh(1, "2009-01-01T00:00:01Z", "a")))
		c2 := ritem(RSS, "c2", rsync("f", 4, rh(4, "2009-01-01T00:00:04Z", "y"), rh(1, "2009-01-01T00:00:01Z", "a")))
		it := ritem(RSS, "w", rsync("f", 8, rh(8, "2009-01-01T00:00:08Z", "z"), rh(1, "2009-01-01T00:00:01Z", "a")))
		it.Sync.Conflicts = []*Item{c2, c1}
		got := mustItem(t)(Update(it, nil, Stamp{By: "x", When: rt("2009-01-01T00:00:09Z")}))
		want := `f u=9 9@x 5@y 8@z 1@a "w"`
		if d := cmp.Diff(want, describe(t, got)); d != "" {
			t.Errorf("(-want +got):\n%s", d)
		}
	})
}

// The FS-UPDATE-4 property, on every operation that updates: afterwards no
// conflict copy is subsumed by the item that holds it. (The simulation in
// TestMergeSimulation checks it on random histories too.)
func TestNoCopySubsumedAfterUpdate(t *testing.T) {
	_, laptop, tablet := e5(t)
	m1, _ := MergeItem(laptop, tablet)
	m, _ := MergeItem(m1, ritem(Atom, "other", rsync("fence-1", 3, rh(3, "2009-04-02T11:01:00Z", "other"), rh(2, "2009-04-02T08:00:00Z", "phone"), rh(1, "2009-04-01T18:00:00Z", "laptop"))))
	if len(m.Sync.Conflicts) != 2 {
		t.Fatalf("setup: %s", describe(t, m))
	}
	st := func(by string) Stamp { return Stamp{By: by, When: rt("2009-04-02T14:00:00Z")} }
	ops := map[string]func() (*Item, error){
		"update laptop": func() (*Item, error) { return Update(m, nil, st("laptop")) },
		"update other":  func() (*Item, error) { return Update(m, nil, st("other")) },
		"update tablet": func() (*Item, error) { return Update(m, nil, st("tablet")) },
		"delete laptop": func() (*Item, error) { return Delete(m, st("laptop")) },
		"resolve one": func() (*Item, error) {
			return Resolve(m, nil, st("nobody"), func(c *Item) bool { return c.Sync.Top().By == "other" })
		},
		"resolve keep 1": func() (*Item, error) { return ResolveKeep(m, 1, st("tablet")) },
	}
	for name, op := range ops {
		t.Run(name, func(t *testing.T) {
			got, err := op()
			if err != nil {
				t.Fatal(err)
			}
			for _, c := range got.Sync.Conflicts {
				if SubsumedBy(c.Sync, got.Sync) {
					t.Errorf("copy %s is subsumed by %s", version(c.Sync), version(got.Sync))
				}
			}
			if _, w := CheckSync(got.Sync); len(w) > 0 {
				t.Errorf("warnings: %v", w)
			}
		})
	}
}

func TestDelete(t *testing.T) {
	it := ritem(RSS, "keep me", rsync("d-1", 1, rh(1, "2009-04-01T09:00:00Z", "a")))
	tomb := mustItem(t)(Delete(it, Stamp{By: "b", When: rt("2009-04-01T10:00:00Z")}))
	t.Run("FS-DELETE-1 FS-SYNC-4 delete is an update that marks a tombstone", func(t *testing.T) {
		want := `d-1 u=2 deleted 2@b 1@a "keep me"`
		if d := cmp.Diff(want, describe(t, tomb)); d != "" {
			t.Errorf("(-want +got):\n%s", d)
		}
	})
	t.Run("FS-DELETE-2 payload kept", func(t *testing.T) {
		if titleOf(t, tomb) != "keep me" {
			t.Error("payload dropped")
		}
	})
	t.Run("ErrDeleted for a tombstone", func(t *testing.T) {
		_, err := Delete(tomb, Stamp{By: "c"})
		var ie *ItemError
		if !errors.Is(err, ErrDeleted) || !errors.As(err, &ie) || ie.ID != "d-1" {
			t.Errorf("err = %v", err)
		}
	})
	t.Run("FS-DELETE-3 a tombstone merges like any version", func(t *testing.T) {
		live := mustItem(t)(Update(it, rpayload(RSS, "edit"), Stamp{By: "c", When: rt("2009-04-01T10:30:00Z")}))
		got, out := MergeItem(tomb, live)
		// live/2 by c is later than the delete at 10:00: it wins; the
		// tombstone is kept as a conflict.
		if out != Conflict || got.Sync.Deleted || !got.Sync.Conflicts[0].Sync.Deleted {
			t.Errorf("got %v %s", out, describe(t, got))
		}
	})
	t.Run("FS-DELETE-4 tombstone stays in the item set", func(t *testing.T) {
		// Deletion is never inferred from absence; the tombstone survives
		// a purge, and a stale live copy cannot revive it.
		p := Purge(tomb)
		if !p.Sync.Deleted {
			t.Error("purge revived the tombstone")
		}
		if got, out := MergeItem(p, it); got != p || out != Unchanged {
			t.Errorf("stale live copy: %v %s", out, describe(t, got))
		}
	})
}

func TestResolve(t *testing.T) {
	_, laptop, tablet := e5(t)
	m, _ := MergeItem(laptop, tablet)
	other := ritem(Atom, "other", rsync("fence-1", 3, rh(3, "2009-04-02T10:00:00Z", "other"), rh(2, "2009-04-02T08:00:00Z", "phone"), rh(1, "2009-04-01T18:00:00Z", "laptop")))
	m3, _ := MergeItem(m, other) // tablet wins; conflicts laptop, other
	st := Stamp{By: "phone", When: rt("2009-04-02T12:00:00Z")}

	t.Run("FS-RESOLVE-1 FS-RESOLVE-2 FS-RESOLVE-3 order of folded entries", func(t *testing.T) {
		got := mustItem(t)(Resolve(m3, rpayload(Atom, "hand merge"), st, nil))
		// phone/4 on top (update first, §17 A-6); then laptop/3 from the
		// first copy, other/3 from the second, each below the previous one
		// (FS-RESOLVE-3 [R]); phone/2 and laptop/1 skipped.
		want := `fence-1 u=4 4@phone 3@laptop 3@other 3@tablet 2@phone 1@laptop "hand merge"`
		if d := cmp.Diff(want, describe(t, got)); d != "" {
			t.Errorf("(-want +got):\n%s", d)
		}
	})
	t.Run("FS-RESOLVE-5 resolve some copies, the others stay", func(t *testing.T) {
		got := mustItem(t)(Resolve(m3, nil, st, func(c *Item) bool { return c.Sync.Top().By == "laptop" }))
		want := `fence-1 u=4 4@phone 3@laptop 3@tablet 2@phone 1@laptop "Buy 6 posts" conflicts{` + describe(t, other) + `}`
		if d := cmp.Diff(want, describe(t, got)); d != "" {
			t.Errorf("(-want +got):\n%s", d)
		}
	})
	t.Run("FS-RESOLVE-7 A-7 skip subsumed entries and go on", func(t *testing.T) {
		// The copy's first entry (laptop/3 here, older than the item's
		// laptop/5) is subsumed; a "break" (Mesh4j/Mesh4n) would also lose
		// q/2 below it.
		it := ritem(RSS, "w", rsync("r", 5, rh(5, "2009-01-01T00:00:05Z", "laptop"), rh(1, "2009-01-01T00:00:01Z", "a")))
		c := ritem(RSS, "c", rsync("r", 3, rh(3, "2009-01-01T00:00:03Z", "laptop"), rh(2, "2009-01-01T00:00:02Z", "q"), rh(1, "2009-01-01T00:00:01Z", "a")))
		it.Sync.Conflicts = []*Item{c}
		got := mustItem(t)(Resolve(it, nil, Stamp{By: "z", When: rt("2009-01-01T00:00:09Z")}, nil))
		want := `r u=6 6@z 2@q 5@laptop 1@a "w"`
		if d := cmp.Diff(want, describe(t, got)); d != "" {
			t.Errorf("(-want +got):\n%s", d)
		}
	})
	t.Run("FS-RESOLVE-3 entries folded a moment ago count", func(t *testing.T) {
		// Two copies carry q/2 and q/1; q/2 folded from the first subsumes
		// q/1 of the second.
		it := ritem(RSS, "w", rsync("r", 3, rh(3, "2009-01-01T00:00:03Z", "w"), rh(1, "2009-01-01T00:00:01Z", "a")))
		c1 := ritem(RSS, "c1", rsync("r", 2, rh(2, "2009-01-01T00:00:02Z", "q"), rh(1, "2009-01-01T00:00:01Z", "a")))
		c2 := ritem(RSS, "c2", rsync("r", 2, rh(2, "2009-01-01T00:00:02Z", "p"), rh(1, "2009-01-01T00:00:01Z", "q")))
		it.Sync.Conflicts = []*Item{c1, c2}
		got := mustItem(t)(Resolve(it, nil, Stamp{By: "z", When: rt("2009-01-01T00:00:09Z")}, nil))
		want := `r u=4 4@z 2@q 2@p 3@w 1@a "w"`
		if d := cmp.Diff(want, describe(t, got)); d != "" {
			t.Errorf("(-want +got):\n%s", d)
		}
	})
	t.Run("FS-RESOLVE-4 FS-CONFLICTS-3 no empty sx:conflicts", func(t *testing.T) {
		got := mustItem(t)(ResolveKeep(m3, 0, st))
		if got.Sync.Conflicts != nil {
			t.Errorf("conflicts = %#v, want nil", got.Sync.Conflicts)
		}
	})
	t.Run("FS-RESOLVE-6 other endpoints drop the resolved versions", func(t *testing.T) {
		got := mustItem(t)(ResolveKeep(m3, 0, st))
		for _, v := range []*Item{laptop, tablet, other, m, m3} {
			if r, out := MergeItem(v, got); r != got || out != Updated {
				t.Errorf("merging the resolution into %s: %v %s", version(v.Sync), out, describe(t, r))
			}
		}
	})
	t.Run("ResolveKeep a copy's content and deleted flag", func(t *testing.T) {
		got := mustItem(t)(ResolveKeep(m3, 2, st))
		if titleOf(t, got) != "other" || got.Sync.Deleted || got.Sync.Conflicts != nil {
			t.Errorf("got %s", describe(t, got))
		}
		// FS-RESOLVE-1: a deletion as the chosen content.
		tomb := mustItem(t)(Delete(laptop, Stamp{By: "laptop", When: rt("2009-04-02T11:10:00Z")}))
		mt, _ := MergeItem(tomb, tablet) // tomb (updates 4) wins
		mt2, _ := MergeItem(tablet, tomb)
		if !mt.Sync.Deleted || len(mt.Sync.Conflicts) != 1 || !mt2.Sync.Deleted {
			t.Fatalf("setup: %s", describe(t, mt))
		}
		keepLive := mustItem(t)(ResolveKeep(mt, 1, st))
		if keepLive.Sync.Deleted || titleOf(t, keepLive) != "Buy 6 posts" {
			t.Errorf("keep live copy: %s", describe(t, keepLive))
		}
		keepTomb := mustItem(t)(ResolveKeep(mt, 0, st))
		if !keepTomb.Sync.Deleted {
			t.Errorf("keeping the tombstone winner undeleted: %s", describe(t, keepTomb))
		}
	})
	t.Run("errors", func(t *testing.T) {
		for name, err := range map[string]error{
			"no conflicts":   second(Resolve(laptop, nil, st, nil)),
			"none chosen":    second(Resolve(m3, nil, st, func(*Item) bool { return false })),
			"keep no confl.": second(ResolveKeep(laptop, 0, st)),
		} {
			if !errors.Is(err, ErrNoConflicts) {
				t.Errorf("%s: err = %v, want ErrNoConflicts", name, err)
			}
		}
		if _, err := ResolveKeep(m3, 3, st); err == nil {
			t.Error("keep 3 of 2 accepted")
		}
		if _, err := Resolve(m3, nil, Stamp{}, nil); !errors.Is(err, ErrBadStamp) {
			t.Errorf("empty stamp: %v", err)
		}
	})
	t.Run("inputs unchanged", func(t *testing.T) {
		before := describe(t, m3)
		mustItem(t)(Resolve(m3, rpayload(Atom, "x"), st, nil))
		mustItem(t)(ResolveKeep(m3, 1, st))
		if after := describe(t, m3); after != before {
			t.Errorf("input changed:\n%s\n%s", before, after)
		}
	})
}

func second(_ *Item, err error) error { return err }

func TestPurge(t *testing.T) {
	t.Run("FS-PURGE-1 FS-PURGE-2 FS-PURGE-3", func(t *testing.T) {
		it := ritem(RSS, "x", rsync("p", 7,
			rh(7, "2009-01-01T00:00:07Z", "b"),
			rh(6, "2009-01-01T00:00:06Z", "a"),
			rh(5, "2009-01-01T00:00:05Z", ""),
			rh(4, "2009-01-01T00:00:04Z", "b"),
			rh(3, "2009-01-01T00:00:03Z", "a"),
			rh(4, "2009-01-01T00:00:02Z", ""),
			rh(1, "2009-01-01T00:00:01Z", "c"),
		))
		got := Purge(it)
		// b/4 and a/3 go; the topmost, anonymous entries and c/1 stay;
		// updates is unchanged.
		want := `p u=7 7@b 6@a 5@2009-01-01T00:00:05Z 4@2009-01-01T00:00:02Z 1@c "x"`
		if d := cmp.Diff(want, describe(t, got)); d != "" {
			t.Errorf("(-want +got):\n%s", d)
		}
		if len(it.Sync.History) != 7 {
			t.Error("input changed")
		}
	})
	t.Run("FS-PURGE-3 topmost never dropped", func(t *testing.T) {
		// Malformed: the topmost b/2 is below another b entry.
		it := ritem(RSS, "x", rsync("p", 5, rh(2, "", "b"), rh(5, "", "b"), rh(1, "", "b")))
		want := `p u=5 2@b 5@b "x"`
		if d := cmp.Diff(want, describe(t, Purge(it))); d != "" {
			t.Errorf("(-want +got):\n%s", d)
		}
	})
	t.Run("nothing to purge returns the item itself", func(t *testing.T) {
		it := ritem(RSS, "x", rsync("p", 2, rh(2, "", "b"), rh(1, "", "a")))
		if Purge(it) != it {
			t.Error("new item for an unchanged history")
		}
	})
	t.Run("conflict copies are purged too", func(t *testing.T) {
		c := ritem(RSS, "c", rsync("p", 3, rh(3, "", "c"), rh(2, "", "a"), rh(1, "", "a")))
		it := ritem(RSS, "x", rsync("p", 3, rh(3, "", "d"), rh(2, "", "a")))
		it.Sync.Conflicts = []*Item{c}
		want := `p u=3 3@d 2@a "x" conflicts{p u=3 3@c 2@a "c"}`
		if d := cmp.Diff(want, describe(t, Purge(it))); d != "" {
			t.Errorf("(-want +got):\n%s", d)
		}
	})
	t.Run("FS-PURGE-4 merges give the same result on purged histories", func(t *testing.T) {
		_, laptop, tablet := e5(t)
		m, _ := MergeItem(laptop, tablet)
		e6 := mustItem(t)(ResolveKeep(m, 0, Stamp{By: "tablet", When: rt("2009-04-02T12:00:00Z")}))
		e7 := mustItem(t)(Update(e6, nil, Stamp{By: "laptop", When: rt("2009-04-02T13:00:00Z")}))
		for _, pair := range [][2]*Item{{laptop, tablet}, {m, e6}, {m, e7}, {laptop, e7}, {e7, tablet}} {
			a, b := pair[0], pair[1]
			r1, o1 := MergeItem(a, b)
			r2, o2 := MergeItem(Purge(a), Purge(b))
			w1, c1 := logicalSet(t, r1)
			w2, c2 := logicalSet(t, r2)
			if o1 != o2 || w1 != w2 || !cmp.Equal(c1, c2) {
				t.Errorf("%s + %s: %v %s vs purged %v %s", version(a.Sync), version(b.Sync), o1, describe(t, r1), o2, describe(t, r2))
			}
		}
	})
	t.Run("no sync", func(t *testing.T) {
		plain := NewItem(RSS, nil)
		if Purge(plain) != plain || Purge(nil) != nil {
			t.Error("items without sync must come back as they are")
		}
	})
}
