package feedsync

import "fmt"

// SubsumedBy reports whether history entry x is subsumed by entry y
// (FS-SUBSUME-1): y records the same update as x or a later one by the same
// endpoint.
//
//   - A named x (with a by) is subsumed by a y with the same by (FS-BY-3
//     equality) and y.Sequence >= x.Sequence. This is how a later update by
//     one endpoint covers all its earlier ones (FS-BY-2).
//   - An anonymous x is subsumed only by an anonymous y with the same
//     sequence whose when denotes the same instant (compared with
//     time.Equal, FS-ROBUST-5): (when, sequence) is the identity of an
//     anonymous entry (FS-HIST-4).
//
// A named entry is never subsumed by an anonymous one, nor the reverse.
func (x History) SubsumedBy(y History) bool {
	if x.By == "" || y.By == "" {
		return x.By == "" && y.By == "" && x.Sequence == y.Sequence && x.When.Equal(y.When)
	}
	return y.Sequence >= x.Sequence && sameBy(x.By, y.By)
}

// SubsumedBy reports whether version x is subsumed by version y
// (FS-SUBSUME-2): the topmost history entry of x is subsumed by at least one
// entry of y's history — any entry, not only y's topmost. Only the two
// versions' own metadata is used; conflict copies are separate versions.
//
// Two identical versions subsume each other, a version derived from another
// subsumes it, and two versions neither of which subsumes the other are
// concurrent (FS-SUBSUME-3, FS-CONFLICT-1). A version without history (invalid
// by FS-ROBUST-1) is never subsumed, so the merge never loses it silently.
func SubsumedBy(x, y *Sync) bool {
	if x == nil || y == nil || len(x.History) == 0 {
		return false
	}
	top := x.History[0]
	for _, h := range y.History {
		if top.SubsumedBy(h) {
			return true
		}
	}
	return false
}

// Beats reports whether candidate version x replaces the current winner w
// when a merge picks its winner (FS-WIN):
//
//  1. more updates win (FS-WIN-1);
//  2. on equal updates, the topmost when decides: a when beats a missing
//     one, a later instant an earlier one (FS-WIN-2). Two missing whens count
//     as the same, as do two equal instants, and the comparison goes on
//     (§17 A-4: the literal "keep the current winner" would depend on which
//     side was processed first and break symmetry);
//  3. still tied, the topmost by decides: a by beats a missing one, and the
//     greater value in ordinal (byte, i.e. code point) order wins (FS-WIN-3,
//     FS-BY-3, §17 A-3). This is not the length comparison of the kzu
//     lineage, which declares "EP1" and "EP2" a tie and loses one edit (§15);
//  4. otherwise w stays (FS-WIN-4).
//
// Payload and the deleted flag play no part: a tombstone with more updates
// beats a live version and the reverse.
func Beats(x, w *Sync) bool {
	switch {
	case w == nil:
		return x != nil
	case x == nil:
		return false
	case x.Updates != w.Updates:
		return x.Updates > w.Updates
	}
	xt, wt := x.Top(), w.Top()
	switch {
	case xt.HasWhen() != wt.HasWhen():
		return xt.HasWhen()
	case !xt.When.Equal(wt.When):
		return xt.When.After(wt.When)
	case (xt.By == "") != (wt.By == ""):
		return xt.By != ""
	}
	return normBy(xt.By) > normBy(wt.By)
}

// Outcome is what MergeItem (or a caller driving it) did to one item
// (FS-MERGE-16). Conflicts are results, not errors.
type Outcome uint8

const (
	// Unchanged: the local item is kept exactly as it was — the same winner,
	// payload and conflict versions. MergeItem then returns the local
	// pointer itself, so a writer can copy its bytes.
	Unchanged Outcome = iota
	// Added: there was no local item; the incoming one was added as received
	// (FS-MERGE-1).
	Added
	// Updated: the winner came from the incoming side, or the local winner
	// stayed but its conflict copies were dropped or changed (for instance a
	// resolution arrived, FS-RESOLVE-6). The item must be republished.
	Updated
	// Deleted: like Updated, and the winner is a tombstone while the local
	// winner was live (FS-DELETE-3).
	Deleted
	// Conflict: the result holds conflict versions that the local item did
	// not hold as conflicts (FS-CONFLICT-2). It takes precedence over
	// Updated and Deleted: a person or a ConflictPolicy may need to look.
	Conflict
	// Rejected: an invalid incoming item was left out of the merge
	// (FS-ROBUST-1). MergeItem never returns it; callers that check items
	// with CheckSync first report it.
	Rejected
)

// String returns "unchanged", "added", "updated", "deleted", "conflict" or
// "rejected".
func (o Outcome) String() string {
	switch o {
	case Unchanged:
		return "unchanged"
	case Added:
		return "added"
	case Updated:
		return "updated"
	case Deleted:
		return "deleted"
	case Conflict:
		return "conflict"
	case Rejected:
		return "rejected"
	}
	return fmt.Sprintf("Outcome(%d)", uint8(o))
}

// strip returns it without conflict copies: the item itself when it has
// none, otherwise a copy whose Sync has no Conflicts (FS-MERGE-3).
func strip(it *Item) *Item {
	if len(it.Sync.Conflicts) == 0 {
		return it
	}
	s := it.Sync.Clone()
	s.Conflicts = nil
	return it.withSync(s)
}

// versions appends to out the versions it holds, as FS-MERGE-3 lists them:
// its conflict copies in document order, then it without its conflicts.
// Nested conflicts (which a conforming feed never has) are flattened into
// further members of the same list (FS-CONFLICTS-2 [R]); conflict copies
// without sx:sync cannot be compared and are left out. Every returned
// version has no Conflicts of its own.
func versions(it *Item, out []*Item) []*Item {
	for _, c := range it.Sync.Conflicts {
		if c == nil || c.Sync == nil {
			continue
		}
		out = versions(c, out)
	}
	return append(out, strip(it))
}

// MergeItem merges an incoming item into the local item with the same id and
// returns the result and what happened (FS-MERGE-1..11, FS-MERGE-16). It
// transcribes the pseudocode of docs/RULES.md §7 literally:
//
//	L := conflicts(local) ++ [strip(local)]      (FS-MERGE-3)
//	I := conflicts(incoming) ++ [strip(incoming)] (FS-MERGE-4)
//	pass(L, I); pass(I, L)                        (FS-MERGE-6, FS-MERGE-7)
//
// where a pass removes each outer version subsumed by any inner version, and
// appends the others to M while keeping the best of them (Beats) as W. The
// second pass sees L as the first pass left it (§17 A-2), so two identical
// versions leave exactly one survivor, the incoming one. W is taken as it is
// (FS-MERGE-9); the other members of M, in M order (local survivors first),
// become its conflict copies unless W has noconflicts="true", in which case
// they are dropped (FS-MERGE-10, FS-MERGE-11, FS-NOCONF-2; the winner's flag
// decides, §17 A-5). Nested conflicts are flattened (FS-CONFLICTS-2), and
// no version in the result carries conflicts of its own.
//
// Special cases: a nil local (or one without sx:sync) means there is no
// local item, and incoming is returned as it is with Added (FS-MERGE-1). A
// nil incoming item or one without sx:sync takes no part (FS-FEED-7): local
// is returned with Unchanged. The caller matches items by id, should have
// rejected invalid incoming items (CheckSync, FS-ROBUST-1) and converts an
// incoming item to the local feed's format first (FS-FEED-10): conflict
// copies are kept in the format they arrive in.
//
// To keep unchanged items byte-stable, MergeItem returns the local pointer
// itself with Unchanged when the result holds the same winning version with
// the same payload and the same set of conflict versions (each with the same
// payload) as local — whichever side the surviving copies came from. This
// makes a repeated merge of the same feed a no-op (FS-MERGE-14). When the
// incoming winner has the same metadata but a different payload (the
// anonymous collision of FS-CONFLICT-6, §17 A-18), the incoming payload is
// taken and the outcome is Updated. Conflict copies keep their own payloads.
func MergeItem(local, incoming *Item) (*Item, Outcome) {
	if incoming == nil || incoming.Sync == nil {
		return local, Unchanged
	}
	if local == nil || local.Sync == nil {
		return incoming, Added
	}

	L := versions(local, nil)
	had := L[: len(L)-1 : len(L)-1] // local's conflict versions, flattened
	sl := L[len(L)-1]               // local stripped
	I := versions(incoming, nil)

	type member struct {
		it       *Item
		incoming bool
	}
	var M []member
	w := -1 // index of W in M
	pass := func(outer, inner []*Item, fromIncoming bool) []*Item {
		kept := outer[:0:0]
	next:
		for _, x := range outer {
			for _, y := range inner {
				if SubsumedBy(x.Sync, y.Sync) {
					continue next // removed from outer
				}
			}
			kept = append(kept, x)
			M = append(M, member{x, fromIncoming})
			if w < 0 || Beats(x.Sync, M[w].it.Sync) {
				w = len(M) - 1
			}
		}
		return kept
	}
	L = pass(L, I, false)
	pass(I, L, true)

	// FS-MERGE-8: M is never empty. (A version is only removed when it is
	// subsumed by a member of the other list, and the second pass compares
	// with the survivors of the first, so the last survivor always stays.)
	W := M[w]
	var conflicts []*Item
	if !W.it.Sync.NoConflicts {
		for i, m := range M {
			if i != w {
				conflicts = append(conflicts, m.it)
			}
		}
	}

	if sameResult(local, sl, W.it, conflicts) {
		return local, Unchanged
	}

	result := W.it
	if len(conflicts) > 0 {
		s := W.it.Sync.Clone()
		s.Conflicts = conflicts
		result = W.it.withSync(s)
	}

	for _, c := range conflicts {
		if !containsVersion(had, c) {
			return result, Conflict
		}
	}
	if W.it.Sync.Deleted && !local.Sync.Deleted {
		return result, Deleted
	}
	return result, Updated
}

// containsVersion reports whether list holds a version with the same
// metadata as v.
func containsVersion(list []*Item, v *Item) bool {
	for _, x := range list {
		if x == v || x.Sync.SameVersion(v.Sync) {
			return true
		}
	}
	return false
}

// sameResult reports whether a merge result (winner w, conflict copies cs)
// is what local already is: the same winning version and payload, and the
// same conflict versions as a set (order is not significant, §17 A-17), each
// with the same payload. sl is local stripped, as MergeItem listed it.
// Pointer equality settles a comparison without looking at payloads.
func sameResult(local, sl, w *Item, cs []*Item) bool {
	lc := local.Sync.Conflicts
	if len(cs) != len(lc) {
		return false
	}
	if w != sl && !(w.Sync.SameVersion(sl.Sync) && samePayload(w, local)) {
		return false
	}
	used := make([]bool, len(lc))
	for _, c := range cs {
		found := false
		for j, l := range lc {
			if used[j] || l == nil || l.Sync == nil || len(l.Sync.Conflicts) > 0 {
				// A local copy with nested conflicts is about to be
				// flattened (FS-CONFLICTS-2): that is a change.
				continue
			}
			if l == c || l.Sync.SameVersion(c.Sync) && samePayload(l, c) {
				used[j], found = true, true
				break
			}
		}
		if !found {
			return false
		}
	}
	return true
}
