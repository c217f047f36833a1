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

// TestEnterUnparsedMatchesParsed: Enter decides from an item's source bytes
// whether it needs its payload parsed (an item without xml:lang, entering
// a feed without a language, needs nothing). Whether or not the payload was
// parsed before, it gives the same item, conflict copies included; and it
// returns an item that needs nothing as it is, without parsing it, which
// is what keeps the merge of large feeds cheap.
func TestEnterUnparsedMatchesParsed(t *testing.T) {
	const sx = `xmlns:sx="http://feedsync.org/2007/feedsync"`
	copyOf := func(attrs string) string {
		return `<sx:conflicts><item` + attrs + `><title>old</title><sx:sync id="a" updates="1"><sx:history sequence="1" by="b"/></sx:sync></item></sx:conflicts>`
	}
	item := func(attrs, text, copies string) string {
		return `<item` + attrs + `><title>` + text + `</title><sx:sync id="a" updates="2"><sx:history sequence="2" by="a"/><sx:history sequence="1" by="a"/>` + copies + `</sx:sync></item>`
	}
	items := map[string]string{
		"plain":                item("", "Milk", ""),
		"lang fr":              item(` xml:lang="fr"`, "Lait", ""),
		"lang empty":           item(` xml:lang=""`, "Milk", ""),
		"lang empty not first": item(` a="1" xml:lang=""`, "Milk", ""),
		"name in text only":    item("", "set xml:lang to fr", ""),
		"copy plain":           item("", "Milk", copyOf("")),
		"copy lang empty":      item("", "Milk", copyOf(` xml:lang=""`)),
		"copy lang de":         item(` xml:lang=""`, "Milk", copyOf(` xml:lang="de"`)),
	}
	feeds := map[string]string{
		"no language": `<rss version="2.0" ` + sx + `><channel><title>t</title>%s</channel></rss>`,
		"language":    `<rss version="2.0" ` + sx + ` xml:lang="en"><channel><title>t</title>%s</channel></rss>`,
		"empty":       `<rss version="2.0" ` + sx + ` xml:lang=""><channel><title>t</title>%s</channel></rss>`,
	}
	read := func(feed string) (*Header, *Item) {
		t.Helper()
		h, got, err := ReadAll(strings.NewReader(feed))
		if err != nil || len(got) != 1 {
			t.Fatalf("%d items, %v\n%s", len(got), err, feed)
		}
		return h, got[0]
	}
	for iname, it := range items {
		for fname, into := range feeds {
			// Read from a feed without a language, so Carry adds none.
			_, fast := read(strings.Replace(feeds["no language"], "%s", it, 1))
			_, slow := read(strings.Replace(feeds["no language"], "%s", it, 1))
			if _, err := slow.payload(); err != nil {
				t.Fatal(err)
			}
			h, _ := read(strings.Replace(into, "%s", item("", "x", ""), 1))
			a, err := MarshalItem(Enter(fast, h))
			if err != nil {
				t.Fatal(err)
			}
			b, err := MarshalItem(Enter(slow, h))
			if err != nil {
				t.Fatal(err)
			}
			if string(a) != string(b) {
				t.Errorf("%s into a feed with %s: unparsed gives\n%s\nparsed gives\n%s", iname, fname, a, b)
			}
		}
	}

	h, _ := read(strings.Replace(feeds["no language"], "%s", item("", "x", ""), 1))
	_, it := read(strings.Replace(feeds["no language"], "%s", items["copy plain"], 1))
	allocs := testing.AllocsPerRun(10, func() {
		if got := Enter(it, h); got != it {
			t.Fatal("Enter changed an item that needs nothing")
		}
	})
	if allocs != 0 || it.elem != nil || it.Sync.Conflicts[0].elem != nil {
		t.Errorf("Enter of an item that needs nothing: %v allocations, payload parsed: %v", allocs, it.elem != nil)
	}
}
