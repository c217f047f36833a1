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
