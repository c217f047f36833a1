package plainfeed

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/beevik/etree"
	"github.com/mmcdole/gofeed"
	"github.com/mmcdole/gofeed/atom"
	ext "github.com/mmcdole/gofeed/extensions"
	"github.com/mmcdole/gofeed/json"
	"github.com/mmcdole/gofeed/rss"

	"github.com/feedsync/go-feedsync/feedsync"
)

// Errors returned by this package.
var (
	// ErrLegacy is returned by Read and Convert when the input uses the SSE
	// 0.93 namespace and Options.Upgrade is not set: its items would keep
	// the old namespace in the output. Upgrade them first (§14).
	ErrLegacy = errors.New("plainfeed: the feed uses the SSE 0.93 namespace; upgrade it")
	// ErrTooLarge is returned by Read when the input exceeds
	// Options.MaxBytes (FS-ROBUST-4).
	ErrTooLarge = errors.New("plainfeed: input larger than the limit")
	// ErrNotFeed is returned by Read when the input is no feed gofeed or the
	// core reader can read.
	ErrNotFeed = errors.New("plainfeed: not an RSS, Atom or JSON feed")
	// ErrDuplicate is reported (in Feed.Warnings) for an entry whose sync id
	// an earlier entry already has (FS-SYNC-2); the later entry is left out.
	ErrDuplicate = errors.New("plainfeed: duplicate id")
)

// DefaultMaxBytes is the default of Options.MaxBytes.
const DefaultMaxBytes = 64 << 20

// Options controls Read and Convert. The zero value gives the defaults.
type Options struct {
	// Format is the format of the payloads (and of the feed Convert
	// writes). Default: feedsync.Atom for Atom input (1.0 or 0.3), and
	// feedsync.RSS for everything else.
	Format feedsync.Format
	// Upgrade runs Upgrade on input that carries sync metadata, so that
	// SSE 0.93 feeds come out as FeedSync 1.0. Default: false, and such
	// input is refused with ErrLegacy.
	Upgrade bool
	// MaxBytes bounds the input: gofeed needs it in memory. Default:
	// DefaultMaxBytes.
	MaxBytes int64
}

// Feed is a feed read by Read: its metadata and its entries as FeedSync
// payloads, in the order of the input.
type Feed struct {
	// Format is the format of the feed Convert writes, and of the
	// payloads of entries read with gofeed.
	Format feedsync.Format
	// Kind says what was read: "rss 2.0", "rss 1.0", "rss 0.91", "atom 1.0",
	// "atom 0.3", "json 1.1", … or "feedsync" for a feed some of whose
	// items already carry sx:sync.
	Kind string
	// Info is the feed's title, link, description, Atom id and updated
	// time. Updated is zero when the input gives none.
	Info feedsync.FeedInfo
	// Entries are the items, without duplicates.
	Entries []Entry
	// Warnings lists what was read with difficulty or left out: items
	// with invalid sync metadata, duplicate ids (ErrDuplicate), …
	Warnings []error
	// Upgrade is the report of the upgrade pass when Options.Upgrade ran
	// one, else nil.
	Upgrade *UpgradeReport

	header *feedsync.Header // as read, for feeds read by the core reader
}

// Entry is one item of a feed as a FeedSync payload.
type Entry struct {
	// ID is the sync id: the one the item carries (FromSync), or one made
	// from its guid, link or content (FS-TYPE-5 syntax, see feedsync.EscapeID).
	ID string
	// From says where ID came from.
	From IDSource
	// Payload is the item's content as an RSS <item> or Atom <entry>
	// without sx:sync. It declares every namespace it uses.
	Payload *etree.Element
	// Format is the format of Payload: Feed.Format for items read with
	// gofeed; the input's format for items read with the core reader,
	// which the writer converts (feedsync.ConvertItem) once the item has
	// its sync metadata, so that the Atom id and updated it derives from
	// them are right.
	Format feedsync.Format
	// Item is the item as read when it already carries sx:sync; it is
	// kept untouched (FS-SYNC-2, FS-UPDATE-6). Nil otherwise.
	Item *feedsync.Item
	// Line is the line of the item in the input, when known (gofeed does
	// not say), else 0.
	Line int
}

// Read reads a feed as people publish it — RSS 0.9x, 1.0 or 2.0, Atom 0.3
// or 1.0, JSON Feed 1.0 or 1.1 — leniently, with gofeed, and returns each
// item as a FeedSync payload with a sync id.
//
// The sync id is the item's guid (RSS guid, Atom id, JSON Feed id); without
// one, its link; without either, a hash of its title, description, content
// and date ("sha256-" and 32 hex digits). Ids are written in the NSS syntax
// of FS-TYPE-5 by feedsync.EscapeID. A later item with an id already taken is left
// out and reported in Feed.Warnings (FS-SYNC-2).
//
// Payloads carry the title, link, description (RSS) or summary (Atom),
// content (RSS content:encoded; Atom content, XHTML kept as XHTML when both
// input and output are Atom), publication and update dates, authors,
// categories, enclosures (RSS enclosure, Atom link rel="enclosure") and
// Dublin Core elements. Other extension elements are not carried: gofeed
// keys them by prefix and drops the namespaces of their attributes.
//
// A feed that already carries FeedSync (or SSE) metadata is read with the
// core reader instead, so that its items keep their sx:sync untouched; its
// items without sx:sync get ids as above. SSE 0.93 input needs
// Options.Upgrade (see Upgrade), else Read returns ErrLegacy.
func Read(r io.Reader, opts Options) (*Feed, error) {
	max := opts.MaxBytes
	if max <= 0 {
		max = DefaultMaxBytes
	}
	data, err := io.ReadAll(io.LimitReader(r, max+1))
	if err != nil {
		return nil, fmt.Errorf("plainfeed: read: %w", err)
	}
	if int64(len(data)) > max {
		return nil, fmt.Errorf("%w (%d bytes)", ErrTooLarge, max)
	}
	if mentionsSync(data) {
		f, err := readSync(data, opts)
		if err != nil || f != nil {
			return f, err
		}
	}
	return readPlain(data, opts)
}

// mentionsSync reports whether data may hold FeedSync or SSE metadata. It
// only looks for a namespace URI; readSync decides.
func mentionsSync(data []byte) bool {
	return bytes.Contains(data, []byte(feedsync.Namespace)) || bytes.Contains(data, []byte(feedsync.LegacyNamespace))
}

// readPlain reads a feed without sync metadata through gofeed.
func readPlain(data []byte, opts Options) (*Feed, error) {
	p := gofeed.NewParser()
	p.KeepOriginalFeed = true
	gf, err := p.Parse(bytes.NewReader(data))
	if err != nil {
		if errors.Is(err, gofeed.ErrFeedTypeNotDetected) {
			return nil, ErrNotFeed
		}
		return nil, fmt.Errorf("%w: %w", ErrNotFeed, err)
	}
	f := &Feed{Kind: gf.FeedType + " " + gf.FeedVersion, Format: opts.Format}
	if f.Format == feedsync.FormatUnknown {
		f.Format = feedsync.RSS
		if gf.FeedType == "atom" {
			f.Format = feedsync.Atom
		}
	}
	f.Info = feedsync.FeedInfo{
		// Channel titles and descriptions are sometimes HTML; the header
		// writes them as text.
		Title:       plainText(gf.Title),
		Link:        strings.TrimSpace(gf.Link),
		Description: plainText(gf.Description),
		Updated:     firstTime(deref(gf.UpdatedParsed), deref(gf.PublishedParsed)),
	}
	var entries []*entryData
	switch orig := gf.OriginalFeed().(type) {
	case *atom.Feed:
		f.Info.ID = strings.TrimSpace(orig.ID)
		texts := readAtomTexts(data)
		if len(texts) != len(orig.Entries) || len(orig.Entries) != len(gf.Items) {
			texts = nil // the two parses disagree: trust gofeed alone
		}
		for i, it := range gf.Items {
			var at *atomTexts
			if texts != nil {
				at = &texts[i]
			}
			entries = append(entries, fromAtom(it, orig.Entries[i], at))
		}
	case *rss.Feed:
		for i, it := range gf.Items {
			entries = append(entries, fromRSS(it, orig.Items[i]))
		}
	case *json.Feed:
		for i, it := range gf.Items {
			entries = append(entries, fromJSON(it, orig.Items[i]))
		}
	default:
		for _, it := range gf.Items {
			entries = append(entries, fromUniversal(it))
		}
	}
	if f.Info.ID == "" {
		f.Info.ID = feedID(f.Info, gf.FeedLink)
	}
	fallback := f.Info.Updated
	var seen idIndex
	for i, d := range entries {
		id, from := pickID(d.guid, d.link, d.hash)
		if err := seen.add(id, fmt.Sprintf("item %d", i+1)); err != nil {
			f.Warnings = append(f.Warnings, err)
			continue
		}
		f.Entries = append(f.Entries, Entry{ID: id, From: from, Payload: d.payload(f.Format, id, fallback), Format: f.Format})
	}
	return f, nil
}

// idIndex finds ids used twice (FS-SYNC-2).
type idIndex map[string]string

func (x *idIndex) add(id, where string) error {
	if *x == nil {
		*x = idIndex{}
	}
	if first, ok := (*x)[id]; ok {
		return fmt.Errorf("%s: id %q already used by %s; left out: %w", where, id, first, ErrDuplicate)
	}
	(*x)[id] = where
	return nil
}

// feedID makes an Atom feed id for input that has none: its self link or
// web address when absolute, else a URN from the title.
func feedID(info feedsync.FeedInfo, self string) string {
	switch {
	case isAbsURL(self):
		return self
	case isAbsURL(info.Link):
		return info.Link
	}
	return "urn:feedsync:" + hashID(info.Title, info.Description, "", time.Time{})
}

func deref(t *time.Time) time.Time {
	if t == nil {
		return time.Time{}
	}
	return *t
}

// fromUniversal maps what every gofeed item has.
func fromUniversal(it *gofeed.Item) *entryData {
	d := &entryData{
		guid:      strings.TrimSpace(it.GUID),
		link:      strings.TrimSpace(it.Link),
		title:     text{s: strings.TrimSpace(it.Title), kind: kindText},
		summary:   text{s: it.Description, kind: kindHTML},
		content:   text{s: it.Content, kind: kindHTML},
		published: deref(it.PublishedParsed),
		updated:   deref(it.UpdatedParsed),
	}
	if d.updated.Equal(d.published) {
		d.updated = time.Time{}
	}
	for _, p := range it.Authors {
		if p != nil && (p.Name != "" || p.Email != "") {
			d.authors = append(d.authors, person{strings.TrimSpace(p.Name), strings.TrimSpace(p.Email)})
		}
	}
	for _, c := range it.Categories {
		if c = strings.TrimSpace(c); c != "" {
			d.cats = append(d.cats, category{term: c})
		}
	}
	for _, n := range it.Enclosures {
		if n != nil && n.URL != "" {
			d.encls = append(d.encls, enclosure{url: n.URL, length: n.Length, typ: n.Type})
		}
	}
	d.dc = dcValues(it.Extensions)
	return d
}

// dcValues lists the Dublin Core elements gofeed found (keyed by the
// canonical prefix "dc", whatever prefix the feed used).
func dcValues(x ext.Extensions) []dcValue {
	var out []dcValue
	for name, vs := range x["dc"] {
		for _, v := range vs {
			if s := strings.TrimSpace(v.Value); s != "" {
				out = append(out, dcValue{name, s})
			}
		}
	}
	sortDC(out)
	return out
}

// fromRSS maps an RSS item (0.9x, 1.0, 2.0). Categories come from the item
// itself: gofeed's list also holds dc:subject, which the Dublin Core
// elements carry already.
func fromRSS(it *gofeed.Item, o *rss.Item) *entryData {
	d := fromUniversal(it)
	if o.GUID != nil {
		d.permaLink = strings.TrimSpace(o.GUID.IsPermalink)
	}
	d.cats = nil
	for _, c := range o.Categories {
		if c != nil && strings.TrimSpace(c.Value) != "" {
			d.cats = append(d.cats, category{term: strings.TrimSpace(c.Value), scheme: c.Domain})
		}
	}
	// gofeed fills Published and Updated from dc:date when there is no
	// pubDate; the dc:date element is carried as it is, so do not repeat
	// it as a date of the entry's own.
	// Atom still needs a date of its own: dcDate stands in for it.
	if o.PubDate == "" && d.hasDC("date") {
		d.dcDate = firstTime(d.published, d.updated)
		d.published, d.updated = time.Time{}, time.Time{}
	}
	if strings.TrimSpace(o.Description) == "" && d.hasDC("description") {
		d.summary = text{kind: kindHTML}
	}
	if strings.TrimSpace(o.Title) == "" && d.hasDC("title") {
		d.title = text{kind: kindText}
	}
	return d
}

// fromAtom maps an Atom entry (1.0 or 0.3), with the text types at read
// from the document when available.
func fromAtom(it *gofeed.Item, o *atom.Entry, at *atomTexts) *entryData {
	d := fromUniversal(it)
	d.summary.kind, d.content.kind = kindHTML, kindHTML
	if at != nil {
		d.title.kind, d.summary.kind, d.content.kind = at.title, at.summary, at.content
		d.content.xhtml = at.xhtml
	}
	if d.title.kind == kindXHTML {
		d.title.kind = kindHTML // gofeed rendered it as HTML; keep that
	}
	if d.summary.kind == kindXHTML {
		d.summary.kind = kindHTML
	}
	// gofeed copies updated into published when there is none.
	if o.Published == "" {
		d.published = time.Time{}
		d.updated = deref(o.UpdatedParsed)
	}
	d.cats = nil
	for _, c := range o.Categories {
		if c != nil && (c.Term != "" || c.Label != "") {
			d.cats = append(d.cats, category{term: c.Term, scheme: c.Scheme, label: c.Label})
		}
	}
	return d
}

// fromJSON maps a JSON Feed item: content_text is text, content_html HTML,
// summary text, tags categories, attachments enclosures.
func fromJSON(it *gofeed.Item, o *json.Item) *entryData {
	d := fromUniversal(it)
	d.summary.kind = kindText
	if o.ContentHTML == "" && o.ContentText != "" {
		d.content.kind = kindText
	}
	if d.guid == "" && o.ID != "" {
		d.guid = strings.TrimSpace(o.ID)
	}
	return d
}
