package producer_test

import (
	"bytes"
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/feedsync/go-feedsync/feedsync"
	"github.com/feedsync/go-feedsync/producer"
	"github.com/feedsync/go-feedsync/store"
)

func manifest(t testing.TB, items ...*feedsync.Item) producer.Manifest {
	t.Helper()
	st := store.NewMemory()
	put(t, st, items...)
	m, err := producer.StoreManifest(context.Background(), st)
	if err != nil {
		t.Fatal(err)
	}
	return m
}

type diffLine struct {
	ID   string
	What string
}

func lines(ds []producer.Difference) []diffLine {
	var out []diffLine
	for _, d := range ds {
		out = append(out, diffLine{d.ID, d.What.String()})
	}
	return out
}

// TestDiff checks that Diff names exactly the items that differ and how:
// missing on one side, another winner, a tombstone against a live item,
// another conflict set, another payload under the same version.
func TestDiff(t *testing.T) {
	base := create(t, "x", "laptop", 1)
	edited := update(t, base, "phone", 2)
	deleted := must(feedsync.Delete(base, stamp("phone", 2)))
	fence := conflicted(t, "fence-1")
	resolved := must(feedsync.ResolveKeep(fence, 0, stamp("tablet", 20)))
	// Same metadata, other payload: what an anonymous collision or an edit
	// without an update (FS-UPDATE-6) leaves behind.
	twin := must(feedsync.Create(feedsync.Atom, entry("another title"), "x", stamp("laptop", 1), false))
	// The fence conflict with its winner's metadata but without its copies.
	fenceBare := fence.Sync.Clone()
	fenceBare.Conflicts = nil
	fenceWinner := must(feedsync.Create(feedsync.Atom, entry("w"), "fence-1", stamp("phone", 0), false))
	fenceWinner.Sync = fenceBare
	for _, tc := range []struct {
		name string
		a, b []*feedsync.Item
		want []diffLine
	}{
		{"same", []*feedsync.Item{base, fence}, []*feedsync.Item{fence, base}, nil},
		{"only in a", []*feedsync.Item{base, fence}, []*feedsync.Item{fence}, []diffLine{{"x", "only in a"}}},
		{"only in b", []*feedsync.Item{fence}, []*feedsync.Item{base, fence}, []diffLine{{"x", "only in b"}}},
		{"winner", []*feedsync.Item{base}, []*feedsync.Item{edited}, []diffLine{{"x", "winner"}}},
		{"deleted", []*feedsync.Item{base}, []*feedsync.Item{deleted}, []diffLine{{"x", "winner, deleted"}}},
		{"resolved", []*feedsync.Item{fence}, []*feedsync.Item{resolved}, []diffLine{{"fence-1", "winner, conflicts"}}},
		{"conflict set", []*feedsync.Item{fence}, []*feedsync.Item{fenceWinner}, []diffLine{{"fence-1", "conflicts"}}},
		{"payload", []*feedsync.Item{base}, []*feedsync.Item{twin}, []diffLine{{"x", "payload"}}},
		{"several", []*feedsync.Item{base, fence}, []*feedsync.Item{resolved, create(t, "y", "phone", 3)},
			[]diffLine{{"fence-1", "winner, conflicts"}, {"x", "only in a"}, {"y", "only in b"}}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			a, b := manifest(t, tc.a...), manifest(t, tc.b...)
			got := producer.Diff(a, b)
			if diff := cmp.Diff(tc.want, lines(got)); diff != "" {
				t.Errorf("Diff (-want +got):\n%s", diff)
			}
			if same := a.Sum() == b.Sum(); same != (len(tc.want) == 0) {
				t.Errorf("equal sums = %v, want %v", same, len(tc.want) == 0)
			}
			for _, d := range got {
				if !strings.Contains(d.String(), d.ID) {
					t.Errorf("description %q does not name the item", d)
				}
			}
		})
	}
}

// TestFeedManifest checks that a feed written from a store has the store's
// manifest, so verify can compare a feed file with a store.
func TestFeedManifest(t *testing.T) {
	ctx := context.Background()
	for name, open := range stores(t) {
		t.Run(name, func(t *testing.T) {
			st := open(t)
			put(t, st, create(t, "a-1", "laptop", 1), conflicted(t, "fence-1"),
				must(feedsync.Delete(create(t, "gone-1", "laptop", 1), stamp("phone", 2))))
			var buf bytes.Buffer
			if _, err := producer.Produce(ctx, st, "", &buf, producer.Options{Format: feedsync.Atom}); err != nil {
				t.Fatal(err)
			}
			fromFeed, err := producer.FeedManifest(feedsync.NewReader(&buf))
			if err != nil {
				t.Fatal(err)
			}
			fromStore, err := producer.StoreManifest(ctx, st)
			if err != nil {
				t.Fatal(err)
			}
			if d := producer.Diff(fromStore, fromFeed); len(d) != 0 {
				t.Errorf("store and its feed differ: %v", d)
			}
			if len(fromFeed) != 3 || fromFeed.Sum() != fromStore.Sum() {
				t.Errorf("feed manifest has %d entries, sums equal %v; want 3, true", len(fromFeed), fromFeed.Sum() == fromStore.Sum())
			}
		})
	}
}

func TestFeedManifestRejects(t *testing.T) {
	item := func(id string) string {
		return `<item><title>` + id + `</title><sx:sync id="` + id + `" updates="1"><sx:history sequence="1" by="laptop"/></sx:sync></item>`
	}
	for _, tc := range []struct {
		name, items string
		want        error
	}{
		{"duplicate id", item("a") + item("b") + item("a"), feedsync.ErrDuplicateID},
		{"invalid sync", `<item><sx:sync id="a" updates="1"></sx:sync></item>`, feedsync.ErrInvalidSync},
	} {
		t.Run(tc.name, func(t *testing.T) {
			doc := `<rss version="2.0" xmlns:sx="http://feedsync.org/2007/feedsync"><channel><title>t</title>` +
				tc.items + `<item><title>no sync: ignored</title></item></channel></rss>`
			_, err := producer.FeedManifest(feedsync.NewReader(strings.NewReader(doc)))
			if !errors.Is(err, tc.want) {
				t.Errorf("FeedManifest = %v, want %v", err, tc.want)
			}
		})
	}
}
