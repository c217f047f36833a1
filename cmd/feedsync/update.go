package main

import (
	"context"
	"flag"
	"fmt"

	"github.com/beevik/etree"

	"github.com/feedsync/go-feedsync/converter"
	"github.com/feedsync/go-feedsync/feedsync"
)

// UpdateCommand changes the fields of one item (FS-UPDATE).
type UpdateCommand struct {
	m *Main

	store  string
	by     string
	id     string
	out    string
	fields fieldFlags
	json   bool
}

func (c *UpdateCommand) flags() *flag.FlagSet {
	fs := newFlagSet("update")
	fs.StringVar(&c.store, "store", "", "")
	fs.StringVar(&c.by, "by", "", "")
	fs.StringVar(&c.id, "id", "", "")
	fs.StringVar(&c.out, "o", "", "")
	fs.Var(&c.fields.set, "set", "")
	fs.StringVar(&c.fields.object, "fields", "", "")
	fs.Var(&c.fields.unset, "unset", "")
	fs.BoolVar(&c.json, "json", false, "")
	return fs
}

// Run updates the item and writes the feed.
func (c *UpdateCommand) Run(ctx context.Context, args []string) error {
	pos, err := parseArgs(c.flags(), args)
	if err != nil {
		return err
	}
	if err := fieldsAsJSON(c.json, pos); err != nil {
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
	if len(c.fields.set) == 0 && c.fields.object == "" && len(c.fields.unset) == 0 {
		return usagef("nothing to change: give --set, --fields or --unset")
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
	result := ""
	var summary editJSON
	err = c.m.editFeed(ctx, edit{
		in:    t.name,
		store: t.store,
		out:   c.out,
		id:    id,
		change: func(it *feedsync.Item) (*feedsync.Item, error) {
			old, err := payloadOf(it)
			if err != nil {
				return nil, err
			}
			fields, err := converter.Map{Format: it.Format()}.FromPayload(old)
			if err != nil {
				return nil, err
			}
			if err := c.fields.apply(fields); err != nil {
				return nil, err
			}
			p, err := buildPayload(it.Format(), id, fields, old, s.When)
			if err != nil {
				return nil, err
			}
			// Only a change of the shared data is an update (FS-UPDATE-6):
			// setting a field to the value it has writes nothing. Atom's
			// updated follows the clock, so compare without it.
			if !it.Sync.Deleted && samePayload(it.Format(), p, old) {
				result = fmt.Sprintf("%q unchanged: the fields already have these values", id)
				summary = editSummary(editOutput(t, c.out), "unchanged", it)
				return it, nil
			}
			up, err := feedsync.Update(it, p, s)
			if err != nil {
				return nil, err
			}
			verb := "updated"
			if it.Sync.Deleted {
				verb = "undeleted" // FS-UPDATE-5
			}
			result = fmt.Sprintf("%s %q (updates %d)", verb, id, up.Sync.Updates)
			summary = editSummary(editOutput(t, c.out), verb, up)
			return up, nil
		},
	})
	if err != nil {
		return err
	}
	return c.m.reportEdit(c.json, result, summary)
}

// samePayload reports whether two standalone payloads have the same digest,
// Atom's updated element left out.
func samePayload(format feedsync.Format, a, b *etree.Element) bool {
	digest := func(e *etree.Element) (feedsync.Digest, error) {
		if format == feedsync.Atom {
			e = e.Copy()
			if u := e.SelectElement("updated"); u != nil {
				e.RemoveChild(u)
			}
		}
		return feedsync.NewItem(format, e).Digest()
	}
	da, err1 := digest(a)
	db, err2 := digest(b)
	return err1 == nil && err2 == nil && da == db
}

// Usage prints the help of update.
func (c *UpdateCommand) Usage() {
	fmt.Fprint(c.m.Stdout, `The update command changes fields of one item: it reads the item's fields
(as 'feedsync show' and produce write them), applies --fields, --set and
--unset, and records an update by this endpoint: updates+1 and a new
topmost history entry (FS-UPDATE-1..3). Elements no field describes are
kept. Conflict copies stay, except those the update subsumes, which are
folded in (FS-UPDATE-4). Updating a deleted item undeletes it
(FS-UPDATE-5). FEED is rewritten in place, atomically.

Usage:

	feedsync update FEED --id ID [arguments]
	feedsync update --store DSN --id ID [arguments]

Arguments:

	--store DSN
	    Change the item in a store instead of FEED, in one transaction.
	    DSN: sqlite:PATH, a path ending in .db, postgres://… or memory:.

	--id ID
	    The sync id of the item to change.

	--set field=value
	    Set a field to a string. May be repeated.

	--fields OBJECT
	    Set the fields of a JSON object, with their JSON types (applied
	    before --set).

	--unset field
	    Remove a field. May be repeated.

	--by ENDPOINT
	    This endpoint's identifier. Default: $FEEDSYNC_BY, else the one kept
	    in the user config directory.

	-o OUT
	    Write the result to OUT ("-" for standard output) instead of FEED.

	--json
	    Print the summary as one JSON object on standard output instead of
	    text: {"output", "id", "action", "updates", "deleted",
	    "conflicts"}, as 'feedsync show --json' names them; action is
	    "updated", "undeleted" or "unchanged" (the fields had these values:
	    nothing was written). Not with -o -.

Example:

	feedsync update tasks.xml --id stamps-1 --by phone --set description='10 first-class, 5 postcards' --fields '{"done":true}'
`)
}
