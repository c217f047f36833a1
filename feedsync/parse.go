package feedsync

import (
	"bufio"
	"bytes"
	"crypto/sha256"
	"encoding/binary"
	"encoding/xml"
	"errors"
	"fmt"
	"hash"
	"io"
	"regexp"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/beevik/etree"

	"github.com/feedsync/go-feedsync/feedsync/internal/xmltok"
)

// Problems returns what is wrong with the item's sync metadata: errors make
// the item unusable for a merge (FS-ROBUST-1), warnings do not (FS-ROBUST-2,
// lenient booleans, …). It combines what the reader found with CheckSync.
func (it *Item) Problems() (errs, warnings []error) {
	errs = append(errs, it.problems...)
	warnings = append(warnings, it.warnings...)
	if it.Sync != nil && len(it.problems) == 0 {
		e, w := CheckSync(it.Sync)
		for _, x := range e {
			errs = append(errs, itemErr(it, x))
		}
		for _, x := range w {
			warnings = append(warnings, itemErr(it, x))
		}
	}
	return errs, warnings
}

// Err returns the item's first metadata error, or nil when the item can take
// part in a merge.
func (it *Item) Err() error {
	errs, _ := it.Problems()
	if len(errs) > 0 {
		return errs[0]
	}
	return nil
}

// problems collects metadata problems of one item while it is parsed.
type problems struct {
	item        *Item
	errs, warns []error
}

func (p *problems) add(err error)  { p.errs = append(p.errs, itemErr(p.item, err)) }
func (p *problems) warn(err error) { p.warns = append(p.warns, itemErr(p.item, err)) }

// integer parses updates and sequence (FS-TYPE-2).
func (p *problems) integer(what, v string) int64 {
	n, err := strconv.ParseInt(v, 10, 64)
	switch {
	case err != nil || strings.HasPrefix(v, "+"):
		p.add(fmt.Errorf("%w: %s %q is not a decimal integer (FS-TYPE-2)", ErrInvalidSync, what, v))
		return 0
	case n < 1 || n > MaxInt:
		p.add(fmt.Errorf("%w: %s %d is outside 1..%d (FS-TYPE-2)", ErrInvalidSync, what, n, MaxInt))
		return 0
	}
	return n
}

// boolean parses deleted and noconflicts (FS-TYPE-3).
func (p *problems) boolean(what, v string, strict bool) bool {
	switch v {
	case "true":
		return true
	case "false":
		return false
	}
	if !strict {
		switch strings.ToLower(v) {
		case "true", "1", "yes", "-1":
			p.warn(fmt.Errorf("%s %q read as true; write \"true\" (FS-TYPE-3)", what, v))
			return true
		case "false", "0", "no":
			p.warn(fmt.Errorf("%s %q read as false; write \"false\" (FS-TYPE-3)", what, v))
			return false
		}
	}
	p.add(fmt.Errorf("%w: %s %q is not true or false (FS-TYPE-3)", ErrInvalidSync, what, v))
	return false
}

// history parses the attributes of one sx:history entry.
func (p *problems) history(t xml.StartElement) History {
	var h History
	var seen bool
	for _, a := range t.Attr {
		if isXMLNS(a.Name.Space, a.Name.Local) {
			continue
		}
		if a.Name.Space != "" {
			h.Extra = append(h.Extra, toEtreeAttr(a))
			continue
		}
		switch a.Name.Local {
		case "sequence":
			seen = true
			h.Sequence = p.integer("sx:history sequence", a.Value)
		case "when":
			tm, err := ParseTime(a.Value)
			if err != nil {
				p.add(fmt.Errorf("%w: sx:history when: %v (FS-TYPE-4)", ErrInvalidSync, err))
			}
			h.When = tm
		case "by":
			h.By = a.Value
		default:
			h.Extra = append(h.Extra, toEtreeAttr(a))
		}
	}
	if !seen {
		p.add(fmt.Errorf("%w: sx:history has no sequence (FS-HIST-2)", ErrInvalidSync))
	}
	if h.By == "" && !hasAttr(t, "when") {
		p.add(fmt.Errorf("%w: sx:history has neither when nor by (FS-HIST-4)", ErrInvalidSync))
	}
	return h
}

func toEtreeAttr(a xml.Attr) etree.Attr {
	return etree.Attr{Space: a.Name.Space, Key: a.Name.Local, Value: a.Value}
}

// buildElement builds an etree element from the tokens of the element whose
// start tag t was just read.
func (r *Reader) buildElement(t xml.StartElement) (*etree.Element, error) {
	root := newEtreeElement(t)
	stack := []*etree.Element{root}
	d := r.depth
	for r.depth >= d {
		tok, err := r.token()
		if err != nil {
			return nil, err
		}
		cur := stack[len(stack)-1]
		switch tok.Kind {
		case xmltok.StartElement:
			e := newEtreeElement(tok.Start())
			cur.AddChild(e)
			stack = append(stack, e)
		case xmltok.EndElement:
			stack = stack[:len(stack)-1]
		case xmltok.CharData:
			cur.CreateText(string(tok.Data))
		case xmltok.Comment:
			cur.CreateComment(string(tok.Data))
		}
	}
	return root, nil
}

func newEtreeElement(t xml.StartElement) *etree.Element {
	e := etree.NewElement(t.Name.Local)
	e.Space = t.Name.Space
	for _, a := range t.Attr {
		e.Attr = append(e.Attr, toEtreeAttr(a))
	}
	return e
}

// parseItemBytes parses an item's source bytes into its payload element with
// sx:sync removed.
func parseItemBytes(src *source) (*etree.Element, int, error) {
	if src == nil || src.raw == nil {
		return nil, -1, errors.New("feedsync: item has no payload")
	}
	doc := etree.NewDocument()
	doc.ReadSettings.PreserveCData = true
	if err := doc.ReadFromBytes(src.raw); err != nil {
		return nil, -1, fmt.Errorf("parse payload: %w", err)
	}
	root := doc.Root()
	if root == nil {
		return nil, -1, errors.New("parse payload: no element")
	}
	doc.RemoveChild(root)
	e, i := detachSync(root, src.scope)
	return e, i, nil
}

var encodingDecl = regexp.MustCompile(`^(<\?xml[^>]*?encoding\s*=\s*["'])([A-Za-z0-9._-]+)(["'])`)

// newUTF8Reader converts ISO-8859-1, windows-1252 and US-ASCII input to
// UTF-8 and rewrites its XML declaration to say so, so that item bytes can be
// sliced, re-parsed and copied into UTF-8 output. Other encodings are left
// for the decoder to reject.
func newUTF8Reader(r io.Reader) io.Reader {
	br := bufio.NewReaderSize(r, 512)
	head, _ := br.Peek(256)
	head = bytes.TrimPrefix(head, []byte("\xef\xbb\xbf"))
	m := encodingDecl.FindSubmatchIndex(head)
	if m == nil {
		return br
	}
	label := strings.ToLower(string(head[m[4]:m[5]]))
	var table *[256]rune
	switch label {
	case "utf-8", "utf8":
		return br
	case "us-ascii", "ascii":
		table = nil
	case "iso-8859-1", "latin1", "latin-1", "iso8859-1", "l1":
		table = &latin1
	case "windows-1252", "cp1252":
		table = &cp1252
	default:
		return br
	}
	// Rewrite the declaration: drop everything up to the end of the label.
	var out bytes.Buffer
	if bom := []byte("\xef\xbb\xbf"); bytes.HasPrefix(mustPeek(br, 3), bom) {
		br.Discard(3)
	}
	decl := make([]byte, m[5])
	io.ReadFull(br, decl)
	out.Write(decl[:m[4]])
	out.WriteString("UTF-8")
	return io.MultiReader(&out, &transcoder{r: br, table: table})
}

func mustPeek(br *bufio.Reader, n int) []byte { b, _ := br.Peek(n); return b }

var latin1, cp1252 [256]rune

func init() {
	for i := range latin1 {
		latin1[i] = rune(i)
		cp1252[i] = rune(i)
	}
	hi := []rune("€\ufffd‚ƒ„…†‡ˆ‰Š‹Œ\ufffdŽ\ufffd\ufffd‘’“”•–—˜™š›œ\ufffdžŸ")
	for i, c := range hi {
		cp1252[0x80+i] = c
	}
}

// transcoder maps single bytes to runes. A nil table is US-ASCII: bytes
// above 0x7f are an error.
type transcoder struct {
	r     io.Reader
	table *[256]rune
	out   []byte
	in    [2048]byte
	err   error
}

func (t *transcoder) Read(p []byte) (int, error) {
	for len(t.out) == 0 {
		if t.err != nil {
			return 0, t.err
		}
		n, err := t.r.Read(t.in[:])
		for _, b := range t.in[:n] {
			if t.table == nil {
				if b >= 0x80 {
					t.err = fmt.Errorf("byte 0x%x is not US-ASCII", b)
					break
				}
				t.out = append(t.out, b)
				continue
			}
			t.out = utf8.AppendRune(t.out, t.table[b])
		}
		if err != nil && t.err == nil {
			t.err = err
		}
	}
	n := copy(p, t.out)
	t.out = t.out[n:]
	return n, nil
}

// digester hashes an item's payload in canonical form: namespace URIs and
// local names, attributes (without namespace declarations) in document
// order, and text that is not only white space. Prefixes and formatting do
// not change the result.
//
// A Reader keeps its digesters from item to item, so that their buffers and
// hash are made once; what goes into the hash is gathered in buf and
// written at once.
type digester struct {
	h    hash.Hash
	buf  []byte
	text []byte // text since the last tag: a run split by CDATA or entities hashes as one
	out  [sha256.Size]byte
}

func (d *digester) reset() {
	if d.h == nil {
		d.h = sha256.New()
	}
	d.h.Reset()
	d.buf = d.buf[:0]
	d.text = d.text[:0]
}

// flush appends the text gathered since the last tag to buf.
func (d *digester) flush() {
	if len(bytes.TrimSpace(d.text)) > 0 {
		d.buf = append(d.buf, '"')
		d.buf = binary.AppendUvarint(d.buf, uint64(len(d.text)))
		d.buf = append(d.buf, d.text...)
	}
	d.text = d.text[:0]
}

func (d *digester) str(s string) {
	d.buf = binary.AppendUvarint(d.buf, uint64(len(s)))
	d.buf = append(d.buf, s...)
}

// write hashes buf.
func (d *digester) write() {
	d.h.Write(d.buf)
	d.buf = d.buf[:0]
}

func (d *digester) start(sc *scope, t xml.StartElement) {
	d.flush()
	d.buf = append(d.buf, '<')
	d.str(sc.uri(t.Name.Space))
	d.str(t.Name.Local)
	for _, a := range t.Attr {
		if isXMLNS(a.Name.Space, a.Name.Local) {
			continue
		}
		d.buf = append(d.buf, '@')
		if a.Name.Space != "" {
			d.str(sc.uri(a.Name.Space))
		} else {
			d.str("")
		}
		d.str(a.Name.Local)
		d.str(a.Value)
	}
	d.write()
}

func (d *digester) end() {
	d.flush()
	d.buf = append(d.buf, '>')
	d.write()
}

func (d *digester) addText(b []byte) { d.text = append(d.text, b...) }

func (d *digester) sum() Digest {
	var out Digest
	copy(out[:], d.h.Sum(d.out[:0]))
	return out
}

// digestElement computes the digest of an etree payload in scope sc (the
// scope of the element's parent).
func digestElement(e *etree.Element, sc *scope) Digest {
	var d digester
	d.reset()
	var walk func(e *etree.Element, sc *scope)
	walk = func(e *etree.Element, sc *scope) {
		in := sc.pushEtree(e.Attr)
		t := xml.StartElement{Name: xml.Name{Space: e.Space, Local: e.Tag}}
		for _, a := range e.Attr {
			t.Attr = append(t.Attr, xml.Attr{Name: xml.Name{Space: a.Space, Local: a.Key}, Value: a.Value})
		}
		d.start(in, t)
		for _, c := range e.Child {
			switch c := c.(type) {
			case *etree.Element:
				if c.Tag == "sync" && isSyncNS(in.pushEtree(c.Attr).uri(c.Space)) {
					continue
				}
				walk(c, in)
			case *etree.CharData:
				d.addText([]byte(c.Data))
			}
		}
		d.end()
	}
	walk(e, sc)
	return d.sum()
}
