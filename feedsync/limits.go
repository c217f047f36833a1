package feedsync

import (
	"bytes"
	"errors"
	"fmt"
	"io"

	"github.com/beevik/etree"
)

// RepairLimits returns the wider limits of repair: the commands that
// bring an item written beyond the default limits (by an older version of
// this module, or by another implementation) back under them read it with
// these (FS-ROBUST-6): four times the byte limits, ten times the history
// entries and conflict copies. They are limits still (FS-ROBUST-4), and
// only repairs use them: every other read keeps the defaults, and what a
// repair writes is checked against the defaults (Check).
func RepairLimits() ReaderOptions {
	return ReaderOptions{
		MaxItemBytes:      4 * DefaultMaxItemBytes,
		MaxItemTotalBytes: 4 * DefaultMaxItemTotalBytes,
		MaxHistory:        10 * DefaultMaxHistory,
		MaxConflicts:      10 * DefaultMaxConflicts,
	}
}

// Check returns nil when a Reader with these options reads it back, and
// otherwise an *ItemError wrapping ErrLimit that names the bound, the
// item's size against it and how to bring the item back under it.
//
// What a merge, update, resolve or conflict policy writes must obey the
// bounds a reader accepts (FS-ROBUST-6), or an item is committed that no
// endpoint, this one included, can read again: callers check every result
// and leave the item as it was when Check fails. The bounds are per
// version (MaxItemBytes, MaxHistory) where that keeps two honest
// concurrent edits of a large item syncable, and per item
// (MaxItemTotalBytes, MaxConflicts) where only resolving shrinks it.
//
// Counts are exact. Sizes are first bounded from above without rendering
// the item; only an item whose bounds come near a limit (or that was not
// read from a document) is rendered and read back with these options, so
// the answer is the reader's own.
func (o ReaderOptions) Check(it *Item) error {
	if it == nil || it.Sync == nil {
		return nil
	}
	o = o.withDefaults()
	s := it.Sync
	if n := len(s.Conflicts); n > o.MaxConflicts {
		return limitErr(it, fmt.Errorf("%w: the result would hold %d conflict copies, more than the limit of %d (FS-ROBUST-6); resolve the item's conflicts (feedsync resolve) to bring it back under it", ErrLimit, n, o.MaxConflicts))
	}
	if err := o.checkHistory(it, "the result"); err != nil {
		return err
	}
	for i, c := range s.Conflicts {
		if err := o.checkHistory(c, fmt.Sprintf("conflict copy %d", i+1)); err != nil {
			return err
		}
	}
	if o.withinBounds(it) {
		return nil
	}
	return o.readBack(it)
}

// withinBounds reports whether upper bounds of the sizes, computed without
// rendering, show that every version and the whole item are within the
// byte limits. False means "cannot tell", not "too large".
func (o ReaderOptions) withinBounds(it *Item) bool {
	own, ok := versionBound(it)
	if !ok {
		return false
	}
	total := own
	for _, c := range it.Sync.Conflicts {
		n, ok := versionBound(c)
		if !ok || n > o.MaxItemBytes {
			return false
		}
		total += n
		// The reader counts the sx:conflicts tags and the space between
		// copies in the item's own version.
		own += 64
	}
	if len(it.Sync.Conflicts) > 0 {
		own += 128
	}
	return own <= o.MaxItemBytes && total+own <= o.MaxItemTotalBytes
}

// checkHistory checks the history length of one version.
func (o ReaderOptions) checkHistory(v *Item, what string) error {
	if v == nil || v.Sync == nil {
		return nil
	}
	if n := len(v.Sync.History); n > o.MaxHistory {
		return limitErr(v, fmt.Errorf("%w: %s would hold %d sx:history entries, more than the limit of %d (FS-ROBUST-6); thin the history by keeping one entry per endpoint (feedsync compact, FS-PURGE-1)", ErrLimit, what, n, o.MaxHistory))
	}
	return nil
}

// readBack renders it as a store keeps it (MarshalItem declares every
// namespace on the item, the largest of its serialisations) and reads it
// back with o.
func (o ReaderOptions) readBack(it *Item) error {
	b, err := MarshalItem(it)
	if err != nil {
		return err
	}
	_, err = unmarshalItem(b, o)
	var se *SyntaxError
	switch {
	case err == nil:
		return nil
	case errors.As(err, &se) && errors.Is(err, ErrLimit):
		hint := "resolve the item's conflicts (feedsync resolve), or edit it down"
		if len(it.Sync.Conflicts) == 0 {
			hint = "make the content smaller"
		}
		return limitErr(it, fmt.Errorf("%w: the result (%d bytes with its conflict copies) would not be readable: %s (FS-ROBUST-6); %s", ErrLimit, len(b), se.Msg, hint))
	default:
		return limitErr(it, fmt.Errorf("the result cannot be read back: %w", err))
	}
}

func limitErr(it *Item, err error) error {
	return &ItemError{ID: it.ID(), Err: err}
}

// versionBound bounds one version without its conflict copies: the bytes
// it was read from (its old sx:sync left out), the declarations its place
// in the feed supplied, and a generous size of its sx:sync.
func versionBound(v *Item) (int64, bool) {
	if v == nil {
		return 0, true
	}
	var n int64
	switch src := v.src; {
	case src != nil && src.raw != nil && !src.dirty:
		n = int64(len(src.raw))
		if src.syncStart >= 0 {
			n -= int64(src.syncEnd - src.syncStart)
		}
		for sc := src.scope; sc != nil; sc = sc.parent {
			for _, d := range sc.decls {
				n += int64(len(d.prefix)+len(d.uri)) + 16
			}
		}
	case v.elem != nil:
		n = elementBound(v.elem)
	default:
		return 0, false
	}
	if s := v.Sync; s != nil {
		if len(s.ExtraElements) > 0 {
			return 0, false
		}
		// Attribute values are escaped, at worst six bytes for one.
		n += 256 + 6*int64(len(s.ID)) + attrsBound(s.ExtraAttrs)
		for _, h := range s.History {
			n += 128 + 6*int64(len(h.By)) + attrsBound(h.Extra)
		}
	}
	return n, true
}

// elementBound bounds the serialised size of e, escaping included.
func elementBound(e *etree.Element) int64 {
	n := 2*int64(len(e.FullTag())) + 8 + attrsBound(e.Attr)
	for _, t := range e.Child {
		switch t := t.(type) {
		case *etree.Element:
			n += elementBound(t)
		case *etree.CharData:
			n += 6*int64(len(t.Data)) + 16
		default:
			var b bytes.Buffer
			t.WriteTo(&b, &etree.WriteSettings{})
			n += int64(b.Len())
		}
	}
	return n
}

func attrsBound(as []etree.Attr) int64 {
	var n int64
	for _, a := range as {
		n += int64(len(a.FullKey())) + 6*int64(len(a.Value)) + 4
	}
	return n
}

// unmarshalItem is UnmarshalItem with reader options.
func unmarshalItem(b []byte, opts ReaderOptions) (*Item, error) {
	f := sniffItemFormat(b)
	if f == FormatUnknown {
		return nil, errors.New("feedsync: not an RSS <item> or Atom <entry> element")
	}
	var doc io.Reader
	if f == Atom {
		doc = io.MultiReader(bytes.NewReader(atomWrapOpen), bytes.NewReader(b), bytes.NewReader(atomWrapClose))
	} else {
		doc = io.MultiReader(bytes.NewReader(rssWrapOpen), bytes.NewReader(b), bytes.NewReader(rssWrapClose))
	}
	r := NewReaderOptions(doc, opts)
	it, err := r.Next()
	if err == io.EOF {
		return nil, errors.New("feedsync: no item in element")
	}
	if err != nil {
		return nil, err
	}
	if _, err := r.Next(); err != io.EOF {
		if err == nil {
			return nil, errors.New("feedsync: more than one item in element")
		}
		return nil, err
	}
	return it, nil
}
