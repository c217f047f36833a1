package storetest

import (
	"fmt"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/beevik/etree"
	"github.com/feedsync/go-feedsync/feedsync"
	"github.com/google/go-cmp/cmp"
)

// Realistic items for the suite, built with the rules of package feedsync
// (after docs/RULES.md §16) rather than written by hand.

var day = time.Date(2009, 4, 2, 0, 0, 0, 0, time.UTC)

func at(hhmm string) time.Time {
	t, err := time.Parse("15:04", hhmm)
	if err != nil {
		panic(err)
	}
	return day.Add(time.Duration(t.Hour())*time.Hour + time.Duration(t.Minute())*time.Minute)
}

func stamp(by, hhmm string) feedsync.Stamp { return feedsync.Stamp{By: by, When: at(hhmm)} }

// entry returns an Atom <entry> payload, in the Atom namespace as in a
// feed.
func entry(title, content string) *etree.Element {
	e := etree.NewElement("entry")
	e.CreateAttr("xmlns", feedsync.AtomNamespace)
	e.CreateElement("title").SetText(title)
	e.CreateElement("content").SetText(content)
	e.CreateElement("updated").SetText(day.Format(time.RFC3339))
	return e
}

// rssItem returns an RSS <item> payload.
func rssItem(title, desc string) *etree.Element {
	e := etree.NewElement("item")
	e.CreateElement("title").SetText(title)
	e.CreateElement("description").SetText(desc)
	return e
}

func must(it *feedsync.Item, err error) *feedsync.Item {
	if err != nil {
		panic(err)
	}
	return it
}

// newItem creates an Atom item with id, made by by at hhmm.
func newItem(id, title, by, hhmm string) *feedsync.Item {
	return must(feedsync.Create(feedsync.Atom, entry(title, title+" content"), id, stamp(by, hhmm), false))
}

// update returns it updated by by at hhmm with a new title.
func update(it *feedsync.Item, title, by, hhmm string) *feedsync.Item {
	return must(feedsync.Update(it, entry(title, title+" content"), stamp(by, hhmm)))
}

// corpus returns items covering what a store must keep: both formats, long
// histories, conflicts (E5), a resolution (E6), a tombstone (E3), an
// anonymous history (E8), noconflicts and text that needs escaping.
func corpus() []*feedsync.Item {
	stamps := must(feedsync.Create(feedsync.RSS, rssItem("Buy stamps", "10 first-class"), "stamps-1", stamp("laptop", "09:00"), false))
	stamps = must(feedsync.Update(stamps, rssItem("Buy stamps", "10 first-class, 5 postcards"), stamp("phone", "10:15")))

	fence := conflicted("fence-1")
	resolved := must(feedsync.ResolveKeep(conflicted("fence-2"), 1, stamp("tablet", "12:00")))

	gone := must(feedsync.Delete(newItem("gone-1", "Old task", "laptop", "07:00"), stamp("phone", "07:30")))

	anon := must(feedsync.Create(feedsync.RSS, rssItem("Anonymous", "no by"), "anon-1", feedsync.Stamp{When: at("09:00")}, false))
	anon = must(feedsync.Update(anon, nil, feedsync.Stamp{When: at("10:00")}))

	byOnly := must(feedsync.Create(feedsync.Atom, entry("No clock", "by only"), "by-only-1", feedsync.Stamp{By: "phone"}, true))

	odd := must(feedsync.Create(feedsync.Atom,
		entry(`Ünïcödé & <markup> "quotes"`, "line one\nline two\t<b>&amp;</b> ]]> 日本語"),
		"odd%2Fid:(1)", stamp("tablet", "13:00"), false))

	return []*feedsync.Item{stamps, fence, resolved, gone, anon, byOnly, odd}
}

// conflicted returns an item holding a conflict: two endpoints updated the
// same version concurrently and one merged the other's (E5).
func conflicted(id string) *feedsync.Item {
	base := newItem(id, "Fence repair", "phone", "08:00")
	laptop := update(base, "Buy 4 posts and wire", "laptop", "11:00")
	tablet := update(base, "Buy 6 posts", "tablet", "11:05")
	m, outcome := feedsync.MergeItem(laptop, tablet)
	if outcome != feedsync.Conflict {
		panic(fmt.Sprintf("storetest: merge gave %v, want conflict", outcome))
	}
	return m
}

// testdataFeeds returns the paths of the repository's spec example feeds
// (testdata/feeds/*.xml). The suite finds them next to its own source, so
// it works from any package that runs it.
func testdataFeeds(t *testing.T) []string {
	t.Helper()
	_, file, _, ok := runtime.Caller(0)
	if !ok {
		t.Fatal("storetest: cannot locate its own source to find testdata")
	}
	dir := filepath.Join(filepath.Dir(file), "..", "..", "testdata", "feeds")
	paths, err := filepath.Glob(filepath.Join(dir, "*.xml"))
	if err != nil {
		t.Fatal(err)
	}
	if len(paths) == 0 {
		t.Fatalf("storetest: no feeds in %s", dir)
	}
	return paths
}

// view is what must survive a round trip through a store, in a form cmp can
// compare: the standalone XML, the payload digest and every piece of
// metadata, conflict copies included (their digests and metadata).
type view struct {
	ID          string
	Format      string
	Updates     int64
	Deleted     bool
	NoConflicts bool
	History     []string
	ExtraAttrs  int
	Digest      string
	Conflicts   []view
	XML         string
}

func viewOf(t *testing.T, it *feedsync.Item) view {
	t.Helper()
	v := copyView(t, it)
	if it == nil {
		return v
	}
	b, err := feedsync.MarshalItem(it)
	if err != nil {
		t.Fatalf("marshal item %q: %v", it.ID(), err)
	}
	v.XML = string(b)
	return v
}

// copyView is viewOf without the standalone XML, which for a conflict copy
// depends on where its namespaces happen to be declared in its parent.
func copyView(t *testing.T, it *feedsync.Item) view {
	t.Helper()
	if it == nil {
		return view{}
	}
	v := view{ID: it.ID(), Format: it.Format().String()}
	d, err := it.Digest()
	if err != nil {
		t.Fatalf("digest of item %q: %v", it.ID(), err)
	}
	v.Digest = fmt.Sprintf("%x", d)
	if s := it.Sync; s != nil {
		v.Updates, v.Deleted, v.NoConflicts = s.Updates, s.Deleted, s.NoConflicts
		v.ExtraAttrs = len(s.ExtraAttrs)
		for _, h := range s.History {
			when := ""
			if h.HasWhen() {
				when = feedsync.FormatTime(h.When)
			}
			v.History = append(v.History, fmt.Sprintf("%d|%s|%s|%d", h.Sequence, h.By, when, len(h.Extra)))
		}
		for _, c := range s.Conflicts {
			v.Conflicts = append(v.Conflicts, copyView(t, c))
		}
	}
	return v
}

// checkSame fails t unless got carries what want carried.
func checkSame(t *testing.T, got, want *feedsync.Item) {
	t.Helper()
	if got == nil {
		t.Fatalf("item %q: got nil", want.ID())
	}
	if diff := cmp.Diff(viewOf(t, want), viewOf(t, got)); diff != "" {
		t.Errorf("item %q after a round trip (-want +got):\n%s", want.ID(), diff)
	}
}

// bigItem returns an item whose payload holds about size bytes of text.
func bigItem(id string, size int) *feedsync.Item {
	var b strings.Builder
	line := "All work and no play makes a big item. 0123456789 <&> äöü\n"
	for b.Len() < size {
		b.WriteString(line)
	}
	return must(feedsync.Create(feedsync.Atom, entry("Big", b.String()), id, stamp("laptop", "09:00"), false))
}
