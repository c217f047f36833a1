package storetest

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/feedsync/go-feedsync/feedsync"
	"github.com/feedsync/go-feedsync/store"
	"github.com/google/go-cmp/cmp"
)

// Run runs the conformance suite against the stores open returns. open is
// called once per subtest and must return a new, empty store; the suite
// closes it. Register removal of the underlying database with t.Cleanup in
// open: it runs after the suite's Close.
func Run(t *testing.T, open func(t *testing.T) store.Store) {
	newStore := func(t *testing.T) store.Store {
		t.Helper()
		s := open(t)
		t.Cleanup(func() {
			if err := s.Close(); err != nil {
				t.Errorf("close: %v", err)
			}
		})
		return s
	}
	tests := []struct {
		name string
		fn   func(t *testing.T, s store.Store)
	}{
		{"RoundTrip", testRoundTrip},
		{"Stat", testStat},
		{"ChangesXML", testChangesXML},
		{"LargeItem", testLargeItem},
		{"PutRejects", testPutRejects},
		{"Sequence", testSequence},
		{"ChangesWithinTx", testChangesWithinTx},
		{"ChangesLoopUsesTx", testChangesLoopUsesTx},
		{"ChangesBreak", testChangesBreak},
		{"CountAll", testCountAll},
		{"Rollback", testRollback},
		{"FailedTx", testFailedTx},
		{"CanceledContext", testCanceledContext},
		{"TxDone", testTxDone},
		{"ReadOnly", testReadOnly},
		{"Isolation", testIsolation},
		{"ConcurrentWriters", func(t *testing.T, s store.Store) { testConcurrentWriters(t, s, s) }},
		{"PollingReader", func(t *testing.T, s store.Store) { testPollingReader(t, s, s, s) }},
		{"PeerKnowledge", testPeerKnowledge},
		{"Batch", testBatch},
		{"PeerState", testPeerState},
		{"HistoryMark", testHistoryMark},
		{"FeedInfo", testFeedInfo},
		{"Closed", testClosed},
		{"Notifier", testNotifier},
		{"Rewrite", testRewrite},
		{"Remove", testRemove},
		{"Retention", testRetention},
		{"Compact", testCompact},
		{"CompactOneByOne", testCompactBy1},
		{"CompactKeeps", testCompactKeeps},
		{"CompactInterrupted", testCompactInterrupted},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) { tc.fn(t, newStore(t)) })
	}
	t.Run("TestdataFeeds", func(t *testing.T) {
		for _, path := range testdataFeeds(t) {
			t.Run(filepath.Base(path), func(t *testing.T) { testFeedFile(t, newStore(t), path) })
		}
	})
	t.Run("ID", func(t *testing.T) {
		a, b := newStore(t), newStore(t)
		if a.ID() == "" {
			t.Fatal("ID() is empty")
		}
		if id1, id2 := a.ID(), a.ID(); id1 != id2 {
			t.Errorf("ID() changed between calls: %q, %q", id1, id2)
		}
		if a.ID() == b.ID() {
			t.Errorf("two new stores share the ID %q", a.ID())
		}
	})
}

// RunDurable runs the part of the suite that only stores keeping their
// data on disk or on a server can pass. newDB is called once per subtest
// and returns a function that opens the same new database each time it is
// called (creating it on the first call); the suite closes what it opens.
func RunDurable(t *testing.T, newDB func(t *testing.T) (open func() (store.Store, error))) {
	openT := func(t *testing.T, open func() (store.Store, error)) store.Store {
		t.Helper()
		s, err := open()
		if err != nil {
			t.Fatalf("open: %v", err)
		}
		t.Cleanup(func() { s.Close() })
		return s
	}
	t.Run("Reopen", func(t *testing.T) { testReopen(t, newDB(t)) })
	t.Run("ConcurrentFirstOpen", func(t *testing.T) {
		// Two processes starting on an empty database both migrate it;
		// the schema must come out once, and both must work.
		open := newDB(t)
		var wg sync.WaitGroup
		stores := make([]store.Store, 2)
		errs := make([]error, 2)
		for i := range stores {
			wg.Go(func() { stores[i], errs[i] = open() })
		}
		wg.Wait()
		for i, err := range errs {
			if err != nil {
				t.Fatalf("open %d: %v", i, err)
			}
			t.Cleanup(func() { stores[i].Close() })
		}
		if stores[0].ID() != stores[1].ID() {
			t.Errorf("two handles on one database have IDs %q and %q", stores[0].ID(), stores[1].ID())
		}
		tx := begin(t, stores[0], true)
		seq := put(t, tx, newItem("a", "A", "laptop", "09:00"))
		commit(t, tx)
		tx = begin(t, stores[1], false)
		defer tx.Rollback()
		if got := lastSeq(t, tx); got != seq {
			t.Errorf("LastSeq through the other handle = %d, want %d", got, seq)
		}
	})
	t.Run("HandlesConcurrentWriters", func(t *testing.T) {
		open := newDB(t)
		a, b := openT(t, open), openT(t, open)
		testConcurrentWriters(t, a, b)
	})
	t.Run("HandlesPollingReader", func(t *testing.T) {
		open := newDB(t)
		a, b, c := openT(t, open), openT(t, open), openT(t, open)
		testPollingReader(t, a, b, c)
	})
}

// Helpers. Each fails the test on an error, so the tests read as stories.

func begin(t *testing.T, s store.Store, writable bool) store.Tx {
	t.Helper()
	tx, err := s.Begin(t.Context(), writable)
	if err != nil {
		t.Fatalf("begin (writable %v): %v", writable, err)
	}
	return tx
}

func put(t *testing.T, tx store.Tx, it *feedsync.Item) int64 {
	t.Helper()
	seq, err := tx.Put(t.Context(), it)
	if err != nil {
		t.Fatalf("put %q: %v", it.ID(), err)
	}
	return seq
}

func commit(t *testing.T, tx store.Tx) {
	t.Helper()
	if err := tx.Commit(); err != nil {
		t.Fatalf("commit: %v", err)
	}
}

func get(t *testing.T, tx store.Tx, id string) *feedsync.Item {
	t.Helper()
	it, err := tx.Get(t.Context(), id)
	if err != nil {
		t.Fatalf("get %q: %v", id, err)
	}
	return it
}

func lastSeq(t *testing.T, tx store.Tx) int64 {
	t.Helper()
	n, err := tx.LastSeq(t.Context())
	if err != nil {
		t.Fatalf("last seq: %v", err)
	}
	return n
}

func count(t *testing.T, tx store.Tx) int {
	t.Helper()
	n, err := tx.Count(t.Context())
	if err != nil {
		t.Fatalf("count: %v", err)
	}
	return n
}

// change is a Change as tests compare it.
type change struct {
	Seq     int64
	ID      string
	Updates int64
}

func changes(t *testing.T, tx store.Tx, after int64) []change {
	t.Helper()
	var out []change
	for c, err := range tx.Changes(t.Context(), after) {
		if err != nil {
			t.Fatalf("changes after %d: %v", after, err)
		}
		out = append(out, change{c.Seq, c.Item.ID(), c.Item.Sync.Updates})
	}
	return out
}

func all(t *testing.T, tx store.Tx) []string {
	t.Helper()
	var ids []string
	for it, err := range tx.All(t.Context()) {
		if err != nil {
			t.Fatalf("all: %v", err)
		}
		ids = append(ids, it.ID())
	}
	return ids
}

// putAll puts items in one committed transaction and returns their seqs.
func putAll(t *testing.T, s store.Store, items ...*feedsync.Item) []int64 {
	t.Helper()
	tx := begin(t, s, true)
	defer tx.Rollback()
	var seqs []int64
	for _, it := range items {
		seqs = append(seqs, put(t, tx, it))
	}
	commit(t, tx)
	return seqs
}

func wantErr(t *testing.T, what string, err error, targets ...error) {
	t.Helper()
	if err == nil {
		t.Errorf("%s: no error, want %v", what, targets)
		return
	}
	for _, target := range targets {
		if !errors.Is(err, target) {
			t.Errorf("%s: error %q does not wrap %q", what, err, target)
		}
	}
}

// The tests.

func testRoundTrip(t *testing.T, s store.Store) {
	items := corpus()
	putAll(t, s, items...)
	tx := begin(t, s, false)
	defer tx.Rollback()
	for _, want := range items {
		t.Run(want.ID(), func(t *testing.T) {
			got := get(t, tx, want.ID())
			checkSame(t, got, want)
			gd, err := got.Digest()
			if err != nil {
				t.Fatal(err)
			}
			wd, err := want.Digest()
			if err != nil {
				t.Fatal(err)
			}
			if gd != wd {
				t.Errorf("digest = %x, want %x", gd, wd)
			}
		})
	}
	if it := get(t, tx, "no-such-item"); it != nil {
		t.Errorf("Get of an absent id = %q, want nil", it.ID())
	}
}

func testStat(t *testing.T, s store.Store) {
	items := corpus()
	seqs := putAll(t, s, items...)
	tx := begin(t, s, true)
	defer tx.Rollback()
	ctx := t.Context()
	for i, it := range items {
		want, err := store.StatOf(it)
		if err != nil {
			t.Fatal(err)
		}
		want.Seq = seqs[i]
		got, ok, err := tx.Stat(ctx, it.ID())
		if err != nil || !ok {
			t.Fatalf("Stat(%q) = %v, %v", it.ID(), ok, err)
		}
		if diff := cmp.Diff(want, got); diff != "" {
			t.Errorf("Stat(%q) (-want +got):\n%s", it.ID(), diff)
		}
		if !got.Same(want) {
			t.Errorf("Stat(%q).Same(StatOf) = false", it.ID())
		}
	}
	if _, ok, err := tx.Stat(ctx, "no-such-item"); err != nil || ok {
		t.Errorf("Stat of an absent id = %v, %v; want false, nil", ok, err)
	}
	// Inside a writable Tx, Stat and Stats see its own Puts.
	changed := must(feedsync.Delete(items[0], stamp("phone", "15:00")))
	seq := put(t, tx, changed)
	got, ok, err := tx.Stat(ctx, changed.ID())
	if err != nil || !ok || got.Seq != seq || !got.Deleted || got.Updates != changed.Sync.Updates {
		t.Errorf("Stat after a Put in the same Tx = %+v, %v, %v; want seq %d, deleted", got, ok, err, seq)
	}
	var statIDs, changeIDs []change
	for st, err := range tx.Stats(ctx, seqs[2]) {
		if err != nil {
			t.Fatal(err)
		}
		statIDs = append(statIDs, change{st.Seq, st.ID, st.Updates})
	}
	changeIDs = changes(t, tx, seqs[2])
	if diff := cmp.Diff(changeIDs, statIDs); diff != "" || len(statIDs) != len(items)-2 {
		t.Errorf("Stats(%d) lists %d entries, Changes %d (-changes +stats):\n%s", seqs[2], len(statIDs), len(changeIDs), diff)
	}
}

func testFeedFile(t *testing.T, s store.Store, path string) {
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	_, items, err := feedsync.ReadAll(f)
	if err != nil {
		t.Fatalf("read %s: %v", path, err)
	}
	var kept []*feedsync.Item
	for _, it := range items {
		if it.Sync != nil && it.Err() == nil {
			kept = append(kept, it)
		}
	}
	if len(kept) == 0 {
		t.Skipf("%s has no valid sync items", path)
	}
	putAll(t, s, kept...)
	tx := begin(t, s, false)
	defer tx.Rollback()
	for _, want := range kept {
		checkSame(t, get(t, tx, want.ID()), want)
	}
	var got []*feedsync.Item
	for it, err := range tx.All(t.Context()) {
		if err != nil {
			t.Fatal(err)
		}
		got = append(got, it)
	}
	if len(got) != len(kept) {
		t.Fatalf("All returned %d items, want %d", len(got), len(kept))
	}
	for i := range kept {
		checkSame(t, got[i], kept[i])
	}
}

func testLargeItem(t *testing.T, s store.Store) {
	// Items of several MB must work (the reader's default limit is 16 MB).
	// XML of this size is slow under the race detector, so the item is
	// encoded and decoded once each, and compared by digest and metadata;
	// the corpus tests compare the XML itself.
	big := bigItem("big-1", 3<<20)
	small := newItem("small-1", "Small", "laptop", "09:00")
	putAll(t, s, big, small)
	tx := begin(t, s, false)
	defer tx.Rollback()
	got := get(t, tx, "big-1")
	if diff := cmp.Diff(copyView(t, big), copyView(t, got)); diff != "" {
		t.Errorf("big item after a round trip (-want +got):\n%s", diff)
	}
	var ids []string
	for st, err := range tx.Stats(t.Context(), 0) {
		if err != nil {
			t.Fatal(err)
		}
		ids = append(ids, st.ID)
	}
	if diff := cmp.Diff([]string{"big-1", "small-1"}, ids); diff != "" {
		t.Errorf("changes (-want +got):\n%s", diff)
	}
}

func testPutRejects(t *testing.T, s store.Store) {
	noHistory := newItem("h-1", "No history", "laptop", "09:00")
	noHistory.Sync = noHistory.Sync.Clone()
	noHistory.Sync.History = nil
	badID := newItem("x-1", "Bad id", "laptop", "09:00")
	badID.Sync = badID.Sync.Clone()
	badID.Sync.ID = "not a urn"
	tests := []struct {
		name string
		it   *feedsync.Item
	}{
		{"nil", nil},
		{"no sx:sync", feedsync.NewItem(feedsync.Atom, entry("Plain", "no sync"))},
		{"no history", noHistory},
		{"bad id", badID},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			tx := begin(t, s, true)
			defer tx.Rollback()
			_, err := tx.Put(t.Context(), tc.it)
			wantErr(t, "put", err, store.ErrInvalidItem)
		})
	}
}

func testSequence(t *testing.T, s store.Store) {
	tx := begin(t, s, false)
	if got := lastSeq(t, tx); got != 0 {
		t.Errorf("LastSeq of an empty store = %d, want 0", got)
	}
	if got := changes(t, tx, 0); len(got) != 0 {
		t.Errorf("Changes of an empty store = %v, want none", got)
	}
	tx.Rollback()

	a1 := newItem("a", "A", "laptop", "09:00")
	seqs := putAll(t, s, a1, newItem("b", "B", "laptop", "09:01"))
	seqA1, seqB := seqs[0], seqs[1]
	seqs = putAll(t, s, newItem("c", "C", "phone", "09:02"), update(a1, "A2", "phone", "09:03"))
	seqC, seqA2 := seqs[0], seqs[1]
	if !(0 < seqA1 && seqA1 < seqB && seqB < seqC && seqC < seqA2) {
		t.Fatalf("seqs a1=%d b=%d c=%d a2=%d, want strictly increasing from above 0", seqA1, seqB, seqC, seqA2)
	}

	tx = begin(t, s, false)
	defer tx.Rollback()
	if got := lastSeq(t, tx); got != seqA2 {
		t.Errorf("LastSeq = %d, want %d", got, seqA2)
	}
	b, c, a2 := change{seqB, "b", 1}, change{seqC, "c", 1}, change{seqA2, "a", 2}
	tests := []struct {
		after int64
		want  []change
	}{
		{0, []change{b, c, a2}},
		{seqA1, []change{b, c, a2}}, // a's old seq: a is listed at its new one
		{seqB, []change{c, a2}},
		{seqC, []change{a2}},
		{seqA2, nil},
		{seqA2 + 100, nil},
	}
	for _, tc := range tests {
		t.Run(fmt.Sprintf("after=%d", tc.after), func(t *testing.T) {
			if diff := cmp.Diff(tc.want, changes(t, tx, tc.after)); diff != "" {
				t.Errorf("Changes(%d) (-want +got):\n%s", tc.after, diff)
			}
		})
	}
}

func testChangesWithinTx(t *testing.T, s store.Store) {
	// Several Puts of one item in one Tx: the item is listed once, at the
	// seq of its last Put, inside the Tx and after Commit.
	a := newItem("a", "A", "laptop", "09:00")
	tx := begin(t, s, true)
	defer tx.Rollback()
	s1 := put(t, tx, a)
	a = update(a, "A2", "laptop", "09:01")
	s2 := put(t, tx, a)
	sb := put(t, tx, newItem("b", "B", "phone", "09:02"))
	a = update(a, "A3", "laptop", "09:03")
	s3 := put(t, tx, a)
	if !(s1 < s2 && s2 < sb && sb < s3) {
		t.Fatalf("seqs %d %d %d %d, want increasing", s1, s2, sb, s3)
	}
	want := []change{{sb, "b", 1}, {s3, "a", 3}}
	if diff := cmp.Diff(want, changes(t, tx, 0)); diff != "" {
		t.Errorf("Changes inside the Tx (-want +got):\n%s", diff)
	}
	if got := lastSeq(t, tx); got != s3 {
		t.Errorf("LastSeq inside the Tx = %d, want %d", got, s3)
	}
	if got := count(t, tx); got != 2 {
		t.Errorf("Count inside the Tx = %d, want 2", got)
	}
	commit(t, tx)
	tx = begin(t, s, false)
	defer tx.Rollback()
	if diff := cmp.Diff(want, changes(t, tx, 0)); diff != "" {
		t.Errorf("Changes after Commit (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff(want[1:], changes(t, tx, sb)); diff != "" {
		t.Errorf("Changes(%d) after Commit (-want +got):\n%s", sb, diff)
	}
}

func testChangesLoopUsesTx(t *testing.T, s store.Store) {
	// More items than one batch of any implementation, and a loop body that
	// uses the Tx as a producer does: read the item, read and record what
	// the peer holds.
	const n = 600
	items := make([]*feedsync.Item, n)
	for i := range items {
		items[i] = newItem(fmt.Sprintf("item-%04d", i), fmt.Sprintf("Item %d", i), "laptop", "09:00")
	}
	seqs := putAll(t, s, items...)
	tx := begin(t, s, true)
	defer tx.Rollback()
	var got []int64
	for c, err := range tx.Changes(t.Context(), 0) {
		if err != nil {
			t.Fatal(err)
		}
		got = append(got, c.Seq)
		if it := get(t, tx, c.Item.ID()); it == nil || it.ID() != c.Item.ID() {
			t.Fatalf("Get(%q) inside the loop = %v", c.Item.ID(), it)
		}
		if _, ok, err := tx.PeerVersion(t.Context(), "peer", c.Item.ID()); err != nil || ok {
			t.Fatalf("PeerVersion inside the loop = %v, %v", ok, err)
		}
		if err := tx.SetPeerVersion(t.Context(), "peer", c.Item.ID(), store.VersionOf(c.Item)); err != nil {
			t.Fatal(err)
		}
	}
	if diff := cmp.Diff(seqs, got); diff != "" {
		t.Errorf("seqs listed (-want +got):\n%s", diff)
	}
	var stats []int64
	for st, err := range tx.Stats(t.Context(), 0) {
		if err != nil {
			t.Fatal(err)
		}
		stats = append(stats, st.Seq)
		if _, ok, err := tx.PeerVersion(t.Context(), "peer", st.ID); err != nil || !ok {
			t.Fatalf("PeerVersion inside the Stats loop = %v, %v", ok, err)
		}
	}
	if diff := cmp.Diff(seqs, stats); diff != "" {
		t.Errorf("seqs listed by Stats (-want +got):\n%s", diff)
	}
	commit(t, tx)
}

func testChangesBreak(t *testing.T, s store.Store) {
	var items []*feedsync.Item
	for i := range 5 {
		items = append(items, newItem(fmt.Sprintf("i%d", i), "I", "laptop", "09:00"))
	}
	seqs := putAll(t, s, items...)
	tx := begin(t, s, false)
	defer tx.Rollback()
	n := 0
	for _, err := range tx.Changes(t.Context(), 0) {
		if err != nil {
			t.Fatal(err)
		}
		if n++; n == 2 {
			break
		}
	}
	// The Tx is still usable after the loop stopped early.
	if got := lastSeq(t, tx); got != seqs[4] {
		t.Errorf("LastSeq after a broken loop = %d, want %d", got, seqs[4])
	}
	if got := len(changes(t, tx, seqs[1])); got != 3 {
		t.Errorf("Changes after a broken loop listed %d, want 3", got)
	}
}

func testCountAll(t *testing.T, s store.Store) {
	a := newItem("a", "A", "laptop", "09:00")
	putAll(t, s, a, newItem("b", "B", "laptop", "09:00"), newItem("c", "C", "laptop", "09:00"))
	putAll(t, s, must(feedsync.Delete(a, stamp("phone", "10:00"))))
	tx := begin(t, s, false)
	defer tx.Rollback()
	if got := count(t, tx); got != 3 {
		t.Errorf("Count = %d, want 3 (a tombstone is an item)", got)
	}
	if diff := cmp.Diff([]string{"b", "c", "a"}, all(t, tx)); diff != "" {
		t.Errorf("All, in change order (-want +got):\n%s", diff)
	}
}

// state is what the Rollback and FailedTx tests compare before and after.
type state struct {
	LastSeq int64
	Count   int
	Changes []change
	Peer    bool
	PeerSeq int64
	Title   string
}

func stateOf(t *testing.T, s store.Store) state {
	t.Helper()
	tx := begin(t, s, false)
	defer tx.Rollback()
	_, ok, err := tx.PeerVersion(t.Context(), "peer", "a")
	if err != nil {
		t.Fatal(err)
	}
	ps, err := tx.PeerSeq(t.Context(), "peer")
	if err != nil {
		t.Fatal(err)
	}
	info, _, err := tx.FeedInfo(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	return state{lastSeq(t, tx), count(t, tx), changes(t, tx, 0), ok, ps, info.Title}
}

// changeEverything makes one change of every kind in tx.
func changeEverything(t *testing.T, tx store.Tx, a *feedsync.Item) {
	t.Helper()
	ctx := t.Context()
	put(t, tx, update(a, "A2", "phone", "10:00"))
	put(t, tx, newItem("new", "New", "phone", "10:01"))
	if err := tx.SetPeerVersion(ctx, "peer", "a", store.VersionOf(a)); err != nil {
		t.Fatal(err)
	}
	if err := tx.SetPeerSeq(ctx, "peer", 99); err != nil {
		t.Fatal(err)
	}
	if err := tx.SetFeedInfo(ctx, feedsync.FeedInfo{Title: "Changed"}, feedsync.RSS); err != nil {
		t.Fatal(err)
	}
}

func testRollback(t *testing.T, s store.Store) {
	a := newItem("a", "A", "laptop", "09:00")
	putAll(t, s, a, newItem("b", "B", "laptop", "09:00"))
	before := stateOf(t, s)

	tx := begin(t, s, true)
	changeEverything(t, tx, a)
	if got := count(t, tx); got != 3 {
		t.Errorf("Count inside the Tx = %d, want 3", got)
	}
	if err := tx.Rollback(); err != nil {
		t.Fatalf("rollback: %v", err)
	}
	if diff := cmp.Diff(before, stateOf(t, s)); diff != "" {
		t.Errorf("state after Rollback (-before +after):\n%s", diff)
	}
	tx = begin(t, s, false)
	defer tx.Rollback()
	if got := get(t, tx, "a"); got.Sync.Updates != 1 {
		t.Errorf("a after Rollback has updates=%d, want 1", got.Sync.Updates)
	}
	if got := get(t, tx, "new"); got != nil {
		t.Error("an item put in a rolled back Tx exists")
	}
	// The next writer gets the seqs the rolled back Tx had taken, or later
	// ones; never earlier ones.
	tx.Rollback()
	seq := putAll(t, s, newItem("c", "C", "laptop", "09:00"))[0]
	if seq <= before.LastSeq {
		t.Errorf("seq after Rollback = %d, want above %d", seq, before.LastSeq)
	}
}

func testFailedTx(t *testing.T, s store.Store) {
	a := newItem("a", "A", "laptop", "09:00")
	putAll(t, s, a)
	before := stateOf(t, s)

	tx := begin(t, s, true)
	defer tx.Rollback()
	changeEverything(t, tx, a)
	_, err := tx.Put(t.Context(), feedsync.NewItem(feedsync.Atom, entry("Plain", "no sync")))
	wantErr(t, "put of an item without sx:sync", err, store.ErrInvalidItem)
	// Every later call fails; a caller that ignored the error above cannot
	// commit the rest.
	_, err = tx.Put(t.Context(), newItem("later", "Later", "phone", "10:02"))
	wantErr(t, "put after a failure", err, store.ErrTxFailed)
	_, err = tx.Get(t.Context(), "a")
	wantErr(t, "get after a failure", err, store.ErrTxFailed)
	err = tx.Commit()
	wantErr(t, "commit after a failure", err, store.ErrTxFailed, store.ErrInvalidItem)
	if diff := cmp.Diff(before, stateOf(t, s)); diff != "" {
		t.Errorf("state after a failed Tx (-before +after):\n%s", diff)
	}
	// The writer slot is free again.
	putAll(t, s, newItem("b", "B", "laptop", "09:00"))
}

func testCanceledContext(t *testing.T, s store.Store) {
	a := newItem("a", "A", "laptop", "09:00")
	putAll(t, s, a)
	before := stateOf(t, s)

	tx := begin(t, s, true)
	defer tx.Rollback()
	put(t, tx, newItem("b", "B", "laptop", "09:00"))
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	_, err := tx.Put(ctx, newItem("c", "C", "laptop", "09:00"))
	wantErr(t, "put with a canceled context", err, context.Canceled)
	wantErr(t, "commit", tx.Commit(), store.ErrTxFailed, context.Canceled)
	if diff := cmp.Diff(before, stateOf(t, s)); diff != "" {
		t.Errorf("state after a canceled Tx (-before +after):\n%s", diff)
	}

	// Begin with a canceled context fails while another writer holds the
	// slot, and leaves the store usable.
	tx = begin(t, s, true)
	_, err = s.Begin(ctx, true)
	if err == nil {
		t.Error("Begin(canceled ctx) while another writer is open succeeded")
	}
	commit(t, tx)
	putAll(t, s, newItem("d", "D", "laptop", "09:00"))
}

func testTxDone(t *testing.T, s store.Store) {
	for _, writable := range []bool{false, true} {
		for _, end := range []string{"commit", "rollback"} {
			t.Run(fmt.Sprintf("writable=%v/%s", writable, end), func(t *testing.T) {
				tx := begin(t, s, writable)
				if end == "commit" {
					commit(t, tx)
				} else if err := tx.Rollback(); err != nil {
					t.Fatal(err)
				}
				ctx := t.Context()
				_, err := tx.Get(ctx, "a")
				wantErr(t, "get", err, store.ErrTxDone)
				_, err = tx.Put(ctx, newItem("a", "A", "laptop", "09:00"))
				wantErr(t, "put", err, store.ErrTxDone)
				_, err = tx.LastSeq(ctx)
				wantErr(t, "last seq", err, store.ErrTxDone)
				for _, err := range tx.Changes(ctx, 0) {
					wantErr(t, "changes", err, store.ErrTxDone)
				}
				wantErr(t, "commit", tx.Commit(), store.ErrTxDone)
				wantErr(t, "rollback", tx.Rollback(), store.ErrTxDone)
			})
		}
	}
}

func testReadOnly(t *testing.T, s store.Store) {
	putAll(t, s, newItem("a", "A", "laptop", "09:00"))
	tx := begin(t, s, false)
	defer tx.Rollback()
	ctx := t.Context()
	_, err := tx.Put(ctx, newItem("b", "B", "laptop", "09:00"))
	wantErr(t, "put", err, store.ErrReadOnly)
	wantErr(t, "set peer version", tx.SetPeerVersion(ctx, "p", "a", store.Version{}), store.ErrReadOnly)
	wantErr(t, "set peer seq", tx.SetPeerSeq(ctx, "p", 1), store.ErrReadOnly)
	wantErr(t, "set feed info", tx.SetFeedInfo(ctx, feedsync.FeedInfo{}, feedsync.RSS), store.ErrReadOnly)
	wantErr(t, "set peer state", tx.SetPeerState(ctx, "p", store.PeerState{Sent: "x"}), store.ErrReadOnly)
	wantErr(t, "forget peer", tx.ForgetPeer(ctx, "p"), store.ErrReadOnly)
	// Nothing was attempted, so the Tx still reads.
	if got := get(t, tx, "a"); got == nil {
		t.Error("Get after ErrReadOnly found nothing")
	}
	commit(t, tx)
}

func testIsolation(t *testing.T, s store.Store) {
	a := newItem("a", "A", "laptop", "09:00")
	putAll(t, s, a)
	before := stateOf(t, s)

	w := begin(t, s, true)
	defer w.Rollback()
	changeEverything(t, w, a)
	if got := get(t, w, "a"); got.Sync.Updates != 2 {
		t.Errorf("the writer reads its own update: updates=%d, want 2", got.Sync.Updates)
	}
	// A reader meanwhile sees only what was committed.
	if diff := cmp.Diff(before, stateOf(t, s)); diff != "" {
		t.Errorf("a reader sees uncommitted changes (-committed +seen):\n%s", diff)
	}
	commit(t, w)
	after := stateOf(t, s)
	if after.Count != 2 || after.Title != "Changed" || !after.Peer || after.PeerSeq != 99 {
		t.Errorf("state after Commit = %+v", after)
	}
}

// testConcurrentWriters runs two goroutines (through a and b, which may be
// two handles on one database) that each read, change and write the same
// item in their own transactions. No update may be lost.
func testConcurrentWriters(t *testing.T, a, b store.Store) {
	const rounds = 20
	putAll(t, a, newItem("counter", "0", "setup", "08:00"))
	var wg sync.WaitGroup
	errs := make(chan error, 2)
	for g, s := range []store.Store{a, b} {
		wg.Go(func() {
			by := fmt.Sprintf("writer%d", g)
			for i := range rounds {
				if err := bump(t.Context(), s, "counter", by, i); err != nil {
					errs <- fmt.Errorf("%s round %d: %w", by, i, err)
					return
				}
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	tx := begin(t, a, false)
	defer tx.Rollback()
	got := get(t, tx, "counter")
	if want := int64(1 + 2*rounds); got.Sync.Updates != want {
		t.Fatalf("updates = %d, want %d: updates were lost", got.Sync.Updates, want)
	}
	// Each update saw the previous one: the history is 2N+1 … 1.
	var seqs []int64
	for _, h := range got.Sync.History {
		seqs = append(seqs, h.Sequence)
	}
	want := make([]int64, 1+2*rounds)
	for i := range want {
		want[i] = int64(len(want) - i)
	}
	if diff := cmp.Diff(want, seqs); diff != "" {
		t.Errorf("history sequences (-want +got):\n%s", diff)
	}
}

// bump updates item id in its own writable transaction.
func bump(ctx context.Context, s store.Store, id, by string, round int) error {
	tx, err := s.Begin(ctx, true)
	if err != nil {
		return err
	}
	defer tx.Rollback()
	it, err := tx.Get(ctx, id)
	if err != nil {
		return err
	}
	if it == nil {
		return fmt.Errorf("item %q missing", id)
	}
	next, err := feedsync.Update(it, entry(fmt.Sprint(it.Sync.Updates), by), feedsync.Stamp{By: by, When: day.Add(time.Duration(round) * time.Minute)})
	if err != nil {
		return err
	}
	if _, err := tx.Put(ctx, next); err != nil {
		return err
	}
	return tx.Commit()
}

// testPollingReader races two writers (through a and b) against a reader
// (through c) that polls Changes from the last seq it saw, as an
// incremental feed does. Each writer transaction adds a fresh item and
// updates a shared one. The reader must see every fresh item exactly once,
// in strictly increasing seq: a change committed with a seq below one the
// reader has already seen would be skipped for good.
func testPollingReader(t *testing.T, a, b, c store.Store) {
	const rounds = 25
	putAll(t, a, newItem("shared", "0", "setup", "08:00"))
	var wg sync.WaitGroup
	errs := make(chan error, 3)
	done := make(chan struct{})
	for g, s := range []store.Store{a, b} {
		wg.Go(func() {
			by := fmt.Sprintf("writer%d", g)
			for i := range rounds {
				if err := addAndBump(t.Context(), s, fmt.Sprintf("%s-%02d", by, i), by, i); err != nil {
					errs <- fmt.Errorf("%s round %d: %w", by, i, err)
					return
				}
			}
		})
	}
	go func() { wg.Wait(); close(done) }()

	seen := map[string]int{}
	var after int64
	poll := func() error {
		tx, err := c.Begin(t.Context(), false)
		if err != nil {
			return err
		}
		defer tx.Rollback()
		for ch, err := range tx.Changes(t.Context(), after) {
			if err != nil {
				return err
			}
			if ch.Seq <= after {
				return fmt.Errorf("seq %d listed after %d", ch.Seq, after)
			}
			after = ch.Seq
			seen[ch.Item.ID()]++
		}
		return nil
	}
	for finished := false; !finished; {
		select {
		case <-done:
			finished = true // one last poll after the writers are done
		default:
		}
		if err := poll(); err != nil {
			t.Fatalf("poll: %v", err)
		}
	}
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	var missing, twice []string
	for g := range 2 {
		for i := range rounds {
			id := fmt.Sprintf("writer%d-%02d", g, i)
			switch seen[id] {
			case 0:
				missing = append(missing, id)
			case 1:
			default:
				twice = append(twice, id)
			}
		}
	}
	slices.Sort(missing)
	if len(missing) > 0 || len(twice) > 0 {
		t.Errorf("the polling reader skipped %v and saw %v more than once", missing, twice)
	}
	tx := begin(t, c, false)
	defer tx.Rollback()
	if got, want := get(t, tx, "shared").Sync.Updates, int64(1+2*rounds); got != want {
		t.Errorf("shared item updates = %d, want %d", got, want)
	}
}

func addAndBump(ctx context.Context, s store.Store, fresh, by string, round int) error {
	tx, err := s.Begin(ctx, true)
	if err != nil {
		return err
	}
	defer tx.Rollback()
	if _, err := tx.Put(ctx, newItem(fresh, fresh, by, "09:00")); err != nil {
		return err
	}
	it, err := tx.Get(ctx, "shared")
	if err != nil {
		return err
	}
	next, err := feedsync.Update(it, nil, feedsync.Stamp{By: by, When: day.Add(time.Duration(round) * time.Minute)})
	if err != nil {
		return err
	}
	if _, err := tx.Put(ctx, next); err != nil {
		return err
	}
	return tx.Commit()
}

func testPeerKnowledge(t *testing.T, s store.Store) {
	fence := conflicted("fence-1")
	vConflict := store.VersionOf(fence)
	vAnon := store.VersionOf(corpus()[4])
	vNoWhen := store.VersionOf(corpus()[5])
	if vConflict.Conflicts == "" || vAnon.Top.By != "" || vNoWhen.Top.HasWhen() {
		t.Fatalf("corpus changed: versions %+v %+v %+v", vConflict, vAnon, vNoWhen)
	}
	ctx := t.Context()

	tx := begin(t, s, true)
	defer tx.Rollback()
	for _, set := range []struct {
		peer, id string
		v        store.Version
	}{
		{"https://a.example/feed", "fence-1", vConflict},
		{"https://b.example/feed", "fence-1", vAnon},
		{"https://a.example/feed", "x", vNoWhen},
		{"https://a.example/feed", "x", vAnon}, // overwrites
	} {
		if err := tx.SetPeerVersion(ctx, set.peer, set.id, set.v); err != nil {
			t.Fatal(err)
		}
	}
	if err := tx.SetPeerSeq(ctx, "https://a.example/feed", 42); err != nil {
		t.Fatal(err)
	}
	if err := tx.SetPeerSeq(ctx, "https://a.example/feed", 43); err != nil {
		t.Fatal(err)
	}
	commit(t, tx)

	tx = begin(t, s, false)
	defer tx.Rollback()
	tests := []struct {
		peer, id string
		want     store.Version
		ok       bool
	}{
		{"https://a.example/feed", "fence-1", vConflict, true},
		{"https://b.example/feed", "fence-1", vAnon, true},
		{"https://a.example/feed", "x", vAnon, true},
		{"https://b.example/feed", "x", store.Version{}, false},
		{"https://c.example/feed", "fence-1", store.Version{}, false},
	}
	for _, tc := range tests {
		t.Run(tc.peer+"/"+tc.id, func(t *testing.T) {
			got, ok, err := tx.PeerVersion(ctx, tc.peer, tc.id)
			if err != nil {
				t.Fatal(err)
			}
			if ok != tc.ok {
				t.Errorf("known = %v, want %v", ok, tc.ok)
			}
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("version (-want +got):\n%s", diff)
			}
			if !got.Equal(tc.want) {
				t.Errorf("Equal(%+v, %+v) = false", got, tc.want)
			}
		})
	}
	for peer, want := range map[string]int64{"https://a.example/feed": 43, "https://b.example/feed": 0} {
		got, err := tx.PeerSeq(ctx, peer)
		if err != nil {
			t.Fatal(err)
		}
		if got != want {
			t.Errorf("PeerSeq(%q) = %d, want %d", peer, got, want)
		}
	}
}

func testFeedInfo(t *testing.T, s store.Store) {
	ctx := t.Context()
	tx := begin(t, s, false)
	info, format, err := tx.FeedInfo(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(feedsync.FeedInfo{}, info); diff != "" || format != feedsync.FormatUnknown {
		t.Errorf("FeedInfo of a new store = %v, %+v; want unknown, zero", format, info)
	}
	tx.Rollback()

	set := feedsync.FeedInfo{
		Title:       "Household tasks & errands",
		Link:        "https://tasks.example.org/",
		Description: "Things to do — synchronized",
		ID:          "urn:uuid:5b0e0000-0000-4000-8000-000000000001",
		Updated:     time.Date(2009, 4, 2, 14, 5, 6, 789, time.FixedZone("CEST", 2*3600)),
	}
	tx = begin(t, s, true)
	if err := tx.SetFeedInfo(ctx, set, feedsync.Atom); err != nil {
		t.Fatal(err)
	}
	commit(t, tx)
	tx = begin(t, s, false)
	defer tx.Rollback()
	info, format, err = tx.FeedInfo(ctx)
	if err != nil {
		t.Fatal(err)
	}
	want := set
	want.Updated = time.Date(2009, 4, 2, 12, 5, 6, 0, time.UTC)
	if diff := cmp.Diff(want, info); diff != "" || format != feedsync.Atom {
		t.Errorf("FeedInfo = %v, (-want +got):\n%s", format, diff)
	}
	if info.Updated.Location() != time.UTC {
		t.Errorf("Updated is in %v, want UTC", info.Updated.Location())
	}
}

func testClosed(t *testing.T, s store.Store) {
	putAll(t, s, newItem("a", "A", "laptop", "09:00"))
	if err := s.Close(); err != nil {
		t.Fatalf("close: %v", err)
	}
	for _, writable := range []bool{false, true} {
		_, err := s.Begin(t.Context(), writable)
		wantErr(t, fmt.Sprintf("begin (writable %v) after Close", writable), err, store.ErrClosed)
	}
}

func testReopen(t *testing.T, open func() (store.Store, error)) {
	s, err := open()
	if err != nil {
		t.Fatalf("first open (migrates an empty database): %v", err)
	}
	items := corpus()
	seqs := putAll(t, s, items...)
	ctx := t.Context()
	tx := begin(t, s, true)
	v := store.VersionOf(items[1])
	if err := tx.SetPeerVersion(ctx, "peer", items[1].ID(), v); err != nil {
		t.Fatal(err)
	}
	if err := tx.SetPeerSeq(ctx, "peer", 7); err != nil {
		t.Fatal(err)
	}
	if err := tx.SetFeedInfo(ctx, feedsync.FeedInfo{Title: "Kept"}, feedsync.RSS); err != nil {
		t.Fatal(err)
	}
	wantState := store.PeerState{Received: "r", Sent: "s", Resume: "x"}
	if err := tx.SetPeerState(ctx, "peer", wantState); err != nil {
		t.Fatal(err)
	}
	commit(t, tx)
	wantMark := historyMark(t, s, seqs[len(seqs)-1])
	id := s.ID()
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}

	last, lastID := seqs[len(seqs)-1], items[len(items)-1].ID()
	for round := range 2 { // re-opening is idempotent
		s, err := open()
		if err != nil {
			t.Fatalf("reopen %d: %v", round, err)
		}
		if s.ID() != id {
			t.Errorf("reopen %d: ID = %q, want %q", round, s.ID(), id)
		}
		tx := begin(t, s, false)
		for _, want := range items {
			checkSame(t, get(t, tx, want.ID()), want)
		}
		if got := lastSeq(t, tx); got != last {
			t.Errorf("reopen %d: LastSeq = %d, want %d", round, got, last)
		}
		if got := changes(t, tx, 0); len(got) != len(items)+round || got[len(got)-1].ID != lastID {
			t.Errorf("reopen %d: changes = %v, want %d ending with %q", round, got, len(items)+round, lastID)
		}
		got, ok, err := tx.PeerVersion(ctx, "peer", items[1].ID())
		if err != nil || !ok || !got.Equal(v) {
			t.Errorf("reopen %d: PeerVersion = %+v, %v, %v; want %+v", round, got, ok, err, v)
		}
		if ps, err := tx.PeerSeq(ctx, "peer"); err != nil || ps != 7 {
			t.Errorf("reopen %d: PeerSeq = %d, %v; want 7", round, ps, err)
		}
		if info, f, err := tx.FeedInfo(ctx); err != nil || info.Title != "Kept" || f != feedsync.RSS {
			t.Errorf("reopen %d: FeedInfo = %+v, %v, %v", round, info, f, err)
		}
		if ps, err := tx.PeerState(ctx, "peer"); err != nil || ps != wantState {
			t.Errorf("reopen %d: PeerState = %+v, %v; want %+v", round, ps, err, wantState)
		}
		tx.Rollback()
		if got := historyMark(t, s, seqs[len(seqs)-1]); got != wantMark {
			t.Errorf("reopen %d: HistoryMark(%d) = %q, want %q", round, seqs[len(seqs)-1], got, wantMark)
		}
		// New changes continue the sequence.
		lastID = fmt.Sprintf("after-%d", round)
		seq := putAll(t, s, newItem(lastID, "After", "laptop", "09:00"))[0]
		if seq <= last {
			t.Errorf("reopen %d: new seq %d not above %d", round, seq, last)
		}
		last = seq
		if err := s.Close(); err != nil {
			t.Fatal(err)
		}
	}
}

// testNotifier checks that a store.Notifier wakes a waiter when a Put
// commits, and again on a fresh channel for the next one. (Channels may
// also close without a change, so that is not tested against.)
func testNotifier(t *testing.T, s store.Store) {
	n, ok := s.(store.Notifier)
	if !ok {
		t.Skip("the store does not implement store.Notifier")
	}
	for round := range 2 {
		ch := n.Changed()
		tx := begin(t, s, true)
		put(t, tx, newItem(fmt.Sprintf("n%d", round), "N", "laptop", "09:00"))
		commit(t, tx)
		select {
		case <-ch:
		case <-time.After(10 * time.Second):
			t.Fatalf("round %d: Changed() was not closed 10s after a Put committed", round)
		}
	}
}

func testPeerState(t *testing.T, s store.Store) {
	ctx := t.Context()
	a, b := "https://a.example/feed", "https://b.example/feed"
	v := store.VersionOf(newItem("x", "X", "laptop", "09:00"))
	stateA := store.PeerState{Received: "tok-a", Sent: "mine-a", Resume: "pull"}
	stateB := store.PeerState{Received: "tok-b"}

	tx := begin(t, s, true)
	defer tx.Rollback()
	for _, set := range []struct {
		peer string
		s    store.PeerState
	}{{a, store.PeerState{Received: "old"}}, {a, stateA}, {b, stateB}} {
		if err := tx.SetPeerState(ctx, set.peer, set.s); err != nil {
			t.Fatal(err)
		}
	}
	for _, p := range []string{a, b} {
		if err := tx.SetPeerVersion(ctx, p, "x", v); err != nil {
			t.Fatal(err)
		}
	}
	if err := tx.SetPeerSeq(ctx, a, 5); err != nil {
		t.Fatal(err)
	}
	// A Tx reads its own writes.
	if got, err := tx.PeerState(ctx, a); err != nil || got != stateA {
		t.Errorf("PeerState(a) inside the Tx = %+v, %v; want %+v", got, err, stateA)
	}
	commit(t, tx)

	peerState := func(tx store.Tx, peer string) store.PeerState {
		t.Helper()
		got, err := tx.PeerState(ctx, peer)
		if err != nil {
			t.Fatal(err)
		}
		return got
	}
	known := func(tx store.Tx, peer string) bool {
		t.Helper()
		_, ok, err := tx.PeerVersion(ctx, peer, "x")
		if err != nil {
			t.Fatal(err)
		}
		return ok
	}
	tx = begin(t, s, false)
	if got := peerState(tx, a); got != stateA {
		t.Errorf("PeerState(a) = %+v, want %+v", got, stateA)
	}
	if got := peerState(tx, b); got != stateB {
		t.Errorf("PeerState(b) = %+v, want %+v", got, stateB)
	}
	if got := peerState(tx, "https://c.example/feed"); !got.IsZero() {
		t.Errorf("PeerState of an unknown peer = %+v, want zero", got)
	}
	tx.Rollback()

	// ForgetPeer drops a's knowledge and state, inside the Tx at once and
	// for others at Commit; b's stay, and a's PeerSeq too.
	tx = begin(t, s, true)
	if err := tx.ForgetPeer(ctx, a); err != nil {
		t.Fatal(err)
	}
	if known(tx, a) || !peerState(tx, a).IsZero() {
		t.Error("a is still known inside the Tx after ForgetPeer")
	}
	other := begin(t, s, false)
	if !known(other, a) {
		t.Error("ForgetPeer showed before Commit")
	}
	other.Rollback()
	// Knowledge recorded after ForgetPeer in the same Tx is kept.
	if err := tx.SetPeerState(ctx, a, store.PeerState{Sent: "new"}); err != nil {
		t.Fatal(err)
	}
	commit(t, tx)
	tx = begin(t, s, false)
	defer tx.Rollback()
	if known(tx, a) {
		t.Error("PeerVersion of a forgotten peer is still known")
	}
	if got := peerState(tx, a); got != (store.PeerState{Sent: "new"}) {
		t.Errorf("PeerState(a) after ForgetPeer and SetPeerState = %+v", got)
	}
	if !known(tx, b) || peerState(tx, b) != stateB {
		t.Error("ForgetPeer(a) dropped b's knowledge")
	}
	if got, err := tx.PeerSeq(ctx, a); err != nil || got != 5 {
		t.Errorf("PeerSeq(a) after ForgetPeer = %d, %v; want 5", got, err)
	}
	tx.Rollback()

	// The zero PeerState removes the record.
	tx = begin(t, s, true)
	if err := tx.SetPeerState(ctx, b, store.PeerState{}); err != nil {
		t.Fatal(err)
	}
	commit(t, tx)
	tx = begin(t, s, false)
	if got := peerState(tx, b); !got.IsZero() {
		t.Errorf("PeerState(b) after setting the zero value = %+v", got)
	}
	tx.Rollback()
}

// historyMark returns the mark of seq, failing the test when it has none.
func historyMark(t *testing.T, s store.Store, seq int64) string {
	t.Helper()
	tx := begin(t, s, false)
	defer tx.Rollback()
	m, ok, err := tx.HistoryMark(t.Context(), seq)
	if err != nil || !ok {
		t.Fatalf("HistoryMark(%d) = %q, %v, %v", seq, m, ok, err)
	}
	return m
}

// testHistoryMark checks the marks tokens are checked against (FS-KNOW-2).
func testHistoryMark(t *testing.T, s store.Store) {
	ctx := t.Context()
	if m := historyMark(t, s, 0); m != "" {
		t.Errorf("HistoryMark(0) = %q, want \"\"", m)
	}
	tx := begin(t, s, false)
	if m, ok, err := tx.HistoryMark(ctx, 1); err != nil || ok {
		t.Errorf("HistoryMark(1) of an empty store = %q, %v, %v; want not ok", m, ok, err)
	}
	tx.Rollback()

	// One commit of two changes: both numbers carry its mark.
	seqs := putAll(t, s, newItem("a", "A", "laptop", "09:00"), newItem("b", "B", "laptop", "09:00"))
	m1, m2 := historyMark(t, s, seqs[0]), historyMark(t, s, seqs[1])
	if m1 == "" || m1 != m2 {
		t.Errorf("marks of one commit = %q, %q; want one non-empty mark", m1, m2)
	}

	// A writable Tx answers for its own numbers with the mark its Commit
	// records.
	tx = begin(t, s, true)
	seq := put(t, tx, newItem("c", "C", "laptop", "09:00"))
	pending, ok, err := tx.HistoryMark(ctx, seq)
	if err != nil || !ok || pending == "" {
		t.Fatalf("HistoryMark of the Tx's own change = %q, %v, %v", pending, ok, err)
	}
	if m, _, _ := tx.HistoryMark(ctx, seqs[1]); m != m1 {
		t.Errorf("HistoryMark(%d) inside a later Tx = %q, want %q", seqs[1], m, m1)
	}
	commit(t, tx)
	if got := historyMark(t, s, seq); got != pending {
		t.Errorf("HistoryMark(%d) after Commit = %q, want the Tx's %q", seq, got, pending)
	}
	if pending == m1 {
		t.Error("two commits share a mark")
	}

	// A rolled back Tx records nothing: the next commit that takes the same
	// numbers has a mark of its own, as a store restored from a backup
	// would when it goes on.
	tx = begin(t, s, true)
	lost := put(t, tx, newItem("d", "D", "laptop", "09:00"))
	lostMark, _, _ := tx.HistoryMark(ctx, lost)
	if err := tx.Rollback(); err != nil {
		t.Fatal(err)
	}
	tx = begin(t, s, false)
	if m, ok, err := tx.HistoryMark(ctx, lost); err != nil || ok {
		t.Errorf("HistoryMark(%d) after Rollback = %q, %v, %v; want not ok", lost, m, ok, err)
	}
	tx.Rollback()
	again := putAll(t, s, newItem("e", "E", "laptop", "09:00"))[0]
	if got := historyMark(t, s, again); got == lostMark || got == "" {
		t.Errorf("HistoryMark(%d) = %q after a rolled back Tx had %q", again, got, lostMark)
	}
}
