package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"io/fs"
	"strings"
	"time"

	"github.com/feedsync/go-feedsync/consumer"
	"github.com/feedsync/go-feedsync/feedsync"
	"github.com/feedsync/go-feedsync/merge"
	"github.com/feedsync/go-feedsync/store"
)

// MergeCommand merges an incoming feed into a local one (FS-MERGE).
type MergeCommand struct {
	m *Main

	out    string
	format formatFlag
	by     string
	policy string
	fail   bool
	reject bool
	json   bool
	store  string
	peer   string
}

func (c *MergeCommand) flags() *flag.FlagSet {
	fs := newFlagSet("merge")
	fs.StringVar(&c.out, "o", "", "")
	fs.Var(&c.format, "format", "")
	fs.StringVar(&c.by, "by", "", "")
	fs.StringVar(&c.policy, "policy", "keep", "")
	fs.BoolVar(&c.fail, "fail-on-conflicts", false, "")
	fs.BoolVar(&c.reject, "fail-on-reject", false, "")
	fs.BoolVar(&c.json, "json", false, "")
	fs.StringVar(&c.store, "store", "", "")
	fs.StringVar(&c.peer, "peer", "", "")
	return fs
}

// parsePolicy maps --policy to a conflict policy, and says whether it
// writes history (and so needs this endpoint's identifier).
func parsePolicy(s string) (feedsync.ConflictPolicy, bool, error) {
	switch s {
	case "keep", "":
		return feedsync.KeepConflicts, false, nil
	case "defer":
		return feedsync.Defer, false, nil
	case "source":
		return feedsync.SourceWins, true, nil
	case "destination":
		return feedsync.DestinationWins, true, nil
	case "lww":
		return feedsync.LastWriterWins, true, nil
	}
	if name, ok := strings.CutPrefix(s, "endpoint:"); ok && name != "" {
		return feedsync.EndpointWins(name), true, nil
	}
	return nil, false, &usageError{
		msg:  fmt.Sprintf("--policy %q: unknown conflict policy", s),
		hint: "Use keep, defer, source, destination, lww or endpoint:NAME; 'feedsync help merge' says what each does.",
	}
}

// Run merges.
func (c *MergeCommand) Run(ctx context.Context, args []string) error {
	fset := c.flags()
	pos, err := parseArgs(fset, args)
	if err != nil {
		return err
	}
	set := map[string]bool{}
	fset.Visit(func(f *flag.Flag) { set[f.Name] = true })
	if set["store"] {
		if len(pos) > 1 {
			return &usageError{
				msg:  fmt.Sprintf("unexpected argument %q: with --store give only INCOMING", pos[1]),
				hint: "The store is the local side: feedsync merge --store DSN INCOMING.",
			}
		}
		if set["o"] {
			return &usageError{msg: "-o cannot be used with --store: the merge goes into the store", hint: "Write the store's feed with 'feedsync produce --store DSN -o OUT'."}
		}
		if err := wantArgs(pos, "INCOMING"); err != nil {
			return err
		}
		return c.mergeStore(ctx, pos[0])
	}
	if set["peer"] {
		return &usageError{msg: "--peer needs --store", hint: "Only a store records what each peer holds."}
	}
	if err := wantArgs(pos, "LOCAL", "INCOMING"); err != nil {
		return err
	}
	if err := jsonWithOutput(c.json, c.out); err != nil {
		return err
	}
	localName, inName := pos[0], pos[1]
	if localName == "-" && inName == "-" {
		return usagef("LOCAL and INCOMING cannot both be standard input")
	}
	policy, stamps, err := parsePolicy(c.policy)
	if err != nil {
		return err
	}
	opts := merge.Options{Format: c.format.f, Policy: policy}
	var conflicts []string
	p := c.m.newProgress("merge", "read", false)
	defer p.done()
	opts.OnItem = func(id string, line int, o feedsync.Outcome, err error) {
		p.item()
		if o == feedsync.Conflict && len(conflicts) < 100 {
			conflicts = append(conflicts, fmt.Sprintf("%q (incoming line %d)", id, line))
		}
	}

	// -o onto an input: lock it before reading it (see lock).
	release, err := c.m.lock(ctx, c.out)
	if err != nil {
		return err
	}
	defer release()
	local, err := c.m.open(localName)
	if errors.Is(err, fs.ErrNotExist) {
		return &usageError{msg: err.Error(), hint: fmt.Sprintf("To start from the other endpoint's items, copy its feed first: cp %s %s", inName, localName)}
	}
	if err != nil {
		return err
	}
	defer local.Close()
	incoming, err := c.m.open(inName)
	if err != nil {
		return err
	}
	defer incoming.Close()
	if stamps {
		// Automatic resolutions are updates by this endpoint (FS-RESOLVE-2).
		by, err := c.m.endpoint(c.by)
		if err != nil {
			return err
		}
		opts.Stamp = c.m.stamp(by)
	}

	var sum merge.Summary
	err = c.m.output(ctx, c.out, func(w io.Writer) error {
		var err error
		sum, err = merge.Feeds(ctx, p.reader(local), p.reader(incoming), w, opts)
		return err
	})
	if err != nil {
		return c.blame(err, localName, inName)
	}

	hint := ""
	if !stamps && c.out != "" && c.out != "-" {
		hint = fmt.Sprintf("run 'feedsync conflicts %s' to review, and 'feedsync resolve' to settle them", c.out)
	}
	return c.report(sum, inName, outLabel(c.out), policy, conflicts, hint)
}

// report prints what a merge did, the same way for a feed and a store:
// the rejected items, the one-line summary labelled with where the result
// went, the items a deferring policy leaves for review and hint. With
// --fail-on-conflicts, new conflicts are a problem (exit 1); with
// --fail-on-reject, rejected items are.
func (c *MergeCommand) report(sum merge.Summary, inName, label string, policy feedsync.ConflictPolicy, conflicts []string, hint string) error {
	if c.json {
		if err := c.m.printJSON(mergeSummaryJSON(label, sum)); err != nil {
			return err
		}
		return c.failure(sum)
	}
	for _, r := range sum.Rejections {
		fmt.Fprintf(c.m.Stderr, "feedsync merge: %s\n", cleanMsg(insertLabel(inFile(inName, r).Error(), "rejected: ")))
	}
	if sum.Rejected > len(sum.Rejections) {
		fmt.Fprintf(c.m.Stderr, "feedsync merge: %s: %d more items rejected\n", displayName(inName), sum.Rejected-len(sum.Rejections))
	}
	fmt.Fprintf(c.m.Stderr, "%s: %s\n", label, sum)
	if sum.Conflicts > 0 {
		if policy == feedsync.Defer {
			for _, id := range conflicts {
				fmt.Fprintf(c.m.Stderr, "conflict to review: %s\n", id)
			}
		}
		if hint != "" {
			fmt.Fprintln(c.m.Stderr, hint)
		}
	}
	return c.failure(sum)
}

// failure is the problem --fail-on-conflicts or --fail-on-reject asks to
// report (exit 1), or nil.
func (c *MergeCommand) failure(sum merge.Summary) error {
	if c.fail && sum.Conflicts > 0 {
		return &problemError{msg: fmt.Sprintf("%d item%s with new conflicts", sum.Conflicts, plural(sum.Conflicts, "", "s"))}
	}
	if c.reject && sum.Rejected > 0 {
		return &problemError{msg: fmt.Sprintf("%d incoming item%s rejected", sum.Rejected, plural(sum.Rejected, "", "s"))}
	}
	return nil
}

// mergeStore merges the feed inName into the store --store names, in one
// transaction: the whole feed lands, or on any error (malformed XML, a
// duplicate sync id, a store failure, an interrupt) nothing does
// (consumer.ConsumeTx). --peer names the sender, so that the store records
// what it holds and a feed produced for it later leaves that out (echo
// suppression).
//
// A store that does not exist yet is created, so the first merge seeds it,
// as 'cp INCOMING LOCAL' seeds a feed file. A store without feed info of
// its own (a new one) takes the incoming feed's title, link, description
// and format (or --format) in the same transaction, so that the feed it
// produces looks like the one it was seeded from (FS-FEED-9: from then on
// it keeps its own). The Atom feed id and updated time are not taken: the
// store's feed is another feed, and the producer gives it its own.
func (c *MergeCommand) mergeStore(ctx context.Context, inName string) error {
	policy, stamps, err := parsePolicy(c.policy)
	if err != nil {
		return err
	}
	opts := consumer.Options{Peer: c.peer, Policy: policy, Format: c.format.f}
	var conflicts []string
	p := c.m.newProgress("merge", "read", false)
	defer p.done()
	opts.OnItem = func(id string, line int, o feedsync.Outcome, err error) {
		p.item()
		if o == feedsync.Conflict && len(conflicts) < 100 {
			conflicts = append(conflicts, fmt.Sprintf("%q (incoming line %d)", id, line))
		}
	}
	// The incoming feed is opened first, so that a wrong file name does
	// not leave a new, empty database behind.
	incoming, err := c.m.open(inName)
	if err != nil {
		return err
	}
	defer incoming.Close()
	if stamps {
		by, err := c.m.endpoint(c.by)
		if err != nil {
			return err
		}
		opts.Stamp = c.m.stamp(by)
	}
	st, err := c.m.openStore(ctx, c.store, true)
	if err != nil {
		return err
	}
	defer st.Close()
	label := storeLabel(c.store)

	sum, err := consumeSeeding(ctx, st, p.reader(incoming), opts)
	if err != nil {
		return c.blameStore(err, label, inName)
	}
	return c.report(sum, inName, label, policy, conflicts, "")
}

// consumeSeeding is consumer.Consume, with the store's feed info taken from
// the incoming feed when the store has none, in the same transaction (see
// mergeStore).
func consumeSeeding(ctx context.Context, st store.Store, in io.Reader, opts consumer.Options) (merge.Summary, error) {
	tx, err := st.Begin(ctx, true)
	if err != nil {
		return merge.Summary{}, fmt.Errorf("begin: %w", err)
	}
	defer tx.Rollback()
	r := feedsync.NewReaderOptions(in, opts.Reader)
	// Read before the merge, which gives a store without a format the
	// incoming one but leaves its title and links empty.
	_, format, err := tx.FeedInfo(ctx)
	if err != nil {
		return merge.Summary{}, fmt.Errorf("read feed info: %w", err)
	}
	sum, err := consumer.ConsumeTx(ctx, tx, r, opts)
	if err != nil {
		return sum, err
	}
	if format == feedsync.FormatUnknown {
		h, err := r.Header()
		if err != nil {
			return sum, fmt.Errorf("merge: read incoming: %w", err)
		}
		info := h.Info()
		info.ID, info.Updated = "", time.Time{}
		format = h.Format
		if opts.Format != feedsync.FormatUnknown {
			format = opts.Format
		}
		if err := tx.SetFeedInfo(ctx, info, format); err != nil {
			return sum, fmt.Errorf("set feed info: %w", err)
		}
	}
	// Interrupted after the last item still means "do not apply".
	if err := ctx.Err(); err != nil {
		return sum, err
	}
	if err := tx.Commit(); err != nil {
		return sum, fmt.Errorf("commit: %w", err)
	}
	return sum, nil
}

// blameStore names what a store merge error is about: the incoming feed
// (malformed, a duplicate id, an item that cannot be converted) or the store
// (a failed read, write or commit). The error itself is kept for errors.Is.
func (c *MergeCommand) blameStore(err error, label, inName string) error {
	if errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
		return err
	}
	msg := strings.TrimPrefix(err.Error(), "consume: ")
	for _, p := range []string{"merge: read incoming: ", "merge: incoming feed: "} {
		if rest, ok := strings.CutPrefix(msg, p); ok {
			return inFile(inName, &shownError{msg: rest, err: err})
		}
	}
	if rest, ok := strings.CutPrefix(msg, "merge: "); ok &&
		!strings.HasPrefix(rest, "get local item") && !strings.HasPrefix(rest, "put item") {
		return inFile(inName, &shownError{msg: rest, err: err})
	}
	return inFile(label, &shownError{msg: msg, err: err})
}

// blame names the file a merge error is about. The merge package says
// "local feed" or "incoming feed" (or item) in its messages but does not
// type them, so the name is chosen from the message, and the words the file
// name replaces are dropped; the error itself is kept for errors.Is.
func (c *MergeCommand) blame(err error, localName, inName string) error {
	msg := err.Error()
	for _, p := range []struct{ prefix, file string }{
		{"merge: read incoming feed: ", inName},
		{"merge: incoming feed: ", inName},
		{"merge: read local feed: ", localName},
		{"merge: local feed: ", localName},
	} {
		if rest, ok := strings.CutPrefix(msg, p.prefix); ok {
			return inFile(p.file, &shownError{msg: rest, err: err})
		}
	}
	switch {
	case strings.Contains(msg, "incoming"):
		return inFile(inName, err)
	case strings.Contains(msg, "local"):
		return inFile(localName, err)
	}
	return err
}

// shownError is err with another message.
type shownError struct {
	msg string
	err error
}

func (e *shownError) Error() string { return e.msg }
func (e *shownError) Unwrap() error { return e.err }

// Usage prints the help of merge.
func (c *MergeCommand) Usage() {
	fmt.Fprint(c.m.Stdout, `The merge command merges another endpoint's feed (INCOMING) into yours
(LOCAL) and writes the result. For each incoming item the versions are
compared by their sync histories: a version another subsumes is dropped,
the best of the rest wins, and the others are kept as conflict copies
(FS-MERGE-1..11). Local items the incoming feed does not mention, and
items without sx:sync, are kept as they are; the local feed's title and
sx:sharing are kept (FS-FEED-9). Either feed may be RSS or Atom. A one-line
summary goes to standard error.

With --store, the local side is a store instead of a feed file, and the
merge happens in one transaction: the whole feed lands, or nothing does. A
store that does not exist yet is created, so the first merge seeds it; a new
store takes the incoming feed's title and format for the feeds it produces.

Usage:

	feedsync merge LOCAL INCOMING [arguments]
	feedsync merge --store DSN INCOMING [arguments]

INCOMING (or LOCAL) may be "-" for standard input.

Arguments:

	-o OUT
	    Write the merged feed to OUT, atomically. OUT may be LOCAL.
	    Default: standard output.

	--format rss|atom
	    The output format. Default: LOCAL's format. With --store: the
	    format items new to the store are kept in (default: as they
	    arrive).

	--policy POLICY
	    What to do with items the merge leaves with conflicts:
	      keep           keep the conflict copies, as the spec does (default)
	      defer          keep them and list the items for review
	      source         resolve to the incoming side's version
	      destination    resolve to the local side's version
	      lww            resolve to the version with the latest when
	      endpoint:NAME  resolve to the version last changed by NAME
	    The resolving policies record the resolution as an update by --by.

	--by ENDPOINT
	    This endpoint's identifier, for the resolving policies. Default:
	    $FEEDSYNC_BY, else the one kept in the user config directory.

	--fail-on-conflicts
	    Exit with status 1 when the merge created new conflicts.

	--json
	    Print the summary as one JSON object on standard output instead of
	    text on standard error: {"output", "new", "updated", "deleted",
	    "conflicts", "unchanged", "rejected", "rejections"}, rejections
	    being the messages of the first rejected items. Needs -o OUT, or
	    --store.

	--fail-on-reject
	    Exit with status 1 when incoming items were rejected (invalid sync
	    metadata, FS-ROBUST-1). Without it, rejected items are listed on
	    standard error, the rest of the feed is merged, and the exit status
	    is 0.

	--store DSN
	    Merge into a store: a SQLite file (sqlite:PATH, or a path ending in
	    .db) or a PostgreSQL database (postgres://..., with
	    feedsync_schema=NAME to choose the schema).

	--peer ENDPOINT
	    With --store: the endpoint that sent INCOMING. The store records
	    which version of each item it holds, and 'feedsync produce --store
	    --peer ENDPOINT' leaves those out of the partial feeds it makes for
	    it (echo suppression).

Example:

	feedsync merge laptop.xml tablet.xml -o laptop.xml
	curl -s https://example.org/tasks.xml | feedsync merge tasks.xml - -o tasks.xml --fail-on-conflicts
	feedsync merge --store tasks.db tablet.xml --peer tablet
`)
}
