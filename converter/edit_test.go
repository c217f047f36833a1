package converter

import (
	"strings"
	"testing"

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
