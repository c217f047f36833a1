package httpfeed

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strconv"
	"time"

	"github.com/feedsync/go-feedsync/feedsync"
	"github.com/feedsync/go-feedsync/producer"
)

// mediaLines is the media type of the versions-first bodies: one JSON
// object per line (newline-delimited JSON).
const mediaLines = "application/x-ndjson"

// maxLine bounds one line of a versions-first body. A summary line holds
// the topmost entries of an item's versions; 64 KiB is far above what the
// reader's bounds on conflict copies allow in practice, and far below what
// could hurt a server.
const maxLine = 64 << 10

// appendHeld appends the summary line of h:
//
//	{"id":"ID","v":[["BY",SEQ,"WHEN"],...]}
//
// one array per version, the winner's topmost entry first; BY is "" for an
// anonymous entry and WHEN "" for an entry without when, otherwise an
// RFC 3339 instant in UTC.
func appendHeld(b []byte, h producer.Held) []byte {
	b = append(b, `{"id":`...)
	b = appendJSONString(b, h.ID)
	b = append(b, `,"v":[`...)
	for i, e := range h.Tops {
		if i > 0 {
			b = append(b, ',')
		}
		b = append(b, '[')
		b = appendJSONString(b, e.By)
		b = append(b, ',')
		b = strconv.AppendInt(b, e.Sequence, 10)
		b = append(b, ',', '"')
		if e.HasWhen() {
			b = feedsync.Normalize(e.When).AppendFormat(b, time.RFC3339)
		}
		b = append(b, '"', ']')
	}
	return append(b, "]}\n"...)
}

// appendIDLine appends the line {"id":"ID"}.
func appendIDLine(b []byte, id string) []byte {
	b = append(b, `{"id":`...)
	b = appendJSONString(b, id)
	return append(b, "}\n"...)
}

func appendJSONString(b []byte, s string) []byte {
	q, _ := json.Marshal(s) // a string always marshals
	return append(b, q...)
}

// lineError is a malformed line of a versions-first body: the request's
// fault, answered with 400.
type lineError struct {
	line int
	msg  string
}

func (e *lineError) Error() string { return fmt.Sprintf("line %d: %s", e.line, e.msg) }

// heldLine is the JSON form of a summary line.
type heldLine struct {
	ID string              `json:"id"`
	V  [][]json.RawMessage `json:"v"`
}

// parseHeld reads one summary line (appendHeld), checking what a store
// would check of the item (FS-TYPE-5, FS-ROBUST-1, FS-ROBUST-4).
func parseHeld(line []byte, n int, opts feedsync.ReaderOptions) (producer.Held, error) {
	bad := func(format string, args ...any) (producer.Held, error) {
		return producer.Held{}, &lineError{line: n, msg: fmt.Sprintf(format, args...)}
	}
	var hl heldLine
	if err := json.Unmarshal(line, &hl); err != nil {
		return bad("not a summary line ({\"id\":…,\"v\":[[by,seq,when],…]}): %v", err)
	}
	if !feedsync.ValidID(hl.ID) {
		return bad("sync id %.64q is not a URN NSS (FS-TYPE-5)", hl.ID)
	}
	maxConflicts := opts.MaxConflicts
	if maxConflicts <= 0 {
		maxConflicts = feedsync.DefaultMaxConflicts
	}
	if len(hl.V) == 0 || len(hl.V) > maxConflicts+1 {
		return bad("item %q: %d versions, want 1 to %d", hl.ID, len(hl.V), maxConflicts+1)
	}
	h := producer.Held{ID: hl.ID, Tops: make([]feedsync.History, len(hl.V))}
	for i, v := range hl.V {
		if len(v) != 3 {
			return bad("item %q: version %d is not [by, sequence, when]", hl.ID, i+1)
		}
		var e feedsync.History
		var when string
		if json.Unmarshal(v[0], &e.By) != nil || json.Unmarshal(v[1], &e.Sequence) != nil || json.Unmarshal(v[2], &when) != nil {
			return bad("item %q: version %d is not [by, sequence, when] (a string, an integer, a string)", hl.ID, i+1)
		}
		if e.By != "" && !feedsync.ValidBy(e.By) {
			return bad("item %q: by %.64q is not a valid endpoint identifier (FS-BY-1)", hl.ID, e.By)
		}
		if e.Sequence < 1 {
			return bad("item %q: sequence %d is below 1 (FS-HIST-2)", hl.ID, e.Sequence)
		}
		if when != "" {
			t, err := time.Parse(time.RFC3339, when)
			if err != nil {
				return bad("item %q: when %.40q is not an RFC 3339 date-time", hl.ID, when)
			}
			e.When = feedsync.Normalize(t)
		}
		if e.By == "" && !e.HasWhen() {
			return bad("item %q: version %d has neither by nor when (FS-ROBUST-1)", hl.ID, i+1)
		}
		h.Tops[i] = e
	}
	return h, nil
}

// parseIDLine reads one line {"id":"ID"}.
func parseIDLine(line []byte, n int) (string, error) {
	var l struct {
		ID string `json:"id"`
	}
	if err := json.Unmarshal(line, &l); err != nil {
		return "", &lineError{line: n, msg: fmt.Sprintf("not an id line ({\"id\":…}): %v", err)}
	}
	if !feedsync.ValidID(l.ID) {
		return "", &lineError{line: n, msg: fmt.Sprintf("sync id %.64q is not a URN NSS (FS-TYPE-5)", l.ID)}
	}
	return l.ID, nil
}

// lines returns a scanner of the non-empty lines of r, each at most maxLine
// bytes.
func lines(r io.Reader) *lineScanner {
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 0, 4096), maxLine)
	return &lineScanner{sc: sc}
}

// lineScanner reads lines, skipping blank ones, and counts them.
type lineScanner struct {
	sc *bufio.Scanner
	n  int
}

// next returns the next non-blank line, or nil at the end.
func (l *lineScanner) next() ([]byte, error) {
	for l.sc.Scan() {
		l.n++
		if b := bytes.TrimSpace(l.sc.Bytes()); len(b) > 0 {
			return b, nil
		}
	}
	err := l.sc.Err()
	if errors.Is(err, bufio.ErrTooLong) {
		return nil, &lineError{line: l.n + 1, msg: fmt.Sprintf("line longer than %d bytes", maxLine)}
	}
	return nil, err
}
