package itemrow

import (
	"bytes"
	"errors"
	"fmt"
	"iter"

	"github.com/feedsync/go-feedsync/feedsync"
	"github.com/feedsync/go-feedsync/store"
)

// Change is one row of a change query: the sequence number of the item's
// latest change, its sync id and its stored form (Encode).
type Change struct {
	Seq  int64
	ID   string
	Data []byte
}

// Pages yields the values of successive batches read by next. Each batch
// is read after the sequence number of the last value yielded, so a loop
// body that changes the store sees a consistent cursor; iteration ends when
// next reports no more rows, returns an error (yielded last), or the loop
// stops. The database stores read a whole batch before yielding any of it:
// a connection runs one query at a time and the caller may use the Tx in
// the loop.
func Pages[T any](after int64, next func(after int64) (batch []T, more bool, err error), seq func(T) int64) iter.Seq2[T, error] {
	return func(yield func(T, error) bool) {
		for {
			batch, more, err := next(after)
			if err != nil {
				var zero T
				yield(zero, err)
				return
			}
			for _, v := range batch {
				if !yield(v, nil) {
					return
				}
				after = seq(v)
			}
			if !more {
				return
			}
		}
	}
}

// Changes decodes the rows that next reads, page by page, into store
// changes. driver prefixes decoding errors; fail records such an error on
// the transaction and returns it.
// Items are read with the limits opts (the defaults when zero).
func Changes(driver string, after int64, opts feedsync.ReaderOptions, next func(after int64) ([]Change, bool, error), fail func(error) error) iter.Seq2[store.Change, error] {
	return func(yield func(store.Change, error) bool) {
		for r, err := range Pages(after, next, func(c Change) int64 { return c.Seq }) {
			if err != nil {
				yield(store.Change{}, err)
				return
			}
			it, err := DecodeLimits(r.ID, r.Data, opts)
			if err != nil {
				yield(store.Change{}, fmt.Errorf("%s: changes: %w", driver, fail(err)))
				return
			}
			if !yield(store.Change{Seq: r.Seq, Item: it}, nil) {
				return
			}
		}
	}
}

// StatRow is one row of a query for stats and stored items.
type StatRow struct {
	store.ItemStat
	Data []byte
}

// ChangesXML yields the rows that next reads, page by page, with their
// stored forms turned back into standalone XML (XML). driver prefixes
// decoding errors; fail records such an error on the transaction and
// returns it.
func ChangesXML(driver string, after int64, next func(after int64) ([]StatRow, bool, error), fail func(error) error) iter.Seq2[store.XMLChange, error] {
	return func(yield func(store.XMLChange, error) bool) {
		for r, err := range Pages(after, next, func(r StatRow) int64 { return r.Seq }) {
			if err != nil {
				yield(store.XMLChange{}, err)
				return
			}
			xml, err := XML(r.Data)
			if err != nil {
				yield(store.XMLChange{}, fmt.Errorf("%s: changes: item %q: %w", driver, r.ID, fail(err)))
				return
			}
			if mayExceed(r.ItemStat, xml) {
				// Copied without parsing, it would reach every reader
				// of the feed, which would refuse it.
				if _, err := feedsync.UnmarshalItem(xml); errors.Is(err, feedsync.ErrLimit) {
					yield(store.XMLChange{}, fmt.Errorf("%s: changes: %w", driver, fail(store.Oversized(r.ID, xml, err))))
					return
				}
			}
			if !yield(store.XMLChange{ItemStat: r.ItemStat, XML: xml}, nil) {
				return
			}
		}
	}
}

// minHistoryBytes is less than the size of any sx:history element
// (<h by="x"/>, shorter than any real one).
const minHistoryBytes = 12

// historyName is in the name of every sx:history element, whatever its
// prefix.
var historyName = []byte("history")

// mayExceed reports whether a stored item could be beyond the default
// reader limits, from its stat and bytes without parsing them: only such
// items are parsed before they are copied into a feed. An item with no
// more conflict copies than allowed, no larger than one version may be,
// and too short to hold more history entries than allowed (or naming
// history fewer times than that) is within them.
func mayExceed(s store.ItemStat, xml []byte) bool {
	switch {
	case s.Conflicts > feedsync.DefaultMaxConflicts, len(xml) > feedsync.DefaultMaxItemBytes:
		return true
	case len(xml) <= feedsync.DefaultMaxHistory*minHistoryBytes:
		return false
	}
	return bytes.Count(xml, historyName) > feedsync.DefaultMaxHistory
}

// StatSeq is the cursor of a Stats page.
func StatSeq(s store.ItemStat) int64 { return s.Seq }

// Batches turns a driver's read of one batch into the next function of
// Changes and ChangesXML: enter checks, before each batch, that the Tx may
// still read; a failed read fails the Tx (fail), and both errors say which
// batch failed.
func Batches[T any](driver string, enter func() error, read func(after int64) ([]T, bool, error), fail func(error) error) func(after int64) ([]T, bool, error) {
	return func(after int64) ([]T, bool, error) {
		if err := enter(); err != nil {
			return nil, false, fmt.Errorf("%s: changes after %d: %w", driver, after, err)
		}
		rows, more, err := read(after)
		if err != nil {
			return nil, false, fmt.Errorf("%s: changes after %d: %w", driver, after, fail(err))
		}
		return rows, more, nil
	}
}
