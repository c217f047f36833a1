package feedsync

import (
	"fmt"
	"html"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/beevik/etree"
)

// Namespaces used when converting payloads between RSS and Atom.
const (
	// ConvertNamespace marks what ConvertItem adds to a payload that the
	// source did not hold: an Atom id, title or updated made up for an RSS
	// item without them carries the attribute generated="true" in it, so
	// that converting back leaves it out again.
	ConvertNamespace = "urn:feedsync:convert"

	contentNamespace = "http://purl.org/rss/1.0/modules/content/"
	dcNamespace      = "http://purl.org/dc/elements/1.1/"
)

// ConvertItem returns it in the other format (FS-FEED-10): an RSS <item>
// becomes an Atom <entry> and back. The sync metadata is carried unchanged
// and conflict copies are converted too.
//
// Each child is converted on its own, in document order, and the item's
// own attributes (xml:lang, xml:base, foreign ones) come along:
//
//   - an element with a counterpart in the other format is mapped: title,
//     link, description/summary (RSS description is HTML, an Atom summary
//     of type html), content:encoded/content (html), guid/id,
//     pubDate/published, author, category, enclosure/link rel="enclosure".
//     Text stays text and markup stays markup: an Atom text construct of
//     type text becomes escaped HTML in an RSS description, an html or
//     xhtml title becomes plain text in an RSS title;
//   - when converting the mapped element back would not give it again (an
//     html title, a guid that is a permalink, a date in another spelling,
//     a link with hreflang, …), the element itself is kept as well,
//     right after the mapped one, in its own format's namespace: an Atom
//     element in an RSS item, or an RSS element in no namespace
//     (xmlns="") in an Atom entry. Readers of the other format see the
//     mapped element; converting back drops it and restores the kept one;
//   - an element without a counterpart (Atom updated, RSS comments, …) is
//     kept the same way, and elements of other namespaces are copied.
//
// So meaning is kept both ways, and converting back gives the payload
// again: ConvertItem(ConvertItem(x, to), from) has the digest of x, and
// every further round trip gives the same bytes (FS-FEED-10; endpoints of
// either format then converge on one payload per format, §17 A-18).
//
// A kept element is recognised as the companion of the mapped element
// before it by its content. One kept for another reason that would pass
// for a companion (an Atom entry's second alternate link, with hreflang,
// type or title, after a bare link of the same href: RSS has room for one
// link) is marked fsc:separate="true" in ConvertNamespace, and converting
// back removes the mark.
//
// Atom requires id, title and updated. An RSS item without them gets them
// made up, marked generated="true" in ConvertNamespace so that converting
// back leaves them out: the id "urn:feedsync:" plus its sync id (or a hash
// of its content when it has none), an empty title, and as updated the
// published date, else the topmost history entry's when, else the Unix
// epoch — fixed values, so that converting the same item twice gives the
// same entry. They go first in the entry, and converting back drops them
// only when all still hold the values they would be made up with now; a
// later version that kept the payload as it was (a delete, say) keeps them
// as ordinary elements, so the round trip stays exact. An Atom entry that lacks them is marked missing="id …" in
// ConvertNamespace on the RSS item, so that converting back makes up none.
func ConvertItem(it *Item, to Format) (*Item, error) {
	if it.format == to || to == FormatUnknown {
		return it, nil
	}
	e, err := it.payload()
	if err != nil {
		return nil, err
	}
	sc := formatScope(it.format)
	if it.src != nil {
		sc = it.src.scope
	}
	var out *etree.Element
	if to == Atom {
		out = rssToAtom(e, sc, it)
	} else {
		out = atomToRSS(e, sc, it)
	}
	c := &Item{format: to, line: it.line, syncIndex: -1, elem: out}
	c.setDigest()
	if it.Sync != nil {
		s := it.Sync.Clone()
		for i, cc := range s.Conflicts {
			conv, err := ConvertItem(cc, to)
			if err != nil {
				return nil, fmt.Errorf("conflict copy %d: %w", i+1, err)
			}
			s.Conflicts[i] = conv
		}
		c.Sync = s
	}
	return c, nil
}

type childInfo struct {
	e   *etree.Element
	uri string
	sc  *scope
}

func children(e *etree.Element, sc *scope) []childInfo {
	in := sc.pushEtree(e.Attr)
	var out []childInfo
	for _, c := range e.ChildElements() {
		csc := in.pushEtree(c.Attr)
		out = append(out, childInfo{c, csc.uri(c.Space), in})
	}
	return out
}

// declareUsed adds to e the declarations of sc that e's subtree relies on.
func declareUsed(e *etree.Element, sc *scope) {
	used := map[string]bool{}
	var walk func(x *etree.Element)
	walk = func(x *etree.Element) {
		used[x.Space] = true
		for _, a := range x.Attr {
			if a.Space != "" && a.Space != "xmlns" {
				used[a.Space] = true
			}
		}
		for _, c := range x.ChildElements() {
			walk(c)
		}
	}
	walk(e)
	own := rootDeclaredEtree(e)
	prefixes := make([]string, 0, len(used))
	for p := range used {
		prefixes = append(prefixes, p)
	}
	sort.Strings(prefixes) // the same item always gives the same bytes
	for _, p := range prefixes {
		if own[p] || p == "xml" {
			continue
		}
		u, _ := sc.lookup(p)
		switch {
		case p == "" && u != "":
			e.CreateAttr("xmlns", u)
		case p != "" && u != "":
			e.CreateAttr("xmlns:"+p, u)
		}
	}
}

func rootDeclaredEtree(e *etree.Element) map[string]bool {
	m := map[string]bool{}
	for _, a := range e.Attr {
		if a.Space == "xmlns" {
			m[a.Key] = true
		} else if a.Space == "" && a.Key == "xmlns" {
			m[""] = true
		}
	}
	return m
}

// converter holds the two halves of one direction of ConvertItem: the
// counterpart of a source child in the target format (there) and of a
// target child in the source format (back), how a source element is kept in
// the target format (keep), how a kept target element is recognised in the
// source (kept) and restored (restore).
type converter struct {
	there, back func(c childInfo) *etree.Element
	pure        func(c childInfo) *etree.Element // there without its state
	fromScope   *scope                           // where the mapped-back elements stand
	keep        func(out *etree.Element, c childInfo)
	kept        func(c childInfo) bool
	restore     func(out *etree.Element, c childInfo)
	targetScope *scope
	// drop reports a source child made up by an earlier conversion.
	drop func(c childInfo) bool
}

// run converts the children of e (standing in sc) into out.
func (cv *converter) run(out, e *etree.Element, sc *scope) {
	copyAttrs(out, e, sc)
	cs := children(e, sc)
	// lone is the last child of out when it is a mapped element without
	// a kept companion after it.
	var lone *etree.Element
	for i, c := range cs {
		switch {
		case cv.drop != nil && cv.drop(c):
			continue // made up by an earlier conversion: dropped again
		case cv.kept(c):
			cv.restore(out, unmarkSeparate(c))
			lone = nil
			continue
		}
		m := cv.there(c)
		if m == nil {
			cv.keep(out, c)
			// Kept right after a mapped element it maps to as well (a
			// second link with hreflang after a bare link of the same
			// href), it would pass for that element's companion on the
			// way back and take its place: it says it is not one.
			if lone != nil {
				if b := cv.pure(c); b != nil && sameElement(b, cv.targetScope, lone, cv.targetScope) {
					markSeparate(out.ChildElements()[len(out.ChildElements())-1])
				}
			}
			lone = nil
			continue
		}
		// A mapped element written for a kept one that follows it: the
		// kept one comes home instead. It is one when the kept element maps
		// to c and does not come back from it (so it was kept for what the
		// mapping loses, not, say, as a second link RSS has no room for,
		// which says so: markSeparate).
		if i+1 < len(cs) && cv.kept(cs[i+1]) && !isSeparate(cs[i+1]) {
			k := cs[i+1]
			if b := cv.back(k); b != nil && sameElement(b, cv.fromScope, c.e, c.sc) {
				m2 := cv.pure(childInfo{b, uriIn(b, cv.fromScope), cv.fromScope})
				if m2 == nil || !sameElement(m2, cv.targetScope, k.e, k.sc) {
					continue
				}
			}
		}
		out.AddChild(m)
		lone = m
		// Keep the source element too when the mapping loses something.
		if b := cv.back(childInfo{m, uriIn(m, cv.targetScope), cv.targetScope}); b == nil || !sameElement(b, cv.fromScope, c.e, c.sc) {
			cv.keep(out, c)
			lone = nil
		}
	}
}

// separateAttr marks a kept element that is not the companion of the
// mapped element before it (converter.run): fsc:separate="true" in
// ConvertNamespace, declared on the element itself.
const separateAttr = "separate"

// markSeparate marks x, a kept element, as separate. An element that
// binds the prefix fsc to another namespace is left unmarked.
func markSeparate(x *etree.Element) {
	if a := x.SelectAttr("xmlns:fsc"); a != nil && a.Value != ConvertNamespace {
		return
	}
	if x.SelectAttr("xmlns:fsc") == nil {
		x.CreateAttr("xmlns:fsc", ConvertNamespace)
	}
	x.CreateAttr("fsc:"+separateAttr, "true")
}

// isSeparate reports whether the kept element c is marked separate.
func isSeparate(c childInfo) bool {
	in := c.sc.pushEtree(c.e.Attr)
	for _, a := range c.e.Attr {
		if a.Key == separateAttr && a.Space != "" && in.uri(a.Space) == ConvertNamespace {
			return true
		}
	}
	return false
}

// unmarkSeparate returns c without the mark of markSeparate, as it was
// before it was kept.
func unmarkSeparate(c childInfo) childInfo {
	if !isSeparate(c) {
		return c
	}
	x := c.e.Copy()
	in := c.sc.pushEtree(x.Attr)
	for _, a := range x.Attr {
		if a.Key == separateAttr && a.Space != "" && in.uri(a.Space) == ConvertNamespace {
			removeAttr(x, a.Space, a.Key)
			if x.SelectAttrValue("xmlns:"+a.Space, "") == ConvertNamespace {
				removeAttr(x, "xmlns", a.Space)
			}
			break
		}
	}
	return childInfo{x, c.uri, c.sc}
}

// uriIn returns the namespace of e (built by a mapping) where sc is in force.
func uriIn(e *etree.Element, sc *scope) string {
	return sc.pushEtree(e.Attr).uri(e.Space)
}

// sameElement reports whether a and b (each with the scope of its parent)
// have the same digest.
func sameElement(a *etree.Element, asc *scope, b *etree.Element, bsc *scope) bool {
	return digestElement(a, asc) == digestElement(b, bsc)
}

// copyAttrs copies the attributes of the item element e (xml:lang, xml:base,
// foreign ones) onto out, with the declarations their prefixes need.
func copyAttrs(out, e *etree.Element, sc *scope) {
	in := sc.pushEtree(e.Attr)
	for _, a := range e.Attr {
		if isXMLNS(a.Space, a.Key) || a.Space != "" && in.uri(a.Space) == ConvertNamespace && a.Key == "missing" {
			continue
		}
		out.CreateAttr(a.FullKey(), a.Value)
	}
	declareAttrs(out, in)
}

// missing returns the value of the item attribute missing in
// ConvertNamespace: the Atom elements an entry converted to this RSS item
// lacked.
func missing(e *etree.Element, sc *scope) string {
	in := sc.pushEtree(e.Attr)
	for _, a := range e.Attr {
		if a.Key == "missing" && a.Space != "" && in.uri(a.Space) == ConvertNamespace {
			return a.Value
		}
	}
	return ""
}

// declareAttrs declares on e the prefixes its own attributes use, as sc binds
// them.
func declareAttrs(e *etree.Element, sc *scope) {
	own := rootDeclaredEtree(e)
	for _, a := range e.Attr {
		if a.Space == "" || a.Space == "xmlns" || a.Space == "xml" || own[a.Space] {
			continue
		}
		if u, ok := sc.lookup(a.Space); ok && u != "" {
			e.CreateAttr("xmlns:"+a.Space, u)
			own[a.Space] = true
		}
	}
}

// commonAttrs copies the attributes of c that mean the same on the mapped
// element: xml:lang, xml:base and foreign (namespaced) ones.
func commonAttrs(to *etree.Element, c childInfo) {
	for _, a := range c.e.Attr {
		if a.Space != "" && !isXMLNS(a.Space, a.Key) {
			to.CreateAttr(a.FullKey(), a.Value)
		}
	}
	declareAttrs(to, c.sc.pushEtree(c.e.Attr))
}

// plainText returns the text of an element without child elements, and
// whether it has none.
func plainText(e *etree.Element) (string, bool) {
	if len(e.ChildElements()) > 0 {
		return "", false
	}
	var b strings.Builder
	for _, t := range e.Child {
		if cd, ok := t.(*etree.CharData); ok {
			b.WriteString(cd.Data)
		}
	}
	return b.String(), true
}

// onlyAttrs reports whether e's attributes, namespace declarations and the
// common ones aside, are among names.
func onlyAttrs(e *etree.Element, names ...string) bool {
	for _, a := range e.Attr {
		if a.Space != "" || a.Key == "xmlns" {
			continue
		}
		if !slices.Contains(names, a.Key) {
			return false
		}
	}
	return true
}

// isGenerated reports whether c was made up by ConvertItem
// (ConvertNamespace generated="true").
func isGenerated(c childInfo) bool {
	in := c.sc.pushEtree(c.e.Attr)
	for _, a := range c.e.Attr {
		if a.Key == "generated" && a.Space != "" && in.uri(a.Space) == ConvertNamespace {
			return true
		}
	}
	return false
}

func rssToAtom(e *etree.Element, sc *scope, it *Item) *etree.Element {
	out := etree.NewElement("entry")
	cv := &converter{
		there:       rssToAtomChild,
		pure:        rssToAtomChild,
		back:        atomToRSSChild,
		fromScope:   nil,
		targetScope: atomScope,
		keep:        keepAsRSS,
		kept:        func(c childInfo) bool { return c.uri == AtomNamespace },
		restore:     restoreAtom,
	}
	cv.run(out, e, sc)
	// Atom requires id, title and updated; an entry that lacked them
	// (atomToRSS says so) gets none.
	var hasID, hasTitle, hasUpdated bool
	for _, m := range strings.Fields(missing(e, sc)) {
		switch m {
		case "id":
			hasID = true
		case "title":
			hasTitle = true
		case "updated":
			hasUpdated = true
		}
	}
	published := ""
	for _, ci := range children(out, atomScope) {
		c := ci.e
		if ci.uri != AtomNamespace {
			continue
		}
		switch c.Tag {
		case "id":
			hasID = true
		case "title":
			hasTitle = true
		case "updated":
			hasUpdated = true
		case "published":
			if published == "" {
				published, _ = plainText(c)
			}
		}
	}
	// Made-up elements go first, in a fixed order, where edits that append
	// children leave them.
	var gen []*etree.Element
	generated := func(tag, text string) {
		x := etree.NewElement(tag)
		x.CreateAttr("fsc:generated", "true")
		if text != "" {
			x.SetText(text)
		}
		gen = append(gen, x)
	}
	if !hasID {
		generated("id", generatedID(it))
	}
	if !hasTitle {
		generated("title", "")
	}
	if !hasUpdated {
		generated("updated", generatedUpdated(published, it))
	}
	if len(gen) > 0 {
		out.CreateAttr("xmlns:fsc", ConvertNamespace)
		for i, x := range gen {
			out.InsertChildAt(i, x)
		}
	}
	return out
}

// rssToAtomChild returns the Atom counterpart of an RSS child, or nil.
func rssToAtomChild(c childInfo) *etree.Element {
	var x *etree.Element
	text, plain := plainText(c.e)
	switch {
	case c.uri == contentNamespace && c.e.Tag == "encoded" && plain && onlyAttrs(c.e):
		x = etree.NewElement("content")
		htmlConstruct(x, text)
	case c.uri != "":
		return nil
	case c.e.Tag == "title" && plain && onlyAttrs(c.e):
		x = etree.NewElement("title")
		x.SetText(text)
	case c.e.Tag == "description" && plain && onlyAttrs(c.e):
		x = etree.NewElement("summary")
		htmlConstruct(x, text)
	case c.e.Tag == "link" && plain && onlyAttrs(c.e):
		x = etree.NewElement("link")
		x.CreateAttr("href", strings.TrimSpace(text))
	case c.e.Tag == "guid" && plain && onlyAttrs(c.e, "isPermaLink"):
		x = etree.NewElement("id")
		x.SetText(strings.TrimSpace(text))
	case c.e.Tag == "pubDate" && plain && onlyAttrs(c.e):
		t, err := parseRFC822(strings.TrimSpace(text))
		if err != nil {
			return nil
		}
		x = etree.NewElement("published")
		x.SetText(FormatTime(t))
	case c.e.Tag == "author" && plain && onlyAttrs(c.e):
		x = etree.NewElement("author")
		v := strings.TrimSpace(text)
		if i := strings.Index(v, " ("); i > 0 && strings.HasSuffix(v, ")") {
			x.CreateElement("name").SetText(v[i+2 : len(v)-1])
			x.CreateElement("email").SetText(v[:i])
		} else {
			x.CreateElement("name").SetText(v)
		}
	case c.e.Tag == "category" && plain && onlyAttrs(c.e, "domain"):
		x = etree.NewElement("category")
		x.CreateAttr("term", strings.TrimSpace(text))
		if d := c.e.SelectAttr("domain"); d != nil {
			x.CreateAttr("scheme", d.Value)
		}
	case c.e.Tag == "enclosure" && plain && strings.TrimSpace(text) == "" && onlyAttrs(c.e, "url", "length", "type"):
		x = etree.NewElement("link")
		x.CreateAttr("rel", "enclosure")
		x.CreateAttr("href", c.e.SelectAttrValue("url", ""))
		if l := c.e.SelectAttr("length"); l != nil {
			x.CreateAttr("length", l.Value)
		}
		if t := c.e.SelectAttr("type"); t != nil {
			x.CreateAttr("type", t.Value)
		}
	default:
		return nil
	}
	commonAttrs(x, c)
	return x
}

// keepAsRSS keeps an RSS element in an Atom entry by putting it in no
// namespace explicitly.
func keepAsRSS(out *etree.Element, c childInfo) {
	x := c.e.Copy()
	declareUsed(x, c.sc)
	if x.Space == "" && x.SelectAttr("xmlns") == nil {
		x.CreateAttr("xmlns", "")
	}
	out.AddChild(x)
}

// restoreAtom brings an Atom element kept in an RSS item home, in the
// entry's default namespace when keepAsAtom gave it the prefix atom.
func restoreAtom(out *etree.Element, c childInfo) {
	x := c.e.Copy()
	if x.Space == "atom" && x.SelectAttrValue("xmlns:atom", "") == AtomNamespace && x.SelectAttrValue("xmlns", AtomNamespace) == AtomNamespace {
		removeAttr(x, "xmlns", "atom")
		removeAttr(x, "", "xmlns")
		// Inside, Atom is the default again: the scope of an entry.
		unprefixAtom(x)
	}
	declareUsed(x, c.sc)
	if x.Space == "" {
		removeAttr(x, "", "xmlns") // Atom is the default in an entry
	}
	out.AddChild(x)
}

// unprefixAtom undoes keepAsAtom's renaming: elements with the prefix atom
// go back to the default namespace, down to an element that declares
// another default namespace or the prefix atom again.
func unprefixAtom(e *etree.Element) {
	if e.Space == "atom" {
		e.Space = ""
	}
	for _, c := range e.ChildElements() {
		if c.SelectAttr("xmlns") != nil || c.SelectAttr("xmlns:atom") != nil {
			continue
		}
		unprefixAtom(c)
	}
}

func removeAttr(e *etree.Element, space, key string) {
	for i, a := range e.Attr {
		if a.Space == space && a.Key == key {
			e.Attr = append(e.Attr[:i], e.Attr[i+1:]...)
			return
		}
	}
}

// generatedID is the atom:id made up for an RSS item without a guid: its
// sync id, or a hash of its content when it has none yet.
func generatedID(it *Item) string {
	if it.ID() == "" {
		d, _ := it.Digest()
		return fmt.Sprintf("urn:feedsync:sha256-%x", d[:16])
	}
	return "urn:feedsync:" + it.ID()
}

// generatedUpdated is the atom:updated made up for an RSS item: its
// published date (the text of the published element), else the topmost
// history entry's when, else the Unix epoch.
func generatedUpdated(published string, it *Item) string {
	if t, err := ParseTime(strings.TrimSpace(published)); err == nil {
		return FormatTime(t)
	}
	if it.Sync != nil && it.Sync.Top().HasWhen() {
		return FormatTime(it.Sync.Top().When)
	}
	return "1970-01-01T00:00:00Z"
}

func atomToRSS(e *etree.Element, sc *scope, it *Item) *etree.Element {
	out := etree.NewElement("item")
	hasLink := false
	// What rssToAtom made up for an RSS item goes again, but only when
	// every element marked generated still holds the value it was made up
	// with: an edited one stays, and so do the others, so that converting
	// back gives the same entry.
	published := ""
	var marked []childInfo
	for _, c := range children(e, sc) {
		if c.uri != AtomNamespace {
			continue
		}
		if c.e.Tag == "published" && published == "" {
			published, _ = plainText(c.e)
		}
		if isGenerated(c) {
			marked = append(marked, c)
		}
	}
	dropAll := len(marked) > 0
	for _, c := range marked {
		text, plain := plainText(c.e)
		switch {
		case !plain:
			dropAll = false
		case c.e.Tag == "id" && text == generatedID(it):
		case c.e.Tag == "title" && text == "":
		case c.e.Tag == "updated" && text == generatedUpdated(published, it):
		default:
			dropAll = false
		}
	}
	drop := func(c childInfo) bool {
		return dropAll && c.uri == AtomNamespace && isGenerated(c)
	}
	cv := &converter{
		drop: drop,
		there: func(c childInfo) *etree.Element {
			x := atomToRSSChild(c)
			if x != nil && x.Tag == "link" && x.Space == "" {
				// RSS has one link: the first alternate link.
				if hasLink {
					return nil
				}
				hasLink = true
			}
			return x
		},
		pure:        atomToRSSChild,
		back:        rssToAtomChild,
		fromScope:   atomScope,
		targetScope: nil,
		keep:        keepAsAtom,
		kept:        func(c childInfo) bool { return c.uri == "" },
		restore:     restoreRSS,
	}
	cv.run(out, e, sc)
	// An entry without the elements Atom requires says so, so that
	// converting back does not make them up.
	has := map[string]bool{}
	for _, c := range children(e, sc) {
		if c.uri == AtomNamespace {
			has[c.e.Tag] = true
		}
	}
	var lacks []string
	for _, tag := range []string{"id", "title", "updated"} {
		if !has[tag] {
			lacks = append(lacks, tag)
		}
	}
	if len(lacks) > 0 {
		out.CreateAttr("xmlns:fsc", ConvertNamespace)
		out.CreateAttr("fsc:missing", strings.Join(lacks, " "))
	}
	return out
}

// atomToRSSChild returns the RSS counterpart of an Atom child, or nil.
func atomToRSSChild(c childInfo) *etree.Element {
	if c.uri != AtomNamespace {
		return nil
	}
	var x *etree.Element
	text, plain := plainText(c.e)
	switch c.e.Tag {
	case "title":
		s, ok := constructText(c.e)
		if !ok {
			return nil
		}
		x = etree.NewElement("title")
		x.SetText(s)
	case "summary":
		s, ok := constructHTML(c.e)
		if !ok {
			return nil
		}
		x = etree.NewElement("description")
		x.SetText(s)
	case "content":
		s, ok := constructHTML(c.e)
		if !ok {
			return nil
		}
		x = etree.NewElement("encoded")
		x.Space = "content"
		x.CreateAttr("xmlns:content", contentNamespace)
		x.SetText(s)
	case "link":
		if !plain || strings.TrimSpace(text) != "" {
			return nil
		}
		switch c.e.SelectAttrValue("rel", "alternate") {
		case "alternate":
			// With hreflang, type, title or an explicit rel the element
			// itself is kept beside the RSS link (see converter.run).
			x = etree.NewElement("link")
			x.SetText(c.e.SelectAttrValue("href", ""))
		case "enclosure":
			x = etree.NewElement("enclosure")
			x.CreateAttr("url", c.e.SelectAttrValue("href", ""))
			x.CreateAttr("length", c.e.SelectAttrValue("length", "0"))
			x.CreateAttr("type", c.e.SelectAttrValue("type", "application/octet-stream"))
		default:
			return nil
		}
	case "id":
		if !plain {
			return nil
		}
		x = etree.NewElement("guid")
		x.CreateAttr("isPermaLink", "false")
		x.SetText(strings.TrimSpace(text))
	case "published":
		t, err := ParseTime(strings.TrimSpace(text))
		if !plain || err != nil {
			return nil
		}
		x = etree.NewElement("pubDate")
		x.SetText(t.Format(time.RFC1123Z))
	case "author":
		name, email := c.e.SelectElement("name"), c.e.SelectElement("email")
		if email == nil {
			return nil
		}
		v := strings.TrimSpace(email.Text())
		if name != nil {
			v += " (" + strings.TrimSpace(name.Text()) + ")"
		}
		x = etree.NewElement("author")
		x.SetText(v)
	case "category":
		x = etree.NewElement("category")
		x.SetText(c.e.SelectAttrValue("term", ""))
		if s := c.e.SelectAttr("scheme"); s != nil {
			x.CreateAttr("domain", s.Value)
		}
	default:
		return nil
	}
	commonAttrs(x, c)
	return x
}

// keepAsAtom keeps an Atom element in an RSS item under the prefix atom,
// declaring it (and every other namespace it uses) on the copy. RSS readers
// that ignore namespaces then do not take it for an RSS element.
func keepAsAtom(out *etree.Element, c childInfo) {
	x := c.e.Copy()
	if c.uri == AtomNamespace && x.Space == "" {
		renameAtom(x, c.sc, "atom")
		removeAttr(x, "", "xmlns")
		x.CreateAttr("xmlns:atom", AtomNamespace)
	}
	declareUsed(x, c.sc)
	out.AddChild(x)
}

// renameAtom gives the prefix p to the elements of e's subtree that are in
// the Atom namespace and have the prefix they would need removed ("" to
// move them back to the default namespace), as long as the default
// namespace where they stand is Atom. sc is the scope of e's parent.
func renameAtom(e *etree.Element, sc *scope, p string) {
	in := sc.pushEtree(e.Attr)
	if in.uri("") != AtomNamespace && p == "atom" {
		return
	}
	if in.uri(e.Space) == AtomNamespace {
		e.Space = p
	}
	for _, c := range e.ChildElements() {
		renameAtom(c, in, p)
	}
}

// restoreRSS brings an RSS element kept in an Atom entry home.
func restoreRSS(out *etree.Element, c childInfo) {
	x := c.e.Copy()
	declareUsed(x, c.sc)
	if x.Space == "" {
		removeAttr(x, "", "xmlns") // RSS elements are in no namespace
	}
	out.AddChild(x)
}

// htmlConstruct makes x an Atom text construct holding the HTML s: of type
// html, or of type text when s has no markup (no '<' and no '&'), as HTML
// without markup shows exactly its text.
func htmlConstruct(x *etree.Element, s string) {
	if strings.ContainsAny(s, "<&") {
		x.CreateAttr("type", "html")
	}
	x.SetText(s)
}

// escapeHTML escapes text for HTML: '&' and '<', no more, so that text
// without them is its own HTML.
var escapeHTML = strings.NewReplacer("&", "&amp;", "<", "&lt;").Replace

// constructText returns an Atom text construct as plain text: text as it
// is, html with its tags left out and its references resolved, xhtml's
// character data. Content given by reference (src) or in another media
// type has none.
func constructText(e *etree.Element) (string, bool) {
	if e.SelectAttr("src") != nil {
		return "", false
	}
	switch e.SelectAttrValue("type", "text") {
	case "text":
		return plainText(e)
	case "html":
		s, ok := plainText(e)
		return htmlText(s), ok
	case "xhtml":
		var b strings.Builder
		var walk func(x *etree.Element)
		walk = func(x *etree.Element) {
			for _, t := range x.Child {
				switch t := t.(type) {
				case *etree.CharData:
					b.WriteString(t.Data)
				case *etree.Element:
					walk(t)
				}
			}
		}
		walk(xhtmlDiv(e))
		return strings.TrimSpace(b.String()), true
	}
	return "", false
}

// constructHTML returns an Atom text construct as HTML: text escaped, html
// as it is, xhtml serialised. Content given by reference (src) or in
// another media type has none.
func constructHTML(e *etree.Element) (string, bool) {
	if e.SelectAttr("src") != nil {
		return "", false
	}
	switch e.SelectAttrValue("type", "text") {
	case "text":
		s, ok := plainText(e)
		return escapeHTML(s), ok
	case "html":
		return plainText(e)
	case "xhtml":
		var b strings.Builder
		for _, t := range xhtmlDiv(e).Child {
			switch t := t.(type) {
			case *etree.CharData:
				b.WriteString(escapeHTML(t.Data))
			case *etree.Element:
				t.WriteTo(&b, exactXML)
			}
		}
		return b.String(), true
	}
	return "", false
}

// xhtmlDiv returns the xhtml:div an xhtml construct wraps its content in
// (RFC 4287 3.1.1.3), or the construct itself when it has none.
func xhtmlDiv(e *etree.Element) *etree.Element {
	if cs := e.ChildElements(); len(cs) == 1 && cs[0].Tag == "div" {
		return cs[0]
	}
	return e
}

// htmlText returns the text an HTML fragment shows: tags left out,
// character references resolved.
func htmlText(s string) string {
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
	return html.UnescapeString(b.String())
}

var rfc822Layouts = []string{
	time.RFC1123Z, time.RFC1123, time.RFC822Z, time.RFC822,
	"Mon, 2 Jan 2006 15:04:05 -0700", "Mon, 2 Jan 2006 15:04:05 MST",
	"2 Jan 2006 15:04:05 -0700", time.RFC3339,
}

func parseRFC822(s string) (time.Time, error) {
	for _, l := range rfc822Layouts {
		if t, err := time.Parse(l, s); err == nil {
			return t, nil
		}
	}
	return time.Time{}, fmt.Errorf("unrecognised date %q", s)
}
