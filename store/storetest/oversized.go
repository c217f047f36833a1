package storetest

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/feedsync/go-feedsync/feedsync"
	"github.com/feedsync/go-feedsync/store"
)

// Oversized returns items beyond the reader's default limits (FS-ROBUST-4),
// as an older version of this module could store them: "copies-1" holds
// DefaultMaxConflicts+1 conflict copies, "history-1" DefaultMaxHistory+1
// history entries of two endpoints (sparse purging leaves two).
func Oversized() (copies, history *feedsync.Item) {
	base := newItem("copies-1", "Base", "origin", "08:00")
	w := update(base, "Winner", "laptop", "09:00")
	s := w.Sync.Clone()
	for i := range feedsync.DefaultMaxConflicts + 1 {
		s.Conflicts = append(s.Conflicts, update(base, fmt.Sprint("Copy ", i), fmt.Sprintf("peer%d", i), "09:00"))
	}
	w.Sync = s
	h := newItem("history-1", "Long", "laptop", "08:00")
	hs := h.Sync.Clone()
	n := feedsync.DefaultMaxHistory + 1
	hs.Updates = int64(n)
	hs.History = make([]feedsync.History, n)
	for i := range n {
		hs.History[i] = feedsync.History{Sequence: int64(n - i), By: []string{"laptop", "phone"}[i%2], When: at("08:00")}
	}
	h.Sync = hs
	return w, h
}

// RunOversized checks reads and repairs of items stored beyond the
// reader's default limits (FS-ROBUST-6). plant stores an item in a
// writable Tx without the limit check of Put (PlantSQL for the database
// stores), as an older program could. Normal reads of such an item fail
// with store.ErrOversized naming the item, the limit and the command that
// repairs it; Compact repairs the history that sparse purging brings under
// the limits (FS-PURGE-1) and lists the item whose conflict copies it may
// not drop; a resolution read with store.GetForRepair brings that one
// under them; afterwards the store serves every item again.
func RunOversized(t *testing.T, s store.Store, plant func(ctx context.Context, tx store.Tx, it *feedsync.Item) error) {
	ctx := t.Context()
	copies, history := Oversized()
	ok := newItem("ok-1", "Fine", "laptop", "08:00")
	tx := begin(t, s, true)
	put(t, tx, ok)
	for _, it := range []*feedsync.Item{copies, history} {
		if err := plant(ctx, tx, it); err != nil {
			t.Fatal(err)
		}
	}
	commit(t, tx)

	// The store checks reads only where it parses XML (the database
	// stores); the others hold items decoded and read them as they are.
	tx = begin(t, s, false)
	_, strict := tx.(store.RepairReader)
	tx.Rollback()
	want := map[string][]string{
		"copies-1":  {`item "copies-1"`, "1001 conflict copies, more than the limit of 1000", "feedsync resolve --store DSN --id copies-1 --keep 0"},
		"history-1": {`item "history-1"`, "the item holds 10001 sx:history entries, more than the limit of 10000", "feedsync compact --store DSN", "FS-PURGE-1"},
	}
	checkRead := func(what string, err error, id string) {
		t.Helper()
		if !errors.Is(err, store.ErrOversized) || errors.Is(err, feedsync.ErrLimit) {
			t.Errorf("%s: %v, want store.ErrOversized (and not feedsync.ErrLimit: the input is not at fault)", what, err)
			return
		}
		for _, w := range want[id] {
			if !strings.Contains(err.Error(), w) {
				t.Errorf("%s: %v\nwant it to say %q", what, err, w)
			}
		}
	}
	if strict {
		for id := range want {
			tx := begin(t, s, false)
			_, err := tx.Get(ctx, id)
			checkRead("Get "+id, err, id)
			tx.Rollback()
		}
		tx := begin(t, s, false)
		var err error
		for _, err = range tx.Changes(ctx, 0) {
			if err != nil {
				break
			}
		}
		checkRead("Changes", err, "copies-1")
		tx.Rollback()
		tx = begin(t, s, false)
		if xr, ok := tx.(store.XMLReader); ok {
			var err error
			for _, err = range xr.ChangesXML(ctx, 0) {
				if err != nil {
					break
				}
			}
			checkRead("ChangesXML", err, "copies-1")
		}
		tx.Rollback()
	}

	// Compact: the history is repaired in place, the conflict copies are
	// not dropped but listed with the command that settles them.
	res, err := store.Compact(ctx, s, store.CompactOptions{})
	if err != nil {
		t.Fatalf("compact: %v", err)
	}
	if len(res.Oversized) != 1 {
		t.Fatalf("compact listed %d oversized items, want copies-1: %v", len(res.Oversized), res.Oversized)
	}
	checkRead("compact's list", res.Oversized[0], "copies-1")
	tx = begin(t, s, false)
	h := get(t, tx, "history-1")
	if n := len(h.Sync.History); n != 2 || h.Sync.Updates != history.Sync.Updates || !store.VersionOf(h).Equal(store.VersionOf(history)) {
		t.Errorf("history-1 after compact: %d entries, updates %d, version %+v; want 2, %d and the version kept (FS-PURGE-3)",
			n, h.Sync.Updates, store.VersionOf(h), history.Sync.Updates)
	}
	tx.Rollback()

	// Resolving, with the item read past the limits, repairs the other.
	tx = begin(t, s, true)
	it, err := store.GetForRepair(ctx, tx, "copies-1")
	if err != nil {
		t.Fatalf("GetForRepair: %v", err)
	}
	if n := len(it.Sync.Conflicts); n != feedsync.DefaultMaxConflicts+1 {
		t.Fatalf("GetForRepair: %d conflict copies, want %d", n, feedsync.DefaultMaxConflicts+1)
	}
	r, err := feedsync.ResolveKeep(it, 0, stamp("tablet", "12:00"))
	if err != nil {
		t.Fatal(err)
	}
	put(t, tx, r)
	commit(t, tx)

	// The store serves every item again, and compaction finds nothing left.
	tx = begin(t, s, false)
	var ids []string
	for c, err := range tx.Changes(ctx, 0) {
		if err != nil {
			t.Fatalf("changes after the repair: %v", err)
		}
		ids = append(ids, c.Item.ID())
	}
	if xr, ok := tx.(store.XMLReader); ok {
		for _, err := range xr.ChangesXML(ctx, 0) {
			if err != nil {
				t.Fatalf("ChangesXML after the repair: %v", err)
			}
		}
	}
	got := get(t, tx, "copies-1")
	if len(got.Sync.Conflicts) != 0 || !feedsync.SubsumedBy(copies.Sync.Conflicts[feedsync.DefaultMaxConflicts].Sync, got.Sync) {
		t.Errorf("copies-1 after resolve: %d conflict copies; want none, and every copy subsumed (FS-RESOLVE-6)", len(got.Sync.Conflicts))
	}
	tx.Rollback()
	if strings.Join(ids, " ") != "ok-1 history-1 copies-1" {
		t.Errorf("items after the repair: %v", ids)
	}
	res, err = store.Compact(ctx, s, store.CompactOptions{})
	if err != nil || len(res.Oversized) != 0 {
		t.Errorf("compact after the repair: %v, oversized %v", err, res.Oversized)
	}
}
