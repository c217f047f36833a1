package feedsync

import (
	"github.com/beevik/etree"
)

// Item is one RSS <item> or Atom <entry>: a payload (every child element that
// is not sx:sync) plus its sync metadata.
//
// Items are values: the rules in this package (Update, MergeItem, Resolve, …)
// never modify the items they are given; they return new ones that share
// whatever did not change. Change an item's payload only through a copy
// (Payload returns one) handed to Update.
type Item struct {
	// Sync is the item's sx:sync metadata; nil for an item that does not take
	// part in synchronization (FS-SYNC-1).
	Sync *Sync

	format Format
	line   int

	// src holds what the reader saw. While the item's Sync still equals the
	// one read (src.orig), the item is written back as the exact bytes read.
	src *source

	// elem is the payload element (<item> or <entry>) without its sx:sync
	// child, parsed on first use. syncIndex is where sx:sync stood among
	// elem's children so that a rewrite keeps its position (FS-NS-4); -1
	// appends it last.
	elem      *etree.Element
	syncIndex int

	digest    Digest
	hasDigest bool

	// problems and warnings found while reading the item's metadata.
	problems, warnings []error
}

// source is an item as it was read from a document.
type source struct {
	raw   []byte // the item's bytes, start tag to end tag
	scope *scope // namespace bindings in force at the item's parent
	inner *scope // bindings in force inside the item's start tag
	orig  *Sync  // metadata as read, to detect changes
	// syncStart/syncEnd delimit the sx:sync element within raw, or -1.
	syncStart, syncEnd int
	// dirty forbids writing raw even while the metadata is unchanged.
	dirty bool
}

// NewItem returns an item of the given format whose payload is elem, an
// <item> (RSS) or <entry> (Atom) element. An sx:sync child in elem is
// ignored and dropped: set Sync through Create or by assigning it.
func NewItem(format Format, elem *etree.Element) *Item {
	it := &Item{format: format, syncIndex: -1}
	if elem == nil {
		tag := "item"
		if format == Atom {
			tag = "entry"
		}
		elem = etree.NewElement(tag)
	}
	elem = elem.Copy()
	it.elem, it.syncIndex = detachSync(elem, nil)
	it.setDigest()
	return it
}

// setDigest computes the digest of a parsed payload now, so that items stay
// immutable once built and may be shared between goroutines.
func (it *Item) setDigest() {
	sc := formatScope(it.format)
	if it.src != nil {
		sc = it.src.scope
	}
	it.digest, it.hasDigest = digestElement(it.elem, sc), true
}

// Format returns the format of the feed the item belongs to.
func (it *Item) Format() Format { return it.format }

// Line returns the line of the item's start tag in the document it was read
// from, or 0 for an item not read from a document.
func (it *Item) Line() int { return it.line }

// ID returns the item's sync id, or "" for an item without sx:sync.
func (it *Item) ID() string {
	if it == nil || it.Sync == nil {
		return ""
	}
	return it.Sync.ID
}

// Payload returns a copy of the item's payload element (<item> or <entry>)
// without its sx:sync child. The copy may be edited and passed to Update.
// It declares on its root the namespaces it inherited from the feed, so it
// means the same outside the document it was read from.
func (it *Item) Payload() (*etree.Element, error) {
	e, err := it.payload()
	if err != nil {
		return nil, err
	}
	c := e.Copy()
	if it.src != nil {
		declareUsed(c, it.src.scope)
	} else {
		declareUsed(c, formatScope(it.format))
	}
	return c, nil
}

// payload returns the shared, parsed payload element. Callers must not
// modify it.
func (it *Item) payload() (*etree.Element, error) {
	if it.elem != nil {
		return it.elem, nil
	}
	e, idx, err := parseItemBytes(it.src)
	if err != nil {
		return nil, itemErr(it, err)
	}
	it.elem, it.syncIndex = e, idx
	return e, nil
}

// withSync returns a shallow copy of it carrying s. The payload is shared.
func (it *Item) withSync(s *Sync) *Item {
	c := *it
	c.Sync = s
	return &c
}

// withPayload returns a copy of it whose payload is elem (owned by the copy
// from now on) and whose source bytes are forgotten.
//
// sx:sync stays where it stood (FS-NS-4): when elem has no sx:sync of its
// own, it goes before the same child element as before (first stays first,
// last stays last), counted in elements so that white space between them
// does not matter.
func (it *Item) withPayload(elem *etree.Element) *Item {
	before := -1 // child elements before sx:sync in the old payload, -1 for last
	if old, err := it.payload(); err == nil && it.syncIndex >= 0 {
		before = elementsBefore(old, it.syncIndex)
		if before >= len(old.ChildElements()) {
			before = -1
		}
	}
	c := *it
	c.src = nil
	c.elem, c.syncIndex = detachSync(elem, nil)
	if c.syncIndex < 0 && before >= 0 {
		c.syncIndex = childIndexOfElement(c.elem, before)
	}
	c.setDigest()
	return &c
}

// elementsBefore counts the child elements of e before e.Child[idx].
func elementsBefore(e *etree.Element, idx int) int {
	n := 0
	for i, t := range e.Child {
		if i >= idx {
			break
		}
		if _, ok := t.(*etree.Element); ok {
			n++
		}
	}
	return n
}

// childIndexOfElement returns the index in e.Child of e's n-th child
// element (from 0), or -1 (last) when e has no more than n.
func childIndexOfElement(e *etree.Element, n int) int {
	for i, t := range e.Child {
		if _, ok := t.(*etree.Element); ok {
			if n == 0 {
				return i
			}
			n--
		}
	}
	return -1
}

// pristine reports whether the item can be written as the bytes it was read
// from: its metadata, including the conflict copies, is what was read.
func (it *Item) pristine() bool {
	if it.src == nil || it.src.raw == nil || it.src.dirty {
		return false
	}
	o, s := it.src.orig, it.Sync
	if o == nil || s == nil {
		return o == s
	}
	if !s.SameVersion(o) || len(s.Conflicts) != len(o.Conflicts) ||
		len(s.ExtraAttrs) != len(o.ExtraAttrs) || len(s.ExtraElements) != len(o.ExtraElements) {
		return false
	}
	for i := range s.Conflicts {
		if s.Conflicts[i] != o.Conflicts[i] {
			return false
		}
	}
	for i := range s.History {
		if len(s.History[i].Extra) != len(o.History[i].Extra) {
			return false
		}
	}
	return true
}

// atomScope binds the default namespace to Atom.
var atomScope = &scope{decls: []binding{{"", AtomNamespace}}}

// formatScope is the scope an item built in code (without source bytes) is
// taken to stand in: an Atom <entry> without a namespace declaration is in
// the Atom namespace, an RSS <item> in none.
func formatScope(f Format) *scope {
	if f == Atom {
		return atomScope
	}
	return nil
}
