package merge

import (
	"bytes"
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/beevik/etree"
	"github.com/feedsync/go-feedsync/feedsync"
	"github.com/google/go-cmp/cmp"
	"pgregory.net/rapid"
)

// These properties run endpoints that edit their own feeds and merge each
// other's feeds in random order and topology, loops included (FS-MERGE-14,
// FS-CONFLICT-3, FS-CONFLICT-4, FS-RESOLVE-6, FS-UPDATE-4). Every endpoint
// has a by of its own, so the one exception FS-MERGE-14 names (different
// versions that subsume each other, FS-CONFLICT-6) cannot occur.

// endpoint is one participant: its by and its feed, held as bytes.
type endpoint struct {
	by   string
	feed []byte
}

// world is the state of a convergence run.
type world struct {
	t     *rapid.T
	mixed bool // endpoints write both formats
	eps   []*endpoint
	clock int // minutes after genEpoch; steps may leave it as it is, so whens tie
	ids   int
}

// maxSteps is the number of random steps per run: fewer under -short.
func maxSteps() int {
	if testing.Short() {
		return 12
	}
	return 40
}

func newWorld(t *rapid.T) *world {
	w := &world{t: t}
	n := rapid.IntRange(3, 6).Draw(t, "endpoints")
	formats := rapid.SampledFrom([]feedsync.Format{feedsync.RSS, feedsync.Atom})
	f := formats.Draw(t, "format")
	w.mixed = rapid.Bool().Draw(t, "mixed")
	for i := 0; i < n; i++ {
		if w.mixed {
			f = formats.Draw(t, "format")
		}
		var buf bytes.Buffer
		h := feedsync.NewHeader(f, feedsync.FeedInfo{Title: fmt.Sprintf("P%d", i+1), ID: fmt.Sprintf("urn:feed:p%d", i+1), Updated: genEpoch})
		if err := feedsync.WriteAll(&buf, h, nil); err != nil {
			t.Fatal(err)
		}
		w.eps = append(w.eps, &endpoint{by: fmt.Sprintf("p%d", i+1), feed: buf.Bytes()})
	}
	return w
}

// stamp returns the next stamp of endpoint e. The clock moves on by 0 to 2
// minutes, so concurrent edits often share a when and fall through to by
// (FS-WIN-3, §17 A-14).
func (w *world) stamp(e *endpoint) feedsync.Stamp {
	w.clock += rapid.IntRange(0, 2).Draw(w.t, "tick")
	return feedsync.Stamp{By: e.by, When: genEpoch.Add(time.Duration(w.clock) * time.Minute)}
}

func (w *world) read(e *endpoint) (*feedsync.Header, []*feedsync.Item) {
	h, items, err := feedsync.ReadAll(bytes.NewReader(e.feed))
	if err != nil {
		w.t.Fatalf("read %s's feed: %v\n%s", e.by, err, e.feed)
	}
	return h, items
}

func (w *world) write(e *endpoint, h *feedsync.Header, items []*feedsync.Item) {
	var buf bytes.Buffer
	if err := feedsync.WriteAll(&buf, h, items); err != nil {
		w.t.Fatalf("write %s's feed: %v", e.by, err)
	}
	e.feed = buf.Bytes()
}

// payload returns a copy of it's payload with a new title.
func (w *world) payload(it *feedsync.Item) *etree.Element {
	p, err := it.Payload()
	if err != nil {
		w.t.Fatal(err)
	}
	title := rapid.SampledFrom([]string{"milk", "eggs", "bread", "jam", "tea"}).Draw(w.t, "title")
	if el := p.SelectElement("title"); el != nil {
		el.SetText(title)
	} else {
		p.CreateElement("title").SetText(title)
	}
	return p
}

// create adds a new item to e's feed (FS-CREATE).
func (w *world) create(e *endpoint) {
	h, items := w.read(e)
	w.ids++
	noconf := rapid.IntRange(0, 9).Draw(w.t, "noconflicts") == 0
	it, err := feedsync.Create(h.Format, nil, fmt.Sprintf("item-%d", w.ids), w.stamp(e), noconf)
	if err != nil {
		w.t.Fatal(err)
	}
	if it, err = feedsync.Update(it, w.payload(it), feedsync.Stamp{By: e.by, When: it.Sync.Top().When}); err != nil {
		w.t.Fatal(err)
	}
	w.write(e, h, append(items, it))
}

// edit applies a local operation to a random sync item of e's feed: an
// update, a delete (an undelete of a tombstone is an update, FS-UPDATE-5)
// or a resolution keeping a random version. It then checks FS-UPDATE-4.
func (w *world) edit(e *endpoint, op string) {
	h, items := w.read(e)
	if len(items) == 0 {
		return
	}
	i := rapid.IntRange(0, len(items)-1).Draw(w.t, "item")
	it := items[i]
	var (
		res *feedsync.Item
		err error
	)
	switch {
	case op == "delete" && !it.Sync.Deleted:
		res, err = feedsync.Delete(it, w.stamp(e))
	case op == "resolve" && len(it.Sync.Conflicts) > 0:
		res, err = feedsync.ResolveKeep(it, rapid.IntRange(0, len(it.Sync.Conflicts)).Draw(w.t, "keep"), w.stamp(e))
	default:
		res, err = feedsync.Update(it, w.payload(it), w.stamp(e))
	}
	if err != nil {
		w.t.Fatalf("%s of %s at %s: %v", op, it.ID(), e.by, err)
	}
	// FS-UPDATE-4 (§17 A-9): after any update no conflict copy is subsumed
	// by the item that holds it.
	for _, c := range flatten(res.Sync.Conflicts) {
		if naiveSubsumed(c.Sync, res.Sync) {
			w.t.Fatalf("FS-UPDATE-4: after %s by %s, item %s holds conflict copy %s, which it subsumes", op, e.by, versionKey(res.Sync), versionKey(c.Sync))
		}
	}
	items[i] = res
	w.write(e, h, items)
}

// merge merges src's feed into dst's with Feeds, or with Run over a
// MemoryLocal, whichever the run draws: the two must be interchangeable.
func (w *world) merge(dst, src *endpoint) Summary {
	if rapid.Bool().Draw(w.t, "via-run") {
		h, items := w.read(dst)
		mem := NewMemoryLocal(items...)
		sum, err := Run(context.Background(), mem, feedsync.NewReader(bytes.NewReader(src.feed)), Options{Format: h.Format})
		if err != nil {
			w.t.Fatalf("Run %s ← %s: %v", dst.by, src.by, err)
		}
		if sum.Changed() {
			w.write(dst, h, mem.Items())
		}
		return sum
	}
	var out bytes.Buffer
	sum, err := Feeds(context.Background(), bytes.NewReader(dst.feed), bytes.NewReader(src.feed), &out, Options{})
	if err != nil {
		w.t.Fatalf("Feeds %s ← %s: %v", dst.by, src.by, err)
	}
	if !sum.Changed() && !bytes.Equal(out.Bytes(), dst.feed) {
		w.t.Fatalf("Feeds %s ← %s reported no change but rewrote the feed:\n%s\nto\n%s", dst.by, src.by, dst.feed, out.Bytes())
	}
	dst.feed = out.Bytes()
	return sum
}

// perm returns the endpoints in a random order.
func (w *world) perm(label string) []*endpoint {
	idx := make([]int, len(w.eps))
	for i := range idx {
		idx[i] = i
	}
	idx = rapid.Permutation(idx).Draw(w.t, label)
	out := make([]*endpoint, len(idx))
	for i, j := range idx {
		out[i] = w.eps[j]
	}
	return out
}

// steps runs random operations and merges.
func (w *world) steps() {
	n := rapid.IntRange(0, maxSteps()).Draw(w.t, "steps")
	pick := func(label string) *endpoint { return w.eps[rapid.IntRange(0, len(w.eps)-1).Draw(w.t, label)] }
	for s := 0; s < n; s++ {
		switch op := rapid.SampledFrom([]string{"create", "update", "delete", "resolve", "merge", "merge", "merge", "loop"}).Draw(w.t, "op"); op {
		case "create":
			w.create(pick("at"))
		case "update", "delete", "resolve":
			w.edit(pick("at"), op)
		case "merge":
			dst, src := pick("dst"), pick("src")
			if dst != src {
				w.merge(dst, src)
			}
		case "loop":
			// A ring through a random subset in random order:
			// P1←P2, P2←P3, …, Pk←P1 (a loop in the topology).
			ring := w.perm("ring")
			ring = ring[:rapid.IntRange(2, len(ring)).Draw(w.t, "ring-len")]
			for i, dst := range ring {
				w.merge(dst, ring[(i+1)%len(ring)])
			}
		}
	}
}

// exchange brings every endpoint up to date: the first merges everyone,
// then everyone merges the first; twice.
// It returns the merges that changed something.
func (w *world) exchange(rounds int) []string {
	var changed []string
	merge := func(dst, src *endpoint) {
		if sum := w.merge(dst, src); sum.Changed() {
			changed = append(changed, fmt.Sprintf("%s ← %s: %v", dst.by, src.by, sum))
		}
	}
	for round := 0; round < rounds; round++ {
		for _, e := range w.eps[1:] {
			merge(w.eps[0], e)
		}
		for _, e := range w.eps[1:] {
			merge(e, w.eps[0])
		}
	}
	return changed
}

// states describes e's items sorted by id. When the endpoints write both
// formats, payloads are compared through both formats (roundTripDigest):
// conversion is not an exact round trip, and the same version counts as
// the same payload in either format (FS-FEED-10).
func (w *world) states(e *endpoint) []itemState { return w.feedStates(e.feed) }

func (w *world) feedStates(feed []byte) []itemState {
	if w.mixed {
		return sortedStates(feedStatesWith(w.t, feed, func(x *feedsync.Item) string { return roundTripDigest(w.t, x) }))
	}
	return sortedStates(feedStates(w.t, feed, 0))
}

// TestConvergence: after random edits and merges in any topology, loops
// included, a full exchange leaves every endpoint with the same items, the
// same winners (metadata and payload), the same deleted flags and the same
// conflict sets (FS-MERGE-14, FS-CONFLICT-3, FS-CONFLICT-4), and one more
// exchange changes nothing. Half the runs mix RSS and Atom endpoints
// (FS-FEED-10).
func TestConvergence(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		w := newWorld(t)
		w.steps()
		w.exchange(2)
		want := w.states(w.eps[0])
		for _, e := range w.eps[1:] {
			if diff := cmp.Diff(want, w.states(e)); diff != "" {
				t.Fatalf("%s and %s differ after a full exchange (-%s +%s):\n%s", w.eps[0].by, e.by, w.eps[0].by, e.by, diff)
			}
		}
		// Converged endpoints have nothing left to tell each other.
		if changed := w.exchange(1); len(changed) > 0 {
			t.Fatalf("another exchange after convergence changed feeds: %v", changed)
		}
	})
}

// TestRemergeIsNoop: merging the same feed a second time writes the first
// result byte for byte and reports no change (FS-MERGE-14).
func TestRemergeIsNoop(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		w := newWorld(t)
		w.steps()
		perm := w.perm("pair")
		dst, src := perm[0], perm[1]
		first, _ := mergeBytes(t, dst.feed, src.feed, Options{})
		second, sum := mergeBytes(t, first, src.feed, Options{})
		if diff := cmp.Diff(string(first), string(second)); diff != "" {
			t.Fatalf("second merge of %s into %s changed the feed (-first +second):\n%s", src.by, dst.by, diff)
		}
		if sum.Changed() {
			t.Fatalf("second merge of %s into %s: %v, want no changes", src.by, dst.by, sum)
		}
	})
}

// TestMergeOrderIndependent: local ← A then B holds the same winners and
// conflict sets as local ← B then A (FS-MERGE-14). With endpoints of both
// formats, the same version may arrive as two payloads that differ only by
// conversion, and which one an endpoint keeps depends on the order: they
// compare through both formats.
func TestMergeOrderIndependent(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		w := newWorld(t)
		w.steps()
		perm := w.perm("trio")
		l, a, b := perm[0], perm[1], perm[2]
		ab, _ := mergeBytes(t, l.feed, a.feed, Options{})
		ab, _ = mergeBytes(t, ab, b.feed, Options{})
		ba, _ := mergeBytes(t, l.feed, b.feed, Options{})
		ba, _ = mergeBytes(t, ba, a.feed, Options{})
		got, want := w.feedStates(ba), w.feedStates(ab)
		if diff := cmp.Diff(want, got); diff != "" {
			t.Fatalf("%s ← %s, %s differs from %s ← %s, %s (-first order +second order):\n%s", l.by, a.by, b.by, l.by, b.by, a.by, diff)
		}
	})
}
