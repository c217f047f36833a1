package feedsync

import (
	"fmt"
	"net/url"
)

// CheckSync checks one item's sync metadata and returns every problem it
// finds, each naming what is wrong and the rule it breaks.
//
// errs make the item unusable for a merge; such an incoming item is reported
// and left out (FS-ROBUST-1, Outcome Rejected). Errors wrap ErrInvalidSync:
//
//   - id missing or not a URN NSS (FS-SYNC-2, FS-TYPE-5);
//   - updates outside 1..MaxInt (FS-SYNC-3, FS-TYPE-2);
//   - no history (FS-SYNC-6, FS-ROBUST-1);
//   - a history entry with neither when nor by (FS-HIST-4), a sequence
//     outside 1..MaxInt (FS-HIST-2, FS-TYPE-2), or an entry below the
//     topmost with a sequence above updates (a sequence is the value updates
//     took, so an older entry can never exceed it; a topmost entry that
//     differs from updates is FS-ROBUST-2's warning instead);
//   - a conflict copy without sx:sync or with another id (FS-CONFLICTS-1),
//     and every error of a conflict copy's own metadata;
//   - noconflicts="true" on an item holding conflicts (FS-SYNC-5,
//     FS-MERGE-11).
//
// warnings leave the item usable:
//
//   - the topmost sequence differs from updates, in either direction
//     (FS-ROBUST-2: merge anyway). It breaks FS-SYNC-7, so this warning
//     wraps ErrViolation, which a validator reports as an error;
//   - an id with lower-case %-escapes (compared in upper case, FS-TYPE-5);
//   - nested conflicts, which the merge flattens (FS-CONFLICTS-2);
//   - versions disagreeing on noconflicts (FS-NOCONF-3: the winner's flag
//     decides);
//   - the same version twice in sx:conflicts (FS-CONFLICT-4);
//   - a conflict copy subsumed by the item holding it, which an update
//     should have folded (FS-UPDATE-4, §17 A-9).
//
// A nil s is reported as a single ErrNoSync. CheckSync does not know the
// item's line; Item.Problems wraps each problem in an *ItemError.
func CheckSync(s *Sync) (errs, warnings []error) {
	if s == nil {
		return []error{ErrNoSync}, nil
	}
	var c checker
	c.version("", s)

	hasConflicts := false
	for i, ci := range s.Conflicts {
		at := fmt.Sprintf("conflict copy %d: ", i+1)
		if ci == nil || ci.Sync == nil {
			c.err(at+"no sx:sync (FS-CONFLICTS-1)", nil)
			continue
		}
		hasConflicts = true
		cs := ci.Sync
		if cs.ID != s.ID {
			c.err(at+"id %q differs from the item's id %q (FS-CONFLICTS-1)", []any{cs.ID, s.ID})
		}
		c.version(at, cs)
		if len(cs.Conflicts) > 0 {
			c.warn(at+"holds %d nested conflict copies; they are flattened into the item's conflicts (FS-CONFLICTS-2)", []any{len(cs.Conflicts)})
		}
		if cs.NoConflicts != s.NoConflicts {
			c.warn(at+"noconflicts=%t but the item has noconflicts=%t (FS-NOCONF-3: the winner's flag decides)", []any{cs.NoConflicts, s.NoConflicts})
		}
		if SubsumedBy(cs, s) {
			c.warn(at+"version %s is subsumed by the item holding it and should have been folded into its history (FS-UPDATE-4)", []any{cs.Top()})
		}
		for j := 0; j < i; j++ {
			if cj := s.Conflicts[j]; cj != nil && cj.Sync != nil && cj.Sync.SameVersion(cs) {
				c.warn(at+"same version as conflict copy %d (FS-CONFLICT-4)", []any{j + 1})
				break
			}
		}
	}
	if s.NoConflicts && hasConflicts {
		c.err("noconflicts=\"true\" but the item holds %d conflict copies (FS-SYNC-5, FS-MERGE-11)", []any{len(s.Conflicts)})
	}
	return c.errs, c.warns
}

// checker collects CheckSync's findings.
type checker struct{ errs, warns []error }

func (c *checker) err(format string, args []any) {
	c.errs = append(c.errs, fmt.Errorf("%w: "+format, append([]any{ErrInvalidSync}, args...)...))
}

func (c *checker) warn(format string, args []any) {
	c.warns = append(c.warns, fmt.Errorf("feedsync: "+format, args...))
}

// violation is a warning that wraps ErrViolation: tolerated, but not
// allowed.
func (c *checker) violation(format string, args []any) {
	c.warns = append(c.warns, violation(format, args...))
}

// violation returns a warning that wraps ErrViolation; its message is the
// formatted text alone.
func violation(format string, args ...any) error {
	return &violationError{msg: fmt.Sprintf(format, args...)}
}

type violationError struct{ msg string }

func (e *violationError) Error() string { return "feedsync: " + e.msg }
func (e *violationError) Unwrap() error { return ErrViolation }

// CheckSharing returns what is wrong with a feed's sx:sharing, each problem
// wrapping ErrViolation: since without until or the reverse (FS-SHARING-2),
// and an sx:related link that is not an absolute URI (FS-RELATED-1).
// Readers keep such an sx:sharing as it is; a validator reports them.
func CheckSharing(s *Sharing) []error {
	if s == nil {
		return nil
	}
	var out []error
	switch {
	case s.Since != "" && s.Until == "":
		out = append(out, violation("sx:sharing has since without until (FS-SHARING-2)"))
	case s.Until != "" && s.Since == "":
		out = append(out, violation("sx:sharing has until without since (FS-SHARING-2)"))
	}
	for _, r := range s.Related {
		if u, err := url.Parse(r.Link); err != nil || !u.IsAbs() {
			out = append(out, violation("sx:related link %q is not an absolute URI (FS-RELATED-1)", r.Link))
		}
	}
	return out
}

// version checks the metadata every version carries; at prefixes messages
// about a conflict copy.
func (c *checker) version(at string, s *Sync) {
	switch {
	case s.ID == "":
		c.err(at+"id is missing (FS-SYNC-2)", nil)
	case !ValidID(s.ID):
		c.err(at+"id %q is not a URN NSS: letters, digits, ()+,-.:=@;$_!*' and %%HH only (FS-TYPE-5)", []any{s.ID})
	case NormalizeID(s.ID) != s.ID:
		c.warn(at+"id %q has lower-case %%-escapes; it is compared as %q (FS-TYPE-5)", []any{s.ID, NormalizeID(s.ID)})
	}
	if s.Updates < 1 || s.Updates > MaxInt {
		c.err(at+"updates %d is outside 1..%d (FS-SYNC-3, FS-TYPE-2)", []any{s.Updates, MaxInt})
	}
	if len(s.History) == 0 {
		c.err(at+"no sx:history entry (FS-SYNC-6, FS-ROBUST-1)", nil)
		return
	}
	for i, h := range s.History {
		e := fmt.Sprintf("%shistory entry %d: ", at, i+1)
		if !h.HasWhen() && h.By == "" {
			c.err(e+"neither when nor by (FS-HIST-4, FS-ROBUST-1)", nil)
		}
		switch {
		case h.Sequence < 1 || h.Sequence > MaxInt:
			c.err(e+"sequence %d is outside 1..%d (FS-HIST-2, FS-TYPE-2)", []any{h.Sequence, MaxInt})
		case i > 0 && s.Updates >= 1 && h.Sequence > s.Updates:
			// The topmost entry is FS-ROBUST-2's case (merge anyway, warn);
			// an older entry above updates records an update the version
			// cannot have seen.
			c.err(e+"sequence %d is above updates %d (FS-HIST-2)", []any{h.Sequence, s.Updates})
		}
	}
	if top := s.History[0].Sequence; top != s.Updates && top >= 1 && top <= MaxInt && s.Updates >= 1 {
		// FS-ROBUST-2: merged anyway, but a violation of FS-SYNC-7.
		c.violation(at+"topmost sequence %d differs from updates %d (FS-SYNC-7, FS-ROBUST-2)", []any{top, s.Updates})
	}
}

// IDSet detects sync ids that occur twice in one feed (FS-SYNC-2,
// FS-ROBUST-3) while the feed streams by: it remembers each id and the line
// it was first seen on. The zero value is ready to use. Memory grows with the
// number of distinct ids.
type IDSet struct {
	seen map[string]int
}

// Add records the id of it. For an id seen before it returns an *ItemError for
// this item (its id and line) wrapping ErrDuplicateID and naming the line of
// the first occurrence. Items without sx:sync do not take part (FS-SYNC-1)
// and are ignored.
func (s *IDSet) Add(it *Item) error {
	if it == nil || it.Sync == nil {
		return nil
	}
	id := NormalizeID(it.Sync.ID)
	if s.seen == nil {
		s.seen = map[string]int{}
	}
	if first, ok := s.seen[id]; ok {
		where := "an earlier item"
		if first > 0 {
			where = fmt.Sprintf("the item at line %d", first)
		}
		return &ItemError{ID: it.Sync.ID, Line: it.line, Err: fmt.Errorf("%w: also used by %s (FS-SYNC-2, FS-ROBUST-3)", ErrDuplicateID, where)}
	}
	s.seen[id] = it.line
	return nil
}

// Len returns the number of distinct ids added.
func (s *IDSet) Len() int { return len(s.seen) }
