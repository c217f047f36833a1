package converter

import (
	"bytes"
	"encoding/json"
	"errors"
	"math"
	"strings"
	"testing"
	"time"

	"github.com/beevik/etree"
	"github.com/google/go-cmp/cmp"

	"github.com/feedsync/go-feedsync/feedsync"
)

// decode reads a JSON object the way the CLI does (numbers as json.Number).
func decode(t testing.TB, s string) map[string]any {
	t.Helper()
	dec := json.NewDecoder(strings.NewReader(s))
	dec.UseNumber()
	var m map[string]any
	if err := dec.Decode(&m); err != nil {
		t.Fatalf("decode %s: %v", s, err)
	}
	return m
}

// reparse writes e as text and parses it again, as a feed file would.
func reparse(t testing.TB, e *etree.Element) *etree.Element {
	t.Helper()
	var b bytes.Buffer
	e.WriteTo(&b, &etree.WriteSettings{})
	doc := etree.NewDocument()
	if err := doc.ReadFromBytes(b.Bytes()); err != nil {
		t.Fatalf("reparse %s: %v", b.String(), err)
	}
	return doc.Root()
}

func render(e *etree.Element) string {
	var b bytes.Buffer
	e.WriteTo(&b, &etree.WriteSettings{})
	return b.String()
}

var roundTripCases = []struct {
	name string
	rec  string
}{
	{"empty", `{}`},
	{"standard fields", `{"id":"a1","title":"Buy stamps","link":"https://x.example/1","description":"10 first-class","content":"<p>html & text</p>","published":"2009-04-01T09:00:00Z"}`},
	{"published with offset", `{"published":"2009-04-01T09:00:00+02:00"}`},
	{"published with fraction", `{"published":"2009-04-01T09:00:00.5Z"}`},
	{"published not a date", `{"published":"yesterday"}`},
	{"numbers", `{"int":42,"neg":-7,"float":3.25,"exp":1e100,"big":123456789012345678901234567890,"zero":0}`},
	{"bools and null", `{"yes":true,"no":false,"nothing":null}`},
	{"nested", `{"obj":{"b":[1,"two",{"c":null}],"a":{"x":true}},"arr":[],"eobj":{}}`},
	{"strings that need escaping", `{"empty":"","space":"   ","cr":"a\r\nb","ctl":"a\u0001b","nl":"line1\nline2","tab":"\tx","lead":"  padded  ","ffff":"\uffff"}`},
	{"non-string standard fields", `{"title":7,"link":["a"],"description":"","content":null}`},
	{"link with newline", `{"link":"a\nb"}`},
	{"odd names", `{"first name":"Ann","1x":"one","xmlish":"reserved","field":"plain field","":"empty name","a:b":"colon","tab\tname":"t","ünï":"u"}`},
	{"markup characters", `{"title":"<b>&amp;</b> \"q\" 'a'","k":"]]>"}`},
	{"unicode", `{"title":"café — 日本 🎉","x":"\u2028"}`},
}

// TestMapRoundTrip checks FromPayload(ToPayload(rec)) == rec for every kind
// of JSON value, in both formats, after the element went through XML text.
func TestMapRoundTrip(t *testing.T) {
	for _, format := range []feedsync.Format{feedsync.RSS, feedsync.Atom} {
		for _, tc := range roundTripCases {
			t.Run(format.String()+"/"+tc.name, func(t *testing.T) {
				m := Map{Format: format}
				want := decode(t, tc.rec)
				e, err := m.ToPayload("item-1", want)
				if err != nil {
					t.Fatalf("ToPayload: %v", err)
				}
				got, err := m.FromPayload(reparse(t, e))
				if err != nil {
					t.Fatalf("FromPayload(%s): %v", render(e), err)
				}
				if diff := cmp.Diff(want, got); diff != "" {
					t.Errorf("round trip (-want +got):\n%s\npayload: %s", diff, render(e))
				}
			})
		}
	}
}

// TestMapPayload pins the exact payloads, which digests depend on.
func TestMapPayload(t *testing.T) {
	tests := []struct {
		name string
		m    Map
		rec  string
		want string
	}{
		{
			name: "rss standard elements",
			rec:  `{"title":"T","link":"L","description":"D","content":"C","published":"2009-04-01T09:00:00Z","prio":3,"done":false}`,
			want: `<item xmlns:content="http://purl.org/rss/1.0/modules/content/" xmlns:f="urn:feedsync:field"><title>T</title><link>L</link><description>D</description><content:encoded>C</content:encoded><pubDate>Wed, 01 Apr 2009 09:00:00 +0000</pubDate><f:done type="boolean">false</f:done><f:prio type="number">3</f:prio></item>`,
		},
		{
			name: "atom standard elements",
			m:    Map{Format: feedsync.Atom},
			rec:  `{"title":"T","link":"L","description":"D","content":"C","published":"2009-04-01T09:00:00Z"}`,
			want: `<entry xmlns="http://www.w3.org/2005/Atom"><id>urn:feedsync:item:item-1</id><title>T</title><updated>2009-04-01T09:00:00Z</updated><link href="L"/><summary>D</summary><content>C</content><published>2009-04-01T09:00:00Z</published></entry>`,
		},
		{
			name: "atom required elements derived without data",
			m:    Map{Format: feedsync.Atom},
			rec:  `{"n":1}`,
			want: `<entry xmlns="http://www.w3.org/2005/Atom" xmlns:f="urn:feedsync:field"><id>urn:feedsync:item:item-1</id><title/><updated>1970-01-01T00:00:00Z</updated><f:n type="number">1</f:n></entry>`,
		},
		{
			name: "renamed and disabled fields",
			m:    Map{Title: "name", Link: "-"},
			rec:  `{"name":"N","title":"not the title","link":"not the link"}`,
			want: `<item xmlns:f="urn:feedsync:field"><title>N</title><f:link>not the link</f:link><f:title>not the title</f:title></item>`,
		},
		{
			name: "nested values keep sorted keys and raw HTML characters",
			rec:  `{"o":{"z":1,"a":"<&>"}}`,
			want: `<item xmlns:f="urn:feedsync:field"><f:o type="object">{&quot;a&quot;:&quot;&lt;&amp;&gt;&quot;,&quot;z&quot;:1}</f:o></item>`,
		},
		{
			name: "names that are not XML names",
			rec:  `{"first name":"A","tab\tname":"B"}`,
			want: `<item xmlns:f="urn:feedsync:field"><f:field name="first name">A</f:field><f:field name-json="&quot;tab\tname&quot;">B</f:field></item>`,
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			e, err := tc.m.ToPayload("item-1", decode(t, tc.rec))
			if err != nil {
				t.Fatalf("ToPayload: %v", err)
			}
			if got := render(e); got != tc.want {
				t.Errorf("payload:\ngot  %s\nwant %s", got, tc.want)
			}
		})
	}
}

// TestMapDigestStable checks that equal records give equal digests however
// the map was built, and that the digest of an item read back from a feed
// equals the digest of the fresh payload: a refresh relies on both.
func TestMapDigestStable(t *testing.T) {
	for _, format := range []feedsync.Format{feedsync.RSS, feedsync.Atom} {
		t.Run(format.String(), func(t *testing.T) {
			m := Map{Format: format}
			a := decode(t, `{"title":"T","z":1,"a":{"y":2,"x":[1,2]},"published":"2009-04-01T09:00:00Z"}`)
			b := decode(t, `{"published":"2009-04-01T09:00:00Z","a":{"x":[1,2],"y":2},"z":1,"title":"T"}`)
			pa, err := m.ToPayload("k", a)
			if err != nil {
				t.Fatal(err)
			}
			pb, err := m.ToPayload("k", b)
			if err != nil {
				t.Fatal(err)
			}
			da := digest(t, feedsync.NewItem(format, pa))
			if db := digest(t, feedsync.NewItem(format, pb)); da != db {
				t.Errorf("equal records, different digests: %s vs %s", render(pa), render(pb))
			}

			// Through a feed file and back.
			it, err := feedsync.Create(format, pa, "k", feedsync.Stamp{By: "test", When: time.Unix(0, 0)}, false)
			if err != nil {
				t.Fatal(err)
			}
			var buf bytes.Buffer
			if err := feedsync.WriteAll(&buf, feedsync.NewHeader(format, feedsync.FeedInfo{Updated: time.Unix(0, 0)}), []*feedsync.Item{it}); err != nil {
				t.Fatal(err)
			}
			_, items, err := feedsync.ReadAll(&buf)
			if err != nil {
				t.Fatal(err)
			}
			if got := digest(t, items[0]); got != da {
				t.Errorf("digest after a write and a read differs; feed:\n%s", buf.String())
			}

			// A changed value changes the digest.
			c := decode(t, `{"title":"T","z":2,"a":{"y":2,"x":[1,2]},"published":"2009-04-01T09:00:00Z"}`)
			pc, err := m.ToPayload("k", c)
			if err != nil {
				t.Fatal(err)
			}
			if digest(t, feedsync.NewItem(format, pc)) == da {
				t.Errorf("different records, same digest")
			}
		})
	}
}

func digest(t testing.TB, it *feedsync.Item) feedsync.Digest {
	t.Helper()
	d, err := it.Digest()
	if err != nil {
		t.Fatal(err)
	}
	return d
}

// TestMapFromForeignPayload reads items the converter did not write: a
// payload cut out of its feed without declarations, an RSS pubDate in RFC
// 822 form, and elements no field describes.
func TestMapFromForeignPayload(t *testing.T) {
	tests := []struct {
		name    string
		m       Map
		payload string
		want    map[string]any
		known   []bool // Known, per child element
	}{
		{
			name:    "rss with undeclared prefixes",
			payload: `<item><title>T</title><content:encoded>C</content:encoded><pubDate>Wed, 1 Apr 2009 11:00:00 +0200</pubDate><f:n type="number">2</f:n><guid>g</guid><dc:creator>Ann</dc:creator></item>`,
			want:    map[string]any{"title": "T", "content": "C", "published": "2009-04-01T11:00:00+02:00", "n": json.Number("2")},
			known:   []bool{true, true, true, true, false, false},
		},
		{
			name:    "atom without namespace declarations",
			m:       Map{Format: feedsync.Atom},
			payload: `<entry><id>urn:x</id><title>T</title><updated>2009-04-01T09:00:00Z</updated><link rel="edit" href="E"/><link href="A"/><summary>S</summary><author><name>Ann</name></author></entry>`,
			want:    map[string]any{"title": "T", "link": "A", "description": "S"},
			known:   []bool{true, true, true, false, true, true, false},
		},
		{
			name:    "atom in a foreign namespace is not atom",
			m:       Map{Format: feedsync.Atom},
			payload: `<entry xmlns="http://www.w3.org/2005/Atom" xmlns:o="urn:other"><o:title>other</o:title><title>T</title></entry>`,
			want:    map[string]any{"title": "T"},
			known:   []bool{false, true},
		},
		{
			name:    "unparsable pubDate comes back as text",
			payload: `<item><pubDate>sometime</pubDate></item>`,
			want:    map[string]any{"published": "sometime"},
			known:   []bool{true},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			doc := etree.NewDocument()
			if err := doc.ReadFromString(tc.payload); err != nil {
				t.Fatal(err)
			}
			got, err := tc.m.FromPayload(doc.Root())
			if err != nil {
				t.Fatalf("FromPayload: %v", err)
			}
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("FromPayload (-want +got):\n%s", diff)
			}
			var known []bool
			for _, c := range doc.Root().ChildElements() {
				known = append(known, tc.m.Known(c))
			}
			if diff := cmp.Diff(tc.known, known); diff != "" {
				t.Errorf("Known per child (-want +got):\n%s", diff)
			}
		})
	}
}

func TestMapErrors(t *testing.T) {
	t.Run("value without JSON form", func(t *testing.T) {
		_, err := Map{}.ToPayload("k", map[string]any{"ch": make(chan int)})
		if !errors.Is(err, ErrValue) || !strings.Contains(err.Error(), `"ch"`) {
			t.Errorf("got %v, want ErrValue naming the field", err)
		}
		_, err = Map{}.ToPayload("k", map[string]any{"nan": math.NaN()})
		if !errors.Is(err, ErrValue) {
			t.Errorf("NaN: got %v, want ErrValue", err)
		}
	})
	t.Run("field mapped twice", func(t *testing.T) {
		_, err := Map{Title: "x", Content: "x"}.ToPayload("k", nil)
		if !errors.Is(err, ErrMapping) {
			t.Errorf("got %v, want ErrMapping", err)
		}
	})
	t.Run("atom needs a valid id", func(t *testing.T) {
		_, err := Map{Format: feedsync.Atom}.ToPayload("a b", nil)
		if err == nil {
			t.Error("got nil error for an id with a space")
		}
	})
	for _, tc := range []struct{ name, payload string }{
		{"unknown type", `<item xmlns:f="urn:feedsync:field"><f:x type="date">1</f:x></item>`},
		{"type mismatch", `<item xmlns:f="urn:feedsync:field"><f:x type="number">true</f:x></item>`},
		{"bad json", `<item xmlns:f="urn:feedsync:field"><f:x type="object">{</f:x></item>`},
		{"trailing json", `<item xmlns:f="urn:feedsync:field"><f:x type="number">1 2</f:x></item>`},
		{"field twice", `<item xmlns:f="urn:feedsync:field"><f:x>1</f:x><f:field name="x">2</f:field></item>`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			doc := etree.NewDocument()
			if err := doc.ReadFromString(tc.payload); err != nil {
				t.Fatal(err)
			}
			if _, err := (Map{}).FromPayload(doc.Root()); !errors.Is(err, ErrPayload) {
				t.Errorf("got %v, want ErrPayload", err)
			}
		})
	}
}

// TestSyncID checks that keys map to valid sync ids (FS-TYPE-5), one to one,
// and back.
func TestSyncID(t *testing.T) {
	tests := []struct{ key, want string }{
		{"task-1", "task-1"},
		{"a b", "a%20b"},
		{"a/b", "a%2Fb"},
		{"100%", "100%25"},
		{"a%2Fb", "a%252Fb"},
		{"café", "caf%C3%A9"},
	}
	var m Map
	for _, tc := range tests {
		t.Run(tc.key, func(t *testing.T) {
			got := m.SyncID(tc.key)
			if got != tc.want {
				t.Errorf("SyncID(%q) = %q, want %q", tc.key, got, tc.want)
			}
			if !feedsync.ValidID(got) || feedsync.NormalizeID(got) != got {
				t.Errorf("SyncID(%q) = %q is not a normalised sync id", tc.key, got)
			}
			back, err := m.Key(got)
			if err != nil || back != tc.key {
				t.Errorf("Key(%q) = %q, %v; want %q", got, back, err, tc.key)
			}
		})
	}
	if _, err := m.Key("a%zz"); err == nil {
		t.Error("Key(a%zz): got nil error")
	}
}

// FuzzMapRoundTrip checks the round trip on any JSON object (STYLE habit
// 15): whatever ToPayload accepts, FromPayload reads back unchanged after
// the payload went through XML text, and ToPayload is deterministic.
func FuzzMapRoundTrip(f *testing.F) {
	for _, tc := range roundTripCases {
		f.Add(tc.rec, false)
		f.Add(tc.rec, true)
	}
	f.Fuzz(func(t *testing.T, s string, atom bool) {
		dec := json.NewDecoder(strings.NewReader(s))
		dec.UseNumber()
		var rec map[string]any
		if err := dec.Decode(&rec); err != nil || rec == nil {
			return
		}
		m := Map{}
		if atom {
			m.Format = feedsync.Atom
		}
		e, err := m.ToPayload("k", rec)
		if err != nil {
			return // values without a JSON form are refused, not mangled
		}
		if again, err := m.ToPayload("k", rec); err != nil || render(again) != render(e) {
			t.Fatalf("ToPayload is not deterministic: %s vs %s (%v)", render(e), render(again), err)
		}
		got, err := m.FromPayload(reparse(t, e))
		if err != nil {
			t.Fatalf("FromPayload(%s): %v", render(e), err)
		}
		// JSON numbers that are equal as text compare equal; the decoder
		// keeps their text, so compare exactly.
		if diff := cmp.Diff(rec, got); diff != "" {
			t.Fatalf("round trip of %s (-want +got):\n%s\npayload: %s", s, diff, render(e))
		}
	})
}
