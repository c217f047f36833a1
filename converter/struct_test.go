package converter_test

import (
	"bytes"
	"encoding/xml"
	"errors"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/beevik/etree"
	"github.com/google/go-cmp/cmp"

	"github.com/feedsync/go-feedsync/converter"
	"github.com/feedsync/go-feedsync/feedsync"
)

const (
	dcNS    = "http://purl.org/dc/elements/1.1/"
	tasksNS = "http://example.org/tasks"
)

// task is an RSS-shaped struct with the field kinds applications use:
// standard elements, a repeated element, a namespaced element and
// attribute, a nested struct, a time and a pointer.
type task struct {
	Done     bool       `xml:"http://example.org/tasks done,attr"`
	Title    string     `xml:"title"`
	Link     string     `xml:"link,omitempty"`
	Creator  string     `xml:"http://purl.org/dc/elements/1.1/ creator,omitempty"`
	Tags     []string   `xml:"category"`
	Priority int        `xml:"http://example.org/tasks priority"`
	Estimate float64    `xml:"http://example.org/tasks estimate,omitempty"`
	Due      *time.Time `xml:"http://example.org/tasks due,omitempty"`
	Place    *place     `xml:"http://example.org/tasks place,omitempty"`
}

type place struct {
	Name string `xml:"name"`
	Lat  string `xml:"lat,attr,omitempty"`
}

// note is an Atom-shaped struct that maps atom:id and atom:updated itself.
type note struct {
	ID      string    `xml:"id"`
	Title   string    `xml:"title,omitempty"`
	Updated time.Time `xml:"updated"`
	Summary string    `xml:"summary,omitempty"`
	Author  string    `xml:"author>name,omitempty"`
}

// writeElem renders an element as XML text for messages and goldens.
func writeElem(e *etree.Element) string {
	var b bytes.Buffer
	e.WriteTo(&b, &etree.WriteSettings{})
	return b.String()
}

// throughText writes e with canonical escaping and parses it again, as a
// store keeping the payload's text would.
func throughText(t testing.TB, e *etree.Element) *etree.Element {
	t.Helper()
	var b bytes.Buffer
	e.WriteTo(&b, &etree.WriteSettings{CanonicalText: true, CanonicalAttrVal: true})
	doc := etree.NewDocument()
	if err := doc.ReadFromBytes(b.Bytes()); err != nil {
		t.Fatalf("parse %s: %v", b.String(), err)
	}
	return doc.Root()
}

// throughFeed creates an item with payload e, writes it into a feed of
// format f, and reads the feed back.
func throughFeed(t testing.TB, f feedsync.Format, id string, e *etree.Element) (created, read *feedsync.Item) {
	t.Helper()
	created, err := feedsync.Create(f, e, id, feedsync.Stamp{By: "laptop", When: time.Date(2009, 4, 1, 9, 0, 0, 0, time.UTC)}, false)
	if err != nil {
		t.Fatalf("Create: %v", err)
	}
	h := feedsync.NewHeader(f, feedsync.FeedInfo{ID: "urn:feed", Updated: time.Date(2009, 4, 1, 9, 0, 0, 0, time.UTC)})
	var b bytes.Buffer
	if err := feedsync.WriteAll(&b, h, []*feedsync.Item{created}); err != nil {
		t.Fatalf("WriteAll: %v", err)
	}
	_, items, err := feedsync.ReadAll(&b)
	if err != nil {
		t.Fatalf("ReadAll: %v", err)
	}
	if len(items) != 1 {
		t.Fatalf("read %d items, want 1", len(items))
	}
	return created, items[0]
}

func itemDigest(t testing.TB, it *feedsync.Item) feedsync.Digest {
	t.Helper()
	d, err := it.Digest()
	if err != nil {
		t.Fatalf("Digest: %v", err)
	}
	return d
}

var (
	due = time.Date(2009, 4, 2, 17, 30, 0, 0, time.FixedZone("", 2*3600))
	// The values feeds can carry unchanged: no carriage returns (see
	// TestStructRoundTrip) and only XML characters.
	taskCases = []struct {
		name string
		v    task
	}{
		{"zero", task{}},
		{"standard", task{Title: "Buy stamps", Link: "https://tasks.example.org/7", Tags: []string{"post", "errand"}}},
		{"namespaced", task{Done: true, Title: "Fence", Creator: "laptop owner", Priority: -3, Estimate: 2.5, Due: &due}},
		{"nested", task{Title: "Meet", Place: &place{Name: "Café Ünï", Lat: "51.5"}}},
		{"markup", task{Title: `<b>&amp;</b> "q" 'a' ]]>`, Tags: []string{"", "  padded  ", "line1\nline2", "\ttab"}}},
		{"unicode", task{Title: "日本 🎉 — \u2028", Creator: "ünï"}},
		{"empty nested", task{Place: &place{}}},
	}
	noteCases = []struct {
		name string
		v    note
	}{
		{"zero", note{}},
		{"full", note{ID: "urn:uuid:5b0e0000-0000-4000-8000-000000000001", Title: "Fence repair", Updated: time.Date(2009, 4, 2, 11, 5, 0, 0, time.UTC), Summary: "Buy 6 posts", Author: "tablet"}},
	}
)

// TestStructRoundTrip checks FromPayload(ToPayload(v)) == v for
// representative structs in both formats, after the payload went through
// XML text, and after it went through a feed: written by feedsync.Writer,
// read by feedsync.Reader, taken back with FromItem and with
// FromPayload(Item.Payload()).
func TestStructRoundTrip(t *testing.T) {
	for _, f := range []feedsync.Format{feedsync.RSS, feedsync.Atom} {
		for _, tc := range taskCases {
			t.Run(f.String()+"/task/"+tc.name, func(t *testing.T) {
				checkStructRoundTrip(t, converter.Struct[task]{Format: f}, tc.v)
			})
		}
	}
	for _, tc := range noteCases {
		t.Run("atom/note/"+tc.name, func(t *testing.T) {
			checkStructRoundTrip(t, converter.Struct[note]{Format: feedsync.Atom}, tc.v)
		})
	}
	for _, f := range []feedsync.Format{feedsync.RSS, feedsync.Atom} {
		t.Run(f.String()+"/pointer", func(t *testing.T) {
			checkStructRoundTrip(t, converter.Struct[*task]{Format: f}, &task{Title: "T", Due: &due})
		})
	}
	// Carriage returns survive text written with character references, as
	// stores keep payloads and feedsync.Writer writes them (see
	// regression_test.go).
	t.Run("carriage return", func(t *testing.T) {
		c := converter.Struct[task]{}
		want := task{Title: "a\r\nb", Place: &place{Name: "x", Lat: "1\r\n2\t3"}}
		e, err := c.ToPayload("t-1", want)
		if err != nil {
			t.Fatalf("ToPayload: %v", err)
		}
		got, err := c.FromPayload(throughText(t, e))
		if err != nil {
			t.Fatalf("FromPayload: %v", err)
		}
		if diff := cmp.Diff(want, got); diff != "" {
			t.Errorf("round trip (-want +got):\n%s", diff)
		}
	})
}

func checkStructRoundTrip[T any](t *testing.T, c converter.Struct[T], want T) {
	t.Helper()
	e, err := c.ToPayload("item-1", want)
	if err != nil {
		t.Fatalf("ToPayload: %v", err)
	}
	got, err := c.FromPayload(throughText(t, e))
	if err != nil {
		t.Fatalf("FromPayload(%s): %v", writeElem(e), err)
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("text round trip (-want +got):\n%s\npayload: %s", diff, writeElem(e))
	}

	f := c.Format
	if f == feedsync.FormatUnknown {
		f = feedsync.RSS // Struct's default
	}
	created, read := throughFeed(t, f, "item-1", e)
	got, err = converter.FromItem[T](c, read)
	if err != nil {
		t.Fatalf("FromItem: %v", err)
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("feed round trip, FromItem (-want +got):\n%s\npayload: %s", diff, writeElem(e))
	}
	p, err := read.Payload()
	if err != nil {
		t.Fatalf("Payload: %v", err)
	}
	got, err = c.FromPayload(p)
	if err != nil {
		t.Fatalf("FromPayload(Payload()): %v", err)
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("feed round trip, Payload (-want +got):\n%s\npayload: %s", diff, writeElem(p))
	}
	if got, want := itemDigest(t, read), itemDigest(t, created); got != want {
		t.Errorf("digest after the feed round trip changed:\ncreated %s", writeElem(e))
	}
}

// TestStructPayload pins the exact payloads, which digests depend on: the
// usual prefixes, ns1 for an unknown namespace, Atom's derived elements.
func TestStructPayload(t *testing.T) {
	type other struct {
		Title string `xml:"title"`
		X     string `xml:"http://example.org/x x"`
		Y     string `xml:"http://example.org/y y"`
		X2    string `xml:"http://example.org/x x2"`
	}
	tests := []struct {
		name string
		got  func() (*etree.Element, error)
		want string
	}{
		{
			name: "rss",
			got: func() (*etree.Element, error) {
				return converter.Struct[task]{}.ToPayload("t-1", task{Done: true, Title: "T", Creator: "C", Tags: []string{"a"}, Priority: 2})
			},
			want: `<item xmlns:tasks="http://example.org/tasks" tasks:done="true" xmlns:dc="http://purl.org/dc/elements/1.1/"><title>T</title><dc:creator>C</dc:creator><category>a</category><tasks:priority>2</tasks:priority></item>`,
		},
		{
			name: "atom with derived id, title and updated",
			got: func() (*etree.Element, error) {
				return converter.Struct[task]{Format: feedsync.Atom}.ToPayload("t-1", task{Priority: 2})
			},
			want: `<entry xmlns="http://www.w3.org/2005/Atom" xmlns:tasks="http://example.org/tasks" tasks:done="false"><id>urn:feedsync:item:t-1</id><updated>1970-01-01T00:00:00Z</updated><title/><tasks:priority>2</tasks:priority></entry>`,
		},
		{
			name: "atom mapping its own id and updated",
			got: func() (*etree.Element, error) {
				return converter.Struct[note]{Format: feedsync.Atom}.ToPayload("n-1", note{ID: "urn:x", Updated: time.Date(2009, 4, 2, 11, 5, 0, 0, time.UTC), Author: "tablet"})
			},
			want: `<entry xmlns="http://www.w3.org/2005/Atom"><title/><id>urn:x</id><updated>2009-04-02T11:05:00Z</updated><author><name>tablet</name></author></entry>`,
		},
		{
			name: "unknown namespaces get ns1, ns2 in order of first use",
			got: func() (*etree.Element, error) {
				return converter.Struct[other]{}.ToPayload("o", other{Title: "T", X: "x", Y: "y", X2: "x2"})
			},
			want: `<item xmlns:ns1="http://example.org/x" xmlns:ns2="http://example.org/y"><title>T</title><ns1:x>x</ns1:x><ns2:y>y</ns2:y><ns1:x2>x2</ns1:x2></item>`,
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			e, err := tc.got()
			if err != nil {
				t.Fatalf("ToPayload: %v", err)
			}
			if got := writeElem(e); got != tc.want {
				t.Errorf("payload:\ngot  %s\nwant %s", got, tc.want)
			}
		})
	}
}

// TestStructNamespacesKept checks that ToPayload's prefix rewriting keeps
// the namespace of every element: the payload means what encoding/xml
// wrote.
func TestStructNamespacesKept(t *testing.T) {
	v := task{Done: true, Title: "T", Creator: "C", Priority: 1, Place: &place{Name: "n", Lat: "1"}}
	for _, f := range []feedsync.Format{feedsync.RSS, feedsync.Atom} {
		t.Run(f.String(), func(t *testing.T) {
			e, err := converter.Struct[task]{Format: f}.ToPayload("t-1", v)
			if err != nil {
				t.Fatalf("ToPayload: %v", err)
			}
			wrapper := ""
			if f == feedsync.Atom {
				wrapper = feedsync.AtomNamespace
			}
			want := map[string]string{
				"title": wrapper, "creator": dcNS, "category": wrapper, "priority": tasksNS,
				"place": tasksNS, "name": tasksNS, "id": wrapper, "updated": wrapper,
			}
			got := map[string]string{}
			var walk func(e *etree.Element)
			walk = func(e *etree.Element) {
				for _, c := range e.ChildElements() {
					got[c.Tag] = c.NamespaceURI()
					walk(c)
				}
			}
			walk(e)
			if f == feedsync.RSS {
				delete(want, "id")
				delete(want, "updated")
			}
			delete(want, "category") // no tags in v
			if diff := cmp.Diff(want, got); diff != "" {
				t.Errorf("namespaces (-want +got):\n%s\npayload: %s", diff, writeElem(e))
			}
		})
	}
}

// TestStructDigestStable checks that unchanged data gives an unchanged
// digest: two ToPayload calls of one value give items with equal digests,
// and any change of a field changes it.
func TestStructDigestStable(t *testing.T) {
	for _, f := range []feedsync.Format{feedsync.RSS, feedsync.Atom} {
		c := converter.Struct[task]{Format: f}
		for _, tc := range taskCases {
			t.Run(f.String()+"/"+tc.name, func(t *testing.T) {
				d := make([]feedsync.Digest, 2)
				for i := range d {
					v := tc.v // a fresh copy each time
					e, err := c.ToPayload("t-1", v)
					if err != nil {
						t.Fatalf("ToPayload: %v", err)
					}
					d[i] = itemDigest(t, feedsync.NewItem(f, e))
				}
				if d[0] != d[1] {
					t.Errorf("two payloads of one value have different digests")
				}
			})
		}
		t.Run(f.String()+"/changes", func(t *testing.T) {
			base := task{Title: "T", Creator: "C", Tags: []string{"a"}, Priority: 1}
			changes := map[string]func(*task){
				"title":   func(v *task) { v.Title = "U" },
				"creator": func(v *task) { v.Creator = "D" },
				"tag":     func(v *task) { v.Tags = []string{"b"} },
				"tag order": func(v *task) {
					v.Tags = []string{"a", "b"}
				},
				"priority": func(v *task) { v.Priority = 2 },
				"done":     func(v *task) { v.Done = true },
			}
			e, err := c.ToPayload("t-1", base)
			if err != nil {
				t.Fatalf("ToPayload: %v", err)
			}
			want := itemDigest(t, feedsync.NewItem(f, e))
			for name, change := range changes {
				v := base
				v.Tags = append([]string(nil), base.Tags...)
				change(&v)
				e, err := c.ToPayload("t-1", v)
				if err != nil {
					t.Fatalf("ToPayload: %v", err)
				}
				if itemDigest(t, feedsync.NewItem(f, e)) == want {
					t.Errorf("%s: changed value, same digest", name)
				}
			}
		})
	}
}

// TestStructErrors checks what Struct refuses, and that each refusal says
// so with its error.
func TestStructErrors(t *testing.T) {
	type badName struct {
		XMLName xml.Name `xml:"task"`
		Title   string   `xml:"title"`
	}
	type goodName struct {
		XMLName xml.Name `xml:"item"`
		Title   string   `xml:"title"`
	}
	type withSync struct {
		Sync string `xml:"http://feedsync.org/2007/feedsync sync"`
	}
	type withMap struct {
		M map[string]string `xml:"m"`
	}
	type optionalID struct {
		ID string `xml:"id,omitempty"`
	}
	type optionalTitle struct {
		Title *string `xml:"title,omitempty"`
	}
	tests := []struct {
		name string
		err  func() error
		want error
	}{
		{"not a struct", func() error { _, err := converter.Struct[string]{}.ToPayload("x", "s"); return err }, converter.ErrStruct},
		{"not a struct, reading", func() error {
			_, err := converter.Struct[[]int]{}.FromPayload(etree.NewElement("item"))
			return err
		}, converter.ErrStruct},
		{"XMLName names another element", func() error { _, err := converter.Struct[badName]{}.ToPayload("x", badName{}); return err }, converter.ErrStruct},
		{"XMLName item in an Atom entry", func() error {
			_, err := converter.Struct[goodName]{Format: feedsync.Atom}.ToPayload("x", goodName{})
			return err
		}, converter.ErrStruct},
		{"sx:sync field", func() error { _, err := converter.Struct[withSync]{}.ToPayload("x", withSync{Sync: "s"}); return err }, converter.ErrStruct},
		{"map field", func() error {
			_, err := converter.Struct[withMap]{}.ToPayload("x", withMap{M: map[string]string{"a": "b"}})
			return err
		}, converter.ErrStruct},
		{"nil pointer", func() error { _, err := converter.Struct[*task]{}.ToPayload("x", nil); return err }, converter.ErrStruct},
		{"atom id field left out", func() error {
			_, err := converter.Struct[optionalID]{Format: feedsync.Atom}.ToPayload("x", optionalID{})
			return err
		}, converter.ErrStruct},
		{"atom title pointer left out", func() error {
			_, err := converter.Struct[optionalTitle]{Format: feedsync.Atom}.ToPayload("x", optionalTitle{})
			return err
		}, converter.ErrStruct},
		{"atom id from an invalid sync id", func() error {
			_, err := converter.Struct[task]{Format: feedsync.Atom}.ToPayload("a b", task{})
			return err
		}, converter.ErrStruct},
		{"entry given to an RSS struct", func() error {
			e := etree.NewElement("entry")
			e.CreateAttr("xmlns", feedsync.AtomNamespace)
			_, err := converter.Struct[task]{}.FromPayload(e)
			return err
		}, converter.ErrNotItem},
		{"item given to an Atom struct", func() error {
			_, err := converter.Struct[task]{Format: feedsync.Atom}.FromPayload(etree.NewElement("item"))
			return err
		}, converter.ErrNotItem},
		{"item in a namespace", func() error {
			e := etree.NewElement("item")
			e.CreateAttr("xmlns", "http://purl.org/rss/1.0/")
			_, err := converter.Struct[task]{}.FromPayload(e)
			return err
		}, converter.ErrNotItem},
		{"nil element", func() error { _, err := converter.Struct[task]{}.FromPayload(nil); return err }, converter.ErrNotItem},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if err := tc.err(); !errors.Is(err, tc.want) {
				t.Errorf("got %v, want %v", err, tc.want)
			}
		})
	}

	// The same struct types work where they fit.
	if _, err := (converter.Struct[goodName]{}).ToPayload("x", goodName{Title: "T"}); err != nil {
		t.Errorf("XMLName item in RSS: %v", err)
	}
	if _, err := (converter.Struct[optionalID]{Format: feedsync.Atom}).ToPayload("x", optionalID{ID: "urn:x"}); err != nil {
		t.Errorf("atom id field given: %v", err)
	}
	if _, err := (converter.Struct[*task]{}).ToPayload("x", &task{Title: "T"}); err != nil {
		t.Errorf("pointer: %v", err)
	}
}

// TestStructFromForeignPayload reads payloads written by other publishers:
// an Atom entry cut out of its feed without declarations, undeclared usual
// prefixes, elements T does not know, and an sx:sync child.
func TestStructFromForeignPayload(t *testing.T) {
	tests := []struct {
		name    string
		format  feedsync.Format
		payload string
		want    task
	}{
		{
			name:    "unknown children ignored, sx:sync ignored",
			payload: `<item xmlns:sx="http://feedsync.org/2007/feedsync"><title>T</title><guid>g</guid><sync>not sx</sync><sx:sync id="x" updates="1"><sx:history sequence="1" by="a"/></sx:sync></item>`,
			want:    task{Title: "T"},
		},
		{
			name:    "undeclared dc prefix",
			payload: `<item><title>T</title><dc:creator>C</dc:creator></item>`,
			want:    task{Title: "T", Creator: "C"},
		},
		{
			name:    "other prefix for dc",
			payload: `<item xmlns:d="http://purl.org/dc/elements/1.1/"><d:creator>C</d:creator></item>`,
			want:    task{Creator: "C"},
		},
		{
			name:    "creator in another namespace is not dc:creator",
			payload: `<item xmlns:x="http://example.org/x"><x:creator>C</x:creator></item>`,
			want:    task{},
		},
		{
			name:    "atom entry without declaration",
			format:  feedsync.Atom,
			payload: `<entry><title>T</title><category>c</category></entry>`,
			want:    task{Title: "T", Tags: []string{"c"}},
		},
		{
			name:    "atom entry with a prefix",
			format:  feedsync.Atom,
			payload: `<a:entry xmlns:a="http://www.w3.org/2005/Atom"><a:title>T</a:title></a:entry>`,
			want:    task{Title: "T"},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			doc := etree.NewDocument()
			if err := doc.ReadFromString(tc.payload); err != nil {
				t.Fatal(err)
			}
			got, err := converter.Struct[task]{Format: tc.format}.FromPayload(doc.Root())
			if err != nil {
				t.Fatalf("FromPayload: %v", err)
			}
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("(-want +got):\n%s", diff)
			}
		})
	}
}

// TestStructPayloadInFeed reads an element still attached to its feed
// document: FromPayload takes the declarations of its ancestors along.
func TestStructPayloadInFeed(t *testing.T) {
	doc := etree.NewDocument()
	err := doc.ReadFromString(`<feed xmlns="http://www.w3.org/2005/Atom" xmlns:t="http://example.org/tasks"><entry><title>T</title><t:priority>4</t:priority></entry></feed>`)
	if err != nil {
		t.Fatal(err)
	}
	got, err := converter.Struct[task]{Format: feedsync.Atom}.FromPayload(doc.Root().SelectElement("entry"))
	if err != nil {
		t.Fatalf("FromPayload: %v", err)
	}
	if diff := cmp.Diff(task{Title: "T", Priority: 4}, got); diff != "" {
		t.Errorf("(-want +got):\n%s", diff)
	}
}

// xmlText reports whether s is text XML can carry: valid UTF-8 of XML
// characters.
func xmlText(s string) bool {
	if !utf8.ValidString(s) {
		return false
	}
	for _, r := range s {
		if !(r == '\t' || r == '\n' || r == '\r' || 0x20 <= r && r <= 0xD7FF || 0xE000 <= r && r <= 0xFFFD || 0x10000 <= r) {
			return false
		}
	}
	return true
}

// FuzzStructRoundTrip checks the round trip on any field values XML can
// carry (STYLE habit 15), in both formats, and that ToPayload is
// deterministic.
func FuzzStructRoundTrip(f *testing.F) {
	for _, tc := range taskCases {
		f.Add(tc.v.Title, tc.v.Creator, strings.Join(tc.v.Tags, "|"), int64(tc.v.Priority), tc.v.Done, false)
		f.Add(tc.v.Title, tc.v.Creator, strings.Join(tc.v.Tags, "|"), int64(tc.v.Priority), tc.v.Done, true)
	}
	f.Add("a\r\nb", "\u00a0", "x|y|", int64(-1), true, true)
	f.Fuzz(func(t *testing.T, title, creator, tags string, prio int64, done, atom bool) {
		if !xmlText(title) || !xmlText(creator) || !xmlText(tags) {
			return // encoding/xml writes U+FFFD for these (documented)
		}
		v := task{Title: title, Creator: creator, Priority: int(prio), Done: done}
		if tags != "" {
			v.Tags = strings.Split(tags, "|")
		}
		c := converter.Struct[task]{}
		if atom {
			c.Format = feedsync.Atom
		}
		e, err := c.ToPayload("t-1", v)
		if err != nil {
			t.Fatalf("ToPayload(%+v): %v", v, err)
		}
		again, err := c.ToPayload("t-1", v)
		if err != nil || writeElem(again) != writeElem(e) {
			t.Fatalf("ToPayload is not deterministic: %s vs %s (%v)", writeElem(e), writeElem(again), err)
		}
		got, err := c.FromPayload(throughText(t, e))
		if err != nil {
			t.Fatalf("FromPayload(%s): %v", writeElem(e), err)
		}
		if diff := cmp.Diff(v, got); diff != "" {
			t.Fatalf("round trip (-want +got):\n%s\npayload: %s", diff, writeElem(e))
		}
	})
}
