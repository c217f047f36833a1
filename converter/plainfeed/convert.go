package plainfeed

import (
	"fmt"
	"io"

	"github.com/feedsync/go-feedsync/feedsync"
)

// Convert reads a feed from r (see Read) and writes it to w as a FeedSync
// feed in opts.Format: every item that has no sx:sync yet is created
// (FS-CREATE-1..4) with s, that is, with updates="1" and one history entry
// by s.By at s.When; items that already carry sx:sync are written as they
// were read. It returns the feed read, whose Warnings say what was left out.
//
// To refresh an earlier output instead (changed items become updates, new
// ones creates, vanished ones deletions), read with Read and hand the
// entries to producer.Refresh, as `feedsync convert --from` does.
func Convert(w io.Writer, r io.Reader, s feedsync.Stamp, opts Options) (*Feed, error) {
	if err := s.Valid(); err != nil {
		return nil, fmt.Errorf("plainfeed: convert: %w", err)
	}
	f, err := Read(r, opts)
	if err != nil {
		return nil, err
	}
	if err := f.Write(w, s); err != nil {
		return nil, err
	}
	return f, nil
}

// Write writes the feed to w as a FeedSync feed in f.Format: the items of
// Items(s) under Header(). A feed without a date of its own is dated
// s.When.
func (f *Feed) Write(w io.Writer, s feedsync.Stamp) error {
	if err := s.Valid(); err != nil && f.Created() > 0 {
		return fmt.Errorf("plainfeed: write: %w", err)
	}
	items, err := f.Items(s)
	if err != nil {
		return err
	}
	if f.Info.Updated.IsZero() {
		f.Info.Updated = s.When
	}
	fw := feedsync.NewWriter(w, f.Header())
	for _, it := range items {
		if err := fw.WriteItem(it); err != nil {
			return fmt.Errorf("plainfeed: write item %q: %w", it.ID(), err)
		}
	}
	if err := fw.Close(); err != nil {
		return fmt.Errorf("plainfeed: write: %w", err)
	}
	return nil
}

// Created counts the entries Items creates: those without sx:sync.
func (f *Feed) Created() int {
	n := 0
	for _, e := range f.Entries {
		if e.Item == nil {
			n++
		}
	}
	return n
}

// Items returns the feed's entries as FeedSync items: an entry read with
// its sx:sync is returned as it was read, every other one is created with
// its id, its payload (in its Format) and the stamp s (FS-CREATE-1..4;
// never noconflicts, FS-CREATE-3). A feedsync.Writer for f.Header() writes
// every item in f.Format.
func (f *Feed) Items(s feedsync.Stamp) ([]*feedsync.Item, error) {
	items := make([]*feedsync.Item, 0, len(f.Entries))
	for _, e := range f.Entries {
		if e.Item != nil {
			items = append(items, e.Item)
			continue
		}
		it, err := feedsync.Create(e.Format, e.Payload, e.ID, s, false)
		if err != nil {
			return nil, fmt.Errorf("plainfeed: create item %q: %w", e.ID, err)
		}
		items = append(items, it)
	}
	return items, nil
}

// Header returns the header for writing the feed in f.Format. A feed read
// with the core reader keeps its own header when the format stays the same
// (byte for byte, sx:sharing included); otherwise a new header carries
// f.Info, and the sx:sharing of a FeedSync input. A zero f.Info.Updated
// means the current time.
func (f *Feed) Header() *feedsync.Header {
	if f.header != nil && f.header.Format == f.Format {
		return f.header
	}
	h := feedsync.NewHeader(f.Format, f.Info)
	if f.header != nil && f.header.Sharing != nil {
		h.Sharing = f.header.Sharing
	}
	return h
}
