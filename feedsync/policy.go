package feedsync

import (
	"fmt"

	"github.com/beevik/etree"
)

// ConflictPolicy decides what happens to an item that a merge left with
// conflicts. Drivers (the file merge, the store consumer) call Apply after
// MergeItem whenever the result holds conflict copies, with the merge's
// inputs and the local endpoint's stamp, and keep what it returns.
//
// The spec's default is KeepConflicts: conflicts are ordinary feed content
// that a person or program resolves later (FS-CONFLICT-2, FS-CONFLICT-5).
// The automatic policies choose a content and apply it as a resolution
// (Resolve) stamped s, an update by the local endpoint whose history takes
// in every conflict copy. Their result subsumes all versions involved, so
// every endpoint that merges it drops them and converges (FS-RESOLVE-6).
//
// Two endpoints that resolve the same conflict automatically before either
// has seen the other's resolution publish two resolutions, each an update by
// its own by. Those are concurrent versions (FS-CONFLICT-1), so the next
// merge between them shows a conflict again — whatever they chose, because
// the metadata differs even when the content is the same. What the choice
// affects is the content: policies that pick the same version wherever they
// run (LastWriterWins, EndpointWins, a deterministic MergeFunc) agree on the
// content, so the new conflict is between equal contents; SourceWins and
// DestinationWins depend on the direction of the merge, and two endpoints
// using them choose differently. Either way the item settles as soon as one
// resolution reaches the other endpoint before it resolves again.
//
// Apply must not modify its arguments. It returns merged itself when there is
// nothing to do (no conflicts, or a policy that keeps them).
type ConflictPolicy interface {
	Apply(merged *Item, local, incoming *Item, s Stamp) (*Item, error)
}

// Compile-time checks that the built-ins are policies.
var (
	_ ConflictPolicy = keepConflicts{}
	_ ConflictPolicy = deferPolicy{}
	_ ConflictPolicy = sourceWins{}
	_ ConflictPolicy = destinationWins{}
	_ ConflictPolicy = endpointWins("")
	_ ConflictPolicy = lastWriterWins{}
	_ ConflictPolicy = MergeFunc(nil)
)

var (
	// KeepConflicts leaves conflicts in the item, as the spec does by
	// default (FS-CONFLICT-2): no data is lost and any endpoint may resolve
	// them later (FS-CONFLICT-5).
	KeepConflicts ConflictPolicy = keepConflicts{}

	// Defer keeps conflicts like KeepConflicts, and says why: a person
	// should decide. Drivers compare their policy with Defer to queue the
	// item for review (the CLI lists it, a store marks it).
	Defer ConflictPolicy = deferPolicy{}

	// SourceWins resolves to the incoming side's content: the incoming
	// winner when it survived the merge, otherwise the best (FS-WIN) of the
	// surviving versions the incoming item held. If none of them survived,
	// the merged winner is kept.
	SourceWins ConflictPolicy = sourceWins{}

	// DestinationWins resolves to the local side's content: the local
	// winner when it survived the merge, otherwise the best (FS-WIN) of the
	// surviving versions the local item held. If none of them survived, the
	// merged winner is kept.
	DestinationWins ConflictPolicy = destinationWins{}

	// LastWriterWins resolves to the version with the latest topmost when
	// (a when beats none); ties go to the FS-WIN order (Beats). It picks the
	// same version wherever it runs, but trusts uncalibrated clocks
	// (FS-HIST-3).
	LastWriterWins ConflictPolicy = lastWriterWins{}
)

// EndpointWins returns a policy that resolves to the version whose topmost
// by is by (FS-BY-3 equality): one endpoint's edits are authoritative. If
// several versions qualify the best by FS-WIN is kept; if none does, the
// merged winner is kept.
func EndpointWins(by string) ConflictPolicy { return endpointWins(by) }

// MergeFunc is a custom policy: it receives the merged winner (without its
// conflicts) and its conflict copies, and returns the resolved content —
// the payload (nil keeps the winner's) and whether the result is a
// tombstone. The result is applied as a resolution of all copies, like the
// built-in policies. It must not modify its arguments.
type MergeFunc func(winner *Item, conflicts []*Item) (payload *etree.Element, deleted bool, err error)

// Apply calls f when merged has conflicts and resolves to what f returns.
func (f MergeFunc) Apply(merged, local, incoming *Item, s Stamp) (*Item, error) {
	if !hasConflicts(merged) {
		return merged, nil
	}
	if f == nil {
		return nil, itemErr(merged, fmt.Errorf("conflict policy: nil MergeFunc"))
	}
	cands := candidates(merged)
	cs := append([]*Item(nil), cands[1:]...)
	p, deleted, err := f(cands[0], cs)
	if err != nil {
		return nil, itemErr(merged, fmt.Errorf("conflict policy: %w", err))
	}
	return resolve(merged, p, s, deleted, nil)
}

type keepConflicts struct{}

func (keepConflicts) Apply(merged, _, _ *Item, _ Stamp) (*Item, error) { return merged, nil }

type deferPolicy struct{}

func (deferPolicy) Apply(merged, _, _ *Item, _ Stamp) (*Item, error) { return merged, nil }

type sourceWins struct{}

func (sourceWins) Apply(merged, local, incoming *Item, s Stamp) (*Item, error) {
	return keepSide(merged, incoming, s)
}

type destinationWins struct{}

func (destinationWins) Apply(merged, local, incoming *Item, s Stamp) (*Item, error) {
	return keepSide(merged, local, s)
}

type endpointWins string

func (by endpointWins) Apply(merged, _, _ *Item, s Stamp) (*Item, error) {
	return choose(merged, s, func(v *Item) bool { return sameBy(v.Sync.Top().By, string(by)) }, Beats)
}

type lastWriterWins struct{}

func (lastWriterWins) Apply(merged, _, _ *Item, s Stamp) (*Item, error) {
	later := func(x, w *Sync) bool {
		xt, wt := x.Top(), w.Top()
		switch {
		case xt.HasWhen() != wt.HasWhen():
			return xt.HasWhen()
		case !xt.When.Equal(wt.When):
			return xt.When.After(wt.When)
		}
		return Beats(x, w)
	}
	return choose(merged, s, nil, later)
}

func hasConflicts(it *Item) bool {
	return it != nil && it.Sync != nil && len(it.Sync.Conflicts) > 0
}

// candidates returns the versions merged holds: its winner without
// conflicts first, then its conflict copies (nested ones flattened).
func candidates(merged *Item) []*Item {
	return append([]*Item{strip(merged)}, flatConflicts(merged.Sync)...)
}

// keepSide resolves merged to the content of side's versions: side's own
// winner if it survived, else the best of side's conflict copies that
// survived, else the merged winner.
func keepSide(merged, side *Item, s Stamp) (*Item, error) {
	if !hasConflicts(merged) {
		return merged, nil
	}
	if side == nil || side.Sync == nil {
		return choose(merged, s, nil, Beats)
	}
	own := side.Sync
	for i, v := range candidates(merged) {
		if v.Sync.SameVersion(own) {
			return keepVersion(merged, v, i == 0, s)
		}
	}
	held := flatConflicts(own)
	return choose(merged, s, func(v *Item) bool { return containsVersion(held, v) }, Beats)
}

// choose resolves merged to the best candidate accepted by ok (nil accepts
// all) under better; when ok accepts none, to the merged winner.
func choose(merged *Item, s Stamp, ok func(*Item) bool, better func(x, w *Sync) bool) (*Item, error) {
	if !hasConflicts(merged) {
		return merged, nil
	}
	best := -1
	cands := candidates(merged)
	for i, v := range cands {
		if (ok == nil || ok(v)) && (best < 0 || better(v.Sync, cands[best].Sync)) {
			best = i
		}
	}
	if best < 0 {
		best = 0
	}
	return keepVersion(merged, cands[best], best == 0, s)
}

// keepVersion resolves all conflicts of merged to v's content: its payload
// and its deleted flag (FS-RESOLVE-1). winner says v is merged's own winner,
// whose payload the resolution keeps as it is.
func keepVersion(merged, v *Item, winner bool, s Stamp) (*Item, error) {
	var p *etree.Element
	if !winner {
		var err error
		if p, err = v.payload(); err != nil {
			return nil, itemErr(merged, fmt.Errorf("conflict policy: %w", err))
		}
	}
	return resolve(merged, p, s, v.Sync.Deleted, nil)
}
