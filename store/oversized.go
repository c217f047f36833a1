package store

import (
	"context"
	"errors"
	"fmt"
	"iter"

	"github.com/feedsync/go-feedsync/feedsync"
)

// ErrOversized is wrapped by the error of a read that meets an item stored
// beyond the reader's default limits (FS-ROBUST-4): more conflict copies or
// history entries than they allow, or a version larger than they allow.
// Put refuses such items (FS-ROBUST-6), but an older version of this module
// could store them. The error is an *OversizedError: it names the item,
// the limit and the command that repairs it. It is the store's problem,
// not its reader's: it does not wrap feedsync.ErrLimit, which means "the
// input is too large".
var ErrOversized = errors.New("store: item stored beyond the reader's limits")

// OversizedError says which stored item is beyond which limit, and how to
// repair it in place. Repairs read the item with feedsync.RepairLimits
// (RepairReader) and write back a result within the defaults.
type OversizedError struct {
	ID string
	// Limit says which limit the item exceeds and by how much.
	Limit string
	// Repair is the command line that brings the item back under the
	// limits (DSN stands for the store), with what it does.
	Repair string
}

func (e *OversizedError) Error() string {
	return fmt.Sprintf("item %q is stored beyond the reader's limits (FS-ROBUST-6): %s; repair it with %s", e.ID, e.Limit, e.Repair)
}

// Is reports whether target is ErrOversized.
func (e *OversizedError) Is(target error) bool { return target == ErrOversized }

// Oversized returns the error of a read that failed with err (which wraps
// feedsync.ErrLimit) on item id, stored as the standalone element xml: an
// *OversizedError when the item reads with feedsync.RepairLimits, naming
// the limit and the repair; otherwise err with the item named, as no
// command can read the item back.
func Oversized(id string, xml []byte, err error) error {
	it, rerr := feedsync.RepairLimits().UnmarshalItem(xml)
	if rerr != nil {
		return fmt.Errorf("%w: item %q is beyond even the repair limits (FS-ROBUST-6), no command can read it: %v", ErrOversized, id, err)
	}
	return OversizedOf(it)
}

// OversizedOf returns an *OversizedError for it, an item beyond the
// default limits, or nil when it is within them.
func OversizedOf(it *feedsync.Item) error {
	cerr := (feedsync.ReaderOptions{}).Check(it)
	if cerr == nil {
		return nil
	}
	e := &OversizedError{ID: it.ID(), Limit: limitOf(it, cerr)}
	id := it.ID()
	resolve := fmt.Sprintf("'feedsync resolve --store DSN --id %s --keep 0' (keeps the current winner and settles the conflicts; --keep-from ENDPOINT keeps another version)", id)
	lim := feedsync.ReaderOptions{}
	p := feedsync.Purge(it)
	switch {
	case len(it.Sync.Conflicts) > feedsync.DefaultMaxConflicts:
		e.Repair = resolve
	case lim.Check(p) == nil:
		e.Repair = "'feedsync compact --store DSN' (keeps one history entry per endpoint, FS-PURGE-1)"
	case len(p.Sync.History) > feedsync.DefaultMaxHistory:
		// Every entry is another endpoint's latest: no purge may drop one
		// (FS-PURGE-3), and a resolution would only add entries.
		e.Repair = fmt.Sprintf("no command: its %d entries are each the latest of another endpoint, which no purge may drop (FS-PURGE-3)", len(p.Sync.History))
	case len(it.Sync.Conflicts) > 0:
		e.Repair = fmt.Sprintf("'feedsync resolve --store DSN --id %s --keep-from ENDPOINT' keeping a version small enough (or --keep N, 0 for the current winner), or 'feedsync update --store DSN --id %s' giving it smaller content", id, id)
	default:
		e.Repair = fmt.Sprintf("'feedsync update --store DSN --id %s' giving it smaller content", id)
	}
	return e
}

// limitOf says which limit it exceeds; err is Check's error.
func limitOf(it *feedsync.Item, err error) string {
	s := it.Sync
	if n := len(s.Conflicts); n > feedsync.DefaultMaxConflicts {
		return fmt.Sprintf("%d conflict copies, more than the limit of %d", n, feedsync.DefaultMaxConflicts)
	}
	for k := 0; k <= len(s.Conflicts); k++ {
		v, what := it, "the item"
		if k > 0 {
			v, what = s.Conflicts[k-1], fmt.Sprintf("conflict copy %d", k)
		}
		if v == nil || v.Sync == nil {
			continue
		}
		if n := len(v.Sync.History); n > feedsync.DefaultMaxHistory {
			return fmt.Sprintf("%s holds %d sx:history entries, more than the limit of %d", what, n, feedsync.DefaultMaxHistory)
		}
	}
	// A size: the reader's own words.
	var se *feedsync.SyntaxError
	if b, merr := feedsync.MarshalItem(it); merr == nil {
		if _, rerr := feedsync.UnmarshalItem(b); errors.As(rerr, &se) {
			return se.Msg
		}
	}
	var ie *feedsync.ItemError
	if errors.As(err, &ie) {
		return ie.Err.Error()
	}
	return err.Error()
}

// RepairReader is implemented by the transactions of the stores of this
// module. Its methods read items with other reader limits than the
// defaults Get and Changes use. Only repairs use them, with
// feedsync.RepairLimits: Compact, and the commands that change one item
// (resolve, update, delete), so that an item stored beyond the defaults
// (ErrOversized) can be brought back under them. What they write is held
// to the defaults by Put and Rewrite, as always.
type RepairReader interface {
	// GetLimits is Get, reading the item with the limits opts.
	GetLimits(ctx context.Context, id string, opts feedsync.ReaderOptions) (*feedsync.Item, error)
	// ChangesLimits is Changes, reading the items with the limits opts.
	ChangesLimits(ctx context.Context, after int64, opts feedsync.ReaderOptions) iter.Seq2[Change, error]
}

// GetForRepair returns item id read with feedsync.RepairLimits when r can
// (RepairReader), and r.Get otherwise.
func GetForRepair(ctx context.Context, r ItemReader, id string) (*feedsync.Item, error) {
	if rr, ok := r.(RepairReader); ok {
		return rr.GetLimits(ctx, id, feedsync.RepairLimits())
	}
	return r.Get(ctx, id)
}

// changesForRepair is Changes read with feedsync.RepairLimits when r can.
func changesForRepair(ctx context.Context, r ChangeReader, after int64) iter.Seq2[Change, error] {
	if rr, ok := r.(RepairReader); ok {
		return rr.ChangesLimits(ctx, after, feedsync.RepairLimits())
	}
	return r.Changes(ctx, after)
}
