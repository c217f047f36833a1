package merge

import (
	"bytes"
	"testing"

	"github.com/beevik/etree"

	"github.com/feedsync/go-feedsync/feedsync"
)

// TestIncomingKeepsXMLBaseAndLang (issue 9 point 4): the xml:base and
// xml:lang in force in the incoming feed go onto each incoming entry when it
// leaves that feed for the local one, so that its relative links resolve
// against the same base and its text keeps its language. An entry's own
// relative xml:base is resolved against the feed's.
func TestIncomingKeepsXMLBaseAndLang(t *testing.T) {
	incoming := `<feed xmlns="http://www.w3.org/2005/Atom" xmlns:sx="http://feedsync.org/2007/feedsync" xml:base="http://example.org/blog/" xml:lang="fr">
<title>in</title><id>urn:in</id><updated>2009-04-01T09:00:00Z</updated>
<entry><id>urn:e:1</id><title>Un</title><updated>2009-04-01T09:00:00Z</updated><link href="posts/1"/>
<sx:sync id="e-1" updates="1"><sx:history sequence="1" by="a"/></sx:sync></entry>
<entry xml:base="archive/" xml:lang="de"><id>urn:e:2</id><title>Zwei</title><updated>2009-04-01T09:00:00Z</updated><link href="2"/>
<sx:sync id="e-2" updates="1"><sx:history sequence="1" by="a"/></sx:sync></entry>
</feed>`
	for _, local := range []string{
		`<feed xmlns="http://www.w3.org/2005/Atom" xmlns:sx="http://feedsync.org/2007/feedsync" xml:base="http://other.example/"><title>l</title><id>urn:l</id><updated>2009-04-01T09:00:00Z</updated></feed>`,
		`<rss version="2.0" xmlns:sx="http://feedsync.org/2007/feedsync"><channel><title>l</title></channel></rss>`,
	} {
		out, _ := mergeBytes(t, []byte(local), []byte(incoming), Options{})
		doc := etree.NewDocument()
		if err := doc.ReadFromBytes(out); err != nil {
			t.Fatal(err)
		}
		want := map[string][2]string{
			"Un":   {"http://example.org/blog/", "fr"},
			"Zwei": {"http://example.org/blog/archive/", "de"},
		}
		n := 0
		for _, e := range doc.FindElements("//*[title]") {
			w, ok := want[e.SelectElement("title").Text()]
			if !ok || (e.Tag != "entry" && e.Tag != "item") {
				continue
			}
			n++
			if got := e.SelectAttrValue("xml:base", ""); got != w[0] {
				t.Errorf("%s: xml:base %q, want %q\n%s", e.SelectElement("title").Text(), got, w[0], out)
			}
			if got := e.SelectAttrValue("xml:lang", ""); got != w[1] {
				t.Errorf("%s: xml:lang %q, want %q\n%s", e.SelectElement("title").Text(), got, w[1], out)
			}
		}
		if n != 2 {
			t.Errorf("found %d of the 2 items in\n%s", n, out)
		}
		// Merging the same feed again changes nothing (FS-MERGE-14).
		if again, sum := mergeBytes(t, out, []byte(incoming), Options{}); sum.Changed() || string(again) != string(out) {
			t.Errorf("second merge: %v", sum)
		}
	}
}

// TestItemWithoutLanguageKeepsNone (feedsync.Enter; issue 9, feeds that
// disagree on xml:lang): an item without a language, made in a feed that
// sets none, says xml:lang="" in feeds that set one, so it is never read as
// French or German there; in a feed without one it says nothing. Carried
// around feeds of both formats and back (Feeds, and Run into a feed given
// as Options.Into), it settles: merging again changes nothing, and
// everywhere it is an item without a language.
func TestItemWithoutLanguageKeepsNone(t *testing.T) {
	feeds := map[string][]byte{
		"none": []byte(`<rss version="2.0" xmlns:sx="http://feedsync.org/2007/feedsync"><channel><title>none</title>
<item><title>Buy milk</title><sx:sync id="milk" updates="1"><sx:history sequence="1" by="a"/></sx:sync></item>
</channel></rss>`),
		"fr": []byte(`<feed xmlns="http://www.w3.org/2005/Atom" xmlns:sx="http://feedsync.org/2007/feedsync" xml:lang="fr"><title>fr</title><id>urn:fr</id><updated>2009-04-01T09:00:00Z</updated></feed>`),
		"de": []byte(`<rss version="2.0" xmlns:sx="http://feedsync.org/2007/feedsync" xml:lang="de"><channel><title>de</title></channel></rss>`),
	}
	lang := func(feed []byte) (string, bool) {
		t.Helper()
		_, items, err := feedsync.ReadAll(bytes.NewReader(feed))
		if err != nil || len(items) != 1 {
			t.Fatalf("%d items, %v", len(items), err)
		}
		p, err := feedsync.Carry(items[0]).Payload()
		if err != nil {
			t.Fatal(err)
		}
		a := p.SelectAttr("xml:lang")
		if a == nil {
			return "", false
		}
		return a.Value, true
	}
	run := func(dst, src string) bool {
		h, items, err := feedsync.ReadAll(bytes.NewReader(feeds[dst]))
		if err != nil {
			t.Fatal(err)
		}
		mem := NewMemoryLocal(items...)
		sum, err := Run(t.Context(), mem, feedsync.NewReader(bytes.NewReader(feeds[src])), Options{Format: h.Format, Into: h})
		if err != nil {
			t.Fatal(err)
		}
		var buf bytes.Buffer
		if err := feedsync.WriteAll(&buf, h, mem.Items()); err != nil {
			t.Fatal(err)
		}
		feeds[dst] = buf.Bytes()
		return sum.Changed()
	}
	merge := func(dst, src string) bool {
		out, sum := mergeBytes(t, feeds[dst], feeds[src], Options{})
		feeds[dst] = out
		return sum.Changed()
	}
	merge("fr", "none")
	run("de", "fr")
	for _, name := range []string{"fr", "de"} {
		if v, ok := lang(feeds[name]); !ok || v != "" {
			t.Errorf("in %s the item reads with xml:lang %q (set: %v), want \"\": it has no language\n%s", name, v, ok, feeds[name])
		}
	}
	// Back and forth: nothing changes any more, and the feed without a
	// language holds it without the attribute.
	for round := range 2 {
		for _, m := range [][2]string{{"none", "fr"}, {"none", "de"}, {"fr", "de"}, {"de", "none"}, {"fr", "none"}} {
			if merge(m[0], m[1]) || run(m[0], m[1]) {
				t.Errorf("round %d: %s ← %s changed the item", round, m[0], m[1])
			}
		}
	}
	if _, ok := lang(feeds["none"]); ok || bytes.Contains(feeds["none"], []byte("xml:lang")) {
		t.Errorf("the feed without a language holds:\n%s", feeds["none"])
	}
	if !bytes.Contains(feeds["fr"], []byte(`<entry xml:lang=""`)) {
		t.Errorf("the fr feed holds:\n%s", feeds["fr"])
	}
}

// TestCarriedConflictCopySettles (FS-MERGE-14, FS-FEED-10, A-18; found by
// TestPayloadsSurviveMeshes): a conflict copy that takes the xml:base of
// the item holding it has one form at every RSS endpoint, whether it was
// carried before or after its conversion from Atom (which adds
// fsc:missing). Here p1 keeps p2's entry, without a base, as a copy inside
// p3's tombstone, which has one: carried out of p1 the copy takes the
// base; p2 holds it in Atom, p3 in RSS. When the RSS forms differed, p1
// took p2's and then p3's on every round and never settled.
func TestCarriedConflictCopySettles(t *testing.T) {
	for _, viaRun := range []bool{false, true} {
		feeds := map[string][]byte{
			"p1": []byte(`<rss version="2.0" xmlns:sx="http://feedsync.org/2007/feedsync"><channel><title>p1</title></channel></rss>`),
			"p2": []byte(`<feed xmlns="http://www.w3.org/2005/Atom" xmlns:sx="http://feedsync.org/2007/feedsync"><title>p2</title><id>urn:p2</id><updated>2009-04-01T09:00:00Z</updated>
<entry><title type="text">Buy milk</title><link href="posts/2"/><sx:sync id="item-1" updates="2"><sx:history sequence="2" when="2009-04-01T09:00:00Z" by="p2"/><sx:history sequence="1" when="2009-04-01T09:00:00Z" by="p2"/></sx:sync></entry></feed>`),
			"p3": []byte(`<rss version="2.0" xmlns:sx="http://feedsync.org/2007/feedsync"><channel><title>p3</title>
<item xml:base="http://example.org/blog/"><title>Buy milk</title><link>posts/1</link><sx:sync id="item-1" updates="2" deleted="true"><sx:history sequence="2" when="2009-04-01T09:01:00Z" by="p3"/><sx:history sequence="1" when="2009-04-01T09:00:00Z" by="p2"/></sx:sync></item></channel></rss>`),
		}
		merge := func(dst, src string) string {
			if !viaRun {
				out, sum := mergeBytes(t, feeds[dst], feeds[src], Options{})
				feeds[dst] = out
				if sum.Changed() {
					return dst + " ← " + src + ": " + sum.String()
				}
				return ""
			}
			h, items, err := feedsync.ReadAll(bytes.NewReader(feeds[dst]))
			if err != nil {
				t.Fatal(err)
			}
			mem := NewMemoryLocal(items...)
			sum, err := Run(t.Context(), mem, feedsync.NewReader(bytes.NewReader(feeds[src])), Options{Format: h.Format, Into: h})
			if err != nil {
				t.Fatal(err)
			}
			var buf bytes.Buffer
			if err := feedsync.WriteAll(&buf, h, mem.Items()); err != nil {
				t.Fatal(err)
			}
			feeds[dst] = buf.Bytes()
			if sum.Changed() {
				return dst + " ← " + src + ": " + sum.String()
			}
			return ""
		}
		settled := false
		for round := 0; round < 5 && !settled; round++ {
			var changed []string
			for _, m := range [][2]string{{"p1", "p2"}, {"p1", "p3"}, {"p2", "p1"}, {"p3", "p1"}} {
				if c := merge(m[0], m[1]); c != "" {
					changed = append(changed, c)
				}
			}
			settled = len(changed) == 0
			if round == 4 && !settled {
				t.Errorf("via Run %v: still changing after 5 rounds: %v\np1:\n%s\np3:\n%s", viaRun, changed, feeds["p1"], feeds["p3"])
			}
		}
		if settled && !bytes.Equal(itemBytes(t, feeds["p1"]), itemBytes(t, feeds["p3"])) {
			t.Errorf("via Run %v: p1 and p3 hold different items:\n%s\n%s", viaRun, feeds["p1"], feeds["p3"])
		}
	}
}

// itemBytes returns the first item element of an RSS feed as written.
func itemBytes(t *testing.T, feed []byte) []byte {
	t.Helper()
	i, j := bytes.Index(feed, []byte("<item")), bytes.LastIndex(feed, []byte("</item>"))
	if i < 0 || j < i {
		t.Fatalf("no item in\n%s", feed)
	}
	return feed[i:j]
}
