package merge

import (
	"context"
	"errors"
	"fmt"
	"io"

	"github.com/feedsync/go-feedsync/feedsync"
)

// MaxRejections is how many rejection errors a Summary keeps; Rejected
// counts them all.
const MaxRejections = 100

// Options are the settings of Feeds and Run. The zero value gives the spec's
// defaults.
type Options struct {
	// Format is the format of the output feed (Feeds) or of items added to
	// the local side (Run). Default: the local feed's format (Feeds) or the
	// format each incoming item arrives in (Run). An incoming item that meets
	// a local one is always converted to the local item's format first, so
	// that its conflict copies are kept in the format of the feed that holds
	// them (FS-FEED-10).
	Format feedsync.Format
	// Into is the header of the feed Run's local items are written into,
	// when they are: an incoming item without a language that enters a
	// feed setting one says it has none (feedsync.Enter), so that it
	// means the same there. Feeds uses the local feed's own header.
	// Default: nil, a local side that gives items no language (a store).
	Into *feedsync.Header
	// Policy decides what happens to an item the merge left with conflicts.
	// Default (nil): feedsync.KeepConflicts, the spec's behaviour
	// (FS-CONFLICT-2).
	Policy feedsync.ConflictPolicy
	// Stamp identifies the local endpoint. Automatic policies stamp their
	// resolutions with it (FS-RESOLVE-2). Default: empty, which is enough
	// for policies that keep conflicts.
	Stamp feedsync.Stamp
	// OnItem, if set, is called once for every incoming item that has
	// sx:sync, with the item's id and line in the incoming feed, its
	// outcome and, for Rejected, why. Run calls it in incoming document
	// order. Feeds calls it for invalid items while it reads the incoming
	// feed, then for merged items in local document order, then for added
	// items in incoming order. Default: nil.
	OnItem func(id string, line int, o feedsync.Outcome, err error)
	// TempDir is where Feeds keeps its two spill files while it runs, each
	// about the size of its feed. Default: os.TempDir().
	TempDir string
	// Admit, if set, is asked about every valid incoming item before it is
	// merged, with its local counterpart (nil when there is none); an
	// error rejects the item, which is reported with that error and left
	// out, and the local item stays as it is. Servers use it to bind what
	// an authenticated sender writes to it (feedsync.Trust.Check,
	// FS-TRUST-1). Default: nil, every item is admitted.
	Admit func(local, incoming *feedsync.Item) error
	// ReaderOptions bound what Feeds accepts from both feeds (FS-ROBUST-4),
	// and, in Feeds and Run alike, every result written: a result a reader
	// with these options would refuse is rejected (FS-ROBUST-6). Run takes
	// a Reader that already has its own options for the incoming feed.
	// Default: the zero feedsync.ReaderOptions.
	ReaderOptions feedsync.ReaderOptions
}

// Summary counts the outcomes of a merge (FS-MERGE-16), one per incoming
// item that has sx:sync.
type Summary struct {
	// Added counts incoming items that had no local counterpart
	// (FS-MERGE-1).
	Added int
	// Updated counts items whose result differs from the local item without
	// new conflicts: the incoming version won, or conflict copies went away.
	Updated int
	// Deleted counts items whose winner became a tombstone (FS-DELETE-3).
	Deleted int
	// Conflicts counts items that gained conflict versions (FS-CONFLICT-2),
	// whether or not a policy then resolved them.
	Conflicts int
	// Unchanged counts incoming items that left the local item as it was
	// (FS-MERGE-14).
	Unchanged int
	// Rejected counts incoming items left out because their metadata, or
	// their local counterpart's, is invalid (FS-ROBUST-1), or because the
	// result would exceed the reader's limits (FS-ROBUST-6).
	Rejected int
	// Rejections holds the first MaxRejections rejection errors, each an
	// *feedsync.ItemError naming the item's id and line.
	Rejections []error
}

// String returns the one-line summary the CLI prints, for example
// "2 new, 1 updated, 0 deleted, 1 conflict, 7 unchanged, 0 rejected".
func (s Summary) String() string {
	conflicts := "conflicts"
	if s.Conflicts == 1 {
		conflicts = "conflict"
	}
	return fmt.Sprintf("%d new, %d updated, %d deleted, %d %s, %d unchanged, %d rejected",
		s.Added, s.Updated, s.Deleted, s.Conflicts, conflicts, s.Unchanged, s.Rejected)
}

// Changed reports whether the merge changed the local side: whether some
// item was added, updated, deleted or gained conflicts.
func (s Summary) Changed() bool {
	return s.Added+s.Updated+s.Deleted+s.Conflicts > 0
}

// count records one outcome.
func (s *Summary) count(o feedsync.Outcome, err error) {
	switch o {
	case feedsync.Added:
		s.Added++
	case feedsync.Updated:
		s.Updated++
	case feedsync.Deleted:
		s.Deleted++
	case feedsync.Conflict:
		s.Conflicts++
	case feedsync.Unchanged:
		s.Unchanged++
	case feedsync.Rejected:
		s.Rejected++
		if len(s.Rejections) < MaxRejections {
			s.Rejections = append(s.Rejections, err)
		}
	}
}

// changed reports whether an outcome asks for the local side to be written.
func changed(o feedsync.Outcome) bool {
	switch o {
	case feedsync.Added, feedsync.Updated, feedsync.Deleted, feedsync.Conflict:
		return true
	}
	return false
}

// merger holds what the per-item step needs: the options and the running
// summary. Feeds and Run both drive it, so every rule below applies to both.
type merger struct {
	opts Options
	sum  Summary
	// into is the header of the feed results are written into, which
	// incoming items enter (feedsync.Enter).
	into *feedsync.Header
}

// reject builds the *feedsync.ItemError reported for a rejected item.
func reject(it *feedsync.Item, err error) error {
	var ie *feedsync.ItemError
	if errors.As(err, &ie) && ie.Line == it.Line() && ie.ID == it.ID() {
		return err
	}
	return &feedsync.ItemError{ID: it.ID(), Line: it.Line(), Err: err}
}

// check is the first half of the per-item step: an incoming item with
// invalid metadata is rejected and left out of the merge (FS-ROBUST-1). It
// returns the *feedsync.ItemError to report, or nil.
func check(incoming *feedsync.Item) error {
	if err := incoming.Err(); err != nil {
		return reject(incoming, err)
	}
	return nil
}

// step merges one incoming item, which check found valid, into its local
// counterpart (nil when there is none), whose metadata error is localErr
// (metaErr; Feeds keeps it from when it read the item), and returns the
// item the local side should hold and the outcome. With check it is the per-item step that Feeds
// and Run share:
//
//  1. an incoming item whose local counterpart has invalid metadata is
//     Rejected, and the local item stays as it is (FS-ROBUST-1 read for the
//     local side); so is one opts.Admit refuses (FS-TRUST-1);
//  2. the incoming item takes along the xml:base and xml:lang of its feed
//     (feedsync.Carry), takes the form that means the same in the local
//     feed (feedsync.Enter: xml:lang="" where the local feed sets a
//     language and the item has none), and is converted to the local
//     item's format, or to addFormat when there is no local item and
//     addFormat is set
//     (FS-FEED-10), so that conflict copies are kept in the format of the
//     feed that holds them, and payloads are compared in one format: the
//     incoming payload of the same version wins when it differs, whatever
//     the formats (§17 A-18; conversion gives a payload back after one
//     round trip, so endpoints converge);
//  3. feedsync.MergeItem does the merge proper (FS-MERGE-1..11, -16);
//  4. when the result differs from the local item and holds conflict copies,
//     the policy may resolve them. The outcome stays what the merge found:
//     Conflict still says that the versions conflicted;
//  5. a changed result that a reader with opts.ReaderOptions would refuse
//     (too many conflict copies or history entries, a version too large)
//     is Rejected and the local item stays as it is (FS-ROBUST-6).
//
// A Rejected outcome comes with the reason; any other error is a real
// failure (a conversion or a policy failed) that stops the merge. The
// caller has already matched ids and ignored items without sx:sync
// (FS-FEED-7).
func (m *merger) step(local *feedsync.Item, localErr error, incoming *feedsync.Item, addFormat feedsync.Format) (*feedsync.Item, feedsync.Outcome, error) {
	if localErr != nil {
		return local, feedsync.Rejected, reject(incoming,
			fmt.Errorf("local item %q (line %d) has invalid sync metadata, kept as it is: %w", local.ID(), local.Line(), localErr))
	}
	if m.opts.Admit != nil {
		if err := m.opts.Admit(local, incoming); err != nil {
			return local, feedsync.Rejected, reject(incoming, err)
		}
	}
	to := addFormat
	if local != nil {
		to = local.Format()
	}
	// The item leaves its feed: the xml:base and xml:lang in force there go
	// with it (feedsync.Carry).
	in := feedsync.Enter(feedsync.Carry(incoming), m.into)
	if to != feedsync.FormatUnknown && in.Format() != to {
		c, err := feedsync.ConvertItem(in, to)
		if err != nil {
			return nil, 0, fmt.Errorf("convert incoming item %q (line %d) to %v: %w", incoming.ID(), incoming.Line(), to, err)
		}
		in = c
	}
	res, o := feedsync.MergeItem(local, in)
	if o != feedsync.Unchanged && m.opts.Policy != nil && res.Sync != nil && len(res.Sync.Conflicts) > 0 {
		// Reading of the policy contract (feedsync.ConflictPolicy): apply it
		// to results that hold conflicts and that the merge changed. An
		// Unchanged item stays byte for byte, so merging the same feed
		// twice still changes nothing (FS-MERGE-14).
		r, err := m.opts.Policy.Apply(res, local, in, m.opts.Stamp)
		if err != nil {
			return nil, 0, fmt.Errorf("conflict policy on item %q (line %d): %w", incoming.ID(), incoming.Line(), err)
		}
		res = r
	}
	if changed(o) && checkResults {
		// FS-ROBUST-6: a result the reader would refuse is never written;
		// the local item stays as it was.
		if err := m.opts.ReaderOptions.Check(res); err != nil {
			return local, feedsync.Rejected, reject(incoming, err)
		}
	}
	return res, o, nil
}

// metaErr returns the metadata error of a local item (nil for none, or for
// an item without sx:sync), which step takes as localErr.
func metaErr(local *feedsync.Item) error {
	if local == nil || local.Sync == nil {
		return nil
	}
	return local.Err()
}

// checkResults is false only in the benchmark that measures what the
// FS-ROBUST-6 check of results costs (BenchmarkMergeLimitCheck).
var checkResults = true

// report counts an outcome and tells OnItem.
func (m *merger) report(in *feedsync.Item, o feedsync.Outcome, err error) {
	m.sum.count(o, err)
	if m.opts.OnItem != nil {
		m.opts.OnItem(in.ID(), in.Line(), o, err)
	}
}

// Local is the local side of a merge: the item set the incoming feed is
// merged into. Run reads each incoming item's counterpart with Get and writes
// changed results with Put. Package consumer implements it over a store
// transaction; MemoryLocal is the in-memory implementation.
type Local interface {
	// Get returns the local item with sync id id, or nil, nil when there is
	// none.
	Get(ctx context.Context, id string) (*feedsync.Item, error)
	// Put stores item, the merge result for its id. It is called only for
	// the outcomes Added, Updated, Deleted and Conflict, which say what
	// happened (FS-MERGE-16).
	Put(ctx context.Context, item *feedsync.Item, o feedsync.Outcome) error
}

// Run merges the incoming feed into local (the arguments in the order of
// Feeds and feedsync.MergeItem: local first): for each incoming item with
// sx:sync, in document order, it looks up the local item with the same id,
// merges the two with the step Feeds uses, and puts every changed result.
// Items without sx:sync are ignored (FS-FEED-7, §17 A-11); invalid ones are
// rejected and counted (FS-ROBUST-1). A sync id that occurs twice in the
// incoming feed stops the run with an error wrapping
// feedsync.ErrDuplicateID (FS-ROBUST-3, §17 A-10); the items before it have
// been put by then, so callers run it inside a transaction they roll back
// on error.
//
// A Local that is also an Observer sees every valid incoming item before it
// is merged (observe.go).
//
// Run checks ctx between items. opts.TempDir is not used, and
// opts.ReaderOptions only bounds the results (the Reader has its own).
func Run(ctx context.Context, local Local, incoming *feedsync.Reader, opts Options) (Summary, error) {
	m := &merger{opts: opts, into: opts.Into}
	var ids feedsync.IDSet
	for {
		if err := ctx.Err(); err != nil {
			return m.sum, fmt.Errorf("merge: %w", err)
		}
		in, err := incoming.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			return m.sum, fmt.Errorf("merge: read incoming: %w", err)
		}
		if in.Sync == nil {
			continue // FS-FEED-7
		}
		if in.ID() != "" {
			if err := ids.Add(in); err != nil {
				return m.sum, fmt.Errorf("merge: incoming feed: %w", err)
			}
		}
		if err := check(in); err != nil {
			m.report(in, feedsync.Rejected, err)
			continue
		}
		if err := observe(ctx, local, in); err != nil {
			return m.sum, err
		}
		l, err := local.Get(ctx, in.ID())
		if err != nil {
			return m.sum, fmt.Errorf("merge: get local item %q: %w", in.ID(), err)
		}
		res, o, err := m.step(l, metaErr(l), in, opts.Format)
		if err != nil && o != feedsync.Rejected {
			return m.sum, fmt.Errorf("merge: %w", err)
		}
		if changed(o) {
			if err := local.Put(ctx, res, o); err != nil {
				return m.sum, fmt.Errorf("merge: put item %q: %w", in.ID(), err)
			}
		}
		m.report(in, o, err)
	}
	return m.sum, nil
}
