package converter

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/beevik/etree"

	"github.com/feedsync/go-feedsync/feedsync"
)

// FieldNamespace is the namespace of the elements Map writes for fields that
// have no standard element in the feed format. It is ours, so readers that do
// not know it ignore it (FS-NS-5) and converters of other formats copy it
// through (FS-FEED-10).
const FieldNamespace = "urn:feedsync:field"

// AtomIDPrefix starts the atom:id Map derives for an Atom entry from the
// item's sync id: "urn:feedsync:item:" + id.
const AtomIDPrefix = "urn:feedsync:item:"

// AtomEpoch is the atom:updated Map writes when a record has no published
// date it can use. Atom requires the element; a fixed value keeps the payload,
// and so its digest, the same while the data stays the same.
const AtomEpoch = "1970-01-01T00:00:00Z"

// Default field names of Map.
const (
	DefaultTitle       = "title"
	DefaultLink        = "link"
	DefaultDescription = "description"
	DefaultContent     = "content"
	DefaultPublished   = "published"
)

const (
	fieldPrefix      = "f"
	contentNamespace = "http://purl.org/rss/1.0/modules/content/"
)

// Errors returned by Map.
var (
	// ErrMapping is returned by ToPayload and FromPayload when two of a
	// Map's standard elements name the same field.
	ErrMapping = errors.New("converter: invalid field mapping")
	// ErrValue is returned by ToPayload for a value that has no JSON form
	// (a channel, a function, NaN, …).
	ErrValue = errors.New("converter: value has no JSON form")
	// ErrPayload is returned by FromPayload for a field element it cannot
	// read back: an unknown type, text that is not JSON of that type, or a
	// field given twice.
	ErrPayload = errors.New("converter: malformed field element")
)

// Map converts records (a JSON object decoded into a map) to item payloads
// and back. Fields named by Title, Link, Description, Content and Published
// go into the format's standard elements when their value is a string the
// element can hold unchanged:
//
//	field        RSS 2.0            Atom 1.0
//	Title        <title>            <title>
//	Link         <link>             <link href="…"/>
//	Description  <description>      <summary>
//	Content      <content:encoded>  <content>
//	Published    <pubDate>          <published>
//
// Every other field, and a mapped field whose value does not fit (not a
// string, empty, only white space, characters XML cannot carry, a date the
// format cannot hold exactly), becomes one element in FieldNamespace:
// <f:NAME> (or <f:field name="NAME"> when NAME is not an XML name). A string
// is its text; any other value has a type attribute ("number", "boolean",
// "null", "object", "array", or "string" for a string that needed escaping)
// and its JSON encoding as text. So FromPayload(ToPayload(rec)) gives rec
// back, with numbers as json.Number: decode records with
// json.Decoder.UseNumber to compare them exactly.
//
// The output is deterministic: standard elements in a fixed order, then the
// field elements sorted by name, nested objects with sorted keys. Equal
// records give equal payloads and equal digests (feedsync.Item.Digest),
// which is what lets a refresh skip unchanged records.
//
// Atom entries need atom:id, atom:title and atom:updated. Map derives them
// from the data alone: atom:id is AtomIDPrefix + the sync id, atom:updated is
// the published date or AtomEpoch, atom:title is empty when the record has
// none. FromPayload ignores atom:id and atom:updated and an empty title.
//
// The zero Map is ready to use: RSS with the default field names.
type Map struct {
	// Format is the payload's format. Default: feedsync.RSS.
	Format feedsync.Format
	// Title names the field written as the title. Default: DefaultTitle.
	// "-" writes no field there (the field, if any, becomes an <f:…>
	// element); the same holds for the other names.
	Title string
	// Link names the field written as the link. Default: DefaultLink.
	Link string
	// Description names the field written as the RSS description or the
	// Atom summary. Default: DefaultDescription.
	Description string
	// Content names the field written as RSS content:encoded or Atom
	// content. Default: DefaultContent.
	Content string
	// Published names the field written as the RSS pubDate or Atom
	// published date; its value must be an RFC 3339 date-time. Default:
	// DefaultPublished.
	Published string
}

// fields are a Map's resolved field names; "" means not mapped.
type fields struct{ title, link, description, content, published string }

func (m Map) fields() (fields, error) {
	pick := func(v, def string) string {
		switch v {
		case "":
			return def
		case "-":
			return ""
		}
		return v
	}
	f := fields{
		title:       pick(m.Title, DefaultTitle),
		link:        pick(m.Link, DefaultLink),
		description: pick(m.Description, DefaultDescription),
		content:     pick(m.Content, DefaultContent),
		published:   pick(m.Published, DefaultPublished),
	}
	seen := map[string]bool{}
	for _, n := range []string{f.title, f.link, f.description, f.content, f.published} {
		if n == "" {
			continue
		}
		if seen[n] {
			return f, fmt.Errorf("%w: field %q is mapped to two elements", ErrMapping, n)
		}
		seen[n] = true
	}
	return f, nil
}

func (m Map) format() feedsync.Format {
	if m.Format == feedsync.Atom {
		return feedsync.Atom
	}
	return feedsync.RSS
}

// ToPayload returns the payload element for the record rec of the item whose
// sync id is id: an RSS <item> or an Atom <entry> that declares every
// namespace it uses, ready for feedsync.Create or feedsync.Update. id is only
// used for the Atom entry's atom:id, and must then be a valid sync id (see
// SyncID); the record's own fields, an id field included, are all written.
func (m Map) ToPayload(id string, rec map[string]any) (*etree.Element, error) {
	f, err := m.fields()
	if err != nil {
		return nil, err
	}
	used := map[string]bool{}
	// std returns the value of a mapped field when a standard element can
	// hold it exactly.
	std := func(name string, ok func(string) bool) (string, bool) {
		if name == "" {
			return "", false
		}
		s, isStr := rec[name].(string)
		if !isStr || !plainText(s) || (ok != nil && !ok(s)) {
			return "", false
		}
		used[name] = true
		return s, true
	}

	var root *etree.Element
	if m.format() == feedsync.Atom {
		if !feedsync.ValidID(id) {
			return nil, fmt.Errorf("converter: atom:id: %q is not a valid sync id (FS-TYPE-5)", id)
		}
		root = etree.NewElement("entry")
		root.CreateAttr("xmlns", feedsync.AtomNamespace)
		root.CreateElement("id").SetText(AtomIDPrefix + id)
		title := root.CreateElement("title")
		if s, ok := std(f.title, nil); ok {
			title.SetText(s)
		}
		published, hasPublished := std(f.published, isRFC3339)
		updated := AtomEpoch
		if hasPublished {
			updated = published
		}
		root.CreateElement("updated").SetText(updated)
		if s, ok := std(f.link, plainAttr); ok {
			root.CreateElement("link").CreateAttr("href", s)
		}
		if s, ok := std(f.description, nil); ok {
			root.CreateElement("summary").SetText(s)
		}
		if s, ok := std(f.content, nil); ok {
			root.CreateElement("content").SetText(s)
		}
		if hasPublished {
			root.CreateElement("published").SetText(published)
		}
	} else {
		root = etree.NewElement("item")
		if s, ok := std(f.title, nil); ok {
			root.CreateElement("title").SetText(s)
		}
		if s, ok := std(f.link, nil); ok {
			root.CreateElement("link").SetText(s)
		}
		if s, ok := std(f.description, nil); ok {
			root.CreateElement("description").SetText(s)
		}
		if s, ok := std(f.content, nil); ok {
			root.CreateAttr("xmlns:content", contentNamespace)
			root.CreateElement("content:encoded").SetText(s)
		}
		if s, ok := std(f.published, func(s string) bool { _, ok := rssDate(s); return ok }); ok {
			d, _ := rssDate(s)
			root.CreateElement("pubDate").SetText(d)
		}
	}

	var rest []string
	for k := range rec {
		if !used[k] {
			rest = append(rest, k)
		}
	}
	slices.Sort(rest)
	if len(rest) > 0 {
		root.CreateAttr("xmlns:"+fieldPrefix, FieldNamespace)
	}
	for _, k := range rest {
		if err := writeField(root, k, rec[k]); err != nil {
			return nil, err
		}
	}
	return root, nil
}

// writeField appends the <f:…> element of one field.
func writeField(root *etree.Element, name string, v any) error {
	var e *etree.Element
	switch {
	case xmlName(name):
		e = root.CreateElement(fieldPrefix + ":" + name)
	case plainAttr(name) || name == "":
		e = root.CreateElement(fieldPrefix + ":field")
		e.CreateAttr("name", name)
	default:
		// A name XML attributes cannot carry unchanged (control characters,
		// tabs or newlines, which attribute normalisation would turn into
		// spaces): keep its JSON form.
		q, err := jsonText(name)
		if err != nil {
			return fmt.Errorf("%w: field name %q: %v", ErrValue, name, err)
		}
		e = root.CreateElement(fieldPrefix + ":field")
		e.CreateAttr("name-json", q)
	}
	typ, text, err := encodeValue(v)
	if err != nil {
		return fmt.Errorf("field %q: %w", name, err)
	}
	if typ != "" {
		e.CreateAttr("type", typ)
	}
	if text != "" {
		e.SetText(text)
	}
	return nil
}

// encodeValue returns the type attribute ("" for a plain string) and the
// text of a field element.
func encodeValue(v any) (typ, text string, err error) {
	if s, ok := v.(string); ok && plainText(s) {
		return "", s, nil
	}
	text, err = jsonText(v)
	if err != nil {
		return "", "", fmt.Errorf("%w: %v", ErrValue, err)
	}
	return jsonKind(text), text, nil
}

// jsonText returns the JSON encoding of v as text XML can carry: HTML
// characters are left alone (the XML writer escapes them), and the two
// characters that are valid in JSON strings but not in XML are escaped.
func jsonText(v any) (string, error) {
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		return "", err
	}
	s := strings.TrimSuffix(b.String(), "\n")
	// Go's encoder already escapes control characters, U+2028, U+2029 and
	// invalid UTF-8; U+FFFE and U+FFFF can only occur inside strings.
	s = strings.NewReplacer("\uFFFE", `\ufffe`, "\uFFFF", `\uffff`).Replace(s)
	return s, nil
}

// jsonKind names the JSON type of a JSON text by its first byte.
func jsonKind(text string) string {
	switch text[0] {
	case '{':
		return "object"
	case '[':
		return "array"
	case '"':
		return "string"
	case 't', 'f':
		return "boolean"
	case 'n':
		return "null"
	}
	return "number"
}

// FromPayload returns the record held by a payload element: the fields of
// its standard elements as Map names them, and every <f:…> field element.
// It reads what ToPayload writes, and the standard elements of payloads
// written by others (an RSS pubDate comes back as RFC 3339); other elements
// are ignored (see Known). Numbers are json.Number, nested objects
// map[string]any, arrays []any.
//
// e should declare the namespaces it uses, as ToPayload's elements and
// items written by feedsync.MarshalItem do. An Atom child without a
// namespace is taken to be Atom, and the undeclared prefixes "f" and
// "content" are taken to mean FieldNamespace and the RSS content module, so
// that a payload cut out of its feed still reads.
func (m Map) FromPayload(e *etree.Element) (map[string]any, error) {
	rec, _, err := m.read(e)
	return rec, err
}

// read is FromPayload; it also returns, for each field, the child element
// it was read from.
func (m Map) read(e *etree.Element) (map[string]any, map[string]*etree.Element, error) {
	f, err := m.fields()
	if err != nil {
		return nil, nil, err
	}
	rec := map[string]any{}
	from := map[string]*etree.Element{}
	fromField := map[string]bool{}
	setStd := func(name, v string, c *etree.Element) {
		if name == "" || v == "" || fromField[name] {
			return
		}
		if _, ok := rec[name]; ok {
			return // the first of several standard elements counts
		}
		rec[name], from[name] = v, c
	}
	for _, c := range e.ChildElements() {
		k := m.kind(c)
		switch k {
		case kindField:
			name, v, err := readField(c)
			if err != nil {
				return nil, nil, err
			}
			if fromField[name] {
				return nil, nil, fmt.Errorf("%w: field %q is given twice", ErrPayload, name)
			}
			fromField[name] = true
			rec[name], from[name] = v, c
		case kindTitle:
			setStd(f.title, c.Text(), c)
		case kindLink:
			if m.format() == feedsync.Atom {
				setStd(f.link, c.SelectAttrValue("href", ""), c)
			} else {
				setStd(f.link, c.Text(), c)
			}
		case kindDescription:
			setStd(f.description, c.Text(), c)
		case kindContent:
			setStd(f.content, c.Text(), c)
		case kindPublished:
			v := c.Text()
			if m.format() == feedsync.RSS {
				if t, err := parseRSSDate(strings.TrimSpace(v)); err == nil {
					v = t.Format(time.RFC3339)
				}
			}
			setStd(f.published, v, c)
		}
	}
	return rec, from, nil
}

// Known reports whether FromPayload reads the payload child c: a field
// element, or a standard element of the format that the Map maps (Atom's
// derived id and updated included). Code that rebuilds a payload with
// ToPayload keeps the children that are not Known, so that data no field
// describes is not lost (FS-TYPE-1).
func (m Map) Known(c *etree.Element) bool {
	f, err := m.fields()
	if err != nil {
		return false
	}
	switch m.kind(c) {
	case kindField, kindDerived:
		return true
	case kindTitle:
		return f.title != "" || m.format() == feedsync.Atom
	case kindLink:
		return f.link != ""
	case kindDescription:
		return f.description != ""
	case kindContent:
		return f.content != ""
	case kindPublished:
		return f.published != ""
	}
	return false
}

type childKind int

const (
	kindOther childKind = iota
	kindField
	kindDerived // Atom id and updated
	kindTitle
	kindLink
	kindDescription
	kindContent
	kindPublished
)

// kind classifies a payload child by namespace and local name.
func (m Map) kind(c *etree.Element) childKind {
	uri := c.NamespaceURI()
	if uri == "" {
		// An undeclared prefix: the conventional bindings.
		switch c.Space {
		case fieldPrefix:
			uri = FieldNamespace
		case "content":
			uri = contentNamespace
		}
	}
	if uri == FieldNamespace {
		return kindField
	}
	if m.format() == feedsync.Atom {
		if uri != feedsync.AtomNamespace && (uri != "" || c.Space != "") {
			return kindOther
		}
		switch c.Tag {
		case "id", "updated":
			return kindDerived
		case "title":
			if plainConstruct(c) {
				return kindTitle
			}
		case "link":
			if rel := c.SelectAttrValue("rel", "alternate"); rel == "alternate" {
				return kindLink
			}
		case "summary":
			if plainConstruct(c) {
				return kindDescription
			}
		case "content":
			if plainConstruct(c) {
				return kindContent
			}
		case "published":
			return kindPublished
		}
		return kindOther
	}
	if uri == contentNamespace && c.Tag == "encoded" {
		return kindContent
	}
	if uri != "" {
		return kindOther
	}
	switch c.Tag {
	case "title":
		return kindTitle
	case "link":
		return kindLink
	case "description":
		return kindDescription
	case "pubDate":
		return kindPublished
	}
	return kindOther
}

// plainConstruct reports whether an Atom text construct (title, summary,
// content) holds plain text that a field can stand for: type "text" or
// none, no src, no child elements. An html or xhtml construct, or content
// given by reference or in another media type, is data no field describes:
// reading it as text would change its meaning, and writing a field back
// over it would destroy it (FS-TYPE-1).
func plainConstruct(c *etree.Element) bool {
	if t := c.SelectAttrValue("type", "text"); t != "text" {
		return false
	}
	return c.SelectAttr("src") == nil && len(c.ChildElements()) == 0
}

// readField reads one <f:…> element back.
func readField(c *etree.Element) (string, any, error) {
	name := c.Tag
	if c.Tag == "field" {
		if a := c.SelectAttr("name"); a != nil {
			name = a.Value
		} else if a := c.SelectAttr("name-json"); a != nil {
			if err := json.Unmarshal([]byte(a.Value), &name); err != nil {
				return "", nil, fmt.Errorf("%w: name-json %q: %v", ErrPayload, a.Value, err)
			}
		}
	}
	text := c.Text()
	typ := c.SelectAttrValue("type", "")
	if typ == "" {
		return name, text, nil
	}
	switch typ {
	case "string", "number", "boolean", "null", "object", "array":
	default:
		return "", nil, fmt.Errorf("%w: field %q has unknown type %q", ErrPayload, name, typ)
	}
	text = strings.TrimSpace(text)
	if text == "" || jsonKind(text) != typ {
		return "", nil, fmt.Errorf("%w: field %q: %q is not a JSON %s", ErrPayload, name, text, typ)
	}
	dec := json.NewDecoder(strings.NewReader(text))
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err != nil {
		return "", nil, fmt.Errorf("%w: field %q: %v", ErrPayload, name, err)
	}
	if dec.More() {
		return "", nil, fmt.Errorf("%w: field %q: text after the JSON %s", ErrPayload, name, typ)
	}
	return name, v, nil
}

// SyncID returns the sync id for an application key: feedsync.EscapeID of
// the key, which is the key itself when it is a valid URN NSS without '%'
// (FS-TYPE-5), otherwise the key with every byte outside the NSS character
// set (and '%' itself) written as %HH. The mapping is one to one, so
// distinct keys never share an id; Key undoes it. An empty key gives "",
// which is not a valid id.
func (Map) SyncID(key string) string { return feedsync.EscapeID(key) }

// Key returns the application key SyncID made id from
// (feedsync.UnescapeID). An id that SyncID never writes (an escape of a
// character that needs none, or a character that needs one) is refused:
// taking it would give a key whose SyncID is another item's id
// (FS-SYNC-2).
func (Map) Key(id string) (string, error) {
	k, err := feedsync.UnescapeID(id)
	if err != nil {
		return "", fmt.Errorf("converter: %w", err)
	}
	return k, nil
}

// plainText reports whether s can be element text as it is and read back
// unchanged, with a digest that sees it: not empty or only white space
// (digests ignore white-space-only text), valid UTF-8 of XML characters, and
// no carriage return (XML parsers turn CR LF into LF).
func plainText(s string) bool {
	if strings.TrimSpace(s) == "" || !utf8.ValidString(s) {
		return false
	}
	for _, r := range s {
		if r == '\r' || !xmlChar(r) {
			return false
		}
	}
	return true
}

// plainAttr reports whether s can be an attribute value read back
// unchanged: like plainText, and no tab or newline either (attribute value
// normalisation turns them into spaces).
func plainAttr(s string) bool {
	return plainText(s) && !strings.ContainsAny(s, "\t\n")
}

// xmlChar reports whether r is an XML 1.0 Char.
func xmlChar(r rune) bool {
	return r == '\t' || r == '\n' || r == '\r' ||
		0x20 <= r && r <= 0xD7FF || 0xE000 <= r && r <= 0xFFFD || 0x10000 <= r && r <= 0x10FFFF
}

// xmlName reports whether s can be the local name of an element: an ASCII
// XML name without a colon, not starting with "xml" (reserved) and not
// "field" (which names the fallback element).
func xmlName(s string) bool {
	if s == "" || s == "field" || strings.HasPrefix(strings.ToLower(s), "xml") {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case 'a' <= c && c <= 'z', 'A' <= c && c <= 'Z', c == '_':
		case i > 0 && ('0' <= c && c <= '9' || c == '-' || c == '.'):
		default:
			return false
		}
	}
	return true
}

func isRFC3339(s string) bool {
	_, err := time.Parse(time.RFC3339, s)
	return err == nil
}

// rssDate returns the RSS pubDate (RFC 1123 with a numeric zone) for an RFC
// 3339 date-time, if reading it back gives exactly s again; a fraction of a
// second, for one, would be lost.
func rssDate(s string) (string, bool) {
	t, err := time.Parse(time.RFC3339, s)
	if err != nil {
		return "", false
	}
	d := t.Format(time.RFC1123Z)
	back, err := parseRSSDate(d)
	if err != nil || back.Format(time.RFC3339) != s {
		return "", false
	}
	return d, true
}

// rssDateLayouts are the RFC 822 forms found in RSS pubDate elements.
var rssDateLayouts = []string{
	time.RFC1123Z, time.RFC1123, time.RFC822Z, time.RFC822,
	"Mon, 2 Jan 2006 15:04:05 -0700", "Mon, 2 Jan 2006 15:04:05 MST",
	"2 Jan 2006 15:04:05 -0700", "2 Jan 2006 15:04:05 MST",
}

func parseRSSDate(s string) (time.Time, error) {
	var err error
	for _, l := range rssDateLayouts {
		var t time.Time
		if t, err = time.Parse(l, s); err == nil {
			return t, nil
		}
	}
	return time.Time{}, err
}

// EditPayload returns a copy of old changed so that FromPayload reads rec
// from it, changing nothing else: the element of each field whose value
// differs from what old holds is rewritten, a field no longer in rec loses
// its element, a new field gets one, and every other element, attribute,
// namespace declaration and text node stays as it was (FS-TYPE-1,
// FS-UPDATE-6). When rec is what old holds, the copy equals old.
//
// A rewritten standard element keeps its place and the attributes that do
// not carry the value (xml:lang, hreflang, rel, foreign attributes); the
// ones that do (an Atom construct's type and src, a link's href) are
// replaced. Setting a field whose standard element holds something no
// field describes (an Atom xhtml title, say) replaces that element's
// content, as asked. id is the item's sync id, as for ToPayload.
func (m Map) EditPayload(old *etree.Element, id string, rec map[string]any) (*etree.Element, error) {
	f, err := m.fields()
	if err != nil {
		return nil, err
	}
	out := old.Copy()
	have, from, err := m.read(out)
	if err != nil {
		return nil, err
	}
	var names []string
	for k := range rec {
		names = append(names, k)
	}
	for k := range have {
		if _, ok := rec[k]; !ok {
			names = append(names, k)
		}
	}
	slices.Sort(names)
	for _, n := range names {
		v, keep := rec[n]
		if cur, ok := have[n]; ok && keep && sameValue(cur, v) {
			continue
		}
		el := from[n]
		if el != nil {
			m.dropCompanion(out, el)
		}
		if !keep {
			m.clear(out, el, n == f.title)
			continue
		}
		// The element ToPayload writes for this one field, found the way
		// FromPayload finds it.
		one, err := m.ToPayload(id, map[string]any{n: v})
		if err != nil {
			return nil, err
		}
		_, oneFrom, err := m.read(one)
		if err != nil {
			return nil, err
		}
		ne := oneFrom[n]
		if ne == nil {
			return nil, fmt.Errorf("converter: field %q: no element written for it", n)
		}
		toField := m.kind(ne) == kindField
		if el == nil && !toField {
			// A standard element no field was read from (an xhtml title,
			// an empty one): the field takes its place.
			if el = m.slot(out, m.kind(ne)); el != nil {
				m.dropCompanion(out, el)
			}
		}
		switch {
		case el == nil:
			insertChild(out, one, ne, -1)
		case (m.kind(el) == kindField) == toField:
			rewrite(el, ne)
		default:
			// The value moves between a standard element and a field
			// element: the new one takes the old one's place (an Atom
			// title stays, empty).
			at := childIndex(out, el)
			if m.clear(out, el, n == f.title) {
				at = -1
			}
			insertChild(out, one, ne, at)
		}
	}
	return out, nil
}

// sameValue reports whether two field values are equal as JSON.
func sameValue(a, b any) bool {
	ta, xa, err1 := encodeValue(a)
	tb, xb, err2 := encodeValue(b)
	return err1 == nil && err2 == nil && ta == tb && xa == xb
}

// slot returns the first child of out in the standard place of kind k,
// whether or not a field can be read from it: the Atom title, summary or
// content of any type, the first alternate link, the RSS title, ….
func (m Map) slot(out *etree.Element, k childKind) *etree.Element {
	for _, c := range out.ChildElements() {
		ck := m.kind(c)
		if ck == k {
			return c
		}
		if ck != kindOther || m.format() != feedsync.Atom {
			continue
		}
		uri := c.NamespaceURI()
		if uri != feedsync.AtomNamespace && (uri != "" || c.Space != "") {
			continue
		}
		switch {
		case k == kindTitle && c.Tag == "title",
			k == kindDescription && c.Tag == "summary",
			k == kindContent && c.Tag == "content":
			return c
		}
	}
	return nil
}

// clear removes the element a field was read from; an Atom title stays,
// empty, because Atom requires one. It reports whether el stayed.
func (m Map) clear(out, el *etree.Element, isTitle bool) bool {
	if el == nil {
		return false
	}
	if isTitle && m.format() == feedsync.Atom && el.Tag == "title" && m.kind(el) != kindField {
		rewrite(el, etree.NewElement("title"))
		return true
	}
	out.RemoveChild(el)
	return false
}

// valueAttrs are the attributes of a standard element that carry its value
// and are replaced with it: an Atom construct's type and src, a link's href,
// a field element's type and name.
var valueAttrs = map[string]bool{"type": true, "src": true, "href": true, "name": true, "name-json": true}

// rewrite gives el the value of ne (an element ToPayload wrote): its
// content, and its value-carrying attributes; el's other attributes stay.
func rewrite(el, ne *etree.Element) {
	for i := len(el.Attr) - 1; i >= 0; i-- {
		a := el.Attr[i]
		if a.Space == "" && valueAttrs[a.Key] || a.NamespaceURI() == feedsync.ConvertNamespace {
			el.RemoveAttr(a.FullKey())
		}
	}
	for _, a := range ne.Attr {
		if a.Space == "" && a.Key != "xmlns" {
			el.CreateAttr(a.Key, a.Value)
		}
	}
	for len(el.Child) > 0 {
		el.RemoveChildAt(0)
	}
	for _, c := range ne.Child {
		switch c := c.(type) {
		case *etree.CharData:
			el.CreateText(c.Data)
		case *etree.Element:
			el.AddChild(c.Copy())
		}
	}
}

// childIndex returns the index of c in out.Child, or -1.
func childIndex(out, c *etree.Element) int {
	for i, t := range out.Child {
		if t == c {
			return i
		}
	}
	return -1
}

// insertChild inserts a copy of ne (a child of one, ToPayload's output) into
// out at index at (-1: last). When ne is in a namespace, out's root gets a
// prefix bound to it: the one it already binds to that namespace, or ne's
// own prefix when out leaves it free, or that prefix with a number added.
func insertChild(out, one, ne *etree.Element, at int) {
	x := ne.Copy()
	if ne.Space != "" {
		uri := nsOf(one, ne.Space)
		x.Space = prefixFor(out, ne.Space, uri)
		for i := range x.Attr {
			if x.Attr[i].Space == ne.Space {
				x.Attr[i].Space = x.Space
			}
		}
	}
	if at < 0 || at > len(out.Child) {
		out.AddChild(x)
		return
	}
	out.InsertChildAt(at, x)
}

// nsOf returns the namespace one's root binds to prefix p.
func nsOf(one *etree.Element, p string) string {
	for _, a := range one.Attr {
		if a.Space == "xmlns" && a.Key == p {
			return a.Value
		}
	}
	return ""
}

// prefixFor returns a prefix bound to uri on out's root, declaring one when
// there is none.
func prefixFor(out *etree.Element, want, uri string) string {
	declared := map[string]bool{}
	for _, a := range out.Attr {
		if a.Space == "xmlns" {
			if a.Value == uri {
				return a.Key
			}
			declared[a.Key] = true
		}
	}
	used := map[string]bool{}
	var walk func(e *etree.Element)
	walk = func(e *etree.Element) {
		used[e.Space] = true
		for _, a := range e.Attr {
			used[a.Space] = true
		}
		for _, c := range e.ChildElements() {
			walk(c)
		}
	}
	walk(out)
	p := want
	for i := 1; declared[p] || used[p]; i++ {
		p = fmt.Sprintf("%s%d", want, i)
	}
	out.CreateAttr("xmlns:"+p, uri)
	return p
}

// companionTags maps a standard element to the tag its counterpart has in
// the other format: what feedsync.ConvertItem keeps right after it when the
// mapping loses something (an Atom xhtml title beside an RSS title, an RSS
// pubDate spelling beside an Atom published).
var companionTags = map[feedsync.Format]map[string]string{
	feedsync.RSS:  {"title": "title", "description": "summary", "encoded": "content", "link": "link", "pubDate": "published"},
	feedsync.Atom: {"title": "title", "summary": "description", "link": "link", "published": "pubDate"},
}

// dropCompanion removes the element ConvertItem kept right after el for
// what el's mapping to the other format lost: once el is rewritten it
// would bring the old value back (FS-FEED-10).
func (m Map) dropCompanion(out, el *etree.Element) {
	want, ok := companionTags[m.format()][el.Tag]
	if !ok {
		return
	}
	i := childIndex(out, el)
	if i < 0 {
		return
	}
	for _, t := range out.Child[i+1:] {
		c, ok := t.(*etree.Element)
		if !ok {
			continue
		}
		uri := c.NamespaceURI()
		if c.Tag == want && (m.format() == feedsync.RSS && uri == feedsync.AtomNamespace ||
			m.format() == feedsync.Atom && uri == "" && c.SelectAttr("xmlns") != nil) {
			out.RemoveChild(c)
		}
		return
	}
}
