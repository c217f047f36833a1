package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"io/fs"
	"strings"

	"github.com/feedsync/go-feedsync/feedsync"
	"github.com/feedsync/go-feedsync/merge"
)

// MergeCommand merges an incoming feed into a local one (FS-MERGE).
type MergeCommand struct {
	m *Main

	out    string
	format formatFlag
	by     string
	policy string
	fail   bool
}

func (c *MergeCommand) flags() *flag.FlagSet {
	fs := newFlagSet("merge")
	fs.StringVar(&c.out, "o", "", "")
	fs.Var(&c.format, "format", "")
	fs.StringVar(&c.by, "by", "", "")
	fs.StringVar(&c.policy, "policy", "keep", "")
	fs.BoolVar(&c.fail, "fail-on-conflicts", false, "")
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
	pos, err := parseArgs(c.flags(), args)
	if err != nil {
		return err
	}
	if err := wantArgs(pos, "LOCAL", "INCOMING"); err != nil {
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
	opts.OnItem = func(id string, line int, o feedsync.Outcome, err error) {
		if o == feedsync.Conflict && len(conflicts) < 100 {
			conflicts = append(conflicts, fmt.Sprintf("%q (incoming line %d)", id, line))
		}
	}

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
	err = c.m.output(c.out, func(w io.Writer) error {
		var err error
		sum, err = merge.Feeds(ctx, local, incoming, w, opts)
		return err
	})
	if err != nil {
		return c.blame(err, localName, inName)
	}

	for _, r := range sum.Rejections {
		fmt.Fprintf(c.m.Stderr, "feedsync merge: %s\n", cleanMsg(insertLabel(inFile(inName, r).Error(), "rejected: ")))
	}
	if sum.Rejected > len(sum.Rejections) {
		fmt.Fprintf(c.m.Stderr, "feedsync merge: %s: %d more items rejected\n", displayName(inName), sum.Rejected-len(sum.Rejections))
	}
	fmt.Fprintf(c.m.Stderr, "%s: %s\n", outLabel(c.out), sum)
	if sum.Conflicts > 0 {
		if policy == feedsync.Defer {
			for _, id := range conflicts {
				fmt.Fprintf(c.m.Stderr, "conflict to review: %s\n", id)
			}
		}
		if !stamps && c.out != "" && c.out != "-" {
			fmt.Fprintf(c.m.Stderr, "run 'feedsync conflicts %s' to review, and 'feedsync resolve' to settle them\n", c.out)
		}
		if c.fail {
			return &problemError{msg: fmt.Sprintf("%d item%s with new conflicts", sum.Conflicts, plural(sum.Conflicts, "", "s"))}
		}
	}
	return nil
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

Usage:

	feedsync merge LOCAL INCOMING [arguments]

INCOMING (or LOCAL) may be "-" for standard input.

Arguments:

	-o OUT
	    Write the merged feed to OUT, atomically. OUT may be LOCAL.
	    Default: standard output.

	--format rss|atom
	    The output format. Default: LOCAL's format.

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

Example:

	feedsync merge laptop.xml tablet.xml -o laptop.xml
	curl -s https://example.org/tasks.xml | feedsync merge tasks.xml - -o tasks.xml --fail-on-conflicts
`)
}
