package storetest

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/feedsync/go-feedsync/feedsync"
	"github.com/feedsync/go-feedsync/store"
	"github.com/google/go-cmp/cmp"
)

// testRewrite: Rewrite replaces an item in place, without a new sequence
// number, and only with the same Version (compaction, FS-PURGE-3,
// FS-DELETE-2); a rollback undoes it.
func testRewrite(t *testing.T, s store.Store) {
	ctx := t.Context()
	long := newItem("long-1", "v1", "laptop", "08:00")
	long = update(long, "v2", "laptop", "09:00")
	long = update(long, "v3", "laptop", "10:00")
	other := newItem("other-1", "Other", "phone", "08:00")
	fence := conflicted("fence-1")
	seqs := putAll(t, s, long, other, fence)

	purged := feedsync.Purge(long)
	if len(purged.Sync.History) >= len(long.Sync.History) {
		t.Fatalf("Purge left %d of %d entries", len(purged.Sync.History), len(long.Sync.History))
	}
	tx := begin(t, s, true)
	defer tx.Rollback()
	if err := tx.Rewrite(ctx, purged); err != nil {
		t.Fatalf("rewrite: %v", err)
	}
	// Within the Tx: the new form, at the old seq, once.
	checkSame(t, get(t, tx, "long-1"), purged)
	if got, want := changes(t, tx, 0), []change{{seqs[0], "long-1", 3}, {seqs[1], "other-1", 1}, {seqs[2], "fence-1", 2}}; !cmp.Equal(got, want) {
		t.Errorf("changes in the Tx (-want +got):\n%s", cmp.Diff(want, got))
	}
	if got := lastSeq(t, tx); got != seqs[2] {
		t.Errorf("LastSeq after Rewrite = %d, want %d (a rewrite is not a change)", got, seqs[2])
	}
	commit(t, tx)

	tx = begin(t, s, false)
	checkSame(t, get(t, tx, "long-1"), purged)
	st, ok, err := tx.Stat(ctx, "long-1")
	if err != nil || !ok {
		t.Fatalf("stat: %v %v", ok, err)
	}
	if st.Seq != seqs[0] || !st.Version.Equal(store.VersionOf(long)) {
		t.Errorf("stat after rewrite = seq %d version %+v, want seq %d version %+v", st.Seq, st.Version, seqs[0], store.VersionOf(long))
	}
	if got := changes(t, tx, seqs[2]); len(got) != 0 {
		t.Errorf("changes after the last seq = %v, want none", got)
	}
	tx.Rollback()

	// A different version, or an item the store does not hold, is refused
	// and fails the Tx.
	for name, bad := range map[string]*feedsync.Item{
		"other version": update(long, "v4", "laptop", "11:00"),
		"missing":       newItem("missing-1", "Missing", "laptop", "08:00"),
		"conflict lost": newItem("fence-1", "Fence repair", "phone", "08:00"),
	} {
		t.Run(name, func(t *testing.T) {
			tx := begin(t, s, true)
			defer tx.Rollback()
			wantErr(t, "rewrite", tx.Rewrite(ctx, bad), store.ErrNotSameVersion)
			wantErr(t, "commit after a failed rewrite", tx.Commit(), store.ErrTxFailed)
		})
	}

	// Rewrite of an item put earlier in the same Tx keeps that Put's seq.
	tx = begin(t, s, true)
	defer tx.Rollback()
	long5 := update(update(purged, "v4", "laptop", "11:00"), "v5", "laptop", "12:00")
	seq := put(t, tx, long5)
	if err := tx.Rewrite(ctx, feedsync.Purge(long5)); err != nil {
		t.Fatal(err)
	}
	commit(t, tx)
	tx = begin(t, s, false)
	defer tx.Rollback()
	checkSame(t, get(t, tx, "long-1"), feedsync.Purge(long5))
	if got, want := changes(t, tx, seqs[2]), []change{{seq, "long-1", 5}}; !cmp.Equal(got, want) {
		t.Errorf("changes (-want +got):\n%s", cmp.Diff(want, got))
	}
	wantErr(t, "rewrite in a read-only Tx", tx.Rewrite(ctx, long5), store.ErrReadOnly)
}

// testRemove: Remove forgets an item and what peers hold of it (FS-RETAIN-1);
// it is not a change, and a rollback brings the item back.
func testRemove(t *testing.T, s store.Store) {
	ctx := t.Context()
	gone := must(feedsync.Delete(newItem("gone-1", "Old", "laptop", "07:00"), stamp("phone", "07:30")))
	keep := newItem("keep-1", "Keep", "laptop", "08:00")
	seqs := putAll(t, s, gone, keep)
	tx := begin(t, s, true)
	defer tx.Rollback()
	for _, p := range []string{"peer-a", "peer-b"} {
		for _, id := range []string{"gone-1", "keep-1"} {
			if err := tx.SetPeerVersion(ctx, p, id, store.VersionOf(gone)); err != nil {
				t.Fatal(err)
			}
		}
	}
	commit(t, tx)

	// Rolled back: nothing happened.
	tx = begin(t, s, true)
	if _, err := tx.Remove(ctx, "gone-1"); err != nil {
		t.Fatal(err)
	}
	if got := get(t, tx, "gone-1"); got != nil {
		t.Errorf("Get in the Tx after Remove = %v, want nil", got.ID())
	}
	if got := count(t, tx); got != 1 {
		t.Errorf("Count in the Tx after Remove = %d, want 1", got)
	}
	tx.Rollback()
	tx = begin(t, s, false)
	if get(t, tx, "gone-1") == nil {
		t.Errorf("rolled-back Remove removed the item")
	}
	tx.Rollback()

	tx = begin(t, s, true)
	defer tx.Rollback()
	var removed []int64
	for _, id := range []string{"gone-1", "gone-1", "never-1"} { // twice, and an unknown id: no error
		seq, err := tx.Remove(ctx, id)
		if err != nil {
			t.Fatalf("remove %q: %v", id, err)
		}
		removed = append(removed, seq)
	}
	if want := []int64{seqs[1] + 1, seqs[1] + 2, seqs[1] + 3}; !cmp.Equal(removed, want) {
		t.Errorf("Remove took seqs %v, want %v: each removal is a new point in the change history", removed, want)
	}
	commit(t, tx)

	tx = begin(t, s, false)
	defer tx.Rollback()
	if got := get(t, tx, "gone-1"); got != nil {
		t.Errorf("Get after Remove = %v, want nil", got.ID())
	}
	if _, ok, err := tx.Stat(ctx, "gone-1"); err != nil || ok {
		t.Errorf("Stat after Remove = %v, %v; want not found", ok, err)
	}
	if got, want := count(t, tx), 1; got != want {
		t.Errorf("Count = %d, want %d", got, want)
	}
	if got, want := all(t, tx), []string{"keep-1"}; !cmp.Equal(got, want) {
		t.Errorf("All = %v, want %v", got, want)
	}
	if got, want := changes(t, tx, 0), []change{{seqs[1], "keep-1", 1}}; !cmp.Equal(got, want) {
		t.Errorf("Changes (-want +got):\n%s", cmp.Diff(want, got))
	}
	if got := lastSeq(t, tx); got != removed[2] {
		t.Errorf("LastSeq = %d, want %d, the last removal's", got, removed[2])
	}
	if got := changes(t, tx, seqs[1]); len(got) != 0 {
		t.Errorf("changes after the removals' start = %v, want none: no feed carries a removal", got)
	}
	for _, p := range []string{"peer-a", "peer-b"} {
		if _, ok, err := tx.PeerVersion(ctx, p, "gone-1"); err != nil || ok {
			t.Errorf("PeerVersion(%s, gone-1) after Remove = %v, %v; want forgotten", p, ok, err)
		}
		if _, ok, err := tx.PeerVersion(ctx, p, "keep-1"); err != nil || !ok {
			t.Errorf("PeerVersion(%s, keep-1) = %v, %v; want kept", p, ok, err)
		}
	}
	_, err := tx.Remove(ctx, "keep-1")
	wantErr(t, "remove in a read-only Tx", err, store.ErrReadOnly)
	tx.Rollback()

	// Removed and put again in one Tx: a new item at a new seq.
	tx = begin(t, s, true)
	defer tx.Rollback()
	if _, err := tx.Remove(ctx, "keep-1"); err != nil {
		t.Fatal(err)
	}
	again := newItem("keep-1", "Again", "tablet", "09:00")
	seq := put(t, tx, again)
	if got := count(t, tx); got != 1 {
		t.Errorf("Count after Remove and Put = %d, want 1", got)
	}
	commit(t, tx)
	tx = begin(t, s, false)
	defer tx.Rollback()
	checkSame(t, get(t, tx, "keep-1"), again)
	if got, want := changes(t, tx, 0), []change{{seq, "keep-1", 1}}; !cmp.Equal(got, want) {
		t.Errorf("Changes (-want +got):\n%s", cmp.Diff(want, got))
	}
}

// testRetention: the forgotten horizon and marks round-trip, in UTC whole
// seconds, and are transactional (FS-RETAIN-1).
func testRetention(t *testing.T, s store.Store) {
	ctx := t.Context()
	tx := begin(t, s, false)
	got, err := tx.Retention(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if d := cmp.Diff(store.Retention{}, got); d != "" {
		t.Errorf("Retention of a new store (-want +got):\n%s", d)
	}
	tx.Rollback()

	east := time.FixedZone("east", 3*3600)
	set := store.Retention{Horizon: 7, Compacted: 9, Swept: 8, Marks: []store.Mark{
		{At: time.Date(2026, 1, 2, 3, 4, 5, 600, east), Seq: 3},
		{At: time.Date(2026, 1, 3, 3, 4, 5, 0, time.UTC), Seq: 9},
	}}
	want := store.Retention{Horizon: 7, Compacted: 9, Swept: 8, Marks: []store.Mark{
		{At: time.Date(2026, 1, 2, 0, 4, 5, 0, time.UTC), Seq: 3},
		{At: time.Date(2026, 1, 3, 3, 4, 5, 0, time.UTC), Seq: 9},
	}}
	tx = begin(t, s, true)
	if err := tx.SetRetention(ctx, set); err != nil {
		t.Fatal(err)
	}
	tx.Rollback()
	tx = begin(t, s, true)
	defer tx.Rollback()
	if got, err := tx.Retention(ctx); err != nil || got.Horizon != 0 {
		t.Errorf("Retention after a rolled-back SetRetention = %+v, %v", got, err)
	}
	if err := tx.SetRetention(ctx, set); err != nil {
		t.Fatal(err)
	}
	commit(t, tx)
	tx = begin(t, s, false)
	defer tx.Rollback()
	got, err = tx.Retention(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if d := cmp.Diff(want, got); d != "" {
		t.Errorf("Retention (-want +got):\n%s", d)
	}
	wantErr(t, "set retention in a read-only Tx", tx.SetRetention(ctx, set), store.ErrReadOnly)
}

// testCompact: store.Compact purges histories (FS-PURGE-1..4) and cuts
// tombstone payloads (FS-DELETE-2) in place, without a change a peer
// would fetch again, and forgets tombstones once their deletion is older
// than the window by the store's own clock, raising the forgotten horizon
// (FS-RETAIN-1). Batch 1 runs it one item per transaction.
func testCompact(t *testing.T, s store.Store)    { testCompactBatch(t, s, 0) }
func testCompactBy1(t *testing.T, s store.Store) { testCompactBatch(t, s, 1) }

func testCompactBatch(t *testing.T, s store.Store, batch int) {
	ctx := t.Context()
	long := newItem("long-1", "v1", "laptop", "08:00")
	long = update(long, "v2", "laptop", "09:00")
	long = update(long, "v3", "phone", "10:00")
	long = update(long, "v4", "laptop", "11:00")
	gone := must(feedsync.Delete(newItem("gone-1", "Old", "laptop", "07:00"), stamp("phone", "07:30")))
	fence := conflicted("fence-1")
	live := newItem("live-1", "Live", "tablet", "08:00")
	seqs := putAll(t, s, long, gone, fence, live)
	before := map[string]store.ItemStat{}
	tx := begin(t, s, true)
	for _, id := range []string{"long-1", "gone-1", "fence-1", "live-1"} {
		st, _, err := tx.Stat(ctx, id)
		if err != nil {
			t.Fatal(err)
		}
		before[id] = st
		if err := tx.SetPeerVersion(ctx, "peer-a", id, st.Version); err != nil {
			t.Fatal(err)
		}
	}
	commit(t, tx)

	t0 := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	compact := func(at time.Time) store.CompactResult {
		t.Helper()
		res, err := store.Compact(ctx, s, store.CompactOptions{Retain: time.Hour, Batch: batch, Now: func() time.Time { return at }})
		if err != nil {
			t.Fatalf("compact at %v: %v", at, err)
		}
		return res
	}

	// First run: thin, remove nothing (no mark is an hour old yet).
	res := compact(t0)
	if res.Purged != 1 || res.Minimized != 1 || res.Removed != 0 || res.Scanned != 4 {
		t.Errorf("first compaction = %+v, want 1 purged, 1 minimized, 0 removed, 4 scanned", res)
	}
	tx = begin(t, s, false)
	if got := lastSeq(t, tx); got != seqs[3] {
		t.Errorf("LastSeq after compaction = %d, want %d: compaction is not a change", got, seqs[3])
	}
	if got := changes(t, tx, seqs[3]); len(got) != 0 {
		t.Errorf("changes after the last token = %v, want none", got)
	}
	for id, was := range before {
		st, ok, err := tx.Stat(ctx, id)
		if err != nil || !ok {
			t.Fatalf("stat %q: %v %v", id, ok, err)
		}
		if st.Seq != was.Seq || !st.Version.Equal(was.Version) {
			t.Errorf("%s after compaction: seq %d version %+v, want seq %d version %+v", id, st.Seq, st.Version, was.Seq, was.Version)
		}
		v, ok, err := tx.PeerVersion(ctx, "peer-a", id)
		if err != nil || !ok || !v.Equal(st.Version) {
			t.Errorf("%s: the peer's version %+v (%v, %v) no longer matches the store's %+v", id, v, ok, err, st.Version)
		}
	}
	checkSame(t, get(t, tx, "long-1"), feedsync.Purge(long))
	if got := get(t, tx, "long-1"); len(got.Sync.History) != 2 || got.Sync.Updates != 4 {
		t.Errorf("purged history = %v updates %d, want 2 entries, updates 4 (FS-PURGE-3)", got.Sync.History, got.Sync.Updates)
	}
	wantGone, err := feedsync.Minimal(gone)
	if err != nil {
		t.Fatal(err)
	}
	checkSame(t, get(t, tx, "gone-1"), wantGone)
	checkSame(t, get(t, tx, "fence-1"), fence)
	checkSame(t, get(t, tx, "live-1"), live)
	tx.Rollback()

	// A second run finds nothing new to thin.
	if res := compact(t0.Add(time.Minute)); res.Scanned != 0 || res.Removed != 0 {
		t.Errorf("second compaction = %+v, want nothing scanned", res)
	}

	// A deletion half an hour later; an edit of the long item.
	tx = begin(t, s, true)
	defer tx.Rollback()
	late := must(feedsync.Delete(get(t, tx, "live-1"), stamp("phone", "12:30")))
	lateSeq := put(t, tx, late)
	long5 := update(get(t, tx, "long-1"), "v5", "phone", "12:31")
	put(t, tx, long5)
	commit(t, tx)
	if res := compact(t0.Add(30 * time.Minute)); res.Removed != 0 || res.Scanned != 2 || res.Minimized != 1 {
		t.Errorf("compaction at +30m = %+v, want 2 scanned, 1 minimized, none removed", res)
	}

	// An hour after the first run: what it had seen is old; the late
	// deletion is not.
	res = compact(t0.Add(time.Hour + time.Second))
	if res.Removed != 1 || res.Horizon != seqs[1] {
		t.Errorf("compaction at +1h = %+v, want gone-1 removed, horizon %d", res, seqs[1])
	}
	tx = begin(t, s, false)
	if get(t, tx, "gone-1") != nil {
		t.Error("gone-1 still there")
	}
	if get(t, tx, "live-1") == nil {
		t.Error("the late tombstone is gone before its time")
	}
	if _, ok, _ := tx.PeerVersion(ctx, "peer-a", "gone-1"); ok {
		t.Error("what peer-a held of gone-1 is still recorded")
	}
	ret, err := tx.Retention(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if ret.Horizon != seqs[1] {
		t.Errorf("Retention.Horizon = %d, want %d", ret.Horizon, seqs[1])
	}
	tx.Rollback()

	// Later still: the late tombstone goes too, and the horizon follows.
	res = compact(t0.Add(2 * time.Hour))
	if res.Removed != 1 || res.Horizon != lateSeq {
		t.Errorf("compaction at +2h = %+v, want live-1 removed, horizon %d", res, lateSeq)
	}
	tx = begin(t, s, false)
	defer tx.Rollback()
	if got, want := all(t, tx), []string{"fence-1", "long-1"}; !cmp.Equal(got, want) {
		t.Errorf("items left = %v, want %v", got, want)
	}
	ret, err = tx.Retention(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if len(ret.Marks) > 3 || ret.Marks[0].At.After(t0.Add(time.Hour)) {
		t.Errorf("marks = %v: want those older than the cutoff dropped", ret.Marks)
	}
}

// testCompactKeeps: with no retention window nothing is removed, however
// old (FS-DELETE-4: keep tombstones while a subscriber may need them).
func testCompactKeeps(t *testing.T, s store.Store) {
	ctx := t.Context()
	gone := must(feedsync.Delete(newItem("gone-1", "Old", "laptop", "07:00"), stamp("phone", "07:30")))
	putAll(t, s, gone)
	t0 := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	for i := range 3 {
		at := t0.Add(time.Duration(i) * 1000 * time.Hour)
		res, err := store.Compact(ctx, s, store.CompactOptions{Now: func() time.Time { return at }})
		if err != nil {
			t.Fatal(err)
		}
		if res.Removed != 0 || res.Horizon != 0 {
			t.Errorf("compaction %d without a window = %+v, want nothing removed", i, res)
		}
	}
	tx := begin(t, s, false)
	defer tx.Rollback()
	if get(t, tx, "gone-1") == nil {
		t.Error("tombstone removed without a retention window")
	}
}

// stopAfter is a Store whose writable transactions end ctx after n have
// begun: a compaction killed in the middle.
type stopAfter struct {
	store.Store
	n      int
	cancel context.CancelFunc
}

func (s *stopAfter) Begin(ctx context.Context, writable bool) (store.Tx, error) {
	if writable {
		if s.n == 0 {
			s.cancel()
		}
		s.n--
	}
	return s.Store.Begin(ctx, writable)
}

// testCompactInterrupted: a compaction stopped after any of its
// transactions leaves a consistent store, and the next one finishes the
// work: the same items, histories and horizon as one run without a stop.
func testCompactInterrupted(t *testing.T, s store.Store) {
	ctx := t.Context()
	var items []*feedsync.Item
	for i := range 7 {
		it := newItem(fmt.Sprintf("item-%d", i), "v1", "laptop", "08:00")
		it = update(it, "v2", "laptop", "09:00")
		it = update(it, "v3", "laptop", "10:00")
		if i%2 == 0 {
			it = must(feedsync.Delete(it, stamp("phone", "11:00")))
		}
		items = append(items, it)
	}
	putAll(t, s, items...)
	t0 := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	opts := func(at time.Time) store.CompactOptions {
		return store.CompactOptions{Retain: time.Hour, Batch: 2, Now: func() time.Time { return at }}
	}
	if _, err := store.Compact(ctx, s, opts(t0)); err != nil {
		t.Fatal(err)
	}
	// Stop the second compaction after each number of transactions in
	// turn, then let one finish.
	at := t0.Add(2 * time.Hour)
	for n := 1; ; n++ {
		cctx, cancel := context.WithCancel(ctx)
		_, err := store.Compact(cctx, &stopAfter{Store: s, n: n, cancel: cancel}, opts(at))
		cancel()
		if err == nil {
			if n < 4 {
				t.Errorf("compaction finished within %d transactions: the stops tested little", n)
			}
			break
		}
		if !errors.Is(err, context.Canceled) {
			t.Fatalf("compaction stopped after %d transactions: %v", n, err)
		}
		if n > 50 {
			t.Fatal("compaction never finishes")
		}
	}
	tx := begin(t, s, false)
	defer tx.Rollback()
	if got, want := all(t, tx), []string{"item-1", "item-3", "item-5"}; !cmp.Equal(got, want) {
		t.Errorf("items after interrupted compactions = %v, want %v", got, want)
	}
	for _, id := range []string{"item-1", "item-3", "item-5"} {
		if got := get(t, tx, id); len(got.Sync.History) != 1 || got.Sync.Updates != 3 {
			t.Errorf("%s: history %v, updates %d; want purged to 1 entry, updates 3", id, got.Sync.History, got.Sync.Updates)
		}
	}
	ret, err := tx.Retention(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if ret.Horizon != 7 || ret.Compacted < 7 {
		t.Errorf("retention = %+v, want horizon 7 (item-6's change), compacted through 7", ret)
	}
}
