package main

import (
	"io"

	"github.com/feedsync/go-feedsync/merge"
)

// Every command that ends with a summary (merge, produce, convert, export,
// validate, sync, verify, version) prints it as text on standard error, or
// with --json as one JSON object on standard output (printJSON), so that
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
