package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"strings"

	"github.com/feedsync/go-feedsync/feedsync"
)

// ValidateCommand checks a feed and lists every problem.
type ValidateCommand struct {
	m *Main

	strict bool
	json   bool
}

func (c *ValidateCommand) flags() *flag.FlagSet {
	fs := newFlagSet("validate")
	fs.BoolVar(&c.strict, "strict", false, "")
	fs.BoolVar(&c.json, "json", false, "")
	return fs
}

// Run validates the feed. Each problem is printed to Stderr as it is found,
// so a big feed streams; the error returned counts them.
func (c *ValidateCommand) Run(ctx context.Context, args []string) error {
	pos, err := parseArgs(c.flags(), args)
	if err != nil {
		return err
	}
	if err := wantArgs(pos, "FEED"); err != nil {
		return err
	}
	name := pos[0]
	f, err := c.m.open(name)
	if err != nil {
		return err // cannot read it: an input error, not a problem found
	}
	defer f.Close()

	var errs, warns int
	var problems []validateProblem // with --json
	report := func(err error, warning bool) {
		label := ""
		if warning {
			warns++
			label = "warning: "
		} else {
			errs++
		}
		if c.json {
			if len(problems) < maxJSONProblems {
				p := validateProblem{Warning: warning, Message: cleanMsg(err.Error())}
				var ie *feedsync.ItemError
				if errors.As(err, &ie) {
					p.ID, p.Line = ie.ID, ie.Line
				}
				problems = append(problems, p)
			}
			return
		}
		msg := inFile(name, err).Error()
		if label != "" {
			// "FILE: item "x" (line 3): warning: cause"
			msg = insertLabel(msg, label)
		}
		fmt.Fprintf(c.m.Stderr, "feedsync validate: %s\n", cleanMsg(msg))
	}

	p := c.m.newProgress("validate", "read", false)
	defer p.done()
	r := feedsync.NewReaderOptions(p.reader(f), feedsync.ReaderOptions{Strict: c.strict})
	var ids feedsync.IDSet
	items, synced := 0, 0
	// A warning that wraps feedsync.ErrViolation breaks a requirement the
	// reader and the merge tolerate (FS-ROBUST-2): here it is an error.
	warning := func(w error) { report(w, !errors.Is(w, feedsync.ErrViolation)) }
	h, err := r.Header()
	if err == nil {
		for _, w := range h.Warnings() {
			warning(w)
		}
		for {
			if err = ctx.Err(); err != nil {
				return err
			}
			var it *feedsync.Item
			it, err = r.Next()
			if err != nil {
				break
			}
			items++
			p.item()
			if it.Sync == nil {
				continue
			}
			synced++
			ie, iw := it.Problems()
			for _, e := range ie {
				report(e, false)
			}
			for _, w := range iw {
				warning(w)
			}
			if err := ids.Add(it); err != nil {
				report(err, false)
			}
		}
	}
	if err != io.EOF {
		// Malformed XML, or not a feed at all: reading stops here.
		report(err, false)
	}

	failed := errs
	if c.strict {
		failed += warns
	}
	if c.json {
		err := c.m.printJSON(validateJSON{File: displayName(name), OK: failed == 0, Items: items, Synchronized: synced, Errors: errs, Warnings: warns, Problems: problems})
		if err != nil || failed == 0 {
			return err
		}
	}
	if failed > 0 {
		return &problemError{msg: fmt.Sprintf("%s: %d error%s, %d warning%s in %d item%s (%d synchronized)",
			displayName(name), errs, plural(errs, "", "s"), warns, plural(warns, "", "s"), items, plural(items, "", "s"), synced)}
	}
	msg := fmt.Sprintf("ok: %d item%s (%d synchronized)", items, plural(items, "", "s"), synced)
	if warns > 0 {
		msg += fmt.Sprintf(", %d warning%s", warns, plural(warns, "", "s"))
	}
	fmt.Fprintln(c.m.Stdout, msg)
	return nil
}

// maxJSONProblems bounds the problems validate --json lists; the counts
// stay exact.
const maxJSONProblems = 1000

// validateJSON is the summary of validate --json.
type validateJSON struct {
	File         string            `json:"file"`
	OK           bool              `json:"ok"`
	Items        int               `json:"items"`
	Synchronized int               `json:"synchronized"`
	Errors       int               `json:"errors"`
	Warnings     int               `json:"warnings"`
	Problems     []validateProblem `json:"problems"`
}

// validateProblem is one problem in validate --json.
type validateProblem struct {
	Warning bool   `json:"warning"`
	ID      string `json:"id,omitempty"`
	Line    int    `json:"line,omitempty"`
	Message string `json:"message"`
}

// insertLabel puts label after the location part of a message, before
// the cause: "FILE: item "x" (line 3): " for item problems, "FILE: " for
// the others.
func insertLabel(msg, label string) string {
	i := strings.Index(msg, ": ") + 2
	if j := strings.Index(msg, ": item "); j >= 0 {
		if k := strings.Index(msg[j:], "): "); k >= 0 {
			i = j + k + 3
		}
	}
	return msg[:i] + label + msg[i:]
}

// cleanMsg drops the package prefix that core errors carry inside ours.
func cleanMsg(msg string) string {
	return strings.ReplaceAll(msg, ": feedsync: ", ": ")
}

// Usage prints the help of validate.
func (c *ValidateCommand) Usage() {
	fmt.Fprint(c.m.Stdout, `The validate command reads a whole feed and lists every problem it finds,
one per line on standard error, each with the item's id and line:

  - errors: malformed XML or not a feed (reading stops there), invalid
    sx:sync metadata (FS-ROBUST-1: missing id or updates, no history, a
    history entry with neither when nor by, bad numbers, conflict copies
    with another id, ...), sync ids used twice (FS-SYNC-2), and what the
    spec requires even where a merge tolerates it: a topmost sequence that
    differs from updates (FS-SYNC-7, FS-ROBUST-2), since without until or
    the reverse (FS-SHARING-2), a relative sx:related link (FS-RELATED-1),
    a related element of another namespace in sx:sharing (FS-NS-1);
  - warnings: what the spec only recommends or readers accept leniently
    (lenient booleans, FS-TYPE-3; stale conflict copies, FS-UPDATE-4;
    ignored sx:related, FS-RELATED-4; ...).

It exits with status 1 if there is an error (or, with --strict, a
warning), and otherwise prints "ok: N items (M synchronized)".

Usage:

	feedsync validate FEED [arguments]

FEED may be "-" for standard input.

Arguments:

	--strict
	    Count warnings as problems, and reject booleans other than "true"
	    and "false" (FS-TYPE-3).

	--json
	    Print the result as one JSON object on standard output instead of
	    text on standard error: {"file", "ok", "items", "synchronized",
	    "errors", "warnings", "problems"}, problems being the first 1000,
	    each {"warning", "id", "line", "message"}.

Example:

	feedsync validate tasks.xml
`)
}
