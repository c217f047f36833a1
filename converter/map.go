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
	f, err := m.fields()
	if err != nil {
		return nil, err
	}
	rec := map[string]any{}
	fromField := map[string]bool{}
	setStd := func(name, v string) {
		if name == "" || v == "" || fromField[name] {
			return
		}
		if _, ok := rec[name]; ok {
			return // the first of several standard elements counts
		}
		rec[name] = v
	}
	for _, c := range e.ChildElements() {
		k := m.kind(c)
		switch k {
		case kindField:
			name, v, err := readField(c)
			if err != nil {
				return nil, err
			}
			if fromField[name] {
				return nil, fmt.Errorf("%w: field %q is given twice", ErrPayload, name)
			}
			fromField[name] = true
			rec[name] = v
		case kindTitle:
			setStd(f.title, c.Text())
		case kindLink:
			if m.format() == feedsync.Atom {
				setStd(f.link, c.SelectAttrValue("href", ""))
			} else {
				setStd(f.link, c.Text())
			}
		case kindDescription:
			setStd(f.description, c.Text())
		case kindContent:
			setStd(f.content, c.Text())
		case kindPublished:
			v := c.Text()
			if m.format() == feedsync.RSS {
				if t, err := parseRSSDate(strings.TrimSpace(v)); err == nil {
					v = t.Format(time.RFC3339)
				}
			}
			setStd(f.published, v)
		}
	}
	return rec, nil
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
			return kindTitle
		case "link":
			if rel := c.SelectAttrValue("rel", "alternate"); rel == "alternate" {
				return kindLink
			}
		case "summary":
			return kindDescription
		case "content":
			return kindContent
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

// SyncID returns the sync id for an application key: the key itself when it
// is a valid URN NSS (FS-TYPE-5), otherwise the key with every byte outside
// the NSS character set (and '%' itself) written as %HH. The mapping is
// one to one, so distinct keys never share an id; Key undoes it. An empty
// key gives "", which is not a valid id.
func (Map) SyncID(key string) string {
	if feedsync.ValidID(key) && !strings.Contains(key, "%") {
		return key
	}
	var b strings.Builder
	for i := 0; i < len(key); i++ {
		c := key[i]
		if nssChar(c) {
			b.WriteByte(c)
			continue
		}
		fmt.Fprintf(&b, "%%%02X", c)
	}
	return b.String()
}

// Key returns the application key SyncID made id from. An id that SyncID
// never writes (an escape of a character that needs none, or a character
// that needs one) is refused: taking it would give a key whose SyncID is
// another item's id (FS-SYNC-2).
func (m Map) Key(id string) (string, error) {
	k, err := m.unescape(id)
	if err != nil {
		return "", err
	}
	if m.SyncID(k) != feedsync.NormalizeID(id) {
		return "", fmt.Errorf("converter: id %q is not one SyncID writes (it would be %q)", id, m.SyncID(k))
	}
	return k, nil
}

func (Map) unescape(id string) (string, error) {
	if !strings.Contains(id, "%") {
		return id, nil
	}
	var b strings.Builder
	for i := 0; i < len(id); i++ {
		c := id[i]
		if c != '%' {
			b.WriteByte(c)
			continue
		}
		if i+2 >= len(id) || !isHex(id[i+1]) || !isHex(id[i+2]) {
			return "", fmt.Errorf("converter: id %q: bad %%-escape at byte %d", id, i)
		}
		b.WriteByte(unhex(id[i+1])<<4 | unhex(id[i+2]))
		i += 2
	}
	return b.String(), nil
}

func nssChar(c byte) bool {
	return 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' ||
		strings.IndexByte("()+,-.:=@;$_!*'", c) >= 0
}

func isHex(c byte) bool {
	return '0' <= c && c <= '9' || 'a' <= c && c <= 'f' || 'A' <= c && c <= 'F'
}

func unhex(c byte) byte {
	switch {
	case c <= '9':
		return c - '0'
	case c <= 'F':
		return c - 'A' + 10
	}
	return c - 'a' + 10
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
