package main

import (
	"context"
	"flag"
	"fmt"
	"strings"

	"github.com/feedsync/go-feedsync/feedsync"
)

// ResolveCommand settles an item's conflicts by keeping one of its
// versions (FS-RESOLVE).
type ResolveCommand struct {
	m *Main

	store    string
	by       string
	id       string
	keep     int
	keepFrom string
	out      string
	json     bool
}

func (c *ResolveCommand) flags() *flag.FlagSet {
	fs := newFlagSet("resolve")
	fs.StringVar(&c.store, "store", "", "")
	fs.StringVar(&c.by, "by", "", "")
	fs.StringVar(&c.id, "id", "", "")
	fs.IntVar(&c.keep, "keep", -1, "")
	fs.StringVar(&c.keepFrom, "keep-from", "", "")
	fs.StringVar(&c.out, "o", "", "")
	fs.BoolVar(&c.json, "json", false, "")
	return fs
}

// Run resolves the item and writes the feed.
func (c *ResolveCommand) Run(ctx context.Context, args []string) error {
	pos, err := parseArgs(c.flags(), args)
	if err != nil {
		return err
	}
	t, err := targetOf(pos, c.store)
	if err != nil {
		return err
	}
	if err := jsonWithEditOutput(c.json, c.out); err != nil {
		return err
	}
	id, err := itemID(c.id)
	if err != nil {
		return err
	}
	switch {
	case c.keep < 0 && c.keepFrom == "":
		return usagef("say which version to keep: --keep N or --keep-from ENDPOINT")
	case c.keep >= 0 && c.keepFrom != "":
		return usagef("--keep and --keep-from cannot be used together")
	}
	if !t.store {
		if err := c.m.readable(t.name); err != nil {
			return err
		}
	}
	by, err := c.m.endpoint(c.by)
	if err != nil {
		return err
	}
	s := c.m.stamp(by)
	feed := t.name
	result := ""
	var summary editJSON
	err = c.m.editFeed(ctx, edit{
		in:    feed,
		store: t.store,
		out:   c.out,
		id:    id,
		change: func(it *feedsync.Item) (*feedsync.Item, error) {
			n := len(it.Sync.Conflicts)
			if n == 0 {
				return nil, &usageError{msg: fmt.Sprintf("item %q has no conflicts", id), hint: fmt.Sprintf("Run 'feedsync conflicts %s' to list the items that have some.", feed)}
			}
			keep := c.keep
			if c.keepFrom != "" {
				var err error
				if keep, err = versionBy(it, c.keepFrom); err != nil {
					return nil, err
				}
			}
			if keep > n {
				return nil, &usageError{msg: fmt.Sprintf("--keep %d: item %q has %d conflict copies", keep, id, n), hint: "Use 0 for the current winner or 1.." + fmt.Sprint(n) + " for a copy, as 'feedsync conflicts' numbers them."}
			}
			r, err := feedsync.ResolveKeep(it, keep, s)
			if err != nil {
				return nil, err
			}
			what := "the winner"
			if keep > 0 {
				what = fmt.Sprintf("conflict copy %d", keep)
			}
			state := ""
			if r.Sync.Deleted {
				state = ", deleted"
			}
			keptBy := topBy(version(it, keep))
			result = fmt.Sprintf("resolved %q: kept %s (by %s); updates %d%s, %d conflict copies left", id, what, keptBy, r.Sync.Updates, state, len(r.Sync.Conflicts))
			summary = editSummary(editOutput(t, c.out), "resolved", r)
			summary.Kept, summary.KeptBy = &keep, keptBy
			return r, nil
		},
	})
	if err != nil {
		return err
	}
	return c.m.reportEdit(c.json, result, summary)
}

// version returns version k of it: 0 the winner, k the k-th conflict copy.
func version(it *feedsync.Item, k int) *feedsync.Item {
	if k == 0 {
		return it
	}
	return it.Sync.Conflicts[k-1]
}

// versionBy returns the number (as version takes it) of the version whose
// topmost history entry is by the endpoint by.
func versionBy(it *feedsync.Item, by string) (int, error) {
	var found []int
	var all []string
	for k := 0; k <= len(it.Sync.Conflicts); k++ {
		v := version(it, k)
		if v.Sync == nil {
			continue
		}
		top := v.Sync.Top().By
		all = append(all, fmt.Sprintf("%d: %s", k, topBy(v)))
		if top == by || feedsync.NormalizeID(top) == feedsync.NormalizeID(by) {
			found = append(found, k)
		}
	}
	switch len(found) {
	case 0:
		return 0, &usageError{msg: fmt.Sprintf("--keep-from %s: no version of %q was last changed by %s (versions %s)", by, it.ID(), by, strings.Join(all, ", ")), hint: "Use --keep N with a number from 'feedsync conflicts'."}
	case 1:
		return found[0], nil
	}
	return 0, &usageError{msg: fmt.Sprintf("--keep-from %s: several versions of %q were last changed by %s (%v)", by, it.ID(), by, found), hint: "Use --keep N to pick one."}
}

// topBy names the endpoint of a version's topmost history entry.
func topBy(v *feedsync.Item) string {
	if v.Sync == nil {
		return "-"
	}
	top := v.Sync.Top()
	if top.By == "" {
		return "(anonymous)"
	}
	return top.By
}

// Usage prints the help of resolve.
func (c *ResolveCommand) Usage() {
	fmt.Fprint(c.m.Stdout, `The resolve command settles the conflicts of one item by keeping one of its
versions: the current winner or one of the conflict copies, numbered as
'feedsync conflicts' lists them. It is an update by this endpoint whose
history takes in the history of every conflict copy, so every endpoint
that merges the result drops the old versions (FS-RESOLVE-1..6). Keeping a
deleted version resolves to a deletion. FEED is rewritten in place,
atomically.

Usage:

	feedsync resolve FEED --id ID (--keep N | --keep-from ENDPOINT) [arguments]
	feedsync resolve --store DSN --id ID (--keep N | --keep-from ENDPOINT) [arguments]

Arguments:

	--store DSN
	    Resolve the item in a store instead of FEED, in one transaction.
	    DSN: sqlite:PATH, a path ending in .db, postgres://… or memory:.

	--id ID
	    The sync id of the item to resolve.

	--keep N
	    Keep version N: 0 is the current winner, 1..n the conflict copies
	    in the order 'feedsync conflicts' shows.

	--keep-from ENDPOINT
	    Keep the version last changed by ENDPOINT (its topmost history
	    entry's by).

	--by ENDPOINT
	    This endpoint's own identifier: the resolution is recorded as an
	    update by it. It is always the resolving endpoint, never the one
	    whose version is kept (that is --keep-from). Default: $FEEDSYNC_BY,
	    else the one kept in the user config directory.

	-o OUT
	    Write the result to OUT ("-" for standard output) instead of FEED.

	--json
	    Print the summary as one JSON object on standard output instead of
	    text: {"output", "id", "action": "resolved", "updates", "deleted",
	    "conflicts", "kept", "kept_by"}: the item's state after the
	    resolution as 'feedsync show --json' names it, the version kept
	    (0 the winner, k the k-th conflict copy) and the endpoint that last
	    changed it. Not with -o -.

Example:

	feedsync conflicts tasks.xml
	feedsync resolve tasks.xml --id fence-1 --keep-from laptop --by tablet
`)
}
