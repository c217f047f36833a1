package collection

import (
	"context"
	"errors"
	"fmt"
	"iter"
	"time"

	"github.com/beevik/etree"

	"github.com/feedsync/go-feedsync/converter"
	"github.com/feedsync/go-feedsync/feedsync"
	"github.com/feedsync/go-feedsync/store"
)

// Errors returned by a Collection; each is wrapped with the key it concerns.
var (
	// ErrNotFound is returned by Delete and Resolve for a key the store has
	// no live item for (never created, or deleted).
	ErrNotFound = errors.New("collection: no such item")
)

// Collection is a typed view of a store: values of type V under keys of type
// K. Each method runs in one transaction of its own and applies the spec's
// rules underneath, stamped with By and the current time:
//
//   - Put creates the item the first time (FS-CREATE), updates it after
//     (FS-UPDATE), undeletes a tombstone (FS-UPDATE-5), and writes nothing
//     when the value gives the payload the item already has (FS-UPDATE-6);
//   - Delete leaves a tombstone (FS-DELETE-1, FS-DELETE-2);
//   - Conflicts lists the items a merge left with conflict copies
//     (FS-CONFLICT), each version decoded;
//   - Resolve settles them with the chosen value (FS-RESOLVE).
//
// Items sent by peers are merged into the store as usual (package consumer,
// httpfeed); the collection reads what the merges left.
//
// A Collection is safe for concurrent use if its store is. Its fields must
// not change once it is in use.
type Collection[K comparable, V any] struct {
	// Store holds the items.
	Store store.Store
	// Items converts values to item payloads and back.
	Items converter.ItemConverter[V]
	// IDs maps keys to sync ids and back.
	IDs converter.IDConverter[K]
	// By is this endpoint's identifier, written in the history entry of
	// every change (FS-BY-1). It must be set: two endpoints that share one
	// never converge (FS-CONFLICT-6).
	By string
	// Format is the format of the items Put creates. Default: feedsync.RSS.
	Format feedsync.Format
	// Now gives the time of a change. Default: time.Now.
	Now func() time.Time
}

// Entry is a live item of a Collection.
type Entry[K comparable, V any] struct {
	Key   K
	Value V
	// Conflicted is true when a merge left conflict copies beside this
	// value: Conflicts lists them.
	Conflicted bool
}

// Conflict is an item with conflicting versions (FS-CONFLICT-1): the winner
// the merges picked (Versions[0], what Get returns) and the conflict copies
// after it. Every endpoint holds the same Versions, in an order that may
// differ after the first.
type Conflict[K comparable, V any] struct {
	Key      K
	Versions []Version[V]
}

// Version is one version of a conflicted item. A deletion (Deleted) holds
// the value the item had when it was deleted (FS-DELETE-2).
type Version[V any] struct {
	Value   V
	Deleted bool
	// By and When are the version's latest history entry: who made it (the
	// by value, "" when anonymous) and when (FS-HIST).
	By   string
	When time.Time
	// Updates counts the changes behind it (sx:sync/@updates).
	Updates int64
}

func (c *Collection[K, V]) stamp() feedsync.Stamp {
	now := time.Now
	if c.Now != nil {
		now = c.Now
	}
	return feedsync.Stamp{By: c.By, When: now()}
}

func (c *Collection[K, V]) format() feedsync.Format {
	if c.Format == feedsync.Atom {
		return feedsync.Atom
	}
	return feedsync.RSS
}

// edit runs fn on the item of key in a writable transaction and puts what
// fn returns, unless it is nil.
func (c *Collection[K, V]) edit(ctx context.Context, op string, key K, fn func(id string, it *feedsync.Item) (*feedsync.Item, error)) error {
	fail := func(err error) error { return fmt.Errorf("collection: %s %v: %w", op, key, err) }
	if c.By == "" {
		return fail(errors.New("the collection has no By (FS-BY-1)"))
	}
	id, err := c.IDs.SyncID(key)
	if err != nil {
		return fail(err)
	}
	tx, err := c.Store.Begin(ctx, true)
	if err != nil {
		return fail(err)
	}
	defer tx.Rollback()
	it, err := tx.Get(ctx, id)
	if err != nil {
		return fail(err)
	}
	out, err := fn(id, it)
	if err != nil {
		return fail(err)
	}
	if out == nil {
		return nil
	}
	if _, err := tx.Put(ctx, out); err != nil {
		return fail(err)
	}
	if err := tx.Commit(); err != nil {
		return fail(err)
	}
	return nil
}

// Put stores v under key: a new item the first time (FS-CREATE-1..3), an
// update after (FS-UPDATE-1..4), an undeletion when key was deleted
// (FS-UPDATE-5). When v gives the payload the live item already has,
// nothing is written: unchanged data is not an update (FS-UPDATE-6).
func (c *Collection[K, V]) Put(ctx context.Context, key K, v V) error {
	return c.edit(ctx, "put", key, func(id string, it *feedsync.Item) (*feedsync.Item, error) {
		payload, err := c.Items.ToPayload(id, v)
		if err != nil {
			return nil, err
		}
		if it == nil {
			return feedsync.Create(c.format(), payload, id, c.stamp(), false)
		}
		if !it.Sync.Deleted {
			same, err := samePayload(it, payload)
			if err != nil || same {
				return nil, err
			}
		}
		return feedsync.Update(it, payload, c.stamp())
	})
}

// samePayload reports whether payload is the payload of it.
func samePayload(it *feedsync.Item, payload *etree.Element) (bool, error) {
	have, err := it.Digest()
	if err != nil {
		return false, err
	}
	want, err := feedsync.NewItem(it.Format(), payload).Digest()
	if err != nil {
		return false, err
	}
	return have == want, nil
}

// Delete deletes the item of key: it becomes a tombstone that carries the
// deletion to every peer (FS-DELETE-1..3). ErrNotFound when there is no live
// item.
func (c *Collection[K, V]) Delete(ctx context.Context, key K) error {
	return c.edit(ctx, "delete", key, func(_ string, it *feedsync.Item) (*feedsync.Item, error) {
		if it == nil || it.Sync.Deleted {
			return nil, ErrNotFound
		}
		return feedsync.Delete(it, c.stamp())
	})
}

// Resolve settles every conflict of the item of key with chosen as its
// value (FS-RESOLVE-1..4): the result subsumes every version that was in
// conflict, so peers drop them when they merge it (FS-RESOLVE-6).
// feedsync.ErrNoConflicts when the item has none; ErrNotFound when there
// is no item.
func (c *Collection[K, V]) Resolve(ctx context.Context, key K, chosen V) error {
	return c.edit(ctx, "resolve", key, func(id string, it *feedsync.Item) (*feedsync.Item, error) {
		if it == nil {
			return nil, ErrNotFound
		}
		payload, err := c.Items.ToPayload(id, chosen)
		if err != nil {
			return nil, err
		}
		return feedsync.Resolve(it, payload, c.stamp(), nil)
	})
}

// ResolveDeleted settles every conflict of the item of key with a
// deletion, as when the version kept is a tombstone (FS-RESOLVE-1).
func (c *Collection[K, V]) ResolveDeleted(ctx context.Context, key K) error {
	return c.edit(ctx, "resolve", key, func(id string, it *feedsync.Item) (*feedsync.Item, error) {
		if it == nil {
			return nil, ErrNotFound
		}
		n := len(it.Sync.Conflicts)
		if n == 0 {
			return nil, feedsync.ErrNoConflicts
		}
		if it.Sync.Deleted {
			return feedsync.ResolveKeep(it, 0, c.stamp())
		}
		for i, cp := range it.Sync.Conflicts {
			if cp != nil && cp.Sync != nil && cp.Sync.Deleted {
				return feedsync.ResolveKeep(it, i+1, c.stamp())
			}
		}
		r, err := feedsync.Resolve(it, nil, c.stamp(), nil)
		if err != nil {
			return nil, err
		}
		return feedsync.Delete(r, c.stamp())
	})
}

// Get returns the value of key, and false when there is no live item.
// After a conflict it is the winner's value (Conflicts lists the others).
func (c *Collection[K, V]) Get(ctx context.Context, key K) (V, bool, error) {
	var zero V
	id, err := c.IDs.SyncID(key)
	if err != nil {
		return zero, false, fmt.Errorf("collection: get %v: %w", key, err)
	}
	tx, err := c.Store.Begin(ctx, false)
	if err != nil {
		return zero, false, fmt.Errorf("collection: get %v: %w", key, err)
	}
	defer tx.Rollback()
	it, err := tx.Get(ctx, id)
	if err != nil || it == nil || it.Sync.Deleted {
		return zero, false, err
	}
	v, err := converter.FromItem(c.Items, it)
	if err != nil {
		return zero, false, fmt.Errorf("collection: get %v: %w", key, err)
	}
	return v, true, nil
}

// All returns the live items, in the order of their latest change (oldest
// first). Items whose sync id is not the id of a key of type K (IDs.AppID
// refuses it: an item another application named) are left out, here and
// by Conflicts. It reads one transaction's snapshot; the loop may not change the
// collection (use the keys afterwards).
func (c *Collection[K, V]) All(ctx context.Context) iter.Seq2[Entry[K, V], error] {
	return func(yield func(Entry[K, V], error) bool) {
		tx, err := c.Store.Begin(ctx, false)
		if err != nil {
			yield(Entry[K, V]{}, fmt.Errorf("collection: all: %w", err))
			return
		}
		defer tx.Rollback()
		for it, err := range tx.All(ctx) {
			if err != nil {
				yield(Entry[K, V]{}, fmt.Errorf("collection: all: %w", err))
				return
			}
			if it.Sync.Deleted {
				continue
			}
			e, err := c.entry(it)
			if errors.Is(err, converter.ErrID) {
				continue // not one of this collection's keys
			}
			if !yield(e, err) || err != nil {
				return
			}
		}
	}
}

func (c *Collection[K, V]) entry(it *feedsync.Item) (Entry[K, V], error) {
	key, err := c.IDs.AppID(it.ID())
	if err != nil {
		return Entry[K, V]{}, fmt.Errorf("collection: item %s: %w", it.ID(), err)
	}
	v, err := converter.FromItem(c.Items, it)
	if err != nil {
		return Entry[K, V]{}, fmt.Errorf("collection: %w", err)
	}
	return Entry[K, V]{Key: key, Value: v, Conflicted: len(it.Sync.Conflicts) > 0}, nil
}

// Conflicts returns the items with conflicting versions, each version
// decoded, in the order of their latest change. Only those items are
// decoded: the others are skipped on their stored conflict count.
func (c *Collection[K, V]) Conflicts(ctx context.Context) ([]Conflict[K, V], error) {
	tx, err := c.Store.Begin(ctx, false)
	if err != nil {
		return nil, fmt.Errorf("collection: conflicts: %w", err)
	}
	defer tx.Rollback()
	var out []Conflict[K, V]
	for st, err := range tx.Stats(ctx, 0) {
		if err != nil {
			return nil, fmt.Errorf("collection: conflicts: %w", err)
		}
		if st.Conflicts == 0 {
			continue
		}
		it, err := tx.Get(ctx, st.ID)
		if err != nil {
			return nil, fmt.Errorf("collection: conflicts: %w", err)
		}
		if it == nil {
			continue
		}
		cf, err := c.conflict(it)
		if errors.Is(err, converter.ErrID) {
			continue // not one of this collection's keys
		}
		if err != nil {
			return nil, err
		}
		out = append(out, cf)
	}
	return out, nil
}

// Conflict returns the conflict of key, and false when the item has no
// conflict copies (or there is no item).
func (c *Collection[K, V]) Conflict(ctx context.Context, key K) (Conflict[K, V], bool, error) {
	id, err := c.IDs.SyncID(key)
	if err != nil {
		return Conflict[K, V]{}, false, fmt.Errorf("collection: conflict %v: %w", key, err)
	}
	tx, err := c.Store.Begin(ctx, false)
	if err != nil {
		return Conflict[K, V]{}, false, fmt.Errorf("collection: conflict %v: %w", key, err)
	}
	defer tx.Rollback()
	it, err := tx.Get(ctx, id)
	if err != nil || it == nil || len(it.Sync.Conflicts) == 0 {
		return Conflict[K, V]{}, false, err
	}
	cf, err := c.conflict(it)
	return cf, err == nil, err
}

func (c *Collection[K, V]) conflict(it *feedsync.Item) (Conflict[K, V], error) {
	key, err := c.IDs.AppID(it.ID())
	if err != nil {
		return Conflict[K, V]{}, fmt.Errorf("collection: item %s: %w", it.ID(), err)
	}
	cf := Conflict[K, V]{Key: key}
	for _, v := range append([]*feedsync.Item{it}, it.Sync.Conflicts...) {
		if v == nil || v.Sync == nil {
			continue
		}
		ver, err := c.version(v)
		if err != nil {
			return Conflict[K, V]{}, fmt.Errorf("collection: conflict %v: %w", key, err)
		}
		cf.Versions = append(cf.Versions, ver)
	}
	return cf, nil
}

func (c *Collection[K, V]) version(it *feedsync.Item) (Version[V], error) {
	top := it.Sync.Top()
	ver := Version[V]{Deleted: it.Sync.Deleted, By: top.By, When: top.When, Updates: it.Sync.Updates}
	// A tombstone keeps its last payload (FS-DELETE-2): decoded too, so a
	// page can say what was deleted.
	v, err := converter.FromItem(c.Items, it)
	if err != nil {
		return Version[V]{}, err
	}
	ver.Value = v
	return ver, nil
}
