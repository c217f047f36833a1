package feedsync

import (
	"strings"
	"testing"
)

// TestCarryGivesOneForm (FS-FEED-10, A-18, FS-MERGE-14): the xml:lang and
// xml:base an item takes from its feed go first, lang then base, whichever
// way it came there. An Atom entry carried out of a feed with both and
// then converted to RSS, and the same entry converted first (ConvertItem
// adds fsc:missing) and carried out of an RSS feed with both, end with the
// same payload: otherwise endpoints that received it by the two paths
// keep taking each other's version of it and never settle.
func TestCarryGivesOneForm(t *testing.T) {
	const attrs = ` xml:base="http://example.org/blog/" xml:lang="fr"`
	entry := `<entry ext:mark="1" xmlns:ext="urn:example:ext"><title>Lait</title><link href="posts/1"/>` +
		`<sx:sync id="milk" updates="1"><sx:history sequence="1" by="a"/></sx:sync></entry>`
	atomFeed := func(attrs string) string {
		return `<feed xmlns="http://www.w3.org/2005/Atom" xmlns:sx="http://feedsync.org/2007/feedsync"` + attrs +
			`><title>t</title><id>urn:t</id><updated>2009-04-01T09:00:00Z</updated>` + entry + `</feed>`
	}
	only := func(feed string) *Item {
		t.Helper()
		_, items, err := ReadAll(strings.NewReader(feed))
		if err != nil || len(items) != 1 {
			t.Fatalf("%d items, %v\n%s", len(items), err, feed)
		}
		return items[0]
	}
	convert := func(it *Item) *Item {
		t.Helper()
		c, err := ConvertItem(it, RSS)
		if err != nil {
			t.Fatal(err)
		}
		return c
	}
	attrsOf := func(it *Item) []string {
		t.Helper()
		p, err := it.Payload()
		if err != nil {
			t.Fatal(err)
		}
		var keys []string
		for _, a := range p.Attr {
			if !isXMLNS(a.Space, a.Key) {
				keys = append(keys, a.FullKey())
			}
		}
		return keys
	}

	// Carried, then converted.
	a := convert(Carry(only(atomFeed(attrs))))
	// Converted where nothing was in force, held in an RSS feed with both,
	// then carried out of it.
	b, err := MarshalItem(convert(only(atomFeed(""))))
	if err != nil {
		t.Fatal(err)
	}
	rss := `<rss version="2.0" xmlns:sx="http://feedsync.org/2007/feedsync"><channel` + attrs + `><title>t</title>` + string(b) + `</channel></rss>`
	c := Carry(only(rss))

	want := "xml:lang xml:base ext:mark fsc:missing"
	for name, it := range map[string]*Item{"carried then converted": a, "converted then carried": c} {
		if got := strings.Join(attrsOf(it), " "); got != want {
			m, _ := MarshalItem(it)
			t.Errorf("%s: attributes %s, want %s\n%s", name, got, want, m)
		}
	}
	da, _ := a.Digest()
	dc, _ := c.Digest()
	if da != dc {
		ma, _ := MarshalItem(a)
		mc, _ := MarshalItem(c)
		t.Errorf("the two paths give different payloads:\n%s\n%s", ma, mc)
	}

	// An item that needs nothing keeps its bytes, attribute order and all.
	own := only(`<rss version="2.0" xmlns:sx="http://feedsync.org/2007/feedsync"><channel><title>t</title>` +
		`<item ext:mark="1" xml:base="http://example.org/" xmlns:ext="urn:example:ext"><title>x</title>` +
		`<sx:sync id="x" updates="1"><sx:history sequence="1" by="a"/></sx:sync></item></channel></rss>`)
	if got := Carry(own); got != own {
		t.Errorf("Carry changed an item that needs nothing")
	}
	if got := strings.Join(attrsOf(Carry(own)), " "); got != "ext:mark xml:base" {
		t.Errorf("own attributes reordered: %s", got)
	}
}
