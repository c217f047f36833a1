package feedsync

import (
	"bytes"
	"errors"
	"strings"
	"testing"
	"time"
)

// TestUpdateKeepsSyncPlace (FS-NS-4, issue 9 point 5): an update with a new
// payload keeps sx:sync where it stood among the item's children; writers
// put it last only for items that had none.
func TestUpdateKeepsSyncPlace(t *testing.T) {
	const feed = `<rss version="2.0" xmlns:sx="http://feedsync.org/2007/feedsync"><channel><title>t</title>
<item>
  <sx:sync id="first" updates="1"><sx:history sequence="1" by="a"/></sx:sync>
  <title>one</title>
  <description>d</description>
</item>
<item>
  <title>two</title>
  <sx:sync id="middle" updates="1"><sx:history sequence="1" by="a"/></sx:sync>
  <description>d</description>
</item>
<item>
  <title>three</title>
  <description>d</description>
  <sx:sync id="last" updates="1"><sx:history sequence="1" by="a"/></sx:sync>
</item>
</channel></rss>`
	h, items, err := readString(feed)
	if err != nil {
		t.Fatal(err)
	}
	st := Stamp{By: "b", When: time.Date(2009, 4, 1, 9, 0, 0, 0, time.UTC)}
	for i, it := range items {
		p, err := it.Payload()
		if err != nil {
			t.Fatal(err)
		}
		p.SelectElement("title").SetText("changed")
		if items[i], err = Update(it, p, st); err != nil {
			t.Fatal(err)
		}
	}
	var buf bytes.Buffer
	if err := WriteAll(&buf, h, items); err != nil {
		t.Fatal(err)
	}
	// The order of the three children in each written item.
	want := []string{"sync title description", "title sync description", "title description sync"}
	parts := strings.Split(buf.String(), "<item>")[1:]
	for i, part := range parts {
		var got []string
		pos := map[string]int{"sync": strings.Index(part, "<sx:sync"), "title": strings.Index(part, "<title>"), "description": strings.Index(part, "<description>")}
		for len(pos) > 0 {
			best := ""
			for n, p := range pos {
				if best == "" || p < pos[best] {
					best = n
				}
			}
			got = append(got, best)
			delete(pos, best)
		}
		if g := strings.Join(got, " "); g != want[i] {
			t.Errorf("item %d: children in order %q, want %q\n%s", i+1, g, want[i], part)
		}
	}
}

// convertFixtures are feeds whose items carry what conversion must keep:
// text, html and xhtml constructs, CDATA and entities, content by reference
// and in base64, several links with hreflang, categories, enclosures,
// foreign extensions, xml:lang and xml:base, odd date spellings.
var convertFixtures = map[string]string{
	"atom": `<feed xmlns="http://www.w3.org/2005/Atom" xmlns:sx="http://feedsync.org/2007/feedsync" xmlns:ext="urn:example:ext">
<entry xml:lang="fr" xml:base="http://example.org/blog/">
  <sx:sync id="a-1" updates="1"><sx:history sequence="1" when="2009-04-01T09:00:00Z" by="laptop"/></sx:sync>
  <id>urn:entry:a-1</id>
  <title>if a&lt;b &amp;&amp; c&gt;d then &lt;b&gt;bold&lt;/b&gt;</title>
  <summary>it's "quoted" &amp; plain</summary>
  <content type="xhtml"><div xmlns="http://www.w3.org/1999/xhtml">Buy <b>stamps</b> &amp; <i>envelopes</i></div></content>
  <updated>2009-04-01T09:00:00Z</updated>
  <published>2009-04-01T08:00:00Z</published>
  <link rel="alternate" href="posts/1" hreflang="fr"/>
  <link rel="alternate" href="posts/1.en" hreflang="en" type="text/html"/>
  <link rel="enclosure" href="a.mp3" length="10" type="audio/mpeg"/>
  <category term="errands" scheme="urn:tags" label="Errands"/>
  <author><name>Ann</name><email>ann@example.org</email></author>
  <ext:priority level="2">high</ext:priority>
</entry>
<entry>
  <sx:sync id="a-2" updates="1"><sx:history sequence="1" when="2009-04-01T09:00:00Z" by="laptop"/></sx:sync>
  <id>urn:entry:a-2</id>
  <title type="html"><![CDATA[AT&amp;T <b>news</b>]]></title>
  <updated>2009-04-01T09:00:00Z</updated>
  <published>2009-04-01T10:00:00+02:00</published>
  <content src="http://example.org/2.mp3" type="audio/mpeg"/>
</entry>
<entry>
  <sx:sync id="a-3" updates="1"><sx:history sequence="1" when="2009-04-01T09:00:00Z" by="laptop"/></sx:sync>
  <title type="xhtml"><div xmlns="http://www.w3.org/1999/xhtml">x <b>y</b></div></title>
  <content type="application/octet-stream">AAECAwQF</content>
  <link href="posts/1"/><link href="posts/1"/>
</entry>
<entry>
  <sx:sync id="a-4" updates="1"><sx:history sequence="1" when="2009-04-01T09:00:00Z" by="laptop"/></sx:sync>
  <title>Same href, bare then with hreflang</title>
  <link href="posts/1"/><link rel="alternate" href="posts/1" hreflang="fr"/>
  <link href="posts/2"/><link href="posts/2" type="text/html" title="Two"/><link href="posts/2" hreflang="de"/>
</entry>
</feed>`,
	"rss": `<rss version="2.0" xmlns:sx="http://feedsync.org/2007/feedsync" xmlns:content="http://purl.org/rss/1.0/modules/content/" xmlns:media="http://search.yahoo.com/mrss/"><channel><title>t</title>
<item xml:lang="de">
  <sx:sync id="r-1" updates="1"><sx:history sequence="1" when="2009-04-01T09:00:00Z" by="laptop"/></sx:sync>
  <title>Buy stamps &amp; envelopes</title>
  <description><![CDATA[<p>Ten <i>first-class</i></p>]]></description>
  <content:encoded>&lt;p&gt;if a&amp;lt;b&lt;/p&gt;</content:encoded>
  <link>http://example.org/1</link>
  <guid>http://example.org/1</guid>
  <category domain="urn:tags">errands</category>
  <category>shopping</category>
  <enclosure url="http://example.org/1.mp3" length="123" type="audio/mpeg"/>
  <media:thumbnail url="http://example.org/1.png" xml:lang="de"/>
  <pubDate>Wed, 01 Apr 2009 09:00:00 GMT</pubDate>
  <author>ann@example.org (Ann)</author>
  <comments>http://example.org/1#comments</comments>
</item>
<item>
  <sx:sync id="r-2" updates="1"><sx:history sequence="1" when="2009-04-01T09:00:00Z" by="laptop"/></sx:sync>
  <description>plain words</description>
  <pubDate>Wed, 01 Apr 2009 09:00:00 +0000</pubDate>
</item>
</channel></rss>`,
}

func convertOrFail(t *testing.T, it *Item, f Format) *Item {
	t.Helper()
	c, err := ConvertItem(it, f)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func marshalOrFail(t *testing.T, it *Item) string {
	t.Helper()
	b, err := MarshalItem(it)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// TestConvertRoundTrip (FS-FEED-10, §17 A-18, issue 9 points 2 and 3):
// converting to the other format and back gives the payload again (same
// digest), and every further round trip gives the same bytes as the first,
// so that endpoints of either format hold one payload per version and
// format. One published, one pubDate, whatever the number of hops.
func TestConvertRoundTrip(t *testing.T) {
	for name, feed := range convertFixtures {
		_, items, err := readString(feed)
		if err != nil {
			t.Fatal(err)
		}
		for _, it := range items {
			t.Run(name+"/"+it.ID(), func(t *testing.T) {
				other := Atom
				if it.Format() == Atom {
					other = RSS
				}
				c1 := convertOrFail(t, it, other)
				back := convertOrFail(t, c1, it.Format())
				d0, _ := it.Digest()
				if d, _ := back.Digest(); d != d0 {
					t.Errorf("round trip changed the payload:\n%s\nto\n%s\nthrough\n%s", marshalOrFail(t, it), marshalOrFail(t, back), marshalOrFail(t, c1))
				}
				// Bytes settle after the first round trip.
				x, y := c1, back
				for hop := 0; hop < 4; hop++ {
					x2 := convertOrFail(t, y, other)
					y2 := convertOrFail(t, x2, it.Format())
					if a, b := marshalOrFail(t, x2), marshalOrFail(t, x); a != b {
						t.Fatalf("hop %d: %v bytes changed:\n%s\nthen\n%s", hop, other, b, a)
					}
					if a, b := marshalOrFail(t, y2), marshalOrFail(t, y); a != b {
						t.Fatalf("hop %d: %v bytes changed:\n%s\nthen\n%s", hop, it.Format(), b, a)
					}
					x, y = x2, y2
				}
				rss, atom := marshalOrFail(t, c1), marshalOrFail(t, it)
				if other == Atom {
					rss, atom = atom, rss
				}
				if n := strings.Count(rss, "<pubDate"); n > 1 {
					t.Errorf("%d pubDate elements in the RSS item:\n%s", n, rss)
				}
				if n := strings.Count(atom, "published>") / 2; n > 1 {
					t.Errorf("%d published elements in the Atom entry:\n%s", n, atom)
				}
			})
		}
	}
}

// TestConvertKeepsMeaning (FS-FEED-10, FS-TYPE-1, issue 9 point 3): text
// stays text and markup stays markup. An Atom text title or summary with
// '<' and '&' reads as the same text in RSS (the description as escaped
// HTML); an html title reads as its text; xhtml content becomes its HTML.
func TestConvertKeepsMeaning(t *testing.T) {
	_, items, err := readString(convertFixtures["atom"])
	if err != nil {
		t.Fatal(err)
	}
	const text = "if a<b && c>d then <b>bold</b>"
	child := func(e *Item, tag string) string {
		p, err := e.Payload()
		if err != nil {
			t.Fatal(err)
		}
		for _, c := range p.ChildElements() {
			if c.Tag == tag && c.Space == "" {
				return c.Text()
			}
		}
		t.Fatalf("no <%s> in\n%s", tag, marshalOrFail(t, e))
		return ""
	}
	r1 := convertOrFail(t, items[0], RSS)
	if got := child(r1, "title"); got != text {
		t.Errorf("RSS title %q, want %q", got, text)
	}
	if got := htmlText(child(r1, "description")); got != `it's "quoted" & plain` {
		t.Errorf("RSS description shows %q, want the Atom summary's text", got)
	}
	r2 := convertOrFail(t, items[1], RSS)
	if got := child(r2, "title"); got != "AT&T news" {
		t.Errorf("RSS title of an html title %q, want its text %q", got, "AT&T news")
	}
	p, _ := r1.Payload()
	var encoded string
	for _, c := range p.ChildElements() {
		if c.Tag == "encoded" {
			encoded = c.Text()
		}
	}
	if encoded != "Buy <b>stamps</b> &amp; <i>envelopes</i>" {
		t.Errorf("content:encoded of xhtml content = %q", encoded)
	}
	// Back in Atom, the title is a text construct again.
	a := convertOrFail(t, r1, Atom)
	ap, _ := a.Payload()
	if ti := ap.SelectElement("title"); ti == nil || ti.SelectAttr("type") != nil || ti.Text() != text {
		t.Errorf("title back in Atom:\n%s", marshalOrFail(t, a))
	}
}

// TestCheckSharing (FS-SHARING-2, FS-RELATED-1, issue 9 point 6): what the
// spec requires of sx:sharing is reported as a violation (ErrViolation),
// which a validator counts as an error; a reader keeps the element.
func TestCheckSharing(t *testing.T) {
	tests := []struct {
		name string
		s    *Sharing
		want int
	}{
		{"both", &Sharing{Since: "a", Until: "b"}, 0},
		{"neither", &Sharing{}, 0},
		{"since alone", &Sharing{Since: "a"}, 1},
		{"until alone", &Sharing{Until: "b"}, 1},
		{"absolute link", &Sharing{Related: []Related{{Link: "http://example.org/all.xml", Type: RelatedComplete}}}, 0},
		{"relative link", &Sharing{Related: []Related{{Link: "all.xml", Type: RelatedComplete}}}, 1},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got := CheckSharing(tc.s)
			if len(got) != tc.want {
				t.Fatalf("CheckSharing = %v, want %d problems", got, tc.want)
			}
			for _, err := range got {
				if !errors.Is(err, ErrViolation) {
					t.Errorf("%v does not wrap ErrViolation", err)
				}
			}
		})
	}
	// A related element of another namespace is not sx:related (FS-NS-1).
	h, _, err := readString(`<rss xmlns:sx="http://feedsync.org/2007/feedsync" xmlns:x="urn:x"><channel><sx:sharing><x:related link="http://example.org/a" type="complete"/></sx:sharing></channel></rss>`)
	if err != nil {
		t.Fatal(err)
	}
	if len(h.Sharing.Related) != 0 || len(h.Warnings()) != 1 || !errors.Is(h.Warnings()[0], ErrViolation) {
		t.Errorf("x:related read as %v, warnings %v", h.Sharing.Related, h.Warnings())
	}
}

// readString is ReadAll on a string.
func readString(s string) (*Header, []*Item, error) { return ReadAll(strings.NewReader(s)) }
