package feedsync

import (
	"errors"
	"fmt"
	"strings"
)

// Errors returned by this package. Each is wrapped with the place it happened
// (an *ItemError or a *SyntaxError); test for them with errors.Is.
var (
	// ErrNotFeed is returned by Reader when the document is neither an RSS 2.0
	// <rss> nor an Atom 1.0 <feed>.
	ErrNotFeed = errors.New("feedsync: not an RSS 2.0 or Atom 1.0 feed")
	// ErrInvalidSync is returned when an sx:sync element breaks FS-ROBUST-1:
	// no id, no updates, no history, or a history entry with neither when nor
	// by.
	ErrInvalidSync = errors.New("feedsync: invalid sx:sync")
	// ErrDuplicateID is returned when two items of one feed share a sync id
	// (FS-SYNC-2, FS-ROBUST-3).
	ErrDuplicateID = errors.New("feedsync: duplicate sync id")
	// ErrLimit is returned when the input exceeds a ReaderOptions limit
	// (FS-ROBUST-4).
	ErrLimit = errors.New("feedsync: input exceeds a limit")
	// ErrNoConflicts is returned by Resolve for an item without conflicts.
	ErrNoConflicts = errors.New("feedsync: item has no conflicts")
	// ErrDeleted is returned by Delete for an item that is already a tombstone.
	ErrDeleted = errors.New("feedsync: item is already deleted")
	// ErrNoSync is returned by the rules when an item has no sx:sync.
	ErrNoSync = errors.New("feedsync: item has no sx:sync")
	// ErrBadStamp is returned when a Stamp has neither By nor When
	// (FS-CREATE-2, FS-UPDATE-2) or a By outside the NSS character set
	// (FS-TYPE-6).
	ErrBadStamp = errors.New("feedsync: invalid stamp")
	// ErrViolation wraps the warnings of CheckSync, CheckSharing and the
	// Reader that break a requirement of the spec which reading and merging
	// nevertheless tolerate (FS-ROBUST-2: a topmost sequence that differs
	// from updates, FS-SYNC-7; a lone since, FS-SHARING-2; ...). A validator
	// reports them as errors; warnings without it are about what the spec
	// only recommends.
	ErrViolation = errors.New("feedsync: violates the spec")
)

// ItemError reports a problem with one item: its sync id (if known), the line
// of its start tag (if read from a document) and the cause.
type ItemError struct {
	ID   string
	Line int
	Err  error
}

func (e *ItemError) Error() string {
	var b strings.Builder
	b.WriteString("item")
	if e.ID != "" {
		fmt.Fprintf(&b, " %q", e.ID)
	}
	if e.Line > 0 {
		fmt.Fprintf(&b, " (line %d)", e.Line)
	}
	b.WriteString(": ")
	b.WriteString(e.Err.Error())
	return b.String()
}

func (e *ItemError) Unwrap() error { return e.Err }

// itemErr wraps err with the item's id and line.
func itemErr(it *Item, err error) error {
	if err == nil {
		return nil
	}
	var ie *ItemError
	if errors.As(err, &ie) {
		return err
	}
	e := &ItemError{Err: err}
	if it != nil {
		e.ID, e.Line = it.ID(), it.line
	}
	return e
}

// SyntaxError reports malformed or hostile XML at a line of the input.
type SyntaxError struct {
	Line int
	Msg  string
	Err  error // underlying cause, if any (ErrLimit, an xml.SyntaxError, …)
}

func (e *SyntaxError) Error() string {
	if e.Line > 0 {
		return fmt.Sprintf("feedsync: line %d: %s", e.Line, e.Msg)
	}
	return "feedsync: " + e.Msg
}

func (e *SyntaxError) Unwrap() error { return e.Err }

// ValidationError lists every problem Validate found. Each element is an
// *ItemError or a feed-level error.
type ValidationError struct {
	Problems []error
}

func (e *ValidationError) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "feedsync: %d problem(s):", len(e.Problems))
	for _, p := range e.Problems {
		b.WriteString("\n\t")
		b.WriteString(p.Error())
	}
	return b.String()
}

// Unwrap returns the individual problems, so errors.Is and errors.As look
// through them.
func (e *ValidationError) Unwrap() []error { return e.Problems }
