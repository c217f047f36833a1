package plainfeed

import (
	"io"
	"strings"

	"github.com/beevik/etree"
)

const atom03Namespace = "http://purl.org/atom/ns#"

// atomTexts is what gofeed does not say about an Atom entry: the type of
// its title, summary and content, and inline XHTML content as XML.
type atomTexts struct {
	title, summary, content textKind
	xhtml                   *etree.Element // content's xhtml:div, self-contained
}

// readAtomTexts parses an Atom 1.0 or 0.3 document and returns, for each
// entry in document order, the types of its text constructs. gofeed flattens
// every text construct to a string and renders XHTML content as HTML; this
// second look keeps "Atom xhtml content as xhtml" when the output is Atom.
// It returns nil when the document cannot be parsed as XML, and the caller
// then treats every construct as HTML.
func readAtomTexts(data []byte) []atomTexts {
	doc := etree.NewDocument()
	doc.ReadSettings.Permissive = true
	doc.ReadSettings.CharsetReader = func(label string, in io.Reader) (io.Reader, error) {
		return latin1Reader(label, in)
	}
	if err := doc.ReadFromBytes(data); err != nil {
		return nil
	}
	root := doc.Root()
	if root == nil || root.Tag != "feed" {
		return nil
	}
	ns := root.NamespaceURI()
	var out []atomTexts
	for _, e := range root.ChildElements() {
		if e.Tag != "entry" || e.NamespaceURI() != ns {
			continue
		}
		at := atomTexts{title: kindText, summary: kindText, content: kindText}
		for _, c := range e.ChildElements() {
			if c.NamespaceURI() != ns {
				continue
			}
			switch c.Tag {
			case "title":
				at.title = atomKind(c, ns)
			case "summary":
				at.summary = atomKind(c, ns)
			case "content":
				at.content = atomKind(c, ns)
				if at.content == kindXHTML {
					at.xhtml = xhtmlDiv(c)
					if at.xhtml == nil {
						at.content = kindHTML
					}
				}
			}
		}
		out = append(out, at)
	}
	return out
}

// atomKind reads the type of a text construct (RFC 4287 §3.1; Atom 0.3
// used MIME types and a mode attribute).
func atomKind(e *etree.Element, ns string) textKind {
	typ := strings.ToLower(strings.TrimSpace(e.SelectAttrValue("type", "")))
	if ns == atom03Namespace {
		mode := strings.ToLower(e.SelectAttrValue("mode", "xml"))
		switch {
		case strings.Contains(typ, "xhtml") && mode == "xml":
			return kindXHTML
		case strings.Contains(typ, "html"):
			return kindHTML
		case typ == "" || typ == "text/plain":
			return kindText
		}
		return kindHTML
	}
	switch typ {
	case "", "text":
		return kindText
	case "xhtml":
		return kindXHTML
	}
	// "html", and media types gofeed has already decoded to a string.
	return kindHTML
}

// xhtmlDiv returns a self-contained copy of the xhtml:div of an XHTML text
// construct. RFC 4287 §3.1.1.3 requires exactly one such div; Atom 0.3 feeds
// sometimes put the markup in directly, so other children are wrapped in a
// new div. Nil when there is nothing to carry.
func xhtmlDiv(e *etree.Element) *etree.Element {
	kids := e.ChildElements()
	if len(kids) == 1 && kids[0].Tag == "div" && kids[0].NamespaceURI() == xhtmlNamespace {
		return resolvedCopy(kids[0], "")
	}
	if len(kids) == 0 {
		return nil
	}
	div := etree.NewElement("div")
	div.CreateAttr("xmlns", xhtmlNamespace)
	for _, t := range e.Child {
		switch t := t.(type) {
		case *etree.Element:
			div.AddChild(resolvedCopy(t, xhtmlNamespace))
		case *etree.CharData:
			div.CreateText(t.Data)
		}
	}
	return div
}

// resolvedCopy copies e so that the copy means the same anywhere: every
// element is written without a prefix and declares its namespace as the
// default one where it differs from its parent's (parentNS), and prefixed
// attributes declare their prefix. Comments and processing instructions are
// dropped; text is kept exactly.
func resolvedCopy(e *etree.Element, parentNS string) *etree.Element {
	ns := e.NamespaceURI()
	c := etree.NewElement(e.Tag)
	if ns != parentNS {
		c.CreateAttr("xmlns", ns)
	}
	declared := map[string]bool{}
	for _, a := range e.Attr {
		if a.Space == "xmlns" || a.Space == "" && a.Key == "xmlns" {
			continue
		}
		if a.Space != "" && a.Space != "xml" && !declared[a.Space] {
			if u := a.NamespaceURI(); u != "" {
				c.CreateAttr("xmlns:"+a.Space, u)
				declared[a.Space] = true
			}
		}
		c.Attr = append(c.Attr, etree.Attr{Space: a.Space, Key: a.Key, Value: a.Value})
	}
	for _, t := range e.Child {
		switch t := t.(type) {
		case *etree.Element:
			c.AddChild(resolvedCopy(t, ns))
		case *etree.CharData:
			if t.IsCData() {
				c.CreateCData(t.Data)
			} else {
				c.CreateText(t.Data)
			}
		}
	}
	return c
}
