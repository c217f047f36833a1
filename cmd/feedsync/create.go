package main

import (
	"context"
	"flag"
	"fmt"

	"github.com/feedsync/go-feedsync/feedsync"
)

// CreateCommand adds an item to a feed (FS-CREATE).
type CreateCommand struct {
	m *Main

	store       string
	by          string
	id          string
	out         string
	noConflicts bool
	format      formatFlag
	title       string
	fields      fieldFlags
	json        bool
}

func (c *CreateCommand) flags() *flag.FlagSet {
	fs := newFlagSet("create")
	fs.StringVar(&c.store, "store", "", "")
	fs.StringVar(&c.by, "by", "", "")
	fs.StringVar(&c.id, "id", "", "")
	fs.StringVar(&c.out, "o", "", "")
	fs.BoolVar(&c.noConflicts, "noconflicts", false, "")
	fs.Var(&c.format, "format", "")
	fs.StringVar(&c.title, "title", "", "")
	fs.Var(&c.fields.set, "set", "")
	fs.StringVar(&c.fields.object, "fields", "", "")
	fs.BoolVar(&c.json, "json", false, "")
	return fs
}

// Run adds the item and writes the feed.
func (c *CreateCommand) Run(ctx context.Context, args []string) error {
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
	if len(c.fields.set) == 0 && c.fields.object == "" {
		return usagef("give the item's fields with --set field=value or --fields OBJECT")
	}
	fields := map[string]any{}
	if err := c.fields.apply(fields); err != nil {
		return err
	}
	id := ""
	if c.id != "" {
		if id, err = itemID(c.id); err != nil {
			return err
		}
	} else {
		id = feedsync.NewID() // FS-CREATE-1
	}
	by, err := c.m.endpoint(c.by)
	if err != nil {
		return err
	}
	s := c.m.stamp(by)
	feed := t.name
	var created *feedsync.Item
	err = c.m.editFeed(ctx, edit{
		in:    feed,
		store: t.store,
		out:   c.out,
		newFeed: func() *feedsync.Header {
			f := c.format.f
			if f == feedsync.FormatUnknown {
				f = feedsync.RSS
			}
			return feedsync.NewHeader(f, feedsync.FeedInfo{Title: c.title, Updated: s.When})
		},
		add: func(h *feedsync.Header) (*feedsync.Item, error) {
			p, err := buildPayload(h.Format, id, fields, nil, s.When)
			if err != nil {
				return nil, err
			}
			created, err = feedsync.Create(h.Format, p, id, s, c.noConflicts)
			return created, err
		},
	})
	if err != nil {
		return err
	}
	text := fmt.Sprintf("created %q in %s", id, displayName(outName(feed, c.out)))
	return c.m.reportEdit(c.json, text, editSummary(editOutput(t, c.out), "created", created))
}

// outName is where a command that edits FEED in place wrote.
func outName(in, out string) string {
	if out == "" {
		return in
	}
	return outLabel(out)
}

// outLabel names an -o argument whose default is standard output.
func outLabel(out string) string {
	if out == "" || out == "-" {
		return "<stdout>"
	}
	return out
}

// Usage prints the help of create.
func (c *CreateCommand) Usage() {
	fmt.Fprint(c.m.Stdout, `The create command adds a new item to a feed, with sync metadata that
records this endpoint as its creator: updates="1" and one history entry
(FS-CREATE-1, FS-CREATE-2). FEED is rewritten in place, atomically; if it
does not exist a new feed is made.

Usage:

	feedsync create FEED [arguments]
	feedsync create --store DSN [arguments]

Arguments:

	--store DSN
	    Add the item to a store instead of FEED, in one transaction; a new
	    SQLite store is created.
	    DSN: sqlite:PATH, a path ending in .db, postgres://… or memory:.

	--set field=value
	    Set a field to a string. May be repeated. title, link, description,
	    content and published (RFC 3339) go into the feed format's standard
	    elements; other fields into <f:NAME> elements.

	--fields OBJECT
	    Set the fields of a JSON object, with their JSON types. --set is
	    applied after it.

	--id ID
	    The item's sync id. Default: a new random UUID. An id that is not a
	    valid URN NSS (FS-TYPE-5) is escaped: "a b" becomes "a%20b".

	--by ENDPOINT
	    This endpoint's identifier. Default: $FEEDSYNC_BY, else the one kept
	    in the user config directory.

	--noconflicts
	    Mark the item noconflicts="true": merges keep only the winning
	    version (FS-CREATE-3). It can only be set now.

	-o OUT
	    Write the result to OUT ("-" for standard output) instead of FEED.

	--format rss|atom
	    The format of a new feed. Default: rss.

	--title T
	    The title of a new feed.

	--json
	    Print the summary as one JSON object on standard output instead of
	    text: {"output", "id", "action": "created", "updates", "deleted",
	    "conflicts"}, as 'feedsync show --json' names them. Not with -o -.

Example:

	feedsync create tasks.xml --by laptop --id stamps-1 --set title='Buy stamps' --fields '{"done":false}'
`)
}
