package plainfeed

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/beevik/etree"

	"github.com/feedsync/go-feedsync/feedsync"
)

// readSync reads a feed that mentions the FeedSync or SSE namespace with the
// core reader. It returns nil, nil when the feed turns out to be no FeedSync
// feed (no item carries sx:sync and there is no sx:sharing, or it is not RSS
// 2.0 or Atom 1.0), so that Read falls back to gofeed.
func readSync(data []byte, opts Options) (*Feed, error) {
	h, items, err := feedsync.ReadAll(bytes.NewReader(data))
	if errors.Is(err, feedsync.ErrNotFeed) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("plainfeed: read feed with sync metadata: %w", err)
	}
	synced := h.Sharing != nil
	for _, it := range items {
		synced = synced || it.Sync != nil
	}
	if !synced {
		return nil, nil
	}
	var rep *UpgradeReport
	if opts.Upgrade {
		var buf bytes.Buffer
		rep, err = Upgrade(&buf, bytes.NewReader(data))
		if err != nil {
			return nil, err
		}
		if h, items, err = feedsync.ReadAll(&buf); err != nil {
			return nil, fmt.Errorf("plainfeed: read upgraded feed: %w", err)
		}
	} else if bytes.Contains(data, []byte(feedsync.LegacyNamespace)) {
		// The URI may only be mentioned in text: ask the rewriter whether
		// it is declared.
		rep, err := Upgrade(io.Discard, bytes.NewReader(data))
		if err != nil {
			return nil, err
		}
		if rep.Namespaces > 0 {
			return nil, ErrLegacy
		}
	}

	f := &Feed{Kind: "feedsync", Format: opts.Format, Upgrade: rep, header: h, Info: h.Info()}
	if f.Format == feedsync.FormatUnknown {
		f.Format = h.Format
	}
	if f.Info.ID == "" {
		f.Info.ID = feedID(f.Info, "")
	}
	var seen idIndex
	index := map[string]int{} // sync id → entry, for FS-ROBUST-3
	for _, it := range items {
		if it.Sync != nil {
			if rep == nil { // else the upgrade report has them already
				errs, _ := it.Problems()
				f.Warnings = append(f.Warnings, errs...)
			}
			if i, ok := index[it.ID()]; ok {
				// FS-ROBUST-3: merge a duplicate into the running result,
				// never let the last one win.
				merged, _ := feedsync.MergeItem(f.Entries[i].Item, it)
				p, err := standalone(merged)
				if err != nil {
					return nil, err
				}
				f.Entries[i].Item, f.Entries[i].Payload = merged, p
				f.Warnings = append(f.Warnings, &feedsync.ItemError{ID: it.ID(), Line: it.Line(),
					Err: fmt.Errorf("%w: merged into the item of line %d (FS-ROBUST-3)", feedsync.ErrDuplicateID, f.Entries[i].Line)})
				continue
			}
			_ = seen.add(it.ID(), fmt.Sprintf("line %d", it.Line()))
			p, err := standalone(it)
			if err != nil {
				return nil, err
			}
			index[it.ID()] = len(f.Entries)
			f.Entries = append(f.Entries, Entry{ID: it.ID(), From: FromSync, Payload: p, Format: it.Format(), Item: it, Line: it.Line()})
			continue
		}
		src, err := standalone(it)
		if err != nil {
			return nil, err
		}
		d := entryOf(src, it.Format())
		id, from := pickID(d.guid, d.link, d.hash)
		if err := seen.add(id, fmt.Sprintf("line %d", it.Line())); err != nil {
			f.Warnings = append(f.Warnings, err)
			continue
		}
		f.Entries = append(f.Entries, Entry{ID: id, From: from, Payload: src, Format: it.Format(), Line: it.Line()})
	}
	return f, nil
}

// standalone returns the payload of it without sx:sync, as an element
// that declares every namespace it uses (Item.Payload declares what the
// item inherits from its feed) and no other.
func standalone(it *feedsync.Item) (*etree.Element, error) {
	p, err := it.Payload()
	if err != nil {
		return nil, fmt.Errorf("plainfeed: item at line %d: %w", it.Line(), err)
	}
	pruneDecls(p)
	return p, nil
}

// pruneDecls removes the namespace declarations of e's start tag that
// nothing in e uses (a payload may declare every binding in force in its
// feed, sx included).
func pruneDecls(e *etree.Element) {
	used := map[string]bool{}
	var walk func(x *etree.Element)
	walk = func(x *etree.Element) {
		used[x.Space] = true
		for _, a := range x.Attr {
			if a.Space != "" && a.Space != "xmlns" {
				used[a.Space] = true
			}
		}
		for _, c := range x.ChildElements() {
			walk(c)
		}
	}
	walk(e)
	kept := e.Attr[:0]
	for _, a := range e.Attr {
		switch {
		case a.Space == "xmlns" && !used[a.Key]:
		case a.Space == "" && a.Key == "xmlns" && (!used[""] || a.Value == ""):
			// xmlns="" on the root undeclares nothing: a standalone
			// element has no outer default namespace, and RSS items only
			// ever sit in channels without one.
		default:
			kept = append(kept, a)
		}
	}
	e.Attr = kept
}

// entryOf reads what the id needs from a standalone RSS item or Atom entry:
// guid (or atom:id), link, and the texts the content hash covers.
func entryOf(e *etree.Element, f feedsync.Format) *entryData {
	d := &entryData{}
	child := func(tag, ns string) *etree.Element {
		for _, c := range e.ChildElements() {
			if c.Tag == tag && c.NamespaceURI() == ns {
				return c
			}
		}
		return nil
	}
	textOf := func(tag, ns string) string {
		if c := child(tag, ns); c != nil {
			return strings.TrimSpace(c.Text())
		}
		return ""
	}
	if f == feedsync.Atom {
		ns := feedsync.AtomNamespace
		d.guid = textOf("id", ns)
		for _, c := range e.ChildElements() {
			if c.Tag == "link" && c.NamespaceURI() == ns && c.SelectAttrValue("rel", "alternate") == "alternate" {
				d.link = strings.TrimSpace(c.SelectAttrValue("href", ""))
				break
			}
		}
		d.title.s = textOf("title", ns)
		d.summary.s = textOf("summary", ns)
		d.content.s = textOf("content", ns)
		d.published = parseDate(firstNonEmpty(textOf("published", ns), textOf("updated", ns)))
		return d
	}
	d.guid = textOf("guid", "")
	d.link = textOf("link", "")
	d.title.s = textOf("title", "")
	d.summary.s = textOf("description", "")
	d.content.s = textOf("encoded", contentNamespace)
	d.published = parseDate(textOf("pubDate", ""))
	return d
}

// parseDate reads the dates RSS and Atom use; zero when it cannot.
func parseDate(s string) time.Time {
	for _, layout := range []string{time.RFC1123Z, time.RFC1123, time.RFC3339, time.RFC822Z, time.RFC822} {
		if t, err := time.Parse(layout, s); err == nil {
			return t
		}
	}
	return time.Time{}
}
