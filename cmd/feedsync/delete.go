package main

import (
	"context"
	"errors"
	"flag"
	"fmt"

	"github.com/feedsync/go-feedsync/feedsync"
)

// DeleteCommand deletes one item: it becomes a tombstone (FS-DELETE).
type DeleteCommand struct {
	m *Main

	store string
	by    string
	id    string
	out   string
	json  bool
}

func (c *DeleteCommand) flags() *flag.FlagSet {
	fs := newFlagSet("delete")
	fs.StringVar(&c.store, "store", "", "")
	fs.StringVar(&c.by, "by", "", "")
	fs.StringVar(&c.id, "id", "", "")
	fs.StringVar(&c.out, "o", "", "")
	fs.BoolVar(&c.json, "json", false, "")
	return fs
}

// Run deletes the item and writes the feed.
func (c *DeleteCommand) Run(ctx context.Context, args []string) error {
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
	var deleted *feedsync.Item
	err = c.m.editFeed(ctx, edit{
		in:    t.name,
		store: t.store,
		out:   c.out,
		id:    id,
		change: func(it *feedsync.Item) (*feedsync.Item, error) {
			d, err := feedsync.Delete(it, s)
			if errors.Is(err, feedsync.ErrDeleted) {
				return nil, &usageError{msg: fmt.Sprintf("item %q is deleted already", id), hint: "Nothing to do; 'feedsync update' would undelete it."}
			}
			if err != nil {
				return nil, err
			}
			deleted = d
			return d, nil
		},
	})
	if err != nil {
		return err
	}
	text := fmt.Sprintf("deleted %q (updates %d; it stays in the feed as a tombstone)", id, deleted.Sync.Updates)
	return c.m.reportEdit(c.json, text, editSummary(editOutput(t, c.out), "deleted", deleted))
}

// Usage prints the help of delete.
func (c *DeleteCommand) Usage() {
	fmt.Fprint(c.m.Stdout, `The delete command deletes one item. Deleting is an update that sets
deleted="true": the item stays in the feed as a tombstone, so that every
endpoint that merges the feed learns of the deletion (FS-DELETE-1,
FS-DELETE-4). A deletion racing an update elsewhere is a conflict like any
other (FS-DELETE-3). FEED is rewritten in place, atomically.

Usage:

	feedsync delete FEED --id ID [arguments]
	feedsync delete --store DSN --id ID [arguments]

Arguments:

	--store DSN
	    Delete the item in a store instead of FEED, in one transaction.
	    DSN: sqlite:PATH, a path ending in .db, postgres://… or memory:.

	--id ID
	    The sync id of the item to delete.

	--by ENDPOINT
	    This endpoint's identifier. Default: $FEEDSYNC_BY, else the one kept
	    in the user config directory.

	-o OUT
	    Write the result to OUT ("-" for standard output) instead of FEED.

	--json
	    Print the summary as one JSON object on standard output instead of
	    text: {"output", "id", "action": "deleted", "updates", "deleted",
	    "conflicts"}, as 'feedsync show --json' names them. Not with -o -.

Example:

	feedsync delete tasks.xml --id stamps-1 --by laptop
`)
}
