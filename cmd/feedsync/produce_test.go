package main

import (
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/feedsync/go-feedsync/feedsync"
)

// itemLines returns, by sync id, the bytes of each item: the writer puts a
// new item on one line (the last one followed by the feed's end tags).
func itemLines(t *testing.T, feed string) map[string]string {
	t.Helper()
	out := map[string]string{}
	for _, l := range strings.Split(feed, "\n") {
		for _, end := range []string{"</item>", "</entry>"} {
			if i := strings.LastIndex(l, end); i >= 0 {
				l = l[:i+len(end)]
				break
			}
		}
		if i := strings.Index(l, `<sx:sync id="`); i >= 0 {
			id := l[i+len(`<sx:sync id="`):]
			out[id[:strings.IndexByte(id, '"')]] = l
		}
	}
	return out
}

type meta struct {
	Updates int64
	Deleted bool
	TopBy   string
}

func metas(items map[string]*feedsync.Item) map[string]meta {
	out := map[string]meta{}
	for id, it := range items {
		out[id] = meta{it.Sync.Updates, it.Sync.Deleted, it.Sync.Top().By}
	}
	return out
}

// TestProduceRefresh is the produce story: create a feed from data, change
// one line, add one and remove one, and refresh. Exactly one update
// (FS-UPDATE), one create (FS-CREATE) and one delete that stays as a
// tombstone (FS-DELETE-1, FS-DELETE-4); every other item byte-identical.
func TestProduceRefresh(t *testing.T) {
	for _, format := range []string{"rss", "atom"} {
		t.Run(format, func(t *testing.T) {
			h := newHarness(t)
			h.write("data.jsonl", `{"id":"a","title":"Alpha","n":1}
{"id":"b","title":"Bravo","tags":["x","y"]}

{"id":"c","title":"Charlie","done":false}
{"id":"d","title":"Delta","published":"2009-04-01T09:00:00Z"}
{"id":"e","title":"Echo","nested":{"k":null}}
`)
			r := h.ok("", "produce", "data.jsonl", "--by", "laptop", "--format", format, "--title", "Tasks", "-o", "feed.xml")
			if !strings.Contains(r.stderr, "feed.xml: 5 created, 0 updated, 0 deleted, 0 unchanged") {
				t.Errorf("first produce summary: %s", r.stderr)
			}
			v1 := h.read("feed.xml")
			if !strings.Contains(v1, "<title>Tasks</title>") {
				t.Errorf("no feed title in:\n%s", v1)
			}

			// c changes, d goes, f is new; key order changes in a, which is
			// not a change of the data.
			h.write("data.jsonl", `{"n":1,"title":"Alpha","id":"a"}
{"id":"b","title":"Bravo","tags":["x","y"]}
{"id":"c","title":"Charlie","done":true}
{"id":"e","title":"Echo","nested":{"k":null}}
{"id":"f","title":"Foxtrot"}
`)
			h.now = h.now.Add(time.Hour)
			r = h.ok("", "produce", "data.jsonl", "--by", "phone", "--from", "feed.xml", "-o", "feed.xml")
			if !strings.Contains(r.stderr, "feed.xml: 1 created, 1 updated, 1 deleted, 3 unchanged") {
				t.Errorf("refresh summary: %s", r.stderr)
			}
			v2 := h.read("feed.xml")
			want := map[string]meta{
				"a": {1, false, "laptop"},
				"b": {1, false, "laptop"},
				"c": {2, false, "phone"},
				"d": {2, true, "phone"},
				"e": {1, false, "laptop"},
				"f": {1, false, "phone"},
			}
			if diff := cmp.Diff(want, metas(h.items("feed.xml"))); diff != "" {
				t.Errorf("after the refresh (-want +got):\n%s", diff)
			}
			l1, l2 := itemLines(t, v1), itemLines(t, v2)
			for _, id := range []string{"a", "b", "e"} {
				if l1[id] != l2[id] {
					t.Errorf("unchanged item %s was rewritten:\n%s\n%s", id, l1[id], l2[id])
				}
			}

			// The same data again: the feed does not change at all, and the
			// tombstone stays.
			h.now = h.now.Add(time.Hour)
			r = h.ok("", "produce", "data.jsonl", "--by", "phone", "--from", "feed.xml", "-o", "feed.xml")
			if !strings.Contains(r.stderr, "0 created, 0 updated, 0 deleted, 6 unchanged") {
				t.Errorf("idempotent refresh summary: %s", r.stderr)
			}
			if v3 := h.read("feed.xml"); v3 != v2 {
				t.Errorf("refreshing with the same data changed the feed:\n%s", cmp.Diff(v2, v3))
			}

			// d comes back: undeleted by an update (FS-UPDATE-5).
			h.write("data.jsonl", h.read("data.jsonl")+`{"id":"d","title":"Delta","published":"2009-04-01T09:00:00Z"}`+"\n")
			r = h.ok("", "produce", "data.jsonl", "--by", "laptop", "--from", "feed.xml", "-o", "feed.xml")
			if !strings.Contains(r.stderr, "0 created, 1 updated, 0 deleted, 5 unchanged") {
				t.Errorf("undelete summary: %s", r.stderr)
			}
			if got := metas(h.items("feed.xml"))["d"]; got != (meta{3, false, "laptop"}) {
				t.Errorf("d after coming back = %+v", got)
			}
			h.ok("", "validate", "feed.xml")
			if got, want := h.files(), []string{"data.jsonl", "feed.xml"}; !slices.Equal(got, want) {
				t.Errorf("files: %v, want %v", got, want)
			}
		})
	}
}

// TestProduceBadData checks that bad input stops produce with exit 2 and
// the line, and leaves the output untouched with no temporary file.
func TestProduceBadData(t *testing.T) {
	tests := []struct {
		name, data string
		args       []string
		want       string
	}{
		{"not JSON", "{\"id\":\"a\"}\n{\"id\":\"b\"}\n{\"id\": nope}\n", nil, "data.jsonl: line 3: not a JSON object"},
		{"not an object", "{\"id\":\"a\"}\n[1,2]\n", nil, "data.jsonl: line 2: not a JSON object"},
		{"two values", "{\"id\":\"a\"} {\"id\":\"b\"}\n", nil, "data.jsonl: line 1: more than one JSON value"},
		{"no id", "{\"id\":\"a\"}\n\n{\"title\":\"x\"}\n", nil, `data.jsonl: line 3: no "id" field`},
		{"bad id type", "{\"id\":true}\n", nil, `data.jsonl: line 1: the "id" field must be a non-empty string or a number`},
		{"empty id", "{\"id\":\"\"}\n", nil, `data.jsonl: line 1: the "id" field must be`},
		{"duplicate id", "{\"id\":\"a\"}\n{\"id\":\"b\"}\n{\"id\":\"a\",\"x\":1}\n", nil, `data.jsonl: item "a" (line 3): duplicate id: line 1 has it too`},
		{"other id field", "{\"id\":\"a\"}\n", []string{"--id-field", "key"}, `data.jsonl: line 1: no "key" field (choose the id field with --id-field)`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			h := newHarness(t)
			h.write("feed.xml", "<rss><channel><title>old</title></channel></rss>")
			h.write("data.jsonl", tc.data)
			args := append([]string{"produce", "data.jsonl", "--by", "laptop", "--from", "feed.xml", "-o", "feed.xml"}, tc.args...)
			h.fails(exitUsage, []string{"feedsync produce: " + tc.want}, args...)
			if got := h.read("feed.xml"); got != "<rss><channel><title>old</title></channel></rss>" {
				t.Errorf("feed.xml changed: %s", got)
			}
			if got, want := h.files(), []string{"data.jsonl", "feed.xml"}; !slices.Equal(got, want) {
				t.Errorf("files: %v, want %v (a temporary file was left)", got, want)
			}
		})
	}
}

// TestProduceIDs checks ids given as numbers, through --id-field, and ids
// that need escaping (FS-TYPE-5), from standard input.
func TestProduceIDs(t *testing.T) {
	h := newHarness(t)
	h.ok("{\"key\":7,\"title\":\"seven\"}\n{\"key\":\"a b/c\",\"title\":\"spaced\"}\n",
		"produce", "-", "--id-field", "key", "--by", "laptop", "-o", "feed.xml")
	items := h.items("feed.xml")
	var ids []string
	for id := range items {
		ids = append(ids, id)
	}
	slices.Sort(ids)
	if want := []string{"7", "a%20b%2Fc"}; !slices.Equal(ids, want) {
		t.Errorf("ids %v, want %v", ids, want)
	}
	// update finds the escaped item by its key too.
	h.ok("", "update", "feed.xml", "--id", "a b/c", "--set", "title=renamed", "--by", "laptop")
	if got := itemTitle(h.items("feed.xml")["a%20b%2Fc"]); got != "renamed" {
		t.Errorf("title after update = %q", got)
	}
}

// TestProduceToStdout checks the default output and a refresh that changes
// the format.
func TestProduceToStdout(t *testing.T) {
	h := newHarness(t)
	h.write("data.jsonl", "{\"id\":\"a\",\"title\":\"A\"}\n")
	r := h.ok("", "produce", "data.jsonl", "--by", "laptop")
	if !strings.Contains(r.stdout, "<rss") || !strings.Contains(r.stdout, `<sx:sync id="a" updates="1">`) {
		t.Errorf("stdout is not the feed:\n%s", r.stdout)
	}
	h.write("feed.xml", r.stdout)
	r = h.ok("", "produce", "data.jsonl", "--by", "laptop", "--from", "feed.xml", "--format", "atom")
	if !strings.Contains(r.stdout, "<feed") || !strings.Contains(r.stderr, "0 created, 0 updated, 0 deleted, 1 unchanged") {
		t.Errorf("RSS refreshed as Atom:\n%s\n%s", r.stdout, r.stderr)
	}
}
