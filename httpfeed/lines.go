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
// would check of the item (FS-TYPE-5, FS-ROBUST-1, FS-ROBUST-4). A line
// in the exact form appendHeld writes is read by hand (scanHeld); any
// other goes through encoding/json, with the same result.
func parseHeld(line []byte, n int, opts feedsync.ReaderOptions) (producer.Held, error) {
	maxConflicts := opts.MaxConflicts
	if maxConflicts <= 0 {
		maxConflicts = feedsync.DefaultMaxConflicts
	}
	if h, ok := scanHeld(line); ok {
		if err := checkHeld(h.ID, len(h.Tops), maxConflicts, n); err != nil {
			return producer.Held{}, err
		}
		for i := range h.Tops {
			if err := checkTop(h.ID, i, &h.Tops[i], "", n); err != nil {
				return producer.Held{}, err
			}
		}
		return h, nil
	}
	return parseHeldJSON(line, n, maxConflicts)
}

// parseHeldJSON is parseHeld by encoding/json, for any line.
func parseHeldJSON(line []byte, n, maxConflicts int) (producer.Held, error) {
	bad := func(format string, args ...any) (producer.Held, error) {
		return producer.Held{}, &lineError{line: n, msg: fmt.Sprintf(format, args...)}
	}
	var hl heldLine
	if err := json.Unmarshal(line, &hl); err != nil {
		return bad("not a summary line ({\"id\":…,\"v\":[[by,seq,when],…]}): %v", err)
	}
	if err := checkHeld(hl.ID, len(hl.V), maxConflicts, n); err != nil {
		return producer.Held{}, err
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
		if err := checkTop(hl.ID, i, &e, when, n); err != nil {
			return producer.Held{}, err
		}
		h.Tops[i] = e
	}
	return h, nil
}

// checkHeld checks the sync id of a summary line and its number of
// versions.
func checkHeld(id string, versions, maxConflicts, n int) error {
	if !feedsync.ValidID(id) {
		return &lineError{line: n, msg: fmt.Sprintf("sync id %.64q is not a URN NSS (FS-TYPE-5)", id)}
	}
	if versions == 0 || versions > maxConflicts+1 {
		return &lineError{line: n, msg: fmt.Sprintf("item %q: %d versions, want 1 to %d", id, versions, maxConflicts+1)}
	}
	return nil
}

// checkTop checks version i of a summary line, e, in the order the
// fields come: by, sequence, when (parsed into e.When here unless the
// caller parsed it, when is then ""), then that by or when is there.
func checkTop(id string, i int, e *feedsync.History, when string, n int) error {
	bad := func(format string, args ...any) error {
		return &lineError{line: n, msg: fmt.Sprintf(format, args...)}
	}
	if e.By != "" && !feedsync.ValidBy(e.By) {
		return bad("item %q: by %.64q is not a valid endpoint identifier (FS-BY-1)", id, e.By)
	}
	if e.Sequence < 1 {
		return bad("item %q: sequence %d is below 1 (FS-HIST-2)", id, e.Sequence)
	}
	if when != "" {
		t, err := time.Parse(time.RFC3339, when)
		if err != nil {
			return bad("item %q: when %.40q is not an RFC 3339 date-time", id, when)
		}
		e.When = feedsync.Normalize(t)
	}
	if e.By == "" && !e.HasWhen() {
		return bad("item %q: version %d has neither by nor when (FS-ROBUST-1)", id, i+1)
	}
	return nil
}

// scanHeld reads a summary line in the exact form appendHeld writes:
// strings of printable ASCII without escapes, sequences as plain
// integers, instants as "YYYY-MM-DDTHH:MM:SSZ" or "". It reports false for
// anything else, which parseHeld then reads with encoding/json; what it
// reads is what encoding/json would, before the checks of parseHeld.
func scanHeld(line []byte) (producer.Held, bool) {
	s := scanner{b: line}
	if !s.lit(`{"id":`) {
		return producer.Held{}, false
	}
	id, ok := s.str()
	if !ok || !s.lit(`,"v":[`) {
		return producer.Held{}, false
	}
	var tops [4]feedsync.History
	h := producer.Held{ID: string(id), Tops: tops[:0]}
	for {
		var e feedsync.History
		if !s.lit(`[`) {
			return producer.Held{}, false
		}
		by, ok := s.str()
		if !ok || !s.lit(`,`) {
			return producer.Held{}, false
		}
		if e.Sequence, ok = s.int(); !ok || !s.lit(`,`) {
			return producer.Held{}, false
		}
		when, ok := s.str()
		if !ok || !s.lit(`]`) {
			return producer.Held{}, false
		}
		if len(when) > 0 {
			if e.When, ok = scanInstant(when); !ok {
				return producer.Held{}, false
			}
		}
		e.By = string(by)
		h.Tops = append(h.Tops, e)
		if s.lit(`]}`) {
			break
		}
		if !s.lit(`,`) {
			return producer.Held{}, false
		}
	}
	if s.i != len(s.b) {
		return producer.Held{}, false
	}
	// A line of a few versions keeps them in one allocation of their
	// own size, not in tops.
	h.Tops = append([]feedsync.History(nil), h.Tops...)
	return h, true
}

// scanner reads the tokens of a line in the form appendHeld writes.
type scanner struct {
	b []byte
	i int
}

// lit consumes lit if the line goes on with it.
func (s *scanner) lit(lit string) bool {
	if len(s.b)-s.i < len(lit) || string(s.b[s.i:s.i+len(lit)]) != lit {
		return false
	}
	s.i += len(lit)
	return true
}

// str consumes a string of printable ASCII other than '"' and '\\'.
func (s *scanner) str() ([]byte, bool) {
	if !s.lit(`"`) {
		return nil, false
	}
	start := s.i
	for s.i < len(s.b) {
		switch c := s.b[s.i]; {
		case c == '"':
			s.i++
			return s.b[start : s.i-1], true
		case c < 0x20 || c > 0x7e || c == '\\':
			return nil, false
		}
		s.i++
	}
	return nil, false
}

// int consumes an integer as JSON writes one, of at most 18 digits.
func (s *scanner) int() (int64, bool) {
	neg := s.lit(`-`)
	start := s.i
	var n int64
	for s.i < len(s.b) && s.b[s.i] >= '0' && s.b[s.i] <= '9' && s.i-start < 18 {
		n = n*10 + int64(s.b[s.i]-'0')
		s.i++
	}
	digits := s.i - start
	if digits == 0 || (digits > 1 && s.b[start] == '0') || (s.i < len(s.b) && s.b[s.i] >= '0' && s.b[s.i] <= '9') {
		return 0, false
	}
	if neg {
		n = -n
	}
	return n, true
}

// scanInstant reads "YYYY-MM-DDTHH:MM:SSZ", a valid instant after the
// year 1, as time.Parse(time.RFC3339) and feedsync.Normalize would.
func scanInstant(b []byte) (time.Time, bool) {
	if len(b) != 20 || b[4] != '-' || b[7] != '-' || b[10] != 'T' || b[13] != ':' || b[16] != ':' || b[19] != 'Z' {
		return time.Time{}, false
	}
	num := func(from, to int) int {
		n := 0
		for _, c := range b[from:to] {
			if c < '0' || c > '9' {
				return -1
			}
			n = n*10 + int(c-'0')
		}
		return n
	}
	year, month, day := num(0, 4), num(5, 7), num(8, 10)
	hour, minute, sec := num(11, 13), num(14, 16), num(17, 19)
	if year < 2 || month < 1 || month > 12 || day < 1 || hour < 0 || hour > 23 || minute < 0 || minute > 59 || sec < 0 || sec > 59 {
		return time.Time{}, false
	}
	t := time.Date(year, time.Month(month), day, hour, minute, sec, 0, time.UTC)
	if t.Day() != day { // past the end of the month
		return time.Time{}, false
	}
	return t, true
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
