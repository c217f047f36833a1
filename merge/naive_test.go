package merge

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"sort"
	"testing"

	"github.com/feedsync/go-feedsync/feedsync"
	"github.com/google/go-cmp/cmp"
	"pgregory.net/rapid"
)

// This file holds a naive reference for the whole-feed merge: docs/RULES.md §7
// transcribed over whole feeds in memory, with its own subsumption and
// winner rules written from the spec text (it never calls
// feedsync.MergeItem, SubsumedBy or Beats). Feeds must agree with it on
// random feeds (STYLE habit 15).

// naiveEntrySubsumed is FS-SUBSUME-1.
func naiveEntrySubsumed(x, y feedsync.History) bool {
	if x.By != "" {
		// 1. x has a by: y has the same by and y.sequence >= x.sequence.
		return y.By == x.By && y.Sequence >= x.Sequence
	}
	// 2. x has no by: y has none either, the same instant and the same
	// sequence.
	return y.By == "" && x.When.Equal(y.When) && x.Sequence == y.Sequence
}

// naiveSubsumed is FS-SUBSUME-2: the topmost entry of x is subsumed by some
// entry of y.
func naiveSubsumed(x, y *feedsync.Sync) bool {
	if len(x.History) == 0 {
		return false
	}
	for _, h := range y.History {
		if naiveEntrySubsumed(x.History[0], h) {
			return true
		}
	}
	return false
}

// naiveBeats is FS-WIN-1..4: whether candidate x replaces the current
// winner w.
func naiveBeats(x, w *feedsync.Sync) bool {
	if x.Updates != w.Updates {
		return x.Updates > w.Updates // FS-WIN-1
	}
	xt, wt := x.History[0], w.History[0]
	switch {
	case xt.HasWhen() && !wt.HasWhen():
		return true // FS-WIN-2: a when beats a missing one
	case !xt.HasWhen() && wt.HasWhen():
		return false
	case xt.HasWhen() && !xt.When.Equal(wt.When):
		return xt.When.After(wt.When)
	}
	// Both missing or the same instant (§17 A-4): FS-WIN-3.
	switch {
	case xt.By != "" && wt.By == "":
		return true
	case xt.By == "" && wt.By != "":
		return false
	}
	return xt.By > wt.By // ordinal, FS-BY-3; equal: w stays (FS-WIN-4)
}

// naiveVersions lists an item's versions: its conflict copies (nested ones
// flattened, FS-CONFLICTS-2), then the item itself (FS-MERGE-3/4). The item
// stands for its stripped self: the reference only reads its Sync fields
// other than Conflicts, and its payload.
func naiveVersions(it *feedsync.Item) []*feedsync.Item {
	var out []*feedsync.Item
	for _, c := range it.Sync.Conflicts {
		out = append(out, naiveVersions(c)...)
	}
	return append(out, it)
}

// naiveMergeItem is the §7 pseudocode.
func naiveMergeItem(local, incoming *feedsync.Item) (w *feedsync.Item, conflicts []*feedsync.Item) {
	L := naiveVersions(local)
	I := naiveVersions(incoming)
	var M []*feedsync.Item
	pass := func(outer, inner []*feedsync.Item) []*feedsync.Item {
		var kept []*feedsync.Item
	next:
		for _, x := range outer {
			for _, y := range inner {
				if naiveSubsumed(x.Sync, y.Sync) {
					continue next // remove x from outer
				}
			}
			kept = append(kept, x)
			M = append(M, x)
			if w == nil || naiveBeats(x.Sync, w.Sync) {
				w = x
			}
		}
		return kept
	}
	L = pass(L, I)
	pass(I, L) // the second pass sees the reduced L (§17 A-2)
	if !w.Sync.NoConflicts && len(M) > 1 {
		for _, m := range M {
			if m != w {
				conflicts = append(conflicts, m)
			}
		}
	}
	return w, conflicts
}

// naiveResult is one item of the naive merge's output.
type naiveResult struct {
	plain     *feedsync.Item // an item without sx:sync
	winner    *feedsync.Item
	conflicts []*feedsync.Item
}

// naiveFeeds merges whole feeds held in memory: local items in place,
// incoming items merged in document order or appended (FS-MERGE-1, -2,
// -13, -15), plain and invalid incoming items ignored (FS-FEED-7,
// FS-ROBUST-1), duplicate ids rejected (FS-ROBUST-3). It returns the output
// format and the number of added and rejected incoming items.
func naiveFeeds(local, incoming []byte) (out []naiveResult, format feedsync.Format, added, rejected int, err error) {
	lh, litems, err := feedsync.ReadAll(bytes.NewReader(local))
	if err != nil {
		return nil, 0, 0, 0, err
	}
	_, iitems, err := feedsync.ReadAll(bytes.NewReader(incoming))
	if err != nil {
		return nil, 0, 0, 0, err
	}
	byID := map[string]int{}
	for _, it := range litems {
		if it.Sync == nil || it.ID() == "" {
			out = append(out, naiveResult{plain: it})
			continue
		}
		if _, dup := byID[it.ID()]; dup {
			return nil, 0, 0, 0, feedsync.ErrDuplicateID
		}
		byID[it.ID()] = len(out)
		vs := naiveVersions(it)
		out = append(out, naiveResult{winner: it, conflicts: vs[:len(vs)-1]})
	}
	seen := map[string]bool{}
	for _, in := range iitems {
		if in.Sync == nil {
			continue
		}
		if in.ID() != "" {
			if seen[in.ID()] {
				return nil, 0, 0, 0, feedsync.ErrDuplicateID
			}
			seen[in.ID()] = true
		}
		if in.Err() != nil {
			rejected++
			continue
		}
		i, ok := byID[in.ID()]
		if !ok {
			byID[in.ID()] = len(out)
			vs := naiveVersions(in)
			out = append(out, naiveResult{winner: in, conflicts: vs[:len(vs)-1]})
			added++
			continue
		}
		l := out[i].winner
		if l.Err() != nil {
			rejected++
			continue
		}
		w, cs := naiveMergeItem(l, in)
		out[i].winner, out[i].conflicts = w, cs
	}
	return out, lh.Format, added, rejected, nil
}

// naiveStates describes the naive result like feedStates describes a feed.
func naiveStates(t tHelper, out []naiveResult, f feedsync.Format) []itemState {
	var states []itemState
	for _, r := range out {
		if r.plain != nil {
			continue
		}
		st := itemState{
			ID:      r.winner.ID(),
			Winner:  versionKey(r.winner.Sync),
			Deleted: r.winner.Sync.Deleted,
			Digest:  digestIn(t, r.winner, f),
		}
		for _, c := range r.conflicts {
			st.Conflicts = append(st.Conflicts, versionKey(c.Sync)+" #"+digestIn(t, c, f))
		}
		sort.Strings(st.Conflicts)
		states = append(states, st)
	}
	return states
}

// plainTitles lists the items without sx:sync of a feed or a naive result.
func plainTitles(t tHelper, items []*feedsync.Item) []string {
	var out []string
	for _, it := range items {
		if it.Sync == nil {
			d, err := it.Digest()
			if err != nil {
				t.Fatal(err)
			}
			out = append(out, fmt.Sprintf("%x", d[:4]))
		}
	}
	return out
}

// TestFeedsMatchesNaive checks Feeds against the naive reference on random
// feeds (FS-MERGE-1..16, FS-SUBSUME, FS-WIN, FS-FEED-7, FS-FEED-10,
// FS-ROBUST-1): the same sync items in the same order, the same winners
// (metadata and payload digest), the same deleted flags, the same conflict
// sets, the plain local items kept, and the same counts of added and
// rejected items.
func TestFeedsMatchesNaive(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		// "" makes anonymous entries: their collisions (FS-CONFLICT-6) are
		// part of the spec the reference transcribes.
		lf, inf := genPair(t, []string{"a", "b", "c", ""})
		local, incoming := lf.render(), inf.render()
		want, format, added, rejected, nerr := naiveFeeds(local, incoming)

		var out bytes.Buffer
		sum, err := Feeds(context.Background(), bytes.NewReader(local), bytes.NewReader(incoming), &out, Options{})
		if nerr != nil || err != nil {
			if !errors.Is(err, feedsync.ErrDuplicateID) || !errors.Is(nerr, feedsync.ErrDuplicateID) {
				t.Fatalf("Feeds error %v, reference error %v", err, nerr)
			}
			return
		}
		got := feedStates(t, out.Bytes(), format)
		if diff := cmp.Diff(naiveStates(t, want, format), got); diff != "" {
			t.Fatalf("Feeds differs from the reference (-reference +Feeds):\n%s\nlocal:\n%s\nincoming:\n%s\noutput:\n%s", diff, local, incoming, out.Bytes())
		}
		_, outItems, err := feedsync.ReadAll(bytes.NewReader(out.Bytes()))
		if err != nil {
			t.Fatal(err)
		}
		var wantPlain []*feedsync.Item
		for _, r := range want {
			if r.plain != nil {
				wantPlain = append(wantPlain, r.plain)
			}
		}
		if diff := cmp.Diff(plainTitles(t, wantPlain), plainTitles(t, outItems)); diff != "" {
			t.Errorf("plain items (-local +output):\n%s", diff)
		}
		if sum.Added != added || sum.Rejected != rejected {
			t.Errorf("summary %v: want %d new and %d rejected", sum, added, rejected)
		}
	})
}
