package merge

import (
	"context"

	"github.com/feedsync/go-feedsync/feedsync"
)

// Compile-time check that MemoryLocal is a Local.
var _ Local = (*MemoryLocal)(nil)

// MemoryLocal is a Local held in memory: a map from sync id to item plus the
// order items arrived in. It serves tests and small tools; Feeds does not
// need it, and stores implement Local themselves.
type MemoryLocal struct {
	items map[string]*feedsync.Item
	order []string
}

// NewMemoryLocal returns a MemoryLocal holding items (each with sx:sync), in
// that order. A later item with the id of an earlier one replaces it.
func NewMemoryLocal(items ...*feedsync.Item) *MemoryLocal {
	l := &MemoryLocal{items: map[string]*feedsync.Item{}}
	for _, it := range items {
		l.put(it)
	}
	return l
}

// Get returns the item with sync id id, or nil, nil.
func (l *MemoryLocal) Get(_ context.Context, id string) (*feedsync.Item, error) {
	return l.items[feedsync.NormalizeID(id)], nil
}

// Put stores item under its sync id; a new id goes after the others.
func (l *MemoryLocal) Put(_ context.Context, item *feedsync.Item, _ feedsync.Outcome) error {
	l.put(item)
	return nil
}

func (l *MemoryLocal) put(it *feedsync.Item) {
	id := feedsync.NormalizeID(it.ID())
	if _, ok := l.items[id]; !ok {
		l.order = append(l.order, id)
	}
	l.items[id] = it
}

// Items returns the items in the order their ids first arrived.
func (l *MemoryLocal) Items() []*feedsync.Item {
	out := make([]*feedsync.Item, 0, len(l.order))
	for _, id := range l.order {
		out = append(out, l.items[id])
	}
	return out
}

// Len returns the number of items.
func (l *MemoryLocal) Len() int { return len(l.order) }
