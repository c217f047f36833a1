package feedsync

import (
	"bytes"
	"slices"

	"github.com/beevik/etree"
)

// MarshalItem returns the item as a standalone XML element: its <item> or
// <entry> with every namespace declaration it relies on, so that it means
// the same outside its feed. Stores and spill files keep items this way;
// UnmarshalItem reads them back.
func MarshalItem(it *Item) ([]byte, error) {
	h := standaloneHeader(it.format)
	w := &Writer{h: h, decls: map[[2]*scope][]binding{}}
	// Render for a place where nothing is bound, so that every binding the
	// item relies on is declared on its root.
	b, err := w.render(it, nil)
	if err != nil {
		return nil, itemErr(it, err)
	}
	return bytes.Clone(b), nil
}

// UnmarshalItem parses an element written by MarshalItem (or any standalone
// RSS <item> or Atom <entry>).
func UnmarshalItem(b []byte) (*Item, error) { return unmarshalItem(b, ReaderOptions{}) }

// UnmarshalItem is the package's UnmarshalItem with the limits o instead
// of the defaults: with RepairLimits, a program reads back an item stored
// beyond the defaults in order to bring it under them (FS-ROBUST-6).
func (o ReaderOptions) UnmarshalItem(b []byte) (*Item, error) { return unmarshalItem(b, o) }

var (
	rssWrapOpen   = []byte("<rss><channel>")
	rssWrapClose  = []byte("</channel></rss>")
	atomWrapOpen  = []byte(`<feed xmlns="` + AtomNamespace + `">`)
	atomWrapClose = []byte("</feed>")
)

// sniffItemFormat looks at the root tag of a standalone element.
func sniffItemFormat(b []byte) Format {
	b = bytes.TrimLeft(b, " \t\r\n")
	switch {
	case bytes.HasPrefix(b, []byte("<item")) && len(b) > 5 && (isSpace(b[5]) || b[5] == '>' || b[5] == '/'):
		return RSS
	case bytes.Contains(b[:min(len(b), 200)], []byte("entry")):
		return Atom
	}
	return FormatUnknown
}

var standaloneHeaders = map[Format]*Header{
	RSS:  {Format: RSS},
	Atom: {Format: Atom},
}

func standaloneHeader(f Format) *Header {
	if h, ok := standaloneHeaders[f]; ok {
		return h
	}
	return standaloneHeaders[RSS]
}

// Carry returns it with the xml:base and xml:lang in force where it was read
// written on its own element, so that it means the same outside the feed it
// came from: relative links resolve against the same base, text keeps its
// language. Its own relative xml:base is resolved against the feed's. An
// item that takes either from its feed has them first, xml:lang then
// xml:base, before its other attributes: one form, whichever hop or
// conversion came first (Enter puts xml:lang="" first likewise). The
// sync metadata is unchanged, and so is the payload's meaning; conflict
// copies are carried too. An item that needs nothing (no base or language
// in force above it, or its own already absolute) is returned as it is.
//
// This is where an item leaves its feed: the merge carries each incoming
// item before it compares or stores it (merge.Run, merge.Feeds). Inside its
// own feed an item is written back as read.
//
// An item with no xml:lang in force has nothing to carry; where it enters
// a feed that sets one, Enter says that it has none. An item with no
// xml:base in force has references relative to whichever document holds
// it, and keeps them so: in a feed with a base, they resolve against it.
func Carry(it *Item) *Item {
	if it == nil {
		return nil
	}
	out := it
	if it.Sync != nil {
		var cs []*Item
		for i, c := range it.Sync.Conflicts {
			cc := Carry(c)
			if cc != c && cs == nil {
				cs = append([]*Item(nil), it.Sync.Conflicts...)
			}
			if cs != nil {
				cs[i] = cc
			}
		}
		if cs != nil {
			s := it.Sync.Clone()
			s.Conflicts = cs
			out = it.withSync(s)
		}
	}
	if it.src == nil {
		return out
	}
	base := it.src.scope.xmlBase()
	lang, hasLang := it.src.scope.xmlLang()
	if base == "" && !hasLang {
		return out
	}
	e, err := it.payload()
	if err != nil {
		return out
	}
	p := e.Copy()
	changed := false
	if base != "" {
		if a := p.SelectAttr("xml:base"); a == nil {
			p.CreateAttr("xml:base", base)
			changed = true
		} else if abs := resolveBase(base, a.Value); abs != a.Value {
			a.Value = abs
			changed = true
		}
	}
	if hasLang && p.SelectAttr("xml:lang") == nil {
		p.CreateAttr("xml:lang", lang)
		changed = true
	}
	if !changed {
		return out
	}
	// One form whatever was carried at which hop: xml:lang, then xml:base,
	// then the item's other attributes in their order.
	xmlAttrsFirst(p)
	// Namespaces the item relies on are declared on it too.
	declareUsed(p, it.src.scope)
	return out.withPayload(p)
}

// xmlAttrsFirst moves e's xml:lang, then its xml:base, before its other
// attributes, which keep their order. Carry and Enter give an item that
// takes either from its feed this one form, so that it has the same bytes
// however it came (a conversion, which appends fsc:missing, before or
// after the hop that gave it them) and endpoints that hold it settle
// (FS-FEED-10, A-18).
func xmlAttrsFirst(e *etree.Element) {
	rank := func(a etree.Attr) int {
		if a.Space == "xml" {
			switch a.Key {
			case "lang":
				return 0
			case "base":
				return 1
			}
		}
		return 2
	}
	slices.SortStableFunc(e.Attr, func(a, b etree.Attr) int { return rank(a) - rank(b) })
}

// Enter returns it, an item carried out of its feed (Carry), as it stands
// in the feed whose header is h, so that it means the same there and has
// one form there whatever feed it came from:
//
//   - an item with no xml:lang in force would take the language h's feed
//     sets for its items: it gets xml:lang="" on its own element, which
//     says that it has none (XML 1.0 §2.12), as its first attribute;
//   - an item whose own xml:lang is "" in a feed that sets no language (or
//     sets "") loses it: there it says nothing.
//
// Conflict copies likewise, in the language of the item that holds them.
// So an item without a language, carried from feed to feed, settles: every
// feed that sets a language holds it with xml:lang="", every other one
// without, and merging it again changes nothing (§17 A-18). An item that
// needs nothing is returned as it is; conversions copy the attribute both
// ways.
//
// The merge calls it for each incoming item, after Carry, with the local
// feed's header (merge.Feeds; merge.Options.Into for merge.Run).
//
// xml:base has no such counterpart: an empty one resolves to the base in
// force, so an item with no base in force takes that of the feed that
// holds it. Feeds that disagree on whether items have a base (one sets
// xml:base, another none) give such an item different meanings, and their
// merges keep taking each other's; items that set their own base, or feeds
// that all set one, converge.
func Enter(it *Item, h *Header) *Item {
	if it == nil || h == nil {
		return it
	}
	lang, ok := h.scope.xmlLang()
	return enterLang(it, ok && lang != "")
}

// xmlLangName is how xml:lang is spelt wherever it stands: the xml prefix
// cannot be bound to another name (Namespaces in XML 1.0 §3).
var xmlLangName = []byte("xml:lang")

// enterLang is Enter where sets says whether a language other than "" is
// in force around it. Its conflict copies stand inside it: around them,
// the item's own language is in force, else the one around it.
func enterLang(it *Item, sets bool) *Item {
	// After Carry, the language in force where it was read is on it.
	// The merge enters every incoming item, most of them without any
	// xml:lang: an item still in its source bytes is parsed only when
	// they hold the attribute's name, or when it must be added.
	var e *etree.Element
	var a *etree.Attr
	if it.elem != nil || it.src == nil || it.src.raw == nil || bytes.Contains(it.src.raw, xmlLangName) || sets {
		var err error
		if e, err = it.payload(); err != nil {
			return it
		}
		a = e.SelectAttr("xml:lang")
	}
	var p *etree.Element
	inner := sets
	if a != nil {
		inner = a.Value != ""
	}
	switch {
	case sets && (a == nil || a.Value == "" && e.Attr[0].FullKey() != "xml:lang"):
		// First, so that the form does not depend on where the item
		// had the attribute before.
		p = e.Copy()
		p.RemoveAttr("xml:lang")
		p.Attr = append([]etree.Attr{{Space: "xml", Key: "lang"}}, p.Attr...)
		inner = false
	case !sets && a != nil && a.Value == "":
		p = e.Copy()
		p.RemoveAttr("xml:lang")
	}
	out := it
	if it.Sync != nil {
		var cs []*Item
		for i, c := range it.Sync.Conflicts {
			if c == nil {
				continue
			}
			cc := enterLang(c, inner)
			if cc != c && cs == nil {
				cs = append([]*Item(nil), it.Sync.Conflicts...)
			}
			if cs != nil {
				cs[i] = cc
			}
		}
		if cs != nil {
			s := it.Sync.Clone()
			s.Conflicts = cs
			out = it.withSync(s)
		}
	}
	if p == nil {
		return out
	}
	if it.src != nil {
		// Namespaces the item relies on are declared on it, as Carry
		// does: the new payload stands on its own.
		declareUsed(p, it.src.scope)
	}
	return out.withPayload(p)
}
