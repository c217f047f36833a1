package feedsync

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
)

var updateGolden = flag.Bool("update", false, "rewrite golden files in testdata")

func readFixture(t *testing.T, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("..", "testdata", "feeds", name))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func mustReadAll(t *testing.T, b []byte) (*Header, []*Item) {
	t.Helper()
	h, items, err := ReadAll(bytes.NewReader(b))
	if err != nil {
		t.Fatalf("ReadAll: %v", err)
	}
	return h, items
}

func writeAll(t *testing.T, h *Header, items []*Item) []byte {
	t.Helper()
	var out bytes.Buffer
	if err := WriteAll(&out, h, items); err != nil {
		t.Fatalf("WriteAll: %v", err)
	}
	return out.Bytes()
}

// checkGolden compares got with testdata/feeds/<name>, rewriting it with
// -update.
func checkGolden(t *testing.T, name string, got []byte) {
	t.Helper()
	path := filepath.Join("..", "testdata", "feeds", name)
	if *updateGolden {
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run with -update to create it)", err)
	}
	if d := cmp.Diff(string(want), string(got)); d != "" {
		t.Errorf("%s differs (-want +got):\n%s", name, d)
	}
}

// A read followed by a write gives back the document byte for byte: unknown
// elements, other namespaces, CDATA, entities, comments, processing
// instructions and the channel header survive (FS-NS-4, FS-NS-5, FS-TYPE-1).
func TestRoundTripUnchanged(t *testing.T) {
	for _, name := range []string{"rss-tasks.xml", "atom-fence.xml"} {
		t.Run(name, func(t *testing.T) {
			in := readFixture(t, name)
			h, items := mustReadAll(t, in)
			if got := writeAll(t, h, items); !bytes.Equal(got, in) {
				t.Errorf("round trip changed the document:\n%s", cmp.Diff(string(in), string(got)))
			}
		})
	}
}

// A Latin-1 document is read as UTF-8 and written as UTF-8 with its
// declaration changed to say so; nothing else changes. The SSE 0.93
// namespace is accepted as an alias (§14) and sx:unpublished is kept verbatim
// but not read as items (FS-UNPUB-1, FS-UNPUB-2).
func TestRoundTripLatin1AndUnpublished(t *testing.T) {
	in := readFixture(t, "rss-unpublished-sse.xml")
	h, items := mustReadAll(t, in)
	if len(items) != 1 {
		t.Fatalf("got %d items, want 1 (the unpublished one is not an item)", len(items))
	}
	if got, want := items[0].ID(), "item%2A1"; got != want {
		t.Errorf("id = %q, want %q (FS-TYPE-5: %%xx upper-cased)", got, want)
	}
	got := writeAll(t, h, items)
	var want strings.Builder
	for _, b := range in {
		want.WriteRune(rune(b))
	}
	wantS := strings.Replace(want.String(), `encoding="ISO-8859-1"`, `encoding="UTF-8"`, 1)
	if d := cmp.Diff(wantS, string(got)); d != "" {
		t.Errorf("latin-1 round trip (-want +got):\n%s", d)
	}
	if !strings.Contains(string(got), "<sx:unpublished>") {
		t.Error("sx:unpublished was dropped")
	}
	// FS-TYPE-4: offsets and fractions are normalised to UTC seconds.
	top := items[0].Sync.Top()
	if want := time.Date(2007, 5, 1, 8, 0, 0, 0, time.UTC); !top.When.Equal(want) {
		t.Errorf("when = %v, want %v", top.When, want)
	}
	// FS-TYPE-3 lenient: "False" is read with a warning, not an error.
	errs, warns := items[0].Problems()
	if len(errs) != 0 || len(warns) == 0 {
		t.Errorf("problems = %v, warnings = %v; want no errors and a warning for deleted=\"False\"", errs, warns)
	}
	// FS-SHARING-2: opaque since/until tokens are kept as strings.
	if h.Sharing == nil || h.Sharing.Since != "token-17" {
		t.Fatalf("sharing = %+v", h.Sharing)
	}
	if _, _, ok := h.Sharing.Window(); ok {
		t.Error("opaque since/until must not parse as a window")
	}
}

// FS-NS-1..3, FS-SHARING-1..4, FS-RELATED-1..3, FS-SYNC-1..4, FS-HIST-1..3:
// the reader finds the metadata wherever it is and whatever the prefix.
func TestReadMetadata(t *testing.T) {
	h, items := mustReadAll(t, readFixture(t, "rss-tasks.xml"))
	if h.Format != RSS {
		t.Fatalf("format = %v", h.Format)
	}
	wantSharing := &Sharing{
		Since: "2009-04-01T00:00:00Z", Until: "2009-04-02T12:00:00Z",
		Expires: time.Date(2009, 4, 9, 0, 0, 0, 0, time.UTC),
		Related: []Related{{Link: "https://tasks.example.org/complete.xml", Type: RelatedComplete, Title: "All tasks"}},
	}
	if d := cmp.Diff(wantSharing, h.Sharing); d != "" {
		t.Errorf("sharing (-want +got):\n%s", d)
	}
	var ids []string
	for _, it := range items {
		ids = append(ids, it.ID())
	}
	if d := cmp.Diff([]string{"stamps-1", "fence-1", "", "stamps-0"}, ids); d != "" {
		t.Errorf("ids (-want +got):\n%s", d)
	}
	if items[2].Sync != nil {
		t.Error("FS-SYNC-1: an item without sx:sync must have a nil Sync")
	}
	fence := items[1].Sync
	if len(fence.Conflicts) != 1 || fence.Conflicts[0].Sync.Top().By != "laptop" {
		t.Fatalf("fence conflicts = %+v", fence.Conflicts)
	}
	if !items[3].Sync.Deleted {
		t.Error("stamps-0 should be a tombstone")
	}
	// Atom with the FeedSync namespace bound to "fs" (FS-NS-1, FS-NS-3).
	ha, atom := mustReadAll(t, readFixture(t, "atom-fence.xml"))
	if ha.Format != Atom || len(atom) != 2 {
		t.Fatalf("atom: format %v, %d items", ha.Format, len(atom))
	}
	if s := atom[1].Sync; s == nil || !s.NoConflicts || s.ID != "shed%2Fpaint" {
		t.Errorf("shed sync = %+v", s)
	}
}

// Changing an item's metadata rewrites only its sx:sync, in place
// (FS-NS-4); the payload keeps its bytes.
func TestRewriteKeepsPayloadAndPosition(t *testing.T) {
	in := readFixture(t, "rss-tasks.xml")
	h, items := mustReadAll(t, in)
	s := items[1].Sync.Clone()
	s.Conflicts = nil
	s.Updates = 4
	s.History = append([]History{{Sequence: 4, When: time.Date(2009, 4, 2, 12, 0, 0, 0, time.UTC), By: "tablet"}}, s.History...)
	items[1] = items[1].withSync(s)
	out := writeAll(t, h, items)
	checkGolden(t, "rewrite/rss-tasks-fence-updated.xml", out)

	_, again := mustReadAll(t, out)
	if !again[1].Sync.SameVersion(s) {
		t.Errorf("re-read sync = %+v, want %+v", again[1].Sync, s)
	}
	d1, _ := items[1].Digest()
	d2, _ := again[1].Digest()
	if d1 != d2 {
		t.Error("payload digest changed although only metadata changed")
	}
	// The untouched items are still byte-identical.
	for _, i := range []int{0, 2, 3} {
		if !bytes.Equal(again[i].src.raw, items[i].src.raw) {
			t.Errorf("item %d bytes changed", i)
		}
	}
}

// Items moved into a document that binds other prefixes carry the
// declarations they need, and mean the same there (FS-NS-1).
func TestTransplantBetweenDocuments(t *testing.T) {
	_, atom := mustReadAll(t, readFixture(t, "atom-fence.xml"))
	_, rss := mustReadAll(t, readFixture(t, "rss-tasks.xml"))
	cases := []struct {
		name  string
		h     *Header
		items []*Item
	}{
		{"atom fs: into new atom", NewHeader(Atom, FeedInfo{ID: "urn:x", Updated: time.Unix(0, 0)}), atom},
		{"rss dc: content: into new rss", NewHeader(RSS, FeedInfo{}), rss},
		{"rss into atom (converted)", NewHeader(Atom, FeedInfo{ID: "urn:x", Updated: time.Unix(0, 0)}), rss},
		{"atom into rss (converted)", NewHeader(RSS, FeedInfo{}), atom},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			out := writeAll(t, c.h, c.items)
			_, got := mustReadAll(t, out)
			if len(got) != len(c.items) {
				t.Fatalf("got %d items, want %d\n%s", len(got), len(c.items), out)
			}
			for i := range got {
				if !got[i].Sync.SameVersion(c.items[i].Sync) {
					t.Errorf("item %d: sync %+v, want %+v", i, got[i].Sync, c.items[i].Sync)
				}
				if got[i].Sync != nil && len(got[i].Sync.Conflicts) != len(c.items[i].Sync.Conflicts) {
					t.Errorf("item %d: %d conflicts, want %d", i, len(got[i].Sync.Conflicts), len(c.items[i].Sync.Conflicts))
				}
				if c.h.Format == c.items[i].format {
					a, _ := got[i].Digest()
					b, _ := c.items[i].Digest()
					if a != b {
						t.Errorf("item %d: payload changed meaning\n%s", i, out)
					}
				}
			}
		})
	}
}

// FS-FEED-10: conversion between formats, checked against goldens.
func TestConvertGolden(t *testing.T) {
	for _, c := range []struct{ in, golden string }{
		{"rss-tasks.xml", "convert/rss-tasks.atom"},
		{"atom-fence.xml", "convert/atom-fence.rss"},
	} {
		t.Run(c.in, func(t *testing.T) {
			h, items := mustReadAll(t, readFixture(t, c.in))
			to := Atom
			if h.Format == Atom {
				to = RSS
			}
			out := writeAll(t, NewHeader(to, FeedInfo{Title: "converted", ID: "urn:converted", Updated: time.Unix(0, 0)}), items)
			checkGolden(t, c.golden, out)
			// And back: the metadata survives both conversions.
			back := writeAll(t, NewHeader(h.Format, FeedInfo{ID: "urn:back", Updated: time.Unix(0, 0)}), mustItems(t, out))
			for i, it := range mustItems(t, back) {
				if !it.Sync.SameVersion(items[i].Sync) {
					t.Errorf("item %d after two conversions: %+v, want %+v", i, it.Sync, items[i].Sync)
				}
			}
		})
	}
}

func mustItems(t *testing.T, b []byte) []*Item {
	t.Helper()
	_, items := mustReadAll(t, b)
	return items
}

func TestMarshalUnmarshalItem(t *testing.T) {
	for _, name := range []string{"rss-tasks.xml", "atom-fence.xml"} {
		_, items := mustReadAll(t, readFixture(t, name))
		for _, it := range items {
			b, err := MarshalItem(it)
			if err != nil {
				t.Fatal(err)
			}
			got, err := UnmarshalItem(b)
			if err != nil {
				t.Fatalf("%s: UnmarshalItem(%s): %v", name, b, err)
			}
			if !got.Sync.SameVersion(it.Sync) || got.format != it.format {
				t.Errorf("%s: %+v, want %+v", name, got.Sync, it.Sync)
			}
			a, _ := got.Digest()
			d, _ := it.Digest()
			if a != d {
				t.Errorf("%s: item %q payload changed in a standalone round trip:\n%s", name, it.ID(), b)
			}
		}
	}
}

// A changed sx:sharing is written in place; the rest of the header is
// kept (FS-SHARING-1..3). The Writer honours Header.Sharing however it was
// changed: replaced, changed in place, or removed; unchanged, the element
// is written as it was read.
func TestHeaderSharing(t *testing.T) {
	in := readFixture(t, "rss-tasks.xml")
	h, items := mustReadAll(t, in)
	if h.Sharing == nil {
		t.Fatal("the fixture has no sx:sharing")
	}
	if out := writeAll(t, h, items); !bytes.Equal(out, in) {
		t.Errorf("unchanged header not written as read:\n%s", out)
	}
	h, items = mustReadAll(t, in)
	h.Sharing.Until = "token-9"
	if out := string(writeAll(t, h, items)); !strings.Contains(out, `until="token-9"`) || strings.Count(out, "<sx:sharing") != 1 {
		t.Errorf("sharing changed in place not written:\n%s", out)
	}
	h, items = mustReadAll(t, in)
	h.Sharing = nil
	if out := string(writeAll(t, h, items)); strings.Contains(out, "sx:sharing") || !strings.Contains(out, "<ttl>60</ttl>") {
		t.Errorf("sharing set to nil still written:\n%s", out)
	}
	h, items = mustReadAll(t, in)
	h.Sharing = &Sharing{Since: "2009-04-02T00:00:00Z", Until: "2009-04-03T00:00:00Z"}
	out := string(writeAll(t, h, items))
	if !strings.Contains(out, `<sx:sharing since="2009-04-02T00:00:00Z" until="2009-04-03T00:00:00Z"/>`) {
		t.Errorf("new sharing not written:\n%s", out)
	}
	if strings.Count(out, "sx:sharing") != 1 || !strings.Contains(out, "<ttl>60</ttl>") {
		t.Errorf("header not kept:\n%s", out)
	}
	// A new feed gets the element where the items begin.
	nh := NewHeader(Atom, FeedInfo{ID: "urn:a", Updated: time.Unix(0, 0)})
	nh.Sharing = &Sharing{Related: []Related{{Link: "https://x.example/all", Type: RelatedComplete}}}
	out = string(writeAll(t, nh, nil))
	h2, _ := mustReadAll(t, []byte(out))
	if h2.Sharing == nil || len(h2.Sharing.Related) != 1 {
		t.Errorf("sharing not read back from:\n%s", out)
	}
}

// FS-TYPE-3 strict mode rejects what lenient mode reads with a warning.
func TestStrictBooleans(t *testing.T) {
	doc := `<rss><channel><item><sx:sync xmlns:sx="http://feedsync.org/2007/feedsync" id="a" updates="1" deleted="1"><sx:history sequence="1" by="x"/></sx:sync></item></channel></rss>`
	r := NewReaderOptions(strings.NewReader(doc), ReaderOptions{Strict: true})
	it, err := r.Next()
	if err != nil {
		t.Fatal(err)
	}
	if errs, _ := it.Problems(); len(errs) == 0 || !errors.Is(errs[0], ErrInvalidSync) {
		t.Errorf("strict: problems = %v, want ErrInvalidSync", errs)
	}
	_, items, err := readString(doc)
	if err != nil {
		t.Fatal(err)
	}
	if errs, warns := items[0].Problems(); len(errs) != 0 || len(warns) != 1 || !items[0].Sync.Deleted {
		t.Errorf("lenient: errs %v warns %v deleted %v", errs, warns, items[0].Sync.Deleted)
	}
}

// FS-ROBUST-1: broken metadata is reported per item with its id and line,
// and reading goes on.
func TestItemProblems(t *testing.T) {
	doc := `<rss><channel>
<item><sx:sync xmlns:sx="http://feedsync.org/2007/feedsync" id="a" updates="0"><sx:history sequence="1" when="yesterday"/></sx:sync></item>
<item><sx:sync xmlns:sx="http://feedsync.org/2007/feedsync" updates="1"></sx:sync></item>
<item><sx:sync xmlns:sx="http://feedsync.org/2007/feedsync" id="c" updates="1"><sx:history sequence="1"/></sx:sync></item>
<item><sx:sync xmlns:sx="http://feedsync.org/2007/feedsync" id="ok" updates="1"><sx:history sequence="1" by="x"/></sx:sync></item>
</channel></rss>`
	_, items, err := readString(doc)
	if err != nil {
		t.Fatal(err)
	}
	want := []string{
		`item "a" (line 2): feedsync: invalid sx:sync: sx:sync updates 0 is outside 1..2147483647 (FS-TYPE-2)`,
		`item (line 3): feedsync: invalid sx:sync: sx:sync has no id`,
		`item "c" (line 4): feedsync: invalid sx:sync: sx:history has neither when nor by (FS-HIST-4)`,
	}
	for i, w := range want {
		errs, _ := items[i].Problems()
		if len(errs) == 0 || errs[0].Error() != w {
			t.Errorf("item %d: problems %v, want first %q", i, errs, w)
		}
	}
	if errs, _ := items[1].Problems(); len(errs) < 2 {
		t.Errorf("item without id and history: want both problems, got %v", errs)
	}
	if err := items[3].Err(); err != nil {
		t.Errorf("valid item: %v", err)
	}
}

// FS-ROBUST-4: hostile and broken input gets a clear error, never a panic.
func TestHostileInput(t *testing.T) {
	deep := "<rss><channel><item>" + strings.Repeat("<a>", 500) + strings.Repeat("</a>", 500) + "</item></channel></rss>"
	huge := `<rss><channel><item><title x="` + strings.Repeat("A", 17<<20) + `"/></item></channel></rss>`
	laughs := `<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;">]><rss><channel><item><title>&lol2;</title></item></channel></rss>`
	manyHist := `<rss><channel><item><sx:sync xmlns:sx="http://feedsync.org/2007/feedsync" id="a" updates="1">` +
		strings.Repeat(`<sx:history sequence="1" by="x"/>`, DefaultMaxHistory+1) + `</sx:sync></item></channel></rss>`
	cases := []struct {
		name, doc string
		want      string
		is        error
	}{
		{"deep nesting", deep, "nested deeper than 128", ErrLimit},
		{"huge attribute", huge, "item larger than", ErrLimit},
		{"huge header", `<rss><channel><title>` + strings.Repeat("T", 5<<20) + `</title></channel></rss>`, "feed header larger than", ErrLimit},
		{"billion laughs", laughs, "DTD entity declarations are not allowed", nil},
		{"too many history entries", manyHist, "more than 10000 sx:history", ErrLimit},
		{"truncated", `<rss><channel><item><title>half`, "truncated", nil},
		{"not a feed", `<html><body/></html>`, "root element <html> is not RSS 2.0", ErrNotFeed},
		{"rss 1.0", `<rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#"/>`, "is not RSS 2.0", ErrNotFeed},
		{"empty", ``, "no root element", ErrNotFeed},
		{"mismatched tags", `<rss><channel><item></channel></rss>`, "line 1", nil},
		{"mismatched end tag, balanced depth", `<rss><channel><item><title>x</b></item></channel></rss>`, "end tag </b> does not match: expected </title>", nil},
		{"trailing junk", `<rss><channel></channel></rss><rss/>`, "content after the root element", nil},
		{"unsupported encoding", `<?xml version="1.0" encoding="Shift_JIS"?><rss><channel/></rss>`, "unsupported encoding", nil},
		{"bad ascii", "<?xml version=\"1.0\" encoding=\"US-ASCII\"?><rss><channel><title>\xe9</title></channel></rss>", "not US-ASCII", nil},
		{"undefined entity", `<rss><channel><item><title>&nbsp;</title></item></channel></rss>`, "entity", nil},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			r := NewReader(strings.NewReader(c.doc))
			var err error
			for err == nil {
				_, err = r.Next()
			}
			if err == io.EOF {
				t.Fatalf("no error")
			}
			if !strings.Contains(err.Error(), c.want) {
				t.Errorf("error %q does not mention %q", err, c.want)
			}
			if c.is != nil && !errors.Is(err, c.is) {
				t.Errorf("error %v is not %v", err, c.is)
			}
			// Sticky: the same error again.
			if _, err2 := r.Next(); err2 != err {
				t.Errorf("second Next = %v, want the same error", err2)
			}
		})
	}
}

// Empty feeds and feeds whose items sit between other channel children keep
// every child (channel child order carries no meaning).
func TestOddLayouts(t *testing.T) {
	for _, doc := range []string{
		`<rss version="2.0"><channel><title>t</title></channel></rss>`,
		"<rss version=\"2.0\">\n<channel>\n<title>t</title>\n<item><title>1</title></item>\n<ttl>5</ttl>\n<item><title>2</title></item>\n</channel>\n</rss>\n",
		`<feed xmlns="http://www.w3.org/2005/Atom"><title>t</title><entry><title>1</title></entry></feed>`,
	} {
		h, items := mustReadAll(t, []byte(doc))
		out := string(writeAll(t, h, items))
		h2, items2 := mustReadAll(t, []byte(out))
		if len(items2) != len(items) || h2.Format != h.Format {
			t.Errorf("items %d → %d in\n%s", len(items), len(items2), out)
		}
		for _, s := range []string{"<title>t</title>", "<ttl>5</ttl>"} {
			if strings.Contains(doc, s) && !strings.Contains(out, s) {
				t.Errorf("%s lost:\n%s", s, out)
			}
		}
	}
}

// Info works on a header taken before the reader reached the end of the
// feed, as a streaming merge takes it.
func TestHeaderInfoBeforeEOF(t *testing.T) {
	r := NewReader(bytes.NewReader(readFixture(t, "rss-tasks.xml")))
	h, err := r.Header()
	if err != nil {
		t.Fatal(err)
	}
	if got := h.Info().Title; got != "Household tasks & errands" {
		t.Errorf("title %q", got)
	}
	if got := h.Convert(Atom).Info().Link; got != "https://tasks.example.org/" {
		t.Errorf("converted link %q", got)
	}
}

func TestHeaderConvert(t *testing.T) {
	h, _ := mustReadAll(t, readFixture(t, "rss-tasks.xml"))
	a := h.Convert(Atom)
	out := writeAll(t, a, nil)
	h2, _ := mustReadAll(t, out)
	info := h2.Info()
	if h2.Format != Atom || info.Title != "Household tasks & errands" || info.Link != "https://tasks.example.org/" {
		t.Errorf("converted header: %v %+v\n%s", h2.Format, info, out)
	}
	if h2.Sharing == nil || h2.Sharing.Until != "2009-04-02T12:00:00Z" {
		t.Errorf("sharing lost: %+v", h2.Sharing)
	}
	back := h2.Convert(RSS).Info()
	if back.Title != info.Title || back.Description != "Things to do, synchronized between laptop, phone and tablet." {
		t.Errorf("back to rss: %+v", back)
	}
}

// A payload taken out of its feed keeps the meaning of its prefixes, so an
// edited copy written elsewhere is still well-formed (FS-NS-1).
func TestPayloadDeclaresInheritedNamespaces(t *testing.T) {
	_, items := mustReadAll(t, readFixture(t, "rss-tasks.xml"))
	stamps := items[0] // uses dc:creator, declared on <rss>
	p, err := stamps.Payload()
	if err != nil {
		t.Fatal(err)
	}
	p.SelectElement("title").SetText("Buy more stamps")
	u, err := Update(stamps, p, Stamp{By: "phone", When: time.Date(2009, 4, 3, 0, 0, 0, 0, time.UTC)})
	if err != nil {
		t.Fatal(err)
	}
	out := writeAll(t, NewHeader(Atom, FeedInfo{ID: "urn:x", Updated: time.Unix(0, 0)}), []*Item{u})
	_, got := mustReadAll(t, out)
	e, err := got[0].Payload()
	if err != nil {
		t.Fatal(err)
	}
	var found bool
	for _, c := range e.ChildElements() {
		if c.Tag == "creator" && c.NamespaceURI() == dcNamespace {
			found = true
		}
	}
	if !found {
		t.Errorf("dc:creator did not survive in the Atom entry:\n%s", out)
	}
	out = writeAll(t, NewHeader(RSS, FeedInfo{}), []*Item{u})
	if !bytes.Contains(out, []byte(`xmlns:dc="http://purl.org/dc/elements/1.1/"`)) {
		t.Errorf("dc prefix written without its declaration:\n%s", out)
	}
	mustReadAll(t, out)
}

// FS-NS-2, FS-NS-3: sx:sharing counts only as a child of <channel> (or
// atom:feed) and sx:sync only as a child of the item; the same elements
// elsewhere are ordinary content.
func TestPlacement(t *testing.T) {
	doc := `<rss xmlns:sx="http://feedsync.org/2007/feedsync"><sx:sharing since="root"/><channel>
<item><title>t</title><wrapper><sx:sync id="nested" updates="1"><sx:history sequence="1" by="x"/></sx:sync></wrapper></item>
<item><sx:sync id="real" updates="1"><sx:history sequence="1" by="x"/></sx:sync></item>
</channel></rss>`
	h, items := mustReadAll(t, []byte(doc))
	if h.Sharing != nil {
		t.Errorf("sx:sharing outside <channel> was read: %+v", h.Sharing)
	}
	if items[0].Sync != nil {
		t.Errorf("sx:sync below a child of the item was read as its metadata: %+v", items[0].Sync)
	}
	if items[1].ID() != "real" {
		t.Errorf("second item id %q", items[1].ID())
	}
	if out := writeAll(t, h, items); !bytes.Equal(out, []byte(doc)) {
		t.Errorf("round trip changed the document:\n%s", out)
	}
}

// FS-SHARING-3, FS-SHARING-4, FS-RELATED-1, FS-RELATED-2, FS-RELATED-3,
// FS-RELATED-4, FS-FEED-5: expires is a
// date-time; sx:related needs a link and a known type, and others are left
// out of the model (with a warning) but kept in the bytes.
func TestSharingAndRelated(t *testing.T) {
	doc := `<feed xmlns="http://www.w3.org/2005/Atom" xmlns:sx="http://feedsync.org/2007/feedsync"><title>t</title>
<sx:sharing since="2009-04-01T00:00:00Z" until="2009-04-02T00:00:00+02:00" expires="2009-04-09T10:00:00.5+01:00">
<sx:related link="https://a.example/all" type="complete" title="Everything"/>
<sx:related link="https://b.example/theirs" type="aggregated"/>
<sx:related type="complete"/>
<sx:related link="https://c.example/" type="mirror"/>
</sx:sharing></feed>`
	h, _ := mustReadAll(t, []byte(doc))
	want := []Related{
		{Link: "https://a.example/all", Type: RelatedComplete, Title: "Everything"},
		{Link: "https://b.example/theirs", Type: RelatedAggregated},
	}
	if d := cmp.Diff(want, h.Sharing.Related); d != "" {
		t.Errorf("related (-want +got):\n%s", d)
	}
	if len(h.Warnings()) != 2 {
		t.Errorf("warnings = %v, want two for the ignored sx:related", h.Warnings())
	}
	if want := time.Date(2009, 4, 9, 9, 0, 0, 0, time.UTC); !h.Sharing.Expires.Equal(want) {
		t.Errorf("expires = %v, want %v", h.Sharing.Expires, want)
	}
	since, until, ok := h.Sharing.Window()
	if !ok || !since.Equal(time.Date(2009, 4, 1, 0, 0, 0, 0, time.UTC)) || !until.Equal(time.Date(2009, 4, 1, 22, 0, 0, 0, time.UTC)) {
		t.Errorf("window = %v %v %v", since, until, ok)
	}
	if out := writeAll(t, h, nil); !bytes.Equal(out, []byte(doc)) {
		t.Errorf("ignored sx:related elements were not kept on a round trip:\n%s", out)
	}
}

// FS-ROBUST-5, FS-TYPE-4: when values are compared as instants after
// normalisation, never as strings: the same anonymous update written with an
// offset and a fraction by one peer and in canonical form by another is the
// same update.
func TestWhenComparedAsInstants(t *testing.T) {
	a := `<rss xmlns:sx="http://feedsync.org/2007/feedsync"><channel><item><sx:sync id="x" updates="1"><sx:history sequence="1" when="2009-04-01T10:00:00.900+02:00"/></sx:sync></item></channel></rss>`
	b := `<rss xmlns:sx="http://feedsync.org/2007/feedsync"><channel><item><sx:sync id="x" updates="1"><sx:history sequence="1" when="2009-04-01T08:00:00Z"/></sx:sync></item></channel></rss>`
	_, ia := mustReadAll(t, []byte(a))
	_, ib := mustReadAll(t, []byte(b))
	if !SubsumedBy(ia[0].Sync, ib[0].Sync) || !SubsumedBy(ib[0].Sync, ia[0].Sync) {
		t.Error("the same anonymous update in two notations is not recognised as one")
	}
	if got, o := MergeItem(ia[0], ib[0]); o == Conflict || len(got.Sync.Conflicts) != 0 {
		t.Errorf("merge found a conflict between one update written twice: %v", o)
	}
}
