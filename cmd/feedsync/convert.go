package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"iter"
	"os"

	"github.com/feedsync/go-feedsync/converter/plainfeed"
	"github.com/feedsync/go-feedsync/feedsync"
	"github.com/feedsync/go-feedsync/producer"
)

// ConvertCommand turns a plain feed (or an SSE 0.93 one) into a FeedSync
// feed, or refreshes the one it made last time.
type ConvertCommand struct {
	m *Main

	by      string
	from    string
	format  formatFlag
	out     string
	upgrade bool
	json    bool
}

func (c *ConvertCommand) flags() *flag.FlagSet {
	fs := newFlagSet("convert")
	fs.StringVar(&c.by, "by", "", "")
	fs.StringVar(&c.from, "from", "", "")
	fs.Var(&c.format, "format", "")
	fs.StringVar(&c.out, "o", "", "")
	fs.BoolVar(&c.upgrade, "upgrade", false, "")
	fs.BoolVar(&c.json, "json", false, "")
	return fs
}

// Run converts the feed.
func (c *ConvertCommand) Run(ctx context.Context, args []string) error {
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
	if c.from == "-" {
		return usagef("--from must be a file: it is read twice")
	}
	opts := plainfeed.Options{Format: c.format.f, Upgrade: c.upgrade}

	// Open everything before writing anything.
	in, err := c.m.open(name)
	if err != nil {
		return err
	}
	defer in.Close()
	var prev *os.File
	if c.from != "" {
		f, err := c.m.open(c.from)
		if err != nil {
			return err
		}
		prev = f.(*os.File)
		defer prev.Close()
		// Payloads are built in the previous feed's format, so that their
		// digests compare with its items; Refresh converts on output.
		h, err := feedsync.NewReader(prev).Header()
		if err != nil {
			return inFile(c.from, err)
		}
		opts.Format = h.Format
		if _, err := prev.Seek(0, io.SeekStart); err != nil {
			return inFile(c.from, err)
		}
	}

	p := c.m.newProgress("convert", "read", false)
	defer p.done()
	feed, err := plainfeed.Read(ctxReader{ctx, p.reader(in)}, opts)
	switch {
	case ctx.Err() != nil:
		return ctx.Err()
	case errors.Is(err, plainfeed.ErrLegacy):
		return &usageError{msg: fmt.Sprintf("%s uses the SSE 0.93 namespace", displayName(name)),
			hint: "Add --upgrade to bring its sync metadata to FeedSync 1.0."}
	case err != nil:
		return inFile(name, err)
	}
	if prev != nil && feed.Created() < len(feed.Entries) {
		return &usageError{msg: fmt.Sprintf("--from needs a plain feed, but items of %s already carry sx:sync", displayName(name)),
			hint: "Merge it instead: feedsync merge " + c.from + " " + name}
	}
	c.report(name, feed)

	var stamp feedsync.Stamp
	if prev != nil || feed.Created() > 0 {
		by, err := c.m.endpoint(c.by)
		if err != nil {
			return err
		}
		stamp = c.m.stamp(by)
	}

	if prev == nil {
		if err := c.m.output(ctx, c.out, func(w io.Writer) error { return feed.Write(w, stamp) }); err != nil {
			return err
		}
		if c.json {
			if err := c.m.printJSON(refreshJSON{Output: outLabel(c.out), Created: feed.Created(), Unchanged: len(feed.Entries) - feed.Created()}); err != nil {
				return err
			}
		} else {
			fmt.Fprintf(c.m.Stderr, "%s: %d created, %d kept as they were\n", outLabel(c.out), feed.Created(), len(feed.Entries)-feed.Created())
		}
	} else {
		var sum producer.RefreshSummary
		err := c.m.output(ctx, c.out, func(w io.Writer) error {
			var err error
			sum, err = producer.Refresh(ctxReader{ctx, prev}, plainRecords(feed), w, producer.RefreshOptions{Stamp: stamp, Format: c.format.f})
			return err
		})
		if err != nil {
			if ctx.Err() != nil {
				return ctx.Err()
			}
			return inFile(c.from, err)
		}
		if c.json {
			if err := c.m.printJSON(refreshJSON{Output: outLabel(c.out), Created: sum.Created, Updated: sum.Updated, Deleted: sum.Deleted, Unchanged: sum.Unchanged}); err != nil {
				return err
			}
		} else {
			fmt.Fprintf(c.m.Stderr, "%s: %s\n", outLabel(c.out), sum)
		}
	}
	if feed.Upgrade != nil {
		if n := feed.Upgrade.Count(plainfeed.Failed); n > 0 {
			return &problemError{msg: fmt.Sprintf("%s: %d %s could not be upgraded (listed above)", displayName(name), n, plural(n, "value", "values"))}
		}
	}
	return nil
}

// plainRecords yields the entries of a plain feed as producer records.
func plainRecords(f *plainfeed.Feed) iter.Seq2[producer.Record, error] {
	return func(yield func(producer.Record, error) bool) {
		for _, e := range f.Entries {
			if !yield(producer.Record{ID: e.ID, Payload: e.Payload, Line: e.Line}, nil) {
				return
			}
		}
	}
}

// report prints what reading found: the upgrade's notes and the items left
// out or kept with problems.
func (c *ConvertCommand) report(name string, f *plainfeed.Feed) {
	if f.Upgrade != nil {
		for _, n := range f.Upgrade.Notes {
			fmt.Fprintf(c.m.Stderr, "feedsync convert: %s: %s\n", displayName(name), n)
		}
	}
	for _, w := range f.Warnings {
		fmt.Fprintf(c.m.Stderr, "feedsync convert: %s: %s\n", displayName(name), cleanMsg(w.Error()))
	}
}

// Usage prints the help of convert.
func (c *ConvertCommand) Usage() {
	io.WriteString(c.m.Stdout, `The convert command turns a feed as people publish it into a FeedSync feed:
every item gets sync metadata (sx:sync) with updates="1" and one history
entry by this endpoint, now (FS-CREATE-1..4). Or it refreshes the feed it
made last time.

The input may be RSS 0.91, 0.92, 1.0 or 2.0, Atom 0.3 or 1.0, or JSON Feed
1.0 or 1.1. Each item keeps its title, link, description or summary,
content (Atom XHTML stays XHTML in Atom output), dates, authors,
categories, enclosures and Dublin Core elements. Its sync id is:

  - its guid (RSS guid, Atom id, JSON Feed id);
  - else its link;
  - else "sha256-" and a hash of its title, description, content and date,
    so that an edit of such an item reads as a new item.

Characters a sync id cannot hold are percent-escaped (FS-TYPE-5): the guid
"http://a.example/p?1" becomes "http:%2F%2Fa.example%2Fp%3F1". A later item
with an id already taken is left out and reported.

A feed some of whose items already carry sx:sync keeps them as they are;
only its other items are created.

With --from, each item is compared with the item of the same id in the
previous output: a changed item is an update, a new one a create, and one
that is gone is a delete that stays in the feed as a tombstone
(FS-UPDATE, FS-CREATE, FS-DELETE-1). Unchanged items are copied byte for
byte.

With --upgrade, an SSE 0.93 feed (or a FeedSync feed with sloppy values) is
brought to FeedSync 1.0 first, rewriting its sync metadata only, never a
payload: the namespace becomes http://feedsync.org/2007/feedsync, times
with fractions or offsets become UTC whole seconds (FS-TYPE-4), booleans
such as "False" or "1" become "false" and "true" (FS-TYPE-3). History
entries without by are kept (FS-HIST-4) and since/until values that are not
dates are kept as opaque tokens (FS-SHARING-2); both are reported. Every
change, and everything that could not be upgraded, is listed on standard
error with the item's id and line; the feed is written anyway, and the exit
status is 1 if something could not be upgraded.

Usage:

	feedsync convert FEED [arguments]

FEED may be "-" for standard input.

Arguments:

	--json
	    Print the summary as one JSON object on standard output instead of
	    text on standard error: {"output", "created", "updated", "deleted",
	    "unchanged"}; items kept as they were count as unchanged. Needs
	    -o OUT.

	--by ENDPOINT
	    This endpoint's identifier, written into every history entry.
	    Default: $FEEDSYNC_BY, else the one kept in the user config
	    directory. Not needed when every item already carries sx:sync.

	--from FEED
	    The feed convert wrote last time (a file). FEED must be a plain
	    feed then.

	-o OUT
	    Write the feed to OUT (atomically; OUT may be the --from feed).
	    Default: standard output.

	--format rss|atom
	    The output format. Default: the --from feed's; else atom for Atom
	    input and rss for everything else.

	--upgrade
	    Upgrade SSE 0.93 sync metadata to FeedSync 1.0 (see above).
	    Without it, an SSE 0.93 feed is refused.

Example:

	feedsync convert blog.atom --by laptop -o blog-sync.atom
	feedsync convert blog.atom --by laptop --from blog-sync.atom -o blog-sync.atom
	feedsync convert --upgrade old-sse.xml -o tasks.xml
`)
}
