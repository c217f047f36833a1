package main

import (
	"bufio"
	"context"
	"flag"
	"fmt"
	"io"
	"strings"

	"github.com/feedsync/go-feedsync/feedsync"
)

// ConflictsCommand lists the items that hold conflict copies
// (FS-CONFLICT-2, FS-CONFLICT-5).
type ConflictsCommand struct {
	m *Main

	store string
	json  bool
	fail  bool
}

func (c *ConflictsCommand) flags() *flag.FlagSet {
	fs := newFlagSet("conflicts")
	fs.StringVar(&c.store, "store", "", "")
	fs.BoolVar(&c.json, "json", false, "")
	fs.BoolVar(&c.fail, "fail-on-conflicts", false, "")
	return fs
}

// versionInfo describes one version of an item in listings.
type versionInfo struct {
	Index    int    `json:"index"` // 0 the winner, k the k-th conflict copy
	By       string `json:"by,omitempty"`
	When     string `json:"when,omitempty"`
	Sequence int64  `json:"sequence"`
	Updates  int64  `json:"updates"`
	Deleted  bool   `json:"deleted"`
	Title    string `json:"title"`
	// Fields are the version's fields; only from 'feedsync show --id'.
	Fields map[string]any `json:"fields,omitempty"`
	// Differs lists what a conflict copy's payload changes against the
	// winner's; only from 'feedsync conflicts'.
	Differs []fieldChange `json:"differs,omitempty"`
}

func describe(v *feedsync.Item, index int) versionInfo {
	top := v.Sync.Top()
	info := versionInfo{Index: index, By: top.By, Sequence: top.Sequence, Updates: v.Sync.Updates, Deleted: v.Sync.Deleted, Title: itemTitle(v)}
	if top.HasWhen() {
		info.When = feedsync.FormatTime(top.When)
	}
	return info
}

// conflictInfo is one line of the JSON output.
type conflictInfo struct {
	ID        string        `json:"id"`
	Line      int           `json:"line,omitempty"`
	Winner    versionInfo   `json:"winner"`
	Conflicts []versionInfo `json:"conflicts"`
}

// Run lists the conflicts.
func (c *ConflictsCommand) Run(ctx context.Context, args []string) error {
	pos, err := parseArgs(c.flags(), args)
	if err != nil {
		return err
	}
	t, err := targetOf(pos, c.store)
	if err != nil {
		return err
	}
	name := t.label()

	w := bufio.NewWriter(c.m.Stdout)
	n := 0
	var list *jsonList
	if c.json {
		list = newJSONList(w)
	}
	err = c.m.eachItemOf(ctx, t, func(it *feedsync.Item) error {
		if it.Sync == nil || len(it.Sync.Conflicts) == 0 {
			return nil
		}
		n++
		info := conflictInfo{ID: it.ID(), Line: t.line(it), Winner: describe(it, 0)}
		for k, cc := range it.Sync.Conflicts {
			if cc.Sync != nil {
				v := describe(cc, k+1)
				v.Differs = versionDiff(it, cc)
				info.Conflicts = append(info.Conflicts, v)
			}
		}
		if list != nil {
			return list.add(info)
		}
		fmt.Fprintf(w, "%s%s: %d conflict cop%s\n", info.ID, lineNote(info.Line), len(info.Conflicts), plural(len(info.Conflicts), "y", "ies"))
		printVersion(w, "winner", info.Winner)
		for _, v := range info.Conflicts {
			printVersion(w, fmt.Sprintf("%6d", v.Index), v)
			printDiff(w, v.Differs)
		}
		return nil
	})
	if err != nil {
		return err
	}
	if list != nil {
		list.close()
	}
	if err := w.Flush(); err != nil {
		return err
	}
	if !c.json {
		if n == 0 {
			fmt.Fprintf(c.m.Stderr, "%s: no conflicts\n", displayName(name))
		} else {
			fmt.Fprintf(c.m.Stderr, "%s: %d item%s with conflicts; compare the versions with 'feedsync show %s --id ID', settle with 'feedsync resolve %s --id ID --keep N'\n", displayName(name), n, plural(n, "", "s"), t.args(), t.args())
		}
	}
	if c.fail && n > 0 {
		return &problemError{msg: fmt.Sprintf("%s: %d item%s with conflicts", displayName(name), n, plural(n, "", "s"))}
	}
	return nil
}

func printVersion(w io.Writer, label string, v versionInfo) {
	by := v.By
	if by == "" {
		by = "(anonymous)"
	}
	when := v.When
	if when == "" {
		when = "-"
	}
	state := ""
	if v.Deleted {
		state = "  deleted"
	}
	fmt.Fprintf(w, "  %-6s  %d@%s  %s  updates=%d%s  %q\n", label, v.Sequence, by, when, v.Updates, state, v.Title)
}

// printDiff writes what a conflict copy changes, one line per field:
// "          content: "Buy 4 posts" (winner: "Buy 6 posts")". Long values
// are cut: 'feedsync show --id' shows them whole.
func printDiff(w io.Writer, changes []fieldChange) {
	for _, c := range changes {
		fmt.Fprintf(w, "          %s: %s (winner: %s)\n", c.Field, diffValue(c.Copy), diffValue(c.Winner))
	}
}

// diffValue is a value of a fieldChange as JSON, at most 60 characters.
func diffValue(v any) string {
	if v == nil {
		return "none"
	}
	var b strings.Builder
	if err := writeJSON(&b, v); err != nil {
		return "?"
	}
	s := b.String()
	if r := []rune(s); len(r) > 60 {
		s = string(r[:57]) + "..."
	}
	return s
}

func plural(n int, one, many string) string {
	if n == 1 {
		return one
	}
	return many
}

// Usage prints the help of conflicts.
func (c *ConflictsCommand) Usage() {
	fmt.Fprint(c.m.Stdout, `The conflicts command lists the items whose merges kept conflicting
versions (FS-CONFLICT-2): for each, the winner and every conflict copy,
numbered 1..n, with its topmost history entry (sequence@by and when), its
updates, whether it is deleted, and its title. Under each copy come the
parts of its payload that differ from the winner's: the fields, as
'feedsync update --set' names them, and other elements by name (long
values are cut; 'feedsync show FEED --id ID' shows them whole). 'feedsync
resolve --keep N' takes these numbers; 0 is the winner.

Usage:

	feedsync conflicts FEED [arguments]
	feedsync conflicts --store DSN [arguments]

FEED may be "-" for standard input.

Arguments:

	--store DSN
	    List the conflicts of a store instead of FEED.
	    DSN: sqlite:PATH, a path ending in .db, postgres://… or memory:.

	--json
	    Write a JSON array, one object per item: id, line, winner and
	    conflicts (index, by, when, sequence, updates, deleted, title).

	--fail-on-conflicts
	    Exit with status 1 when some item has conflicts.

Example:

	feedsync conflicts tasks.xml
	feedsync conflicts tasks.xml --json --fail-on-conflicts
`)
}
