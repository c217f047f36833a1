package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"strconv"
	"strings"

	"github.com/beevik/etree"

	"github.com/feedsync/go-feedsync/converter"
	"github.com/feedsync/go-feedsync/feedsync"
)

// ShowCommand lists items with their sync metadata.
type ShowCommand struct {
	m *Main

	store string
	json  bool
	id    string
}

func (c *ShowCommand) flags() *flag.FlagSet {
	fs := newFlagSet("show")
	fs.StringVar(&c.store, "store", "", "")
	fs.BoolVar(&c.json, "json", false, "")
	fs.StringVar(&c.id, "id", "", "")
	return fs
}

// historyInfo is one sx:history entry in the JSON output.
type historyInfo struct {
	Sequence int64  `json:"sequence"`
	When     string `json:"when,omitempty"`
	By       string `json:"by,omitempty"`
	// Invalid holds the attributes whose values could not be read
	// (sequence, when), as written: Sequence and When do not show them.
	Invalid map[string]string `json:"invalid,omitempty"`
}

// itemInfo is one item in the JSON output.
type itemInfo struct {
	ID           string        `json:"id"`
	Line         int           `json:"line,omitempty"`
	Synchronized bool          `json:"synchronized"`
	Updates      int64         `json:"updates,omitempty"`
	Deleted      bool          `json:"deleted"`
	NoConflicts  bool          `json:"noconflicts"`
	Title        string        `json:"title"`
	History      []historyInfo `json:"history,omitempty"`
	Conflicts    int           `json:"conflicts"`
	Copies       []versionInfo `json:"conflict_copies,omitempty"`
	// Fields are the item's fields as 'feedsync update' reads them; only
	// with --id.
	Fields map[string]any `json:"fields,omitempty"`
	// Invalid holds the sx:sync attributes whose values could not be read
	// (updates, deleted, noconflicts), as written: the fields above do
	// not show them.
	Invalid map[string]string `json:"invalid,omitempty"`
}

func historyOf(s *feedsync.Sync) []historyInfo {
	out := make([]historyInfo, 0, len(s.History))
	for _, h := range s.History {
		hi := historyInfo{Sequence: h.Sequence, By: h.By}
		if h.HasWhen() {
			hi.When = feedsync.FormatTime(h.When)
		}
		out = append(out, hi)
	}
	return out
}

// Run lists the items.
func (c *ShowCommand) Run(ctx context.Context, args []string) error {
	pos, err := parseArgs(c.flags(), args)
	if err != nil {
		return err
	}
	t, err := targetOf(pos, c.store)
	if err != nil {
		return err
	}
	id := ""
	if c.id != "" {
		if id, err = itemID(c.id); err != nil {
			return err
		}
	}
	name := t.label()

	w := bufio.NewWriter(c.m.Stdout)
	var items, synced, deleted, conflicted, shown int
	var list *jsonList
	if c.json {
		list = newJSONList(w)
	}
	err = c.m.eachItemOf(ctx, t, func(it *feedsync.Item) error {
		items++
		info := itemInfo{ID: it.ID(), Line: t.line(it), Title: itemTitle(it), Synchronized: it.Sync != nil}
		if s := it.Sync; s != nil {
			synced++
			info.Updates, info.Deleted, info.NoConflicts = s.Updates, s.Deleted, s.NoConflicts
			info.History = historyOf(s)
			markUnreadable(it, &info)
			info.Conflicts = len(s.Conflicts)
			for k, cc := range s.Conflicts {
				if cc.Sync != nil {
					info.Copies = append(info.Copies, describe(cc, k+1))
				}
			}
			if s.Deleted {
				deleted++
			}
			if len(s.Conflicts) > 0 {
				conflicted++
			}
		}
		if id != "" && (it.Sync == nil || feedsync.NormalizeID(it.ID()) != id) {
			return nil
		}
		shown++
		if id != "" {
			// In detail, the fields of every version: what resolve chooses
			// between.
			info.Fields = fieldsOf(it)
			for k := range info.Copies {
				info.Copies[k].Fields = fieldsOf(it.Sync.Conflicts[info.Copies[k].Index-1])
			}
		}
		if list != nil {
			return list.add(info)
		}
		printItem(w, info, id != "")
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
	if id != "" && shown == 0 {
		return inFile(name, &usageError{msg: fmt.Sprintf("no item with id %q", id), hint: fmt.Sprintf("Run 'feedsync show %s' to list the items.", t.args())})
	}
	if !c.json && id == "" {
		fmt.Fprintf(c.m.Stderr, "%s: %d item%s (%d synchronized, %d deleted, %d with conflicts)\n", displayName(name), items, plural(items, "", "s"), synced, deleted, conflicted)
	}
	return nil
}

// writeJSON writes v as one line of JSON without a newline, leaving <, >
// and & as they are (titles are often HTML).
func writeJSON(w io.Writer, v any) error {
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		return err
	}
	_, err := w.Write(bytes.TrimSuffix(b.Bytes(), []byte("\n")))
	return err
}

// printItem writes one item as text: a line of metadata, its history and,
// in detail, its conflict copies.
func printItem(w io.Writer, info itemInfo, detail bool) {
	if !info.Synchronized {
		fmt.Fprintf(w, "- (line %d)  not synchronized  %q\n", info.Line, info.Title)
		return
	}
	var flags []string
	if info.Deleted {
		flags = append(flags, "deleted")
	}
	if info.NoConflicts {
		flags = append(flags, "noconflicts")
	}
	if info.Conflicts > 0 {
		flags = append(flags, fmt.Sprintf("%d conflict%s", info.Conflicts, plural(info.Conflicts, "", "s")))
	}
	extra := ""
	if len(flags) > 0 {
		extra = "  " + strings.Join(flags, "  ")
	}
	updates := fmt.Sprintf("updates=%d", info.Updates)
	if v, ok := info.Invalid["updates"]; ok {
		updates = fmt.Sprintf("updates=%q (invalid)", v)
	}
	for _, a := range []string{"deleted", "noconflicts"} {
		if v, ok := info.Invalid[a]; ok {
			updates += fmt.Sprintf("  %s=%q (invalid)", a, v)
		}
	}
	fmt.Fprintf(w, "%s%s  %s%s  %q\n", info.ID, lineNote(info.Line), updates, extra, info.Title)
	hist := make([]string, len(info.History))
	for i, h := range info.History {
		by := h.By
		if by == "" {
			by = "(anonymous)"
		}
		hist[i] = fmt.Sprintf("%d@%s", h.Sequence, by)
		if v, ok := h.Invalid["sequence"]; ok {
			hist[i] = fmt.Sprintf("sequence=%q (invalid)@%s", v, by)
		}
		if h.When != "" {
			hist[i] += " " + h.When
		}
		if v, ok := h.Invalid["when"]; ok {
			hist[i] += fmt.Sprintf(" when=%q (invalid)", v)
		}
	}
	fmt.Fprintf(w, "  history: %s\n", strings.Join(hist, ", "))
	if detail {
		printFields(w, "  fields: ", info.Fields)
		for _, v := range info.Copies {
			printVersion(w, fmt.Sprintf("%6d", v.Index), v)
			printFields(w, "          fields: ", v.Fields)
		}
	}
}

// fieldsOf returns the fields of a version, or nil if they cannot be read.
func fieldsOf(it *feedsync.Item) map[string]any {
	p, err := payloadOf(it)
	if err != nil {
		return nil
	}
	f, err := converter.Map{Format: it.Format()}.FromPayload(p)
	if err != nil {
		return nil
	}
	return f
}

// printFields writes fields as one line of JSON (keys sorted).
func printFields(w io.Writer, label string, fields map[string]any) {
	if len(fields) == 0 {
		return
	}
	io.WriteString(w, label)
	writeJSON(w, fields)
	io.WriteString(w, "\n")
}

// Usage prints the help of show.
func (c *ShowCommand) Usage() {
	fmt.Fprint(c.m.Stdout, `The show command lists the items of a feed with their sync metadata: id,
line, updates, whether deleted or noconflicts, the number of conflict
copies, the title, and the history (sequence@by when, newest first).
Items without sx:sync are listed as "not synchronized".

Usage:

	feedsync show FEED [arguments]
	feedsync show --store DSN [arguments]

FEED may be "-" for standard input.

Arguments:

	--store DSN
	    List the items of a store instead of FEED, in change order.
	    DSN: sqlite:PATH, a path ending in .db, postgres://… or memory:.

	--id ID
	    Show only this item, with its fields (as 'feedsync update' reads
	    them) and its conflict copies with theirs.

	--json
	    Write a JSON array of objects: id, line, synchronized, updates,
	    deleted, noconflicts, title, history, conflicts (the count),
	    conflict_copies and, with --id, fields.

Example:

	feedsync show tasks.xml
	feedsync show tasks.xml --id fence-1 --json
`)
}

// markUnreadable records in info the sx:sync and sx:history attributes of
// it whose values the reader could not read (FS-TYPE-2..4), as they are
// written, so that show marks them instead of printing 0 or nothing. Only
// items with metadata errors can have any; their bytes are the ones read.
func markUnreadable(it *feedsync.Item, info *itemInfo) {
	if errs, _ := it.Problems(); len(errs) == 0 {
		return
	}
	b, err := feedsync.MarshalItem(it)
	if err != nil {
		return
	}
	doc := etree.NewDocument()
	if doc.ReadFromBytes(b) != nil || doc.Root() == nil {
		return
	}
	var sync *etree.Element
	for _, c := range doc.Root().ChildElements() {
		if c.Tag == "sync" && (c.NamespaceURI() == feedsync.Namespace || c.NamespaceURI() == feedsync.LegacyNamespace) {
			sync = c
			break
		}
	}
	if sync == nil {
		return
	}
	mark := func(m *map[string]string, k, v string) {
		if *m == nil {
			*m = map[string]string{}
		}
		(*m)[k] = v
	}
	for _, a := range sync.Attr {
		switch {
		case a.Space != "":
		case a.Key == "updates" && !readableInt(a.Value):
			mark(&info.Invalid, a.Key, a.Value)
		case (a.Key == "deleted" || a.Key == "noconflicts") && !readableBool(a.Value):
			mark(&info.Invalid, a.Key, a.Value)
		}
	}
	i := 0
	for _, h := range sync.ChildElements() {
		if h.Tag != "history" || h.NamespaceURI() != sync.NamespaceURI() {
			continue
		}
		if i >= len(info.History) {
			break
		}
		for _, a := range h.Attr {
			switch {
			case a.Space != "":
			case a.Key == "sequence" && !readableInt(a.Value):
				mark(&info.History[i].Invalid, a.Key, a.Value)
			case a.Key == "when":
				if _, err := feedsync.ParseTime(a.Value); err != nil {
					mark(&info.History[i].Invalid, a.Key, a.Value)
				}
			}
		}
		i++
	}
}

// readableInt reports whether v is an updates or sequence value the reader
// takes (FS-TYPE-2).
func readableInt(v string) bool {
	n, err := strconv.ParseInt(v, 10, 64)
	return err == nil && !strings.HasPrefix(v, "+") && n >= 1 && n <= feedsync.MaxInt
}

// readableBool reports whether v is a deleted or noconflicts value the
// lenient reader takes (FS-TYPE-3).
func readableBool(v string) bool {
	switch strings.ToLower(v) {
	case "true", "false", "1", "0", "yes", "no", "-1":
		return true
	}
	return false
}
