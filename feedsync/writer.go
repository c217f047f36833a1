package feedsync

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/beevik/etree"
)

// Header is everything of a feed that is not an item: the root element, the
// channel or feed metadata, sx:sharing, and what follows the last item. A
// header read by a Reader is written back byte for byte; only a changed
// sx:sharing is rewritten.
type Header struct {
	// Format is the feed's format.
	Format Format
	// Sharing is the feed's sx:sharing, or nil. The Writer writes what it
	// holds when the first item (or Close) is written: set it, change its
	// fields or set it to nil to remove the element. When it still equals
	// what the Reader read, the element is kept as it was, byte for byte.
	Sharing *Sharing

	raw     []byte // bytes before the first item
	sep     string // white space between items
	extra   []byte // feed-level content found between items
	trailer []byte // from the end of the last item to the end
	scope   *scope // bindings in force inside <channel> or <feed>

	closing string // end tags of the container and root, for Info before the trailer is read

	sharingStart, sharingEnd int      // sx:sharing's place in raw, or -1
	readSharing              *Sharing // a copy of the sx:sharing read, to tell a change

	building bool
	warnings []error
}

// FeedInfo describes a new feed for NewHeader.
type FeedInfo struct {
	// Title of the feed. Default: "FeedSync feed".
	Title string
	// Link is the feed's web address (RSS <link>, Atom alternate link).
	// Default: "urn:feedsync" for RSS, none for Atom.
	Link string
	// Description (RSS) or subtitle (Atom).
	Description string
	// ID is the Atom feed id. Default: a new urn:uuid.
	ID string
	// Updated is the Atom feed's updated time. Default: the current time.
	Updated time.Time
}

// NewHeader returns the header of a new, empty feed that declares the
// FeedSync namespace with the sx prefix (FS-NS-2, FS-NS-3).
func NewHeader(format Format, info FeedInfo) *Header {
	if info.Title == "" {
		info.Title = "FeedSync feed"
	}
	var b strings.Builder
	b.WriteString(`<?xml version="1.0" encoding="UTF-8"?>` + "\n")
	h := &Header{Format: format, sharingStart: -1, sharingEnd: -1, sep: "\n"}
	switch format {
	case Atom:
		if info.ID == "" {
			info.ID = "urn:uuid:" + NewID()
		}
		if info.Updated.IsZero() {
			info.Updated = time.Now()
		}
		b.WriteString(`<feed xmlns="` + AtomNamespace + `" xmlns:sx="` + Namespace + `">` + "\n")
		fmt.Fprintf(&b, "<title>%s</title>\n", escapeText(info.Title))
		if info.Description != "" {
			fmt.Fprintf(&b, "<subtitle>%s</subtitle>\n", escapeText(info.Description))
		}
		if info.Link != "" {
			fmt.Fprintf(&b, "<link rel=\"alternate\" href=\"%s\"/>\n", escapeAttr(info.Link))
		}
		fmt.Fprintf(&b, "<id>%s</id>\n<updated>%s</updated>\n", escapeText(info.ID), FormatTime(info.Updated))
		h.trailer = []byte("</feed>\n")
		h.scope = &scope{decls: []binding{{"", AtomNamespace}, {"sx", Namespace}}}
	default:
		h.Format = RSS
		if info.Link == "" {
			info.Link = "urn:feedsync"
		}
		b.WriteString(`<rss version="2.0" xmlns:sx="` + Namespace + `">` + "\n<channel>\n")
		fmt.Fprintf(&b, "<title>%s</title>\n<link>%s</link>\n<description>%s</description>\n",
			escapeText(info.Title), escapeText(info.Link), escapeText(info.Description))
		h.trailer = []byte("</channel>\n</rss>\n")
		h.scope = &scope{decls: []binding{{"sx", Namespace}}}
	}
	h.raw = []byte(b.String())
	return h
}

// Warnings returns problems found in the header that did not stop reading.
func (h *Header) Warnings() []error { return h.warnings }

// exactXML writes text and attribute values with character references for
// the characters a parser would otherwise normalise (a carriage return in
// text, a tab or newline in an attribute), so what is written reads back as
// the same data (FS-TYPE-1).
var exactXML = &etree.WriteSettings{CanonicalText: true, CanonicalAttrVal: true}

// Writer writes a feed item by item: the header, the items, then the rest of
// the header on Close. Items read from a document and not changed are
// written as the exact bytes read.
//
// Once a write fails, every later call returns the same error.
type Writer struct {
	bw      *bufio.Writer
	h       *Header
	started bool
	n       int
	decls   map[[2]*scope][]binding
	err     error
}

// NewWriter returns a Writer that writes a feed with header h to w.
func NewWriter(w io.Writer, h *Header) *Writer {
	return &Writer{bw: bufio.NewWriterSize(w, 64<<10), h: h, decls: map[[2]*scope][]binding{}}
}

func (w *Writer) start() {
	if w.started {
		return
	}
	w.started = true
	h := w.h
	if h.Sharing.equal(h.readSharing) {
		w.bw.Write(h.raw)
		return
	}
	sc := h.scope
	var sh []byte
	if h.Sharing != nil {
		sh = renderSharing(h.Sharing, sc)
	}
	if h.sharingStart >= 0 {
		w.bw.Write(h.raw[:h.sharingStart])
		w.bw.Write(sh)
		w.bw.Write(h.raw[h.sharingEnd:])
		return
	}
	// FS-NS-4: any position is fine; put it where the items begin.
	w.bw.Write(h.raw)
	if sh != nil {
		w.bw.Write(sh)
		w.bw.WriteString(h.sepOrNL())
	}
}

func (h *Header) sepOrNL() string {
	if h.sep != "" {
		return h.sep
	}
	return "\n"
}

// WriteItem writes one item, converting it to the feed's format if it
// belongs to the other one (FS-FEED-10).
func (w *Writer) WriteItem(it *Item) error {
	if w.err != nil {
		return w.err
	}
	w.start()
	if it.format != w.h.Format && it.format != FormatUnknown {
		c, err := ConvertItem(it, w.h.Format)
		if err != nil {
			w.err = itemErr(it, err)
			return w.err
		}
		it = c
	}
	b, err := w.render(it, w.h.scope)
	if err != nil {
		w.err = itemErr(it, err)
		return w.err
	}
	if w.n > 0 {
		w.bw.WriteString(w.h.sepOrNL())
	}
	w.n++
	if _, err := w.bw.Write(b); err != nil {
		w.err = err
	}
	return w.err
}

// WriteXML writes one item given as a standalone element, the output of
// MarshalItem, as WriteItem would write the item UnmarshalItem reads from
// it. An element of the feed's format is copied as it is, without parsing,
// which is what makes serving stored items cheap; one of the other format is
// parsed and converted (FS-FEED-10). xml is trusted to be well-formed:
// give only what MarshalItem wrote.
func (w *Writer) WriteXML(xml []byte) error {
	if w.err != nil {
		return w.err
	}
	f := sniffItemFormat(xml)
	if f != w.h.Format {
		it, err := UnmarshalItem(xml)
		if err != nil {
			w.err = err
			return err
		}
		return w.WriteItem(it)
	}
	w.start()
	if w.n > 0 {
		w.bw.WriteString(w.h.sepOrNL())
	}
	w.n++
	// MarshalItem declares on the root every binding the item relies on,
	// so the element means the same anywhere in the feed.
	if _, err := w.bw.Write(xml); err != nil {
		w.err = err
	}
	return w.err
}

// Close writes the end of the feed and flushes. It does not close the
// underlying writer.
func (w *Writer) Close() error {
	if w.err != nil {
		return w.err
	}
	w.start()
	w.bw.Write(w.h.extra)
	w.bw.Write(w.h.trailer)
	if err := w.bw.Flush(); err != nil {
		w.err = err
		return err
	}
	w.err = errors.New("feedsync: writer closed")
	return nil
}

// needed returns the declarations an item read in scope from needs when
// written where scope to is in force, except those its root declares
// itself.
func (w *Writer) needed(from, to *scope) []binding {
	if from == to || from == nil {
		return nil
	}
	key := [2]*scope{from, to}
	if d, ok := w.decls[key]; ok {
		return d
	}
	var out []binding
	src := from.flatten()
	if _, ok := src[""]; !ok {
		src[""] = ""
	}
	for p, u := range src {
		if p == "xml" {
			continue
		}
		if got, _ := to.lookup(p); got != u {
			out = append(out, binding{p, u})
		}
	}
	sortBindings(out)
	if len(w.decls) < 4096 {
		w.decls[key] = out
	}
	return out
}

func sortBindings(b []binding) {
	slices.SortFunc(b, func(x, y binding) int { return strings.Compare(x.prefix, y.prefix) })
}

// render returns the bytes of it for a place where scope to is in force.
//
// An item read from a document is written from its source bytes, with the
// namespace declarations the place lacks added to its start tag: as read
// when its metadata is unchanged, otherwise with only sx:sync rewritten
// where it stood, or added last when it had none (FS-NS-4). Anything else
// is serialised from its parsed payload.
func (w *Writer) render(it *Item, to *scope) ([]byte, error) {
	src := it.src
	if src == nil || src.raw == nil || src.dirty {
		return w.renderTree(it, to)
	}
	raw := injectDecls(src.raw, w.needed(src.scope, to), nil)
	if it.pristine() {
		return raw, nil
	}
	if src.syncStart < 0 && (it.Sync == nil || bytes.HasSuffix(raw, []byte("/>"))) {
		return w.renderTree(it, to)
	}
	// Inside the item the source's bindings are in force again.
	var sb []byte
	if it.Sync != nil {
		var err error
		if sb, err = w.renderSync(it.Sync, src.inner, indentBefore(src.raw, src.syncStart)); err != nil {
			return nil, err
		}
	}
	shift := len(raw) - len(src.raw)
	if src.syncStart >= 0 {
		return slices.Concat(raw[:src.syncStart+shift], sb, raw[src.syncEnd+shift:]), nil
	}
	end := bytes.LastIndex(raw, []byte("</"))
	ind := indentBefore(raw, end)
	if ind == "" && !bytes.Contains(raw, []byte("\n")) {
		return slices.Concat(raw[:end], sb, raw[end:]), nil
	}
	return slices.Concat(raw[:end], []byte("  "), sb, []byte("\n"+ind), raw[end:]), nil
}

// renderTree serialises an item from its parsed payload.
func (w *Writer) renderTree(it *Item, to *scope) ([]byte, error) {
	e, err := it.payload()
	if err != nil {
		return nil, err
	}
	from := formatScope(it.format)
	if it.src != nil {
		from = it.src.scope
	}
	decls := w.needed(from, to)
	e = e.Copy()
	for _, d := range decls {
		if d.prefix == "" {
			e.CreateAttr("xmlns", d.uri)
		} else {
			e.CreateAttr("xmlns:"+d.prefix, d.uri)
		}
	}
	// Inside the item: what the place binds, then what the item declares.
	own := to.pushEtree(e.Attr)
	const mark = "feedsync-sync-placeholder-7f3a"
	if it.Sync != nil {
		ph := etree.NewElement(mark)
		idx := it.syncIndex
		if idx < 0 || idx > len(e.Child) {
			idx = len(e.Child)
		}
		e.InsertChildAt(idx, ph)
	}
	var buf bytes.Buffer
	e.WriteTo(&buf, exactXML)
	out := buf.Bytes()
	if it.Sync == nil {
		return out, nil
	}
	sb, err := w.renderSync(it.Sync, own, "")
	if err != nil {
		return nil, err
	}
	return bytes.Replace(out, []byte("<"+mark+"/>"), sb, 1), nil
}

// injectDecls inserts namespace declarations into the start tag of raw.
func injectDecls(raw []byte, decls []binding, dst []byte) []byte {
	if len(decls) == 0 {
		if dst == nil {
			return raw
		}
		return append(dst, raw...)
	}
	i := 1
	for i < len(raw) && !isSpace(raw[i]) && raw[i] != '>' && raw[i] != '/' {
		i++
	}
	own := rootDeclared(raw)
	dst = append(dst, raw[:i]...)
	for _, d := range decls {
		if own[d.prefix] {
			continue
		}
		if d.prefix == "" {
			dst = append(dst, ` xmlns="`...)
		} else {
			dst = append(dst, ` xmlns:`...)
			dst = append(dst, d.prefix...)
			dst = append(dst, `="`...)
		}
		dst = append(dst, escapeAttr(d.uri)...)
		dst = append(dst, '"')
	}
	return append(dst, raw[i:]...)
}

// rootDeclared returns the prefixes the start tag of raw declares.
func rootDeclared(raw []byte) map[string]bool {
	end := bytes.IndexByte(raw, '>')
	if end < 0 {
		return nil
	}
	tag := string(raw[:end])
	m := map[string]bool{}
	for _, f := range strings.Fields(tag) {
		switch {
		case strings.HasPrefix(f, "xmlns:"):
			if eq := strings.IndexByte(f, '='); eq > 0 {
				m[f[len("xmlns:"):eq]] = true
			}
		case strings.HasPrefix(f, "xmlns="):
			m[""] = true
		}
	}
	return m
}

func isSpace(c byte) bool { return c == ' ' || c == '\t' || c == '\n' || c == '\r' }

// indentBefore returns the white space between the last newline before pos
// and pos, or "" when something else stands there.
func indentBefore(raw []byte, pos int) string {
	if pos <= 0 || pos > len(raw) {
		return ""
	}
	i := pos
	for i > 0 && (raw[i-1] == ' ' || raw[i-1] == '\t') {
		i--
	}
	if i > 0 && raw[i-1] == '\n' {
		return string(raw[i:pos])
	}
	return ""
}

// renderSync writes an sx:sync element for a place where scope sc is in
// force. ind is the element's own indentation ("" writes it on one line
// when it has no conflicts).
func (w *Writer) renderSync(s *Sync, sc *scope, ind string) ([]byte, error) {
	p, declare := syncPrefix(sc)
	var b []byte
	b = append(b, '<')
	b = append(b, p...)
	b = append(b, ":sync"...)
	b = attr(b, "id", s.ID)
	b = attr(b, "updates", strconv.FormatInt(s.Updates, 10))
	if s.Deleted {
		b = attr(b, "deleted", "true")
	}
	if s.NoConflicts {
		b = attr(b, "noconflicts", "true")
	}
	for _, a := range s.ExtraAttrs {
		b = attr(b, a.FullKey(), a.Value)
	}
	inner := sc
	if declare {
		b = attr(b, "xmlns:"+p, Namespace)
		inner = &scope{parent: sc, decls: []binding{{p, Namespace}}}
	}
	b = append(b, '>')
	nl := "\n" + ind + "  "
	if ind == "" {
		nl = ""
	}
	for _, h := range s.History {
		b = append(b, nl...)
		b = append(b, '<')
		b = append(b, p...)
		b = append(b, ":history"...)
		b = attr(b, "sequence", strconv.FormatInt(h.Sequence, 10))
		if h.HasWhen() {
			b = attr(b, "when", FormatTime(h.When))
		}
		if h.By != "" {
			b = attr(b, "by", h.By)
		}
		for _, a := range h.Extra {
			b = attr(b, a.FullKey(), a.Value)
		}
		b = append(b, "/>"...)
	}
	for _, e := range s.ExtraElements {
		var buf bytes.Buffer
		e.WriteTo(&buf, exactXML)
		b = append(b, nl...)
		b = append(b, buf.Bytes()...)
	}
	if len(s.Conflicts) > 0 {
		b = append(b, nl...)
		b = append(b, '<')
		b = append(b, p...)
		b = append(b, ":conflicts>"...)
		for _, c := range s.Conflicts {
			if c.format != w.h.Format && c.format != FormatUnknown {
				cc, err := ConvertItem(c, w.h.Format)
				if err != nil {
					return nil, fmt.Errorf("conflict copy: %w", err)
				}
				c = cc
			}
			if c.Sync != nil && len(c.Sync.Conflicts) > 0 {
				// FS-CONFLICTS-2: a copy never holds conflicts of its own.
				c = c.withSync(c.Sync.Clone())
				c.Sync.Conflicts = nil
			}
			cb, err := w.render(c, inner)
			if err != nil {
				return nil, fmt.Errorf("conflict copy: %w", err)
			}
			b = append(b, nl...)
			b = append(b, cb...)
		}
		b = append(b, nl...)
		b = append(b, "</"...)
		b = append(b, p...)
		b = append(b, ":conflicts>"...)
	}
	if nl != "" {
		b = append(b, '\n')
		b = append(b, ind...)
	}
	b = append(b, "</"...)
	b = append(b, p...)
	b = append(b, ":sync>"...)
	return b, nil
}

// syncPrefix picks the prefix for FeedSync elements in scope sc, and says
// whether it must be declared (FS-NS-1: any prefix will do).
func syncPrefix(sc *scope) (string, bool) {
	if p, ok := sc.prefixFor(Namespace, "sx"); ok {
		return p, false
	}
	p := "sx"
	for i := 2; ; i++ {
		if _, taken := sc.lookup(p); !taken {
			return p, true
		}
		p = "sx" + strconv.Itoa(i)
	}
}

func renderSharing(s *Sharing, sc *scope) []byte {
	p, declare := syncPrefix(sc)
	var b []byte
	b = append(b, '<')
	b = append(b, p...)
	b = append(b, ":sharing"...)
	if s.Since != "" {
		b = attr(b, "since", s.Since)
	}
	if s.Until != "" {
		b = attr(b, "until", s.Until)
	}
	if !s.Expires.IsZero() {
		b = attr(b, "expires", FormatTime(s.Expires))
	}
	for _, a := range s.ExtraAttrs {
		b = attr(b, a.FullKey(), a.Value)
	}
	if declare {
		b = attr(b, "xmlns:"+p, Namespace)
	}
	if len(s.Related) == 0 {
		return append(b, "/>"...)
	}
	b = append(b, '>')
	for _, r := range s.Related {
		b = append(b, '<')
		b = append(b, p...)
		b = append(b, ":related"...)
		b = attr(b, "link", r.Link)
		b = attr(b, "type", r.Type)
		if r.Title != "" {
			b = attr(b, "title", r.Title)
		}
		b = append(b, "/>"...)
	}
	b = append(b, "</"...)
	b = append(b, p...)
	return append(b, ":sharing>"...)
}

func attr(b []byte, k, v string) []byte {
	b = append(b, ' ')
	b = append(b, k...)
	b = append(b, `="`...)
	b = append(b, escapeAttr(v)...)
	return append(b, '"')
}

var attrEscaper = strings.NewReplacer(`&`, "&amp;", `<`, "&lt;", `>`, "&gt;", `"`, "&quot;",
	"\t", "&#x9;", "\n", "&#xA;", "\r", "&#xD;")

var textEscaper = strings.NewReplacer(`&`, "&amp;", `<`, "&lt;", `>`, "&gt;", "\r", "&#xD;")

func escapeAttr(s string) string { return attrEscaper.Replace(s) }
func escapeText(s string) string { return textEscaper.Replace(s) }

// WriteAll writes a whole feed.
func WriteAll(w io.Writer, h *Header, items []*Item) error {
	fw := NewWriter(w, h)
	for _, it := range items {
		if err := fw.WriteItem(it); err != nil {
			return err
		}
	}
	return fw.Close()
}

// Info returns the feed's title, link, description (or subtitle), Atom id
// and updated time, read from the header.
func (h *Header) Info() FeedInfo {
	var info FeedInfo
	doc := etree.NewDocument()
	tail := h.trailer
	if tail == nil {
		// Read before the end of the feed: close what the header opened.
		tail = []byte(h.closing)
	}
	if err := doc.ReadFromBytes(append(append([]byte(nil), h.raw...), tail...)); err != nil || doc.Root() == nil {
		return info
	}
	c := doc.Root()
	if h.Format == RSS {
		if ch := c.SelectElement("channel"); ch != nil {
			c = ch
		}
	}
	text := func(tag string) string {
		for _, e := range c.ChildElements() {
			if e.Tag == tag && (e.Space == "" || h.Format == Atom && h.scope.uri(e.Space) == AtomNamespace) {
				return strings.TrimSpace(e.Text())
			}
		}
		return ""
	}
	info.Title = text("title")
	if h.Format == RSS {
		info.Link = text("link")
		info.Description = text("description")
		return info
	}
	info.Description = text("subtitle")
	info.ID = text("id")
	if t, err := ParseTime(text("updated")); err == nil {
		info.Updated = t
	}
	for _, e := range c.ChildElements() {
		if e.Tag == "link" && e.SelectAttrValue("rel", "alternate") == "alternate" {
			info.Link = e.SelectAttrValue("href", "")
			break
		}
	}
	return info
}

// Convert returns a header for the other format carrying the same title,
// link, description and sx:sharing. A header already in that format is
// returned as is.
func (h *Header) Convert(to Format) *Header {
	if to == h.Format || to == FormatUnknown {
		return h
	}
	n := NewHeader(to, h.Info())
	n.Sharing = h.Sharing.clone()
	return n
}
