package feedsync

import (
	"errors"
	"fmt"
)

// DefaultMaxJump is Trust.MaxJump's default: as many updates as one item's
// history may hold entries (DefaultMaxHistory).
const DefaultMaxJump = DefaultMaxHistory

// ErrUntrusted is returned by Trust.Check for a version the sender may not
// write (FS-TRUST-1). Servers answer it as "forbidden" for that item.
var ErrUntrusted = errors.New("feedsync: not accepted from this sender")

// Trust is what an endpoint that authenticates its senders lets one of
// them write (FS-TRUST-1, our reading; the spec trusts every by). Without
// it, one client could forge another's history entries (alice sends an
// entry by="bob" with a high sequence, and bob's next genuine edit is
// silently subsumed), or set updates near FS-TYPE-2's ceiling, which
// freezes the item for every endpoint: no update can follow.
//
// The zero value is no one's trust: set Principal.
type Trust struct {
	// Principal is the sender's authenticated endpoint identifier: the by
	// every new history entry it sends must carry.
	Principal string
	// Relay lets the sender bring entries by other endpoints, for a peer
	// server that forwards its own clients' edits. MaxJump still applies.
	// Default: false.
	Relay bool
	// MaxJump bounds how far a version's updates may run past the highest
	// updates of the local versions (0 when there is no local item); each
	// update adds one. Default: DefaultMaxJump.
	MaxJump int64
}

// Check returns nil when the sender may merge incoming into local (nil
// when there is no local item), and otherwise an *ItemError wrapping
// ErrUntrusted that says which entry or value it may not write:
//
//   - every history entry of every incoming version (the winner and each
//     conflict copy) that no local version's history subsumes
//     (FS-SUBSUME-1) is new, and must have the sender's Principal as by,
//     unless Relay is set; an anonymous new entry is refused too, as it
//     cannot be bound to anyone;
//   - no incoming version's updates may exceed the local versions' highest
//     updates by more than MaxJump.
//
// Entries the local item already subsumes are history the sender merely
// passes on, whoever made them. Sparse purging (FS-PURGE-1) may leave fewer
// new entries than the jump in updates: that is allowed.
func (t Trust) Check(local, incoming *Item) error {
	if incoming == nil || incoming.Sync == nil {
		return nil
	}
	maxJump := t.MaxJump
	if maxJump <= 0 {
		maxJump = DefaultMaxJump
	}
	known := map[string]int64{}  // normalised by → highest local sequence
	anon := map[anonEntry]bool{} // anonymous local entries
	var top int64                // highest local updates
	if local != nil && local.Sync != nil {
		for _, v := range versions(local, nil) {
			top = max(top, v.Sync.Updates)
			for _, h := range v.Sync.History {
				if h.By == "" {
					anon[anonEntry{h.Sequence, h.When.Unix()}] = true
					continue
				}
				k := normBy(h.By)
				known[k] = max(known[k], h.Sequence)
			}
		}
	}
	for _, v := range versions(incoming, nil) {
		if u := v.Sync.Updates; u > top+maxJump {
			return itemErr(incoming, fmt.Errorf("%w: updates %d runs %d past this endpoint's %d, more than the bound of %d (FS-TRUST-1)", ErrUntrusted, u, u-top, top, maxJump))
		}
		for _, h := range v.Sync.History {
			switch {
			case h.By == "":
				if !anon[anonEntry{h.Sequence, h.When.Unix()}] {
					return itemErr(incoming, fmt.Errorf("%w: new anonymous history entry %s cannot be bound to %q (FS-TRUST-1)", ErrUntrusted, h, t.Principal))
				}
			case h.Sequence <= known[normBy(h.By)]:
				// Subsumed: history passed on.
			case !t.Relay && !sameBy(h.By, t.Principal):
				return itemErr(incoming, fmt.Errorf("%w: new history entry %s is not by %q, the sender (FS-TRUST-1)", ErrUntrusted, h, t.Principal))
			}
		}
	}
	return nil
}

// anonEntry is the identity of an anonymous history entry (FS-HIST-4).
type anonEntry struct {
	seq  int64
	when int64
}
