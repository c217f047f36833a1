package main

import (
	"bytes"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"strings"

	"github.com/feedsync/go-feedsync/feedsync"
	"github.com/feedsync/go-feedsync/producer"
)

// VerifyCommand tells whether two endpoints hold the same items, comparing
// their manifests (producer.Manifest): ids, winners, tombstones and conflict
// sets, with digests in place of payloads. It compares them as
// producer.DiffSources does, in sync id order, so two stores of a million
// items take no more memory than two of a thousand.
type VerifyCommand struct {
	m *Main

	json bool
}

func (c *VerifyCommand) flags() *flag.FlagSet {
	fs := newFlagSet("verify")
	fs.BoolVar(&c.json, "json", false, "")
	return fs
}

// verifyEntry is one side of a difference in the JSON output.
type verifyEntry struct {
	Updates   int64       `json:"updates"`
	Top       historyInfo `json:"top"`
	Deleted   bool        `json:"deleted"`
	Conflicts int         `json:"conflicts"`
}

// verifyDifference is one differing item in the JSON output. What lists
// the kinds: only_a, only_b, winner, deleted, conflicts, payload.
type verifyDifference struct {
	ID   string       `json:"id"`
	What []string     `json:"what"`
	A    *verifyEntry `json:"a,omitempty"`
	B    *verifyEntry `json:"b,omitempty"`
}

// verifyReport is the JSON output of verify.
type verifyReport struct {
	A           string             `json:"a"`
	B           string             `json:"b"`
	ItemsA      int                `json:"items_a"`
	ItemsB      int                `json:"items_b"`
	Same        bool               `json:"same"`
	Differences []verifyDifference `json:"differences"`
}

// verifyKinds name the kinds of producer.Kind in bit order, for the JSON
// output (first) and the text (second).
var verifyKinds = []struct{ json, text string }{
	{"only_a", "only in A"},
	{"only_b", "only in B"},
	{"winner", "different winner"},
	{"deleted", "different deleted flag"},
	{"conflicts", "different conflicts"},
	{"payload", "different payload of the same version"},
}

// Run compares the two endpoints with producer.DiffSources, which holds
// neither side in memory. What is printed waits in outputSpill until the
// end, when the totals that come first (the JSON's "same", the text's
// "same: N items") are known.
func (c *VerifyCommand) Run(ctx context.Context, args []string) error {
	pos, err := parseArgs(c.flags(), args)
	if err != nil {
		return err
	}
	if err := wantArgs(pos, "A", "B"); err != nil {
		return err
	}
	if pos[0] == "-" && pos[1] == "-" {
		return usagef("A and B cannot both be standard input")
	}
	p := c.m.newProgress("verify", "read", false)
	defer p.done()
	var srcs [2]producer.Source
	for i, arg := range pos {
		src, closeSrc, err := c.source(ctx, arg, p)
		if err != nil {
			return err
		}
		defer closeSrc()
		srcs[i] = src
	}
	na, nb := endpointLabel(pos[0]), endpointLabel(pos[1])

	out := &outputSpill{}
	defer out.close()
	n := 0
	tot, err := producer.DiffSources(ctx, srcs[0], srcs[1], producer.DiffOptions{}, func(d producer.Difference) error {
		if !c.json {
			_, err := fmt.Fprintln(out, describeDifference(d, na, nb))
			return err
		}
		if n++; n > 1 {
			if _, err := io.WriteString(out, ","); err != nil {
				return err
			}
		}
		return writeJSON(out, differenceJSON(d))
	})
	p.done()
	if err != nil {
		return sourceError(ctx, err, pos)
	}
	diffs := tot.Differences

	if c.json {
		rep := verifyReport{A: na, B: nb, ItemsA: tot.A, ItemsB: tot.B, Same: diffs == 0}
		if err := c.printReport(rep, out); err != nil {
			return err
		}
	} else {
		if diffs == 0 {
			fmt.Fprintf(c.m.Stdout, "same: %d item%s\n", tot.A, plural(tot.A, "", "s"))
			return nil
		}
		if _, err := out.WriteTo(c.m.Stdout); err != nil {
			return err
		}
	}
	if diffs > 0 {
		return &problemError{msg: fmt.Sprintf("%d item%s differ%s between %s (%d items) and %s (%d items)",
			diffs, plural(diffs, "", "s"), plural(diffs, "s", ""), na, tot.A, nb, tot.B)}
	}
	return nil
}

// source opens the feed file or store arg as a source of
// producer.DiffSources, and returns what closes it. Stores are only read:
// a SQLite file must exist.
func (c *VerifyCommand) source(ctx context.Context, arg string, p *progress) (producer.Source, func(), error) {
	if isStore(arg) {
		st, err := c.m.openStore(ctx, arg, false)
		if err != nil {
			return producer.Source{}, nil, err
		}
		return producer.StoreSource(st), func() { st.Close() }, nil
	}
	f, err := c.m.open(arg)
	if err != nil {
		return producer.Source{}, nil, err
	}
	r := feedsync.NewReader(ctxReader{ctx, p.reader(f)})
	return producer.FeedSource(r), func() { f.Close() }, nil
}

// sourceError names the endpoint whose reading failed (a
// *producer.SourceError), without what the endpoint's name says already.
func sourceError(ctx context.Context, err error, pos []string) error {
	if ctx.Err() != nil {
		return ctx.Err()
	}
	var se *producer.SourceError
	if !errors.As(err, &se) {
		return err
	}
	arg := pos[0]
	if se.Source == "b" {
		arg = pos[1]
	}
	if isStore(arg) {
		return inFile(storeLabel(arg), se.Err)
	}
	err = se.Err
	// "manifest: read feed: " says nothing the file name does not.
	if rest, ok := strings.CutPrefix(err.Error(), "manifest: read feed: "); ok {
		err = &shownError{msg: rest, err: err}
	} else if rest, ok := strings.CutPrefix(err.Error(), "manifest: "); ok {
		err = &shownError{msg: rest, err: err}
	}
	return inFile(arg, err)
}

// differenceJSON is d as the JSON output shows it.
func differenceJSON(d producer.Difference) verifyDifference {
	vd := verifyDifference{ID: d.ID}
	for i, k := range verifyKinds {
		if d.What&(1<<i) != 0 {
			vd.What = append(vd.What, k.json)
		}
	}
	if d.What&producer.OnlyB == 0 {
		vd.A = entryInfo(d.A)
	}
	if d.What&producer.OnlyA == 0 {
		vd.B = entryInfo(d.B)
	}
	return vd
}

// printReport prints rep as printJSON would with its Differences set to
// the JSON objects in diffs, separated by commas: the same bytes, without
// holding the differences in memory.
func (c *VerifyCommand) printReport(rep verifyReport, diffs io.WriterTo) error {
	rep.Differences = []verifyDifference{}
	var head bytes.Buffer
	if err := writeJSON(&head, rep); err != nil {
		return err
	}
	// The encoding ends with the empty differences, the last field.
	const tail = `[]}`
	b, ok := bytes.CutSuffix(head.Bytes(), []byte(tail))
	if !ok {
		return fmt.Errorf("verify report: JSON %q does not end with %q", head.Bytes(), tail)
	}
	if _, err := c.m.Stdout.Write(append(b, '[')); err != nil {
		return err
	}
	if _, err := diffs.WriteTo(c.m.Stdout); err != nil {
		return err
	}
	_, err := io.WriteString(c.m.Stdout, "]}\n")
	return err
}

// endpointLabel is how verify names an endpoint.
func endpointLabel(arg string) string {
	if isStore(arg) {
		return storeLabel(arg)
	}
	return displayName(arg)
}

func entryInfo(e producer.Entry) *verifyEntry {
	top := historyInfo{Sequence: e.Version.Top.Sequence, By: e.Version.Top.By}
	if !e.Version.Top.When.IsZero() {
		top.When = feedsync.FormatTime(e.Version.Top.When)
	}
	return &verifyEntry{Updates: e.Updates, Top: top, Deleted: e.Deleted, Conflicts: e.Conflicts}
}

// describeEntry says what one side holds of an item, in a few words.
func describeEntry(e producer.Entry) string {
	s := fmt.Sprintf("updates %d, top %s", e.Updates, e.Version.Top)
	if e.Deleted {
		s += ", deleted"
	}
	if e.Conflicts > 0 {
		s += fmt.Sprintf(", %d conflict%s", e.Conflicts, plural(e.Conflicts, "", "s"))
	}
	return s
}

// describeDifference is one line of the text output, naming the endpoints:
//
//	"fence-1": different winner: laptop.xml has updates 3, top 3@tablet; tasks.db has updates 3, top 3@laptop
func describeDifference(d producer.Difference, na, nb string) string {
	switch {
	case d.What&producer.OnlyA != 0:
		return fmt.Sprintf("%q: only in %s (%s)", d.ID, na, describeEntry(d.A))
	case d.What&producer.OnlyB != 0:
		return fmt.Sprintf("%q: only in %s (%s)", d.ID, nb, describeEntry(d.B))
	}
	var what []string
	for i, k := range verifyKinds {
		if d.What&(1<<i) != 0 {
			what = append(what, k.text)
		}
	}
	return fmt.Sprintf("%q: %s: %s has %s; %s has %s", d.ID, strings.Join(what, ", "), na, describeEntry(d.A), nb, describeEntry(d.B))
}

// Usage prints the help of verify.
func (c *VerifyCommand) Usage() {
	fmt.Fprint(c.m.Stdout, `The verify command tells whether two endpoints hold the same items: the
same sync ids, with the same winning version, the same deleted flag and the
same conflict versions (FS-MERGE-14), which is what two endpoints that have
synchronized both ways must hold. A and B are each a feed file or a store;
only their manifests are compared (ids, versions and payload digests), so
no payload is copied from one to the other. The manifests are compared in
sync id order as they are read, never held whole in memory: past 16384
items a side is sorted in a temporary file (in TMPDIR: some 60 bytes and
the sync id per item), removed when verify ends.

It prints "same: N items" and exits with status 0, or prints one line per
differing item and exits with status 1:

  - only in A, only in B: one side lacks the item;
  - different winner: one side lacks an update, or they hold concurrent
    versions;
  - different deleted flag, different conflicts;
  - different payload of the same version: two endpoints that share a by
    (FS-CONFLICT-6), or shared data changed without an update
    (FS-UPDATE-6). Only checked when both sides keep the item in the same
    format (FS-FEED-10).

Usage:

	feedsync verify A B [arguments]

A and B are each a feed file ("-" for standard input) or a store: a SQLite
file (sqlite:PATH, or a path ending in .db) or a PostgreSQL database
(postgres://..., with feedsync_schema=NAME to choose the schema). Stores
are only read.

Arguments:

	--json
	    Print the comparison as one JSON object: {"a", "b", "items_a",
	    "items_b", "same", "differences"}, each difference {"id", "what"
	    (only_a, only_b, winner, deleted, conflicts, payload), "a", "b"},
	    the a and b sides {"updates", "top", "deleted", "conflicts"}.

Example:

	feedsync verify laptop.xml tablet.xml
	feedsync verify tasks.db sqlite:/srv/feeds/tasks.db --json
`)
}
