package merge

import (
	"testing"

	"github.com/beevik/etree"
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
