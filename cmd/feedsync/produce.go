package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"iter"
	"os"

	"github.com/feedsync/go-feedsync/converter"
	"github.com/feedsync/go-feedsync/feedsync"
	"github.com/feedsync/go-feedsync/producer"
)

// ProduceCommand makes or refreshes a feed from JSON Lines data.
type ProduceCommand struct {
	m *Main

	by          string
	from        string
	idField     string
	format      formatFlag
	title       string
	out         string
	noConflicts bool
}

func (c *ProduceCommand) flags() *flag.FlagSet {
	fs := newFlagSet("produce")
	fs.StringVar(&c.by, "by", "", "")
	fs.StringVar(&c.from, "from", "", "")
	fs.StringVar(&c.idField, "id-field", "id", "")
	fs.Var(&c.format, "format", "")
	fs.StringVar(&c.title, "title", "", "")
	fs.StringVar(&c.out, "o", "", "")
	fs.BoolVar(&c.noConflicts, "noconflicts", false, "")
	return fs
}

// Run produces the feed.
func (c *ProduceCommand) Run(ctx context.Context, args []string) error {
	pos, err := parseArgs(c.flags(), args)
	if err != nil {
		return err
	}
	if err := wantArgs(pos, "DATA"); err != nil {
		return err
	}
	if c.idField == "" {
		return usagef("--id-field must name a field")
	}
	if c.from == "-" {
		return usagef("--from must be a file: it is read twice")
	}
	data := pos[0]
	opts := producer.RefreshOptions{Format: c.format.f, NoConflicts: c.noConflicts}

	// Open everything before writing anything.
	in, err := c.m.open(data)
	if err != nil {
		return err
	}
	defer in.Close()
	var prev *os.File
	mapFormat := c.format.f
	if c.from != "" {
		f, err := c.m.open(c.from)
		if err != nil {
			return err
		}
		prev = f.(*os.File)
		defer prev.Close()
		// Records are built in the previous feed's format, so that their
		// digests compare with its items; Refresh converts on output.
		h, err := feedsync.NewReader(prev).Header()
		if err != nil {
			return inFile(c.from, err)
		}
		mapFormat = h.Format
		if _, err := prev.Seek(0, io.SeekStart); err != nil {
			return inFile(c.from, err)
		}
		if c.title != "" {
			fmt.Fprintf(c.m.Stderr, "feedsync produce: --title is ignored: %s keeps its own title\n", c.from)
		}
	} else if mapFormat == feedsync.FormatUnknown {
		mapFormat = feedsync.RSS
	}

	by, err := c.m.endpoint(c.by)
	if err != nil {
		return err
	}
	opts.Stamp = c.m.stamp(by)
	if prev == nil {
		opts.Header = feedsync.NewHeader(mapFormat, feedsync.FeedInfo{Title: c.title, Updated: opts.Stamp.When})
	}

	var readErr error
	recs := c.records(data, in, converter.Map{Format: mapFormat}, &readErr)
	var sum producer.RefreshSummary
	err = c.m.output(c.out, func(w io.Writer) error {
		var prevRS io.ReadSeeker
		if prev != nil {
			prevRS = prev
		}
		var err error
		sum, err = producer.Refresh(prevRS, recs, w, opts)
		return err
	})
	switch {
	case readErr != nil:
		return readErr
	case err != nil && c.from != "":
		return inFile(c.from, err)
	case err != nil:
		return err
	}
	fmt.Fprintf(c.m.Stderr, "%s: %s\n", outLabel(c.out), sum)
	return nil
}

// records reads DATA as JSON Lines: one JSON object per line, blank lines
// skipped. A line that is not an object, has no usable id field, or repeats
// the id of an earlier line (FS-SYNC-2) stops the refresh; the error, naming
// the file and line, is left in *errp. Checking duplicates here, and not
// leaving it to Refresh, keeps every error Refresh returns about the
// previous feed. Memory: the set of ids seen.
func (c *ProduceCommand) records(name string, r io.Reader, cm converter.Map, errp *error) iter.Seq2[producer.Record, error] {
	return func(yield func(producer.Record, error) bool) {
		fail := func(line int, format string, args ...any) {
			*errp = inFile(name, fmt.Errorf("line %d: "+format, append([]any{line}, args...)...))
			yield(producer.Record{}, *errp)
		}
		seen := map[string]int{}
		br := bufio.NewReaderSize(r, 64<<10)
		for line := 1; ; line++ {
			b, err := br.ReadBytes('\n')
			if err != nil && err != io.EOF {
				*errp = inFile(name, err)
				yield(producer.Record{}, *errp)
				return
			}
			if t := bytes.TrimSpace(b); len(t) > 0 {
				dec := json.NewDecoder(bytes.NewReader(t))
				dec.UseNumber()
				var obj map[string]any
				if derr := dec.Decode(&obj); derr != nil || obj == nil {
					if derr == nil {
						derr = errors.New("null")
					}
					fail(line, "not a JSON object: %v", derr)
					return
				}
				if dec.More() {
					fail(line, "more than one JSON value on the line")
					return
				}
				key, ok := "", false
				switch v := obj[c.idField].(type) {
				case string:
					key, ok = v, v != ""
				case json.Number:
					key, ok = v.String(), true
				}
				if !ok {
					if _, has := obj[c.idField]; has {
						fail(line, "the %q field must be a non-empty string or a number", c.idField)
					} else {
						fail(line, "no %q field (choose the id field with --id-field)", c.idField)
					}
					return
				}
				id := cm.SyncID(key)
				if first, dup := seen[id]; dup {
					*errp = inFile(name, &feedsync.ItemError{ID: key, Line: line, Err: fmt.Errorf("duplicate id: line %d has it too (FS-SYNC-2)", first)})
					yield(producer.Record{}, *errp)
					return
				}
				seen[id] = line
				p, perr := cm.ToPayload(id, obj)
				if perr != nil {
					fail(line, "%v", perr)
					return
				}
				if !yield(producer.Record{ID: id, Payload: p, Line: line}, nil) {
					return
				}
			}
			if err == io.EOF {
				return
			}
		}
	}
}

// Usage prints the help of produce.
func (c *ProduceCommand) Usage() {
	fmt.Fprint(c.m.Stdout, `The produce command makes a FeedSync feed from JSON Lines data (one JSON
object per line, each with an id), or refreshes the feed it made last time.

With --from, each record is compared with the item of the same id in the
previous feed:

  - a changed record is an update by this endpoint (FS-UPDATE);
  - a new id is a create (FS-CREATE);
  - an id no longer in the data is a delete: the item stays in the feed as
    a tombstone, as subscribers must learn of it (FS-DELETE-1, FS-DELETE-4);
  - a deleted id that comes back is undeleted by an update (FS-UPDATE-5);
  - unchanged items, tombstones and conflicts are copied byte for byte.

The fields title, link, description, content and published (RFC 3339) go
into the format's standard elements, the others into <f:NAME> elements of
the urn:feedsync:field namespace, so 'feedsync update' and other programs
can read them back. Ids that are not valid sync ids are escaped ("a b"
becomes "a%20b").

Usage:

	feedsync produce DATA [arguments]

DATA may be "-" for standard input.

Arguments:

	--by ENDPOINT
	    This endpoint's identifier, written into every history entry.
	    Default: $FEEDSYNC_BY, else the one kept in the user config
	    directory.

	--from FEED
	    The feed produced last time. Without it, every record is created.

	--id-field NAME
	    The field holding each record's id. Default: id.

	-o OUT
	    Write the feed to OUT (atomically; OUT may be the --from feed).
	    Default: standard output.

	--format rss|atom
	    The output format. Default: the --from feed's, else rss.

	--title T
	    The title of a new feed.

	--noconflicts
	    Create new items with noconflicts="true" (FS-CREATE-3).

Example:

	feedsync produce tasks.jsonl --by laptop --title Tasks -o tasks.xml
	feedsync produce tasks.jsonl --by laptop --from tasks.xml -o tasks.xml
`)
}
