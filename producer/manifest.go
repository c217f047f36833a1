package producer

import (
	"bytes"
	"context"
	"crypto/sha256"
	"fmt"
	"iter"
	"slices"
	"strconv"
	"strings"

	"github.com/feedsync/go-feedsync/feedsync"
	"github.com/feedsync/go-feedsync/store"
)

// Entry is one item of a Manifest: what synchronization knows about it,
// with digests in place of payloads.
type Entry struct {
	// ID is the item's sync id (FS-SYNC-2).
	ID string
	// Updates and Deleted are the winner's (FS-SYNC-3, FS-SYNC-4).
	Updates int64
	Deleted bool
	// Version is the winner's topmost history entry and the set of its
	// conflict versions (store.VersionOf): what decides whether two
	// endpoints hold the same state of the item.
	Version store.Version
	// Conflicts counts the conflict copies (FS-CONFLICTS-1).
	Conflicts int
	// Format is the format the item is kept in. Payload digests are only
	// comparable within one format (FS-FEED-10: the RSS and Atom forms of
	// one payload differ, and conversion is not an exact round trip).
	Format feedsync.Format
	// Payload is the digest of the winner's payload (feedsync.Item.Digest).
	Payload feedsync.Digest
	// Copies is a digest of the payload digests of the conflict copies,
	// independent of their order (§17 A-17); zero when there are none.
	Copies feedsync.Digest
}

// entryOf returns the manifest entry of it, which must carry sx:sync.
func entryOf(it *feedsync.Item) (Entry, error) {
	if it == nil || it.Sync == nil {
		return Entry{}, feedsync.ErrNoSync
	}
	e := Entry{
		ID:        it.ID(),
		Updates:   it.Sync.Updates,
		Deleted:   it.Sync.Deleted,
		Version:   store.VersionOf(it),
		Conflicts: len(it.Sync.Conflicts),
		Format:    it.Format(),
	}
	d, err := it.Digest()
	if err != nil {
		return Entry{}, fmt.Errorf("manifest: item %q: payload digest: %w", it.ID(), err)
	}
	e.Payload = d
	if len(it.Sync.Conflicts) > 0 {
		ds := make([]feedsync.Digest, 0, len(it.Sync.Conflicts))
		for _, c := range it.Sync.Conflicts {
			d, err := c.Digest()
			if err != nil {
				return Entry{}, fmt.Errorf("manifest: item %q: conflict copy %s: payload digest: %w", it.ID(), c.Sync.Top(), err)
			}
			ds = append(ds, d)
		}
		slices.SortFunc(ds, func(a, b feedsync.Digest) int { return bytes.Compare(a[:], b[:]) })
		h := sha256.New()
		for _, d := range ds {
			h.Write(d[:])
		}
		copy(e.Copies[:], h.Sum(nil))
	}
	return e, nil
}

// Manifest lists the items of an item set, a store or a feed, in sync id
// order, without payloads: enough to tell whether two endpoints converged,
// and if not, on which items they differ (Diff). It is what `feedsync
// verify` compares, whatever holds the items (two feed files, a feed and a
// store, two stores).
//
// A manifest holds an Entry for every item, so it grows with the item set
// (roughly 150 bytes per item).
type Manifest []Entry

// StoreManifest returns the manifest of st, read in a read-only
// transaction of its own.
func StoreManifest(ctx context.Context, st store.Store) (Manifest, error) {
	return manifest(ctx, StoreSource(st), nil)
}

// ManifestOf returns the manifest of the items r holds, tombstones included.
func ManifestOf(ctx context.Context, r store.ItemReader) (Manifest, error) {
	return manifest(ctx, ItemSource(r), nil)
}

// FeedManifest returns the manifest of the feed r reads. Items without
// sx:sync take no part in synchronization and are left out (FS-SYNC-1,
// FS-FEED-7). An item with invalid sync metadata (FS-ROBUST-1) or a sync id
// that occurs twice (FS-SYNC-2, FS-ROBUST-3) fails it: such a feed cannot be
// said to hold one state per item.
func FeedManifest(r *feedsync.Reader) (Manifest, error) {
	var ids feedsync.IDSet
	return manifest(context.Background(), FeedSource(r), func(it *feedsync.Item) error {
		if err := ids.Add(it); err != nil {
			return fmt.Errorf("manifest: %w", err)
		}
		return nil
	})
}

// manifest returns the manifest of src, checking each item with check
// when it is not nil.
func manifest(ctx context.Context, src Source, check func(*feedsync.Item) error) (Manifest, error) {
	var m Manifest
	err := src.eachEntry(ctx, func(e Entry, it *feedsync.Item) error {
		if check != nil {
			if err := check(it); err != nil {
				return err
			}
		}
		m = append(m, e)
		return nil
	})
	if err != nil {
		return nil, err
	}
	m.sort()
	return m, nil
}

func (m Manifest) sort() {
	slices.SortFunc(m, func(a, b Entry) int { return strings.Compare(a.ID, b.ID) })
}

// Sum returns a digest of the whole manifest: two manifests with the same
// entries have the same Sum, whatever the order of the items in the store
// or feed they came from. Payload digests go in as they are, so item sets
// kept in different formats have different sums even when Diff finds no
// difference.
func (m Manifest) Sum() [32]byte {
	h := sha256.New()
	var buf []byte
	for _, e := range m {
		buf = buf[:0]
		buf = append(buf, e.ID...)
		buf = append(buf, 0)
		buf = strconv.AppendInt(buf, e.Updates, 10)
		buf = strconv.AppendBool(buf, e.Deleted)
		buf = append(buf, e.Version.Top.String()...)
		buf = append(buf, 0)
		buf = strconv.AppendInt(buf, e.Version.Top.When.Unix(), 10)
		buf = append(buf, e.Version.Conflicts...)
		buf = append(buf, 0)
		buf = append(buf, e.Payload[:]...)
		buf = append(buf, e.Copies[:]...)
		h.Write(buf)
	}
	var s [32]byte
	copy(s[:], h.Sum(nil))
	return s
}

// Kind says in what two entries of one item differ. A Difference may have
// several kinds at once.
type Kind uint8

const (
	// OnlyA: the item is in manifest a only.
	OnlyA Kind = 1 << iota
	// OnlyB: the item is in manifest b only.
	OnlyB
	// Winner: the winning versions differ (topmost history entry or
	// updates): one side lacks an update the other has, or they hold
	// concurrent versions.
	Winner
	// Deleted: one side holds a tombstone and the other a live item.
	Deleted
	// Conflicts: the sets of conflict versions differ (FS-CONFLICT-4).
	Conflicts
	// Payload: the same versions carry different payloads (the anonymous
	// collision of FS-CONFLICT-6, or shared data changed without an
	// update, FS-UPDATE-6). Only checked between entries of one format.
	Payload
)

// String lists the kinds, for example "winner, deleted".
func (k Kind) String() string {
	names := []string{"only in a", "only in b", "winner", "deleted", "conflicts", "payload"}
	var out []string
	for i, n := range names {
		if k&(1<<i) != 0 {
			out = append(out, n)
		}
	}
	if len(out) == 0 {
		return "same"
	}
	return strings.Join(out, ", ")
}

// Difference is one item on which two manifests disagree.
type Difference struct {
	ID   string
	What Kind
	// A and B are the item's entries in each manifest; the zero Entry on
	// the side that lacks the item.
	A, B Entry
}

// String describes the difference in one line, for example
// `"fence-1": winner 3@laptop in a, 4@phone in b`.
func (d Difference) String() string {
	switch {
	case d.What&OnlyA != 0:
		return fmt.Sprintf("%q: only in a (%s)", d.ID, describe(d.A))
	case d.What&OnlyB != 0:
		return fmt.Sprintf("%q: only in b (%s)", d.ID, describe(d.B))
	}
	return fmt.Sprintf("%q: %s differ: %s in a, %s in b", d.ID, d.What, describe(d.A), describe(d.B))
}

func describe(e Entry) string {
	s := fmt.Sprintf("updates %d, top %s", e.Updates, e.Version.Top)
	if e.Deleted {
		s += ", deleted"
	}
	if e.Conflicts > 0 {
		s += fmt.Sprintf(", %d conflicts", e.Conflicts)
	}
	return s
}

// Diff compares two manifests and returns the items on which they differ,
// in sync id order: items missing on one side, different winners, deleted
// flags, conflict sets, and different payloads of the same versions. An
// empty result means the two item sets have converged (FS-MERGE-14): the
// same items, winners, tombstones and conflicts everywhere.
func Diff(a, b Manifest) []Difference {
	var out []Difference
	// The walk of DiffSources, over entries that cannot fail to read.
	err := walkSorted(context.Background(), a.entries(), b.entries(), func(d Difference) error {
		out = append(out, d)
		return nil
	})
	if err != nil {
		panic(fmt.Sprintf("producer: Diff of manifests in memory failed: %v", err))
	}
	return out
}

func (m Manifest) entries() iter.Seq2[Entry, error] {
	return func(yield func(Entry, error) bool) {
		for _, e := range m {
			if !yield(e, nil) {
				return
			}
		}
	}
}

// compareEntries returns in what the entries x and y of one item differ, 0
// when they agree.
func compareEntries(x, y Entry) Kind {
	var k Kind
	if x.Updates != y.Updates || !sameTop(x.Version.Top, y.Version.Top) {
		k |= Winner
	}
	if x.Deleted != y.Deleted {
		k |= Deleted
	}
	if x.Version.Conflicts != y.Version.Conflicts {
		k |= Conflicts
	}
	if k == 0 && x.Format == y.Format && (x.Payload != y.Payload || x.Copies != y.Copies) {
		k |= Payload
	}
	return k
}

func sameTop(x, y feedsync.History) bool {
	return x.By == y.By && x.Sequence == y.Sequence && x.When.Equal(y.When)
}
