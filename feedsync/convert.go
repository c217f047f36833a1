package feedsync

import (
	"fmt"
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
// becomes an Atom <entry> and back. The sync metadata is carried unchanged and
// conflict copies are converted too. Elements with a counterpart are mapped
// (title, link, description/summary, content, guid/id, pubDate/updated,
// author, category, enclosure); elements of other namespaces are copied as
// they are; elements of the source format without a counterpart are kept in
// their own namespace, so nothing is lost.
//
// Atom requires id and updated. An RSS item without a guid gets the id
// "urn:feedsync:" plus its sync id (or a hash of its content when it has
// none); without a pubDate, updated is the topmost history entry's when, or
// the Unix epoch for an item with no time at all — a fixed value, so that
// converting the same item twice gives the same entry.
func ConvertItem(it *Item, to Format) (*Item, error) {
	if it.format == to || to == FormatUnknown {
		return it, nil
	}
	e, err := it.payload()
	if err != nil {
		return nil, err
	}
	var sc *scope
	if it.src != nil {
		sc = it.src.scope
	}
	var out *etree.Element
	if to == Atom {
		out = rssToAtom(e, sc, it)
	} else {
		out = atomToRSS(e, sc)
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

// foreign copies c into parent, declaring every prefix c uses so that the
// copy means the same wherever it lands.
func foreign(parent *etree.Element, c childInfo) {
	cp := c.e.Copy()
	declareUsed(cp, c.sc)
	parent.AddChild(cp)
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

func rssToAtom(e *etree.Element, sc *scope, it *Item) *etree.Element {
	out := etree.NewElement("entry")
	var hasID, hasUpdated, hasTitle bool
	var updated string
	for _, c := range children(e, sc) {
		if c.uri != "" {
			switch {
			case c.uri == contentNamespace && c.e.Tag == "encoded":
				x := out.CreateElement("content")
				x.CreateAttr("type", "html")
				x.SetText(c.e.Text())
				continue
			case c.uri == dcNamespace && c.e.Tag == "creator":
				out.CreateElement("author").CreateElement("name").SetText(c.e.Text())
				continue
			case c.uri == AtomNamespace:
				// Atom elements kept from an earlier conversion come home.
				x := c.e.Copy()
				x.Space = ""
				out.AddChild(x)
				switch x.Tag {
				case "id":
					hasID = true
				case "updated":
					hasUpdated = true
				}
				continue
			}
			foreign(out, c)
			continue
		}
		switch c.e.Tag {
		case "title":
			hasTitle = true
			x := out.CreateElement("title")
			x.CreateAttr("type", "html")
			x.SetText(c.e.Text())
		case "link":
			x := out.CreateElement("link")
			x.CreateAttr("rel", "alternate")
			x.CreateAttr("href", strings.TrimSpace(c.e.Text()))
		case "description":
			x := out.CreateElement("summary")
			x.CreateAttr("type", "html")
			x.SetText(c.e.Text())
		case "guid":
			hasID = true
			out.CreateElement("id").SetText(strings.TrimSpace(c.e.Text()))
		case "pubDate":
			if t, err := parseRFC822(strings.TrimSpace(c.e.Text())); err == nil {
				updated = FormatTime(t)
				out.CreateElement("published").SetText(updated)
			} else {
				keepAsRSS(out, c.e)
			}
		case "author":
			a := out.CreateElement("author")
			v := strings.TrimSpace(c.e.Text())
			if i := strings.Index(v, " ("); i > 0 && strings.HasSuffix(v, ")") {
				a.CreateElement("name").SetText(v[i+2 : len(v)-1])
				a.CreateElement("email").SetText(v[:i])
			} else {
				a.CreateElement("name").SetText(v)
			}
		case "category":
			x := out.CreateElement("category")
			x.CreateAttr("term", strings.TrimSpace(c.e.Text()))
			if d := c.e.SelectAttrValue("domain", ""); d != "" {
				x.CreateAttr("scheme", d)
			}
		case "enclosure":
			x := out.CreateElement("link")
			x.CreateAttr("rel", "enclosure")
			x.CreateAttr("href", c.e.SelectAttrValue("url", ""))
			if t := c.e.SelectAttrValue("type", ""); t != "" {
				x.CreateAttr("type", t)
			}
			if l := c.e.SelectAttrValue("length", ""); l != "" {
				x.CreateAttr("length", l)
			}
		default:
			keepAsRSS(out, c.e)
		}
	}
	// Atom requires id, title and updated.
	if !hasTitle {
		out.CreateElement("title")
	}
	if !hasID {
		id := "urn:feedsync:" + it.ID()
		if it.ID() == "" {
			// No sync id yet: name the entry after its content, which is
			// stable for the same item.
			d, _ := it.Digest()
			id = fmt.Sprintf("urn:feedsync:sha256-%x", d[:16])
		}
		out.CreateElement("id").SetText(id)
	}
	if !hasUpdated {
		if updated == "" {
			updated = FormatTime(fallbackTime(it))
		}
		out.CreateElement("updated").SetText(updated)
	}
	return out
}

// keepAsRSS keeps an RSS element with no Atom counterpart in an Atom entry
// by putting it in no namespace explicitly.
func keepAsRSS(out *etree.Element, e *etree.Element) {
	x := e.Copy()
	x.CreateAttr("xmlns", "")
	out.AddChild(x)
}

func fallbackTime(it *Item) time.Time {
	if it.Sync != nil && it.Sync.Top().HasWhen() {
		return it.Sync.Top().When
	}
	return time.Unix(0, 0)
}

func atomToRSS(e *etree.Element, sc *scope) *etree.Element {
	out := etree.NewElement("item")
	var link, desc, content *etree.Element
	for _, c := range children(e, sc) {
		if c.uri != AtomNamespace {
			if c.uri == "" {
				// An RSS element kept by an earlier conversion.
				x := c.e.Copy()
				for i := len(x.Attr) - 1; i >= 0; i-- {
					if x.Attr[i].Space == "" && x.Attr[i].Key == "xmlns" {
						x.Attr = append(x.Attr[:i], x.Attr[i+1:]...)
					}
				}
				out.AddChild(x)
				continue
			}
			foreign(out, c)
			continue
		}
		switch c.e.Tag {
		case "title":
			out.CreateElement("title").SetText(textOf(c.e))
		case "link":
			rel := c.e.SelectAttrValue("rel", "alternate")
			switch {
			case rel == "alternate" && link == nil:
				link = out.CreateElement("link")
				link.SetText(c.e.SelectAttrValue("href", ""))
			case rel == "enclosure":
				x := out.CreateElement("enclosure")
				x.CreateAttr("url", c.e.SelectAttrValue("href", ""))
				x.CreateAttr("type", c.e.SelectAttrValue("type", "application/octet-stream"))
				x.CreateAttr("length", c.e.SelectAttrValue("length", "0"))
			default:
				keepAsAtom(out, c.e)
			}
		case "summary":
			desc = out.CreateElement("description")
			desc.SetText(textOf(c.e))
		case "content":
			content = c.e
		case "id":
			g := out.CreateElement("guid")
			g.CreateAttr("isPermaLink", "false")
			g.SetText(strings.TrimSpace(c.e.Text()))
		case "published":
			if t, err := ParseTime(strings.TrimSpace(c.e.Text())); err == nil {
				out.CreateElement("pubDate").SetText(t.Format(time.RFC1123Z))
			}
			keepAsAtom(out, c.e)
		case "author":
			name := c.e.SelectElement("name")
			email := c.e.SelectElement("email")
			if email != nil {
				v := strings.TrimSpace(email.Text())
				if name != nil {
					v += " (" + strings.TrimSpace(name.Text()) + ")"
				}
				out.CreateElement("author").SetText(v)
			} else {
				keepAsAtom(out, c.e)
			}
		case "category":
			x := out.CreateElement("category")
			x.SetText(c.e.SelectAttrValue("term", ""))
			if s := c.e.SelectAttrValue("scheme", ""); s != "" {
				x.CreateAttr("domain", s)
			}
		default:
			keepAsAtom(out, c.e)
		}
	}
	if content != nil {
		if desc == nil {
			out.CreateElement("description").SetText(textOf(content))
		} else {
			x := out.CreateElement("encoded")
			x.Space = "content"
			x.CreateAttr("xmlns:content", contentNamespace)
			x.SetText(textOf(content))
		}
	}
	return out
}

// keepAsAtom keeps an Atom element with no RSS counterpart in an RSS item,
// in the Atom namespace.
func keepAsAtom(out *etree.Element, e *etree.Element) {
	x := e.Copy()
	x.Space = "atom"
	x.CreateAttr("xmlns:atom", AtomNamespace)
	setSpace(x, "atom")
	out.AddChild(x)
}

func setSpace(e *etree.Element, p string) {
	for _, c := range e.ChildElements() {
		if c.Space == "" {
			c.Space = p
		}
		setSpace(c, p)
	}
}

// textOf returns an Atom text construct as text or escaped HTML.
func textOf(e *etree.Element) string {
	if e.SelectAttrValue("type", "text") == "xhtml" {
		var b strings.Builder
		for _, c := range e.ChildElements() {
			var sb strings.Builder
			c.WriteTo(&sb, exactXML)
			b.WriteString(sb.String())
		}
		return b.String()
	}
	return e.Text()
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
