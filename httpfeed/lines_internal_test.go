package httpfeed

import (
	"bytes"
	"fmt"
	"testing"
	"time"

	"github.com/feedsync/go-feedsync/feedsync"
	"github.com/feedsync/go-feedsync/producer"
)

// heldLines are summary lines: as appendHeld writes them, and others a
// client may send (other JSON spellings, malformed lines, lines that fail
// the checks of FS-TYPE-5, FS-BY-1, FS-HIST-2 and FS-ROBUST-1).
func heldLines() [][]byte {
	when := time.Date(2026, 2, 28, 23, 59, 59, 0, time.UTC)
	var out [][]byte
	for _, h := range []producer.Held{
		{ID: "task-1", Tops: []feedsync.History{{By: "server", Sequence: 1, When: when}}},
		{ID: "task-2", Tops: []feedsync.History{{By: "server", Sequence: 123456789012}}},
		{ID: "urn%3Ax", Tops: []feedsync.History{{Sequence: 3, When: when}, {By: "b", Sequence: 9}, {By: "c", Sequence: 1, When: when}}},
		{ID: "t", Tops: []feedsync.History{{By: "a", Sequence: 2}, {By: "b", Sequence: 2}, {By: "c", Sequence: 2}, {By: "d", Sequence: 2}, {By: "e", Sequence: 2}}},
	} {
		out = append(out, bytes.TrimSpace(appendHeld(nil, h)))
	}
	for _, s := range []string{
		`{"id":"a","v":[["b",1,""]]}`,
		`{"id":"a","v":[["b",0,""]]}`,
		`{"id":"a","v":[["b",-1,""]]}`,
		`{"id":"a","v":[["b",-0,""]]}`,
		`{"id":"a","v":[["b",01,""]]}`,
		`{"id":"a","v":[["b",1.0,""]]}`,
		`{"id":"a","v":[["b",1e3,""]]}`,
		`{"id":"a","v":[["b",123456789012345678,""]]}`,
		`{"id":"a","v":[["b",1234567890123456789,""]]}`,
		`{"id":"a","v":[["b",12345678901234567890,""]]}`,
		`{"id":"a","v":[["",1,""]]}`,
		`{"id":"a","v":[["",1,"2026-01-05T09:00:00Z"]]}`,
		`{"id":"a","v":[["",1,"0001-01-01T00:00:00Z"]]}`,
		`{"id":"a","v":[["b",1,"0000-01-01T00:00:00Z"]]}`,
		`{"id":"a","v":[["b",1,"2026-02-29T09:00:00Z"]]}`,
		`{"id":"a","v":[["b",1,"2024-02-29T09:00:00Z"]]}`,
		`{"id":"a","v":[["b",1,"2026-13-01T09:00:00Z"]]}`,
		`{"id":"a","v":[["b",1,"2026-01-05T24:00:00Z"]]}`,
		`{"id":"a","v":[["b",1,"2026-01-05T23:60:00Z"]]}`,
		`{"id":"a","v":[["b",1,"2026-01-05T23:59:60Z"]]}`,
		`{"id":"a","v":[["b",1,"2026-01-05T09:00:00+02:00"]]}`,
		`{"id":"a","v":[["b",1,"2026-01-05T09:00:00.5Z"]]}`,
		`{"id":"a","v":[["b",1,"2026-01-05t09:00:00z"]]}`,
		`{"id":"a","v":[["b",1,"2026-1-05T09:00:00Z"]]}`,
		`{"id":"a","v":[["b",1,"yesterday"]]}`,
		`{"id":"a","v":[["b c",1,""]]}`,
		`{"id":"a b","v":[["b",1,""]]}`,
		`{"id":"","v":[["b",1,""]]}`,
		`{"id":"a","v":[]}`,
		`{"id":"a","v":null}`,
		`{"id":"a","v":[["b",1]]}`,
		`{"id":"a","v":[["b",1,"",4]]}`,
		`{"id":"a","v":[[1,1,""]]}`,
		`{"id":"a","v":[["b","1",""]]}`,
		`{"id":"a","v":[["b",1,""],]}`,
		`{"id":"a","v":[["b",1,""]],"x":1}`,
		`{"id":"a","v":[["b",1,""]]}x`,
		`{"id":"a","v":[["b",1,""]]`,
		`{"id":"a","id":"c","v":[["b",1,""]]}`,
		`{"v":[["b",1,""]],"id":"a"}`,
		`{"ID":"a","v":[["b",1,""]]}`,
		`{ "id" : "a" , "v" : [ [ "b" , 1 , "" ] ] }`,
		`{"id":"a\u0062","v":[["\u0062",1,""]]}`,
		`{"id":"a\"","v":[["b",1,""]]}`,
		"{\"id\":\"a\xff\",\"v\":[[\"b\",1,\"\"]]}",
		"{\"id\":\"a\x01\",\"v\":[[\"b\",1,\"\"]]}",
		`{"id":"a","v":[["b",1,""],["c",2,""],["d",3,""]]}`,
		`[]`,
		`"x"`,
		``,
	} {
		out = append(out, []byte(s))
	}
	return out
}

// result describes what a parse gave, for comparisons.
func result(h producer.Held, err error) string {
	if err != nil {
		return "error: " + err.Error()
	}
	return fmt.Sprintf("%q %d %#v", h.ID, len(h.Tops), h.Tops)
}

// The hand-written reading of summary lines gives what encoding/json
// gives, for every line: the same Held, or the same error (FS-TYPE-5,
// FS-BY-1, FS-HIST-2, FS-ROBUST-1).
func TestParseHeldAsJSON(t *testing.T) {
	fast := 0
	lines := heldLines()
	for _, line := range lines {
		got := result(parseHeld(line, 7, feedsync.ReaderOptions{MaxConflicts: 3}))
		want := result(parseHeldJSON(line, 7, 3))
		if got != want {
			t.Errorf("%s:\n got %s\nwant %s", line, got, want)
		}
		if _, ok := scanHeld(line); ok {
			fast++
		}
	}
	// The lines appendHeld writes, and the others in that form, take
	// the hand-written way.
	for _, line := range lines[:4] {
		if _, ok := scanHeld(line); !ok {
			t.Errorf("%s: not read by hand", line)
		}
	}
	if fast < 15 {
		t.Errorf("%d lines read by hand, want at least 15", fast)
	}
}

func FuzzParseHeld(f *testing.F) {
	for _, line := range heldLines() {
		f.Add(line)
	}
	f.Fuzz(func(t *testing.T, line []byte) {
		got := result(parseHeld(line, 1, feedsync.ReaderOptions{}))
		want := result(parseHeldJSON(line, 1, feedsync.DefaultMaxConflicts))
		if got != want {
			t.Errorf("%q:\n got %s\nwant %s", line, got, want)
		}
	})
}
