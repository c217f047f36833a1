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
	json        bool

	// The --store mode (produceStore).
	store       string
	since       string
	peer        string
	tokenFile   string
	completeURL string
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
	fs.BoolVar(&c.json, "json", false, "")
	fs.StringVar(&c.store, "store", "", "")
	fs.StringVar(&c.since, "since", "", "")
	fs.StringVar(&c.peer, "peer", "", "")
	fs.StringVar(&c.tokenFile, "token-file", "", "")
	fs.StringVar(&c.completeURL, "complete-url", "", "")
	return fs
}

// dataOnly and storeOnly are the flags of one mode of produce, which the
// other refuses: a flag that would be silently ignored is a mistake.
var (
	dataOnly  = []string{"by", "from", "id-field", "title", "noconflicts"}
	storeOnly = []string{"since", "peer", "token-file", "complete-url"}
)

// Run produces the feed.
func (c *ProduceCommand) Run(ctx context.Context, args []string) error {
	fset := c.flags()
	pos, err := parseArgs(fset, args)
	if err != nil {
		return err
	}
	set := map[string]bool{}
	fset.Visit(func(f *flag.Flag) { set[f.Name] = true })
	if err := jsonWithOutput(c.json, c.out); err != nil {
		return err
	}
	if set["store"] {
		if len(pos) > 0 {
			return &usageError{
				msg:  fmt.Sprintf("unexpected argument %q: with --store the items come from the store", pos[0]),
				hint: "Give either DATA (JSON Lines) or --store DSN, not both.",
			}
		}
		for _, name := range dataOnly {
			if set[name] {
				return usagef("--%s cannot be used with --store: the store's items have their sync metadata already", name)
			}
		}
		return c.produceStore(ctx)
	}
	for _, name := range storeOnly {
		if set[name] {
			return &usageError{msg: fmt.Sprintf("--%s needs --store", name), hint: "Feeds made from JSON Lines data are always complete."}
		}
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
	p := c.m.newProgress("produce", "read", false)
	defer p.done()
	recs := c.records(data, p.reader(ctxReader{ctx, in}), converter.Map{Format: mapFormat}, p, &readErr)
	var sum producer.RefreshSummary
	err = c.m.output(ctx, c.out, func(w io.Writer) error {
		var prevRS io.ReadSeeker
		if prev != nil {
			prevRS = ctxReader{ctx, prev}
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
	if c.json {
		return c.m.printJSON(refreshJSON{Output: outLabel(c.out), Created: sum.Created, Updated: sum.Updated, Deleted: sum.Deleted, Unchanged: sum.Unchanged})
	}
	fmt.Fprintf(c.m.Stderr, "%s: %s\n", outLabel(c.out), sum)
	return nil
}

// refreshJSON is the summary of produce --json and convert --json.
type refreshJSON struct {
	Output    string `json:"output"`
	Created   int    `json:"created"`
	Updated   int    `json:"updated"`
	Deleted   int    `json:"deleted"`
	Unchanged int    `json:"unchanged"`
}

// storeFeedJSON is the summary of produce --store --json.
type storeFeedJSON struct {
	Output     string `json:"output"`
	Store      string `json:"store"`
	Complete   bool   `json:"complete"`
	Reason     string `json:"reason,omitempty"`
	Items      int    `json:"items"`
	Suppressed int    `json:"suppressed"`
	Token      string `json:"token"`
}

// produceStore writes the feed of a store (producer.Produce): the complete
// feed, or with --since the partial feed of the changes after that token.
// A token the store cannot use (malformed, minted by another store, or
// ahead of it) gives the complete feed, as FS-FEED-4 asks for a subscriber
// that may have missed changes, and stderr says why. The feed's token
// (its sx:sharing until) goes to stderr and to --token-file, for the next
// --since.
//
// The token file is written after the feed. If that fails, the script keeps
// its old token and the next feed repeats some changes, which is harmless:
// merging a version twice changes nothing (FS-MERGE-14). The other order
// could lose changes.
func (c *ProduceCommand) produceStore(ctx context.Context) error {
	if c.tokenFile == "-" {
		return usagef("--token-file must be a file: the token goes to standard error anyway")
	}
	if c.completeURL != "" {
		// The rule sx:related links obey (FS-RELATED-1), as validate checks it.
		if errs := feedsync.CheckSharing(&feedsync.Sharing{Related: []feedsync.Related{{Link: c.completeURL, Type: feedsync.RelatedComplete}}}); len(errs) > 0 {
			return &usageError{msg: fmt.Sprintf("--complete-url %q is not an absolute URI (FS-RELATED-1)", c.completeURL), hint: "Give the full address of the complete feed, for example https://tasks.example.org/feed.xml."}
		}
	}
	st, err := c.m.openStore(ctx, c.store, false)
	if err != nil {
		return err
	}
	defer st.Close()
	label := storeLabel(c.store)

	var res producer.Result
	var perr error
	p := c.m.newProgress("produce", "written", false)
	defer p.done()
	err = c.m.output(ctx, c.out, func(w io.Writer) error {
		res, perr = producer.Produce(ctx, st, c.since, p.writer(w), producer.Options{Format: c.format.f, Peer: c.peer, CompleteURL: c.completeURL})
		return perr
	})
	if perr != nil {
		return inFile(label, perr)
	}
	if err != nil {
		return err
	}
	switch {
	case c.json:
		j := storeFeedJSON{Output: outLabel(c.out), Store: label, Complete: res.Full, Items: res.Items, Suppressed: res.Suppressed, Token: res.Token.String()}
		if res.Reason != nil {
			j.Reason = res.Reason.Error()
		}
		if err := c.m.printJSON(j); err != nil {
			return err
		}
	default:
		if res.Reason != nil {
			fmt.Fprintf(c.m.Stderr, "feedsync produce: --since not used, so the feed is complete (FS-FEED-4): %v\n", res.Reason)
		}
		kind := "partial"
		if res.Full {
			kind = "complete"
		}
		fmt.Fprintf(c.m.Stderr, "%s: %s feed of %s, %d item%s", outLabel(c.out), kind, label, res.Items, plural(res.Items, "", "s"))
		if res.Suppressed > 0 {
			fmt.Fprintf(c.m.Stderr, ", %d left out (%s has them)", res.Suppressed, c.peer)
		}
		fmt.Fprintf(c.m.Stderr, "\nnext token: %s\n", res.Token)
		if !res.Full && c.completeURL == "" {
			fmt.Fprintln(c.m.Stderr, "feedsync produce: the partial feed names no complete feed (sx:related type=\"complete\", FS-FEED-2); give --complete-url")
		}
	}
	if c.tokenFile != "" {
		err := writeAtomic(c.tokenFile, func(w io.Writer) error {
			_, err := io.WriteString(w, res.Token.String()+"\n")
			return err
		})
		if err != nil {
			return inFile(c.tokenFile, err)
		}
	}
	return nil
}

// records reads DATA as JSON Lines: one JSON object per line, blank lines
// skipped. A line that is not an object, has no usable id field, or repeats
// the id of an earlier line (FS-SYNC-2) stops the refresh; the error, naming
// the file and line, is left in *errp. Checking duplicates here, and not
// leaving it to Refresh, keeps every error Refresh returns about the
// previous feed. Each record counts as an item of prog. Memory: the set of
// ids seen.
func (c *ProduceCommand) records(name string, r io.Reader, cm converter.Map, prog *progress, errp *error) iter.Seq2[producer.Record, error] {
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
				if t[0] == '<' {
					// A feed given where data is expected: say which
					// command reads feeds.
					*errp = &usageError{
						msg:  inFile(name, fmt.Errorf("line %d: this is XML, not JSON Lines", line)).Error(),
						hint: fmt.Sprintf("produce reads JSON Lines data. To make a FeedSync feed of an RSS, Atom or JSON feed: feedsync convert %s --by ENDPOINT", name),
					}
					yield(producer.Record{}, *errp)
					return
				}
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
				prog.item()
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
object per line, each with an id), or refreshes the feed it made last time;
or, with --store, writes the feed of a store.

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

With --store, the feed holds the store's items as they are, tombstones and
conflicts included: every item (a complete feed), or with --since TOKEN only
those changed after the feed that TOKEN came with (a partial feed,
FS-FEED-1). A token the store cannot use (malformed, from another store, or
from a store restored from an older copy) gives the complete feed, and
standard error says why (FS-FEED-4). The feed's own token goes to standard
error as "next token: TOKEN", and to --token-file: give it as --since next
time, once the subscriber has merged the feed.

Usage:

	feedsync produce DATA [arguments]
	feedsync produce --store DSN [--since TOKEN] [arguments]

DATA may be "-" for standard input.

Arguments:

	--json
	    Print the summary as one JSON object on standard output instead of
	    text on standard error: {"output", "created", "updated", "deleted",
	    "unchanged"}; with --store {"output", "store", "complete",
	    "reason", "items", "suppressed", "token"}. Needs -o OUT.

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
	    The output format. Default: the --from feed's, else the store's,
	    else rss.

	--title T
	    The title of a new feed.

	--noconflicts
	    Create new items with noconflicts="true" (FS-CREATE-3).

	--store DSN
	    Write the feed of the store DSN instead of reading DATA: a SQLite
	    file (sqlite:PATH, or a path ending in .db) or a PostgreSQL database
	    (postgres://..., with feedsync_schema=NAME to choose the schema).
	    The store must exist: 'feedsync merge --store' makes one.

	--since TOKEN
	    With --store: only the changes after the feed TOKEN came with.
	    Default (or ""): the complete feed.

	--peer ENDPOINT
	    With --store: the subscriber the feed is for, as 'feedsync merge
	    --store --peer' named it when it merged that subscriber's feeds. A
	    partial feed leaves out the items it sent and still has (echo
	    suppression).

	--token-file F
	    With --store: also write the next token to F (atomically), after
	    the feed.

	--complete-url URL
	    With --store: the absolute URI of the complete feed, which a
	    partial feed (--since) names in sx:related type="complete" so
	    that subscribers know where to catch up (FS-FEED-2, FS-FEED-4).
	    'feedsync serve' names its own URL there.

Example:

	feedsync produce tasks.jsonl --by laptop --title Tasks -o tasks.xml
	feedsync produce tasks.jsonl --by laptop --from tasks.xml -o tasks.xml
	feedsync produce --store tasks.db --token-file phone.token -o full.xml
	feedsync produce --store tasks.db --since "$(cat phone.token)" --peer phone --token-file phone.token --complete-url https://tasks.example.org/full.xml -o changes.xml
`)
}
