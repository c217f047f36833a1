package consumer_test

import (
	"bytes"
	"context"
	"errors"
	"testing"

	"github.com/beevik/etree"
	"github.com/google/go-cmp/cmp"

	"github.com/feedsync/go-feedsync/consumer"
	"github.com/feedsync/go-feedsync/feedsync"
	"github.com/feedsync/go-feedsync/merge"
	"github.com/feedsync/go-feedsync/store"
)

// stores are the stores the consumer tests run against.
var stores = map[string]func(t testing.TB) store.Store{
	"memory":   newMemory,
	"sqlite":   newSQLite,
	"postgres": newPostgres,
}

// countingStore counts the transactions begun on a store.
type countingStore struct {
	store.Store
	writable, readOnly int
}

func (c *countingStore) Begin(ctx context.Context, writable bool) (store.Tx, error) {
	if writable {
		c.writable++
	} else {
		c.readOnly++
	}
	return c.Store.Begin(ctx, writable)
}

// TestConsumeOneTx checks that a whole feed lands in one writable
// transaction, invisible to readers until it commits, and that the Summary
// says what happened to each item (FS-MERGE-16).
func TestConsumeOneTx(t *testing.T) {
	for name, open := range stores {
		t.Run(name, func(t *testing.T) {
			ctx := context.Background()
			st := open(t)
			x, y := create("x", "laptop", 1), create("y", "laptop", 1)
			put(t, st, x, y, create("z", "laptop", 1))
			seq0 := lastSeq(t, st)

			incoming := feedOf(t,
				update(x, "phone", 2), // updated
				update(y, "phone", 3), // conflicts with the local update below
				create("new-1", "phone", 2),
				create("new-2", "phone", 2),
				create("z", "laptop", 1), // the same version: unchanged
				must(feedsync.Delete(create("gone", "phone", 1), stamp("phone", 2))),
			)
			put(t, st, update(y, "laptop", 3))
			seq0++

			cs := &countingStore{Store: st}
			seen := 0
			sum, err := consumer.Consume(ctx, cs, bytes.NewReader(incoming), consumer.Options{
				OnItem: func(id string, _ int, o feedsync.Outcome, _ error) {
					seen++
					if seen != 3 {
						return
					}
					// Halfway through, another reader sees none of it.
					n := 0
					withTx(t, st, false, func(tx store.Tx) {
						var err error
						if n, err = tx.Count(ctx); err != nil {
							t.Fatal(err)
						}
					})
					if n != 3 {
						t.Errorf("a reader sees %d items in the middle of the merge, want the 3 from before", n)
					}
				},
			})
			if err != nil {
				t.Fatal(err)
			}
			want := merge.Summary{Added: 3, Updated: 1, Conflicts: 1, Unchanged: 1}
			if diff := cmp.Diff(want, sum); diff != "" {
				t.Errorf("summary (-want +got):\n%s", diff)
			}
			if cs.writable != 1 {
				t.Errorf("%d writable transactions, want 1", cs.writable)
			}
			if got := lastSeq(t, st); got != seq0+5 {
				t.Errorf("LastSeq = %d, want %d: one change per changed item", got, seq0+5)
			}
			if g := get(t, st, "gone"); g == nil || !g.Sync.Deleted {
				t.Errorf("tombstone gone = %v, want it stored deleted", g)
			}
			if n := len(get(t, st, "y").Sync.Conflicts); n != 1 {
				t.Errorf("y holds %d conflict copies, want 1 (FS-CONFLICT-2)", n)
			}
		})
	}
}

// TestConsumeRollsBack checks that a feed that fails anywhere leaves the
// store exactly as it was: the same LastSeq, the same manifest and no
// knowledge about the peer.
func TestConsumeRollsBack(t *testing.T) {
	x := create("x", "laptop", 1)
	good := feedOf(t, update(x, "phone", 2), create("new-1", "phone", 2))
	goodItems := string(good[bytes.Index(good, []byte("<entry")):bytes.LastIndex(good, []byte("</feed>"))])
	head := string(good[:bytes.Index(good, []byte("<entry"))])
	for _, tc := range []struct {
		name   string
		feed   string
		cancel bool
		want   error
	}{
		{"malformed XML midway", head + goodItems + "<entry><title>broken</entry>\n</feed>", false, nil},
		{"truncated", head + goodItems + "<entry><title>cut off", false, nil},
		{"duplicate id", head + goodItems + string(feedOf(t, create("new-1", "tablet", 5))[len(head):]), false, feedsync.ErrDuplicateID},
		{"cancelled", string(good), true, context.Canceled},
	} {
		for name, open := range stores {
			t.Run(tc.name+"/"+name, func(t *testing.T) {
				st := open(t)
				put(t, st, x, create("y", "laptop", 1))
				seq0, m0 := lastSeq(t, st), manifest(t, st)
				ctx, cancel := context.WithCancel(context.Background())
				defer cancel()
				opts := consumer.Options{Peer: "phone"}
				if tc.cancel {
					opts.OnItem = func(string, int, feedsync.Outcome, error) { cancel() }
				}
				_, err := consumer.Consume(ctx, st, bytes.NewReader([]byte(tc.feed)), opts)
				if err == nil {
					t.Fatal("Consume succeeded")
				}
				if tc.want != nil && !errors.Is(err, tc.want) {
					t.Errorf("error %v, want %v", err, tc.want)
				}
				if got := lastSeq(t, st); got != seq0 {
					t.Errorf("LastSeq = %d, want %d as before", got, seq0)
				}
				if d := cmp.Diff(m0, manifest(t, st)); d != "" {
					t.Errorf("store changed (-before +after):\n%s", d)
				}
				withTx(t, st, false, func(tx store.Tx) {
					if _, ok, err := tx.PeerVersion(context.Background(), "phone", "x"); err != nil || ok {
						t.Errorf("PeerVersion(phone, x) = %v, %v after a rolled back feed; want nothing", ok, err)
					}
				})
			})
		}
	}
}

// TestConsumeRecordsPeerVersions checks what the consumer learns about the
// sender: the version of every valid incoming item as sent, whatever the
// merge made of it, and nothing for rejected items or without a Peer.
func TestConsumeRecordsPeerVersions(t *testing.T) {
	ctx := context.Background()
	for name, open := range stores {
		t.Run(name, func(t *testing.T) {
			st := open(t)
			x := create("x", "laptop", 1)
			newer := update(x, "laptop", 5)
			put(t, st, newer, create("same", "laptop", 1))
			sentX := x // older than what the store holds: unchanged, still recorded
			sentNew := create("new", "phone", 2)
			sentSame := create("same", "laptop", 1)
			bad := `<entry xmlns="http://www.w3.org/2005/Atom"><title>bad</title><sx:sync xmlns:sx="http://feedsync.org/2007/feedsync" id="bad" updates="1"></sx:sync></entry>`
			f := feedOf(t, sentX, sentNew, sentSame)
			i := bytes.LastIndex(f, []byte("</feed>"))
			f = append(append(append([]byte{}, f[:i]...), bad...), f[i:]...)

			sum, err := consumer.Consume(ctx, st, bytes.NewReader(f), consumer.Options{Peer: "phone"})
			if err != nil {
				t.Fatal(err)
			}
			if sum.Rejected != 1 || sum.Added != 1 || sum.Unchanged != 2 {
				t.Errorf("summary = %v, want 1 new, 2 unchanged, 1 rejected", sum)
			}
			withTx(t, st, false, func(tx store.Tx) {
				for id, want := range map[string]*feedsync.Item{"x": sentX, "new": sentNew, "same": sentSame, "bad": nil} {
					v, ok, err := tx.PeerVersion(ctx, "phone", id)
					if err != nil {
						t.Fatal(err)
					}
					if want == nil {
						if ok {
							t.Errorf("PeerVersion(phone, %s) recorded for a rejected item", id)
						}
						continue
					}
					if !ok || !v.Equal(store.VersionOf(want)) {
						t.Errorf("PeerVersion(phone, %s) = %+v, %v; want the version sent, %+v", id, v, ok, store.VersionOf(want))
					}
				}
			})

			// Without a Peer nothing is recorded.
			if _, err := consumer.Consume(ctx, st, bytes.NewReader(feedOf(t, create("other", "tablet", 1))), consumer.Options{}); err != nil {
				t.Fatal(err)
			}
			withTx(t, st, false, func(tx store.Tx) {
				for _, peer := range []string{"", "phone", "tablet"} {
					if _, ok, err := tx.PeerVersion(ctx, peer, "other"); err != nil || ok {
						t.Errorf("PeerVersion(%q, other) = %v, %v; want nothing", peer, ok, err)
					}
				}
			})
		})
	}
}

// TestPolicies checks that every conflict policy lets two stores converge:
// both edit the same items concurrently, then exchange partial feeds until
// nothing changes. The automatic policies leave no conflicts and agree on
// the content; the others keep the conflicts (FS-CONFLICT-2) on both sides.
func TestPolicies(t *testing.T) {
	mergeFunc := feedsync.MergeFunc(func(w *feedsync.Item, cs []*feedsync.Item) (*etree.Element, bool, error) {
		// A deterministic hand merge: the titles of all versions, sorted.
		p, err := w.Payload()
		if err != nil {
			return nil, false, err
		}
		least := title(t, w)
		for _, c := range cs {
			if s := title(t, c); s < least {
				least = s
			}
		}
		p.SelectElement("title").SetText("merged: " + least)
		return p, false, nil
	})
	for _, tc := range []struct {
		name      string
		policy    feedsync.ConflictPolicy
		conflicts bool
		// wantTitle is x's title at the end, "" to skip the check.
		wantTitle string
	}{
		{"keep conflicts", nil, true, ""},
		{"defer", feedsync.Defer, true, ""},
		{"source wins", feedsync.SourceWins, false, "x by a at 10"},
		{"destination wins", feedsync.DestinationWins, false, "x by b at 11"},
		{"endpoint wins", feedsync.EndpointWins("a"), false, "x by a at 10"},
		{"last writer wins", feedsync.LastWriterWins, false, "x by b at 11"},
		{"merge func", mergeFunc, false, "merged: x by a at 10"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			a, b := newEndpoint("a", newMemory(t)), newEndpoint("b", newSQLite(t))
			a.policy, b.policy = tc.policy, tc.policy
			x, y := create("x", "a", 1), create("y", "a", 1)
			put(t, a.st, x, y)
			exchange(t, a, b, false)
			// Concurrent edits: both update x, a deletes y while b updates it.
			put(t, a.st, update(x, "a", 10), must(feedsync.Delete(y, stamp("a", 10))))
			put(t, b.st, update(x, "b", 11), update(y, "b", 11))
			// b merges a's edits first: b is the destination.
			for round := 0; ; round++ {
				if round == 4 {
					t.Fatal("still changing after 4 rounds")
				}
				_, s1 := exchange(t, a, b, false)
				_, s2 := exchange(t, b, a, false)
				if round > 0 && !s1.Changed() && !s2.Changed() {
					break
				}
			}
			checkSame(t, a, b)
			for _, id := range []string{"x", "y"} {
				n := len(get(t, a.st, id).Sync.Conflicts)
				if tc.conflicts != (n > 0) {
					t.Errorf("%s holds %d conflict copies; want conflicts kept: %v", id, n, tc.conflicts)
				}
			}
			if got := title(t, get(t, b.st, "x")); tc.wantTitle != "" && got != tc.wantTitle {
				t.Errorf("x's title = %q, want %q", got, tc.wantTitle)
			}
		})
	}
}

// countingTx counts the Gets that reach the store.
type countingTx struct {
	store.Tx
	gets int
}

func (c *countingTx) Get(ctx context.Context, id string) (*feedsync.Item, error) {
	c.gets++
	return c.Tx.Get(ctx, id)
}

// TestLocalEmptyStore checks the initial load: in a store without any
// change, Local answers Get for ids it has not put without asking the
// store, and still finds what it put; in any other store every Get asks.
func TestLocalEmptyStore(t *testing.T) {
	for _, tc := range []struct {
		name     string
		before   []*feedsync.Item
		wantGets int
	}{
		{"empty", nil, 1},
		{"not empty", []*feedsync.Item{create("other", "laptop", 1)}, 3},
	} {
		t.Run(tc.name, func(t *testing.T) {
			st := newMemory(t)
			if len(tc.before) > 0 {
				put(t, st, tc.before...)
			}
			withTx(t, st, true, func(tx store.Tx) {
				ctx := context.Background()
				ct := &countingTx{Tx: tx}
				l := consumer.NewLocal(ct, "")
				x := create("x", "phone", 1)
				for _, id := range []string{"x", "y"} {
					if got, err := l.Get(ctx, id); err != nil || got != nil {
						t.Fatalf("Get(%s) = %v, %v before any Put; want nil", id, got, err)
					}
				}
				if err := l.Put(ctx, x, feedsync.Added); err != nil {
					t.Fatal(err)
				}
				got, err := l.Get(ctx, "x")
				if err != nil || got == nil || got.ID() != "x" {
					t.Fatalf("Get(x) after Put = %v, %v; want the item", got, err)
				}
				if ct.gets != tc.wantGets {
					t.Errorf("%d Gets reached the store, want %d", ct.gets, tc.wantGets)
				}
			})
		})
	}
}
