package converter

import (
	"bytes"
	"encoding/xml"
	"fmt"
	"io"
	"strings"

	"github.com/beevik/etree"

	"github.com/feedsync/go-feedsync/feedsync"
)

// Raw is the identity converter for applications that keep payloads as XML
// text: ToPayload parses one <item> or <entry> element, FromPayload writes
// one back.
//
// ToPayload is strict about what it accepts, because the bytes usually come
// from outside: exactly one element, which must be an RSS <item> (in no
// namespace) or an Atom <entry> (in the Atom namespace, or in none, as cut
// out of a feed), optionally preceded by an XML declaration and surrounded
// by comments and white space. It refuses (FS-ROBUST-4):
//
//   - a document type declaration, and with it every entity definition
//     (ErrUnsafeXML); references to undefined entities are syntax errors;
//   - an element or attribute with an undeclared namespace prefix
//     (ErrUnsafeXML): the payload would change meaning in another feed;
//   - an sx:sync child (ErrNotItem): a payload carries no sync metadata,
//     whole items go through feedsync.UnmarshalItem;
//   - input larger than MaxBytes or nested deeper than MaxDepth
//     (feedsync.ErrLimit).
//
// The zero Raw is ready to use: either format, the default limits of
// feedsync.ReaderOptions.
type Raw struct {
	// Format restricts the payloads accepted to one format. Default:
	// feedsync.FormatUnknown, which accepts both; the caller then learns
	// the format from the element's name (see RawFormat).
	Format feedsync.Format
	// MaxBytes bounds the input of ToPayload. Default:
	// feedsync.DefaultMaxItemBytes.
	MaxBytes int64
	// MaxDepth bounds element nesting, the payload element counting as 1.
	// Default: feedsync.DefaultMaxDepth.
	MaxDepth int
}

// ToPayload parses b into a payload element. id is not used.
func (r Raw) ToPayload(id string, b []byte) (*etree.Element, error) {
	if err := r.check(b); err != nil {
		return nil, err
	}
	doc := etree.NewDocument()
	doc.ReadSettings.PreserveCData = true
	if err := doc.ReadFromBytes(b); err != nil {
		return nil, fmt.Errorf("converter: raw payload: %w", err)
	}
	root := doc.Root()
	doc.RemoveChild(root)
	return root, nil
}

// RawFormat returns the format of a payload element that Raw accepts:
// feedsync.RSS for an <item>, feedsync.Atom for an <entry>, and
// feedsync.FormatUnknown for anything else.
func RawFormat(e *etree.Element) feedsync.Format {
	for _, f := range []feedsync.Format{feedsync.RSS, feedsync.Atom} {
		if checkWrapper(e, f) == nil {
			return f
		}
	}
	return feedsync.FormatUnknown
}

// FromPayload writes e as XML text: the element with every namespace
// declaration it relies on from its ancestors (if it still has them),
// without sx:sync children, and with carriage returns in text and tabs,
// newlines and carriage returns in attribute values written as character
// references so that they read back unchanged. The output is deterministic
// and ToPayload accepts it, unless e uses a prefix nothing declares (an
// element copied out of a feed without its ancestors' declarations can;
// feedsync.Item.Payload and FromItem keep them).
func (r Raw) FromPayload(e *etree.Element) ([]byte, error) {
	if err := r.checkElement(e); err != nil {
		return nil, err
	}
	c := standalone(e, nil)
	removeSync(c)
	return writeCanonical(c), nil
}

func (r Raw) checkElement(e *etree.Element) error {
	if r.Format == feedsync.RSS || r.Format == feedsync.Atom {
		return checkWrapper(e, r.Format)
	}
	if RawFormat(e) == feedsync.FormatUnknown {
		return checkWrapper(e, feedsync.RSS)
	}
	return nil
}

// check reads b token by token, before any tree is built, and enforces what
// Raw's documentation promises.
func (r Raw) check(b []byte) error {
	maxBytes, maxDepth := r.MaxBytes, r.MaxDepth
	if maxBytes <= 0 {
		maxBytes = feedsync.DefaultMaxItemBytes
	}
	if maxDepth <= 0 {
		maxDepth = feedsync.DefaultMaxDepth
	}
	if int64(len(b)) > maxBytes {
		return fmt.Errorf("converter: raw payload: %w: %d bytes, more than %d", feedsync.ErrLimit, len(b), maxBytes)
	}
	d := xml.NewDecoder(bytes.NewReader(b))
	d.Strict = true
	// RawToken, so that undeclared prefixes stay visible; it does not match
	// end tags to start tags, which the stack below does.
	type open struct {
		name xml.Name
		ns   map[string]string // declarations made by this element
	}
	var stack []open
	lookup := func(prefix string) (string, bool) {
		for i := len(stack) - 1; i >= 0; i-- {
			if uri, ok := stack[i].ns[prefix]; ok {
				return uri, true
			}
		}
		return "", prefix == ""
	}
	roots := 0
	for {
		tok, err := d.RawToken()
		if err == io.EOF {
			break
		}
		if err != nil {
			return fmt.Errorf("converter: raw payload: %w", err)
		}
		line, _ := d.InputPos()
		switch t := tok.(type) {
		case xml.Directive:
			return fmt.Errorf("%w: raw payload line %d: <!%s> (document type declarations and entities are refused)",
				ErrUnsafeXML, line, firstWord(t))
		case xml.ProcInst:
			if t.Target != "xml" || roots > 0 || len(stack) > 0 {
				return fmt.Errorf("%w: raw payload line %d: processing instruction <?%s?> (only an XML declaration may precede the element)",
					ErrNotItem, line, t.Target)
			}
		case xml.CharData:
			if len(stack) == 0 && len(bytes.TrimSpace(t)) > 0 {
				return fmt.Errorf("%w: raw payload line %d: text outside the element", ErrNotItem, line)
			}
		case xml.StartElement:
			if len(stack) == 0 {
				roots++
				if roots > 1 {
					return fmt.Errorf("%w: raw payload line %d: more than one element", ErrNotItem, line)
				}
			}
			if len(stack)+1 > maxDepth {
				return fmt.Errorf("converter: raw payload line %d: %w: elements nested deeper than %d", line, feedsync.ErrLimit, maxDepth)
			}
			o := open{name: t.Name, ns: map[string]string{}}
			for _, a := range t.Attr {
				switch {
				case a.Name.Space == "" && a.Name.Local == "xmlns":
					o.ns[""] = a.Value
				case a.Name.Space == "xmlns":
					o.ns[a.Name.Local] = a.Value
				}
			}
			stack = append(stack, o)
			uri, ok := lookup(t.Name.Space)
			if !ok {
				return fmt.Errorf("%w: raw payload line %d: <%s:%s> uses an undeclared prefix", ErrUnsafeXML, line, t.Name.Space, t.Name.Local)
			}
			for _, a := range t.Attr {
				if a.Name.Space == "" || a.Name.Space == "xmlns" || a.Name.Space == "xml" {
					continue
				}
				if _, ok := lookup(a.Name.Space); !ok {
					return fmt.Errorf("%w: raw payload line %d: attribute %s:%s uses an undeclared prefix", ErrUnsafeXML, line, a.Name.Space, a.Name.Local)
				}
			}
			switch len(stack) {
			case 1:
				if err := r.checkRoot(t.Name, uri); err != nil {
					return fmt.Errorf("%w (raw payload line %d)", err, line)
				}
			case 2:
				if t.Name.Local == "sync" && (uri == feedsync.Namespace || uri == feedsync.LegacyNamespace) {
					return fmt.Errorf("%w: raw payload line %d: the payload carries sx:sync (use feedsync.UnmarshalItem for whole items)", ErrNotItem, line)
				}
			}
		case xml.EndElement:
			if len(stack) == 0 || stack[len(stack)-1].name != t.Name {
				return fmt.Errorf("%w: raw payload line %d: unexpected end tag </%s>", ErrNotItem, line, qname(t.Name))
			}
			stack = stack[:len(stack)-1]
		}
	}
	if len(stack) > 0 {
		return fmt.Errorf("%w: raw payload: <%s> is not closed", ErrNotItem, qname(stack[len(stack)-1].name))
	}
	if roots == 0 {
		return fmt.Errorf("%w: raw payload: no element", ErrNotItem)
	}
	return nil
}

// checkRoot checks the name of the payload element; uri is its namespace.
func (r Raw) checkRoot(n xml.Name, uri string) error {
	e := etree.NewElement(n.Local)
	e.Space = n.Space
	if n.Space == "" {
		e.CreateAttr("xmlns", uri)
	} else {
		e.CreateAttr("xmlns:"+n.Space, uri)
	}
	return r.checkElement(e)
}

func qname(n xml.Name) string {
	if n.Space == "" {
		return n.Local
	}
	return n.Space + ":" + n.Local
}

// firstWord returns the keyword of a directive ("DOCTYPE", "ENTITY", …).
func firstWord(d xml.Directive) string {
	s := strings.TrimSpace(string(d))
	if i := strings.IndexAny(s, " \t\r\n["); i >= 0 {
		s = s[:i]
	}
	if s == "" {
		return "directive"
	}
	return s
}
