package store

import (
	"context"
	"fmt"
	"time"

	"github.com/feedsync/go-feedsync/feedsync"
)

// Defaults of CompactOptions.
const (
	// DefaultCompactBatch is how many items one compaction transaction
	// handles: small enough that writers waiting for it wait briefly.
	DefaultCompactBatch = 500
	// MaxMarks bounds Retention.Marks. A store compacted more often than
	// MaxMarks times per window keeps every other mark: a tombstone then
	// stays somewhat longer than the window, never shorter.
	MaxMarks = 64
)

// CompactOptions tune Compact. The zero value compacts items and removes
// no tombstone.
type CompactOptions struct {
	// Retain is the retention window: a tombstone is removed once its
	// deletion is older than Retain, as the store's own clock measures it
	// (FS-RETAIN-1): once a compaction at least Retain ago already found
	// it. A store therefore removes tombstones only from its second
	// compaction on, at least Retain after the first. Default: 0, keep
	// every tombstone.
	Retain time.Duration
	// Now is the clock. Default: time.Now.
	Now func() time.Time
	// Batch bounds the items handled per transaction.
	// Default: DefaultCompactBatch.
	Batch int
}

// CompactResult says what Compact did.
type CompactResult struct {
	// Scanned counts the items looked at.
	Scanned int
	// Purged counts the items whose history (or a conflict copy's) was
	// sparse-purged (FS-PURGE-1..4).
	Purged int
	// Minimized counts the tombstones whose payload was cut down
	// (FS-DELETE-2).
	Minimized int
	// Removed counts the tombstones forgotten (FS-RETAIN-1).
	Removed int
	// Horizon is the store's forgotten horizon afterwards.
	Horizon int64
	// Transactions counts the writable transactions committed.
	Transactions int
	// Oversized lists the items still beyond the reader's default limits
	// after compaction (an *OversizedError each, naming the limit and the
	// command that repairs it), left as they were: sparse purging and
	// minimal tombstones are all compaction may do (FS-PURGE-3), and
	// dropping a conflict copy or a live payload would lose a version the
	// rules keep. Items whose compaction brings them under the limits are
	// repaired and not listed.
	Oversized []error
}

// Compact thins the items of st and forgets old tombstones, in
// transactions of at most opts.Batch items each, so that writers wait for
// one batch at most. A Compact stopped at any point leaves a consistent
// store; the next one goes on where it stopped.
//
// What a peer holds stays valid: sparse purging (feedsync.Purge) and
// minimal tombstones (feedsync.Minimal) keep every item's Version, and
// items are rewritten in place (Tx.Rewrite): they keep their sequence
// numbers, no feed carries them again, tokens and ETags stay as they were.
// A peer that already holds an item keeps its fuller form, which is
// equivalent for every algorithm (FS-PURGE-4, FS-DELETE-2).
//
// A tombstone is removed once its deletion is older than opts.Retain, and
// the forgotten horizon rises to its sequence number: a peer whose token
// predates it is refused (FS-RETAIN-2) and re-initialises.
//
// Items are read with feedsync.RepairLimits (RepairReader), so that an
// item stored beyond the default limits by an older program is compacted
// too: one whose history sparse purging brings under them is repaired in
// place (FS-ROBUST-6); one still beyond them is left as it is and listed
// in the result's Oversized.
//
// Compact looks only at what changed since the previous compaction
// (Retention.Compacted and Swept), so running it often costs little.
func Compact(ctx context.Context, st Store, opts CompactOptions) (CompactResult, error) {
	var res CompactResult
	if opts.Batch <= 0 {
		opts.Batch = DefaultCompactBatch
	}
	now := time.Now
	if opts.Now != nil {
		now = opts.Now
	}

	// First the mark of this run, and the cutoff it gives.
	var last, cutoff int64
	err := res.inTx(ctx, st, func(tx Tx) error {
		ret, err := tx.Retention(ctx)
		if err != nil {
			return err
		}
		if last, err = tx.LastSeq(ctx); err != nil {
			return err
		}
		ret.Marks, cutoff = mark(ret.Marks, Mark{At: now(), Seq: last}, opts.Retain)
		return tx.SetRetention(ctx, ret)
	})
	if err != nil {
		return res, fmt.Errorf("compact: mark: %w", err)
	}

	// Old tombstones, in batches from Swept to the cutoff.
	for done := false; !done; {
		err := res.inTx(ctx, st, func(tx Tx) error {
			ret, err := tx.Retention(ctx)
			if err != nil {
				return err
			}
			if ret.Swept >= cutoff {
				done = true
				return nil
			}
			var gone []ItemStat
			n := 0
			next := cutoff
			for s, err := range tx.Stats(ctx, ret.Swept) {
				if err != nil {
					return err
				}
				if s.Seq > cutoff {
					break
				}
				if n == opts.Batch {
					next = s.Seq - 1
					break
				}
				n++
				// A tombstone with conflict copies stays: a live version
				// in conflict with the deletion is still to be settled.
				if s.Deleted && s.Conflicts == 0 {
					gone = append(gone, s)
				}
			}
			for _, s := range gone {
				// Every peer that saw the tombstone's change knows the
				// item is gone: the horizon is that change, not the
				// removal's own number.
				if _, err := tx.Remove(ctx, s.ID); err != nil {
					return err
				}
				ret.Horizon = max(ret.Horizon, s.Seq)
			}
			res.Removed += len(gone)
			ret.Swept = next
			return tx.SetRetention(ctx, ret)
		})
		if err != nil {
			return res, fmt.Errorf("compact: remove tombstones: %w", err)
		}
	}

	// Then every item changed since the last compaction, up to last.
	for done := false; !done; {
		err := res.inTx(ctx, st, func(tx Tx) error {
			ret, err := tx.Retention(ctx)
			if err != nil {
				return err
			}
			res.Horizon = ret.Horizon
			if ret.Compacted >= last {
				done = true
				return nil
			}
			var thin []*feedsync.Item
			n := 0
			next := last
			for c, err := range changesForRepair(ctx, tx, ret.Compacted) {
				if err != nil {
					return err
				}
				if c.Seq > last {
					break
				}
				if n == opts.Batch {
					next = c.Seq - 1
					break
				}
				n++
				it, purged, minimized, err := compactItem(c.Item)
				if err != nil {
					return err
				}
				if err := OversizedOf(it); err != nil {
					// Put and Rewrite refuse it: left as it is.
					res.Oversized = append(res.Oversized, err)
					continue
				}
				if purged {
					res.Purged++
				}
				if minimized {
					res.Minimized++
				}
				if it != c.Item {
					thin = append(thin, it)
				}
			}
			res.Scanned += n
			for _, it := range thin {
				if err := tx.Rewrite(ctx, it); err != nil {
					return err
				}
			}
			ret.Compacted = next
			return tx.SetRetention(ctx, ret)
		})
		if err != nil {
			return res, fmt.Errorf("compact: items: %w", err)
		}
	}
	return res, nil
}

// inTx runs fn in a writable transaction and commits it.
func (res *CompactResult) inTx(ctx context.Context, st Store, fn func(Tx) error) error {
	tx, err := st.Begin(ctx, true)
	if err != nil {
		return err
	}
	defer tx.Rollback()
	if err := fn(tx); err != nil {
		return err
	}
	if err := tx.Commit(); err != nil {
		return err
	}
	res.Transactions++
	return nil
}

// compactItem returns it sparse-purged and with minimal tombstones, and
// what changed.
func compactItem(it *feedsync.Item) (out *feedsync.Item, purged, minimized bool, err error) {
	p := feedsync.Purge(it)
	m, err := feedsync.Minimal(p)
	if err != nil {
		return nil, false, false, fmt.Errorf("item %q: %w", it.ID(), err)
	}
	return m, p != it, m != p, nil
}

// mark adds m to marks (unless the newest mark has the same Seq: the
// older instant ages tombstones sooner, and as rightly) and returns the
// marks to keep and the cutoff: the Seq of the newest mark at least retain
// old, 0 if none or retain is 0. Marks older than that one are dropped:
// no later cutoff can need them. At most MaxMarks stay.
func mark(marks []Mark, m Mark, retain time.Duration) ([]Mark, int64) {
	m.At = feedsync.Normalize(m.At)
	if n := len(marks); n == 0 || marks[n-1].Seq != m.Seq {
		marks = append(marks, m)
	}
	if retain <= 0 {
		return thinMarks(marks), 0
	}
	old := m.At.Add(-retain)
	i := -1
	for j, k := range marks {
		if !k.At.After(old) {
			i = j
		}
	}
	if i < 0 {
		return thinMarks(marks), 0
	}
	return thinMarks(marks[i:]), marks[i].Seq
}

// thinMarks keeps at most MaxMarks marks: the oldest, the newest and every
// other one between, as often as needed.
func thinMarks(marks []Mark) []Mark {
	for len(marks) > MaxMarks {
		out := marks[:0:0]
		for i, k := range marks {
			if i%2 == 0 || i == len(marks)-1 {
				out = append(out, k)
			}
		}
		marks = out
	}
	return marks
}
