package merge

import (
	"bytes"
	"context"
	"flag"
	"fmt"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/beevik/etree"
	"pgregory.net/rapid"

	"github.com/feedsync/go-feedsync/converter"
	"github.com/feedsync/go-feedsync/feedsync"
)

// The payload property (issue 9): rich payloads of both formats, pushed
// through random chains of updates, merges and conversions between
// endpoints of both formats, keep their meaning and converge
// (FS-TYPE-1, FS-FEED-10, §17 A-18, FS-MERGE-14).
//
// Links repeat hrefs: a bare link and then the same href with hreflang
// or type is a second alternate link RSS has no room for (ConvertItem
// keeps it marked separate).
//
// In CI it runs with a fixed seed and a few checks. By hand:
//
//	go test ./merge/ -run TestPayloadsSurviveMeshes -rapid.checks=2000 -rapid.seed=0

// payloadWorld is one run: endpoints with feeds of either format, each
// feed with its own xml:base and xml:lang or none, and for every version
// made the payload as its author wrote it.
type payloadWorld struct {
	t     *rapid.T
	eps   []*pEndpoint
	clock int
	ids   int
	// authored maps a version (versionKey) to the item as its author's
	// feed holds it right after the edit.
	authored map[string]*feedsync.Item
}

type pEndpoint struct {
	by     string
	format feedsync.Format
	feed   []byte
}

var pEpoch = time.Date(2009, 4, 1, 9, 0, 0, 0, time.UTC)

// text draws payload text: plain words, markup characters, entities as
// text, non-ASCII, white space at the ends.
func text(t *rapid.T, label string) string {
	return rapid.SampledFrom([]string{
		"Buy milk", "if a<b && c>d then <b>bold</b>", "AT&T", "café — naïve", "  spaced  ",
		"&amp; &lt;literally&gt;", "quote \" and ' apostrophe", "]]> end of CDATA", "日本語", "x",
	}).Draw(t, label)
}

// htmlText draws HTML: markup, references, CDATA-hostile text.
func htmlText(t *rapid.T, label string) string {
	return rapid.SampledFrom([]string{
		"<p>Ten <i>first-class</i></p>", "plain words", "a &amp; b &lt; c", "<b>bold</b> &#233;t&#233;",
		"<a href=\"x.html\">rel</a>", "two<br/>lines",
	}).Draw(t, label)
}

func esc(s string) string {
	var b strings.Builder
	xmlEscape(&b, s)
	return b.String()
}

func xmlEscape(b *strings.Builder, s string) {
	r := strings.NewReplacer("&", "&amp;", "<", "&lt;", ">", "&gt;", "\"", "&quot;")
	b.WriteString(r.Replace(s))
}

// cdataOrEscaped writes s as element text, in a CDATA section when it can.
func cdataOrEscaped(t *rapid.T, s, label string) string {
	if !strings.Contains(s, "]]>") && rapid.Bool().Draw(t, label) {
		return "<![CDATA[" + s + "]]>"
	}
	return esc(s)
}

// xmlLangAttr draws an xml:lang attribute, or none.
func xmlLangAttr(t *rapid.T, label string) string {
	if rapid.IntRange(0, 2).Draw(t, label+"-lang") == 0 {
		return ` xml:lang="` + rapid.SampledFrom([]string{"fr", "de", "en-GB", ""}).Draw(t, label+"-lang-v") + `"`
	}
	return ""
}

// baseOf returns the xml:base attribute among attrs, or "".
func baseOf(attrs string) string {
	if i := strings.Index(attrs, " xml:base="); i >= 0 {
		return attrs[i:]
	}
	return ""
}

// xmlAttrs draws xml:lang and xml:base for an item or a feed.
func xmlAttrs(t *rapid.T, label string) string {
	a := xmlLangAttr(t, label)
	if rapid.IntRange(0, 2).Draw(t, label+"-base") == 0 {
		a += ` xml:base="` + rapid.SampledFrom([]string{"http://example.org/blog/", "sub/", "https://other.example/x/"}).Draw(t, label+"-base-v") + `"`
	}
	return a
}

// construct draws an Atom text construct element.
func construct(t *rapid.T, tag string) string {
	switch rapid.SampledFrom([]string{"text", "plain", "html", "xhtml"}).Draw(t, tag+"-type") {
	case "text":
		return "<" + tag + ` type="text">` + esc(text(t, tag)) + "</" + tag + ">"
	case "plain":
		return "<" + tag + ">" + esc(text(t, tag)) + "</" + tag + ">"
	case "html":
		return "<" + tag + ` type="html">` + cdataOrEscaped(t, htmlText(t, tag), tag+"-cdata") + "</" + tag + ">"
	}
	return "<" + tag + ` type="xhtml"><div xmlns="http://www.w3.org/1999/xhtml">` + rapid.SampledFrom([]string{
		"Buy <b>stamps</b> &amp; <i>envelopes</i>", "<p>one</p><p>two</p>", "plain",
	}).Draw(t, tag+"-xhtml") + "</div></" + tag + ">"
}

func foreignExt(t *rapid.T) string {
	var b strings.Builder
	for i := rapid.IntRange(0, 2).Draw(t, "ext"); i > 0; i-- {
		b.WriteString(rapid.SampledFrom([]string{
			`<ext:priority xmlns:ext="urn:example:ext" level="2">high &amp; urgent</ext:priority>`,
			`<media:thumbnail xmlns:media="http://search.yahoo.com/mrss/" url="http://example.org/t.png"/>`,
			`<dc:creator xmlns:dc="http://purl.org/dc/elements/1.1/">Ann</dc:creator>`,
			`<geo:lat xmlns:geo="http://www.w3.org/2003/01/geo/wgs84_pos#">51.5</geo:lat>`,
		}).Draw(t, "ext-el"))
	}
	return b.String()
}

// richPayload draws the payload of a new version in format f.
func richPayload(t *rapid.T, f feedsync.Format, n int) string {
	var b strings.Builder
	if f == feedsync.Atom {
		b.WriteString(`<entry xmlns="http://www.w3.org/2005/Atom"` + xmlAttrs(t, "entry") + ">")
		if rapid.Bool().Draw(t, "has-id") {
			fmt.Fprintf(&b, "<id>urn:entry:%d</id>", n)
		}
		b.WriteString(construct(t, "title"))
		if rapid.Bool().Draw(t, "has-updated") {
			b.WriteString("<updated>2009-04-01T09:00:00Z</updated>")
		}
		if rapid.Bool().Draw(t, "has-published") {
			b.WriteString("<published>" + rapid.SampledFrom([]string{"2009-04-01T08:00:00Z", "2009-04-01T10:00:00+02:00"}).Draw(t, "published") + "</published>")
		}
		if rapid.Bool().Draw(t, "has-summary") {
			b.WriteString(construct(t, "summary"))
		}
		switch rapid.IntRange(0, 3).Draw(t, "content") {
		case 1:
			b.WriteString(construct(t, "content"))
		case 2:
			b.WriteString(`<content src="http://example.org/media/1.mp3" type="audio/mpeg"/>`)
		case 3:
			b.WriteString(`<content type="application/octet-stream">AAECAwQF</content>`)
		}
		for i := rapid.IntRange(0, 3).Draw(t, "links"); i > 0; i-- {
			b.WriteString(rapid.SampledFrom([]string{
				`<link href="posts/1"/>`, `<link rel="alternate" href="posts/1.fr" hreflang="fr"/>`,
				`<link rel="alternate" href="posts/1" hreflang="fr"/>`, `<link href="posts/1" type="text/html"/>`,
				`<link rel="alternate" href="http://example.org/1.en" hreflang="en" type="text/html"/>`,
				`<link rel="enclosure" href="a.mp3" length="10" type="audio/mpeg"/>`, `<link rel="related" href="http://example.org/r"/>`,
			}).Draw(t, "link"))
		}
		for i := rapid.IntRange(0, 2).Draw(t, "categories"); i > 0; i-- {
			b.WriteString(rapid.SampledFrom([]string{`<category term="errands"/>`, `<category term="garden" scheme="urn:tags"/>`, `<category term="x" label="X &amp; Y"/>`}).Draw(t, "category"))
		}
		if rapid.Bool().Draw(t, "has-author") {
			b.WriteString(rapid.SampledFrom([]string{`<author><name>Ann</name><email>ann@example.org</email></author>`, `<author><name>Bob</name></author>`}).Draw(t, "author"))
		}
		b.WriteString(foreignExt(t))
		b.WriteString("</entry>")
		return b.String()
	}
	b.WriteString(`<item` + xmlAttrs(t, "item") + ">")
	b.WriteString("<title>" + cdataOrEscaped(t, text(t, "title"), "title-cdata") + "</title>")
	if rapid.Bool().Draw(t, "has-link") {
		b.WriteString(rapid.SampledFrom([]string{"<link>http://example.org/1</link>", "<link> http://example.org/2 </link>"}).Draw(t, "link"))
	}
	if rapid.Bool().Draw(t, "has-description") {
		b.WriteString("<description>" + cdataOrEscaped(t, htmlText(t, "description"), "description-cdata") + "</description>")
	}
	if rapid.Bool().Draw(t, "has-encoded") {
		b.WriteString(`<content:encoded xmlns:content="http://purl.org/rss/1.0/modules/content/">` + cdataOrEscaped(t, htmlText(t, "encoded"), "encoded-cdata") + "</content:encoded>")
	}
	switch rapid.IntRange(0, 2).Draw(t, "guid") {
	case 1:
		fmt.Fprintf(&b, `<guid isPermaLink="false">urn:item:%d</guid>`, n)
	case 2:
		fmt.Fprintf(&b, `<guid>http://example.org/items/%d</guid>`, n)
	}
	if rapid.Bool().Draw(t, "has-pubDate") {
		b.WriteString("<pubDate>" + rapid.SampledFrom([]string{"Wed, 01 Apr 2009 09:00:00 +0000", "Wed, 01 Apr 2009 09:00:00 GMT"}).Draw(t, "pubDate") + "</pubDate>")
	}
	for i := rapid.IntRange(0, 2).Draw(t, "categories"); i > 0; i-- {
		b.WriteString(rapid.SampledFrom([]string{`<category>errands</category>`, `<category domain="urn:tags">garden</category>`}).Draw(t, "category"))
	}
	if rapid.Bool().Draw(t, "has-enclosure") {
		b.WriteString(rapid.SampledFrom([]string{`<enclosure url="http://example.org/1.mp3" length="123" type="audio/mpeg"/>`, `<enclosure url="http://example.org/2.mp3" type="audio/mpeg" length="5"/>`}).Draw(t, "enclosure"))
	}
	if rapid.Bool().Draw(t, "has-author") {
		b.WriteString("<author>ann@example.org (Ann)</author>")
	}
	if rapid.Bool().Draw(t, "has-comments") {
		b.WriteString("<comments>http://example.org/1#c</comments>")
	}
	b.WriteString(foreignExt(t))
	b.WriteString("</item>")
	return b.String()
}

// emptyFeed is a feed of format f with the given root attributes.
func emptyFeed(f feedsync.Format, name, attrs string) []byte {
	if f == feedsync.Atom {
		return []byte(`<?xml version="1.0" encoding="UTF-8"?>
<feed xmlns="http://www.w3.org/2005/Atom" xmlns:sx="http://feedsync.org/2007/feedsync"` + attrs + `>
<title>` + name + `</title><id>urn:feed:` + name + `</id><updated>2009-04-01T09:00:00Z</updated>
</feed>
`)
	}
	return []byte(`<?xml version="1.0" encoding="UTF-8"?>
<rss version="2.0" xmlns:sx="http://feedsync.org/2007/feedsync"` + attrs + `><channel><title>` + name + `</title><link>http://example.org/` + name + `</link><description>d</description>
</channel></rss>
`)
}

func (w *payloadWorld) read(e *pEndpoint) (*feedsync.Header, []*feedsync.Item) {
	h, items, err := feedsync.ReadAll(bytes.NewReader(e.feed))
	if err != nil {
		w.t.Fatalf("read %s's feed: %v\n%s", e.by, err, e.feed)
	}
	return h, items
}

// write stores e's new feed and records the item with id as authored.
func (w *payloadWorld) write(e *pEndpoint, h *feedsync.Header, items []*feedsync.Item, id string) {
	var buf bytes.Buffer
	if err := feedsync.WriteAll(&buf, h, items); err != nil {
		w.t.Fatalf("write %s's feed: %v", e.by, err)
	}
	e.feed = buf.Bytes()
	_, back := w.read(e)
	for _, it := range back {
		if it.ID() == id {
			w.authored[versionKey(it.Sync)] = it
		}
	}
}

func (w *payloadWorld) stamp(e *pEndpoint) feedsync.Stamp {
	w.clock += rapid.IntRange(0, 2).Draw(w.t, "tick")
	return feedsync.Stamp{By: e.by, When: pEpoch.Add(time.Duration(w.clock) * time.Minute)}
}

func (w *payloadWorld) element(s string) *etree.Element {
	doc := etree.NewDocument()
	doc.ReadSettings.PreserveCData = true
	if err := doc.ReadFromString(s); err != nil {
		w.t.Fatalf("generated payload does not parse: %v\n%s", err, s)
	}
	return doc.Root()
}

func (w *payloadWorld) create(e *pEndpoint) {
	h, items := w.read(e)
	w.ids++
	id := fmt.Sprintf("item-%d", w.ids)
	it, err := feedsync.Create(e.format, w.element(richPayload(w.t, e.format, w.ids)), id, w.stamp(e), false)
	if err != nil {
		w.t.Fatal(err)
	}
	w.write(e, h, append(items, it), id)
}

// edit changes one item of e: a new payload, a field set through the map
// converter (which must leave the rest alone), a delete, or an undelete.
func (w *payloadWorld) edit(e *pEndpoint) {
	h, items := w.read(e)
	var synced []int
	for i, it := range items {
		if it.Sync != nil {
			synced = append(synced, i)
		}
	}
	if len(synced) == 0 {
		return
	}
	i := rapid.SampledFrom(synced).Draw(w.t, "item")
	it := items[i]
	var res *feedsync.Item
	var err error
	switch op := rapid.SampledFrom([]string{"payload", "field", "delete"}).Draw(w.t, "edit"); {
	case op == "delete" && !it.Sync.Deleted:
		res, err = feedsync.Delete(it, w.stamp(e))
	case op == "payload":
		res, err = feedsync.Update(it, w.element(richPayload(w.t, it.Format(), w.ids)), w.stamp(e))
	default:
		// Through the map converter, as feedsync update --set does.
		p, perr := it.Payload()
		if perr != nil {
			w.t.Fatal(perr)
		}
		m := converter.Map{Format: it.Format()}
		rec, ferr := m.FromPayload(p)
		if ferr != nil {
			w.t.Fatal(ferr)
		}
		rec[rapid.SampledFrom([]string{"title", "done", "description"}).Draw(w.t, "field")] = text(w.t, "value")
		np, eerr := m.EditPayload(p, it.ID(), rec)
		if eerr != nil {
			w.t.Fatal(eerr)
		}
		res, err = feedsync.Update(it, np, w.stamp(e))
	}
	if err != nil {
		w.t.Fatal(err)
	}
	items[i] = res
	w.write(e, h, items, it.ID())
}

func (w *payloadWorld) merge(dst, src *pEndpoint) Summary {
	if rapid.Bool().Draw(w.t, "via-run") {
		h, items := w.read(dst)
		mem := NewMemoryLocal(items...)
		sum, err := Run(context.Background(), mem, feedsync.NewReader(bytes.NewReader(src.feed)), Options{Format: h.Format, Into: h})
		if err != nil {
			w.t.Fatalf("Run %s ← %s: %v", dst.by, src.by, err)
		}
		if sum.Changed() {
			var buf bytes.Buffer
			if err := feedsync.WriteAll(&buf, h, mem.Items()); err != nil {
				w.t.Fatal(err)
			}
			dst.feed = buf.Bytes()
		}
		return sum
	}
	var out bytes.Buffer
	sum, err := Feeds(context.Background(), bytes.NewReader(dst.feed), bytes.NewReader(src.feed), &out, Options{})
	if err != nil {
		w.t.Fatalf("Feeds %s ← %s: %v", dst.by, src.by, err)
	}
	dst.feed = out.Bytes()
	return sum
}

// exchange is a round of merges through the first endpoint; it returns
// the merges that changed a feed.
func (w *payloadWorld) exchange() []string {
	var changed []string
	merge := func(dst, src *pEndpoint) {
		if sum := w.merge(dst, src); sum.Changed() {
			changed = append(changed, fmt.Sprintf("%s ← %s: %v", dst.by, src.by, sum))
		}
	}
	for _, e := range w.eps[1:] {
		merge(w.eps[0], e)
	}
	for _, e := range w.eps[1:] {
		merge(e, w.eps[0])
	}
	return changed
}

// marshal returns an item's bytes as a standalone element.
func (w *payloadWorld) marshal(it *feedsync.Item) string {
	b, err := feedsync.MarshalItem(it)
	if err != nil {
		w.t.Fatal(err)
	}
	return string(b)
}

// data returns an item's bytes as a standalone element with CDATA
// sections written as text, names written with their namespace URIs and
// attributes sorted: the same bytes for the same XML data, where marshal
// may differ in how a text is escaped, in prefixes and in where namespaces
// are declared.
func (w *payloadWorld) data(it *feedsync.Item) string {
	doc := etree.NewDocument()
	if err := doc.ReadFromString(w.marshal(it)); err != nil {
		w.t.Fatal(err)
	}
	// Neither do attribute order and where namespaces are declared: names
	// are written with their namespace URI, declarations left out.
	type rename struct {
		e     *etree.Element
		space string
		attrs []etree.Attr
	}
	var todo []rename
	var walk func(e *etree.Element)
	walk = func(e *etree.Element) {
		r := rename{e: e, space: "{" + e.NamespaceURI() + "}"}
		for _, a := range e.Attr {
			if a.Space == "xmlns" || a.Space == "" && a.Key == "xmlns" {
				continue
			}
			if a.Space != "" {
				a.Space = "{" + a.NamespaceURI() + "}"
			}
			r.attrs = append(r.attrs, a)
		}
		todo = append(todo, r)
		for _, c := range e.ChildElements() {
			walk(c)
		}
	}
	walk(doc.Root())
	for _, r := range todo {
		r.e.Space, r.e.Attr = r.space, r.attrs
		r.e.SortAttrs()
	}
	var b strings.Builder
	doc.Root().WriteTo(&b, &etree.WriteSettings{CanonicalText: true, CanonicalAttrVal: true})
	return b.String()
}

// meaning is the digest of it, carried out of its feed (feedsync.Carry)
// and converted to format f: what it says, wherever it is. Its language
// is compared, none and xml:lang="" alike. Its xml:base is compared unless
// in drop: an item written where no absolute base was in force has
// relative references that resolve against whatever document holds it,
// and the first feed with a base that takes it in gives it that one.
func (w *payloadWorld) meaning(it *feedsync.Item, f feedsync.Format, drop []string) string {
	c, err := feedsync.ConvertItem(feedsync.Carry(it), f)
	if err != nil {
		w.t.Fatal(err)
	}
	p, err := c.Payload()
	if err != nil {
		w.t.Fatal(err)
	}
	for _, a := range drop {
		p.RemoveAttr(a)
	}
	if p.SelectAttr("xml:lang") == nil {
		p.CreateAttr("xml:lang", "")
	}
	c = feedsync.NewItem(f, p) // the payload alone
	// The XML data, attribute order aside: it has no meaning.
	return w.data(c)
}

// outside is it carried out of its feed (feedsync.Carry) into one that
// sets no language (feedsync.Enter): the form that is the same wherever it
// is held. Inside, an item without a language has xml:lang="" in a feed
// that sets one and none in a feed that does not, and so do its conflict
// copies.
func (w *payloadWorld) outside(it *feedsync.Item) *feedsync.Item {
	return feedsync.Enter(feedsync.Carry(it), feedsync.NewHeader(it.Format(), feedsync.FeedInfo{}))
}

// unset returns xml:base when no absolute base is in force at it.
func (w *payloadWorld) unset(it *feedsync.Item) []string {
	p, err := feedsync.Carry(it).Payload()
	if err != nil {
		w.t.Fatal(err)
	}
	if u, err := url.Parse(p.SelectAttrValue("xml:base", "")); err != nil || !u.IsAbs() {
		return []string{"xml:base"} // relative: to the document, whichever
	}
	return nil
}

func TestPayloadsSurviveMeshes(t *testing.T) {
	// A fixed seed and a short budget unless given on the command line.
	set := map[string]bool{}
	flag.Visit(func(f *flag.Flag) { set[f.Name] = true })
	restore := func(name string) func() {
		old := flag.Lookup(name).Value.String()
		return func() { flag.Set(name, old) }
	}
	if !set["rapid.seed"] {
		defer restore("rapid.seed")()
		flag.Set("rapid.seed", "20261207")
	}
	if !set["rapid.checks"] {
		defer restore("rapid.checks")()
		checks := "50"
		if testing.Short() {
			checks = "8"
		}
		flag.Set("rapid.checks", checks)
	}
	rapid.Check(t, func(t *rapid.T) {
		w := &payloadWorld{t: t, authored: map[string]*feedsync.Item{}}
		n := rapid.IntRange(2, 4).Draw(t, "endpoints")
		// Each feed has its own xml:base and xml:lang, or none: an item
		// that leaves a feed carries what was in force there
		// (feedsync.Carry), and one without a language that enters a feed
		// with one says it has none (feedsync.Enter).
		// Bases differ only between feeds that all set an absolute one:
		// an item with no base in force has references relative to
		// whichever document holds it, which no merge can keep
		// (feedsync.Enter).
		ownBases := rapid.Bool().Draw(t, "own-bases")
		shared := xmlAttrs(t, "feed")
		for i := 0; i < n; i++ {
			f := rapid.SampledFrom([]feedsync.Format{feedsync.RSS, feedsync.Atom}).Draw(t, "format")
			name := fmt.Sprintf("p%d", i+1)
			attrs := shared
			if ownBases {
				attrs = xmlLangAttr(t, "feed") + ` xml:base="` + rapid.SampledFrom([]string{"http://example.org/blog/", "https://other.example/x/", "http://example.org/" + name + "/"}).Draw(t, "feed-base-v") + `"`
			} else if i > 0 {
				attrs = xmlLangAttr(t, "feed") + baseOf(shared)
			}
			w.eps = append(w.eps, &pEndpoint{by: name, format: f, feed: emptyFeed(f, name, attrs)})
		}
		steps := rapid.IntRange(1, 12).Draw(t, "steps")
		for s := 0; s < steps; s++ {
			e := w.eps[rapid.IntRange(0, n-1).Draw(t, "at")]
			switch rapid.SampledFrom([]string{"create", "edit", "merge", "merge"}).Draw(t, "op") {
			case "create":
				w.create(e)
			case "edit":
				w.edit(e)
			default:
				src := w.eps[rapid.IntRange(0, n-1).Draw(t, "from")]
				if src != e {
					w.merge(e, src)
				}
			}
		}
		for round := 0; ; round++ {
			changed := w.exchange()
			if len(changed) == 0 {
				break
			}
			if round == 4 {
				var feeds strings.Builder
				for _, e := range w.eps {
					fmt.Fprintf(&feeds, "%s (%v):\n%s\n", e.by, e.format, e.feed)
				}
				t.Fatalf("still changing after %d exchanges: %v\n%s", round+1, changed, feeds.String())
			}
		}

		// Convergence: the same items and versions everywhere, identical
		// XML data at endpoints of one format (bytes up to escaping,
		// prefixes and attribute order, as the items stand outside their
		// feeds), the same meaning across formats.
		type held struct {
			ep *pEndpoint
			it *feedsync.Item
		}
		byID := map[string][]held{}
		for _, e := range w.eps {
			_, items := w.read(e)
			for _, it := range items {
				byID[it.ID()] = append(byID[it.ID()], held{e, it})
			}
		}
		for id, hs := range byID {
			if len(hs) != n {
				t.Fatalf("%s is held by %d of %d endpoints", id, len(hs), n)
			}
			first := hs[0]
			for _, h := range hs[1:] {
				if versionKey(h.it.Sync) != versionKey(first.it.Sync) {
					t.Fatalf("%s: %s holds %s, %s holds %s", id, first.ep.by, versionKey(first.it.Sync), h.ep.by, versionKey(h.it.Sync))
				}
				if h.ep.format == first.ep.format && w.data(w.outside(h.it)) != w.data(w.outside(first.it)) {
					t.Fatalf("%s: %s and %s (both %v) hold different payloads of the same version:\n%s\n%s", id, first.ep.by, h.ep.by, h.ep.format, w.marshal(first.it), w.marshal(h.it))
				}
			}
			// Meaning: what every endpoint holds says what the author
			// wrote, in the author's format.
			a := w.authored[versionKey(first.it.Sync)]
			if a == nil {
				t.Fatalf("%s: version %s was never authored", id, versionKey(first.it.Sync))
			}
			drop := w.unset(a)
			want := w.meaning(a, a.Format(), drop)
			for _, h := range hs {
				if got := w.meaning(h.it, a.Format(), drop); got != want {
					c, _ := feedsync.ConvertItem(feedsync.Carry(h.it), a.Format())
					t.Fatalf("%s: %s holds a payload that does not say what %v author wrote:\nauthored: %s\nheld:     %s\nas %v:    %s\nwant %s\ngot  %s", id, h.ep.by, a.Format(), w.marshal(feedsync.Carry(a)), w.marshal(h.it), a.Format(), w.marshal(c), want, got)
				}
			}
		}
	})
}
