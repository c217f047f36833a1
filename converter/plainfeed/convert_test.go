package plainfeed

import (
	"bytes"
	"errors"
	"flag"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/feedsync/go-feedsync/feedsync"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata/feeds/plain/golden")

const fixtures = "../../testdata/feeds/plain"

// stamp is the fixed --by and clock of every golden conversion.
var stamp = feedsync.Stamp{By: "converter", When: time.Date(2024, 1, 2, 3, 4, 5, 0, time.UTC)}

// checkGolden compares got with the golden file name (under
// testdata/feeds/plain/golden), or rewrites it with -update.
func checkGolden(t *testing.T, name string, got []byte) {
	t.Helper()
	path := filepath.Join(fixtures, "golden", name)
	if *update {
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			t.Fatal(err)
		}
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

func openFixture(t *testing.T, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(fixtures, name))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// convertCases are the golden conversions: each fixture in its default
// format, and some across formats.
var convertCases = []struct {
	fixture string
	format  feedsync.Format // FormatUnknown: the default
	golden  string
	upgrade bool
}{
	{fixture: "atom10-xhtml.xml", golden: "atom10-xhtml.atom"},
	{fixture: "atom10-xhtml.xml", format: feedsync.RSS, golden: "atom10-xhtml.rss"},
	{fixture: "atom03.xml", golden: "atom03.atom"},
	{fixture: "rss20-enclosures-dc.xml", golden: "rss20-enclosures-dc.rss"},
	{fixture: "rss20-enclosures-dc.xml", format: feedsync.Atom, golden: "rss20-enclosures-dc.atom"},
	{fixture: "rss10-rdf.xml", golden: "rss10-rdf.rss"},
	{fixture: "rss091.xml", golden: "rss091.rss"},
	{fixture: "jsonfeed11.json", golden: "jsonfeed11.rss"},
	{fixture: "jsonfeed11.json", format: feedsync.Atom, golden: "jsonfeed11.atom"},
	{fixture: "rss20-sx.xml", golden: "rss20-sx.rss"},
	{fixture: "rss20-sx.xml", format: feedsync.Atom, golden: "rss20-sx.atom"},
	{fixture: "sse093.xml", golden: "sse093.rss", upgrade: true},
}

// invalidInFixture lists the items whose sync metadata is broken in the
// fixture itself; conversion keeps them as they are (FS-SYNC-2).
var invalidInFixture = map[string]bool{"broken": true}

func TestConvertGolden(t *testing.T) {
	for _, c := range convertCases {
		t.Run(c.golden, func(t *testing.T) {
			var out bytes.Buffer
			f, err := Convert(&out, bytes.NewReader(openFixture(t, c.fixture)), stamp, Options{Format: c.format, Upgrade: c.upgrade})
			if err != nil {
				t.Fatal(err)
			}
			checkGolden(t, c.golden, out.Bytes())
			items := checkValid(t, out.Bytes(), f)
			checkMerges(t, items)
		})
	}
}

// checkValid reads a converted feed back and checks that every item takes
// part in synchronization with valid metadata, that ids are unique, and
// that the items convert created carry exactly one history entry by the
// stamp (FS-CREATE-1..4).
func checkValid(t *testing.T, out []byte, f *Feed) []*feedsync.Item {
	t.Helper()
	h, items, err := feedsync.ReadAll(strings.NewReader(string(out)))
	if err != nil {
		t.Fatalf("output does not read back: %v", err)
	}
	if h.Format != f.Format {
		t.Errorf("output format = %v, want %v", h.Format, f.Format)
	}
	if got, want := len(items), len(f.Entries); got != want {
		t.Errorf("output has %d items, want %d", got, want)
	}
	created := map[string]bool{}
	for _, e := range f.Entries {
		created[e.ID] = e.From != FromSync
	}
	var ids feedsync.IDSet
	for _, it := range items {
		if it.Sync == nil {
			t.Errorf("item at line %d has no sx:sync", it.Line())
			continue
		}
		if errs, _ := it.Problems(); len(errs) > 0 && !invalidInFixture[it.ID()] {
			t.Errorf("item %q: %v", it.ID(), errs)
		}
		if err := ids.Add(it); err != nil {
			t.Error(err)
		}
		if !created[it.ID()] {
			continue
		}
		want := []feedsync.History{{Sequence: 1, When: stamp.When, By: stamp.By}}
		if diff := cmp.Diff(want, it.Sync.History); diff != "" || it.Sync.Updates != 1 || it.Sync.Deleted || it.Sync.NoConflicts {
			t.Errorf("created item %q: updates=%d deleted=%v noconflicts=%v history (-want +got):\n%s",
				it.ID(), it.Sync.Updates, it.Sync.Deleted, it.Sync.NoConflicts, diff)
		}
	}
	return items
}

// checkMerges shows that the converted items synchronize: another endpoint
// that edits an item wins a merge (FS-MERGE, FS-WIN-1), and two concurrent
// edits end in a conflict (FS-CONFLICT-1).
func checkMerges(t *testing.T, items []*feedsync.Item) {
	t.Helper()
	later := stamp.When.Add(time.Hour)
	for _, it := range items {
		if it.Sync == nil || it.Err() != nil {
			continue
		}
		p, err := it.Payload()
		if err != nil {
			t.Fatal(err)
		}
		p.CreateElement("category").SetText("edited on the phone")
		phone, err := feedsync.Update(it, p, feedsync.Stamp{By: "phone", When: later})
		if err != nil {
			t.Fatalf("item %q: update: %v", it.ID(), err)
		}
		got, outcome := feedsync.MergeItem(it, phone)
		if outcome != feedsync.Updated || !got.Sync.SameVersion(phone.Sync) {
			t.Errorf("item %q: merging the phone's edit: outcome %v, updates %d; want updated to %d",
				it.ID(), outcome, got.Sync.Updates, phone.Sync.Updates)
		}
		laptop, err := feedsync.Update(it, nil, feedsync.Stamp{By: "laptop", When: later})
		if err != nil {
			t.Fatal(err)
		}
		got, outcome = feedsync.MergeItem(laptop, phone)
		// Both edits survive: one wins, the other is a conflict copy.
		versions := []*feedsync.Sync{got.Sync}
		for _, c := range got.Sync.Conflicts {
			versions = append(versions, c.Sync)
		}
		has := func(s *feedsync.Sync) bool {
			for _, v := range versions {
				if v.SameVersion(s) {
					return true
				}
			}
			return false
		}
		if outcome != feedsync.Conflict || !has(laptop.Sync) || !has(phone.Sync) {
			t.Errorf("item %q: concurrent edits: outcome %v, laptop's kept %v, phone's kept %v; want a conflict keeping both",
				it.ID(), outcome, has(laptop.Sync), has(phone.Sync))
		}
	}
}

// TestReadIDs checks where each item's sync id comes from: the guid, then
// the link, then a content hash, in FS-TYPE-5 syntax.
func TestReadIDs(t *testing.T) {
	type idFrom struct {
		ID   string
		From string
	}
	tests := []struct {
		fixture string
		want    []idFrom
	}{
		{"atom10-xhtml.xml", []idFrom{
			{"tag:workshop.example.org,2009:entry-101", "guid"},
			{"tag:workshop.example.org,2009:entry-100", "guid"},
			{"urn:uuid:6e8bc430-9c3a-11d9-9669-0800200c9a66", "guid"},
		}},
		{"rss20-enclosures-dc.xml", []idFrom{
			{"radio.example.net-episode-12", "guid"},
			{"https:%2F%2Fradio.example.net%2Fepisodes%2F11", "guid"},
			{"https:%2F%2Fradio.example.net%2Fmail%2Fslugs%3Ffrom=rss%26n=3", "link"},
			{"sha256-a2999471371d3c7a95a741ee8234936d", "hash"},
		}},
		{"rss091.xml", []idFrom{
			{"http:%2F%2Fcafe.example.com%2Fspecials%2Fcr%C3%AApes", "link"},
			{"sha256-f06982a6281d24ad83c21029e7acf9c8", "hash"},
		}},
		{"rss10-rdf.xml", []idFrom{
			{"http:%2F%2Flibrary.example.edu%2Fnews%2F2009%2Flonger-hours", "link"},
			{"http:%2F%2Flibrary.example.edu%2Fnews%2F2009%2Fnew-scanners", "link"},
		}},
		{"jsonfeed11.json", []idFrom{
			{"https:%2F%2Fnotes.example.com%2F2009%2F04%2F05%2Fferry", "guid"},
			{"2009-04-04-untitled", "guid"},
			{"1729", "guid"},
		}},
		{"rss20-sx.xml", []idFrom{
			{"stamps-1", "sync"},
			{"fence-1", "sync"},
			{"old-1", "sync"},
			{"https:%2F%2Ftasks.example.org%2Fplants", "link"},
		}},
	}
	for _, tt := range tests {
		t.Run(tt.fixture, func(t *testing.T) {
			f, err := Read(bytes.NewReader(openFixture(t, tt.fixture)), Options{})
			if err != nil {
				t.Fatal(err)
			}
			var got []idFrom
			for _, e := range f.Entries {
				got = append(got, idFrom{e.ID, e.From.String()})
				if !feedsync.ValidID(e.ID) {
					t.Errorf("id %q is not a valid sync id", e.ID)
				}
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("ids (-want +got):\n%s", diff)
			}
		})
	}
}

// TestReadDuplicates: a later item with an id already taken is left out
// and reported (FS-SYNC-2).
func TestReadDuplicates(t *testing.T) {
	const in = `<rss version="2.0"><channel><title>t</title>
<item><title>first</title><guid>same</guid></item>
<item><title>second</title><guid>same</guid></item>
<item><title>third</title><guid>other</guid></item>
</channel></rss>`
	f, err := Read(strings.NewReader(in), Options{})
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, e := range f.Entries {
		got = append(got, e.ID+"="+e.Payload.SelectElement("title").Text())
	}
	if diff := cmp.Diff([]string{"same=first", "other=third"}, got); diff != "" {
		t.Errorf("entries (-want +got):\n%s", diff)
	}
	if len(f.Warnings) != 1 || !errors.Is(f.Warnings[0], ErrDuplicate) {
		t.Errorf("warnings = %v, want one ErrDuplicate", f.Warnings)
	}
}

// TestReadSyncDuplicates: two synced items with one id are merged in turn
// (FS-ROBUST-3), so the newer version wins whatever the order.
func TestReadSyncDuplicates(t *testing.T) {
	const in = `<rss version="2.0" xmlns:sx="http://feedsync.org/2007/feedsync"><channel><title>t</title>
<item><title>new</title><sx:sync id="a" updates="2"><sx:history sequence="2" by="x"/><sx:history sequence="1" by="x"/></sx:sync></item>
<item><title>old</title><sx:sync id="a" updates="1"><sx:history sequence="1" by="x"/></sx:sync></item>
</channel></rss>`
	f, err := Read(strings.NewReader(in), Options{})
	if err != nil {
		t.Fatal(err)
	}
	if len(f.Entries) != 1 {
		t.Fatalf("got %d entries, want 1", len(f.Entries))
	}
	if got := f.Entries[0].Payload.SelectElement("title").Text(); got != "new" {
		t.Errorf("kept %q, want the newer version", got)
	}
	if len(f.Warnings) != 1 || !errors.Is(f.Warnings[0], feedsync.ErrDuplicateID) {
		t.Errorf("warnings = %v, want one ErrDuplicateID", f.Warnings)
	}
}

// TestReadLegacyNeedsUpgrade: SSE 0.93 input is refused without Upgrade,
// and a feed that only mentions the namespace in its text is plain.
func TestReadLegacyNeedsUpgrade(t *testing.T) {
	_, err := Read(bytes.NewReader(openFixture(t, "sse093.xml")), Options{})
	if !errors.Is(err, ErrLegacy) {
		t.Errorf("Read(sse093) error = %v, want ErrLegacy", err)
	}
	const mention = `<rss version="2.0"><channel><title>t</title>
<item><title>About SSE</title><guid>p1</guid><description>Its namespace was http://www.microsoft.com/schemas/sse and now http://feedsync.org/2007/feedsync.</description></item>
</channel></rss>`
	f, err := Read(strings.NewReader(mention), Options{})
	if err != nil {
		t.Fatal(err)
	}
	if f.Kind != "rss 2.0" || len(f.Entries) != 1 || f.Entries[0].From != FromGUID {
		t.Errorf("got kind %q with %d entries; want a plain rss 2.0 feed with 1", f.Kind, len(f.Entries))
	}
}

// TestConvertKeepsSyncedItems: items that already carry sx:sync are written
// byte for byte when the format stays (FS-SYNC-2, FS-UPDATE-6).
func TestConvertKeepsSyncedItems(t *testing.T) {
	in := openFixture(t, "rss20-sx.xml")
	var out bytes.Buffer
	if _, err := Convert(&out, bytes.NewReader(in), stamp, Options{}); err != nil {
		t.Fatal(err)
	}
	_, before, err := feedsync.ReadAll(bytes.NewReader(in))
	if err != nil {
		t.Fatal(err)
	}
	for _, it := range before {
		if it.Sync == nil {
			continue
		}
		raw, err := feedsync.MarshalItem(it)
		if err != nil {
			t.Fatal(err)
		}
		// MarshalItem adds the declarations; the body is the source's.
		body := raw[bytes.IndexByte(raw, '>')+1:]
		if !bytes.Contains(out.Bytes(), body) {
			t.Errorf("item %q was not copied byte for byte", it.ID())
		}
	}
}

func TestConvertBadStamp(t *testing.T) {
	_, err := Convert(io.Discard, strings.NewReader("<rss/>"), feedsync.Stamp{}, Options{})
	if !errors.Is(err, feedsync.ErrBadStamp) {
		t.Errorf("error = %v, want ErrBadStamp", err)
	}
}

func TestReadNotFeed(t *testing.T) {
	for _, in := range []string{"", "hello", "<html><body/></html>"} {
		if _, err := Read(strings.NewReader(in), Options{}); !errors.Is(err, ErrNotFeed) {
			t.Errorf("Read(%q) error = %v, want ErrNotFeed", in, err)
		}
	}
}

func TestReadTooLarge(t *testing.T) {
	_, err := Read(bytes.NewReader(openFixture(t, "rss091.xml")), Options{MaxBytes: 100})
	if !errors.Is(err, ErrTooLarge) {
		t.Errorf("error = %v, want ErrTooLarge", err)
	}
}
