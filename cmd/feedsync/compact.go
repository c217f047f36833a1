package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/feedsync/go-feedsync/feedsync"
	"github.com/feedsync/go-feedsync/store"
)

// CompactCommand thins a store or a feed file: sparse-purged histories,
// minimal tombstones, and tombstones older than a retention window
// forgotten.
type CompactCommand struct {
	m *Main

	store  string
	retain time.Duration
	out    string
	json   bool
}

func (c *CompactCommand) flags() *flag.FlagSet {
	fs := newFlagSet("compact")
	fs.StringVar(&c.store, "store", "", "")
	fs.DurationVar(&c.retain, "retain", 0, "")
	fs.StringVar(&c.out, "o", "", "")
	fs.BoolVar(&c.json, "json", false, "")
	return fs
}

// compactJSON is the --json summary of compact.
type compactJSON struct {
	Target    string `json:"target"`
	Scanned   int    `json:"scanned"`
	Purged    int    `json:"purged"`
	Minimized int    `json:"minimized"`
	Removed   int    `json:"removed"`
	Horizon   int64  `json:"horizon,omitempty"`
	// Oversized lists the items left beyond the reader's limits.
	Oversized []oversizedJSON `json:"oversized,omitempty"`
}

// oversizedJSON is an item compact could not bring under the reader's
// limits: which limit, and the command that repairs it.
type oversizedJSON struct {
	ID     string `json:"id"`
	Limit  string `json:"limit"`
	Repair string `json:"repair"`
}

// Run compacts the store or the feed.
func (c *CompactCommand) Run(ctx context.Context, args []string) error {
	pos, err := parseArgs(c.flags(), args)
	if err != nil {
		return err
	}
	t, err := targetOf(pos, c.store)
	if err != nil {
		return err
	}
	if c.retain < 0 {
		return usagef("--retain must not be negative")
	}
	if t.store && c.out != "" {
		return usagef("-o goes with a feed file: a store is compacted in place")
	}
	if c.json && c.out == "-" {
		if err := jsonWithOutput(c.json, c.out); err != nil {
			return err
		}
	}
	var res compactJSON
	if t.store {
		res, err = c.compactStore(ctx, t.name)
	} else {
		res, err = c.compactFeed(ctx, t.name)
	}
	if err != nil {
		return err
	}
	res.Target = t.label()
	var left error
	if n := len(res.Oversized); n > 0 {
		left = &problemError{msg: fmt.Sprintf("%s: %d item%s still beyond the reader's limits, left as %s (FS-ROBUST-6); repair %s as said above", res.Target, n, plural(n, "", "s"), plural(n, "it was", "they were"), plural(n, "it", "them"))}
	}
	if c.json {
		if err := c.m.printJSON(res); err != nil {
			return err
		}
		return left
	}
	msg := fmt.Sprintf("compacted %s: %d item%s looked at, %d histor%s purged, %d tombstone%s minimised, %d tombstone%s forgotten",
		res.Target, res.Scanned, plural(res.Scanned, "", "s"), res.Purged, plural(res.Purged, "y", "ies"),
		res.Minimized, plural(res.Minimized, "", "s"), res.Removed, plural(res.Removed, "", "s"))
	if res.Horizon > 0 {
		msg += fmt.Sprintf(" (forgotten horizon: change %d)", res.Horizon)
	}
	fmt.Fprintln(c.m.Stderr, msg)
	for _, o := range res.Oversized {
		fmt.Fprintf(c.m.Stderr, "item %q is beyond the reader's limits: %s; repair it with %s\n", o.ID, o.Limit, o.Repair)
	}
	return left
}

// compactStore runs store.Compact on the store dsn names.
func (c *CompactCommand) compactStore(ctx context.Context, dsn string) (compactJSON, error) {
	st, err := c.m.openStore(ctx, dsn, false)
	if err != nil {
		return compactJSON{}, err
	}
	defer st.Close()
	r, err := store.Compact(ctx, st, store.CompactOptions{Retain: c.retain, Now: c.m.Now})
	if err != nil {
		return compactJSON{}, inFile(storeLabel(dsn), err)
	}
	res := compactJSON{Scanned: r.Scanned, Purged: r.Purged, Minimized: r.Minimized, Removed: r.Removed, Horizon: r.Horizon}
	for _, err := range r.Oversized {
		res.Oversized = append(res.Oversized, oversizedOf(err, "--store "+storeLabel(dsn)))
	}
	return res, nil
}

// oversizedOf is the summary of an item left beyond the reader's limits;
// the repair's command line names the target as args.
func oversizedOf(err error, args string) oversizedJSON {
	var oe *store.OversizedError
	if !errors.As(err, &oe) {
		return oversizedJSON{Limit: err.Error()}
	}
	return oversizedJSON{ID: oe.ID, Limit: oe.Limit, Repair: strings.ReplaceAll(oe.Repair, "--store DSN", args)}
}

// compactFeed rewrites the feed file name (or -o), atomically. A file has
// no change history of its own: a tombstone's age is its deletion's
// instant, the when of its topmost history entry; a tombstone without one,
// or with conflict copies, stays.
func (c *CompactCommand) compactFeed(ctx context.Context, name string) (compactJSON, error) {
	var res compactJSON
	out := c.out
	if out == "" {
		out = name
	}
	// Locked before the input is read (see lock).
	release, err := c.m.lock(ctx, out)
	if err != nil {
		return res, err
	}
	defer release()
	f, err := c.m.open(name)
	if err != nil {
		return res, err
	}
	defer f.Close()
	var cutoff time.Time
	if c.retain > 0 {
		cutoff = c.m.Now().Add(-c.retain)
	}
	return res, inFile(name, c.m.output(ctx, out, func(w io.Writer) error {
		// Read with the edit commands' wider limits: compacting is how a
		// history written past the reader's bound is brought back under
		// it (FS-ROBUST-6).
		r := feedsync.NewReaderOptions(f, repairLimits)
		h, err := r.Header()
		if err != nil {
			return err
		}
		fw := feedsync.NewWriter(w, h)
		var ids feedsync.IDSet
		err = eachItem(ctx, name, r, func(it *feedsync.Item) error {
			if it.Sync == nil {
				return fw.WriteItem(it)
			}
			if err := ids.Add(it); err != nil {
				return err
			}
			res.Scanned++
			s := it.Sync
			if !cutoff.IsZero() && s.Deleted && len(s.Conflicts) == 0 && s.Top().HasWhen() && !s.Top().When.After(cutoff) {
				res.Removed++
				return nil
			}
			p := feedsync.Purge(it)
			m, err := feedsync.Minimal(p)
			if err != nil {
				return err
			}
			if p != it {
				res.Purged++
			}
			if m != p {
				res.Minimized++
			}
			if err := store.OversizedOf(m); err != nil {
				// Kept as it is: no version may be dropped here.
				res.Oversized = append(res.Oversized, oversizedOf(err, name))
			}
			return fw.WriteItem(m)
		})
		if err != nil {
			return err
		}
		return fw.Close()
	}))
}

// Usage prints the help of compact.
func (c *CompactCommand) Usage() {
	fmt.Fprint(c.m.Stdout, `The compact command thins a store or a feed: it sparse-purges every
history, keeping for each endpoint only its latest entry (FS-PURGE-1..4:
every comparison gives the same result), cuts the payload of tombstones to
what their format needs (FS-DELETE-2), and, with --retain, forgets the
tombstones whose deletion is older than the window (FS-RETAIN-1).

Items keep their versions: a store rewrites them in place, without new
changes, so no peer fetches them again. A store records what it forgot
(its forgotten horizon): a peer that last synced before it is refused a
partial feed and re-initialises, and the deleted items it held are deleted
there too (FS-RETAIN-2, FS-RETAIN-3). A store measures a tombstone's age
with its own clock, from the first compaction that saw it: tombstones are
forgotten from the second compaction on, at least --retain after the
first ('feedsync serve --retain' compacts periodically). A feed file has
no change history: its tombstones are aged by their deletion's time, and
whoever merges an older copy of the file may bring forgotten items back.

Compact also repairs an item written beyond the reader's limits by an
older program (FS-ROBUST-6), which it reads with wider ones: a history
too long is thinned like any other. Conflict copies past the limit, or a
version too large, are versions compaction may not drop: it names each
such item with the command that repairs it (usually 'feedsync resolve')
and exits with status 1.

Usage:

	feedsync compact FEED [arguments]
	feedsync compact --store DSN [arguments]

Arguments:

	--store DSN
	    Compact a store instead of FEED, a batch of items per transaction.
	    DSN: sqlite:PATH, a path ending in .db, postgres://… or memory:.

	--retain DURATION
	    Forget tombstones whose deletion is older than DURATION (for
	    example 720h). Choose it longer than any peer stays away: a peer
	    away longer re-initialises. Default: 0, keep every tombstone.

	-o OUT
	    Write the compacted feed to OUT ("-" for standard output) instead
	    of rewriting FEED in place, atomically.

	--json
	    Print the summary as one JSON object on standard output instead of
	    text: {"target", "scanned", "purged", "minimized", "removed",
	    "horizon", "oversized": [{"id", "limit", "repair"}]}.

Example:

	feedsync compact --store sqlite:tasks.db --retain 720h
	feedsync compact tasks.xml --retain 2160h
`)
}
