package xmltok

import (
	"bytes"
	"encoding/binary"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"strings"
	"unicode/utf8"
)

// ErrTooLarge is returned by Decoder.Next when the token being read does not
// fit in Options.Limit bytes together with what the caller still keeps.
var ErrTooLarge = errors.New("xmltok: input kept at once exceeds the limit")

// Kind is the kind of a Token.
type Kind uint8

// The kinds of tokens, one per encoding/xml token type.
const (
	StartElement Kind = iota + 1 // xml.StartElement
	EndElement                   // xml.EndElement
	CharData                     // xml.CharData, text and CDATA sections alike
	Comment                      // xml.Comment
	ProcInst                     // xml.ProcInst
	Directive                    // xml.Directive
)

// Token is one raw token. Attr and Data belong to the Decoder and are valid
// until the next call to Next, as RawToken's data is; everything else is
// the caller's.
type Token struct {
	Kind Kind
	// Name is the element's name for StartElement and EndElement, and the
	// target in Name.Local for ProcInst.
	Name xml.Name
	// Attr are a StartElement's attributes, in document order, with
	// entities decoded.
	Attr []xml.Attr
	// Data is the text of CharData (decoded), Comment, ProcInst (the
	// instruction) and Directive.
	Data []byte
}

// Start returns a StartElement token as xml.StartElement, sharing Attr.
func (t Token) Start() xml.StartElement { return xml.StartElement{Name: t.Name, Attr: t.Attr} }

// XML returns the token as the encoding/xml token RawToken would give,
// holding copies of Attr and Data.
func (t Token) XML() xml.Token {
	switch t.Kind {
	case StartElement:
		return xml.StartElement{Name: t.Name, Attr: append([]xml.Attr{}, t.Attr...)}
	case EndElement:
		return xml.EndElement{Name: t.Name}
	case CharData:
		return xml.CharData(bytes.Clone(t.Data))
	case Comment:
		return xml.Comment(bytes.Clone(t.Data))
	case ProcInst:
		return xml.ProcInst{Target: t.Name.Local, Inst: bytes.Clone(t.Data)}
	case Directive:
		return xml.Directive(bytes.Clone(t.Data))
	}
	return nil
}

// Options adjust a Decoder. The zero value keeps everything and refuses
// every declared encoding other than UTF-8, as a Decoder without a
// CharsetReader does.
type Options struct {
	// Limit bounds the bytes kept at once, from the oldest offset the
	// caller still needs (see Discard) to the end of what was read. Next
	// returns ErrTooLarge when it would have to read more. 0: no bound.
	Limit int
	// Charset is called with the label of an XML declaration's encoding
	// other than UTF-8, as Decoder.CharsetReader is. The Decoder reads
	// UTF-8 only: a non-nil error stops it ("xml: opening charset ...:
	// err"), nil reads on as if the input were UTF-8. Default: refuse, with
	// encoding/xml's message for a missing CharsetReader.
	Charset func(label string) error
}

// Decoder reads raw tokens from an io.Reader. See the package
// documentation for what it matches of encoding/xml.
type Decoder struct {
	r       io.Reader
	limit   int
	charset func(string) error

	// data holds the input from offset base on; data[keep:] is still
	// needed by the caller, data[pos:] is not yet tokenised.
	data []byte
	base int64
	keep int
	pos  int
	// final is set once r returned an error (rerr, io.EOF at the end):
	// nothing more will come.
	final bool
	rerr  error

	// line is the line of input offset lineOff, counted lazily.
	line    int
	lineOff int64

	needClose bool
	toClose   xml.Name
	err       error // sticky, as encoding/xml's
	errPos    int   // where the error being returned was found

	attr    []xml.Attr
	scratch []byte
	names   [nameSlots]string // see intern
	nameOK  map[string]bool
}

// NewDecoder returns a Decoder reading r.
func NewDecoder(r io.Reader, opts Options) *Decoder {
	return &Decoder{r: r, limit: opts.Limit, charset: opts.Charset, line: 1}
}

// errShort says that a token runs past the end of the buffer: read more and
// parse it again.
var errShort = errors.New("xmltok: short buffer")

const (
	// minRead is the least a read asks for. It is small against the
	// slack feedsync leaves above its limits (64 KiB), so that reading
	// ahead does not trip Limit before the caller's own checks would.
	minRead = 32 << 10
	// longToken is the number of reads after which a token counts as
	// long: from then on each read at least doubles what is buffered of
	// it, so that parsing it again costs time in proportion to its size.
	longToken = 4
	// nameSlots is the size of the cache of names (a power of two).
	nameSlots = 1024
	// maxNames bounds the cached answers of validUnicodeName.
	maxNames = 4096
)

// InputOffset returns the input offset just after the last token returned,
// as xml.Decoder.InputOffset does. After an error it is where the error was
// found.
func (d *Decoder) InputOffset() int64 { return d.base + int64(d.pos) }

// InputLine returns the line of InputOffset, counting from 1.
func (d *Decoder) InputLine() int { return d.lineAt(d.pos) }

// Slice returns the input between two offsets, which must lie between the
// last Discard and InputOffset. It is valid until the next call to Next.
func (d *Decoder) Slice(from, to int64) []byte { return d.data[from-d.base : to-d.base] }

// Discard lets the Decoder drop the input before offset off, which must
// not lie after InputOffset.
func (d *Decoder) Discard(off int64) {
	if k := int(off - d.base); k > d.keep {
		d.keep = k
	}
}

// lineAt returns the line of d.data[i], counting the newlines from the last
// position asked for.
func (d *Decoder) lineAt(i int) int {
	last := int(d.lineOff - d.base)
	if i >= last {
		d.line += bytes.Count(d.data[last:i], nl)
	} else {
		d.line -= bytes.Count(d.data[i:last], nl)
	}
	d.lineOff = d.base + int64(i)
	return d.line
}

var nl = []byte{'\n'}

// syntax returns a syntax error found at d.data[i].
func (d *Decoder) syntax(i int, msg string) error {
	d.errPos = i
	return &xml.SyntaxError{Msg: msg, Line: d.lineAt(i)}
}

// need is what reading a byte at d.data[i], past the buffer, gives: a
// retry with more input, or at the end of input encoding/xml's mustgetc
// error.
func (d *Decoder) need(i int) error {
	if !d.final {
		return errShort
	}
	if d.rerr == io.EOF {
		return d.syntax(i, "unexpected EOF")
	}
	d.errPos = i
	return d.rerr
}

// Next returns the next token, or io.EOF at the end of input. Errors are
// sticky.
func (d *Decoder) Next() (Token, error) {
	if d.err != nil {
		return Token{}, d.err
	}
	if d.needClose {
		// The last element was self-closing and only its start was
		// returned, as RawToken does.
		d.needClose = false
		return Token{Kind: EndElement, Name: d.toClose}, nil
	}
	for reads := 0; ; reads++ {
		t, next, err := d.parse(d.pos)
		if err == nil {
			d.pos = next
			return t, nil
		}
		if err == errShort {
			if err = d.fill(reads); err == nil {
				continue
			}
			d.errPos = d.pos
		}
		d.pos = d.errPos
		d.err = err
		return Token{}, err
	}
}

// fill reads more input for the token at d.pos; reads is how many reads
// this token took so far.
func (d *Decoder) fill(reads int) error {
	want := minRead
	if reads >= longToken {
		want = max(want, len(d.data)-d.pos)
	}
	if cap(d.data)-len(d.data) < want {
		if d.keep > 0 {
			// Move what is kept to the front rather than growing.
			if d.lineOff < d.base+int64(d.keep) {
				d.lineAt(d.keep)
			}
			n := copy(d.data, d.data[d.keep:])
			d.data = d.data[:n]
			d.base += int64(d.keep)
			d.pos -= d.keep
			d.keep = 0
		}
		if cap(d.data)-len(d.data) < want {
			nb := make([]byte, len(d.data), max(2*cap(d.data), len(d.data)+want))
			copy(nb, d.data)
			d.data = nb
		}
	}
	for got, empty := 0, 0; got < want; {
		if d.limit > 0 && len(d.data)-d.keep > d.limit {
			if got > 0 {
				return nil
			}
			return ErrTooLarge
		}
		end := len(d.data) + min(cap(d.data)-len(d.data), max(want-got, minRead))
		n, err := d.r.Read(d.data[len(d.data):end])
		d.data = d.data[:len(d.data)+n]
		got += n
		if err != nil {
			d.final, d.rerr = true, err
			return nil
		}
		if n == 0 {
			if empty++; empty >= 100 {
				d.final, d.rerr = true, io.ErrNoProgress
				return nil
			}
			continue
		}
		if reads < longToken {
			return nil // one read, like a bufio.Reader
		}
	}
	return nil
}

// parse reads the token at d.data[i], as encoding/xml's rawToken does, and
// returns it with the index after it.
func (d *Decoder) parse(i int) (Token, int, error) {
	b := d.data
	n := len(b)
	if i >= n {
		if !d.final {
			return Token{}, 0, errShort
		}
		d.errPos = i
		return Token{}, 0, d.rerr
	}
	if b[i] != '<' {
		data, next, err := d.text(i, -1, false)
		if err != nil {
			return Token{}, 0, err
		}
		return Token{Kind: CharData, Data: data}, next, nil
	}
	if i+1 >= n {
		return Token{}, 0, d.need(i + 1)
	}
	switch b[i+1] {
	case '/':
		name, j, ok, err := d.nsname(i + 2)
		if err != nil {
			return Token{}, 0, err
		}
		if !ok {
			return Token{}, 0, d.syntax(j, "expected element name after </")
		}
		if j, err = d.space(j); err != nil {
			return Token{}, 0, err
		}
		if j >= n {
			return Token{}, 0, d.need(j)
		}
		if b[j] != '>' {
			return Token{}, 0, d.syntax(j+1, "invalid characters between </"+name.Local+" and >")
		}
		return Token{Kind: EndElement, Name: name}, j + 1, nil
	case '?':
		return d.procInst(i + 2)
	case '!':
		return d.bang(i + 2)
	}
	return d.start(i + 1)
}

// procInst reads a processing instruction whose target starts at i.
func (d *Decoder) procInst(i int) (Token, int, error) {
	target, j, ok, err := d.name(i)
	if err != nil {
		return Token{}, 0, err
	}
	if !ok {
		return Token{}, 0, d.syntax(j, "expected target name after <?")
	}
	if j, err = d.space(j); err != nil {
		return Token{}, 0, err
	}
	k := bytes.Index(d.data[j:], []byte("?>"))
	if k < 0 {
		return Token{}, 0, d.need(len(d.data))
	}
	data, next := d.data[j:j+k], j+k+2
	if target == "xml" {
		content := string(data)
		if ver := procInstParam("version", content); ver != "" && ver != "1.0" {
			d.errPos = next
			return Token{}, 0, fmt.Errorf("xml: unsupported version %q; only version 1.0 is supported", ver)
		}
		if enc := procInstParam("encoding", content); enc != "" && !strings.EqualFold(enc, "utf-8") {
			d.errPos = next
			if d.charset == nil {
				return Token{}, 0, fmt.Errorf("xml: encoding %q declared but Decoder.CharsetReader is nil", enc)
			}
			if err := d.charset(enc); err != nil {
				return Token{}, 0, fmt.Errorf("xml: opening charset %q: %w", enc, err)
			}
		}
	}
	return Token{Kind: ProcInst, Name: xml.Name{Local: target}, Data: data}, next, nil
}

// bang reads what follows "<!" at i: a comment, a CDATA section or a
// directive.
func (d *Decoder) bang(i int) (Token, int, error) {
	b := d.data
	n := len(b)
	if i >= n {
		return Token{}, 0, d.need(i)
	}
	switch b[i] {
	case '-':
		if i+1 >= n {
			return Token{}, 0, d.need(i + 1)
		}
		if b[i+1] != '-' {
			return Token{}, 0, d.syntax(i+2, "invalid sequence <!- not part of <!--")
		}
		j := i + 2
		k := bytes.Index(b[j:], []byte("--"))
		if k < 0 {
			return Token{}, 0, d.need(n)
		}
		if e := j + k + 2; e >= n {
			return Token{}, 0, d.need(e)
		} else if b[e] != '>' {
			return Token{}, 0, d.syntax(e+1, `invalid sequence "--" not allowed in comments`)
		}
		return Token{Kind: Comment, Data: b[j : j+k]}, j + k + 3, nil
	case '[':
		for k := range 6 {
			j := i + 1 + k
			if j >= n {
				return Token{}, 0, d.need(j)
			}
			if b[j] != "CDATA["[k] {
				return Token{}, 0, d.syntax(j+1, "invalid <![ sequence")
			}
		}
		data, next, err := d.text(i+7, -1, true)
		if err != nil {
			return Token{}, 0, err
		}
		return Token{Kind: CharData, Data: data}, next, nil
	}
	return d.directive(i)
}

// directive reads a directive whose first byte is at i, as rawToken does:
// quoted angle brackets do not nest, and comments become a space.
func (d *Decoder) directive(i int) (Token, int, error) {
	b := d.data
	n := len(b)
	out := append(d.scratch[:0], b[i])
	var inquote byte
	depth := 0
	j := i + 1
	for {
		if j >= n {
			return Token{}, 0, d.need(j)
		}
		c := b[j]
		j++
		if inquote == 0 && c == '>' && depth == 0 {
			break
		}
	HandleB:
		out = append(out, c)
		switch {
		case c == inquote:
			inquote = 0
		case inquote != 0:
			// in quotes, no special action
		case c == '\'' || c == '"':
			inquote = c
		case c == '>':
			depth--
		case c == '<':
			const s = "!--"
			for k := range len(s) {
				if j >= n {
					return Token{}, 0, d.need(j)
				}
				c = b[j]
				j++
				if c != s[k] {
					out = append(out, s[:k]...)
					depth++
					goto HandleB
				}
			}
			out = out[:len(out)-1]
			var b0, b1 byte
			for {
				if j >= n {
					return Token{}, 0, d.need(j)
				}
				c = b[j]
				j++
				if b0 == '-' && b1 == '-' && c == '>' {
					break
				}
				b0, b1 = b1, c
			}
			// A space in place of the comment, so that what it separated
			// is not joined (encoding/xml does the same).
			out = append(out, ' ')
		}
	}
	d.scratch = out
	return Token{Kind: Directive, Data: out}, j, nil
}

// start reads a start tag whose name begins at i.
func (d *Decoder) start(i int) (Token, int, error) {
	b := d.data
	n := len(b)
	name, j, ok, err := d.nsname(i)
	if err != nil {
		return Token{}, 0, err
	}
	if !ok {
		return Token{}, 0, d.syntax(j, "expected element name after <")
	}
	attr := d.attr[:0]
	empty := false
	for {
		if j, err = d.space(j); err != nil {
			return Token{}, 0, err
		}
		if j >= n {
			return Token{}, 0, d.need(j)
		}
		c := b[j]
		if c == '/' {
			if j+1 >= n {
				return Token{}, 0, d.need(j + 1)
			}
			if b[j+1] != '>' {
				return Token{}, 0, d.syntax(j+2, "expected /> in element")
			}
			j += 2
			empty = true
			break
		}
		if c == '>' {
			j++
			break
		}
		var a xml.Attr
		if a.Name, j, ok, err = d.nsname(j); err != nil {
			return Token{}, 0, err
		} else if !ok {
			return Token{}, 0, d.syntax(j, "expected attribute name in element")
		}
		if j, err = d.space(j); err != nil {
			return Token{}, 0, err
		}
		if j >= n {
			return Token{}, 0, d.need(j)
		}
		if b[j] != '=' {
			return Token{}, 0, d.syntax(j+1, "attribute name without = in element")
		}
		if j, err = d.space(j + 1); err != nil {
			return Token{}, 0, err
		}
		if j >= n {
			return Token{}, 0, d.need(j)
		}
		q := b[j]
		if q != '"' && q != '\'' {
			return Token{}, 0, d.syntax(j+1, "unquoted or missing attribute value in element")
		}
		var v []byte
		if v, j, err = d.text(j+1, int(q), false); err != nil {
			return Token{}, 0, err
		}
		a.Value = string(v)
		attr = append(attr, a)
	}
	d.attr = attr
	if empty {
		d.needClose, d.toClose = true, name
	}
	return Token{Kind: StartElement, Name: name, Attr: attr}, j, nil
}

// space skips white space from i, as encoding/xml's space: at the end of
// input it stops and leaves the error to the next byte asked for.
func (d *Decoder) space(i int) (int, error) {
	b := d.data
	for ; i < len(b); i++ {
		switch b[i] {
		case ' ', '\r', '\n', '\t':
		default:
			return i, nil
		}
	}
	if !d.final {
		return 0, errShort
	}
	return i, nil
}

// nameByte says which bytes a name runs over: ASCII name characters and
// every byte of a multi-byte character (checked afterwards).
var nameByte = func() (t [256]bool) {
	for c := range 256 {
		t[c] = c >= utf8.RuneSelf || 'A' <= c && c <= 'Z' || 'a' <= c && c <= 'z' ||
			'0' <= c && c <= '9' || c == '_' || c == ':' || c == '.' || c == '-'
	}
	return t
}()

// readName returns the run of name bytes at i; ok is false, with no
// error, when there is none.
func (d *Decoder) readName(i int) (s []byte, next int, ok bool, err error) {
	b := d.data
	if i >= len(b) {
		return nil, 0, false, d.need(i)
	}
	if !nameByte[b[i]] {
		return nil, i, false, nil
	}
	j := i + 1
	for j < len(b) && nameByte[b[j]] {
		j++
	}
	if j >= len(b) {
		return nil, 0, false, d.need(j)
	}
	return b[i:j], j, true, nil
}

// name reads a name at i as encoding/xml's name: the run of name bytes,
// then a check of its characters.
func (d *Decoder) name(i int) (string, int, bool, error) {
	s, j, ok, err := d.readName(i)
	if !ok {
		return "", j, false, err
	}
	if !d.validName(s) {
		return "", 0, false, d.syntax(j, "invalid XML name: "+string(s))
	}
	return d.intern(s), j, true, nil
}

// nsname reads a name and splits it at its colon, as encoding/xml's
// nsname: more than one colon is no name, and a colon at either end is part
// of the local name.
func (d *Decoder) nsname(i int) (xml.Name, int, bool, error) {
	s, j, ok, err := d.readName(i)
	if !ok {
		return xml.Name{}, j, false, err
	}
	if !d.validName(s) {
		return xml.Name{}, 0, false, d.syntax(j, "invalid XML name: "+string(s))
	}
	c := bytes.IndexByte(s, ':')
	switch {
	case c < 0:
		return xml.Name{Local: d.intern(s)}, j, true, nil
	case bytes.IndexByte(s[c+1:], ':') >= 0:
		return xml.Name{}, j, false, nil
	case c == 0 || c == len(s)-1:
		return xml.Name{Local: d.intern(s)}, j, true, nil
	}
	return xml.Name{Space: d.intern(s[:c]), Local: d.intern(s[c+1:])}, j, true, nil
}

// intern returns s as a string, the same one as the last time the same
// bytes came as long as no other name took their slot: feeds repeat a few
// names, and a cache indexed by a hash of the bytes costs less than a map.
func (d *Decoder) intern(s []byte) string {
	h := uint32(2166136261)
	for _, c := range s {
		h = (h ^ uint32(c)) * 16777619
	}
	slot := &d.names[h&(nameSlots-1)]
	if *slot == string(s) {
		return *slot
	}
	*slot = string(s)
	return *slot
}

// validName checks the characters of a name as encoding/xml's isName.
func (d *Decoder) validName(s []byte) bool {
	for _, c := range s {
		if c >= utf8.RuneSelf {
			return d.validUnicodeName(s)
		}
	}
	// An ASCII run of name bytes: only the first cannot be a digit, '.'
	// or '-'.
	c := s[0]
	return !('0' <= c && c <= '9' || c == '.' || c == '-')
}

// validUnicodeName asks encoding/xml whether s is a name, to use its
// Unicode tables rather than a copy of them.
func (d *Decoder) validUnicodeName(s []byte) bool {
	if v, ok := d.nameOK[string(s)]; ok {
		return v
	}
	in := make([]byte, 0, len(s)+3)
	in = append(append(append(in, '<'), s...), "/>"...)
	_, err := xml.NewDecoder(bytes.NewReader(in)).RawToken()
	var se *xml.SyntaxError
	v := !errors.As(err, &se) || !strings.HasPrefix(se.Msg, "invalid XML name")
	if d.nameOK == nil {
		d.nameOK = make(map[string]bool)
	}
	if len(d.nameOK) < maxNames {
		d.nameOK[string(s)] = v
	}
	return v
}

var cdataEnd = []byte("]]>")

// text reads character data at i as encoding/xml's text: text up to the
// next '<' or the end of input (quote < 0), an attribute value up to its
// closing quote, or a CDATA section up to "]]>". It returns the data, with
// entities decoded and \r\n and \r turned into \n, and the index after it.
// Errors come in the order encoding/xml finds them: while reading, in
// input order, then the characters of the whole text.
func (d *Decoder) text(i int, quote int, cdata bool) ([]byte, int, error) {
	b := d.data
	n := len(b)
	end, next := n, n // the text is b[i:end]; reading resumes at next
	lt := -1          // a '<' inside a quoted value
	switch {
	case cdata:
		k := bytes.Index(b[i:], cdataEnd)
		if k < 0 {
			if !d.final {
				return nil, 0, errShort
			}
			if d.rerr == io.EOF {
				return nil, 0, d.syntax(n, "unexpected EOF in CDATA section")
			}
			d.errPos = n
			return nil, 0, d.rerr
		}
		end, next = i+k, i+k+3
	case quote >= 0:
		k := bytes.IndexByte(b[i:], byte(quote))
		run := b[i:]
		if k >= 0 {
			run = run[:k]
		}
		if l := bytes.IndexByte(run, '<'); l >= 0 {
			end, lt = i+l, i+l
		} else if k >= 0 {
			end, next = i+k, i+k+1
		} else if !d.final {
			return nil, 0, errShort
		}
	default:
		if k := bytes.IndexByte(b[i:], '<'); k >= 0 {
			end, next = i+k, i+k
		} else if !d.final {
			return nil, 0, errShort
		}
	}
	run := b[i:end]
	rb := -1 // "]]>" in text, an error when read
	if quote < 0 && !cdata {
		if k := bytes.Index(run, cdataEnd); k >= 0 {
			rb = i + k
		}
	}
	data := run
	if (!cdata && bytes.IndexByte(run, '&') >= 0) || bytes.IndexByte(run, '\r') >= 0 {
		var err error
		if data, err = d.decode(i, end, rb, cdata); err != nil {
			return nil, 0, err
		}
	} else if rb >= 0 {
		return nil, 0, d.syntax(rb+3, "unescaped ]]> not in CDATA section")
	}
	if lt >= 0 {
		return nil, 0, d.syntax(lt+1, "unescaped < inside quoted string")
	}
	if msg := checkChars(data); msg != "" {
		return nil, 0, d.syntax(next, msg)
	}
	return data, next, nil
}

// decode decodes b[i:end] into d.scratch: entities (not in CDATA) and line
// ends. rb is the index of a "]]>" to report when reached, or -1.
func (d *Decoder) decode(i, end, rb int, cdata bool) ([]byte, error) {
	b := d.data
	out := d.scratch[:0]
	j := i
	for j < end {
		k := j
		for k < end && b[k] != '&' && b[k] != '\r' && b[k] != '\n' {
			k++
		}
		out = append(out, b[j:k]...)
		if j = k; j >= end {
			break
		}
		switch c := b[j]; {
		case c == '\r':
			out = append(out, '\n')
			j++
		case c == '\n':
			// \r\n is one \n, written at the \r.
			if j == i || b[j-1] != '\r' {
				out = append(out, '\n')
			}
			j++
		case cdata:
			out = append(out, c)
			j++
		default:
			if rb >= 0 && rb < j {
				return nil, d.syntax(rb+3, "unescaped ]]> not in CDATA section")
			}
			var err error
			if out, j, err = d.entity(j, out); err != nil {
				return nil, err
			}
		}
	}
	d.scratch = out
	if rb >= 0 {
		return nil, d.syntax(rb+3, "unescaped ]]> not in CDATA section")
	}
	return out, nil
}

// entity decodes the entity or character reference at p (its '&') onto out,
// as encoding/xml does in Strict mode with no Entity map.
func (d *Decoder) entity(p int, out []byte) ([]byte, int, error) {
	b := d.data
	n := len(b)
	j := p + 1
	if j >= n {
		return nil, 0, d.need(j)
	}
	if b[j] == '#' {
		if j++; j >= n {
			return nil, 0, d.need(j)
		}
		hex := b[j] == 'x'
		if hex {
			if j++; j >= n {
				return nil, 0, d.need(j)
			}
		}
		start := j
		for {
			c := b[j]
			if !('0' <= c && c <= '9' || hex && ('a' <= c && c <= 'f' || 'A' <= c && c <= 'F')) {
				break
			}
			if j++; j >= n {
				return nil, 0, d.need(j)
			}
		}
		if b[j] == ';' {
			if r, ok := charRef(b[start:j], hex); ok {
				return utf8.AppendRune(out, r), j + 1, nil
			}
			j++
		}
		return nil, 0, d.badEntity(p, j)
	}
	k := j
	for k < n && nameByte[b[k]] {
		k++
	}
	if k >= n {
		return nil, 0, d.need(k)
	}
	if b[k] != ';' {
		return nil, 0, d.badEntity(p, k)
	}
	var c byte
	switch string(b[j:k]) {
	case "lt":
		c = '<'
	case "gt":
		c = '>'
	case "amp":
		c = '&'
	case "apos":
		c = '\''
	case "quot":
		c = '"'
	default:
		return nil, 0, d.badEntity(p, k+1)
	}
	return append(out, c), k + 1, nil
}

// badEntity reports the entity b[p:e] that is not one.
func (d *Decoder) badEntity(p, e int) error {
	ent := string(d.data[p:e])
	if ent[len(ent)-1] != ';' {
		ent += " (no semicolon)"
	}
	return d.syntax(e, "invalid character entity "+ent)
}

// charRef parses the digits of a character reference as strconv.ParseUint
// and the check against unicode.MaxRune do in encoding/xml. A reference to
// a surrogate becomes U+FFFD, as string(rune(n)) makes it.
func charRef(s []byte, hex bool) (rune, bool) {
	if len(s) == 0 {
		return 0, false
	}
	var n uint32
	for _, c := range s {
		var v uint32
		switch {
		case '0' <= c && c <= '9':
			v = uint32(c - '0')
		case 'a' <= c && c <= 'f':
			v = uint32(c-'a') + 10
		default:
			v = uint32(c-'A') + 10
		}
		if hex {
			n = n<<4 | v
		} else {
			n = n*10 + v
		}
		if n > utf8.MaxRune {
			return 0, false
		}
	}
	return rune(n), true
}

// checkChars returns what is wrong with the first character of data
// outside XML's Char production, or "".
func checkChars(data []byte) string {
	i := 0
	for i < len(data) {
		// Eight ASCII characters from space on at a time.
		if i+8 <= len(data) {
			x := binary.LittleEndian.Uint64(data[i:])
			const lo, hi = 0x0101010101010101, 0x8080808080808080
			if x&hi == 0 && (x-lo*0x20)&^x&hi == 0 {
				i += 8
				continue
			}
		}
		c := data[i]
		if c < utf8.RuneSelf {
			if c < 0x20 && c != '\t' && c != '\n' && c != '\r' {
				return fmt.Sprintf("illegal character code %U", rune(c))
			}
			i++
			continue
		}
		r, size := utf8.DecodeRune(data[i:])
		if r == utf8.RuneError && size == 1 {
			return "invalid UTF-8"
		}
		if !(r >= 0x20 && r <= 0xD7FF || r >= 0xE000 && r <= 0xFFFD || r >= 0x10000 && r <= 0x10FFFF) {
			return fmt.Sprintf("illegal character code %U", r)
		}
		i += size
	}
	return ""
}

// procInstParam is encoding/xml's procInst: the value of param="..." or
// param='...' in s, or "".
func procInstParam(param, s string) string {
	param += "="
	lenp := len(param)
	i := 0
	var sep byte
	for i < len(s) {
		sub := s[i:]
		k := strings.Index(sub, param)
		if k < 0 || lenp+k >= len(sub) {
			return ""
		}
		i += lenp + k + 1
		if c := sub[lenp+k]; c == '\'' || c == '"' {
			sep = c
			break
		}
	}
	if sep == 0 {
		return ""
	}
	j := strings.IndexByte(s[i:], sep)
	if j < 0 {
		return ""
	}
	return s[i : i+j]
}
