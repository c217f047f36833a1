package store_test

import (
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/beevik/etree"
	"github.com/feedsync/go-feedsync/feedsync"
	"github.com/feedsync/go-feedsync/store"
	"github.com/google/go-cmp/cmp"
)

var t0 = time.Date(2009, 4, 2, 8, 0, 0, 0, time.UTC)

func entry(title string) *etree.Element {
	e := etree.NewElement("entry")
	e.CreateAttr("xmlns", feedsync.AtomNamespace)
	e.CreateElement("title").SetText(title)
	return e
}

func mustItem(it *feedsync.Item, err error) *feedsync.Item {
	if err != nil {
		panic(err)
	}
	return it
}

// editAt is when each endpoint of the conflict tests edits.
var editAt = map[string]time.Duration{"alpha": time.Hour, "beta": 2 * time.Hour}

// conflict returns the merge of two concurrent updates of one item, by
// endpoints local and incoming, as the local side sees it.
func conflict(local, incoming string) *feedsync.Item {
	base := mustItem(feedsync.Create(feedsync.Atom, entry("base"), "x-1", feedsync.Stamp{By: "base", When: t0}, false))
	x := mustItem(feedsync.Update(base, entry(local), feedsync.Stamp{By: local, When: t0.Add(editAt[local])}))
	y := mustItem(feedsync.Update(base, entry(incoming), feedsync.Stamp{By: incoming, When: t0.Add(editAt[incoming])}))
	m, outcome := feedsync.MergeItem(x, y)
	if outcome != feedsync.Conflict {
		panic(fmt.Sprintf("merge gave %v, want conflict", outcome))
	}
	return m
}

func TestVersionOf(t *testing.T) {
	plain := mustItem(feedsync.Create(feedsync.Atom, entry("a"), "a-1", feedsync.Stamp{By: "laptop", When: t0.Add(1500 * time.Millisecond)}, false))
	anon := mustItem(feedsync.Create(feedsync.Atom, entry("a"), "a-2", feedsync.Stamp{When: t0}, false))
	tests := []struct {
		name string
		it   *feedsync.Item
		want store.Version
	}{
		{"nil", nil, store.Version{}},
		{"no sync", feedsync.NewItem(feedsync.Atom, entry("plain")), store.Version{}},
		{"named", plain, store.Version{Top: feedsync.History{Sequence: 1, By: "laptop", When: t0.Add(time.Second)}}},
		{"anonymous", anon, store.Version{Top: feedsync.History{Sequence: 1, When: t0}}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got := store.VersionOf(tc.it)
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("VersionOf (-want +got):\n%s", diff)
			}
			if got.IsZero() != (tc.it == nil || tc.it.Sync == nil) {
				t.Errorf("IsZero() = %v", got.IsZero())
			}
		})
	}
}

func TestVersionOfConflicts(t *testing.T) {
	// Both endpoints of a conflict hold the same winner and the same loser,
	// whichever merged whom: their Versions are equal (FS-MERGE-14).
	ab, ba := conflict("alpha", "beta"), conflict("beta", "alpha")
	if !store.VersionOf(ab).Equal(store.VersionOf(ba)) {
		t.Errorf("the two sides of one conflict differ: %+v, %+v", store.VersionOf(ab), store.VersionOf(ba))
	}
	// The winner alone (without its conflict copy) is another state: a peer
	// that holds only the winner still lacks the conflict.
	stripped := *ab
	s := ab.Sync.Clone()
	s.Conflicts = nil
	stripped.Sync = s
	vs, va := store.VersionOf(&stripped), store.VersionOf(ab)
	if !cmp.Equal(vs.Top, va.Top) {
		t.Fatalf("stripping conflicts changed the top: %v, %v", vs.Top, va.Top)
	}
	if vs.Equal(va) || va.Conflicts == "" || vs.Conflicts != "" {
		t.Errorf("with conflicts %+v, without %+v: want different, conflicts digest only with", va, vs)
	}
	// Order of conflict copies does not matter (§17 A-17).
	three := conflict("alpha", "beta")
	other := mustItem(feedsync.Create(feedsync.Atom, entry("gamma"), "x-1", feedsync.Stamp{By: "gamma", When: t0}, false))
	s = three.Sync.Clone()
	s.Conflicts = append(s.Conflicts, other)
	fwd := *three
	fwd.Sync = s
	rev := *three
	r := s.Clone()
	r.Conflicts = []*feedsync.Item{s.Conflicts[1], s.Conflicts[0]}
	rev.Sync = r
	if !store.VersionOf(&fwd).Equal(store.VersionOf(&rev)) {
		t.Error("the order of conflict copies changed the Version")
	}
}

func TestVersionEqual(t *testing.T) {
	when := t0
	base := store.Version{Top: feedsync.History{Sequence: 2, By: "a", When: when}, Conflicts: "c"}
	tests := []struct {
		name string
		v    store.Version
		want bool
	}{
		{"same", base, true},
		{"same instant, other zone", store.Version{Top: feedsync.History{Sequence: 2, By: "a", When: when.In(time.FixedZone("X", 3600))}, Conflicts: "c"}, true},
		{"by", store.Version{Top: feedsync.History{Sequence: 2, By: "b", When: when}, Conflicts: "c"}, false},
		{"sequence", store.Version{Top: feedsync.History{Sequence: 3, By: "a", When: when}, Conflicts: "c"}, false},
		{"when", store.Version{Top: feedsync.History{Sequence: 2, By: "a", When: when.Add(time.Second)}, Conflicts: "c"}, false},
		{"no when", store.Version{Top: feedsync.History{Sequence: 2, By: "a"}, Conflicts: "c"}, false},
		{"conflicts", store.Version{Top: feedsync.History{Sequence: 2, By: "a", When: when}}, false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := base.Equal(tc.v); got != tc.want {
				t.Errorf("Equal = %v, want %v", got, tc.want)
			}
			if got := tc.v.Equal(base); got != tc.want {
				t.Errorf("reverse Equal = %v, want %v", got, tc.want)
			}
		})
	}
}

func TestCheckItem(t *testing.T) {
	good := mustItem(feedsync.Create(feedsync.Atom, entry("a"), "a-1", feedsync.Stamp{By: "laptop", When: t0}, false))
	noHistory := *good
	noHistory.Sync = good.Sync.Clone()
	noHistory.Sync.History = nil
	badID := *good
	badID.Sync = good.Sync.Clone()
	badID.Sync.ID = "a b"
	tests := []struct {
		name string
		it   *feedsync.Item
		ok   bool
	}{
		{"good", good, true},
		{"nil", nil, false},
		{"no sync", feedsync.NewItem(feedsync.Atom, entry("a")), false},
		{"no history", &noHistory, false},
		{"bad id", &badID, false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			err := store.CheckItem(tc.it)
			if (err == nil) != tc.ok {
				t.Fatalf("CheckItem = %v, want ok=%v", err, tc.ok)
			}
			if err != nil && !errors.Is(err, store.ErrInvalidItem) {
				t.Errorf("error %q does not wrap ErrInvalidItem", err)
			}
		})
	}
}

func TestNormalizeFeedInfo(t *testing.T) {
	in := feedsync.FeedInfo{Title: "t", Updated: time.Date(2009, 4, 2, 14, 0, 0, 999, time.FixedZone("CEST", 7200))}
	got := store.NormalizeFeedInfo(in)
	want := feedsync.FeedInfo{Title: "t", Updated: time.Date(2009, 4, 2, 12, 0, 0, 0, time.UTC)}
	if diff := cmp.Diff(want, got); diff != "" || got.Updated.Location() != time.UTC {
		t.Errorf("NormalizeFeedInfo (-want +got):\n%s", diff)
	}
	if z := store.NormalizeFeedInfo(feedsync.FeedInfo{}); !z.Updated.IsZero() {
		t.Errorf("a zero Updated became %v", z.Updated)
	}
}

// Many updates of a few items: the memory store compacts its change log,
// and Changes still lists each item once, at its latest seq.
func TestMemoryCompaction(t *testing.T) {
	ctx := t.Context()
	m := store.NewMemory()
	defer m.Close()
	items := map[string]*feedsync.Item{}
	for _, id := range []string{"a", "b", "c"} {
		items[id] = mustItem(feedsync.Create(feedsync.Atom, entry(id), id, feedsync.Stamp{By: "laptop", When: t0}, false))
	}
	last := map[string]int64{}
	for round := range 600 {
		tx, err := m.Begin(ctx, true)
		if err != nil {
			t.Fatal(err)
		}
		for _, id := range []string{"a", "b", "c"} {
			if round > 0 && id == "c" {
				continue // c changes only once, so it sits at the start of the log
			}
			if round > 0 {
				items[id] = mustItem(feedsync.Update(items[id], nil, feedsync.Stamp{By: "laptop", When: t0.Add(time.Duration(round) * time.Second)}))
			}
			seq, err := tx.Put(ctx, items[id])
			if err != nil {
				t.Fatal(err)
			}
			last[id] = seq
		}
		if err := tx.Commit(); err != nil {
			t.Fatal(err)
		}
	}
	tx, err := m.Begin(ctx, false)
	if err != nil {
		t.Fatal(err)
	}
	defer tx.Rollback()
	var got []string
	for c, err := range tx.Changes(ctx, 0) {
		if err != nil {
			t.Fatal(err)
		}
		got = append(got, fmt.Sprintf("%s@%d/%d", c.Item.ID(), c.Seq, c.Item.Sync.Updates))
	}
	want := []string{fmt.Sprintf("c@%d/1", last["c"]), fmt.Sprintf("a@%d/600", last["a"]), fmt.Sprintf("b@%d/600", last["b"])}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("Changes after compaction (-want +got):\n%s", diff)
	}
}

func TestItemStatSame(t *testing.T) {
	a := mustItem(feedsync.Create(feedsync.Atom, entry("a"), "a-1", feedsync.Stamp{By: "laptop", When: t0}, false))
	other := mustItem(feedsync.Update(a, entry("b"), feedsync.Stamp{By: "phone", When: t0.Add(time.Hour)}))
	// The same metadata with another payload: an anonymous collision
	// (FS-CONFLICT-6) as far as the stat can tell.
	samePayloadless := mustItem(feedsync.Create(feedsync.Atom, entry("changed"), "a-1", feedsync.Stamp{By: "laptop", When: t0}, false))
	stat := func(it *feedsync.Item) store.ItemStat {
		st, err := store.StatOf(it)
		if err != nil {
			t.Fatal(err)
		}
		return st
	}
	base := stat(a)
	tests := []struct {
		name string
		o    store.ItemStat
		want bool
	}{
		{"itself", stat(a), true},
		{"another seq", func() store.ItemStat { s := stat(a); s.Seq = 7; return s }(), true},
		{"an update", stat(other), false},
		{"other payload", stat(samePayloadless), false},
		{"another item", stat(conflict("alpha", "beta")), false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := base.Same(tc.o); got != tc.want {
				t.Errorf("Same = %v, want %v", got, tc.want)
			}
		})
	}
	if _, err := store.StatOf(nil); !errors.Is(err, store.ErrInvalidItem) {
		t.Errorf("StatOf(nil) = %v, want ErrInvalidItem", err)
	}
}
