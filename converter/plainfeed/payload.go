package plainfeed

import (
	"html"
	"net/url"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/beevik/etree"

	"github.com/feedsync/go-feedsync/feedsync"
)

// Namespaces of the elements payloads carry besides RSS and Atom.
const (
	contentNamespace = "http://purl.org/rss/1.0/modules/content/"
	dcNamespace      = "http://purl.org/dc/elements/1.1/"
	xhtmlNamespace   = "http://www.w3.org/1999/xhtml"
)

// textKind is how a text construct is written: plain text, escaped HTML or
// inline XHTML (Atom's type="text", "html" and "xhtml").
type textKind uint8

const (
	kindText textKind = iota
	kindHTML
	kindXHTML
)

// text is a text construct of an entry. For kindXHTML, xhtml holds the
// xhtml:div (self-contained: it declares every namespace it uses) and s the
// same content as HTML, for formats that cannot carry XHTML.
type text struct {
	s     string
	kind  textKind
	xhtml *etree.Element
}

func (t text) empty() bool { return strings.TrimSpace(t.s) == "" && t.xhtml == nil }

// html returns the construct as HTML markup.
func (t text) html() string {
	if t.kind == kindText {
		return html.EscapeString(t.s)
	}
	return t.s
}

type person struct{ name, email string }

type category struct{ term, scheme, label string }

type enclosure struct{ url, length, typ string }

// dcValue is one Dublin Core element (dc:creator, dc:date, …).
type dcValue struct{ name, value string }

// entryData is what an entry of any input format says, before it is written
// as an RSS or Atom payload.
type entryData struct {
	guid      string
	permaLink string // RSS guid isPermaLink as read, or ""
	link      string
	title     text
	summary   text
	content   text
	published time.Time
	updated   time.Time
	dcDate    time.Time // dc:date, when it is the only date (RSS)
	authors   []person
	cats      []category
	encls     []enclosure
	dc        []dcValue
}

// hash returns the content hash id of the entry (FromHash).
func (d *entryData) hash() string {
	return hashID(d.title.s, d.summary.s, d.content.s, d.published)
}

// dcOrder is the order Dublin Core elements are written in: the fifteen
// elements of the Dublin Core Metadata Element Set, then any other name in
// alphabetical order. A fixed order makes equal entries equal payloads, so
// a refresh sees no change where there is none.
var dcOrder = []string{"title", "creator", "subject", "description", "publisher", "contributor",
	"date", "type", "format", "identifier", "source", "language", "relation", "coverage", "rights"}

func sortDC(v []dcValue) {
	rank := func(n string) int {
		if i := slices.Index(dcOrder, n); i >= 0 {
			return i
		}
		return len(dcOrder)
	}
	sort.SliceStable(v, func(i, j int) bool {
		ri, rj := rank(v[i].name), rank(v[j].name)
		if ri != rj {
			return ri < rj
		}
		if ri == len(dcOrder) {
			return v[i].name < v[j].name
		}
		return false
	})
}

func (d *entryData) hasDC(name string) bool {
	for _, v := range d.dc {
		if v.name == name {
			return true
		}
	}
	return false
}

// payload writes the entry as an RSS <item> or Atom <entry> element. The
// element declares every namespace it uses, so it means the same in any
// feed. syncID names the Atom entry when the entry has no IRI of its own,
// and fallback stands in for Atom's required updated when the entry has no
// date at all.
func (d *entryData) payload(f feedsync.Format, syncID string, fallback time.Time) *etree.Element {
	var e *etree.Element
	if f == feedsync.Atom {
		e = d.atom(syncID, fallback)
	} else {
		e = d.rss()
	}
	indentChildren(e)
	return e
}

// indentChildren puts each child element of e on a line of its own, so
// that feeds and their diffs are readable. Only e's own children move:
// inside them white space may be content. Digests ignore white-space-only
// text, so this changes nothing a refresh compares.
func indentChildren(e *etree.Element) {
	kids := e.ChildElements()
	for _, c := range kids {
		e.InsertChildAt(c.Index(), etree.NewText("\n  "))
	}
}

// rss writes an RSS 2.0 <item>.
func (d *entryData) rss() *etree.Element {
	e := etree.NewElement("item")
	var needContent, needDC bool
	add := func(tag, value string) *etree.Element {
		c := e.CreateElement(tag)
		c.SetText(value)
		return c
	}
	if !d.title.empty() {
		s := d.title.s
		if d.title.kind != kindText {
			s = plainText(s)
		}
		add("title", s)
	}
	if d.link != "" {
		add("link", d.link)
	}
	if !d.summary.empty() {
		add("description", d.summary.html())
	}
	if !d.content.empty() && d.content.html() != d.summary.html() {
		c := add("content:encoded", d.content.html())
		_ = c
		needContent = true
	}
	if d.guid != "" {
		g := add("guid", d.guid)
		// RSS 2.0 reads a guid as a permalink unless told otherwise; gofeed
		// reports an absent isPermaLink as "true", so only "false" is
		// known to be the source's word. A guid that is no URL cannot be a
		// permalink whatever the source says.
		if strings.EqualFold(d.permaLink, "false") || !isAbsURL(d.guid) {
			g.CreateAttr("isPermaLink", "false")
		}
	}
	if t := firstTime(d.published, d.updated); !t.IsZero() {
		add("pubDate", t.Format(time.RFC1123Z))
	}
	// RSS 2.0's <author> holds an e-mail address; names without one go to
	// dc:creator unless Dublin Core already names the creators.
	wroteAuthor := false
	for _, p := range d.authors {
		switch {
		case p.email != "" && !wroteAuthor:
			s := p.email
			if p.name != "" {
				s += " (" + p.name + ")"
			}
			add("author", s)
			wroteAuthor = true
		case p.name != "" && !d.hasDC("creator"):
			add("dc:creator", p.name)
			needDC = true
		}
	}
	for _, c := range d.cats {
		el := add("category", firstNonEmpty(c.term, c.label))
		if c.scheme != "" {
			el.CreateAttr("domain", c.scheme)
		}
	}
	for _, n := range d.encls {
		el := e.CreateElement("enclosure")
		el.CreateAttr("url", n.url)
		if n.length != "" {
			el.CreateAttr("length", n.length)
		}
		if n.typ != "" {
			el.CreateAttr("type", n.typ)
		}
	}
	for _, v := range d.dc {
		add("dc:"+v.name, v.value)
		needDC = true
	}
	// Declarations go on the item itself so that it is self-contained.
	if needContent {
		e.CreateAttr("xmlns:content", contentNamespace)
	}
	if needDC {
		e.CreateAttr("xmlns:dc", dcNamespace)
	}
	return e
}

// atom writes an Atom 1.0 <entry>.
func (d *entryData) atom(syncID string, fallback time.Time) *etree.Element {
	e := etree.NewElement("entry")
	e.CreateAttr("xmlns", feedsync.AtomNamespace)
	needDC := false
	atomText(e, "title", d.title) // required, even when empty
	if d.link != "" {
		l := e.CreateElement("link")
		l.CreateAttr("rel", "alternate")
		l.CreateAttr("href", d.link)
	}
	// atom:id must be an IRI: the guid when it is one, else the link, else
	// a URN made from the sync id.
	id := "urn:feedsync:" + syncID
	switch {
	case isAbsURL(d.guid):
		id = d.guid
	case d.guid == "" && isAbsURL(d.link):
		id = d.link
	}
	e.CreateElement("id").SetText(id)
	updated := firstTime(d.updated, d.published, d.dcDate, fallback)
	if !updated.IsZero() {
		e.CreateElement("updated").SetText(feedsync.FormatTime(updated))
	}
	if !d.published.IsZero() {
		e.CreateElement("published").SetText(feedsync.FormatTime(d.published))
	}
	for _, p := range d.authors {
		if p.name == "" && p.email == "" {
			continue
		}
		a := e.CreateElement("author")
		// atom:name is required in a person construct.
		a.CreateElement("name").SetText(firstNonEmpty(p.name, p.email))
		if p.email != "" {
			a.CreateElement("email").SetText(p.email)
		}
	}
	for _, c := range d.cats {
		el := e.CreateElement("category")
		el.CreateAttr("term", firstNonEmpty(c.term, c.label))
		if c.scheme != "" {
			el.CreateAttr("scheme", c.scheme)
		}
		if c.label != "" && c.label != c.term {
			el.CreateAttr("label", c.label)
		}
	}
	for _, n := range d.encls {
		l := e.CreateElement("link")
		l.CreateAttr("rel", "enclosure")
		l.CreateAttr("href", n.url)
		if n.typ != "" {
			l.CreateAttr("type", n.typ)
		}
		if n.length != "" {
			l.CreateAttr("length", n.length)
		}
	}
	if !d.summary.empty() {
		atomText(e, "summary", d.summary)
	}
	if !d.content.empty() {
		atomText(e, "content", d.content)
	}
	for _, v := range d.dc {
		e.CreateElement("dc:" + v.name).SetText(v.value)
		needDC = true
	}
	if needDC {
		e.CreateAttr("xmlns:dc", dcNamespace)
	}
	return e
}

// atomText writes an Atom text construct, keeping XHTML as XHTML.
func atomText(parent *etree.Element, tag string, t text) {
	e := parent.CreateElement(tag)
	switch {
	case t.kind == kindXHTML && t.xhtml != nil:
		e.CreateAttr("type", "xhtml")
		e.AddChild(t.xhtml.Copy())
	case t.kind == kindText:
		e.SetText(t.s)
	default:
		e.CreateAttr("type", "html")
		e.SetText(t.s)
	}
}

// plainText turns a line of HTML (a title) into text, for RSS titles,
// which readers show as text.
func plainText(s string) string {
	var b strings.Builder
	in := false
	for _, r := range s {
		switch {
		case r == '<':
			in = true
		case r == '>' && in:
			in = false
		case !in:
			b.WriteRune(r)
		}
	}
	return strings.TrimSpace(html.UnescapeString(b.String()))
}

func firstTime(ts ...time.Time) time.Time {
	for _, t := range ts {
		if !t.IsZero() {
			return t.UTC()
		}
	}
	return time.Time{}
}

func firstNonEmpty(ss ...string) string {
	for _, s := range ss {
		if s != "" {
			return s
		}
	}
	return ""
}

// isAbsURL reports whether s is an absolute IRI, usable as an atom:id.
func isAbsURL(s string) bool {
	if s == "" || strings.ContainsAny(s, " \t\r\n<>\"{}|\\^`") {
		return false
	}
	u, err := url.Parse(s)
	return err == nil && u.Scheme != "" && (u.Opaque != "" || u.Host != "" || u.Path != "")
}
