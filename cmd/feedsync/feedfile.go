package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"strings"
	"time"

	"github.com/beevik/etree"

	"github.com/feedsync/go-feedsync/converter"
	"github.com/feedsync/go-feedsync/feedsync"
)

// edit describes a change of one feed file by editFeed.
type edit struct {
	// in is the feed to read; out where to write (default: in, in place).
	in, out string
	// store says that in is a store's DSN: the edit is one transaction.
	store bool
	// newFeed, if set, makes the feed when in does not exist.
	newFeed func() *feedsync.Header
	// id is the item change is applied to; editFeed fails when the feed
	// has no item with this id.
	id     string
	change func(it *feedsync.Item) (*feedsync.Item, error)
	// add, if set, returns an item appended after the last one.
	add func(h *feedsync.Header) (*feedsync.Item, error)
}

// Limits of the edit commands. What they write obeys the reader's default
// limits (FS-ROBUST-6), so that every reader can read it. What they read
// may exceed them, so that an item written beyond them before (by an older
// version, or another implementation) can still be repaired: resolved, or
// thinned. Items they do not change are copied as they are.
var (
	writtenLimits = feedsync.ReaderOptions{}
	repairLimits  = feedsync.RepairLimits()
)

// editFeed streams a feed to its new version: every item is copied byte for
// byte except the one change is applied to, and add's item is appended. A
// duplicate sync id stops it (FS-SYNC-2, FS-ROBUST-3): which copy would be
// "the" item is undefined. A changed or added item the reader's limits
// would refuse is an error (FS-ROBUST-6). The output is written
// atomically, so on any error the feed is left as it was.
func (m *Main) editFeed(ctx context.Context, e edit) error {
	if e.store {
		return m.editStore(ctx, e)
	}
	out := e.out
	if out == "" {
		out = e.in
	}
	// Locked before the input is read: when out is in, a command that
	// rewrote it in between would otherwise lose its change.
	release, err := m.lock(ctx, out)
	if err != nil {
		return err
	}
	defer release()
	var src io.Reader
	var h *feedsync.Header
	f, err := m.open(e.in)
	switch {
	case err == nil:
		defer f.Close()
		src = f
	case e.newFeed != nil && errors.Is(err, fs.ErrNotExist):
		h = e.newFeed()
	default:
		return err
	}
	return inFile(e.in, m.output(ctx, out, func(w io.Writer) error {
		var r *feedsync.Reader
		if src != nil {
			r = feedsync.NewReaderOptions(src, repairLimits)
			var err error
			if h, err = r.Header(); err != nil {
				return err
			}
		}
		fw := feedsync.NewWriter(w, h)
		var ids feedsync.IDSet
		found := false
		for r != nil {
			if err := ctx.Err(); err != nil {
				return err
			}
			it, err := r.Next()
			if err == io.EOF {
				break
			}
			if err != nil {
				return err
			}
			if err := ids.Add(it); err != nil {
				return err
			}
			if e.change != nil && it.Sync != nil && feedsync.NormalizeID(it.ID()) == e.id {
				found = true
				if err := it.Err(); err != nil {
					return err
				}
				if it, err = e.change(it); err != nil {
					return err
				}
				if err := writtenLimits.Check(it); err != nil {
					return err
				}
			}
			if err := fw.WriteItem(it); err != nil {
				return err
			}
		}
		if e.change != nil && !found {
			return &usageError{
				msg:  fmt.Sprintf("no item with id %q", e.id),
				hint: fmt.Sprintf("Run 'feedsync show %s' to list the items.", e.in),
			}
		}
		if e.add != nil {
			it, err := e.add(h)
			if err != nil {
				return err
			}
			if err := writtenLimits.Check(it); err != nil {
				return err
			}
			if err := ids.Add(it); errors.Is(err, feedsync.ErrDuplicateID) {
				return &usageError{msg: fmt.Sprintf("an item with id %q exists already", it.ID()), hint: "Choose another --id, or change the item with 'feedsync update'."}
			}
			if err := fw.WriteItem(it); err != nil {
				return err
			}
		}
		return fw.Close()
	}))
}

// readable checks that a file can be opened, so that a command fails on a
// wrong file name before it has any side effect (such as generating the
// endpoint identifier).
func (m *Main) readable(name string) error {
	if name == "-" {
		return nil
	}
	f, err := m.open(name)
	if err != nil {
		return err
	}
	return f.Close()
}

// itemID turns an --id argument into a sync id: a valid id is used as it is
// (normalised, FS-TYPE-5); anything else is escaped as produce escapes the
// ids of its data (converter.Map.SyncID), so "a b" finds "a%20b".
func itemID(id string) (string, error) {
	if id == "" {
		return "", usagef("missing --id")
	}
	if feedsync.ValidID(id) {
		return feedsync.NormalizeID(id), nil
	}
	return feedsync.EscapeID(id), nil
}

// stamp is the history entry this endpoint writes now (FS-UPDATE-2).
func (m *Main) stamp(by string) feedsync.Stamp {
	return feedsync.Stamp{By: by, When: m.Now()}
}

// payloadOf returns the payload of it as a standalone element that declares
// every namespace it uses, without sx:sync. (Item.Payload returns the
// element as it appears in the feed, where prefixes may rely on
// declarations on the feed's root; MarshalItem declares them.)
func payloadOf(it *feedsync.Item) (*etree.Element, error) {
	b, err := feedsync.MarshalItem(it)
	if err != nil {
		return nil, err
	}
	doc := etree.NewDocument()
	doc.ReadSettings.PreserveCData = true
	if err := doc.ReadFromBytes(b); err != nil {
		return nil, fmt.Errorf("read item back: %w", err)
	}
	root := doc.Root()
	for _, c := range root.ChildElements() {
		if c.Tag == "sync" && (c.NamespaceURI() == feedsync.Namespace || c.NamespaceURI() == feedsync.LegacyNamespace) {
			root.RemoveChild(c)
		}
	}
	doc.RemoveChild(root)
	return root, nil
}

// buildPayload returns the payload for fields in format. For an item that
// exists already (old != nil), only the elements of the fields that changed
// are rewritten (converter.Map.EditPayload): everything else, the Atom id
// included, stays as it was (FS-TYPE-1). When something changed, an Atom
// entry's updated is set to when (Atom's "last significant change").
func buildPayload(format feedsync.Format, id string, fields map[string]any, old *etree.Element, when time.Time) (*etree.Element, error) {
	cm := converter.Map{Format: format}
	if old == nil {
		p, err := cm.ToPayload(id, fields)
		if err != nil {
			return nil, err
		}
		if e := p.SelectElement("updated"); format == feedsync.Atom && e != nil && !when.IsZero() {
			e.SetText(feedsync.FormatTime(when))
		}
		return p, nil
	}
	p, err := cm.EditPayload(old, id, fields)
	if err != nil {
		return nil, err
	}
	if format == feedsync.Atom && !when.IsZero() && !samePayload(format, p, old) {
		for _, e := range p.ChildElements() {
			if e.Tag == "updated" && e.NamespaceURI() == feedsync.AtomNamespace {
				for len(e.Child) > 0 {
					e.RemoveChildAt(0)
				}
				for i := len(e.Attr) - 1; i >= 0; i-- {
					if e.Attr[i].NamespaceURI() == feedsync.ConvertNamespace {
						e.RemoveAttr(e.Attr[i].FullKey()) // no longer made up
					}
				}
				e.SetText(feedsync.FormatTime(when))
				break
			}
		}
	}
	return p, nil
}

func childText(e *etree.Element, tag string) string {
	if c := e.SelectElement(tag); c != nil {
		return strings.TrimSpace(c.Text())
	}
	return ""
}

// fieldFlags are the --set, --fields (and, for update, --unset) flags that
// say what an item's fields become.
type fieldFlags struct {
	set    listFlag
	object string
	unset  listFlag
}

// apply changes fields: --fields' members first, then each --set, then
// each --unset.
func (f *fieldFlags) apply(fields map[string]any) error {
	if f.object != "" {
		dec := json.NewDecoder(strings.NewReader(f.object))
		dec.UseNumber()
		var obj map[string]any
		if err := dec.Decode(&obj); err != nil || obj == nil || dec.More() {
			if err == nil {
				err = errors.New("not a single JSON object")
			}
			return &usageError{msg: fmt.Sprintf("--fields: %v", err), hint: `Give one JSON object, for example --fields '{"done":true,"priority":2}'.`}
		}
		for k, v := range obj {
			fields[k] = v
		}
	}
	for _, s := range f.set {
		k, v, ok := strings.Cut(s, "=")
		if !ok || k == "" {
			return &usageError{msg: fmt.Sprintf("--set %q: want field=value", s), hint: "For example --set title='Buy stamps'. Use --fields for numbers, booleans and nested values."}
		}
		fields[k] = v
	}
	for _, k := range f.unset {
		delete(fields, k)
	}
	return nil
}

// itemTitle returns the text of an item's title element, for listings.
func itemTitle(it *feedsync.Item) string {
	p, err := it.Payload()
	if err != nil {
		return ""
	}
	return childText(p, "title")
}

// fieldsAsJSON explains an argument left over when --json, which takes no
// value, was given a JSON object as create and update once took their
// fields: they take it with --fields.
func fieldsAsJSON(asJSON bool, pos []string) error {
	for _, a := range pos {
		if asJSON && strings.HasPrefix(strings.TrimSpace(a), "{") {
			return &usageError{
				msg:  fmt.Sprintf("unexpected argument %q", a),
				hint: "--json asks for the summary as JSON; give the item's fields as a JSON object with --fields OBJECT.",
			}
		}
	}
	return nil
}
