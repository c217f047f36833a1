package main

import (
	"strings"
	"testing"

	"github.com/beevik/etree"

	"github.com/feedsync/go-feedsync/feedsync"
)

// richAtom is an Atom feed whose entry holds what a field cannot describe:
// xhtml, html and text constructs, content by reference and in base64,
// several alternate links with hreflang, categories, a foreign extension,
// xml:lang and xml:base, CDATA and entities. sx:sync comes first.
const richAtom = `<?xml version="1.0" encoding="UTF-8"?>
<feed xmlns="http://www.w3.org/2005/Atom" xmlns:sx="http://feedsync.org/2007/feedsync" xmlns:ext="urn:example:ext" xml:lang="en" xml:base="http://example.org/blog/">
<title>rich</title><id>urn:feed:rich</id><updated>2009-04-01T09:00:00Z</updated>
<entry xml:lang="fr">
  <sx:sync id="rich-1" updates="1"><sx:history sequence="1" when="2009-04-01T09:00:00Z" by="laptop"/></sx:sync>
  <id>urn:entry:rich-1</id>
  <title type="xhtml"><div xmlns="http://www.w3.org/1999/xhtml">Buy <b>stamps</b></div></title>
  <updated>2009-04-01T09:00:00Z</updated>
  <summary type="xhtml"><div xmlns="http://www.w3.org/1999/xhtml"><p>Ten <i>first-class</i></p></div></summary>
  <content type="html"><![CDATA[<p>if a<b && c>d then <b>bold</b></p>]]></content>
  <link rel="alternate" href="posts/1" hreflang="fr"/>
  <link rel="alternate" href="posts/1.en" hreflang="en" type="text/html"/>
  <category term="errands" scheme="urn:tags"/>
  <ext:priority level="2">high &amp; urgent</ext:priority>
</entry>
<entry>
  <id>urn:entry:rich-2</id>
  <title type="html">AT&amp;amp;T &lt;b&gt;news&lt;/b&gt;</title>
  <updated>2009-04-01T09:00:00Z</updated>
  <content src="http://example.org/media/2.mp3" type="audio/mpeg"/>
  <sx:sync id="rich-2" updates="1"><sx:history sequence="1" when="2009-04-01T09:00:00Z" by="laptop"/></sx:sync>
</entry>
<entry>
  <id>urn:entry:rich-3</id>
  <title>plain &lt;text&gt;</title>
  <updated>2009-04-01T09:00:00Z</updated>
  <content type="application/octet-stream">AAECAwQF</content>
  <sx:sync id="rich-3" updates="1"><sx:history sequence="1" when="2009-04-01T09:00:00Z" by="laptop"/></sx:sync>
</entry>
</feed>
`

// richRSS is an RSS feed with the same kinds of payload.
const richRSS = `<?xml version="1.0" encoding="UTF-8"?>
<rss version="2.0" xmlns:sx="http://feedsync.org/2007/feedsync" xmlns:content="http://purl.org/rss/1.0/modules/content/" xmlns:media="http://search.yahoo.com/mrss/">
<channel><title>rich</title><link>http://example.org/</link><description>d</description>
<item>
  <sx:sync id="rich-1" updates="1"><sx:history sequence="1" when="2009-04-01T09:00:00Z" by="laptop"/></sx:sync>
  <title>Buy stamps &amp; envelopes</title>
  <description><![CDATA[<p>Ten <i>first-class</i></p>]]></description>
  <content:encoded>&lt;p&gt;if a&amp;lt;b&lt;/p&gt;</content:encoded>
  <link>http://example.org/1</link>
  <category domain="urn:tags">errands</category>
  <category>shopping</category>
  <enclosure url="http://example.org/1.mp3" length="123" type="audio/mpeg"/>
  <media:thumbnail url="http://example.org/1.png" xml:lang="de"/>
  <pubDate>Wed, 01 Apr 2009 09:00:00 GMT</pubDate>
</item>
</channel></rss>
`

// childStrings returns each child element of a payload as written, the
// Atom updated element left out, and the order of the child names.
func childStrings(t *testing.T, it *feedsync.Item) (map[string]bool, string) {
	t.Helper()
	p, err := payloadOf(it)
	if err != nil {
		t.Fatal(err)
	}
	set := map[string]bool{}
	var names []string
	for _, c := range p.ChildElements() {
		names = append(names, c.FullTag())
		if c.Tag == "updated" {
			continue
		}
		var b strings.Builder
		c.WriteTo(&b, &etree.WriteSettings{CanonicalText: true, CanonicalAttrVal: true})
		set[b.String()] = true
	}
	for _, a := range p.Attr {
		set["@"+a.FullKey()+"="+a.Value] = true
	}
	return set, strings.Join(names, " ")
}

// TestUpdateKeepsPayload (FS-TYPE-1, FS-UPDATE-6, issue 9 point 1): update
// --set of a field changes that field's element and nothing else, in both
// formats, and an undelete (FS-UPDATE-5) too. sx:sync stays where it was
// (FS-NS-4, issue 9 point 5).
func TestUpdateKeepsPayload(t *testing.T) {
	for _, tc := range []struct {
		name, feed string
		ids        []string
	}{
		{"atom", richAtom, []string{"rich-1", "rich-2", "rich-3"}},
		{"rss", richRSS, []string{"rich-1"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			h := newHarness(t)
			h.write("f.xml", tc.feed)
			before := h.items("f.xml")
			for _, id := range tc.ids {
				h.ok("", "update", "f.xml", "--id", id, "--by", "phone", "--set", "done=yes")
			}
			// An undelete goes through the same edit.
			h.ok("", "delete", "f.xml", "--id", tc.ids[0], "--by", "phone")
			h.ok("", "update", "f.xml", "--id", tc.ids[0], "--by", "phone", "--set", "done=again")
			after := h.items("f.xml")
			for _, id := range tc.ids {
				old, oldOrder := childStrings(t, before[id])
				now, nowOrder := childStrings(t, after[id])
				for s := range old {
					if !now[s] {
						t.Errorf("%s: lost or changed after update --set done: %s", id, s)
					}
				}
				if want := oldOrder + " f:done"; nowOrder != want {
					t.Errorf("%s: children %q, want %q", id, nowOrder, want)
				}
			}
			// sx:sync stays first where it was first.
			out := h.read("f.xml")
			i := strings.Index(out, "<sx:sync id=\""+tc.ids[0])
			start := max(strings.LastIndex(out[:max(i, 0)], "<entry"), strings.LastIndex(out[:max(i, 0)], "<item"))
			if i < 0 || start < 0 || strings.Count(out[start:i], "<") != 1 {
				t.Errorf("sx:sync of %s is no longer the first child:\n%s", tc.ids[0], out)
			}
		})
	}
}
