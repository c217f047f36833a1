package plainfeed

import (
	"bufio"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"sort"
	"strconv"
	"strings"

	"github.com/feedsync/go-feedsync/feedsync"
)

// sse091Namespace is the namespace of SSE 0.91, whose data looks different
// (sx:update children, a version attribute) and is not upgraded (§14).
const sse091Namespace = "http://www.microsoft.com/schemas/rss/sse"

// NoteKind classifies a Note of an UpgradeReport.
type NoteKind uint8

const (
	// Rewritten: a value was rewritten to its canonical FeedSync 1.0 form.
	Rewritten NoteKind = iota
	// Kept: something FeedSync 1.0 reads differently or not at all was kept
	// as it is, and deserves a look (anonymous history, opaque since/until,
	// sx:unpublished, unknown attributes).
	Kept
	// Failed: something could not be upgraded; the item keeps the value and
	// is probably unusable for a merge (FS-ROBUST-1).
	Failed
)

// String returns "rewritten", "kept" or "failed".
func (k NoteKind) String() string {
	switch k {
	case Rewritten:
		return "rewritten"
	case Kept:
		return "kept"
	}
	return "failed"
}

// Note is one finding of Upgrade, about one item or the feed.
type Note struct {
	Kind NoteKind
	// Item is true for a note about an item, false for one about the feed.
	Item bool
	// ID is the sync id of the item concerned ("" when it has none).
	ID string
	// Line is the line of the item's start tag (of the element, for the
	// feed) in the input.
	Line int
	// Msg says what was found, with the rule.
	Msg string
}

// String formats the note as "line 12: item "x": kept: …".
func (n Note) String() string {
	where := "feed"
	switch {
	case n.Item && n.ID == "":
		where = "item without id"
	case n.Item:
		where = fmt.Sprintf("item %q", n.ID)
	}
	return fmt.Sprintf("line %d: %s: %s: %s", n.Line, where, n.Kind, n.Msg)
}

// UpgradeReport says what Upgrade did.
type UpgradeReport struct {
	// Namespaces counts the SSE 0.93 namespace declarations rewritten.
	Namespaces int
	// Notes lists every finding, in input order.
	Notes []Note
}

// Count returns the number of notes of kind k.
func (r *UpgradeReport) Count(k NoteKind) int {
	n := 0
	for _, x := range r.Notes {
		if x.Kind == k {
			n++
		}
	}
	return n
}

// Upgrade copies a FeedSync feed from r to w, bringing its sync metadata to
// FeedSync 1.0 (§14). Only sync metadata is rewritten, never a payload: every
// byte outside the rewritten namespace declarations and sx: attribute values
// is copied as it is (the output is UTF-8; ISO-8859-1 and windows-1252 input
// is transcoded by the core reader).
//
//   - Declarations of the SSE 0.93 namespace become the FeedSync namespace
//     (FS-NS-1); prefixes stay as they are.
//   - Date-times with fractions or offsets become canonical: UTC, whole
//     seconds, "Z" (FS-TYPE-4, §17 A-14). Booleans such as "False" or "1"
//     become "false" and "true" (FS-TYPE-3); integers such as "02" become
//     "2" (FS-TYPE-2); lower-case %-escapes in ids become upper case
//     (FS-TYPE-5).
//   - History entries without by are kept and reported per item: they stay
//     anonymous (FS-HIST-4) and are never purged (FS-PURGE-2). Nothing can
//     stand in for the endpoint that wrote them.
//   - since/until that are not both date-times are kept as they are and
//     reported: the spec types them as strings (FS-SHARING-2, §17 A-12), they
//     are the publisher's own tokens, and dropping them would make a partial
//     feed look like one without a window. Date-times are made canonical.
//   - sx:unpublished (SSE 0.93 only, FS-UNPUB) is kept verbatim and
//     reported; its contents are not touched (FS-UNPUB-2).
//   - Values that cannot be upgraded (a when that is no date, a boolean
//     that is no boolean, SSE 0.91 structures) are kept and reported as
//     Failed, with the item's id and line.
//
// Finally every item is checked with the core rules (Item.Problems, and
// duplicate ids) and what they find is reported too. The error is non-nil
// only when the input cannot be read or written at all.
func Upgrade(w io.Writer, r io.Reader) (*UpgradeReport, error) {
	pr, pw := io.Pipe()
	rw := newRewriter(r, pw)
	done := make(chan error, 1)
	go func() {
		err := rw.run()
		pw.CloseWithError(err)
		done <- err
	}()
	notes, err := checkUpgraded(w, pr)
	pr.CloseWithError(errors.New("plainfeed: upgrade stopped"))
	passErr := <-done
	if err == nil && passErr != nil {
		err = passErr
	}
	if err != nil {
		return nil, fmt.Errorf("plainfeed: upgrade: %w", err)
	}
	rep := &UpgradeReport{Namespaces: rw.namespaces}
	// Core problems repeat what the rewriter already said about an item;
	// keep them only for items it found nothing wrong with.
	failed := map[int]bool{}
	for _, n := range rw.notes {
		if n.Kind == Failed {
			failed[n.Line] = true
		}
	}
	rep.Notes = rw.notes
	for _, n := range notes {
		if n.Kind == Failed && n.Item && failed[n.Line] {
			continue
		}
		rep.Notes = append(rep.Notes, n)
	}
	sort.SliceStable(rep.Notes, func(i, j int) bool { return rep.Notes[i].Line < rep.Notes[j].Line })
	return rep, nil
}

// checkUpgraded reads the rewritten feed with the core reader, writes it to
// w (unchanged items come out byte for byte) and returns the problems the
// core finds.
func checkUpgraded(w io.Writer, r io.Reader) ([]Note, error) {
	rd := feedsync.NewReader(r)
	h, err := rd.Header()
	if err != nil {
		return nil, err
	}
	var notes []Note
	fw := feedsync.NewWriter(w, h)
	var ids feedsync.IDSet
	for {
		it, err := rd.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			return nil, err
		}
		errs, warns := it.Problems()
		for _, e := range errs {
			notes = append(notes, Note{Kind: Failed, Item: true, ID: it.ID(), Line: it.Line(), Msg: problemMsg(e)})
		}
		for _, e := range warns {
			notes = append(notes, Note{Kind: Kept, Item: true, ID: it.ID(), Line: it.Line(), Msg: problemMsg(e)})
		}
		if err := ids.Add(it); err != nil {
			notes = append(notes, Note{Kind: Failed, Item: true, ID: it.ID(), Line: it.Line(), Msg: problemMsg(err)})
		}
		if err := fw.WriteItem(it); err != nil {
			return nil, err
		}
	}
	for _, e := range h.Warnings() {
		if strings.Contains(e.Error(), "(FS-SHARING-2)") {
			continue // noted with its line by the sx:sharing rewrite above
		}
		notes = append(notes, Note{Kind: Kept, Msg: e.Error()})
	}
	return notes, fw.Close()
}

// problemMsg returns the cause of a core problem without the item prefix
// the Note already carries.
func problemMsg(err error) string {
	var ie *feedsync.ItemError
	if errors.As(err, &ie) && ie.Err != nil {
		return ie.Err.Error()
	}
	return err.Error()
}

// rewriter is the first pass of Upgrade: it tokenizes the input with
// encoding/xml and copies it, splicing new values into the start tags of
// FeedSync elements and of elements that declare the SSE 0.93 namespace.
type rewriter struct {
	rec *recorder
	dec *xml.Decoder
	out *bufio.Writer
	pos int64 // input offset up to which the output is written

	scopes []map[string]string // bindings pushed per element (nil: none)
	depth  int

	format    feedsync.Format
	container int // depth of <channel> or <feed>; 0 until found
	itemDepth int // depth of the current item, 0 outside items
	itemID    string
	itemLine  int
	anonymous int // anonymous history entries of the current item
	skipBelow int // depth of sx:unpublished while inside it, else 0

	namespaces int
	notes      []Note
}

func newRewriter(r io.Reader, w io.Writer) *rewriter {
	rec := &recorder{r: r}
	dec := xml.NewDecoder(&masker{r: rec})
	dec.Strict = true
	// The masker has already made every byte ASCII; nothing to convert.
	dec.CharsetReader = func(_ string, in io.Reader) (io.Reader, error) { return in, nil }
	return &rewriter{rec: rec, dec: dec, out: bufio.NewWriter(w)}
}

func (rw *rewriter) run() error {
	for {
		off := rw.dec.InputOffset()
		line, _ := rw.dec.InputPos()
		tok, err := rw.dec.RawToken()
		if err == io.EOF {
			break
		}
		if err != nil {
			var se *xml.SyntaxError
			if errors.As(err, &se) {
				return &feedsync.SyntaxError{Line: se.Line, Msg: se.Msg, Err: err}
			}
			return err
		}
		end := rw.dec.InputOffset()
		switch t := tok.(type) {
		case xml.StartElement:
			rw.depth++
			if edits := rw.start(t, line); len(edits) > 0 {
				tag := rw.rec.slice(off, end)
				spliced, err := splice(tag, edits)
				if err != nil {
					return &feedsync.SyntaxError{Line: line, Msg: err.Error()}
				}
				rw.out.Write(rw.rec.slice(rw.pos, off))
				rw.out.Write(spliced)
				rw.pos = end
			}
		case xml.EndElement:
			// RawToken does not pair tags; the core reader will say what
			// is wrong with the nesting, this pass only must not trip.
			if rw.depth == 0 {
				return &feedsync.SyntaxError{Line: line, Msg: fmt.Sprintf("unexpected end tag </%s>", t.Name.Local)}
			}
			rw.end()
			rw.scopes = rw.scopes[:len(rw.scopes)-1]
			rw.depth--
		}
		// Copy untouched bytes out in chunks, and drop them from the
		// recorder only now and then: dropping moves the tail down.
		if end-rw.pos > 32<<10 {
			rw.out.Write(rw.rec.slice(rw.pos, end))
			rw.pos = end
		}
		if rw.pos-rw.rec.base > 64<<10 {
			rw.rec.discard(rw.pos)
		}
	}
	rw.out.Write(rw.rec.slice(rw.pos, rw.rec.base+int64(len(rw.rec.buf))))
	return rw.out.Flush()
}

// note records a finding about the current item (its id and line), or
// about the feed outside items. line is the line of the element concerned;
// when it is not the item's, the message says it, and it says so too for
// findings inside a conflict copy.
func (rw *rewriter) note(k NoteKind, line int, format string, args ...any) {
	msg := fmt.Sprintf(format, args...)
	if rw.itemDepth == 0 {
		rw.notes = append(rw.notes, Note{Kind: k, Line: line, Msg: msg})
		return
	}
	// The item's sx:sync is at itemDepth+1 and its entries at +2; deeper
	// elements belong to conflict copies.
	if rw.depth > rw.itemDepth+2 {
		msg = "in a conflict copy: " + msg
	}
	if line != 0 && line != rw.itemLine {
		msg += fmt.Sprintf(" (line %d)", line)
	}
	rw.notes = append(rw.notes, Note{Kind: k, Item: true, ID: rw.itemID, Line: rw.itemLine, Msg: msg})
}

func (rw *rewriter) lookup(prefix string) string {
	if prefix == "xml" {
		return "http://www.w3.org/XML/1998/namespace"
	}
	for i := len(rw.scopes) - 1; i >= 0; i-- {
		if u, ok := rw.scopes[i][prefix]; ok {
			return u
		}
	}
	return ""
}

// edit replaces the value of the i-th attribute of a start tag.
type edit struct {
	attr  int
	value string
}

// start handles a start tag and returns the edits its bytes need.
func (rw *rewriter) start(t xml.StartElement, line int) []edit {
	var edits []edit
	var decls map[string]string
	for i, a := range t.Attr {
		prefix, isDecl := "", false
		switch {
		case a.Name.Space == "xmlns":
			prefix, isDecl = a.Name.Local, true
		case a.Name.Space == "" && a.Name.Local == "xmlns":
			isDecl = true
		}
		if !isDecl {
			continue
		}
		uri := a.Value
		switch strings.TrimSpace(uri) {
		case feedsync.LegacyNamespace:
			edits = append(edits, edit{i, feedsync.Namespace})
			uri = feedsync.Namespace
			rw.namespaces++
			rw.note(Rewritten, line, "SSE 0.93 namespace declaration → %s (FS-NS-1, §14)", feedsync.Namespace)
		case sse091Namespace:
			rw.note(Failed, line, "SSE 0.91 namespace %s is not upgraded: its data has another shape (§14)", sse091Namespace)
		}
		if decls == nil {
			decls = map[string]string{}
		}
		decls[prefix] = uri
	}
	rw.scopes = append(rw.scopes, decls)
	uri := rw.lookup(t.Name.Space)

	// Find the container and the items (FS-NS-2, FS-NS-3).
	switch {
	case rw.depth == 1 && t.Name.Local == "rss" && uri == "":
		rw.format = feedsync.RSS
	case rw.depth == 1 && t.Name.Local == "feed" && uri == feedsync.AtomNamespace:
		rw.format, rw.container = feedsync.Atom, 1
	case rw.depth == 2 && rw.format == feedsync.RSS && t.Name.Local == "channel" && uri == "":
		rw.container = 2
	case rw.container > 0 && rw.depth == rw.container+1 && rw.itemDepth == 0 && rw.skipBelow == 0 && rw.isItem(t, uri):
		rw.itemDepth, rw.itemLine, rw.itemID, rw.anonymous = rw.depth, line, "", 0
	}
	if uri != feedsync.Namespace || rw.skipBelow > 0 {
		return edits
	}
	switch t.Name.Local {
	case "sync":
		edits = append(edits, rw.sync(t, line)...)
	case "history":
		edits = append(edits, rw.history(t, line)...)
	case "sharing":
		edits = append(edits, rw.sharing(t, line)...)
	case "unpublished":
		rw.skipBelow = rw.depth
		rw.note(Kept, line, "sx:unpublished (SSE 0.93) kept verbatim; its items are not merged or upgraded (FS-UNPUB-2)")
	case "update":
		rw.note(Failed, line, "sx:update (SSE 0.91) is not upgraded (§14)")
	}
	return edits
}

func (rw *rewriter) isItem(t xml.StartElement, uri string) bool {
	if rw.format == feedsync.Atom {
		return t.Name.Local == "entry" && uri == feedsync.AtomNamespace
	}
	return t.Name.Local == "item" && uri == ""
}

// end handles an end tag.
func (rw *rewriter) end() {
	if rw.skipBelow == rw.depth {
		rw.skipBelow = 0
	}
	if rw.itemDepth == rw.depth {
		if rw.anonymous > 0 {
			rw.note(Kept, 0, "%d history %s without by kept: anonymous entries are identified by (when, sequence) (FS-HIST-4) and never purged (FS-PURGE-2)",
				rw.anonymous, plural(rw.anonymous, "entry", "entries"))
		}
		rw.itemDepth = 0
	}
}

func plural(n int, one, many string) string {
	if n == 1 {
		return one
	}
	return many
}

// sync handles sx:sync: id, updates, deleted, noconflicts.
func (rw *rewriter) sync(t xml.StartElement, line int) []edit {
	var edits []edit
	own := rw.itemDepth > 0 && rw.depth == rw.itemDepth+1
	var hasID, hasUpdates bool
	for i, a := range t.Attr {
		if a.Name.Space != "" || a.Name.Local != "id" {
			continue
		}
		hasID = true
		id := feedsync.NormalizeID(strings.TrimSpace(a.Value))
		if own {
			rw.itemID = id
		}
		if id != a.Value {
			edits = append(edits, edit{i, id})
			rw.note(Rewritten, line, "id %q → %q (FS-TYPE-5)", a.Value, id)
		}
		if !feedsync.ValidID(id) {
			rw.note(Failed, line, "id %q is not a URN NSS (FS-TYPE-5)", a.Value)
		}
	}
	for i, a := range t.Attr {
		if a.Name.Space != "" {
			continue
		}
		switch a.Name.Local {
		case "id":
		case "updates":
			hasUpdates = true
			edits = rw.integer(edits, i, "sx:sync updates", a.Value, line)
		case "deleted", "noconflicts":
			edits = rw.boolean(edits, i, "sx:sync "+a.Name.Local, a.Value, line)
		case "version", "conflict":
			rw.note(Failed, line, "sx:sync %s=%q is SSE 0.91 data, not upgraded (§14)", a.Name.Local, a.Value)
		default:
			rw.note(Kept, line, "unknown attribute %s=%q on sx:sync kept (FS-NS-5)", a.Name.Local, a.Value)
		}
	}
	if !hasID {
		rw.note(Failed, line, "sx:sync has no id (FS-SYNC-2)")
	}
	if !hasUpdates {
		rw.note(Failed, line, "sx:sync has no updates (FS-SYNC-3)")
	}
	return edits
}

// history handles sx:history: sequence, when, by.
func (rw *rewriter) history(t xml.StartElement, line int) []edit {
	var edits []edit
	var hasWhen, hasBy bool
	for i, a := range t.Attr {
		if a.Name.Space != "" {
			continue
		}
		switch a.Name.Local {
		case "sequence":
			edits = rw.integer(edits, i, "sx:history sequence", a.Value, line)
		case "when":
			hasWhen = true
			edits = rw.time(edits, i, "sx:history when", a.Value, line)
		case "by":
			hasBy = a.Value != ""
		}
	}
	switch {
	case !hasBy && !hasWhen:
		rw.note(Failed, line, "sx:history has neither when nor by (FS-HIST-4)")
	case !hasBy && rw.itemDepth > 0:
		rw.anonymous++
	}
	return edits
}

// sharing handles sx:sharing: since, until (FS-SHARING-2) and expires.
func (rw *rewriter) sharing(t xml.StartElement, line int) []edit {
	var edits []edit
	since, until := -1, -1
	for i, a := range t.Attr {
		if a.Name.Space != "" {
			continue
		}
		switch a.Name.Local {
		case "since":
			since = i
		case "until":
			until = i
		case "expires":
			edits = rw.time(edits, i, "sx:sharing expires", a.Value, line)
		}
	}
	switch {
	case since < 0 && until < 0:
	case since < 0 || until < 0:
		rw.note(Failed, line, "sx:sharing has only one of since and until; both or neither (FS-SHARING-2)")
	default:
		s, u := t.Attr[since].Value, t.Attr[until].Value
		_, errS := feedsync.ParseTime(s)
		_, errU := feedsync.ParseTime(u)
		if errS != nil || errU != nil {
			// FS-SHARING-2, §17 A-12: opaque tokens unless both are dates.
			rw.note(Kept, line, "sx:sharing since=%q until=%q are opaque tokens, not date-times; kept as they are (FS-SHARING-2, §17 A-12)", s, u)
			break
		}
		edits = rw.time(edits, since, "sx:sharing since", s, line)
		edits = rw.time(edits, until, "sx:sharing until", u, line)
	}
	return edits
}

func (rw *rewriter) time(edits []edit, i int, what, v string, line int) []edit {
	t, err := feedsync.ParseTime(v)
	if err != nil {
		rw.note(Failed, line, "%s %q is not an RFC 3339 date-time (FS-TYPE-4)", what, v)
		return edits
	}
	if c := feedsync.FormatTime(t); c != v {
		rw.note(Rewritten, line, "%s %q → %q (FS-TYPE-4)", what, v, c)
		edits = append(edits, edit{i, c})
	}
	return edits
}

func (rw *rewriter) boolean(edits []edit, i int, what, v string, line int) []edit {
	var c string
	switch strings.ToLower(strings.TrimSpace(v)) {
	case "true", "1", "yes", "-1":
		c = "true"
	case "false", "0", "no":
		c = "false"
	default:
		rw.note(Failed, line, "%s %q is not a boolean (FS-TYPE-3)", what, v)
		return edits
	}
	if c != v {
		rw.note(Rewritten, line, "%s %q → %q (FS-TYPE-3)", what, v, c)
		edits = append(edits, edit{i, c})
	}
	return edits
}

func (rw *rewriter) integer(edits []edit, i int, what, v string, line int) []edit {
	n, err := strconv.ParseInt(strings.TrimSpace(v), 10, 64)
	if err != nil || n < 1 || n > feedsync.MaxInt {
		rw.note(Failed, line, "%s %q is not an integer in 1..%d (FS-TYPE-2)", what, v, feedsync.MaxInt)
		return edits
	}
	if c := strconv.FormatInt(n, 10); c != v {
		rw.note(Rewritten, line, "%s %q → %q (FS-TYPE-2)", what, v, c)
		edits = append(edits, edit{i, c})
	}
	return edits
}

// splice rewrites attribute values in the bytes of one start tag. It lexes
// the tag itself (encoding/xml does not give attribute offsets); the
// decoder has already checked that the tag is well formed, and the
// attributes come in the order the decoder listed them.
func splice(tag []byte, edits []edit) ([]byte, error) {
	type span struct {
		start, end int // of the value, between the quotes
		quote      byte
	}
	var spans []span
	i := 1
	skipName := func() {
		for i < len(tag) && !isXMLSpace(tag[i]) && tag[i] != '=' && tag[i] != '>' && tag[i] != '/' {
			i++
		}
	}
	skipSpace := func() {
		for i < len(tag) && isXMLSpace(tag[i]) {
			i++
		}
	}
	skipName() // the element name
	for {
		skipSpace()
		if i >= len(tag) || tag[i] == '>' || tag[i] == '/' {
			break
		}
		skipName()
		skipSpace()
		if i >= len(tag) || tag[i] != '=' {
			return nil, errors.New("start tag: attribute without value")
		}
		i++
		skipSpace()
		if i >= len(tag) || tag[i] != '"' && tag[i] != '\'' {
			return nil, errors.New("start tag: unquoted attribute value")
		}
		q := tag[i]
		i++
		s := i
		for i < len(tag) && tag[i] != q {
			i++
		}
		if i >= len(tag) {
			return nil, errors.New("start tag: unterminated attribute value")
		}
		spans = append(spans, span{s, i, q})
		i++
	}
	out := make([]byte, 0, len(tag)+32)
	last := 0
	sort.Slice(edits, func(a, b int) bool { return edits[a].attr < edits[b].attr })
	for _, e := range edits {
		if e.attr >= len(spans) {
			return nil, fmt.Errorf("start tag: attribute %d not found", e.attr+1)
		}
		sp := spans[e.attr]
		out = append(out, tag[last:sp.start]...)
		out = append(out, escapeValue(e.value, sp.quote)...)
		last = sp.end
	}
	return append(out, tag[last:]...), nil
}

func isXMLSpace(c byte) bool { return c == ' ' || c == '\t' || c == '\n' || c == '\r' }

var (
	dqEscaper = strings.NewReplacer("&", "&amp;", "<", "&lt;", `"`, "&quot;")
	sqEscaper = strings.NewReplacer("&", "&amp;", "<", "&lt;", "'", "&apos;")
)

// escapeValue escapes an attribute value for the quote it stands in.
func escapeValue(s string, quote byte) string {
	if quote == '"' {
		return dqEscaper.Replace(s)
	}
	return sqEscaper.Replace(s)
}

// recorder keeps the bytes read from r, from the oldest offset still
// needed, so that they can be copied out by offset.
type recorder struct {
	r    io.Reader
	buf  []byte
	base int64 // offset of buf[0]
}

func (c *recorder) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	c.buf = append(c.buf, p[:n]...)
	return n, err
}

func (c *recorder) slice(from, to int64) []byte { return c.buf[from-c.base : to-c.base] }

func (c *recorder) discard(off int64) {
	n := int(off - c.base)
	if n <= 0 {
		return
	}
	m := copy(c.buf, c.buf[n:])
	c.buf = c.buf[:m]
	c.base = off
}

// masker shows the decoder an ASCII copy of the input: each byte above 0x7f
// becomes 'x', and a leading UTF-8 byte order mark becomes spaces. Offsets
// and lines stay those of the input, whatever its single-byte or UTF-8
// encoding, and the structure (tags, attributes, quotes) is unchanged, which
// is all the rewriter needs; the values it rewrites are ASCII.
type masker struct {
	r io.Reader
	n int64
}

func (m *masker) Read(p []byte) (int, error) {
	n, err := m.r.Read(p)
	for i := 0; i < n; i++ {
		if p[i] >= 0x80 {
			if m.n+int64(i) < 3 && (p[i] == 0xef || p[i] == 0xbb || p[i] == 0xbf) {
				p[i] = ' '
			} else {
				p[i] = 'x'
			}
		}
	}
	m.n += int64(n)
	return n, err
}
