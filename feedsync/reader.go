package feedsync

import (
	"bytes"
	"encoding/xml"
	"errors"
	"fmt"
	"io"

	"github.com/feedsync/go-feedsync/feedsync/internal/xmltok"
)

// Default limits of ReaderOptions (FS-ROBUST-4).
const (
	DefaultMaxItemBytes   = 16 << 20
	DefaultMaxHeaderBytes = 4 << 20
	// DefaultMaxItemTotalBytes is MaxItemTotalBytes with the default
	// MaxItemBytes: room for two (or three) concurrent versions of an item
	// near the per-version bound.
	DefaultMaxItemTotalBytes = 4 * DefaultMaxItemBytes
	DefaultMaxDepth          = 128
	DefaultMaxHistory        = 10000
	DefaultMaxConflicts      = 1000
)

// ReaderOptions bound what a Reader accepts. The zero value gives the
// defaults.
type ReaderOptions struct {
	// Strict rejects boolean values other than "true" and "false"
	// (FS-TYPE-3). Default: false, which accepts 1/0/yes/no in any case and
	// reports a warning.
	Strict bool
	// MaxItemBytes bounds one version of an item: the item without its
	// conflict copies, and each conflict copy. The bound is per version so
	// that two concurrent edits of an item near the bound conflict into an
	// item that can still be read (FS-ROBUST-6). Default:
	// DefaultMaxItemBytes.
	MaxItemBytes int64
	// MaxItemTotalBytes bounds one item with all its conflict copies, which
	// a Reader holds in memory at once. Default: 4 × MaxItemBytes
	// (DefaultMaxItemTotalBytes with the defaults); never less than
	// MaxItemBytes.
	MaxItemTotalBytes int64
	// MaxHeaderBytes bounds everything before the first item, and any
	// feed-level content between items. Default: DefaultMaxHeaderBytes.
	MaxHeaderBytes int64
	// MaxDepth bounds element nesting. Default: DefaultMaxDepth.
	MaxDepth int
	// MaxHistory bounds the sx:history entries of one sx:sync. Default:
	// DefaultMaxHistory.
	MaxHistory int
	// MaxConflicts bounds the conflict copies of one sx:sync. Default:
	// DefaultMaxConflicts.
	MaxConflicts int
}

func (o ReaderOptions) withDefaults() ReaderOptions {
	if o.MaxItemBytes <= 0 {
		o.MaxItemBytes = DefaultMaxItemBytes
	}
	if o.MaxItemTotalBytes <= 0 {
		o.MaxItemTotalBytes = 4 * o.MaxItemBytes
	}
	o.MaxItemTotalBytes = max(o.MaxItemTotalBytes, o.MaxItemBytes)
	if o.MaxHeaderBytes <= 0 {
		o.MaxHeaderBytes = DefaultMaxHeaderBytes
	}
	if o.MaxDepth <= 0 {
		o.MaxDepth = DefaultMaxDepth
	}
	if o.MaxHistory <= 0 {
		o.MaxHistory = DefaultMaxHistory
	}
	if o.MaxConflicts <= 0 {
		o.MaxConflicts = DefaultMaxConflicts
	}
	return o
}

// Reader reads the items of an RSS 2.0 or Atom 1.0 feed one at a time. Only
// one item is held in memory at a time; each keeps its exact source bytes so
// that unchanged items are written back unchanged.
//
// Once Next returns an error other than io.EOF, every later call returns the
// same error: a Reader does not recover from malformed input.
type Reader struct {
	opts ReaderOptions
	// dec tokenises the input and keeps its bytes from the start of the
	// current item (or of the document, while the header is read), so
	// that an item's exact source can be sliced out by offset.
	dec *xmltok.Decoder

	header  *Header
	started bool
	pending *Item // first item, read while looking for the header's end

	depth     int        // depth of the element the decoder is inside
	open      []xml.Name // names of the open elements, outermost first
	container int        // depth of <channel> or <feed>
	cscope    *scope     // scope inside the container
	lastEnd   int64      // offset just after the previous item
	items     int
	sepSet    bool

	// outer is the item being read, as opposed to its conflict copies;
	// outerStart is the offset of its start tag, copyBytes the bytes of
	// the conflict copies read so far, which its own version does not
	// count (MaxItemBytes is per version).
	outer      *Item
	outerStart int64
	copyBytes  int64

	// digesters[:digests] hash the items being read (an item and the
	// conflict copy inside it); the others are kept for the next items.
	digesters []*digester
	digests   int

	err error // sticky
}

// NewReader returns a Reader with the default options.
func NewReader(r io.Reader) *Reader { return NewReaderOptions(r, ReaderOptions{}) }

// NewReaderOptions returns a Reader with the given options.
func NewReaderOptions(r io.Reader, opts ReaderOptions) *Reader {
	rd := &Reader{opts: opts.withDefaults()}
	limit := rd.opts.MaxItemTotalBytes
	if rd.opts.MaxHeaderBytes > limit {
		limit = rd.opts.MaxHeaderBytes
	}
	rd.dec = xmltok.NewDecoder(newUTF8Reader(r), xmltok.Options{
		// One item (or the header) plus room to read ahead: it stops a
		// single huge token (a gigantic attribute or text) before all of
		// it is buffered.
		Limit: int(limit) + 64<<10,
		Charset: func(label string) error {
			// newUTF8Reader already converted the input and rewrote the
			// declaration; anything left here is an encoding we cannot
			// read.
			return fmt.Errorf("unsupported encoding %q (only UTF-8, US-ASCII, ISO-8859-1 and windows-1252 are read)", label)
		},
	})
	return rd
}

// Header returns the feed's header: its format, its sx:sharing and
// everything before the first item. It reads ahead to the first item if
// Next has not been called yet.
func (r *Reader) Header() (*Header, error) {
	if r.header == nil && r.err == nil {
		it, err := r.next()
		if err != nil && err != io.EOF {
			return nil, err
		}
		r.pending = it
	}
	if r.header == nil {
		return nil, r.err
	}
	return r.header, nil
}

// Next returns the next item of the feed, or io.EOF after the last one.
// Items without sx:sync are returned too (their Sync is nil).
//
// Malformed sync metadata does not stop the reader: the item is returned with
// its problems (see Item.Problems). Malformed XML and exceeded limits do.
func (r *Reader) Next() (*Item, error) {
	if r.pending != nil {
		it := r.pending
		r.pending = nil
		return it, nil
	}
	return r.next()
}

func (r *Reader) next() (*Item, error) {
	if r.err != nil {
		return nil, r.err
	}
	it, err := r.advance()
	if err != nil {
		if err != io.EOF {
			err = r.wrap(err)
		}
		r.err = err
		return nil, err
	}
	return it, nil
}

func (r *Reader) line() int {
	return r.dec.InputLine()
}

// wrap turns decoder errors into a *SyntaxError with the line.
func (r *Reader) wrap(err error) error {
	var se *SyntaxError
	var ie *ItemError
	if errors.As(err, &se) || errors.As(err, &ie) {
		return err
	}
	if errors.Is(err, xmltok.ErrTooLarge) {
		what, n := "item with its conflict copies", r.opts.MaxItemTotalBytes
		if r.header == nil || r.header.building {
			what, n = "feed header", r.opts.MaxHeaderBytes
		}
		return &SyntaxError{Line: r.line(), Msg: fmt.Sprintf("%s larger than %d bytes", what, n), Err: ErrLimit}
	}
	var xe *xml.SyntaxError
	if errors.As(err, &xe) {
		return &SyntaxError{Line: xe.Line, Msg: xe.Msg, Err: err}
	}
	if errors.Is(err, io.ErrUnexpectedEOF) {
		return &SyntaxError{Line: r.line(), Msg: "unexpected end of input (truncated file?)", Err: err}
	}
	return &SyntaxError{Line: r.line(), Msg: err.Error(), Err: err}
}

// token reads the next raw token, tracking depth and the depth limit. The
// token's Attr and Data are valid until the next call.
func (r *Reader) token() (xmltok.Token, error) {
	t, err := r.dec.Next()
	if err != nil {
		if err == io.EOF && r.depth > 0 {
			return t, io.ErrUnexpectedEOF
		}
		return t, err
	}
	switch t.Kind {
	case xmltok.StartElement:
		r.depth++
		if r.depth > r.opts.MaxDepth {
			return t, &SyntaxError{Line: r.line(), Msg: fmt.Sprintf("elements nested deeper than %d", r.opts.MaxDepth), Err: ErrLimit}
		}
		r.open = append(r.open, t.Name)
	case xmltok.EndElement:
		// The tokenizer, like encoding/xml's RawToken, does not check
		// that end tags match: do it here, or malformed bytes would be
		// copied into every feed written.
		if n := len(r.open); n == 0 || r.open[n-1] != t.Name {
			want := "nothing"
			if n > 0 {
				want = "</" + qname(r.open[n-1]) + ">"
			}
			return t, &SyntaxError{Line: r.line(), Msg: fmt.Sprintf("end tag </%s> does not match: expected %s", qname(t.Name), want)}
		}
		r.open = r.open[:len(r.open)-1]
		r.depth--
	case xmltok.Directive:
		// Declared entities are never expanded (an unknown entity is an
		// error, as in encoding/xml's Strict mode), but a document that
		// declares any is hostile or broken: say so instead of failing
		// later on an undefined reference (FS-ROBUST-4).
		if bytes.Contains(t.Data, []byte("ENTITY")) {
			return t, &SyntaxError{Line: r.line(), Msg: "DTD entity declarations are not allowed"}
		}
	}
	return t, nil
}

func qname(n xml.Name) string {
	if n.Space != "" {
		return n.Space + ":" + n.Local
	}
	return n.Local
}

// advance reads up to the next item of the container.
func (r *Reader) advance() (*Item, error) {
	if !r.started {
		r.started = true
		if err := r.readPrologue(); err != nil {
			return nil, err
		}
	}
	if r.container == 0 {
		return nil, io.EOF
	}
	for {
		off := r.dec.InputOffset()
		line := r.line()
		t, err := r.token()
		if err != nil {
			return nil, err
		}
		switch t.Kind {
		case xmltok.StartElement:
			if r.depth != r.container+1 {
				continue
			}
			st := t.Start()
			sc := r.cscope.pushXML(st.Attr)
			if r.isItem(st, sc) {
				if r.header.building {
					r.finishHeader(off)
				} else {
					r.between(off)
				}
				it, err := r.readItem(st, off, line, r.cscope, sc)
				if err != nil {
					return nil, err
				}
				r.lastEnd = r.dec.InputOffset()
				r.dec.Discard(r.lastEnd)
				r.items++
				return it, nil
			}
			if err := r.skipOther(st, sc, off); err != nil {
				return nil, err
			}
		case xmltok.EndElement:
			if r.depth == r.container-1 {
				return nil, r.finish(off)
			}
		}
		if r.header.building && r.dec.InputOffset() > r.opts.MaxHeaderBytes {
			return nil, &SyntaxError{Line: r.line(), Msg: fmt.Sprintf("feed header larger than %d bytes", r.opts.MaxHeaderBytes), Err: ErrLimit}
		}
	}
}

// readPrologue reads to the start of <channel> (RSS) or inside <feed> (Atom).
func (r *Reader) readPrologue() error {
	var sc *scope
	for {
		t, err := r.token()
		if err == io.EOF {
			return &SyntaxError{Line: r.line(), Msg: "no root element", Err: ErrNotFeed}
		}
		if err != nil {
			return err
		}
		if t.Kind != xmltok.StartElement {
			continue
		}
		st := t.Start()
		sc = sc.pushXML(st.Attr)
		uri := sc.uri(st.Name.Space)
		switch {
		case r.depth == 1 && st.Name.Local == "rss" && uri == "":
			r.header = nil
			// descend to <channel>
			for {
				t, err := r.token()
				if err != nil {
					return err
				}
				switch t.Kind {
				case xmltok.StartElement:
					csc := sc.pushXML(t.Attr)
					if r.depth == 2 && t.Name.Local == "channel" && csc.uri(t.Name.Space) == "" {
						r.container, r.cscope = 2, csc
						r.header = &Header{Format: RSS, scope: csc, building: true, sharingStart: -1, sharingEnd: -1}
						r.header.closing = "</" + qname(t.Name) + "></" + qname(st.Name) + ">"
						return nil
					}
					if err := r.skipOther(t.Start(), csc, -1); err != nil {
						return err
					}
				case xmltok.EndElement:
					return &SyntaxError{Line: r.line(), Msg: "<rss> has no <channel>", Err: ErrNotFeed}
				}
			}
		case r.depth == 1 && st.Name.Local == "feed" && uri == AtomNamespace:
			r.container, r.cscope = 1, sc
			r.header = &Header{Format: Atom, scope: sc, building: true, sharingStart: -1, sharingEnd: -1}
			r.header.closing = "</" + qname(st.Name) + ">"
			return nil
		case r.depth == 1:
			what := st.Name.Local
			if uri != "" {
				what = "{" + uri + "}" + what
			}
			return &SyntaxError{Line: r.line(), Msg: fmt.Sprintf("root element <%s> is not RSS 2.0 <rss> or Atom 1.0 <feed>", what), Err: ErrNotFeed}
		}
	}
}

func (r *Reader) isItem(t xml.StartElement, sc *scope) bool {
	if r.header.Format == RSS {
		return t.Name.Local == "item" && sc.uri(t.Name.Space) == ""
	}
	return t.Name.Local == "entry" && sc.uri(t.Name.Space) == AtomNamespace
}

// skipOther skips a container child that is not an item, parsing
// sx:sharing on the way.
func (r *Reader) skipOther(t xml.StartElement, sc *scope, off int64) error {
	if t.Name.Local == "sharing" && isSyncNS(sc.uri(t.Name.Space)) && r.depth == r.container+1 && r.header != nil && r.header.building {
		sh, err := r.readSharing(t, sc)
		if err != nil {
			return err
		}
		if r.header.Sharing == nil {
			r.header.Sharing, r.header.readSharing = sh, sh.clone()
			r.header.sharingStart, r.header.sharingEnd = int(off), int(r.dec.InputOffset())
		}
		return nil
	}
	target := r.depth - 1
	for r.depth > target {
		if _, err := r.token(); err != nil {
			return err
		}
	}
	return nil
}

// finishHeader fixes the header at the start of the first item.
func (r *Reader) finishHeader(itemStart int64) {
	h := r.header
	h.raw = bytes.Clone(r.dec.Slice(0, itemStart))
	h.building = false
	r.lastEnd = itemStart
}

// between handles what lies between two items: whitespace becomes the
// separator the writer repeats; anything else is feed-level content that is
// kept and written after the last item (channel child order carries no
// meaning).
func (r *Reader) between(itemStart int64) {
	gap := r.dec.Slice(r.lastEnd, itemStart)
	if len(bytes.TrimSpace(gap)) == 0 {
		if !r.sepSet {
			r.header.sep = string(gap)
			r.sepSet = true
		}
		return
	}
	r.header.extra = append(r.header.extra, gap...)
}

// finish records the trailer once the container's end tag was read.
func (r *Reader) finish(endStart int64) error {
	if r.header.building {
		r.header.raw = bytes.Clone(r.dec.Slice(0, endStart))
		r.header.building = false
		r.lastEnd = endStart
	} else if gap := r.dec.Slice(r.lastEnd, endStart); len(bytes.TrimSpace(gap)) > 0 {
		r.header.extra = append(r.header.extra, gap...)
		r.lastEnd = endStart
	}
	// Cloned now: reading on may move the buffer it lies in.
	tail := bytes.Clone(r.dec.Slice(r.lastEnd, endStart))
	// Read the rest of the document so that truncation or trailing junk is
	// an error, not silently dropped.
	for {
		atTop := r.depth == 0
		t, err := r.token()
		if err == io.EOF {
			break
		}
		if err != nil {
			return err
		}
		if atTop {
			switch t.Kind {
			case xmltok.StartElement:
				return &SyntaxError{Line: r.line(), Msg: fmt.Sprintf("content after the root element: <%s>", t.Name.Local)}
			case xmltok.CharData:
				if len(bytes.TrimSpace(t.Data)) > 0 {
					return &SyntaxError{Line: r.line(), Msg: "text after the root element"}
				}
			}
		}
	}
	end := r.dec.InputOffset()
	r.header.trailer = append(tail, r.dec.Slice(endStart, end)...)
	r.container = 0
	if !r.sepSet && r.items > 0 {
		r.header.sep = "\n"
	}
	return io.EOF
}

// readItem reads one item whose start tag t began at offset start. parent is
// the scope outside the item, sc the scope inside its start tag.
func (r *Reader) readItem(t xml.StartElement, start int64, line int, parent, sc *scope) (*Item, error) {
	it := &Item{format: r.header.Format, line: line, syncIndex: -1}
	src := &source{scope: parent, inner: sc, syncStart: -1, syncEnd: -1}
	it.src = src
	if r.outer == nil {
		r.outer, r.outerStart, r.copyBytes = it, start, 0
		defer func() { r.outer = nil }()
	}
	// A digester per level of nesting (conflict copies are items too),
	// kept for the next item.
	if r.digests == len(r.digesters) {
		r.digesters = append(r.digesters, new(digester))
	}
	h := r.digesters[r.digests]
	r.digests++
	defer func() { r.digests-- }()
	h.reset()
	h.start(sc, t)
	itemDepth := r.depth
	childIndex := 0
	scopes := []*scope{sc}
	var syncParsed bool
	for r.depth >= itemDepth {
		off := r.dec.InputOffset()
		if err := r.checkItemSize(it, start, off, line); err != nil {
			return nil, err
		}
		tok, err := r.token()
		if err != nil {
			return nil, err
		}
		switch tok.Kind {
		case xmltok.StartElement:
			cur := scopes[len(scopes)-1].pushXML(tok.Attr)
			if r.depth == itemDepth+1 {
				childIndex++
				if !syncParsed && tok.Name.Local == "sync" && isSyncNS(cur.uri(tok.Name.Space)) {
					syncParsed = true
					s, err := r.readSync(it, tok.Start(), cur)
					if err != nil {
						return nil, err
					}
					it.Sync = s
					src.syncStart = int(off - start)
					src.syncEnd = int(r.dec.InputOffset() - start)
					continue
				}
			}
			scopes = append(scopes, cur)
			h.start(cur, tok.Start())
		case xmltok.EndElement:
			scopes = scopes[:len(scopes)-1]
			h.end()
		case xmltok.CharData:
			h.addText(tok.Data)
		}
	}
	end := r.dec.InputOffset()
	src.raw = bytes.Clone(r.dec.Slice(start, end))
	src.orig = it.Sync.Clone()
	it.digest, it.hasDigest = h.sum(), true
	return it, nil
}

// checkItemSize checks, at offset off, the bytes of it, which began at
// start: its version (without the conflict copies of the outer item) is
// bounded by MaxItemBytes, the outer item with its copies by
// MaxItemTotalBytes.
func (r *Reader) checkItemSize(it *Item, start, off int64, line int) error {
	own := off - start
	if it == r.outer {
		own -= r.copyBytes
	}
	if own > r.opts.MaxItemBytes {
		what := "item"
		if it != r.outer {
			what = "conflict copy"
		}
		return &SyntaxError{Line: line, Msg: fmt.Sprintf("%s larger than %d bytes", what, r.opts.MaxItemBytes), Err: ErrLimit}
	}
	if off-r.outerStart > r.opts.MaxItemTotalBytes {
		return &SyntaxError{Line: line, Msg: fmt.Sprintf("item with its conflict copies larger than %d bytes", r.opts.MaxItemTotalBytes), Err: ErrLimit}
	}
	return nil
}

// readSync parses an sx:sync element whose start tag t was just read.
func (r *Reader) readSync(owner *Item, t xml.StartElement, sc *scope) (*Sync, error) {
	s := &Sync{}
	p := problems{item: owner}
	owner.Sync = s // so that problems name the id
	for _, a := range t.Attr {
		if a.Name.Space == "" && a.Name.Local == "id" {
			s.ID = NormalizeID(a.Value)
		}
	}
	for _, a := range t.Attr {
		if isXMLNS(a.Name.Space, a.Name.Local) {
			// Keep declarations that extra attributes or elements may rely
			// on; the FeedSync binding itself is written by the renderer.
			if !isSyncNS(a.Value) {
				s.ExtraAttrs = append(s.ExtraAttrs, toEtreeAttr(a))
			}
			continue
		}
		if a.Name.Space != "" {
			s.ExtraAttrs = append(s.ExtraAttrs, toEtreeAttr(a))
			continue
		}
		switch a.Name.Local {
		case "id":
		case "updates":
			s.Updates = p.integer("sx:sync updates", a.Value)
		case "deleted":
			s.Deleted = p.boolean("sx:sync deleted", a.Value, r.opts.Strict)
		case "noconflicts":
			s.NoConflicts = p.boolean("sx:sync noconflicts", a.Value, r.opts.Strict)
		default:
			s.ExtraAttrs = append(s.ExtraAttrs, toEtreeAttr(a))
		}
	}
	if s.ID == "" {
		p.add(fmt.Errorf("%w: sx:sync has no id", ErrInvalidSync))
	}
	if !hasAttr(t, "updates") {
		p.add(fmt.Errorf("%w: sx:sync has no updates", ErrInvalidSync))
	}
	syncDepth := r.depth
	scopes := []*scope{sc}
	for r.depth >= syncDepth {
		line := r.line()
		tok, err := r.token()
		if err != nil {
			return nil, err
		}
		switch tok.Kind {
		case xmltok.StartElement:
			cur := scopes[len(scopes)-1].pushXML(tok.Attr)
			if r.depth != syncDepth+1 {
				scopes = append(scopes, cur)
				continue
			}
			uri := cur.uri(tok.Name.Space)
			switch {
			case isSyncNS(uri) && tok.Name.Local == "history":
				if len(s.History) >= r.opts.MaxHistory {
					return nil, &SyntaxError{Line: line, Msg: fmt.Sprintf("more than %d sx:history entries", r.opts.MaxHistory), Err: ErrLimit}
				}
				if s.History == nil {
					// Most histories hold a few entries: grow once.
					s.History = make([]History, 0, 4)
				}
				s.History = append(s.History, p.history(tok.Start()))
				if err := r.skipRest(); err != nil {
					return nil, err
				}
			case isSyncNS(uri) && tok.Name.Local == "conflicts":
				if err := r.readConflicts(owner, s, cur, &p); err != nil {
					return nil, err
				}
			default:
				e, err := r.buildElement(tok.Start())
				if err != nil {
					return nil, err
				}
				s.ExtraElements = append(s.ExtraElements, e)
			}
		case xmltok.EndElement:
			scopes = scopes[:len(scopes)-1]
		}
	}
	if len(s.History) == 0 {
		p.add(fmt.Errorf("%w: sx:sync has no sx:history (FS-ROBUST-1)", ErrInvalidSync))
	}
	owner.problems = append(owner.problems, p.errs...)
	owner.warnings = append(owner.warnings, p.warns...)
	return s, nil
}

// skipRest skips to the end of the element just started.
func (r *Reader) skipRest() error {
	target := r.depth - 1
	for r.depth > target {
		if _, err := r.token(); err != nil {
			return err
		}
	}
	return nil
}

// readConflicts reads the conflict copies inside sx:conflicts.
func (r *Reader) readConflicts(owner *Item, s *Sync, sc *scope, p *problems) error {
	cdepth := r.depth
	for r.depth >= cdepth {
		off := r.dec.InputOffset()
		line := r.line()
		tok, err := r.token()
		if err != nil {
			return err
		}
		if tok.Kind != xmltok.StartElement {
			continue
		}
		st := tok.Start()
		csc := sc.pushXML(st.Attr)
		if !r.isItem(st, csc) {
			p.warn(fmt.Errorf("unexpected <%s> in sx:conflicts ignored", st.Name.Local))
			if err := r.skipRest(); err != nil {
				return err
			}
			continue
		}
		if len(s.Conflicts) >= r.opts.MaxConflicts {
			return &SyntaxError{Line: line, Msg: fmt.Sprintf("more than %d conflict copies", r.opts.MaxConflicts), Err: ErrLimit}
		}
		c, err := r.readItem(st, off, line, sc, csc)
		if err != nil {
			return err
		}
		if owner == r.outer {
			r.copyBytes += r.dec.InputOffset() - off
		}
		if c.Sync == nil {
			p.add(fmt.Errorf("%w: conflict copy (line %d) has no sx:sync", ErrInvalidSync, line))
			continue
		}
		if c.Sync.ID != s.ID && s.ID != "" {
			p.add(fmt.Errorf("%w: conflict copy (line %d) has id %q, not %q", ErrInvalidSync, line, c.Sync.ID, s.ID))
		}
		owner.problems = append(owner.problems, c.problems...)
		owner.warnings = append(owner.warnings, c.warnings...)
		// FS-CONFLICTS-2: flatten nested copies into this collection.
		nested := c.Sync.Conflicts
		if len(nested) > 0 {
			p.warn(fmt.Errorf("conflict copy (line %d) holds conflicts of its own; flattened (FS-CONFLICTS-2)", line))
			c.Sync.Conflicts = nil
			c.src.dirty = true // its bytes hold the nested copies: re-render
		}
		s.Conflicts = append(s.Conflicts, c)
		s.Conflicts = append(s.Conflicts, nested...)
	}
	return nil
}

func hasAttr(t xml.StartElement, name string) bool {
	for _, a := range t.Attr {
		if a.Name.Space == "" && a.Name.Local == name {
			return true
		}
	}
	return false
}

// readSharing parses sx:sharing; sc is the scope of its parent.
func (r *Reader) readSharing(t xml.StartElement, sc *scope) (*Sharing, error) {
	in := sc.pushXML(t.Attr)
	sh := &Sharing{}
	for _, a := range t.Attr {
		if isXMLNS(a.Name.Space, a.Name.Local) {
			continue
		}
		switch {
		case a.Name.Space == "" && a.Name.Local == "since":
			sh.Since = a.Value
		case a.Name.Space == "" && a.Name.Local == "until":
			sh.Until = a.Value
		case a.Name.Space == "" && a.Name.Local == "expires":
			if tm, err := ParseTime(a.Value); err == nil {
				sh.Expires = tm
			} else {
				r.header.warnings = append(r.header.warnings, fmt.Errorf("sx:sharing expires: %w", err))
			}
		default:
			sh.ExtraAttrs = append(sh.ExtraAttrs, toEtreeAttr(a))
		}
	}
	d := r.depth
	for r.depth >= d {
		tok, err := r.token()
		if err != nil {
			return nil, err
		}
		if tok.Kind != xmltok.StartElement || r.depth != d+1 || tok.Name.Local != "related" {
			continue
		}
		st := tok.Start()
		// FS-NS-1: sx:related is matched on the namespace URI. A related
		// element of another namespace is not one (kept on a round trip,
		// FS-NS-5), and most likely a mistake.
		if uri := in.pushXML(st.Attr).uri(st.Name.Space); !isSyncNS(uri) {
			r.header.warnings = append(r.header.warnings, violation("{%s}related inside sx:sharing is not sx:related (FS-NS-1)", uri))
			continue
		}
		var rel Related
		for _, a := range st.Attr {
			if a.Name.Space != "" {
				continue
			}
			switch a.Name.Local {
			case "link":
				rel.Link = a.Value
			case "type":
				rel.Type = a.Value
			case "title":
				rel.Title = a.Value
			}
		}
		// FS-RELATED-4: a link-less or unknown-type sx:related is ignored by
		// the model; the header's bytes still keep it on a round trip.
		if rel.Link == "" || rel.Type != RelatedComplete && rel.Type != RelatedAggregated {
			r.header.warnings = append(r.header.warnings, fmt.Errorf("sx:related with link %q and type %q ignored (FS-RELATED-4)", rel.Link, rel.Type))
			continue
		}
		sh.Related = append(sh.Related, rel)
	}
	r.header.warnings = append(r.header.warnings, CheckSharing(sh)...)
	return sh, nil
}

// ReadAll reads every item of a feed into memory, for small feeds and tests.
func ReadAll(r io.Reader) (*Header, []*Item, error) {
	rd := NewReader(r)
	var items []*Item
	for {
		it, err := rd.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			return nil, nil, err
		}
		items = append(items, it)
	}
	h, err := rd.Header()
	return h, items, err
}
