package feedsync

import (
	"encoding/xml"
	"net/url"

	"github.com/beevik/etree"
)

// xmlNamespace is bound to the prefix "xml" in every document.
const xmlNamespace = "http://www.w3.org/XML/1998/namespace"

// scope is a chain of namespace declarations, innermost first. Items are
// detached from their document, so the bindings their prefixes rely on are
// carried along in a scope rather than looked up through parent elements.
type scope struct {
	parent *scope
	decls  []binding
	// xml:base (resolved against the parent's) and xml:lang set by the
	// element this scope is inside of, if any.
	base, lang       string
	setBase, setLang bool
}

// xmlBase returns the xml:base in force, resolved to an absolute URI as far
// as the bases above allow, or "" when none is.
func (s *scope) xmlBase() string {
	for ; s != nil; s = s.parent {
		if s.setBase {
			return s.base
		}
	}
	return ""
}

// xmlLang returns the xml:lang in force and whether one is ("" is a
// language too: unknown).
func (s *scope) xmlLang() (string, bool) {
	for ; s != nil; s = s.parent {
		if s.setLang {
			return s.lang, true
		}
	}
	return "", false
}

// resolveBase resolves the xml:base value v against base (RFC 3986); a
// value that does not parse is taken as it is.
func resolveBase(base, v string) string {
	if base == "" {
		return v
	}
	b, err1 := url.Parse(base)
	r, err2 := url.Parse(v)
	if err1 != nil || err2 != nil {
		return v
	}
	return b.ResolveReference(r).String()
}

// withXML returns s pushed with the xml:base and xml:lang among attrs
// (space, key, value), or s itself when there are none.
func (s *scope) withXML(space, key, value string, out *scope) *scope {
	if space != "xml" || key != "base" && key != "lang" {
		return out
	}
	if out == s {
		out = &scope{parent: s}
	}
	if key == "base" {
		out.base, out.setBase = resolveBase(s.xmlBase(), value), true
	} else {
		out.lang, out.setLang = value, true
	}
	return out
}

type binding struct{ prefix, uri string }

// lookup returns the URI bound to prefix ("" is the default namespace).
func (s *scope) lookup(prefix string) (string, bool) {
	if prefix == "xml" {
		return xmlNamespace, true
	}
	for ; s != nil; s = s.parent {
		for i := len(s.decls) - 1; i >= 0; i-- {
			if s.decls[i].prefix == prefix {
				return s.decls[i].uri, true
			}
		}
	}
	return "", false
}

// uri returns the URI bound to prefix, or "" when it is unbound.
func (s *scope) uri(prefix string) string {
	u, _ := s.lookup(prefix)
	return u
}

// prefixFor returns a prefix bound to uri that is not shadowed, preferring
// want. ok is false when no prefix is bound to uri.
func (s *scope) prefixFor(uri, want string) (string, bool) {
	if u, ok := s.lookup(want); ok && u == uri {
		return want, true
	}
	seen := map[string]bool{}
	for c := s; c != nil; c = c.parent {
		for i := len(c.decls) - 1; i >= 0; i-- {
			d := c.decls[i]
			if seen[d.prefix] {
				continue
			}
			seen[d.prefix] = true
			if d.uri == uri && d.prefix != "" {
				return d.prefix, true
			}
		}
	}
	return "", false
}

// flatten returns every binding in force, innermost winning.
func (s *scope) flatten() map[string]string {
	m := map[string]string{}
	var chain []*scope
	for c := s; c != nil; c = c.parent {
		chain = append(chain, c)
	}
	for i := len(chain) - 1; i >= 0; i-- {
		for _, d := range chain[i].decls {
			m[d.prefix] = d.uri
		}
	}
	return m
}

// pushXML returns the scope inside an element with the given raw attributes.
// It returns s itself when the element declares nothing.
func (s *scope) pushXML(attrs []xml.Attr) *scope {
	var decls []binding
	out := s
	for _, a := range attrs {
		switch {
		case a.Name.Space == "xmlns":
			decls = append(decls, binding{a.Name.Local, a.Value})
		case a.Name.Space == "" && a.Name.Local == "xmlns":
			decls = append(decls, binding{"", a.Value})
		default:
			out = s.withXML(a.Name.Space, a.Name.Local, a.Value, out)
		}
	}
	if decls == nil {
		return out
	}
	if out == s {
		return &scope{parent: s, decls: decls}
	}
	out.decls = decls
	return out
}

// pushEtree is pushXML for an etree element's attributes.
func (s *scope) pushEtree(attrs []etree.Attr) *scope {
	var decls []binding
	out := s
	for _, a := range attrs {
		switch {
		case a.Space == "xmlns":
			decls = append(decls, binding{a.Key, a.Value})
		case a.Space == "" && a.Key == "xmlns":
			decls = append(decls, binding{"", a.Value})
		default:
			out = s.withXML(a.Space, a.Key, a.Value, out)
		}
	}
	if decls == nil {
		return out
	}
	if out == s {
		return &scope{parent: s, decls: decls}
	}
	out.decls = decls
	return out
}

// isXMLNS reports whether an attribute is a namespace declaration.
func isXMLNS(space, key string) bool {
	return space == "xmlns" || space == "" && key == "xmlns"
}

// isSyncNS reports whether uri is the FeedSync namespace or its SSE 0.93
// predecessor.
func isSyncNS(uri string) bool { return uri == Namespace || uri == LegacyNamespace }

// detachSync removes the first sx:sync child of elem and returns elem and the
// child index it had, or -1. s is the scope of elem's parent.
func detachSync(elem *etree.Element, s *scope) (*etree.Element, int) {
	in := s.pushEtree(elem.Attr)
	for i, t := range elem.Child {
		c, ok := t.(*etree.Element)
		if !ok || c.Tag != "sync" {
			continue
		}
		if isSyncNS(in.pushEtree(c.Attr).uri(c.Space)) {
			elem.RemoveChildAt(i)
			return elem, i
		}
	}
	return elem, -1
}
