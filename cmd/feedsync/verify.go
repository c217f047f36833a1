package main

import (
	"context"
	"flag"
	"fmt"
	"strings"

	"github.com/feedsync/go-feedsync/feedsync"
	"github.com/feedsync/go-feedsync/producer"
)

// VerifyCommand tells whether two endpoints hold the same items, comparing
// their manifests (producer.Manifest): ids, winners, tombstones and conflict
// sets, with digests in place of payloads.
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

// Run compares the two endpoints.
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
	ma, err := c.manifest(ctx, pos[0], p)
	if err != nil {
		p.done()
		return err
	}
	mb, err := c.manifest(ctx, pos[1], p)
	p.done()
	if err != nil {
		return err
	}
	na, nb := endpointLabel(pos[0]), endpointLabel(pos[1])
	diffs := producer.Diff(ma, mb)

	if c.json {
		rep := verifyReport{A: na, B: nb, ItemsA: len(ma), ItemsB: len(mb), Same: len(diffs) == 0, Differences: []verifyDifference{}}
		for _, d := range diffs {
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
			rep.Differences = append(rep.Differences, vd)
		}
		if err := c.m.printJSON(rep); err != nil {
			return err
		}
	} else {
		if len(diffs) == 0 {
			fmt.Fprintf(c.m.Stdout, "same: %d item%s\n", len(ma), plural(len(ma), "", "s"))
			return nil
		}
		for _, d := range diffs {
			fmt.Fprintln(c.m.Stdout, describeDifference(d, na, nb))
		}
	}
	if len(diffs) > 0 {
		return &problemError{msg: fmt.Sprintf("%d item%s differ%s between %s (%d items) and %s (%d items)",
			len(diffs), plural(len(diffs), "", "s"), plural(len(diffs), "s", ""), na, len(ma), nb, len(mb))}
	}
	return nil
}

// endpointLabel is how verify names an endpoint.
func endpointLabel(arg string) string {
	if isStore(arg) {
		return storeLabel(arg)
	}
	return displayName(arg)
}

// manifest returns the manifest of the feed file or store arg. Stores are
// only read: a SQLite file must exist.
func (c *VerifyCommand) manifest(ctx context.Context, arg string, p *progress) (producer.Manifest, error) {
	if isStore(arg) {
		st, err := c.m.openStore(ctx, arg, false)
		if err != nil {
			return nil, err
		}
		defer st.Close()
		m, err := producer.StoreManifest(ctx, st)
		if err != nil {
			return nil, inFile(storeLabel(arg), err)
		}
		return m, nil
	}
	f, err := c.m.open(arg)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	m, err := producer.FeedManifest(feedsync.NewReader(ctxReader{ctx, p.reader(f)}))
	if ctx.Err() != nil {
		return nil, ctx.Err()
	}
	if err != nil {
		// "manifest: read feed: " says nothing the file name does not.
		if rest, ok := strings.CutPrefix(err.Error(), "manifest: read feed: "); ok {
			err = &shownError{msg: rest, err: err}
		} else if rest, ok := strings.CutPrefix(err.Error(), "manifest: "); ok {
			err = &shownError{msg: rest, err: err}
		}
		return nil, inFile(arg, err)
	}
	return m, nil
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
no payload is copied from one to the other.

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
