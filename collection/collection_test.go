package collection_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/feedsync/go-feedsync/collection"
	"github.com/feedsync/go-feedsync/converter"
	"github.com/feedsync/go-feedsync/feedsync"
	"github.com/feedsync/go-feedsync/internal/feedtest"
	"github.com/feedsync/go-feedsync/store"
)

func newCollection(t *testing.T, by string) *collection.Collection[string, Task] {
	t.Helper()
	st := store.NewMemory()
	t.Cleanup(func() { st.Close() })
	hour := 0
	return &collection.Collection[string, Task]{
		Store: st, Items: converter.Struct[Task]{}, IDs: converter.IDs[string]{}, By: by,
		Now: func() time.Time { hour++; return time.Date(2026, 1, 1, hour, 0, 0, 0, time.UTC) },
	}
}

// FS-CREATE-1..2, FS-UPDATE-1..3, FS-UPDATE-6: Put creates, then updates
// with a new history entry stamped by the collection's By, and writes
// nothing for an unchanged value.
func TestPutCreateUpdateUnchanged(t *testing.T) {
	ctx := context.Background()
	c := newCollection(t, "laptop")
	if err := c.Put(ctx, "task 1", Task{Title: "a"}); err != nil {
		t.Fatal(err)
	}
	it := feedtest.Get(t, c.Store, "task%201")
	if it == nil || it.Sync.Updates != 1 || len(it.Sync.History) != 1 || it.Sync.Top().By != "laptop" {
		t.Fatalf("after the first Put: %+v", it.Sync)
	}
	seq := feedtest.LastSeq(t, c.Store)
	if err := c.Put(ctx, "task 1", Task{Title: "a"}); err != nil {
		t.Fatal(err)
	}
	if got := feedtest.LastSeq(t, c.Store); got != seq {
		t.Errorf("an unchanged Put wrote a change (seq %d, want %d): FS-UPDATE-6", got, seq)
	}
	if err := c.Put(ctx, "task 1", Task{Title: "b", Done: true}); err != nil {
		t.Fatal(err)
	}
	it = feedtest.Get(t, c.Store, "task%201")
	if it.Sync.Updates != 2 || len(it.Sync.History) != 2 || it.Sync.Top().Sequence != 2 {
		t.Errorf("after an update: updates %d, history %v", it.Sync.Updates, it.Sync.History)
	}
	if want := time.Date(2026, 1, 1, 2, 0, 0, 0, time.UTC); !it.Sync.Top().When.Equal(want) {
		t.Errorf("stamp when = %v, want %v", it.Sync.Top().When, want)
	}
	got, ok, err := c.Get(ctx, "task 1")
	if err != nil || !ok || got != (Task{Title: "b", Done: true}) {
		t.Errorf("Get = %+v, %v, %v", got, ok, err)
	}
}

// FS-DELETE-1..2, FS-UPDATE-5: Delete leaves a tombstone that Get and All
// skip; a Put afterwards undeletes it as an update, not a new item.
func TestDeleteUndelete(t *testing.T) {
	ctx := context.Background()
	c := newCollection(t, "laptop")
	if err := c.Delete(ctx, "x"); !errors.Is(err, collection.ErrNotFound) {
		t.Errorf("Delete of a missing key: %v, want ErrNotFound", err)
	}
	if err := c.Put(ctx, "x", Task{Title: "a"}); err != nil {
		t.Fatal(err)
	}
	if err := c.Delete(ctx, "x"); err != nil {
		t.Fatal(err)
	}
	if err := c.Delete(ctx, "x"); !errors.Is(err, collection.ErrNotFound) {
		t.Errorf("Delete of a tombstone: %v, want ErrNotFound", err)
	}
	it := feedtest.Get(t, c.Store, "x")
	if !it.Sync.Deleted || it.Sync.Updates != 2 {
		t.Fatalf("tombstone: %+v", it.Sync)
	}
	if _, ok, err := c.Get(ctx, "x"); ok || err != nil {
		t.Errorf("Get of a tombstone: %v, %v", ok, err)
	}
	for e, err := range c.All(ctx) {
		t.Errorf("All lists %+v, %v after the only item was deleted", e, err)
	}
	if err := c.Put(ctx, "x", Task{Title: "a"}); err != nil {
		t.Fatal(err)
	}
	it = feedtest.Get(t, c.Store, "x")
	if it.Sync.Deleted || it.Sync.Updates != 3 {
		t.Errorf("undelete: %+v, want a live item with updates 3", it.Sync)
	}
}

// FS-CONFLICT-1, FS-RESOLVE-1..4, FS-RESOLVE-6: a conflict lists every
// version decoded; Resolve removes the conflict, and the peer that merges
// the resolution drops it too. Resolve of an item without conflicts fails.
func TestConflictsResolve(t *testing.T) {
	ctx := context.Background()
	a, b := newCollection(t, "a"), newCollection(t, "b")
	if err := a.Put(ctx, "k", Task{Title: "base"}); err != nil {
		t.Fatal(err)
	}
	if err := a.Resolve(ctx, "k", Task{}); !errors.Is(err, feedsync.ErrNoConflicts) {
		t.Errorf("Resolve without conflicts: %v, want ErrNoConflicts", err)
	}
	if err := a.Resolve(ctx, "nope", Task{}); !errors.Is(err, collection.ErrNotFound) {
		t.Errorf("Resolve of a missing key: %v, want ErrNotFound", err)
	}
	mustSync(t, a, b)
	if err := a.Put(ctx, "k", Task{Title: "from a"}); err != nil {
		t.Fatal(err)
	}
	if err := b.Delete(ctx, "k"); err != nil {
		t.Fatal(err)
	}
	mustSync(t, b, a)
	cs, err := a.Conflicts(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if len(cs) != 1 || cs[0].Key != "k" || len(cs[0].Versions) != 2 {
		t.Fatalf("Conflicts = %+v", cs)
	}
	var deleted, live int
	for _, v := range cs[0].Versions {
		if v.Deleted {
			deleted++
			if v.Value.Title != "base" || v.By != "b" {
				t.Errorf("tombstone version = %+v, want the payload it had (FS-DELETE-2) by b", v)
			}
		} else if v.Value.Title == "from a" && v.By == "a" {
			live++
		}
	}
	if deleted != 1 || live != 1 {
		t.Errorf("versions = %+v", cs[0].Versions)
	}
	one, ok, err := a.Conflict(ctx, "k")
	if err != nil || !ok || len(one.Versions) != 2 {
		t.Errorf("Conflict(k) = %+v, %v, %v", one, ok, err)
	}
	if err := a.ResolveDeleted(ctx, "k"); err != nil {
		t.Fatal(err)
	}
	if cs, err := a.Conflicts(ctx); err != nil || len(cs) != 0 {
		t.Errorf("after ResolveDeleted: %+v, %v", cs, err)
	}
	if _, ok, _ := a.Get(ctx, "k"); ok {
		t.Error("ResolveDeleted left a live item")
	}
	mustSync(t, a, b)
	if cs, err := b.Conflicts(ctx); err != nil || len(cs) != 0 {
		t.Errorf("peer after merging the resolution: %+v, %v (FS-RESOLVE-6)", cs, err)
	}
	if a, b := feedtest.Manifest(t, a.Store), feedtest.Manifest(t, b.Store); a.Sum() != b.Sum() {
		t.Error("the endpoints did not converge")
	}
}

// A collection needs a by (FS-BY-1) and refuses keys without a sync id.
func TestMisuse(t *testing.T) {
	ctx := context.Background()
	c := newCollection(t, "")
	if err := c.Put(ctx, "k", Task{}); err == nil {
		t.Error("Put without By succeeded")
	}
	c.By = "laptop"
	if err := c.Put(ctx, "", Task{}); !errors.Is(err, converter.ErrID) {
		t.Errorf("Put with an empty key: %v, want ErrID", err)
	}
}

func mustSync(t *testing.T, from, to *collection.Collection[string, Task]) {
	t.Helper()
	if err := sync(context.Background(), from.Store, to.Store, from.By); err != nil {
		t.Fatal(err)
	}
}
