package main

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/feedsync/go-feedsync/feedsync"
)

// plainFixtures holds the plain feeds and the goldens that package
// plainfeed's tests keep; the command must produce the same bytes.
const plainFixtures = "../../testdata/feeds/plain"

// plainClock is the clock of those goldens.
var plainClock = time.Date(2024, 1, 2, 3, 4, 5, 0, time.UTC)

func (h *harness) copyPlain(src, name string) {
	h.t.Helper()
	b, err := os.ReadFile(filepath.Join(plainFixtures, src))
	if err != nil {
		h.t.Fatal(err)
	}
	h.write(name, string(b))
}

func plainGolden(t *testing.T, name string) string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(plainFixtures, "golden", name))
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// TestConvert runs convert on each fixture and compares with the goldens
// of package plainfeed (same --by, same clock).
func TestConvert(t *testing.T) {
	tests := []struct {
		fixture string
		args    []string
		golden  string
		summary string
	}{
		{"atom10-xhtml.xml", nil, "atom10-xhtml.atom", "3 created, 0 kept"},
		{"atom10-xhtml.xml", []string{"--format", "rss"}, "atom10-xhtml.rss", "3 created, 0 kept"},
		{"atom03.xml", nil, "atom03.atom", "2 created"},
		{"rss20-enclosures-dc.xml", nil, "rss20-enclosures-dc.rss", "4 created"},
		{"rss20-enclosures-dc.xml", []string{"--format", "atom"}, "rss20-enclosures-dc.atom", "4 created"},
		{"rss10-rdf.xml", nil, "rss10-rdf.rss", "2 created"},
		{"rss091.xml", nil, "rss091.rss", "2 created"},
		{"jsonfeed11.json", nil, "jsonfeed11.rss", "3 created"},
		{"jsonfeed11.json", []string{"--format", "atom"}, "jsonfeed11.atom", "3 created"},
		{"rss20-sx.xml", nil, "rss20-sx.rss", "1 created, 3 kept as they were"},
	}
	for _, tc := range tests {
		t.Run(tc.golden, func(t *testing.T) {
			h := newHarness(t)
			h.now = plainClock
			h.copyPlain(tc.fixture, "in")
			r := h.ok("", append([]string{"convert", "in", "--by", "converter", "-o", "out.xml"}, tc.args...)...)
			if diff := cmp.Diff(plainGolden(t, tc.golden), h.read("out.xml")); diff != "" {
				t.Errorf("output (-want +got):\n%s", diff)
			}
			if !strings.Contains(r.stderr, "out.xml: "+tc.summary) {
				t.Errorf("summary: %s", r.stderr)
			}
			if got, want := h.files(), []string{"in", "out.xml"}; !slices.Equal(got, want) {
				t.Errorf("files: %v, want %v", got, want)
			}
		})
	}
}

// TestConvertStdout: without -o the feed goes to standard output, and "-"
// reads standard input.
func TestConvertStdout(t *testing.T) {
	h := newHarness(t)
	h.now = plainClock
	b, err := os.ReadFile(filepath.Join(plainFixtures, "rss091.xml"))
	if err != nil {
		t.Fatal(err)
	}
	r := h.ok(string(b), "convert", "-", "--by", "converter")
	if diff := cmp.Diff(plainGolden(t, "rss091.rss"), r.stdout); diff != "" {
		t.Errorf("output (-want +got):\n%s", diff)
	}
}

// TestConvertFrom is the refresh story: convert a podcast feed, then the
// publisher edits one episode, drops one and adds one; convert --from
// makes exactly one update, one delete (a tombstone) and one create, and
// copies the other items byte for byte.
func TestConvertFrom(t *testing.T) {
	h := newHarness(t)
	h.now = plainClock
	h.copyPlain("rss20-enclosures-dc.xml", "podcast.xml")
	h.ok("", "convert", "podcast.xml", "--by", "laptop", "-o", "sync.xml")
	v1 := h.read("sync.xml")

	feed := h.read("podcast.xml")
	edited := strings.Replace(feed, "Worm bins, bokashi", "Worm bins, bokashi (corrected)", 1)
	i := strings.Index(edited, "  <item>\n    <title>Listener mail")
	j := strings.Index(edited, "  <item>\n    <title>Housekeeping")
	if i < 0 || j < 0 || edited == feed {
		t.Fatal("fixture changed; fix the test")
	}
	edited = edited[:i] + edited[j:] // drop the listener mail
	edited = strings.Replace(edited, "</channel>", `  <item>
    <title>Episode 13: Herbs</title>
    <link>https://radio.example.net/episodes/13</link>
    <guid isPermaLink="false">radio.example.net-episode-13</guid>
  </item>
</channel>`, 1)
	h.write("podcast.xml", edited)
	h.now = plainClock.Add(24 * time.Hour)
	r := h.ok("", "convert", "podcast.xml", "--by", "laptop", "--from", "sync.xml", "-o", "sync.xml")
	if !strings.Contains(r.stderr, "sync.xml: 1 created, 1 updated, 1 deleted, 2 unchanged") {
		t.Errorf("summary: %s", r.stderr)
	}
	v2 := h.read("sync.xml")

	type state struct {
		Updates int64
		Deleted bool
		Top     string
	}
	got := map[string]state{}
	for id, it := range h.items("sync.xml") {
		got[id] = state{it.Sync.Updates, it.Sync.Deleted, it.Sync.Top().By + "@" + feedsync.FormatTime(it.Sync.Top().When)}
	}
	day1, day2 := "laptop@"+feedsync.FormatTime(plainClock), "laptop@"+feedsync.FormatTime(h.now)
	want := map[string]state{
		"radio.example.net-episode-12":                                  {1, false, day1},
		"https:%2F%2Fradio.example.net%2Fepisodes%2F11":                 {2, false, day2},
		"https:%2F%2Fradio.example.net%2Fmail%2Fslugs%3Ffrom=rss%26n=3": {2, true, day2},
		"sha256-a2999471371d3c7a95a741ee8234936d":                       {1, false, day1},
		"radio.example.net-episode-13":                                  {1, false, day2},
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("items (-want +got):\n%s", diff)
	}
	// The unchanged items are the same bytes.
	for _, id := range []string{"radio.example.net-episode-12", "sha256-a2999471371d3c7a95a741ee8234936d"} {
		if a, b := itemBytes(t, v1, id), itemBytes(t, v2, id); a != b {
			t.Errorf("item %q changed bytes:\n%s\n---\n%s", id, a, b)
		}
	}

	// Nothing changed: nothing to do.
	r = h.ok("", "convert", "podcast.xml", "--by", "laptop", "--from", "sync.xml", "-o", "sync.xml")
	if !strings.Contains(r.stderr, "0 created, 0 updated, 0 deleted, 5 unchanged") || h.read("sync.xml") != v2 {
		t.Errorf("a second refresh changed the feed: %s", r.stderr)
	}
}

// itemBytes returns the bytes of the item of a feed with the given id.
func itemBytes(t *testing.T, feed, id string) string {
	t.Helper()
	mark := `<sx:sync id="` + id + `"`
	i := strings.Index(feed, mark)
	if i < 0 {
		t.Fatalf("no item %q", id)
	}
	start := strings.LastIndex(feed[:i], "<item")
	end := strings.Index(feed[i:], "</item>")
	return feed[start : i+end]
}

// TestConvertUpgrade: an SSE 0.93 feed needs --upgrade; with it every
// finding is listed with the item's id and line, the feed is written, and
// the exit status is 1 because one item cannot be upgraded.
func TestConvertUpgrade(t *testing.T) {
	h := newHarness(t)
	h.now = plainClock
	h.copyPlain("sse093.xml", "old.xml")
	h.fails(exitUsage, []string{"feedsync convert: old.xml uses the SSE 0.93 namespace", "Add --upgrade"},
		"convert", "old.xml", "--by", "converter", "-o", "new.xml")
	if slices.Contains(h.files(), "new.xml") {
		t.Error("new.xml written without --upgrade")
	}

	r := h.run("", "convert", "--upgrade", "old.xml", "--by", "converter", "-o", "new.xml")
	if r.code != exitProblem {
		t.Errorf("exit %d, want %d\n%s", r.code, exitProblem, r.stderr)
	}
	if diff := cmp.Diff(plainGolden(t, "sse093.rss"), h.read("new.xml")); diff != "" {
		t.Errorf("output (-want +got):\n%s", diff)
	}
	for _, want := range []string{
		`old.xml: line 2: feed: rewritten: SSE 0.93 namespace declaration`,
		`old.xml: line 7: feed: kept: sx:sharing since="token-17" until="token-42" are opaque tokens`,
		`old.xml: line 18: item "item%2A1": kept: 2 history entries without by kept`,
		`old.xml: line 27: item "oven": rewritten: sx:sync deleted "1" → "true"`,
		`old.xml: line 51: item "broken": failed: sx:history when "last Tuesday" is not an RFC 3339 date-time`,
		`new.xml: 1 created, 4 kept as they were`,
		`feedsync convert: old.xml: 2 values could not be upgraded`,
	} {
		if !strings.Contains(r.stderr, want) {
			t.Errorf("stderr lacks %q:\n%s", want, r.stderr)
		}
	}
}

// TestConvertUpgradeNoBy: a feed whose items all carry sx:sync creates
// nothing, so it needs no endpoint identifier, and none is generated.
func TestConvertUpgradeNoBy(t *testing.T) {
	h := newHarness(t)
	h.write("old.xml", `<rss version="2.0" xmlns:sx="http://www.microsoft.com/schemas/sse"><channel><title>t</title>
<item><title>a</title><sx:sync id="a" updates="1"><sx:history sequence="1" when="2007-05-01T10:00:00.5+02:00" by="R1"/></sx:sync></item>
</channel></rss>`)
	r := h.ok("", "convert", "--upgrade", "old.xml")
	if !strings.Contains(r.stdout, `xmlns:sx="http://feedsync.org/2007/feedsync"`) || !strings.Contains(r.stdout, `when="2007-05-01T08:00:00Z"`) {
		t.Errorf("not upgraded:\n%s", r.stdout)
	}
	if _, err := os.Stat(filepath.Join(h.env["XDG_CONFIG_HOME"], "feedsync")); err == nil {
		t.Error("an endpoint identifier was generated though nothing was created")
	}
}

func TestConvertUsageErrors(t *testing.T) {
	h := newHarness(t)
	h.copyPlain("rss20-sx.xml", "sx.xml")
	h.copyPlain("rss091.xml", "plain.xml")
	h.ok("", "convert", "plain.xml", "--by", "laptop", "-o", "prev.xml")
	tests := []struct {
		args []string
		want []string
	}{
		{[]string{"convert"}, []string{"feedsync convert: missing FEED"}},
		{[]string{"convert", "plain.xml", "--from", "-"}, []string{"--from must be a file"}},
		{[]string{"convert", "plain.xml", "--format", "json"}, []string{`"json" is not a feed format`}},
		{[]string{"convert", "plain.xml", "--by", "lap top"}, []string{`--by "lap top" is not a valid endpoint identifier`}},
		{[]string{"convert", "sx.xml", "--by", "laptop", "--from", "prev.xml"}, []string{"--from needs a plain feed", "feedsync merge prev.xml sx.xml"}},
		{[]string{"convert", "missing.xml", "--by", "laptop"}, []string{"missing.xml", "no such file or directory"}},
		{[]string{"convert", "prev.xml", "--by", "laptop", "--from", "missing.xml"}, []string{"missing.xml", "no such file or directory"}},
	}
	for _, tc := range tests {
		t.Run(strings.Join(tc.args, " "), func(t *testing.T) {
			h.fails(exitUsage, tc.want, tc.args...)
		})
	}
	h.write("junk.txt", "hello, world")
	h.fails(exitUsage, []string{"feedsync convert: junk.txt: plainfeed: not an RSS, Atom or JSON feed"}, "convert", "junk.txt", "--by", "laptop")
}
