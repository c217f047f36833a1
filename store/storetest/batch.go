package storetest

import (
	"fmt"
	"testing"

	"github.com/feedsync/go-feedsync/feedsync"
	"github.com/feedsync/go-feedsync/store"
	"github.com/google/go-cmp/cmp"
)

// testBatch checks store.StatMany, store.PeerVersions and
// store.SetPeerVersions against the one-item methods, over more ids than
// one batch of the database stores holds: absent ids, an id twice, items
// with conflicts, anonymous and whenless versions, and the Tx's own
// uncommitted writes.
func testBatch(t *testing.T, s store.Store) {
	ctx := t.Context()
	items := corpus()
	items = append(items, conflicted("fence-1"))
	for i := range 600 {
		items = append(items, newItem(fmt.Sprintf("batch-%04d", i), "batch", "laptop", "09:00"))
	}
	putAll(t, s, items...)

	ids := []string{"no-such-item", items[0].ID()}
	for i, it := range items {
		ids = append(ids, it.ID())
		if i%7 == 0 {
			ids = append(ids, fmt.Sprintf("absent-%d", i))
		}
	}
	ids = append(ids, items[0].ID(), "")

	tx := begin(t, s, true)
	defer tx.Rollback()
	// A change of this Tx, not committed: both ways see it.
	put(t, tx, must(feedsync.Delete(items[1], stamp("phone", "15:00"))))

	check := func(what string) {
		t.Helper()
		stats, err := store.StatMany(ctx, tx, ids)
		if err != nil {
			t.Fatalf("%s: StatMany: %v", what, err)
		}
		if len(stats) != len(ids) {
			t.Fatalf("%s: StatMany returned %d stats for %d ids", what, len(stats), len(ids))
		}
		versions, err := store.PeerVersions(ctx, tx, "https://a.example/feed", ids)
		if err != nil {
			t.Fatalf("%s: PeerVersions: %v", what, err)
		}
		if len(versions) != len(ids) {
			t.Fatalf("%s: PeerVersions returned %d versions for %d ids", what, len(versions), len(ids))
		}
		for i, id := range ids {
			want, ok, err := tx.Stat(ctx, id)
			if err != nil {
				t.Fatal(err)
			}
			if !ok {
				want = store.ItemStat{}
			}
			if diff := cmp.Diff(want, stats[i]); diff != "" {
				t.Errorf("%s: StatMany, id %d %q (-Stat +StatMany):\n%s", what, i, id, diff)
			}
			v, ok, err := tx.PeerVersion(ctx, "https://a.example/feed", id)
			if err != nil {
				t.Fatal(err)
			}
			if !ok {
				v = store.Version{}
			}
			if diff := cmp.Diff(v, versions[i]); diff != "" {
				t.Errorf("%s: PeerVersions, id %d %q (-PeerVersion +PeerVersions):\n%s", what, i, id, diff)
			}
		}
	}
	check("no peer versions")

	// Peer versions: one written alone, then overwritten by the batch;
	// the batch names an id twice (the later one wins, as with two
	// SetPeerVersion calls) and leaves some ids out.
	anon := store.VersionOf(corpus()[4])
	if err := tx.SetPeerVersion(ctx, "https://a.example/feed", items[2].ID(), anon); err != nil {
		t.Fatal(err)
	}
	var setIDs []string
	var setVs []store.Version
	for i, it := range items {
		if i%5 == 3 {
			continue
		}
		setIDs = append(setIDs, it.ID())
		setVs = append(setVs, store.VersionOf(it))
	}
	setIDs = append(setIDs, items[0].ID())
	setVs = append(setVs, anon)
	if err := store.SetPeerVersions(ctx, tx, "https://a.example/feed", setIDs, setVs); err != nil {
		t.Fatal(err)
	}
	if err := store.SetPeerVersions(ctx, tx, "https://b.example/feed", setIDs[:3], setVs[:3]); err != nil {
		t.Fatal(err)
	}
	if err := store.SetPeerVersions(ctx, tx, "https://a.example/feed", nil, nil); err != nil {
		t.Fatal(err)
	}
	if err := store.SetPeerVersions(ctx, tx, "https://a.example/feed", setIDs[:2], setVs[:1]); err == nil {
		t.Error("SetPeerVersions of 2 ids and 1 version: no error")
	}
	check("in the writing Tx")
	for i, id := range setIDs {
		want := setVs[i]
		if id == items[0].ID() {
			want = anon
		}
		got, ok, err := tx.PeerVersion(ctx, "https://a.example/feed", id)
		if err != nil || !ok || !got.Equal(want) {
			t.Errorf("PeerVersion(%q) after SetPeerVersions = %+v, %v, %v; want %+v", id, got, ok, err, want)
		}
	}
	commit(t, tx)

	tx = begin(t, s, false)
	defer tx.Rollback()
	check("committed")
}
