package converter

import (
	"bytes"
	"errors"
	"fmt"

	"github.com/beevik/etree"

	"github.com/feedsync/go-feedsync/feedsync"
)

// Errors returned by Struct, Raw and IDs. Each is wrapped with what failed;
// test for them with errors.Is.
var (
	// ErrNotItem is returned by Struct.FromPayload, Raw.ToPayload and
	// Raw.FromPayload when the XML is not a single RSS <item> or Atom
	// <entry> element of the expected format (FS-NS-2, FS-NS-3), or when a
	// payload carries an sx:sync child (a payload is the item without its
	// metadata; whole items go through feedsync.UnmarshalItem).
	ErrNotItem = errors.New("converter: not an item payload")
	// ErrUnsafeXML is returned by Raw.ToPayload for a document type
	// declaration (and with it every entity definition) or an undeclared
	// namespace prefix: payloads are parsed with DTDs and external entities
	// disabled (FS-ROBUST-4).
	ErrUnsafeXML = errors.New("converter: unsafe or non-namespace-well-formed XML")
	// ErrStruct is returned by Struct when the type cannot be an item
	// payload (not a struct, an XMLName naming another element, an sx:sync
	// field), when encoding/xml cannot marshal a value, or when an Atom
	// entry lacks a required element that the struct maps but left out.
	ErrStruct = errors.New("converter: struct cannot be an item payload")
	// ErrID is returned by IDs for an empty key or endpoint, a sync id or by
	// value that SyncID or ByFromEndpoint would not have produced, and an
	// endpoint name reserved for anonymous history entries.
	ErrID = errors.New("converter: invalid id")
)

// ItemConverter converts application values of type T to item payloads and
// back. A payload is an RSS <item> or Atom <entry> element without sx:sync:
// the shared data that feedsync.Create and feedsync.Update carry and that
// the sync rules never look into (FS-TYPE-1).
//
// ToPayload gets the item's sync id as well as the value, because an Atom
// entry must carry an atom:id and the sync id is the one stable identity a
// converter can derive it from (FS-SYNC-2 lets the two differ, and deriving
// keeps the payload a function of the data). Converters that do not need it
// ignore it. Map, Struct and Raw implement the interface as they are.
//
// The interface is generic rather than written for any: the caller gets T
// back from FromPayload without a type assertion, and a mismatch between a
// converter and the values it is given is a compile error. Code that must
// hold converters of several types keeps them behind its own func or
// interface values.
//
// Implementations should be deterministic, so that equal values give equal
// payloads and so equal digests (feedsync.Item.Digest): unchanged data must
// not look like an update (FS-UPDATE-6).
type ItemConverter[T any] interface {
	// ToPayload returns the payload for v of the item whose sync id is id.
	ToPayload(id string, v T) (*etree.Element, error)
	// FromPayload returns the value a payload holds.
	FromPayload(e *etree.Element) (T, error)
}

// Compile-time checks that the converters of this package fit.
var (
	_ ItemConverter[map[string]any] = Map{}
	_ ItemConverter[[]byte]         = Raw{}
	_ ItemConverter[struct{}]       = Struct[struct{}]{}

	_ PublisherSpecific = Struct[struct{}]{}
	_ PublisherSpecific = PublisherFunc(nil)
)

// PublisherSpecific is implemented by converters that know which children
// of a payload are publisher-specific data rather than shared data
// (FS-INCORP-1..3). Each publisher may present publisher-specific data its
// own way, for example an Atom link rel="self" or rel="edit" that points at
// the publisher's own copy (AtomPublisherLinks); shared data must be the
// same at every endpoint.
//
// The method is asked about each direct child of a payload element. Without
// it every child is shared data (FS-INCORP-3).
//
// How a merge treats them: feedsync.MergeItem and Item.Digest never consult
// converters (converters depend on feedsync, not the reverse), so they see
// the whole payload. A merge takes the winning version's payload as it is,
// publisher-specific children included (FS-MERGE-9). Three helpers apply
// the distinction at the edges:
//
//   - Incorporate puts the local endpoint's own publisher-specific children
//     back into a merged item without an update, as FS-INCORP-2 allows.
//     Because the result then differs in bytes from the peer's version with
//     the same metadata, the next merge of that peer's feed brings the peer's
//     payload back (MergeItem reports it as Updated, A-18 in docs/RULES.md):
//     apply Incorporate after every merge, not once.
//   - SharedDigest hashes only the shared data, so that a rewrite of
//     publisher-specific data is not mistaken for a change of shared data,
//     which would need an update (FS-UPDATE-6).
//   - Shared cuts the publisher-specific children out of a payload.
type PublisherSpecific interface {
	PublisherSpecific(child *etree.Element) bool
}

// PublisherFunc is a PublisherSpecific predicate as a function. A nil
// PublisherFunc declares nothing publisher-specific.
type PublisherFunc func(child *etree.Element) bool

// PublisherSpecific calls f, or returns false when f is nil.
func (f PublisherFunc) PublisherSpecific(child *etree.Element) bool {
	return f != nil && f(child)
}

// AtomPublisherLinks declares the Atom links that point at the publisher's
// own copy of an entry publisher-specific: atom:link with rel "self",
// "edit" or "edit-media" (RFC 4287, RFC 5023). It is the typical case named
// by FS-INCORP-3. It recognises them in RSS items too (as atom:link).
//
// It is a function, not a variable, so that no package can change what
// every other one declares: use it as Struct's Publisher, or as
// PublisherFunc(AtomPublisherLinks) where a PublisherSpecific is wanted.
func AtomPublisherLinks(c *etree.Element) bool {
	if c.Tag != "link" || !isAtom(c) {
		return false
	}
	switch c.SelectAttrValue("rel", "") {
	case "self", "edit", "edit-media":
		return true
	}
	return false
}

// isAtom reports whether c is in the Atom namespace, or unqualified inside
// an Atom <entry> that was cut out of its feed without its declaration.
func isAtom(c *etree.Element) bool {
	uri := c.NamespaceURI()
	if uri == feedsync.AtomNamespace {
		return true
	}
	if uri != "" || c.Space != "" {
		return false
	}
	p := c.Parent()
	return p != nil && p.Tag == "entry" && p.Space == "" && p.NamespaceURI() == ""
}

// Shared returns a copy of payload without the children p declares
// publisher-specific. A nil p declares none, and the copy is complete.
func Shared(p PublisherSpecific, payload *etree.Element) *etree.Element {
	out := payload.Copy()
	if p == nil {
		return out
	}
	for i := len(payload.Child) - 1; i >= 0; i-- {
		if c, ok := payload.Child[i].(*etree.Element); ok && p.PublisherSpecific(c) {
			out.RemoveChildAt(i)
		}
	}
	return out
}

// SharedDigest returns the digest of the shared data of it: its payload
// without the children p declares publisher-specific, hashed as
// feedsync.Item.Digest hashes payloads (namespace URIs, not prefixes). Two
// versions whose publisher-specific data alone differs have the same
// SharedDigest; a change of SharedDigest is a change of shared data, which
// needs an update (FS-UPDATE-6, FS-INCORP-2). With a nil p it equals the
// payload's digest.
func SharedDigest(p PublisherSpecific, it *feedsync.Item) (feedsync.Digest, error) {
	payload, err := payloadOf(it)
	if err != nil {
		return feedsync.Digest{}, fmt.Errorf("converter: shared digest: %w", err)
	}
	d, err := feedsync.NewItem(it.Format(), Shared(p, payload)).Digest()
	if err != nil {
		return feedsync.Digest{}, fmt.Errorf("converter: shared digest: %w", err)
	}
	return d, nil
}

// Incorporate returns merged, the result of a merge, with the
// publisher-specific data of own, the local endpoint's previous version of
// the item, in place of merged's: the shared children of merged in their
// order, then the publisher-specific children of own in theirs, each
// carrying the namespace declarations it relies on. The sync metadata of
// merged is kept as it is: rewriting publisher-specific data is not an
// update (FS-INCORP-2, FS-UPDATE-6).
//
// merged itself is returned when p is nil, own is nil, or the two already
// hold the same publisher-specific data, so an item the merge left alone
// keeps its bytes. The two items must be of one format; convert first
// (feedsync.ConvertItem, FS-FEED-10).
func Incorporate(p PublisherSpecific, merged, own *feedsync.Item) (*feedsync.Item, error) {
	if p == nil || own == nil || merged == nil {
		return merged, nil
	}
	if merged.Format() != own.Format() {
		return nil, fmt.Errorf("converter: incorporate %s: merged item is %s, own item %s (convert first, FS-FEED-10)",
			merged.ID(), merged.Format(), own.Format())
	}
	mp, err := payloadOf(merged)
	if err != nil {
		return nil, fmt.Errorf("converter: incorporate %s: merged: %w", merged.ID(), err)
	}
	op, err := payloadOf(own)
	if err != nil {
		return nil, fmt.Errorf("converter: incorporate %s: own: %w", merged.ID(), err)
	}
	var ownSpecific []*etree.Element
	for _, c := range op.ChildElements() {
		if p.PublisherSpecific(c) {
			ownSpecific = append(ownSpecific, standalone(c, mp))
		}
	}
	var mergedSpecific []*etree.Element
	for _, c := range mp.ChildElements() {
		if p.PublisherSpecific(c) {
			mergedSpecific = append(mergedSpecific, standalone(c, mp))
		}
	}
	if sameElements(merged.Format(), mergedSpecific, ownSpecific) {
		return merged, nil
	}
	out := Shared(p, mp)
	for _, c := range ownSpecific {
		out.AddChild(c)
	}
	it := feedsync.NewItem(merged.Format(), out)
	it.Sync = merged.Sync
	return it, nil
}

// sameElements reports whether a and b hold the same elements in the same
// order, compared as digests (namespace URIs, not prefixes).
func sameElements(f feedsync.Format, a, b []*etree.Element) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		da, err1 := feedsync.NewItem(f, a[i]).Digest()
		db, err2 := feedsync.NewItem(f, b[i]).Digest()
		if err1 != nil || err2 != nil || da != db {
			return false
		}
	}
	return true
}

// standalone returns a copy of c that means the same as a child of target
// (or, with a nil target, as a root of its own): it declares on itself every
// namespace binding of c's ancestors that it relies on and that target does
// not make the same way. The sx:sync children of c are left out.
func standalone(c, target *etree.Element) *etree.Element {
	out := c.Copy()
	for i := len(c.Child) - 1; i >= 0; i-- {
		if k, ok := c.Child[i].(*etree.Element); ok && isSync(k) {
			out.RemoveChildAt(i)
		}
	}
	declared := map[string]bool{}
	for _, a := range c.Attr {
		if a.Space == "xmlns" {
			declared[a.Key] = true
		} else if a.Space == "" && a.Key == "xmlns" {
			declared[""] = true
		}
	}
	var decls []etree.Attr
	need := func(prefix string) {
		if declared[prefix] || prefix == "xml" || prefix == "xmlns" {
			return
		}
		declared[prefix] = true
		uri, _ := lookupNS(c.Parent(), prefix)
		if have, ok := lookupNS(target, prefix); ok && have == uri {
			return
		}
		if prefix == "" {
			decls = append(decls, etree.Attr{Key: "xmlns", Value: uri})
		} else if uri != "" {
			decls = append(decls, etree.Attr{Space: "xmlns", Key: prefix, Value: uri})
		}
	}
	var walk func(e *etree.Element)
	walk = func(e *etree.Element) {
		need(e.Space)
		for _, a := range e.Attr {
			if a.Space != "" {
				need(a.Space)
			}
		}
		for _, k := range e.ChildElements() {
			if e == c && isSync(k) {
				continue // dropped above
			}
			walk(k)
		}
	}
	walk(c)
	if target == nil {
		dropEmptyDefault(out)
	}
	if len(decls) > 0 {
		// Declarations first, as they are usually written. Attributes are
		// re-created so that each points at out.
		attrs := append(decls, out.Attr...)
		out.Attr = nil
		for _, a := range attrs {
			out.CreateAttr(a.FullKey(), a.Value)
		}
	}
	return out
}

// lookupNS returns the namespace URI bound to prefix ("" for the default
// namespace) at e, and whether a declaration was found. The default
// namespace is "" without one.
func lookupNS(e *etree.Element, prefix string) (string, bool) {
	for ; e != nil; e = e.Parent() {
		for _, a := range e.Attr {
			if prefix == "" && a.Space == "" && a.Key == "xmlns" || prefix != "" && a.Space == "xmlns" && a.Key == prefix {
				return a.Value, true
			}
		}
	}
	return "", prefix == ""
}

// FromItem returns the value the payload of it holds: c.FromPayload of
// the item's payload, which declares every namespace the item inherited
// from its feed, without sx:sync. Errors are *feedsync.ItemError values
// naming the item.
func FromItem[T any](c ItemConverter[T], it *feedsync.Item) (T, error) {
	var zero T
	e, err := payloadOf(it)
	if err != nil {
		return zero, &feedsync.ItemError{ID: it.ID(), Line: it.Line(), Err: fmt.Errorf("converter: payload: %w", err)}
	}
	v, err := c.FromPayload(e)
	if err != nil {
		return zero, &feedsync.ItemError{ID: it.ID(), Line: it.Line(), Err: err}
	}
	return v, nil
}

// payloadOf returns the payload of it as a standalone element, without
// sx:sync and without declarations of the sync namespace nothing uses.
func payloadOf(it *feedsync.Item) (*etree.Element, error) {
	if it == nil {
		return nil, errors.New("no item")
	}
	e, err := it.Payload()
	if err != nil {
		return nil, err
	}
	removeSync(e)
	dropEmptyDefault(e)
	return e, nil
}

// dropEmptyDefault removes xmlns="" from a root element, where it says
// nothing: without a parent there is no default namespace to undeclare.
func dropEmptyDefault(root *etree.Element) {
	if root.Parent() != nil {
		return
	}
	for i, a := range root.Attr {
		if a.Space == "" && a.Key == "xmlns" && a.Value == "" {
			root.Attr = append(root.Attr[:i], root.Attr[i+1:]...)
			return
		}
	}
}

// removeSync removes the sx:sync children of e (FS-NS-1: matched on the
// namespace URI; the SSE 0.93 namespace counts too), and then the
// declarations of those namespaces on e that nothing uses any more.
func removeSync(e *etree.Element) {
	for i := len(e.Child) - 1; i >= 0; i-- {
		if c, ok := e.Child[i].(*etree.Element); ok && isSync(c) {
			e.RemoveChildAt(i)
		}
	}
	used := map[string]bool{}
	var walk func(x *etree.Element)
	walk = func(x *etree.Element) {
		used[x.Space] = true
		for _, a := range x.Attr {
			used[a.Space] = true
		}
		for _, c := range x.ChildElements() {
			walk(c)
		}
	}
	walk(e)
	for i := len(e.Attr) - 1; i >= 0; i-- {
		a := e.Attr[i]
		if (a.Value == feedsync.Namespace || a.Value == feedsync.LegacyNamespace) && a.Space == "xmlns" && !used[a.Key] {
			e.Attr = append(e.Attr[:i], e.Attr[i+1:]...)
		}
	}
}

func isSync(c *etree.Element) bool {
	if c.Tag != "sync" {
		return false
	}
	uri := c.NamespaceURI()
	return uri == feedsync.Namespace || uri == feedsync.LegacyNamespace
}

// writeCanonical writes e so that reading it back gives the same text and
// attribute values: carriage returns in text, and tabs, newlines and
// carriage returns in attribute values, are written as character
// references, which XML parsers would otherwise normalise away.
func writeCanonical(e *etree.Element) []byte {
	var b bytes.Buffer
	e.WriteTo(&b, &etree.WriteSettings{CanonicalText: true, CanonicalAttrVal: true})
	return b.Bytes()
}
