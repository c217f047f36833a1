package export

import (
	"bytes"
	"errors"
	"flag"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/mmcdole/gofeed"

	"github.com/feedsync/go-feedsync/feedsync"
)

// gofeed appears here, in a test, only to check that ordinary readers can
// read what Write produces; the package itself does not import it.

var update = flag.Bool("update", false, "rewrite the golden files in testdata/feeds/plain/golden")

const fixtures = "../../testdata/feeds/plain"

func checkGolden(t *testing.T, name string, got []byte) {
	t.Helper()
	path := filepath.Join(fixtures, "golden", name)
	if *update {
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run with -update to create it)", err)
	}
	if diff := cmp.Diff(string(want), string(got)); diff != "" {
		t.Errorf("%s mismatch (-want +got):\n%s", name, diff)
	}
}

// exportCases are FeedSync feeds (fixtures, and outputs of plainfeed's
// golden conversions) exported in each format.
var exportCases = []struct {
	input  string // under testdata/feeds/plain
	format Format
	golden string
}{
	{"rss20-sx.xml", RSS, "rss20-sx.export.rss"},
	{"rss20-sx.xml", Atom, "rss20-sx.export.atom"},
	{"rss20-sx.xml", JSON, "rss20-sx.export.json"},
	{"golden/atom10-xhtml.atom", RSS, "atom10-xhtml.export.rss"},
	{"golden/atom10-xhtml.atom", Atom, "atom10-xhtml.export.atom"},
	{"golden/atom10-xhtml.atom", JSON, "atom10-xhtml.export.json"},
	{"golden/rss20-enclosures-dc.rss", JSON, "rss20-enclosures-dc.export.json"},
	{"golden/sse093.rss", RSS, "sse093.export.rss"},
}

func TestWriteGolden(t *testing.T) {
	for _, c := range exportCases {
		t.Run(c.golden, func(t *testing.T) {
			in, err := os.ReadFile(filepath.Join(fixtures, c.input))
			if err != nil {
				t.Fatal(err)
			}
			var out bytes.Buffer
			sum, err := Write(&out, bytes.NewReader(in), Options{Format: c.format})
			if err != nil {
				t.Fatal(err)
			}
			checkGolden(t, c.golden, out.Bytes())
			want, wantSum := liveWinners(t, in)
			if diff := cmp.Diff(wantSum, sum); diff != "" {
				t.Errorf("summary (-want +got):\n%s", diff)
			}
			got := readPlain(t, out.Bytes())
			if diff := cmp.Diff(want, got); diff != "" {
				t.Errorf("items a reader sees (-want +got):\n%s", diff)
			}
			if bytes.Contains(out.Bytes(), []byte(feedsync.Namespace)) || bytes.Contains(out.Bytes(), []byte("sx:")) {
				t.Error("the export carries FeedSync elements")
			}
		})
	}
}

// seen is what a feed reader shows of an item.
type seen struct {
	ID    string
	Title string
}

// liveWinners computes, independently of Write, which items a reader
// should see: every item that is not a tombstone, with its winner's title,
// and no conflict copy.
func liveWinners(t *testing.T, in []byte) ([]seen, Summary) {
	t.Helper()
	_, items, err := feedsync.ReadAll(bytes.NewReader(in))
	if err != nil {
		t.Fatal(err)
	}
	var out []seen
	var sum Summary
	for _, it := range items {
		if it.Sync != nil {
			if it.Err() != nil {
				sum.Invalid++
			}
			if it.Sync.Deleted {
				sum.Tombstones++
				continue
			}
			if len(it.Sync.Conflicts) > 0 {
				sum.Conflicts++
			}
		}
		sum.Exported++
		p, err := payload(it)
		if err != nil {
			t.Fatal(err)
		}
		var s seen
		var link string
		if it.Format() == feedsync.Atom {
			s = seen{text(p, "id", feedsync.AtomNamespace), text(p, "title", feedsync.AtomNamespace)}
			if child(p, "title", feedsync.AtomNamespace).SelectAttrValue("type", "text") == "html" {
				s.Title = plain(s.Title)
			}
		} else {
			s = seen{text(p, "guid", ""), text(p, "title", "")}
			link = text(p, "link", "")
		}
		switch {
		case s.ID != "":
		case it.Sync != nil:
			s.ID = "urn:feedsync:" + it.ID()
		default:
			s.ID = link
		}
		out = append(out, s)
	}
	sortSeen(out)
	return out, sum
}

// readPlain reads an export with gofeed, as a feed reader would.
func readPlain(t *testing.T, b []byte) []seen {
	t.Helper()
	f, err := gofeed.NewParser().Parse(bytes.NewReader(b))
	if err != nil {
		t.Fatalf("gofeed cannot read the export: %v\n%s", err, b)
	}
	var out []seen
	for _, it := range f.Items {
		out = append(out, seen{it.GUID, it.Title})
	}
	sortSeen(out)
	return out
}

func sortSeen(s []seen) {
	sort.Slice(s, func(i, j int) bool { return s[i].ID < s[j].ID })
}

// TestWriteLeavesOut spells out the rules on the fixture with one item of
// each kind: live, with a conflict, tombstone, without sx:sync.
func TestWriteLeavesOut(t *testing.T) {
	in, err := os.ReadFile(filepath.Join(fixtures, "rss20-sx.xml"))
	if err != nil {
		t.Fatal(err)
	}
	var out bytes.Buffer
	sum, err := Write(&out, bytes.NewReader(in), Options{Format: JSON})
	if err != nil {
		t.Fatal(err)
	}
	want := Summary{Exported: 3, Tombstones: 1, Conflicts: 1}
	if sum != want {
		t.Errorf("summary = %v, want %v", sum, want)
	}
	for _, s := range []string{"Buy stamps", "Buy 6 posts", "Water the plants"} {
		if !strings.Contains(out.String(), s) {
			t.Errorf("export lacks %q", s)
		}
	}
	for _, s := range []string{"Old task", "Buy 4 posts and wire"} {
		if strings.Contains(out.String(), s) {
			t.Errorf("export shows %q (a tombstone or a conflict copy)", s)
		}
	}
}

func TestParseFormat(t *testing.T) {
	tests := []struct {
		in   string
		want Format
		err  error
	}{
		{"rss", RSS, nil},
		{"ATOM", Atom, nil},
		{"json", JSON, nil},
		{"opml", Input, ErrFormat},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			got, err := ParseFormat(tt.in)
			if got != tt.want || !errors.Is(err, tt.err) {
				t.Errorf("ParseFormat(%q) = %v, %v; want %v, %v", tt.in, got, err, tt.want, tt.err)
			}
		})
	}
}

// TestWriteInputFormat: the zero Format keeps the input's format.
func TestWriteInputFormat(t *testing.T) {
	for _, in := range []string{"rss20-sx.xml", "golden/atom10-xhtml.atom"} {
		t.Run(in, func(t *testing.T) {
			b, err := os.ReadFile(filepath.Join(fixtures, in))
			if err != nil {
				t.Fatal(err)
			}
			h, _, err := feedsync.ReadAll(bytes.NewReader(b))
			if err != nil {
				t.Fatal(err)
			}
			var got, want bytes.Buffer
			if _, err := Write(&got, bytes.NewReader(b), Options{}); err != nil {
				t.Fatal(err)
			}
			f := RSS
			if h.Format == feedsync.Atom {
				f = Atom
			}
			if _, err := Write(&want, bytes.NewReader(b), Options{Format: f}); err != nil {
				t.Fatal(err)
			}
			if got.String() != want.String() {
				t.Errorf("the default format is not the input's (%v)", f)
			}
		})
	}
}

func TestWriteNotFeed(t *testing.T) {
	_, err := Write(&bytes.Buffer{}, strings.NewReader(`{"version": "https://jsonfeed.org/version/1.1"}`), Options{})
	if !errors.Is(err, feedsync.ErrNotFeed) {
		t.Errorf("Write of a JSON feed: error %v, want ErrNotFeed", err)
	}
}
