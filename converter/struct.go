package converter

import (
	"bytes"
	"encoding/xml"
	"fmt"
	"reflect"
	"strconv"
	"strings"
	"sync"

	"github.com/beevik/etree"

	"github.com/feedsync/go-feedsync/feedsync"
)

// Struct converts values of a Go struct type T to item payloads and back
// with encoding/xml, so that an application describes its items with
// struct tags and writes no XML code:
//
//	type Task struct {
//		Title   string `xml:"title"`
//		Creator string `xml:"http://purl.org/dc/elements/1.1/ creator,omitempty"`
//		Done    bool   `xml:"http://example.org/tasks done"`
//	}
//
// ToPayload marshals the value as the RSS <item> or Atom <entry> itself:
// each field becomes a child element as its tag says (<title>,
// <dc:creator>, …), and FromPayload unmarshals the element back, so
// FromPayload(ToPayload(v)) == v for every value encoding/xml can write
// and read back. T is a struct or a pointer to one; it needs no XMLName
// field, and one that names an element must name the wrapper (<item> for
// RSS, <entry> in the Atom namespace for Atom). FromPayload sets an
// XMLName field to the wrapper's name, as encoding/xml does.
//
// Namespaces. Unqualified fields are in the wrapper's namespace: none in
// RSS, Atom in an Atom entry. A field whose tag names a namespace gets a
// prefix declared on the wrapper: the usual one for namespaces common in
// feeds (dc, dcterms, content, atom, media, georss, itunes, slash, thr, f
// for FieldNamespace), otherwise ns1, ns2, … in order of first use. The
// prefixes carry no meaning (FS-NS-1); readers match namespace URIs.
// FromPayload reads the same namespaces under any prefix. For an element
// copied out of a feed without the declarations of its ancestors, it takes
// those usual prefixes, left undeclared, to mean their usual namespaces
// (feedsync.Item.Payload and FromItem keep the declarations).
//
// Atom entries need atom:id, atom:title and atom:updated. A struct may map
// them itself; when its XML lacks one, ToPayload derives it as Map does:
// atom:id is AtomIDPrefix + the sync id, atom:title is empty, atom:updated
// is AtomEpoch. A derived element must not change the value FromPayload
// reads: when T has a field for it that was left out (an omitempty field
// with an empty value, say), ToPayload returns ErrStruct instead of
// inventing a value the field would then read back. An empty omitempty
// title string is fine: an empty <title/> reads back as "".
//
// The output is deterministic (fields in declaration order, prefixes in
// order of first use), so equal values give equal payloads and equal
// digests (feedsync.Item.Digest), and a refresh can tell unchanged data
// from a change (FS-UPDATE-6). Digests ignore text that is only white
// space, so a change between "" and " " is a change a digest does not see.
//
// Text goes through XML: characters XML cannot carry (most control
// characters, invalid UTF-8) are written as U+FFFD by encoding/xml, and
// FromPayload reads them as such.
//
// The zero Struct is ready to use: RSS, every child shared data.
type Struct[T any] struct {
	// Format is the payload's format. Default: feedsync.RSS.
	Format feedsync.Format
	// Publisher says which payload children are publisher-specific data
	// (FS-INCORP-3; see PublisherSpecific). Default: nil, every child is
	// shared data.
	Publisher PublisherFunc
}

// PublisherSpecific calls s.Publisher (FS-INCORP-1..3).
func (s Struct[T]) PublisherSpecific(child *etree.Element) bool {
	return s.Publisher.PublisherSpecific(child)
}

func (s Struct[T]) format() feedsync.Format {
	if s.Format == feedsync.Atom {
		return feedsync.Atom
	}
	return feedsync.RSS
}

// wrapper returns the name of the payload element of format f.
func wrapper(f feedsync.Format) xml.Name {
	if f == feedsync.Atom {
		return xml.Name{Space: feedsync.AtomNamespace, Local: "entry"}
	}
	return xml.Name{Local: "item"}
}

// ToPayload returns the payload element for v: an RSS <item> or an Atom
// <entry> holding v's fields, declaring every namespace it uses, ready for
// feedsync.Create or feedsync.Update. id, the item's sync id, is used only
// for a derived atom:id and must then be a valid sync id (FS-TYPE-5).
func (s Struct[T]) ToPayload(id string, v T) (*etree.Element, error) {
	f := s.format()
	name := wrapper(f)
	if err := checkStructType(reflect.TypeFor[T](), name); err != nil {
		return nil, err
	}
	if rv := reflect.ValueOf(&v).Elem(); rv.Kind() == reflect.Pointer && rv.IsNil() {
		return nil, fmt.Errorf("%w: nil %v", ErrStruct, rv.Type())
	}
	var b bytes.Buffer
	enc := xml.NewEncoder(&b)
	if err := enc.EncodeElement(v, xml.StartElement{Name: name}); err != nil {
		return nil, fmt.Errorf("%w: marshal %T: %v", ErrStruct, v, err)
	}
	if err := enc.Close(); err != nil {
		return nil, fmt.Errorf("%w: marshal %T: %v", ErrStruct, v, err)
	}
	doc := etree.NewDocument()
	doc.ReadSettings.PreserveCData = true
	if err := doc.ReadFromBytes(b.Bytes()); err != nil {
		return nil, fmt.Errorf("converter: struct: read marshalled %T: %w", v, err)
	}
	root := doc.Root()
	doc.RemoveChild(root)
	tidyNamespaces(root)
	for _, c := range root.ChildElements() {
		if isSync(c) {
			return nil, fmt.Errorf("%w: %T writes an sx:sync element; sync metadata is not payload", ErrStruct, v)
		}
	}
	if f == feedsync.Atom {
		if err := s.atomRequired(root, id); err != nil {
			return nil, fmt.Errorf("%w (%T)", err, v)
		}
	}
	return root, nil
}

// atomRequired adds the atom:id, atom:title and atom:updated an entry lacks
// (RFC 4287 §4.1.2), in that order, before the struct's own children.
func (s Struct[T]) atomRequired(root *etree.Element, id string) error {
	have := map[string]bool{}
	for _, c := range root.ChildElements() {
		if c.Space == "" && c.NamespaceURI() == feedsync.AtomNamespace {
			have[c.Tag] = true
		}
	}
	at := 0
	for _, req := range []struct{ tag, text, probe string }{
		{"id", AtomIDPrefix + id, AtomIDPrefix + "x"},
		{"title", "", ""},
		{"updated", AtomEpoch, AtomEpoch},
	} {
		if have[req.tag] {
			continue
		}
		if !invisible[T](req.tag, req.probe) {
			return fmt.Errorf("%w: atom:%s is required but the field that maps it was left out (omitempty?)", ErrStruct, req.tag)
		}
		if req.tag == "id" && !feedsync.ValidID(id) {
			return fmt.Errorf("%w: atom:id: %q is not a valid sync id (FS-TYPE-5)", ErrStruct, id)
		}
		e := etree.NewElement(req.tag)
		if req.text != "" {
			e.SetText(req.text)
		}
		root.InsertChildAt(at, e)
		at++
	}
	return nil
}

// invisibleKey identifies a cached answer of invisible.
type invisibleKey struct {
	t   reflect.Type
	tag string
}

var invisibleCache sync.Map // invisibleKey → bool

// invisible reports whether an Atom entry holding only <tag>text</tag>
// unmarshals into the zero T, that is whether T maps no field to that
// element in a way the text would show. The answer depends only on T and
// tag, so it is computed once per type.
func invisible[T any](tag, text string) bool {
	key := invisibleKey{reflect.TypeFor[T](), tag}
	if v, ok := invisibleCache.Load(key); ok {
		return v.(bool)
	}
	e := etree.NewElement("entry")
	e.CreateAttr("xmlns", feedsync.AtomNamespace)
	e.CreateElement(tag).SetText(text)
	// Into the struct itself: a nil *S would be allocated and so not stay
	// zero, whatever the element.
	st := key.t
	for st.Kind() == reflect.Pointer {
		st = st.Elem()
	}
	v := reflect.New(st)
	ok := xml.Unmarshal(writeCanonical(e), v.Interface()) == nil && v.Elem().IsZero()
	invisibleCache.Store(key, ok)
	return ok
}

// checkStructType reports whether values of t can be payloads named name.
func checkStructType(t reflect.Type, name xml.Name) error {
	st := t
	for st.Kind() == reflect.Pointer {
		st = st.Elem()
	}
	if st.Kind() != reflect.Struct {
		return fmt.Errorf("%w: %v is not a struct", ErrStruct, t)
	}
	f, ok := st.FieldByName("XMLName")
	if !ok || f.Type != reflect.TypeFor[xml.Name]() {
		return nil
	}
	tag, _, _ := strings.Cut(f.Tag.Get("xml"), ",")
	if tag == "" {
		return nil
	}
	space, local, found := strings.Cut(tag, " ")
	if !found {
		space, local = "", tag
	}
	if local != name.Local || space != "" && space != name.Space {
		return fmt.Errorf("%w: %v.XMLName names <%s>, the payload is <%s>", ErrStruct, t, tag, name.Local)
	}
	return nil
}

// FromPayload returns the value held by a payload element: an RSS <item>
// (or Atom <entry>) as ToPayload writes it, or as any other publisher
// writes it; children T has no field for are ignored, as are sx:sync
// children. Another element gives ErrNotItem; convert items of the other
// format first (feedsync.ConvertItem, FS-FEED-10).
//
// An Atom entry cut out of its feed without a namespace declaration is
// taken to be in the Atom namespace, and the usual prefixes (see Struct)
// left undeclared are taken to mean their usual namespaces.
func (s Struct[T]) FromPayload(e *etree.Element) (T, error) {
	var v T
	if err := checkStructType(reflect.TypeFor[T](), wrapper(s.format())); err != nil {
		return v, err
	}
	if err := checkWrapper(e, s.format()); err != nil {
		return v, err
	}
	c := standalone(e, nil)
	removeSync(c)
	if s.format() == feedsync.Atom && c.Space == "" && c.NamespaceURI() == "" {
		c.RemoveAttr("xmlns")
		c.CreateAttr("xmlns", feedsync.AtomNamespace)
	}
	declareUsual(c)
	if err := xml.Unmarshal(writeCanonical(c), &v); err != nil {
		return v, fmt.Errorf("converter: struct: unmarshal %T: %w", v, err)
	}
	return v, nil
}

// checkWrapper reports whether e is the payload element of format f: an
// RSS <item> in no namespace, or an Atom <entry> in the Atom namespace (or
// in none, when cut out of its feed without its declarations).
func checkWrapper(e *etree.Element, f feedsync.Format) error {
	if e == nil {
		return fmt.Errorf("%w: no element", ErrNotItem)
	}
	uri := e.NamespaceURI()
	want := wrapper(f)
	if e.Tag != want.Local || e.Space != "" && uri == "" || uri != want.Space && uri != "" {
		return fmt.Errorf("%w: <%s> in namespace %q is not an %s <%s>", ErrNotItem, e.FullTag(), uri, f, want.Local)
	}
	return nil
}

// usualPrefixes are the prefixes Struct declares for namespaces common in
// feeds, and the meaning FromPayload gives them when left undeclared.
var usualPrefixes = []struct{ prefix, uri string }{
	{"dc", "http://purl.org/dc/elements/1.1/"},
	{"dcterms", "http://purl.org/dc/terms/"},
	{"content", "http://purl.org/rss/1.0/modules/content/"},
	{"atom", feedsync.AtomNamespace},
	{"media", "http://search.yahoo.com/mrss/"},
	{"georss", "http://www.georss.org/georss"},
	{"itunes", "http://www.itunes.com/dtds/podcast-1.0.dtd"},
	{"slash", "http://purl.org/rss/1.0/modules/slash/"},
	{"thr", "http://purl.org/syndication/thread/1.0"},
	{fieldPrefix, FieldNamespace},
}

func usualPrefix(uri string) string {
	for _, u := range usualPrefixes {
		if u.uri == uri {
			return u.prefix
		}
	}
	return ""
}

func usualURI(prefix string) string {
	for _, u := range usualPrefixes {
		if u.prefix == prefix {
			return u.uri
		}
	}
	return ""
}

// declareUsual declares on c the usual prefixes that elements or
// attributes of c use without a declaration in scope.
func declareUsual(c *etree.Element) {
	done := map[string]bool{}
	var walk func(e *etree.Element)
	check := func(e *etree.Element, prefix string) {
		if prefix == "" || prefix == "xml" || prefix == "xmlns" || done[prefix] {
			return
		}
		if _, ok := lookupNS(e, prefix); ok {
			return
		}
		done[prefix] = true
		if uri := usualURI(prefix); uri != "" {
			c.CreateAttr("xmlns:"+prefix, uri)
		}
	}
	walk = func(e *etree.Element) {
		check(e, e.Space)
		for _, a := range e.Attr {
			if a.Space != "" {
				check(e, a.Space)
			}
		}
		for _, k := range e.ChildElements() {
			walk(k)
		}
	}
	walk(c)
}

// tidyNamespaces rewrites what encoding/xml writes for namespaced fields,
// <creator xmlns="http://purl.org/dc/elements/1.1/">, into the form feeds
// use, <dc:creator> with xmlns:dc declared on the root. Every element keeps
// its namespace URI; only prefixes and declarations change. Prefixes
// declared anywhere in the tree (encoding/xml declares its own for
// namespaced attributes) are not reused, so no declaration is shadowed.
func tidyNamespaces(root *etree.Element) {
	uris := map[*etree.Element]string{}
	taken := map[string]bool{}
	var scan func(e *etree.Element)
	scan = func(e *etree.Element) {
		uris[e] = e.NamespaceURI()
		for _, a := range e.Attr {
			if a.Space == "xmlns" {
				taken[a.Key] = true
			}
		}
		for _, c := range e.ChildElements() {
			scan(c)
		}
	}
	scan(root)

	prefixes := map[string]string{} // uri → prefix
	for _, a := range root.Attr {
		// Bindings the root already makes (encoding/xml declares them for
		// namespaced attributes) serve elements too, unless the namespace
		// has a usual prefix, which reads better than encoding/xml's guess.
		if a.Space == "xmlns" && usualPrefix(a.Value) == "" {
			if _, ok := prefixes[a.Value]; !ok {
				prefixes[a.Value] = a.Key
			}
		}
	}
	var order []string
	n := 0
	prefixFor := func(uri string) string {
		if p, ok := prefixes[uri]; ok {
			return p
		}
		p := usualPrefix(uri)
		for p == "" || taken[p] {
			n++
			p = "ns" + strconv.Itoa(n)
		}
		taken[p] = true
		prefixes[uri] = p
		order = append(order, uri)
		return p
	}

	var rewrite func(e *etree.Element, inherited string)
	rewrite = func(e *etree.Element, inherited string) {
		for _, c := range e.ChildElements() {
			uri := uris[c]
			c.RemoveAttr("xmlns")
			inner := inherited
			switch {
			case uri == inherited:
				c.Space = ""
			case uri == "":
				// No prefix can name the empty namespace: undeclare the
				// default instead (only raw XML fields can get here).
				c.Space = ""
				c.CreateAttr("xmlns", "")
				inner = ""
			default:
				c.Space = prefixFor(uri)
			}
			rewrite(c, inner)
		}
	}
	rewrite(root, uris[root])

	for _, uri := range order {
		root.CreateAttr("xmlns:"+prefixes[uri], uri)
	}
}
