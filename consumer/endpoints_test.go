package consumer_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"maps"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/feedsync/go-feedsync/feedsync"
	"github.com/feedsync/go-feedsync/producer"
	"github.com/feedsync/go-feedsync/store"
)

// Stories with several endpoints, each a store, that exchange feeds made by
// package producer and merged by this package.

// TestEcho is the echo test: two endpoints that sync back and forth without
// edits exchange empty feeds after the first round, because each leaves out
// what the other sent it (producer.Options.Peer, consumer.Options.Peer).
// After an edit, the edit travels once and is not echoed back.
func TestEcho(t *testing.T) {
	for _, kinds := range [][2]string{{"memory", "sqlite"}, {"postgres", "memory"}} {
		t.Run(kinds[0]+"-"+kinds[1], func(t *testing.T) {
			a, b := newEndpoint("a", stores[kinds[0]](t)), newEndpoint("b", stores[kinds[1]](t))
			for i := range 5 {
				put(t, a.st, create(fmt.Sprintf("a-%d", i), "a", 1))
			}
			for i := range 3 {
				put(t, b.st, create(fmt.Sprintf("b-%d", i), "b", 1))
			}
			type counts struct{ AtoB, BtoA int }
			round := func() counts {
				r1, _ := exchange(t, a, b, false) // b merges a's feed for b
				r2, _ := exchange(t, b, a, false) // a merges b's feed for a
				return counts{r1.Items, r2.Items}
			}
			var got []counts
			for range 10 {
				got = append(got, round())
			}
			// Round 1: no tokens yet, so complete feeds (FS-FEED-4): a's 5
			// items, then b's 3 and the 5 it just merged.
			want := []counts{{5, 8}}
			for range 9 {
				want = append(want, counts{0, 0})
			}
			if diff := cmp.Diff(want, got); diff != "" {
				t.Fatalf("items per feed, round by round (-want +got):\n%s", diff)
			}
			checkSame(t, a, b)

			// One edit on a travels to b once and does not come back.
			put(t, a.st, update(get(t, a.st, "a-1"), "a", 5))
			// Concurrent edits of one item: the conflict travels once
			// from b, which merged it, to a; a's identical merge result
			// is not sent back.
			put(t, a.st, update(get(t, a.st, "b-2"), "a", 6))
			put(t, b.st, update(get(t, b.st, "b-2"), "b", 7))
			got = got[:0]
			for range 3 {
				got = append(got, round())
			}
			if diff := cmp.Diff([]counts{{2, 1}, {0, 0}, {0, 0}}, got); diff != "" {
				t.Errorf("items per feed after edits (-want +got):\n%s", diff)
			}
			checkSame(t, a, b)
			if n := len(get(t, a.st, "b-2").Sync.Conflicts); n != 1 {
				t.Errorf("b-2 holds %d conflict copies, want 1", n)
			}
		})
	}
}

// world runs random edits and exchanges on a set of endpoints.
type world struct {
	t     *testing.T
	rng   *rand.Rand
	eps   []*endpoint
	clock int
	next  int
	// what happened, to check that the run exercised the rules
	conflicts, deletes, resolves, fulls int
}

// edit makes one random local change on ep through a writable transaction:
// a creation, an update (which undeletes a tombstone, FS-UPDATE-5), a
// deletion or a resolution of conflicts.
func (w *world) edit(ep *endpoint) {
	t := w.t
	ctx := context.Background()
	w.clock++
	s := stamp(ep.name, w.clock)
	withTx(t, ep.st, true, func(tx store.Tx) {
		var items []*feedsync.Item
		for it, err := range tx.All(ctx) {
			if err != nil {
				t.Fatal(err)
			}
			items = append(items, it)
		}
		var it *feedsync.Item
		if len(items) > 0 {
			it = items[w.rng.IntN(len(items))]
		}
		var out *feedsync.Item
		var err error
		switch op := w.rng.IntN(10); {
		case it == nil || op < 2:
			w.next++
			out, err = feedsync.Create(feedsync.Atom, entry(fmt.Sprintf("%s made %d", ep.name, w.next)),
				fmt.Sprintf("%s-%d", ep.name, w.next), s, false)
		case len(it.Sync.Conflicts) > 0 && op < 6:
			out, err = feedsync.ResolveKeep(it, w.rng.IntN(len(it.Sync.Conflicts)+1), s)
			w.resolves++
		case !it.Sync.Deleted && op < 4:
			out, err = feedsync.Delete(it, s)
			w.deletes++
		default:
			out, err = feedsync.Update(it, entry(fmt.Sprintf("%s by %s at %d", it.ID(), ep.name, w.clock)), s)
		}
		if err != nil {
			t.Fatal(err)
		}
		if _, err := tx.Put(ctx, out); err != nil {
			t.Fatal(err)
		}
	})
}

func (w *world) exchange(from, to *endpoint, full bool) {
	if full {
		w.fulls++
	}
	_, sum := exchange(w.t, from, to, full)
	w.conflicts += sum.Conflicts
}

// TestConvergence is the convergence story with stores as endpoints: four
// endpoints (memory stores and one SQLite store, or PostgreSQL) make random
// edits and exchange partial and complete feeds at random, with loops
// P1→P2→P3→P1 among them; after a complete exchange every endpoint holds the
// same items, winners, tombstones and conflict sets (FS-MERGE-14).
func TestConvergence(t *testing.T) {
	for _, tc := range []struct {
		name  string
		kinds []string
		seeds []uint64
		steps int
	}{
		{"memory+sqlite", []string{"memory", "memory", "sqlite", "memory"}, []uint64{1, 2, 3, 4}, 120},
		{"postgres", []string{"memory", "postgres", "sqlite"}, []uint64{5}, 60},
	} {
		for _, seed := range tc.seeds {
			t.Run(fmt.Sprintf("%s/seed=%d", tc.name, seed), func(t *testing.T) {
				w := &world{t: t, rng: rand.New(rand.NewPCG(seed, 1))}
				for i, kind := range tc.kinds {
					w.eps = append(w.eps, newEndpoint(fmt.Sprintf("p%d", i+1), stores[kind](t)))
				}
				p1, p2, p3 := w.eps[0], w.eps[1], w.eps[2]
				for range tc.steps {
					switch r := w.rng.IntN(10); {
					case r < 5:
						w.edit(w.eps[w.rng.IntN(len(w.eps))])
					case r < 9:
						i := w.rng.IntN(len(w.eps))
						j := (i + 1 + w.rng.IntN(len(w.eps)-1)) % len(w.eps)
						w.exchange(w.eps[i], w.eps[j], w.rng.IntN(5) == 0)
					default:
						// A loop: P1→P2→P3→P1, each merging the previous
						// one's partial feed.
						w.exchange(p1, p2, false)
						w.exchange(p2, p3, false)
						w.exchange(p3, p1, false)
					}
				}
				// Partial feeds alone converge: tokens leave no gap and echo
				// suppression leaves out only what the peer holds.
				converge(t, false, w.eps...)
				checkSame(t, w.eps...)
				// Then a complete exchange finds nothing left to do.
				if n := converge(t, true, w.eps...); n != 0 {
					t.Errorf("complete feeds changed something after partial feeds converged (%d passes)", n)
				}
				checkSame(t, w.eps...)
				t.Logf("%d items, %d conflicts met, %d deletions, %d resolutions, %d complete feeds",
					len(manifest(t, p1.st)), w.conflicts, w.deletes, w.resolves, w.fulls)
				if w.conflicts == 0 || w.deletes == 0 {
					t.Errorf("the run met %d conflicts and %d deletions; the story needs both", w.conflicts, w.deletes)
				}
			})
		}
	}
}

// copyDB copies an SQLite database file and its WAL files, if any, from src
// to dst (paths without suffix). The store must be closed.
func copyDB(t *testing.T, src, dst string) {
	t.Helper()
	for _, suffix := range []string{"", "-wal", "-shm"} {
		os.Remove(dst + suffix)
		b, err := os.ReadFile(src + suffix)
		if errors.Is(err, os.ErrNotExist) && suffix != "" {
			continue
		}
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(dst+suffix, b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

// syncUntilQuiet exchanges partial feeds both ways until nothing changes.
func syncUntilQuiet(t *testing.T, a, b *endpoint) {
	t.Helper()
	for range 4 {
		_, s1 := exchange(t, a, b, false)
		_, s2 := exchange(t, b, a, false)
		if !s1.Changed() && !s2.Changed() {
			return
		}
	}
	t.Fatal("partial exchanges still change something after 4 rounds")
}

// TestLostEndpoint is the lost endpoint story: endpoint b loses its data,
// restored from an old backup or wiped, while a goes on. Verify (a manifest
// Diff) names exactly the items that differ; complete feeds both ways
// re-initialise b with no duplicates and no deletion resurrected, after which
// verify finds no difference and partial feeds work again.
func TestLostEndpoint(t *testing.T) {
	for _, how := range []string{"restored", "wiped"} {
		t.Run(how, func(t *testing.T) {
			ctx := context.Background()
			dir := t.TempDir()
			path, backup := filepath.Join(dir, "b.db"), filepath.Join(dir, "backup.db")
			a, b := newEndpoint("a", newMemory(t)), newEndpoint("b", openSQLite(t, path))
			for i := 1; i <= 5; i++ {
				put(t, a.st, create(fmt.Sprintf("i%d", i), "a", 1))
			}
			put(t, b.st, create("j1", "b", 1))
			syncUntilQuiet(t, a, b)

			// The backup of b, with the tokens b kept beside its data.
			bID := b.st.ID()
			b.st.Close()
			copyDB(t, path, backup)
			oldTokens := maps.Clone(b.tokens)
			b.st = openSQLite(t, path)

			// Both go on editing and syncing.
			put(t, a.st, must(feedsync.Delete(get(t, a.st, "i1"), stamp("a", 10))), update(get(t, a.st, "i2"), "a", 10))
			put(t, b.st, update(get(t, b.st, "i3"), "b", 11), must(feedsync.Delete(get(t, b.st, "i4"), stamp("b", 11))),
				create("j2", "b", 11))
			syncUntilQuiet(t, a, b)
			checkSame(t, a, b)
			put(t, a.st, create("i6", "a", 12)) // not synced yet

			// b loses its data.
			b.st.Close()
			switch how {
			case "restored":
				copyDB(t, backup, path)
				b.st = openSQLite(t, path)
				b.tokens = oldTokens
				if b.st.ID() != bID {
					t.Fatalf("restored store has id %q, want the old %q", b.st.ID(), bID)
				}
			case "wiped":
				for _, suffix := range []string{"", "-wal", "-shm"} {
					os.Remove(path + suffix)
				}
				b.st = openSQLite(t, path)
				b.tokens = map[string]string{}
			}

			// Verify names exactly the items b lost.
			wantDiff := map[string][]diffLine{
				"restored": {
					{"i1", "winner, deleted"}, {"i2", "winner"}, {"i3", "winner"},
					{"i4", "winner, deleted"}, {"i6", "only in a"}, {"j2", "only in a"},
				},
				"wiped": {
					{"i1", "only in a"}, {"i2", "only in a"}, {"i3", "only in a"}, {"i4", "only in a"},
					{"i5", "only in a"}, {"i6", "only in a"}, {"j1", "only in a"}, {"j2", "only in a"},
				},
			}[how]
			if diff := cmp.Diff(wantDiff, diffLines(producer.Diff(manifest(t, a.st), manifest(t, b.st)))); diff != "" {
				t.Errorf("verify before re-initialisation (-want +got):\n%s", diff)
			}

			// Why a partial feed cannot re-initialise a restored b: a knows
			// that b sent it the current i3 and leaves it out (echo
			// suppression), but b no longer has it.
			if how == "restored" {
				res, err := producer.Produce(ctx, a.st, b.tokens["a"], io.Discard, producer.Options{Peer: "b"})
				if err != nil {
					t.Fatal(err)
				}
				// i1, i2 and i6 go; i3, i4 and j2, which b sent, do not.
				if res.Full || res.Items != 3 || res.Suppressed != 3 {
					t.Errorf("a's partial feed for restored b: %+v; want a partial feed of 3 items leaving out the 3 b sent before", res)
				}
			}
			// a's token for b is unusable either way: ahead of the restored
			// store, or minted by the store that was wiped.
			res, err := producer.Produce(ctx, b.st, a.tokens["b"], io.Discard, producer.Options{Peer: "a"})
			if err != nil {
				t.Fatal(err)
			}
			if !res.Full || !errors.Is(res.Reason, producer.ErrBadToken) {
				t.Errorf("b's feed for a's old token: %+v; want the complete feed, reason ErrBadToken", res)
			}

			// Re-initialisation: complete feeds both ways.
			_, sumB := exchange(t, a, b, true)
			_, sumA := exchange(t, b, a, true)
			if sumA.Changed() || sumA.Rejected != 0 {
				t.Errorf("a merging b's complete feed: %v; want nothing changed (b holds nothing a lacks)", sumA)
			}
			if sumB.Rejected != 0 {
				t.Errorf("b merging a's complete feed rejected items: %v", sumB.Rejections)
			}
			if d := producer.Diff(manifest(t, a.st), manifest(t, b.st)); len(d) != 0 {
				t.Errorf("verify after re-initialisation:\n%s", describe(d))
			}
			for _, ep := range []*endpoint{a, b} {
				m := manifest(t, ep.st)
				var ids []string
				for _, e := range m {
					ids = append(ids, e.ID)
					if (e.ID == "i1" || e.ID == "i4") && !e.Deleted {
						t.Errorf("%s: deleted item %s came back", ep.name, e.ID)
					}
				}
				if want := []string{"i1", "i2", "i3", "i4", "i5", "i6", "j1", "j2"}; !slices.Equal(ids, want) {
					t.Errorf("%s holds %v, want %v", ep.name, ids, want)
				}
			}

			// Partial feeds work again, from the tokens of the complete feeds.
			put(t, b.st, update(get(t, b.st, "i5"), "b", 20))
			put(t, a.st, update(get(t, a.st, "j1"), "a", 21))
			syncUntilQuiet(t, a, b)
			checkSame(t, a, b)
		})
	}
}

type diffLine struct {
	ID   string
	What string
}

func diffLines(ds []producer.Difference) []diffLine {
	var out []diffLine
	for _, d := range ds {
		out = append(out, diffLine{d.ID, d.What.String()})
	}
	return out
}
