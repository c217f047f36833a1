package export

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"html"
	"io"
	"strconv"
	"strings"
	"time"

	"github.com/beevik/etree"
	"github.com/gorilla/feeds"

	"github.com/feedsync/go-feedsync/feedsync"
)

// Namespaces read from payloads besides RSS and Atom.
const (
	contentNamespace = "http://purl.org/rss/1.0/modules/content/"
	dcNamespace      = "http://purl.org/dc/elements/1.1/"
)

// ErrFormat is returned by ParseFormat for an unknown format name.
var ErrFormat = errors.New("export: unknown format (want rss, atom or json)")

// Format is the format of an exported feed.
type Format uint8

const (
	// Input is the zero Format: the format of the input feed, RSS 2.0 or
	// Atom 1.0.
	Input Format = iota
	// RSS is RSS 2.0.
	RSS
	// Atom is Atom 1.0.
	Atom
	// JSON is JSON Feed 1.1.
	JSON
)

// String returns "input", "rss", "atom" or "json".
func (f Format) String() string {
	switch f {
	case Input:
		return "input"
	case RSS:
		return "rss"
	case Atom:
		return "atom"
	case JSON:
		return "json"
	}
	return "unknown"
}

// ParseFormat maps "rss", "atom" or "json" to a Format.
func ParseFormat(s string) (Format, error) {
	switch strings.ToLower(s) {
	case "rss":
		return RSS, nil
	case "atom":
		return Atom, nil
	case "json":
		return JSON, nil
	}
	return 0, fmt.Errorf("%w: %q", ErrFormat, s)
}

// Options are the settings of Write. The zero value gives the defaults.
type Options struct {
	// Format is the format written. Default: Input, the format of the
	// input feed.
	Format Format
	// Reader bounds what is accepted from the input. Default: the
	// feedsync defaults.
	Reader feedsync.ReaderOptions
}

// Summary counts what Write did with the items of the input.
type Summary struct {
	// Exported counts the items written: live winners, and items without
	// sx:sync.
	Exported int
	// Tombstones counts deleted items left out (FS-DELETE-1).
	Tombstones int
	// Conflicts counts items written whose conflict copies were left out:
	// readers see the current winner only (FS-CONFLICT-2).
	Conflicts int
	// Invalid counts items with invalid sync metadata (FS-ROBUST-1); they
	// are written unless they are tombstones, since their content is still
	// the publisher's.
	Invalid int
}

// String returns "N exported, N tombstones left out, N with conflicts, N
// invalid".
func (s Summary) String() string {
	return fmt.Sprintf("%d exported, %d tombstones left out, %d with conflicts, %d invalid",
		s.Exported, s.Tombstones, s.Conflicts, s.Invalid)
}

// Write reads a FeedSync feed (RSS or Atom) from r and writes to w a feed
// for ordinary readers in opts.Format, with gorilla/feeds: the current
// winner of every item, without sx: elements, tombstones or conflict
// copies. Items without sx:sync are written as they are; they are content
// too.
//
// Each item maps to title, link, description (RSS description, Atom
// summary), content (RSS content:encoded, Atom content), the first author
// (RSS author or dc:creator, Atom author), dates (published and updated; RSS
// pubDate, and dc:date as the update), id and the first enclosure. The id is
// the item's guid (Atom id) when it has one, else "urn:feedsync:" and its
// sync id. The package doc lists what gorilla/feeds cannot carry.
//
// The input is read as a stream, one item at a time, but gorilla/feeds
// builds the whole feed in memory before writing it, so memory grows with
// the items exported.
func Write(w io.Writer, r io.Reader, opts Options) (Summary, error) {
	var sum Summary
	rd := feedsync.NewReaderOptions(r, opts.Reader)
	h, err := rd.Header()
	if errors.Is(err, feedsync.ErrNotFeed) {
		return sum, fmt.Errorf("export: the input is no RSS 2.0 or Atom 1.0 feed: %w", err)
	}
	if err != nil {
		return sum, fmt.Errorf("export: read: %w", err)
	}
	if opts.Format == Input {
		opts.Format = RSS
		if h.Format == feedsync.Atom {
			opts.Format = Atom
		}
	}
	info := h.Info()
	feed := &feeds.Feed{
		Title:       info.Title,
		Description: info.Description,
		Id:          info.ID,
		Updated:     info.Updated,
	}
	if info.Link != "" {
		feed.Link = &feeds.Link{Href: info.Link}
	}
	var cats [][]string
	var encls []*feeds.Enclosure
	for n := 1; ; n++ {
		it, err := rd.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			return sum, fmt.Errorf("export: read: %w", err)
		}
		if it.Sync != nil {
			if it.Err() != nil {
				sum.Invalid++
			}
			if it.Sync.Deleted {
				sum.Tombstones++
				continue
			}
			if len(it.Sync.Conflicts) > 0 {
				sum.Conflicts++
			}
		}
		e, err := readItem(it, n)
		if err != nil {
			return sum, err
		}
		feed.Add(e.item)
		cats = append(cats, e.cats)
		encls = append(encls, e.item.Enclosure)
		if t := latest(e.item.Updated, e.item.Created); t.After(feed.Updated) {
			feed.Updated = t
		}
		sum.Exported++
	}
	if err := write(w, feed, opts.Format, cats, encls); err != nil {
		return sum, fmt.Errorf("export: write %s: %w", opts.Format, err)
	}
	return sum, nil
}

// write writes the feed. Categories go where gorilla/feeds has a field for
// them: JSON Feed tags, and the one <category> of an RSS item.
func write(w io.Writer, feed *feeds.Feed, f Format, cats [][]string, encls []*feeds.Enclosure) error {
	switch f {
	case Atom:
		return feeds.WriteXML(&feeds.Atom{Feed: feed}, w)
	case JSON:
		jf := (&feeds.JSON{Feed: feed}).JSONFeed()
		for i, it := range jf.Items {
			it.Tags = cats[i]
			if e := encls[i]; e != nil {
				a := feeds.JSONAttachment{Url: e.Url, MIMEType: e.Type}
				if n, err := strconv.ParseInt(e.Length, 10, 32); err == nil && n > 0 {
					a.Size = int32(n)
				}
				it.Attachments = []feeds.JSONAttachment{a}
			}
		}
		enc := json.NewEncoder(w)
		enc.SetIndent("", "  ")
		return enc.Encode(jf)
	default:
		rf := (&feeds.Rss{Feed: feed}).RssFeed()
		for i, it := range rf.Items {
			if len(cats[i]) > 0 {
				it.Category = cats[i][0]
			}
		}
		return feeds.WriteXML(rf, w)
	}
}

func latest(ts ...time.Time) time.Time {
	var l time.Time
	for _, t := range ts {
		if t.After(l) {
			l = t
		}
	}
	return l
}

// entry is one item as gorilla/feeds takes it, plus its categories.
type entry struct {
	item *feeds.Item
	cats []string
}

// readItem maps the payload of one item. n is its position, for errors.
func readItem(it *feedsync.Item, n int) (*entry, error) {
	p, err := payload(it)
	if err != nil {
		if id := it.ID(); id != "" {
			return nil, fmt.Errorf("export: item %q (line %d): %w", id, it.Line(), err)
		}
		return nil, fmt.Errorf("export: item %d (line %d): %w", n, it.Line(), err)
	}
	var e *entry
	if it.Format() == feedsync.Atom {
		e = fromAtom(p)
	} else {
		e = fromRSS(p)
	}
	if e.item.Id == "" {
		switch {
		case it.Sync != nil:
			e.item.Id = "urn:feedsync:" + it.ID()
		case e.item.Link != nil && e.item.Link.Href != "":
			e.item.Id = e.item.Link.Href
		default:
			// An item without sx:sync, guid or link: name it by content,
			// so that the export is the same every time (gorilla/feeds
			// would make up a random id).
			h := sha256.Sum256([]byte(e.item.Title + "\x00" + e.item.Description + "\x00" + e.item.Content))
			e.item.Id = "urn:sha256:" + hex.EncodeToString(h[:16])
		}
	}
	if e.item.Link == nil || e.item.Id != e.item.Link.Href {
		e.item.IsPermaLink = "false"
	}
	return e, nil
}

// payload returns the item's payload without sx:sync. It declares the
// namespaces the item inherits from its feed, so prefixes resolve.
func payload(it *feedsync.Item) (*etree.Element, error) {
	return it.Payload()
}

// child returns the first child of e with the local name tag in namespace ns.
func child(e *etree.Element, tag, ns string) *etree.Element {
	for _, c := range e.ChildElements() {
		if c.Tag == tag && c.NamespaceURI() == ns {
			return c
		}
	}
	return nil
}

func text(e *etree.Element, tag, ns string) string {
	if c := child(e, tag, ns); c != nil {
		return strings.TrimSpace(c.Text())
	}
	return ""
}

// fromRSS maps an RSS 2.0 <item>.
func fromRSS(p *etree.Element) *entry {
	e := &entry{item: &feeds.Item{
		Title:       text(p, "title", ""),
		Description: text(p, "description", ""),
		Content:     text(p, "encoded", contentNamespace),
		Id:          text(p, "guid", ""),
		Created:     parseTime(text(p, "pubDate", "")),
		Updated:     parseTime(text(p, "date", dcNamespace)),
	}}
	if l := text(p, "link", ""); l != "" {
		e.item.Link = &feeds.Link{Href: l}
	}
	if a := text(p, "author", ""); a != "" {
		e.item.Author = rssAuthor(a)
	} else if c := text(p, "creator", dcNamespace); c != "" {
		e.item.Author = &feeds.Author{Name: c}
	}
	for _, c := range p.ChildElements() {
		switch {
		case c.Tag == "category" && c.NamespaceURI() == "":
			if s := strings.TrimSpace(c.Text()); s != "" {
				e.cats = append(e.cats, s)
			}
		case c.Tag == "enclosure" && c.NamespaceURI() == "" && e.item.Enclosure == nil:
			e.item.Enclosure = &feeds.Enclosure{
				Url:    c.SelectAttrValue("url", ""),
				Length: c.SelectAttrValue("length", ""),
				Type:   c.SelectAttrValue("type", ""),
			}
		}
	}
	return e
}

// rssAuthor splits RSS's "email (name)".
func rssAuthor(s string) *feeds.Author {
	if i := strings.Index(s, " ("); i > 0 && strings.HasSuffix(s, ")") {
		return &feeds.Author{Email: s[:i], Name: s[i+2 : len(s)-1]}
	}
	if strings.Contains(s, "@") && !strings.Contains(s, " ") {
		return &feeds.Author{Email: s, Name: s}
	}
	return &feeds.Author{Name: s}
}

// fromAtom maps an Atom 1.0 <entry>.
func fromAtom(p *etree.Element) *entry {
	ns := feedsync.AtomNamespace
	e := &entry{item: &feeds.Item{
		Title:       atomText(child(p, "title", ns), false),
		Description: atomText(child(p, "summary", ns), true),
		Content:     atomText(child(p, "content", ns), true),
		Id:          text(p, "id", ns),
		Created:     parseTime(text(p, "published", ns)),
		Updated:     parseTime(text(p, "updated", ns)),
	}}
	for _, c := range p.ChildElements() {
		if c.NamespaceURI() != ns {
			continue
		}
		switch c.Tag {
		case "link":
			href := c.SelectAttrValue("href", "")
			switch c.SelectAttrValue("rel", "alternate") {
			case "alternate":
				if e.item.Link == nil {
					e.item.Link = &feeds.Link{Href: href}
				}
			case "enclosure":
				if e.item.Enclosure == nil {
					e.item.Enclosure = &feeds.Enclosure{Url: href, Length: c.SelectAttrValue("length", ""), Type: c.SelectAttrValue("type", "")}
				}
			}
		case "author":
			if e.item.Author == nil {
				e.item.Author = &feeds.Author{Name: text(c, "name", ns), Email: text(c, "email", ns)}
			}
		case "category":
			if t := firstNonEmpty(c.SelectAttrValue("label", ""), c.SelectAttrValue("term", "")); t != "" {
				e.cats = append(e.cats, t)
			}
		}
	}
	if e.item.Author == nil {
		if c := text(p, "creator", dcNamespace); c != "" {
			e.item.Author = &feeds.Author{Name: c}
		}
	}
	return e
}

// atomText returns an Atom text construct as gorilla/feeds takes it: HTML
// for summaries and content (asHTML), text for titles. XHTML is serialized
// as markup: gorilla/feeds has no way to write it as XHTML.
func atomText(e *etree.Element, asHTML bool) string {
	if e == nil {
		return ""
	}
	switch e.SelectAttrValue("type", "text") {
	case "html":
		if asHTML {
			return strings.TrimSpace(e.Text())
		}
		return plain(e.Text())
	case "xhtml":
		var b strings.Builder
		for _, k := range e.ChildElements() {
			// The xhtml:div is the container (RFC 4287 §3.1.1.3).
			for _, t := range k.Child {
				switch t := t.(type) {
				case *etree.Element:
					d := etree.NewDocument()
					d.AddChild(stripNS(t.Copy()))
					s, _ := d.WriteToString()
					b.WriteString(s)
				case *etree.CharData:
					b.WriteString(html.EscapeString(t.Data))
				}
			}
		}
		if asHTML {
			return strings.TrimSpace(b.String())
		}
		return plain(b.String())
	}
	if asHTML {
		return html.EscapeString(strings.TrimSpace(e.Text()))
	}
	return strings.TrimSpace(e.Text())
}

// stripNS drops prefixes and namespace declarations, so that XHTML reads
// as HTML.
func stripNS(e *etree.Element) *etree.Element {
	e.Space = ""
	kept := e.Attr[:0]
	for _, a := range e.Attr {
		if a.Space == "xmlns" || a.Space == "" && a.Key == "xmlns" {
			continue
		}
		kept = append(kept, a)
	}
	e.Attr = kept
	for _, c := range e.ChildElements() {
		stripNS(c)
	}
	return e
}

// plain turns a line of HTML into text.
func plain(s string) string {
	var b strings.Builder
	in := false
	for _, r := range s {
		switch {
		case r == '<':
			in = true
		case r == '>' && in:
			in = false
		case !in:
			b.WriteRune(r)
		}
	}
	return strings.TrimSpace(html.UnescapeString(b.String()))
}

func firstNonEmpty(ss ...string) string {
	for _, s := range ss {
		if s != "" {
			return s
		}
	}
	return ""
}

// parseTime reads the dates of RSS (RFC 822 and its variants) and Atom (RFC
// 3339); zero when it cannot.
func parseTime(s string) time.Time {
	if s == "" {
		return time.Time{}
	}
	for _, layout := range []string{time.RFC3339, time.RFC1123Z, time.RFC1123, time.RFC822Z, time.RFC822,
		"Mon, 2 Jan 2006 15:04:05 -0700", "Mon, 2 Jan 2006 15:04:05 MST"} {
		if t, err := time.Parse(layout, s); err == nil {
			return t.UTC()
		}
	}
	return time.Time{}
}
