package main

import (
	"fmt"
	"io"

	"github.com/feedsync/go-feedsync/feedsync"
	"github.com/feedsync/go-feedsync/merge"
)

// Every command that ends with a summary (merge, produce, convert, export,
// validate, sync, verify, compact, create, update, delete, resolve,
// version) prints it as text on standard error, or with --json as one
// JSON object on standard output (printJSON), so that
// scripts read the same shape from every command: the counts under the
// same names as the text, and "output" naming where the result went as the
// text does ("out.xml", "<stdout>", a store). Errors still go to standard
// error as text, with the usual exit status.

// printJSON writes v on standard output as one line of JSON.
func (m *Main) printJSON(v any) error {
	if err := writeJSON(m.Stdout, v); err != nil {
		return err
	}
	_, err := io.WriteString(m.Stdout, "\n")
	return err
}

// jsonWithOutput refuses --json when the command would write its feed to
// standard output too: the two would be mixed.
func jsonWithOutput(asJSON bool, out string) error {
	if asJSON && (out == "" || out == "-") {
		return &usageError{
			msg:  "--json needs -o OUT",
			hint: "With --json the summary goes to standard output, so the feed must go to a file.",
		}
	}
	return nil
}

// mergeJSON is a merge summary (merge, sync's pull) as JSON.
type mergeJSON struct {
	Output     string   `json:"output"`
	New        int      `json:"new"`
	Updated    int      `json:"updated"`
	Deleted    int      `json:"deleted"`
	Conflicts  int      `json:"conflicts"`
	Unchanged  int      `json:"unchanged"`
	Rejected   int      `json:"rejected"`
	Rejections []string `json:"rejections,omitempty"`
}

func mergeSummaryJSON(output string, s merge.Summary) mergeJSON {
	j := mergeJSON{
		Output: output, New: s.Added, Updated: s.Updated, Deleted: s.Deleted,
		Conflicts: s.Conflicts, Unchanged: s.Unchanged, Rejected: s.Rejected,
	}
	for _, r := range s.Rejections {
		j.Rejections = append(j.Rejections, cleanMsg(r.Error()))
	}
	return j
}

// editJSON is the summary of create, update, delete and resolve with
// --json: what the command did to which item, and the item's state after
// it under the names 'feedsync show --json' uses.
type editJSON struct {
	// Output is the feed file written (FEED, or OUT of -o) or the store.
	Output string `json:"output"`
	ID     string `json:"id"`
	// Action is created, updated, undeleted, unchanged (update set the
	// fields to the values they had: nothing was written), deleted or
	// resolved.
	Action    string `json:"action"`
	Updates   int64  `json:"updates"`
	Deleted   bool   `json:"deleted"`
	Conflicts int    `json:"conflicts"` // conflict copies the item keeps
	// Kept and KeptBy say which version resolve kept: 0 the winner, k the
	// k-th conflict copy as 'feedsync conflicts' numbers them, and the
	// endpoint that last changed it. Only from resolve.
	Kept   *int   `json:"kept,omitempty"`
	KeptBy string `json:"kept_by,omitempty"`
}

// editSummary is editJSON for item after action, written to output.
func editSummary(output, action string, it *feedsync.Item) editJSON {
	j := editJSON{Output: output, ID: it.ID(), Action: action}
	if it.Sync != nil {
		j.Updates, j.Deleted, j.Conflicts = it.Sync.Updates, it.Sync.Deleted, len(it.Sync.Conflicts)
	}
	return j
}

// editOutput names where an edit of t with -o out went, as editJSON's
// Output.
func editOutput(t target, out string) string {
	if t.store {
		return t.label()
	}
	return outName(t.name, out)
}

// jsonWithEditOutput refuses --json when an edit command would write its
// feed to standard output (-o -): the feed and the summary would be mixed.
// Without -o the feed is rewritten in place.
func jsonWithEditOutput(asJSON bool, out string) error {
	if asJSON && out == "-" {
		return &usageError{
			msg:  "--json cannot be used with -o -",
			hint: "With --json the summary goes to standard output: rewrite FEED in place (no -o) or give -o OUT.",
		}
	}
	return nil
}

// reportEdit prints the summary of an edit: text on standard error, or
// with --json the object on standard output.
func (m *Main) reportEdit(asJSON bool, text string, j editJSON) error {
	if asJSON {
		return m.printJSON(j)
	}
	_, err := fmt.Fprintln(m.Stderr, text)
	return err
}
