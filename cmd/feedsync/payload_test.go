package main

import (
	"encoding/json"
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

// TestValidateConstraints (issue 9 point 6): violations of what the spec
// requires are errors (exit 1), not warnings: a lone since or until
// (FS-SHARING-2), a relative sx:related link (FS-RELATED-1), a related
// element in a foreign namespace inside sx:sharing (FS-NS-1), and a topmost
// sequence above updates (FS-SYNC-7; merging still tolerates it,
// FS-ROBUST-2).
func TestValidateConstraints(t *testing.T) {
	const item = `<item><sx:sync id="ok-1" updates="1"><sx:history sequence="1" by="a"/></sx:sync></item>`
	tests := []struct {
		name, feed, want string
	}{
		{"FS-SHARING-2 lone since", `<rss xmlns:sx="http://feedsync.org/2007/feedsync"><channel><sx:sharing since="2009-04-01T00:00:00Z"/>` + item + `</channel></rss>`,
			`since without until (FS-SHARING-2)`},
		{"FS-SHARING-2 lone until", `<rss xmlns:sx="http://feedsync.org/2007/feedsync"><channel><sx:sharing until="2009-04-01T00:00:00Z"/>` + item + `</channel></rss>`,
			`until without since (FS-SHARING-2)`},
		{"FS-RELATED-1 relative link", `<rss xmlns:sx="http://feedsync.org/2007/feedsync"><channel><sx:sharing><sx:related link="complete.xml" type="complete"/></sx:sharing>` + item + `</channel></rss>`,
			`sx:related link "complete.xml" is not an absolute URI (FS-RELATED-1)`},
		{"FS-NS-1 related in a foreign namespace", `<rss xmlns:sx="http://feedsync.org/2007/feedsync" xmlns:x="urn:x"><channel><sx:sharing><x:related link="http://example.org/all.xml" type="complete"/></sx:sharing>` + item + `</channel></rss>`,
			`{urn:x}related inside sx:sharing is not sx:related (FS-NS-1)`},
		{"FS-SYNC-7 topmost sequence above updates", `<rss xmlns:sx="http://feedsync.org/2007/feedsync"><channel><item><sx:sync id="ahead" updates="2"><sx:history sequence="3" by="a"/></sx:sync></item></channel></rss>`,
			`item "ahead" (line 1): topmost sequence 3 differs from updates 2 (FS-SYNC-7, FS-ROBUST-2)`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			h := newHarness(t)
			h.write("f.xml", tc.feed)
			r := h.fails(exitProblem, []string{tc.want, "1 error, 0 warnings"}, "validate", "f.xml")
			if strings.Contains(r.stderr, "warning: ") {
				t.Errorf("reported as a warning:\n%s", r.stderr)
			}
		})
	}
	// The merge tolerates what validate rejects (FS-ROBUST-2): the item is
	// merged.
	h := newHarness(t)
	h.write("f.xml", tests[len(tests)-1].feed)
	h.write("local.xml", `<rss xmlns:sx="http://feedsync.org/2007/feedsync"><channel><title>l</title></channel></rss>`)
	h.ok("", "merge", "local.xml", "f.xml", "-o", "local.xml")
	if it := h.items("local.xml")["ahead"]; it == nil {
		t.Error("the merge left out an item whose topmost sequence is above updates")
	}
}

// TestShowMarksUnreadable (issue 9 point 6): show marks values it cannot
// represent instead of printing 0 or dropping them, as text and as JSON.
func TestShowMarksUnreadable(t *testing.T) {
	h := newHarness(t)
	h.write("f.xml", `<rss xmlns:sx="http://feedsync.org/2007/feedsync"><channel>
<item><title>bad</title><sx:sync id="bad-1" updates="-3"><sx:history sequence="x" when="yesterday" by="a"/></sx:sync></item>
</channel></rss>`)
	r := h.ok("", "show", "f.xml")
	for _, want := range []string{`updates="-3" (invalid)`, `sequence="x" (invalid)`, `when="yesterday" (invalid)`} {
		if !strings.Contains(r.stdout, want) {
			t.Errorf("show does not say %s:\n%s", want, r.stdout)
		}
	}
	if strings.Contains(r.stdout, "updates=0") {
		t.Errorf("show prints updates=0 for updates=\"-3\":\n%s", r.stdout)
	}
	r = h.ok("", "show", "f.xml", "--json")
	var got []itemInfo
	if err := json.Unmarshal([]byte(r.stdout), &got); err != nil {
		t.Fatalf("%v\n%s", err, r.stdout)
	}
	if len(got) != 1 || got[0].Invalid["updates"] != "-3" || len(got[0].History) != 1 ||
		got[0].History[0].Invalid["when"] != "yesterday" || got[0].History[0].Invalid["sequence"] != "x" {
		t.Errorf("show --json does not mark the values:\n%s", r.stdout)
	}
}

// TestProducePartialNamesCompleteFeed (FS-FEED-2, FS-RELATED-1, issue 9
// point 7): a partial feed from produce --store --since carries an
// sx:related type="complete" pointing at --complete-url, which must be an
// absolute URI; without the flag, produce says the feed is not marked.
func TestProducePartialNamesCompleteFeed(t *testing.T) {
	h := newHarness(t)
	h.copyFixture("e5/laptop.xml", "laptop.xml")
	h.ok("", "merge", "--store", "a.db", "laptop.xml")
	tok := nextToken(t, h.ok("", "produce", "--store", "a.db", "-o", "full.xml").stderr)

	h.ok("", "produce", "--store", "a.db", "--since", tok, "--complete-url", "https://tasks.example.org/full.xml", "-o", "part.xml")
	hd, _, err := feedsync.ReadAll(strings.NewReader(h.read("part.xml")))
	if err != nil {
		t.Fatal(err)
	}
	if hd.Sharing == nil || len(hd.Sharing.Related) != 1 || hd.Sharing.Related[0] != (feedsync.Related{Link: "https://tasks.example.org/full.xml", Type: feedsync.RelatedComplete}) {
		t.Errorf("partial feed's sx:sharing: %+v\n%s", hd.Sharing, h.read("part.xml"))
	}
	h.ok("", "validate", "part.xml")

	r := h.ok("", "produce", "--store", "a.db", "--since", tok, "-o", "part2.xml")
	if !strings.Contains(r.stderr, "--complete-url") {
		t.Errorf("a partial feed without sx:related type=\"complete\" goes unmentioned:\n%s", r.stderr)
	}
	h.fails(exitUsage, []string{"--complete-url", "absolute"}, "produce", "--store", "a.db", "--since", tok, "--complete-url", "full.xml")
	h.fails(exitUsage, []string{"--complete-url needs --store"}, "produce", "data.jsonl", "--complete-url", "https://x/full.xml")
}

// TestVerifyMixedMesh (§17 A-18, FS-FEED-10, issue 9 point 2): the chain
// R1 (RSS) ↔ A (Atom) ↔ R2 (RSS) driven through the CLI, with payloads the
// formats do not map exactly, ends with verify finding the two RSS
// endpoints, and each RSS endpoint and the Atom one, in agreement.
func TestVerifyMixedMesh(t *testing.T) {
	h := newHarness(t)
	h.write("r1.xml", strings.ReplaceAll(richRSS, `id="rich-1"`, `id="rss-1"`))
	h.write("a.xml", richAtom)
	h.write("r2.xml", `<rss version="2.0" xmlns:sx="http://feedsync.org/2007/feedsync"><channel><title>r2</title></channel></rss>`)
	for i := 0; i < 3; i++ {
		for _, m := range [][2]string{{"a.xml", "r1.xml"}, {"r1.xml", "a.xml"}, {"r2.xml", "a.xml"}, {"a.xml", "r2.xml"}} {
			h.ok("", "merge", m[0], m[1], "-o", m[0])
		}
	}
	for _, pair := range [][2]string{{"r1.xml", "r2.xml"}, {"r1.xml", "a.xml"}, {"r2.xml", "a.xml"}} {
		h.ok("", "verify", pair[0], pair[1])
	}
	// And a further round changes nothing.
	before := h.read("r1.xml") + h.read("a.xml") + h.read("r2.xml")
	for _, m := range [][2]string{{"a.xml", "r1.xml"}, {"r1.xml", "a.xml"}, {"r2.xml", "a.xml"}, {"a.xml", "r2.xml"}} {
		h.ok("", "merge", m[0], m[1], "-o", m[0])
	}
	if after := h.read("r1.xml") + h.read("a.xml") + h.read("r2.xml"); after != before {
		t.Error("another round of merges changed the feeds")
	}
}
