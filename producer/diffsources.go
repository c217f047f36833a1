package producer

import (
	"context"
	"errors"
	"fmt"
	"io"
	"iter"

	"github.com/feedsync/go-feedsync/feedsync"
	"github.com/feedsync/go-feedsync/store"
)

// Source is one of the two item sets DiffSources compares: the items of a
// store (StoreSource, ItemSource) or of a feed (FeedSource). The zero
// Source holds nothing to compare, and DiffSources rejects it.
type Source struct {
	st    store.Store
	items store.ItemReader
	feed  *feedsync.Reader
}

// StoreSource is the items of st, tombstones included, read in a read-only
// transaction of its own (as StoreManifest reads them).
func StoreSource(st store.Store) Source { return Source{st: st} }

// ItemSource is the items r holds, tombstones included (as ManifestOf
// reads them): for a transaction the caller already has open.
func ItemSource(r store.ItemReader) Source { return Source{items: r} }

// FeedSource is the items of the feed r reads, taken as FeedManifest takes
// them: items without sx:sync are left out (FS-SYNC-1, FS-FEED-7), and an
// item with invalid sync metadata (FS-ROBUST-1) or a sync id that occurs
// twice (FS-SYNC-2, FS-ROBUST-3) fails the comparison, whichever comes
// first in the feed. The feed is read to its end.
func FeedSource(r *feedsync.Reader) Source { return Source{feed: r} }

// DiffOptions tune DiffSources. The zero value is the default.
type DiffOptions struct {
	// TempDir is the directory of the temporary files that a source of
	// more than some 16k items is sorted in (some 60 bytes and the sync
	// id per item), removed before DiffSources returns. Default: "", for
	// os.TempDir().
	TempDir string
}

// DiffTotals counts what DiffSources compared.
type DiffTotals struct {
	// A and B are the items of each source.
	A, B int
	// Differences is the number of items on which they differ: the
	// Differences DiffSources reported.
	Differences int
}

// SourceError is returned by DiffSources when reading one of its sources
// fails, or a feed source holds an item it cannot take (FeedSource).
type SourceError struct {
	// Source is "a" or "b", the argument of DiffSources that failed.
	Source string
	Err    error
}

func (e *SourceError) Error() string { return "source " + e.Source + ": " + e.Err.Error() }
func (e *SourceError) Unwrap() error { return e.Err }

// errNoSource is the error of a zero Source.
var errNoSource = errors.New("producer: zero Source: make it with StoreSource, ItemSource or FeedSource")

// DiffSources compares the items of a and b as Diff compares their
// manifests, and calls report with each Difference, in sync id order: an
// empty comparison (DiffTotals.Differences == 0) means the two item sets
// have converged (FS-MERGE-14).
//
// Unlike Diff, it never holds a manifest: the entries of each source are
// sorted by sync id, in temporary files past some 16k of them
// (DiffOptions.TempDir), and the two sorted sources are walked together,
// so that two stores of a million items take no more memory than two of a
// thousand. a is read whole, then b, then report is called.
//
// An error from report stops the comparison and is returned as it is; a
// failure to read a source is a *SourceError.
func DiffSources(ctx context.Context, a, b Source, opts DiffOptions, report func(Difference) error) (DiffTotals, error) {
	sa := &entrySorter{dir: opts.TempDir}
	defer sa.close()
	if err := a.sort(ctx, sa); err != nil {
		return DiffTotals{}, &SourceError{Source: "a", Err: err}
	}
	sb := &entrySorter{dir: opts.TempDir}
	defer sb.close()
	if err := b.sort(ctx, sb); err != nil {
		return DiffTotals{}, &SourceError{Source: "b", Err: err}
	}
	t := DiffTotals{A: int(sa.n), B: int(sb.n)}
	err := walkSorted(ctx, sa.values(), sb.values(), func(d Difference) error {
		t.Differences++
		return report(d)
	})
	return t, err
}

// eachEntry calls fn with the manifest entry of each item of src, and the
// item. Errors of fn are returned as they are.
func (src Source) eachEntry(ctx context.Context, fn func(Entry, *feedsync.Item) error) error {
	take := func(it *feedsync.Item) error {
		e, err := entryOf(it)
		if err != nil {
			return err
		}
		return fn(e, it)
	}
	switch {
	case src.st != nil:
		tx, err := src.st.Begin(ctx, false)
		if err != nil {
			return fmt.Errorf("manifest: begin: %w", err)
		}
		defer tx.Rollback()
		return ItemSource(tx).eachEntry(ctx, fn)
	case src.items != nil:
		for it, err := range src.items.All(ctx) {
			if err != nil {
				return fmt.Errorf("manifest: read items: %w", err)
			}
			if err := take(it); err != nil {
				return err
			}
		}
		return nil
	case src.feed != nil:
		for n := 0; ; n++ {
			// A Reader does not know ctx; a store's All does.
			if n%1024 == 0 && ctx.Err() != nil {
				return ctx.Err()
			}
			it, err := src.feed.Next()
			if err == io.EOF {
				return nil
			}
			if err != nil {
				return fmt.Errorf("manifest: read feed: %w", err)
			}
			if it.Sync == nil {
				continue
			}
			if err := it.Err(); err != nil {
				// Item.Err already names the item and its line.
				return fmt.Errorf("manifest: %w", err)
			}
			if err := take(it); err != nil {
				return err
			}
		}
	}
	return errNoSource
}

// sort adds the entry of every item of src to s, finished. A feed's
// duplicate ids show only once its entries are sorted, so an error found
// while reading it is returned only if no duplicate came before it.
func (src Source) sort(ctx context.Context, s *entrySorter) error {
	var addErr error
	err := src.eachEntry(ctx, func(e Entry, it *feedsync.Item) error {
		addErr = s.add(e, it.Line())
		return addErr
	})
	if addErr != nil {
		return addErr
	}
	if ferr := s.finish(); ferr != nil {
		return errors.Join(err, ferr)
	}
	if src.feed != nil {
		if dup := s.firstDuplicate(); dup != nil {
			return fmt.Errorf("manifest: %w", dup)
		}
	}
	return err
}

// walkSorted walks two sequences of entries in sync id order together and
// calls report for each item on which they differ, in that order: what
// Diff returns for their manifests.
func walkSorted(ctx context.Context, sa, sb iter.Seq2[Entry, error], report func(Difference) error) error {
	nextA, stopA := iter.Pull2(sa)
	defer stopA()
	nextB, stopB := iter.Pull2(sb)
	defer stopB()
	read := func(next func() (Entry, error, bool)) (Entry, bool, error) {
		e, err, ok := next()
		return e, ok && err == nil, err
	}
	a, okA, err := read(nextA)
	if err != nil {
		return err
	}
	b, okB, err := read(nextB)
	if err != nil {
		return err
	}
	for n := 0; okA || okB; n++ {
		if n%1024 == 0 && ctx.Err() != nil {
			return ctx.Err()
		}
		var d Difference
		advA, advB := false, false
		switch {
		case !okB || (okA && a.ID < b.ID):
			d = Difference{ID: a.ID, What: OnlyA, A: a}
			advA = true
		case !okA || b.ID < a.ID:
			d = Difference{ID: b.ID, What: OnlyB, B: b}
			advB = true
		default:
			d = Difference{ID: a.ID, What: compareEntries(a, b), A: a, B: b}
			advA, advB = true, true
		}
		if d.What != 0 {
			if err := report(d); err != nil {
				return err
			}
		}
		if advA {
			if a, okA, err = read(nextA); err != nil {
				return err
			}
		}
		if advB {
			if b, okB, err = read(nextB); err != nil {
				return err
			}
		}
	}
	return nil
}
