package converter

import (
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/beevik/etree"

	"github.com/feedsync/go-feedsync/feedsync"
)

// TestEditPayload (FS-TYPE-1, FS-UPDATE-6, issue 9 point 1): EditPayload
// rewrites the elements of the fields that changed and nothing else.
func TestEditPayload(t *testing.T) {
	const atom = `<entry xmlns="http://www.w3.org/2005/Atom" xmlns:x="urn:x" xml:lang="fr">` +
		`<id>urn:e:1</id>` +
		`<title type="xhtml" xml:lang="de"><div xmlns="http://www.w3.org/1999/xhtml">A <b>b</b></div></title>` +
		`<updated>2009-04-01T09:00:00Z</updated>` +
		`<link rel="alternate" href="one" hreflang="fr"/><link rel="alternate" href="two" hreflang="en"/>` +
		`<summary>plain</summary>` +
		`<x:ext a="1">kept</x:ext>` +
		`</entry>`
	const rss = `<item xmlns:content="http://purl.org/rss/1.0/modules/content/">` +
		`<title>T</title><description><![CDATA[<p>d</p>]]></description><x:ext xmlns:x="urn:x">kept</x:ext></item>`
	tests := []struct {
		name   string
		format feedsync.Format
		in     string
		change func(rec map[string]any)
		want   string
	}{
		{"unrelated field: only the new field element", feedsync.Atom, atom,
			func(r map[string]any) { r["done"] = "yes" },
			strings.Replace(atom, `</entry>`, `<f:done>yes</f:done></entry>`, 1)},
		{"title over an xhtml title: replaced, xml:lang kept", feedsync.Atom, atom,
			func(r map[string]any) { r["title"] = "new" },
			strings.Replace(atom, `<title type="xhtml" xml:lang="de"><div xmlns="http://www.w3.org/1999/xhtml">A <b>b</b></div></title>`, `<title xml:lang="de">new</title>`, 1)},
		{"link: the first alternate's href, hreflang and the second link kept", feedsync.Atom, atom,
			func(r map[string]any) { r["link"] = "uno" },
			strings.Replace(atom, `href="one" hreflang="fr"`, `hreflang="fr" href="uno"`, 1)},
		{"unset description: summary removed", feedsync.Atom, atom,
			func(r map[string]any) { delete(r, "description") },
			strings.Replace(atom, `<summary>plain</summary>`, ``, 1)},
		{"description becomes a number: field element in its place", feedsync.Atom, atom,
			func(r map[string]any) { r["description"] = 2 },
			strings.Replace(atom, `<summary>plain</summary>`, `<f:description type="number">2</f:description>`, 1)},
		{"rss title kept beside an Atom one by a conversion: the Atom one goes (FS-FEED-10)", feedsync.RSS,
			`<item><title>T</title><atom:title xmlns:atom="http://www.w3.org/2005/Atom" type="html">T &lt;b&gt;</atom:title><link>l</link></item>`,
			func(r map[string]any) { r["title"] = "U" },
			`<item><title>U</title><link>l</link></item>`},
		{"rss unchanged: same bytes, CDATA kept", feedsync.RSS, rss,
			func(r map[string]any) {},
			rss},
		{"rss content: new element in the content namespace", feedsync.RSS, rss,
			func(r map[string]any) { r["title"] = "U"; r["content"] = "c" },
			strings.Replace(strings.Replace(rss, `<title>T</title>`, `<title>U</title>`, 1), `</item>`, `<content:encoded>c</content:encoded></item>`, 1)},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			doc := etree.NewDocument()
			doc.ReadSettings.PreserveCData = true
			if err := doc.ReadFromString(tc.in); err != nil {
				t.Fatal(err)
			}
			m := Map{Format: tc.format}
			rec, err := m.FromPayload(doc.Root())
			if err != nil {
				t.Fatal(err)
			}
			tc.change(rec)
			out, err := m.EditPayload(doc.Root(), "e-1", rec)
			if err != nil {
				t.Fatal(err)
			}
			var b strings.Builder
			out.WriteTo(&b, &etree.WriteSettings{})
			want := tc.want
			if strings.Contains(want, "<f:") {
				want = strings.Replace(want, `xml:lang="fr">`, `xml:lang="fr" xmlns:f="urn:feedsync:field">`, 1)
			}
			if got := b.String(); got != want {
				t.Errorf("got\n%s\nwant\n%s", got, want)
			}
			back, err := m.FromPayload(out)
			if err != nil {
				t.Fatal(err)
			}
			if len(back) != len(rec) {
				t.Errorf("reads back %v, want %v", back, rec)
			}
		})
	}
}

// FuzzEditPayload: an update of one field through the map converter (what
// feedsync update --set does) on an arbitrary payload changes only that
// field (FS-TYPE-1, FS-UPDATE-6, issue 9): every other child element stays
// as it was, the payload reads back with the new value, and an update
// carrying it writes and reads back with the same digest.
func FuzzEditPayload(f *testing.F) {
	for _, s := range []string{
		`<entry xmlns="http://www.w3.org/2005/Atom"><title type="xhtml"><div xmlns="http://www.w3.org/1999/xhtml">A <b>b</b></div></title><link rel="alternate" href="a" hreflang="fr"/><link rel="alternate" href="b"/><content src="x.mp3" type="audio/mpeg"/></entry>`,
		`<entry xmlns="http://www.w3.org/2005/Atom" xml:lang="fr"><title type="html">AT&amp;amp;T</title><summary>s</summary><content type="application/octet-stream">AAEC</content><x:e xmlns:x="urn:x">1</x:e></entry>`,
		`<item><title><![CDATA[a < b]]></title><description>&lt;p&gt;d&lt;/p&gt;</description><pubDate>Wed, 01 Apr 2009 09:00:00 GMT</pubDate><f:n xmlns:f="urn:feedsync:field" type="number">2</f:n></item>`,
		`<item xmlns:content="http://purl.org/rss/1.0/modules/content/"><content:encoded>c</content:encoded><link> l </link><enclosure url="u" length="1" type="t"/></item>`,
	} {
		f.Add(s, "title", "new title")
		f.Add(s, "done", "yes")
		f.Add(s, "link", "http://example.org/x")
	}
	f.Fuzz(func(t *testing.T, payload, field, value string) {
		if !utf8.ValidString(field) || !utf8.ValidString(value) {
			return // records hold JSON strings: valid UTF-8
		}
		doc := etree.NewDocument()
		doc.ReadSettings.PreserveCData = true
		if doc.ReadFromString(payload) != nil || doc.Root() == nil {
			return
		}
		root := doc.Root()
		format := feedsync.RSS
		switch {
		case root.Tag == "entry" && root.NamespaceURI() == feedsync.AtomNamespace:
			format = feedsync.Atom
		case root.Tag == "item" && root.NamespaceURI() == "":
		default:
			return
		}
		m := Map{Format: format}
		rec, err := m.FromPayload(root)
		if err != nil {
			return // a malformed field element: refused, not rewritten
		}
		same, err := m.EditPayload(root, "e-1", rec)
		if err != nil {
			t.Fatalf("EditPayload of the record read: %v", err)
		}
		if got, want := canonical(same), canonical(root); got != want {
			t.Fatalf("an unchanged record changed the payload:\n%s\nto\n%s", want, got)
		}
		rec[field] = value
		out, err := m.EditPayload(root, "e-1", rec)
		if err != nil {
			return // a value or field name the map converter refuses
		}
		back, err := m.FromPayload(out)
		if err != nil {
			t.Fatalf("edited payload does not read back: %v\n%s", err, canonical(out))
		}
		if len(back) != len(rec) || !sameValue(back[field], value) {
			t.Fatalf("read back %v, want %v\n%s", back, rec, canonical(out))
		}
		// Every child that held no field, or another field, is still there.
		_, from, err := m.read(root)
		if err != nil {
			t.Fatal(err)
		}
		kept := map[string]int{}
		for _, c := range out.ChildElements() {
			kept[canonical(c)]++
		}
		for _, c := range root.ChildElements() {
			if from[field] == c || isEditedSlot(m, root, c, field) {
				continue // the edited field's element or its place
			}
			if kept[canonical(c)] == 0 {
				t.Fatalf("child lost by --set %s=%q: %s\nin\n%s", field, value, canonical(c), canonical(out))
			}
			kept[canonical(c)]--
		}
		// Through Update and a feed: the same payload comes back.
		it, err := feedsync.Create(format, root, "e-1", feedsync.Stamp{By: "a"}, false)
		if err != nil {
			t.Fatal(err)
		}
		up, err := feedsync.Update(it, out, feedsync.Stamp{By: "b"})
		if err != nil {
			t.Fatal(err)
		}
		b, err := feedsync.MarshalItem(up)
		if err != nil {
			t.Fatal(err)
		}
		again, err := feedsync.UnmarshalItem(b)
		if err != nil {
			t.Fatalf("updated item does not read back: %v\n%s", err, b)
		}
		d1, _ := up.Digest()
		d2, _ := again.Digest()
		if d1 != d2 {
			t.Fatalf("digest changed through the writer:\n%s", b)
		}
	})
}

// isEditedSlot reports whether c is the standard element a new value of
// field takes the place of: an Atom construct no field was read from.
func isEditedSlot(m Map, root, c *etree.Element, field string) bool {
	f, _ := m.fields()
	var k childKind
	switch field {
	case f.title:
		k = kindTitle
	case f.description:
		k = kindDescription
	case f.content:
		k = kindContent
	case f.link:
		k = kindLink
	case f.published:
		k = kindPublished
	default:
		return false
	}
	return m.slot(root, k) == c
}

// canonical writes e as exactly as its data reads back.
func canonical(e *etree.Element) string {
	var b strings.Builder
	e.WriteTo(&b, &etree.WriteSettings{CanonicalText: true, CanonicalAttrVal: true})
	return b.String()
}
