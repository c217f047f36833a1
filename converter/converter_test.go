package converter_test

import (
	"strings"
	"testing"
	"time"

	"github.com/beevik/etree"
	"github.com/google/go-cmp/cmp"

	"github.com/feedsync/go-feedsync/converter"
	"github.com/feedsync/go-feedsync/feedsync"
)

// parseElem parses one element for a test.
func parseElem(t testing.TB, s string) *etree.Element {
	t.Helper()
	doc := etree.NewDocument()
	if err := doc.ReadFromString(s); err != nil {
		t.Fatalf("parse %s: %v", s, err)
	}
	return doc.Root()
}

// sortedAttrs returns the element s with the attributes of every element
// sorted, for comparisons where their order does not matter.
func sortedAttrs(t testing.TB, s string) string {
	t.Helper()
	e := parseElem(t, s)
	var walk func(e *etree.Element)
	walk = func(e *etree.Element) {
		e.SortAttrs()
		for _, c := range e.ChildElements() {
			walk(c)
		}
	}
	walk(e)
	return writeElem(e)
}

// TestAtomPublisherLinks checks which children the predicate declares
// publisher-specific (FS-INCORP-1, FS-INCORP-3): shared data must agree at
// every endpoint, publisher-specific data may differ.
func TestAtomPublisherLinks(t *testing.T) {
	tests := []struct {
		name    string
		payload string
		want    []bool // per child
	}{
		{
			name:    "atom entry",
			payload: `<entry xmlns="http://www.w3.org/2005/Atom"><link rel="self" href="a"/><link rel="edit" href="b"/><link rel="edit-media" href="c"/><link rel="alternate" href="d"/><link href="e"/><title>self</title></entry>`,
			want:    []bool{true, true, true, false, false, false},
		},
		{
			name:    "atom entry cut out of its feed",
			payload: `<entry><link rel="self" href="a"/><link rel="related" href="b"/></entry>`,
			want:    []bool{true, false},
		},
		{
			name:    "rss item",
			payload: `<item xmlns:atom="http://www.w3.org/2005/Atom" xmlns:x="http://example.org/"><link>https://example.org/1</link><atom:link rel="self" href="a"/><x:link rel="self" href="b"/><link rel="self">c</link></item>`,
			want:    []bool{false, true, false, false},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var got []bool
			for _, c := range parseElem(t, tc.payload).ChildElements() {
				got = append(got, converter.AtomPublisherLinks(c))
			}
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("(-want +got):\n%s", diff)
			}
		})
	}
	var none converter.PublisherFunc
	if none.PublisherSpecific(etree.NewElement("link")) {
		t.Error("a nil PublisherFunc declared a child publisher-specific")
	}
	if !(converter.Struct[task]{Publisher: converter.AtomPublisherLinks}).PublisherSpecific(parseElem(t, `<link xmlns="http://www.w3.org/2005/Atom" rel="self"/>`)) {
		t.Error("Struct.PublisherSpecific does not use Publisher")
	}
}

// TestShared checks that Shared drops the publisher-specific children of a
// copy and leaves the payload alone.
func TestShared(t *testing.T) {
	in := `<entry xmlns="http://www.w3.org/2005/Atom"><title>T</title><link rel="self" href="a"/><content>C</content><link rel="edit" href="b"/></entry>`
	e := parseElem(t, in)
	if got, want := writeElem(converter.Shared(converter.PublisherFunc(converter.AtomPublisherLinks), e)), `<entry xmlns="http://www.w3.org/2005/Atom"><title>T</title><content>C</content></entry>`; got != want {
		t.Errorf("Shared:\ngot  %s\nwant %s", got, want)
	}
	if got := writeElem(converter.Shared(nil, e)); got != in {
		t.Errorf("Shared(nil):\ngot  %s\nwant %s", got, in)
	}
	if got := writeElem(e); got != in {
		t.Errorf("Shared changed its argument: %s", got)
	}
}

var (
	laptop = feedsync.Stamp{By: "laptop", When: time.Date(2009, 4, 2, 11, 0, 0, 0, time.UTC)}
	tablet = feedsync.Stamp{By: "tablet", When: time.Date(2009, 4, 2, 11, 5, 0, 0, time.UTC)}
)

// entry returns an Atom payload with the given content and self link.
func entry(t testing.TB, content, self string) *etree.Element {
	t.Helper()
	return parseElem(t, `<entry xmlns="http://www.w3.org/2005/Atom"><id>urn:x</id><title>Fence repair</title>`+
		`<link rel="self" href="`+self+`"/><content>`+content+`</content></entry>`)
}

// TestIncorporate follows FS-INCORP-2 through a merge: the laptop merges
// the tablet's update, keeps the tablet's content (shared data) and puts
// its own self link back (publisher-specific data) without an update.
func TestIncorporate(t *testing.T) {
	p := converter.PublisherFunc(converter.AtomPublisherLinks)
	own, err := feedsync.Create(feedsync.Atom, entry(t, "Buy 4 posts", "https://laptop.example/1"), "fence-1", laptop, false)
	if err != nil {
		t.Fatal(err)
	}
	incoming, err := feedsync.Update(own, entry(t, "Buy 6 posts", "https://tablet.example/1"), tablet)
	if err != nil {
		t.Fatal(err)
	}
	merged, outcome := feedsync.MergeItem(own, incoming)
	if outcome != feedsync.Updated {
		t.Fatalf("merge: %v, want updated", outcome)
	}

	got, err := converter.Incorporate(p, merged, own)
	if err != nil {
		t.Fatalf("Incorporate: %v", err)
	}
	if got.Sync != merged.Sync {
		t.Error("Incorporate changed the sync metadata")
	}
	text, err := converter.FromItem[[]byte](converter.Raw{}, got)
	if err != nil {
		t.Fatal(err)
	}
	want := `<entry xmlns="http://www.w3.org/2005/Atom"><id>urn:x</id><title>Fence repair</title><content>Buy 6 posts</content><link rel="self" href="https://laptop.example/1"/></entry>`
	if string(text) != want {
		t.Errorf("payload:\ngot  %s\nwant %s", text, want)
	}

	// Publisher-specific data alone differs: the shared digest says so,
	// the payload digest does not.
	sd := func(it *feedsync.Item) feedsync.Digest {
		t.Helper()
		d, err := converter.SharedDigest(p, it)
		if err != nil {
			t.Fatal(err)
		}
		return d
	}
	if sd(got) != sd(merged) {
		t.Error("SharedDigest differs between versions that differ only in publisher-specific data")
	}
	if sd(got) == sd(own) {
		t.Error("SharedDigest equal across a change of content")
	}
	if itemDigest(t, got) == itemDigest(t, merged) {
		t.Error("payload digests equal although the self links differ")
	}
	if d, err := converter.SharedDigest(nil, merged); err != nil || d != itemDigest(t, merged) {
		t.Errorf("SharedDigest(nil) = %x, %v; want the payload digest", d, err)
	}

	// Merging the tablet's feed again brings its payload back (the
	// documented caveat, §17 A-18); incorporating again restores ours.
	again, outcome := feedsync.MergeItem(got, incoming)
	if outcome != feedsync.Updated {
		t.Errorf("re-merge: %v, want updated", outcome)
	}
	again, err = converter.Incorporate(p, again, got)
	if err != nil {
		t.Fatal(err)
	}
	if itemDigest(t, again) != itemDigest(t, got) {
		t.Error("incorporating after the re-merge did not give the same payload")
	}

	// Nothing to do: the same pointer comes back.
	if same, err := converter.Incorporate(p, got, got); err != nil || same != got {
		t.Errorf("Incorporate(p, x, x) = %p, %v; want x itself", same, err)
	}
	if same, err := converter.Incorporate(nil, merged, own); err != nil || same != merged {
		t.Errorf("Incorporate(nil, …) = %p, %v; want merged itself", same, err)
	}
	if same, err := converter.Incorporate(p, merged, nil); err != nil || same != merged {
		t.Errorf("Incorporate(p, merged, nil) = %p, %v; want merged itself", same, err)
	}
	rss, err := feedsync.ConvertItem(own, feedsync.RSS)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := converter.Incorporate(p, merged, rss); err == nil {
		t.Error("Incorporate accepted items of two formats")
	}
}

// TestIncorporateNamespaces checks that a publisher-specific child taken
// from own keeps the namespaces own's root declared for it.
func TestIncorporateNamespaces(t *testing.T) {
	p := converter.PublisherFunc(func(c *etree.Element) bool { return c.Tag == "mirror" })
	own, err := feedsync.Create(feedsync.RSS, parseElem(t,
		`<item xmlns:m="http://example.org/mirror" xmlns:x="http://example.org/x"><title>A</title><m:mirror x:href="l">laptop</m:mirror></item>`),
		"n-1", laptop, false)
	if err != nil {
		t.Fatal(err)
	}
	incoming, err := feedsync.Update(own, parseElem(t,
		`<item xmlns:m="http://example.org/other"><title>B</title><m:mirror>tablet</m:mirror></item>`), tablet)
	if err != nil {
		t.Fatal(err)
	}
	got, err := converter.Incorporate(p, incoming, own)
	if err != nil {
		t.Fatal(err)
	}
	text, err := converter.FromItem[[]byte](converter.Raw{}, got)
	if err != nil {
		t.Fatal(err)
	}
	want := `<item xmlns:m="http://example.org/other"><title>B</title><m:mirror xmlns:m="http://example.org/mirror" xmlns:x="http://example.org/x" x:href="l">laptop</m:mirror></item>`
	if string(text) != want {
		t.Errorf("payload:\ngot  %s\nwant %s", text, want)
	}
}

// TestFromItem reads values out of items whose feed declared the
// namespaces on its root element, with each converter of the package.
func TestFromItem(t *testing.T) {
	_, items, err := feedsync.ReadAll(strings.NewReader(`<rss version="2.0" xmlns:t="http://example.org/tasks" xmlns:d="http://purl.org/dc/elements/1.1/" xmlns:sx="http://feedsync.org/2007/feedsync"><channel><title>x</title>` +
		`<item><title>Buy stamps</title><d:creator>ann</d:creator><t:priority>4</t:priority>` +
		`<sx:sync id="t-1" updates="1"><sx:history sequence="1" by="laptop"/></sx:sync></item></channel></rss>`))
	if err != nil {
		t.Fatal(err)
	}
	it := items[0]

	v, err := converter.FromItem[task](converter.Struct[task]{}, it)
	if err != nil {
		t.Fatalf("Struct: %v", err)
	}
	if diff := cmp.Diff(task{Title: "Buy stamps", Creator: "ann", Priority: 4}, v); diff != "" {
		t.Errorf("Struct (-want +got):\n%s", diff)
	}

	raw, err := converter.FromItem[[]byte](converter.Raw{}, it)
	if err != nil {
		t.Fatalf("Raw: %v", err)
	}
	// The order of the declarations carries no meaning, so compare with
	// attributes sorted (Item.Payload writes them sorted; see
	// regression_test.go).
	want := `<item xmlns:d="http://purl.org/dc/elements/1.1/" xmlns:t="http://example.org/tasks"><title>Buy stamps</title><d:creator>ann</d:creator><t:priority>4</t:priority></item>`
	if got := sortedAttrs(t, string(raw)); got != want {
		t.Errorf("Raw:\ngot  %s\nwant %s", got, want)
	}

	rec, err := converter.FromItem[map[string]any](converter.Map{}, it)
	if err != nil {
		t.Fatalf("Map: %v", err)
	}
	if diff := cmp.Diff(map[string]any{"title": "Buy stamps"}, rec); diff != "" {
		t.Errorf("Map (-want +got):\n%s", diff)
	}

	_, err = converter.FromItem[task](converter.Struct[task]{Format: feedsync.Atom}, it)
	if err == nil || !strings.Contains(err.Error(), "t-1") {
		t.Errorf("an RSS item read as Atom: got %v, want an error naming the item", err)
	}
}

// convertBoth shows that the interface is enough to drive any converter:
// value → payload → item → value.
func convertBoth[T any](t *testing.T, c converter.ItemConverter[T], f feedsync.Format, v T) T {
	t.Helper()
	e, err := c.ToPayload("g-1", v)
	if err != nil {
		t.Fatalf("ToPayload: %v", err)
	}
	it, err := feedsync.Create(f, e, "g-1", laptop, false)
	if err != nil {
		t.Fatalf("Create: %v", err)
	}
	back, err := converter.FromItem(c, it)
	if err != nil {
		t.Fatalf("FromItem: %v", err)
	}
	return back
}

// TestItemConverter drives the three converters through the interface.
func TestItemConverter(t *testing.T) {
	v := task{Title: "T", Creator: "C"}
	if got := convertBoth[task](t, converter.Struct[task]{Format: feedsync.Atom}, feedsync.Atom, v); !cmp.Equal(got, v) {
		t.Errorf("Struct: got %+v, want %+v", got, v)
	}
	rec := map[string]any{"title": "T", "k": "v"}
	if got := convertBoth[map[string]any](t, converter.Map{}, feedsync.RSS, rec); !cmp.Equal(got, rec) {
		t.Errorf("Map: got %v, want %v", got, rec)
	}
	raw := []byte(`<item><title>T</title></item>`)
	if got := convertBoth[[]byte](t, converter.Raw{}, feedsync.RSS, raw); string(got) != string(raw) {
		t.Errorf("Raw: got %s, want %s", got, raw)
	}
}
