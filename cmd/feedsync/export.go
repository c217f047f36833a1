package main

import (
	"context"
	"flag"
	"fmt"
	"io"

	"github.com/feedsync/go-feedsync/converter/export"
)

// ExportCommand writes a FeedSync feed as a plain feed for ordinary feed
// readers.
type ExportCommand struct {
	m *Main

	format exportFormatFlag
	out    string
	json   bool
}

func (c *ExportCommand) flags() *flag.FlagSet {
	fs := newFlagSet("export")
	fs.Var(&c.format, "format", "")
	fs.StringVar(&c.out, "o", "", "")
	fs.BoolVar(&c.json, "json", false, "")
	return fs
}

// Run exports the feed.
func (c *ExportCommand) Run(ctx context.Context, args []string) error {
	pos, err := parseArgs(c.flags(), args)
	if err != nil {
		return err
	}
	if err := wantArgs(pos, "FEED"); err != nil {
		return err
	}
	if err := jsonWithOutput(c.json, c.out); err != nil {
		return err
	}
	name := pos[0]
	in, err := c.m.open(name)
	if err != nil {
		return err
	}
	defer in.Close()
	var sum export.Summary
	p := c.m.newProgress("export", "read", false)
	defer p.done()
	err = c.m.output(ctx, c.out, func(w io.Writer) error {
		var err error
		sum, err = export.Write(w, ctxReader{ctx, p.reader(in)}, export.Options{Format: c.format.f})
		return err
	})
	if err != nil {
		if ctx.Err() != nil {
			return ctx.Err()
		}
		return inFile(name, err)
	}
	if c.json {
		return c.m.printJSON(exportJSON{Output: outLabel(c.out), Exported: sum.Exported, Tombstones: sum.Tombstones, Conflicts: sum.Conflicts, Invalid: sum.Invalid})
	}
	fmt.Fprintf(c.m.Stderr, "%s: %s\n", outLabel(c.out), sum)
	return nil
}

// exportJSON is the summary of export --json.
type exportJSON struct {
	Output     string `json:"output"`
	Exported   int    `json:"exported"`
	Tombstones int    `json:"tombstones"`
	Conflicts  int    `json:"conflicts"`
	Invalid    int    `json:"invalid"`
}

// exportFormatFlag is --format rss|atom|json; the zero value means the
// input's format.
type exportFormatFlag struct{ f export.Format }

func (f *exportFormatFlag) String() string {
	if f.f == export.Input {
		return ""
	}
	return f.f.String()
}

func (f *exportFormatFlag) Set(s string) error {
	v, err := export.ParseFormat(s)
	if err != nil {
		return fmt.Errorf("%q is not an export format: use rss, atom or json", s)
	}
	f.f = v
	return nil
}

// Usage prints the help of export.
func (c *ExportCommand) Usage() {
	fmt.Fprint(c.m.Stdout, `The export command writes a FeedSync feed as a plain feed for ordinary feed
readers: the current version of every item, and nothing else. Tombstones
(deleted items) are left out, and so are conflict copies and all sync
metadata (sx: elements). Items without sync metadata are kept.

Each item keeps its title, link, description, content, first author,
dates, id (its guid or Atom id, else urn:feedsync: and its sync id) and
first enclosure. Other elements (Dublin Core apart from creator and date,
media and other extensions), further authors and enclosures, and Atom
categories cannot be written by the feed library used (gorilla/feeds);
JSON Feed keeps every category as a tag, RSS the first one. XHTML content
is written as HTML.

The feed is read one item at a time but written at the end, so memory
grows with the number of items.

Usage:

	feedsync export FEED [arguments]

FEED may be "-" for standard input. A summary goes to standard error.

Arguments:

	--json
	    Print the summary as one JSON object on standard output instead of
	    text on standard error: {"output", "exported", "tombstones",
	    "conflicts", "invalid"}. Needs -o OUT.

	--format rss|atom|json
	    The output format: RSS 2.0, Atom 1.0 or JSON Feed 1.1. Default: the
	    format of FEED.

	-o OUT
	    Write the feed to OUT (atomically). Default: standard output.

Example:

	feedsync export tasks.xml --format json -o tasks.json
`)
}
