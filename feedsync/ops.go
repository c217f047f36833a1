package feedsync

import (
	"fmt"
	"slices"
	"strings"

	"github.com/beevik/etree"
)

// Create returns a new item of the given format carrying payload (an RSS
// <item> or Atom <entry> element, copied; nil gives an empty one) and fresh
// sync metadata (FS-CREATE):
//
//   - id is the sync id; "" asks for a new random one (NewID, FS-CREATE-1).
//     A given id must be a valid NSS (FS-TYPE-5) and is normalised
//     (NormalizeID).
//   - updates="1" and a single history entry with sequence 1, s.When (in UTC,
//     whole seconds) and s.By (FS-CREATE-2).
//   - noConflicts sets noconflicts="true"; creation is the only moment it
//     may be set (FS-CREATE-3, FS-SYNC-5, FS-NOCONF-1).
//
// Bringing a plain feed into FeedSync is a Create for each of its items
// (FS-CREATE-4).
func Create(format Format, payload *etree.Element, id string, s Stamp, noConflicts bool) (*Item, error) {
	fail := func(err error) (*Item, error) {
		return nil, &ItemError{ID: id, Err: fmt.Errorf("create: %w", err)}
	}
	if format != RSS && format != Atom {
		return fail(fmt.Errorf("format %v is neither rss nor atom", format))
	}
	if err := s.Valid(); err != nil {
		return fail(err)
	}
	if id == "" {
		id = NewID()
	} else if !ValidID(id) {
		return fail(fmt.Errorf("%w: id %q is not a URN NSS (FS-TYPE-5)", ErrInvalidSync, id))
	}
	it := NewItem(format, payload)
	it.Sync = &Sync{
		ID:          NormalizeID(id),
		Updates:     1,
		NoConflicts: noConflicts,
		History:     []History{s.entry(1)},
	}
	return it, nil
}

// Update returns it after a local change made as s (FS-UPDATE-1..7):
// updates grows by one, a history entry for the new sequence is put on top,
// the item is live again if it was a tombstone (undelete, FS-UPDATE-5 [R]),
// and id and noconflicts stay as they were (FS-UPDATE-7). payload is the new
// content (copied); nil keeps the current one. Every change of shared data
// must go through Update (FS-UPDATE-6).
//
// FS-UPDATE-4 (our reconstruction of FeedSync 1.0.1's step 3.2.4, §17 A-9):
// every conflict copy that the updated item now subsumes is removed and its
// history folded in as a resolution folds it (FS-RESOLVE-3). Without this a
// stale copy would sit beside a winner that subsumes it and two endpoints
// merging each other could swap it forever. After Update no conflict copy
// is subsumed by the item.
//
// Errors (wrapped in an *ItemError with the item's id): ErrNoSync, ErrBadStamp,
// ErrInvalidSync for updates below 1, and an error when updates would exceed
// MaxInt (FS-TYPE-2).
func Update(it *Item, payload *etree.Element, s Stamp) (*Item, error) {
	return update(it, payload, s, false, nil, "update")
}

// Delete returns it as a tombstone: an update (FS-UPDATE) that sets
// deleted="true" (FS-DELETE-1). The payload is kept (FS-DELETE-2, §17 A-16);
// the item stays in the feed and is never simply removed. A tombstone merges
// like any version (FS-DELETE-3). Deleting a tombstone again is an error,
// ErrDeleted; the other errors are Update's.
func Delete(it *Item, s Stamp) (*Item, error) {
	if it != nil && it.Sync != nil && it.Sync.Deleted {
		return nil, itemErr(it, fmt.Errorf("delete: %w", ErrDeleted))
	}
	return update(it, nil, s, true, nil, "delete")
}

// Resolve settles the conflicts of it with the given content, made as s
// (FS-RESOLVE-1..7). payload is the chosen content (a hand merge, or the
// payload of a copy); nil keeps the current winner's payload. The result is
// live; use ResolveKeep to keep a tombstone.
//
// which picks the conflict copies being resolved; nil picks them all. The
// others stay (FS-RESOLVE-5). The steps:
//
//  1. an update (FS-RESOLVE-2, with FS-UPDATE-4): updates+1 and a new
//     topmost entry for s. It comes first, as in Microsoft's sample 4
//     (§17 A-6);
//  2. for each chosen copy, in order: remove it, then take its history
//     entries topmost first, skip every entry subsumed by an entry now in
//     the item's history (entries folded a moment ago included), and insert
//     the others below the topmost entry, each below the previously inserted
//     one, so folded entries keep their relative order (FS-RESOLVE-3,
//     §17 A-6). A subsumed entry is skipped and folding goes on with the
//     next one; it does not stop (§17 A-7, FS-RESOLVE-7: the spec's
//     "process the next item sub-element" and "add Hr" are slips, §17 A-8);
//  3. sx:conflicts goes when it is empty (FS-RESOLVE-4).
//
// The result subsumes the previous winner and every resolved copy, so other
// endpoints drop those versions when they merge it (FS-RESOLVE-6).
// ErrNoConflicts is returned when it has no conflicts or which picks none.
func Resolve(it *Item, payload *etree.Element, s Stamp, which func(c *Item) bool) (*Item, error) {
	return resolve(it, payload, s, false, which)
}

// ResolveKeep resolves all conflicts of it by keeping the content of one
// of its versions: keep 0 is the current winner, keep k >= 1 the k-th
// conflict copy (in it.Sync.Conflicts order). The kept version's deleted flag
// comes along, so keeping a tombstone resolves to a deletion (FS-RESOLVE-1).
// It is Resolve otherwise.
func ResolveKeep(it *Item, keep int, s Stamp) (*Item, error) {
	if it == nil || it.Sync == nil {
		return nil, itemErr(it, fmt.Errorf("resolve: %w", ErrNoSync))
	}
	cs := it.Sync.Conflicts
	switch {
	case len(cs) == 0:
		return nil, itemErr(it, fmt.Errorf("resolve: %w", ErrNoConflicts))
	case keep < 0 || keep > len(cs):
		return nil, itemErr(it, fmt.Errorf("resolve: keep %d is out of range: 0 for the winner or 1..%d for a conflict copy", keep, len(cs)))
	case keep == 0:
		return resolve(it, nil, s, it.Sync.Deleted, nil)
	}
	c := cs[keep-1]
	if c == nil || c.Sync == nil {
		return nil, itemErr(it, fmt.Errorf("resolve: conflict copy %d: %w", keep, ErrNoSync))
	}
	p, err := c.Payload()
	if err != nil {
		return nil, itemErr(it, fmt.Errorf("resolve: conflict copy %d: %w", keep, err))
	}
	return resolve(it, p, s, c.Sync.Deleted, nil)
}

func resolve(it *Item, payload *etree.Element, s Stamp, deleted bool, which func(c *Item) bool) (*Item, error) {
	if which == nil {
		which = func(*Item) bool { return true }
	}
	return update(it, payload, s, deleted, which, "resolve")
}

// flatConflicts returns s's conflict copies with nested conflicts flattened
// (FS-CONFLICTS-2), none carrying conflicts of its own. Copies without
// sx:sync are left out: they cannot be compared or folded.
func flatConflicts(s *Sync) []*Item {
	var out []*Item
	for _, c := range s.Conflicts {
		if c != nil && c.Sync != nil {
			out = versions(c, out)
		}
	}
	return out
}

// update is Update, Delete and Resolve. which is nil for a plain update;
// for a resolution it picks the conflict copies being resolved. op names
// the operation in errors.
func update(it *Item, payload *etree.Element, st Stamp, deleted bool, which func(c *Item) bool, op string) (*Item, error) {
	if it == nil || it.Sync == nil {
		return nil, itemErr(it, fmt.Errorf("%s: %w", op, ErrNoSync))
	}
	if err := st.Valid(); err != nil {
		return nil, itemErr(it, fmt.Errorf("%s: %w", op, err))
	}
	switch n := it.Sync.Updates; {
	case n < 1:
		return nil, itemErr(it, fmt.Errorf("%s: %w: updates %d is below 1 (FS-SYNC-3)", op, ErrInvalidSync, n))
	case n >= MaxInt:
		return nil, itemErr(it, fmt.Errorf("%s: updates is already %d, the largest value allowed (FS-TYPE-2)", op, n))
	}
	conflicts := flatConflicts(it.Sync) // FS-CONFLICTS-2
	var chosen map[*Item]bool
	if which != nil {
		if len(conflicts) == 0 {
			return nil, itemErr(it, fmt.Errorf("%s: %w", op, ErrNoConflicts))
		}
		chosen = map[*Item]bool{}
		for _, c := range conflicts {
			if which(c) {
				chosen[c] = true
			}
		}
		if len(chosen) == 0 {
			return nil, itemErr(it, fmt.Errorf("%s: %w: no conflict copy was chosen", op, ErrNoConflicts))
		}
	}

	s := it.Sync.Clone()
	s.Updates++                                                      // FS-UPDATE-1
	s.History = append([]History{st.entry(s.Updates)}, s.History...) // FS-UPDATE-2, FS-UPDATE-3
	s.Deleted = deleted                                              // FS-UPDATE-5
	s.Conflicts = conflicts

	f := folder{s: s, at: 1}
	f.dropSubsumed() // FS-UPDATE-4 (FS-RESOLVE-2: the update comes first)
	if chosen != nil {
		// FS-RESOLVE-3: fold the chosen copies, in conflicts order. A chosen
		// copy that FS-UPDATE-4 already dropped has been folded.
		kept := s.Conflicts[:0:0]
		for _, c := range s.Conflicts {
			if chosen[c] {
				f.fold(c.Sync)
			} else {
				kept = append(kept, c) // FS-RESOLVE-5
			}
		}
		s.Conflicts = kept
		// Folding may have made a remaining copy subsumed; keep the
		// FS-UPDATE-4 property for the result of the whole resolution.
		f.dropSubsumed()
	}
	if len(s.Conflicts) == 0 {
		s.Conflicts = nil // FS-CONFLICTS-3, FS-RESOLVE-4
	}

	if payload != nil {
		return it.withPayload(payload.Copy()).withSync(s), nil
	}
	return it.withSync(s), nil
}

// folder folds conflict histories into s.History below its topmost entry.
// at is where the next folded entry goes, so that successive entries (and
// successive copies) keep their order (FS-RESOLVE-3 [R]).
type folder struct {
	s  *Sync
	at int
}

// fold inserts the entries of c that no entry of the history subsumes
// (FS-RESOLVE-3). The history is checked again for each entry, so entries
// folded a moment ago count.
func (f *folder) fold(c *Sync) {
next:
	for _, hc := range c.History {
		for _, h := range f.s.History {
			if hc.SubsumedBy(h) {
				continue next // FS-RESOLVE-7: skip it, go on with the next
			}
		}
		e := cloneHistory([]History{hc})[0]
		f.s.History = append(f.s.History[:f.at], append([]History{e}, f.s.History[f.at:]...)...)
		f.at++
	}
}

// dropSubsumed removes every conflict copy the item subsumes and folds its
// history (FS-UPDATE-4). Folding can make another copy subsumed, so it
// repeats until none is; each round removes a copy, so it ends.
func (f *folder) dropSubsumed() {
	for {
		i := -1
		for j, c := range f.s.Conflicts {
			if SubsumedBy(c.Sync, f.s) {
				i = j
				break
			}
		}
		if i < 0 {
			return
		}
		c := f.s.Conflicts[i]
		f.s.Conflicts = append(f.s.Conflicts[:i:i], f.s.Conflicts[i+1:]...)
		f.fold(c.Sync)
	}
}

// Purge returns it with a sparse-purged history (FS-PURGE-1..4): for each
// by, only the entry with the highest sequence stays (the first of several
// equal ones). The topmost entry always stays, anonymous entries always
// stay (nothing can stand in for them, FS-PURGE-2), and updates does not
// change (FS-PURGE-3). This keeps every subsumption result: FS-SUBSUME-1
// only needs the highest sequence per by. Conflict copies are purged the
// same way. Purging is optional (FS-PURGE-4).
//
// When nothing can be dropped Purge returns it itself; an item without
// sx:sync is returned as is.
func Purge(it *Item) *Item {
	if it == nil || it.Sync == nil {
		return it
	}
	h, changed := purgeHistory(it.Sync.History)
	var cs []*Item
	for i, c := range it.Sync.Conflicts {
		pc := Purge(c)
		if pc != c && cs == nil {
			cs = append([]*Item(nil), it.Sync.Conflicts...)
		}
		if cs != nil {
			cs[i] = pc
		}
	}
	if !changed && cs == nil {
		return it
	}
	s := it.Sync.Clone()
	if changed {
		s.History = h
	}
	if cs != nil {
		s.Conflicts = cs
	}
	return it.withSync(s)
}

// purgeHistory returns the sparse-purged form of h and whether it differs.
func purgeHistory(h []History) ([]History, bool) {
	best := map[string]int{} // by → index of the entry to keep
	for i, e := range h {
		if e.By == "" {
			continue
		}
		k := normBy(e.By)
		if j, ok := best[k]; !ok || e.Sequence > h[j].Sequence {
			best[k] = i
		}
	}
	keep := func(i int) bool {
		e := h[i]
		return i == 0 || e.By == "" || best[normBy(e.By)] == i
	}
	n := 0
	for i := range h {
		if keep(i) {
			n++
		}
	}
	if n == len(h) {
		return h, false
	}
	out := make([]History, 0, n)
	for i := range h {
		if keep(i) {
			out = append(out, cloneHistory(h[i : i+1])[0])
		}
	}
	return out, true
}

// Minimal returns it with the payload of every tombstone version (the
// winner if deleted, and each deleted conflict copy) cut down to what its
// format needs (FS-DELETE-2): atom:id, atom:title and atom:updated for an
// Atom entry; title (else description) and guid for an RSS item. No algorithm
// reads a tombstone's payload, so only the payload digest changes: the
// history, updates and every comparison stay as they were. Live versions,
// conflict copies included, keep their payload (they may win a later
// resolution).
//
// When nothing can be dropped Minimal returns it itself; an item without
// sx:sync is returned as is.
func Minimal(it *Item) (*Item, error) {
	if it == nil || it.Sync == nil {
		return it, nil
	}
	out := it
	if it.Sync.Deleted {
		e, err := it.Payload()
		if err != nil {
			return nil, err
		}
		if minimalPayload(e, it.format) {
			out = it.withPayload(e)
		}
	}
	var cs []*Item
	for i, c := range it.Sync.Conflicts {
		mc, err := Minimal(c)
		if err != nil {
			return nil, err
		}
		if mc != c && cs == nil {
			cs = append([]*Item(nil), it.Sync.Conflicts...)
		}
		if cs != nil {
			cs[i] = mc
		}
	}
	if cs != nil {
		s := out.Sync.Clone()
		s.Conflicts = cs
		out = out.withSync(s)
	}
	return out, nil
}

// minimalPayload removes from e every child Minimal does not keep and
// reports whether it removed anything but whitespace.
func minimalPayload(e *etree.Element, f Format) bool {
	keep := func(c *etree.Element) bool {
		if f == Atom {
			return c.NamespaceURI() == AtomNamespace && (c.Tag == "id" || c.Tag == "title" || c.Tag == "updated")
		}
		// RSS 2.0 needs a title or a description: the title, else the
		// description.
		return c.NamespaceURI() == "" && (c.Tag == "title" || c.Tag == "guid" || c.Tag == "description" && e.SelectElement("title") == nil)
	}
	changed := false
	for _, t := range slices.Clone(e.Child) {
		switch c := t.(type) {
		case *etree.Element:
			if keep(c) {
				continue
			}
			changed = true
		case *etree.CharData:
			if strings.TrimSpace(c.Data) != "" {
				changed = true
			}
		default:
			changed = true // comments, processing instructions
		}
		e.RemoveChild(t)
	}
	return changed
}
