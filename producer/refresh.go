package producer

import (
	"errors"
	"fmt"
	"hash/fnv"
	"io"
	"iter"

	"github.com/beevik/etree"

	"github.com/feedsync/go-feedsync/feedsync"
)

// Errors returned by Refresh.
var (
	// ErrPrevChanged is returned by Refresh when the previous feed read
	// differently the second time (another process rewrote it meanwhile).
	// What was written must be discarded.
	ErrPrevChanged = errors.New("producer: the previous feed changed while it was read")
	// ErrRecordID is returned by Refresh for a record whose id is not a
	// valid sync id (FS-TYPE-5).
	ErrRecordID = errors.New("producer: invalid record id")
)

// Record is one item of the data a feed is made from.
type Record struct {
	// ID is the item's sync id (FS-SYNC-2). It must be a valid URN NSS
	// (FS-TYPE-5); converter.Map.SyncID makes one from any key.
	ID string
	// Payload is the item's content: an RSS <item> or Atom <entry> element
	// that declares the namespaces it uses (as converter.Map's payloads do).
	// It is compared by digest (feedsync.Item.Digest) with what the previous
	// feed holds, so a payload built the same way from the same data is
	// "unchanged". An <entry> without a default namespace declaration is
	// taken to be Atom; a payload in the other format than the feed is
	// converted (feedsync.ConvertItem). Refresh does not modify it.
	Payload *etree.Element
	// Line is where the record came from (a line of the input), for error
	// messages; 0 when unknown.
	Line int
}

// RefreshOptions are the settings of Refresh. Stamp is required; the zero
// value of every other field is its default.
type RefreshOptions struct {
	// Stamp is who makes the changes and when: the by and when of every
	// history entry Refresh writes (FS-CREATE-2, FS-UPDATE-2). It must be
	// valid (feedsync.Stamp.Valid), and its By should be this endpoint's
	// own identifier (FS-BY-1).
	Stamp feedsync.Stamp
	// Header is the header of a new feed, used when there is no previous
	// feed. Default: feedsync.NewHeader(Format, feedsync.FeedInfo{}).
	Header *feedsync.Header
	// Format is the format written. Default: the previous feed's format,
	// or the Header's, or RSS. Items are compared in the previous feed's
	// format and converted on the way out (FS-FEED-10), so a refresh that
	// changes the format copies no item byte for byte.
	Format feedsync.Format
	// NoConflicts creates new items with noconflicts="true" (FS-CREATE-3).
	// Default: false.
	NoConflicts bool
	// Reader bounds what is accepted from the previous feed. Default: the
	// feedsync defaults.
	Reader feedsync.ReaderOptions
}

// RefreshSummary counts what Refresh did to the items of the feed.
type RefreshSummary struct {
	// Created counts records with an id the previous feed did not have
	// (FS-CREATE).
	Created int
	// Updated counts records whose payload changed, and tombstones whose id
	// came back in the data, which the update undeletes (FS-UPDATE-5).
	Updated int
	// Deleted counts live items whose id is no longer in the data; they
	// stay in the feed as tombstones (FS-DELETE-1, FS-DELETE-4).
	Deleted int
	// Unchanged counts items copied as they were: records whose payload
	// did not change, and tombstones that stay tombstones.
	Unchanged int
}

// String returns "N created, N updated, N deleted, N unchanged".
func (s RefreshSummary) String() string {
	return fmt.Sprintf("%d created, %d updated, %d deleted, %d unchanged", s.Created, s.Updated, s.Deleted, s.Unchanged)
}

// Refresh writes to w a new version of the feed prev in which the items are
// the records of next: the operations of FS-CREATE, FS-UPDATE and FS-DELETE,
// each stamped opts.Stamp, turn the previous feed into the data.
//
//   - A record whose id is not in prev is created (updates="1").
//   - A record whose payload digest differs from the item's is an update
//     (existing conflict copies stay; FS-UPDATE-4 folds any the update
//     subsumes). A tombstone whose id comes back is updated too, which
//     undeletes it, even with the same payload: FS-UPDATE-5 with its [R]
//     reading that an update restoring a tombstone sets deleted="false".
//   - A live item whose id is not in next is deleted: it becomes a
//     tombstone and stays in the feed (FS-DELETE-1; FS-DELETE-4 [R]: keep
//     publishing tombstones, so Refresh never drops one). Absence from the
//     data is the producer's own deletion of its own data; deletion is
//     never inferred from absence in another endpoint's feed (FS-FEED-3).
//   - Everything else (unchanged items, tombstones, items without sx:sync,
//     feed-level content) is copied byte for byte.
//
// Items keep their order; created items follow in the order of next. prev
// may be nil: then every record is created, in a feed with opts.Header.
//
// prev is read twice: once to index it, once to copy it. Memory holds an
// index of prev (id, payload digest and a flag per item), the set of ids of
// next, and the payloads of changed and new records until they are written;
// unchanged records are dropped as soon as they are compared. With no prev,
// records are written as they come. If prev reads differently the second
// time, Refresh fails with ErrPrevChanged.
//
// next yields the records; a non-nil error stops the refresh and is
// returned. Records with an invalid id (ErrRecordID) or an id given twice
// (feedsync.ErrDuplicateID) fail it too, as does a previous feed with
// invalid sync metadata or duplicate ids (FS-ROBUST-1, FS-ROBUST-3). On any
// error, what was written to w is incomplete and must be discarded.
func Refresh(prev io.ReadSeeker, next iter.Seq2[Record, error], w io.Writer, opts RefreshOptions) (RefreshSummary, error) {
	var sum RefreshSummary
	if err := opts.Stamp.Valid(); err != nil {
		return sum, fmt.Errorf("refresh: %w", err)
	}
	if prev == nil {
		return sum, refreshNew(next, w, opts, &sum)
	}

	// Pass 1: index the previous feed.
	start, err := prev.Seek(0, io.SeekCurrent)
	if err != nil {
		return sum, fmt.Errorf("refresh: previous feed: %w", err)
	}
	r := feedsync.NewReaderOptions(prev, opts.Reader)
	h, err := r.Header()
	if err != nil {
		return sum, fmt.Errorf("refresh: previous feed: %w", err)
	}
	format := h.Format
	index := map[string]*prevEntry{}
	var ids feedsync.IDSet
	fp := fnv.New64a()
	for {
		it, err := r.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			return sum, fmt.Errorf("refresh: previous feed: %w", err)
		}
		if it.Sync == nil {
			continue
		}
		if err := it.Err(); err != nil {
			return sum, fmt.Errorf("refresh: previous feed: %w", err)
		}
		if err := ids.Add(it); err != nil {
			return sum, fmt.Errorf("refresh: previous feed: %w", err)
		}
		d, err := it.Digest()
		if err != nil {
			return sum, fmt.Errorf("refresh: previous feed: %w", err)
		}
		id := feedsync.NormalizeID(it.ID())
		fingerprint(fp, id, d)
		index[id] = &prevEntry{digest: d, deleted: it.Sync.Deleted}
	}
	sum1 := fp.Sum64()

	// The records: compare, and keep what must be written.
	seen := map[string]int{}
	var created []Record
	for rec, err := range next {
		if err != nil {
			return sum, fmt.Errorf("refresh: %w", err)
		}
		id, it, err := prepare(rec, format, seen)
		if err != nil {
			return sum, err
		}
		e := index[id]
		if e == nil {
			rec.ID = id
			rec.Payload, err = it.Payload()
			if err != nil {
				return sum, fmt.Errorf("refresh: %w", recordErr(rec, err))
			}
			created = append(created, rec)
			continue
		}
		e.present = true
		d, err := it.Digest()
		if err != nil {
			return sum, fmt.Errorf("refresh: %w", recordErr(rec, err))
		}
		if d != e.digest || e.deleted {
			if e.payload, err = it.Payload(); err != nil {
				return sum, fmt.Errorf("refresh: %w", recordErr(rec, err))
			}
		}
	}

	// Pass 2: copy the previous feed with the changes, then the new items.
	if _, err := prev.Seek(start, io.SeekStart); err != nil {
		return sum, fmt.Errorf("refresh: previous feed: %w", err)
	}
	r = feedsync.NewReaderOptions(prev, opts.Reader)
	h, err = r.Header()
	if err != nil {
		return sum, fmt.Errorf("refresh: previous feed: %w", err)
	}
	if opts.Format != feedsync.FormatUnknown {
		h = h.Convert(opts.Format)
	}
	out := feedsync.NewWriter(w, h)
	fp.Reset()
	for {
		it, err := r.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			return sum, fmt.Errorf("refresh: previous feed: %w", err)
		}
		if it.Sync != nil {
			id := feedsync.NormalizeID(it.ID())
			d, err := it.Digest()
			if err != nil {
				return sum, fmt.Errorf("refresh: previous feed: %w", err)
			}
			fingerprint(fp, id, d)
			e := index[id]
			if e == nil {
				return sum, fmt.Errorf("refresh: %w", ErrPrevChanged)
			}
			switch {
			case e.payload != nil:
				it, err = feedsync.Update(it, e.payload, opts.Stamp)
				sum.Updated++
			case e.present, e.deleted:
				sum.Unchanged++
			default:
				it, err = feedsync.Delete(it, opts.Stamp)
				sum.Deleted++
			}
			if err != nil {
				return sum, fmt.Errorf("refresh: %w", err)
			}
		}
		if err := out.WriteItem(it); err != nil {
			return sum, fmt.Errorf("refresh: write: %w", err)
		}
	}
	if fp.Sum64() != sum1 {
		return sum, fmt.Errorf("refresh: %w", ErrPrevChanged)
	}
	for _, rec := range created {
		if err := create(out, rec, format, opts); err != nil {
			return sum, err
		}
		sum.Created++
	}
	if err := out.Close(); err != nil {
		return sum, fmt.Errorf("refresh: write: %w", err)
	}
	return sum, nil
}

// prevEntry is what Refresh remembers of an item of the previous feed.
type prevEntry struct {
	digest  feedsync.Digest
	deleted bool
	present bool           // the id is in the data
	payload *etree.Element // the new payload, when the item must be updated
}

// fingerprint adds an item to the running hash that detects a previous
// feed that changed between the two passes.
func fingerprint(h io.Writer, id string, d feedsync.Digest) {
	io.WriteString(h, id)
	h.Write([]byte{0})
	h.Write(d[:])
}

// refreshNew writes a new feed holding every record, created as they come.
func refreshNew(next iter.Seq2[Record, error], w io.Writer, opts RefreshOptions, sum *RefreshSummary) error {
	h := opts.Header
	if h == nil {
		h = feedsync.NewHeader(opts.Format, feedsync.FeedInfo{})
	}
	format := h.Format
	if opts.Format != feedsync.FormatUnknown {
		h = h.Convert(opts.Format)
	}
	out := feedsync.NewWriter(w, h)
	seen := map[string]int{}
	for rec, err := range next {
		if err != nil {
			return fmt.Errorf("refresh: %w", err)
		}
		id, it, err := prepare(rec, format, seen)
		if err != nil {
			return err
		}
		rec.ID = id
		if rec.Payload, err = it.Payload(); err != nil {
			return fmt.Errorf("refresh: %w", recordErr(rec, err))
		}
		if err := create(out, rec, format, opts); err != nil {
			return err
		}
		sum.Created++
	}
	if err := out.Close(); err != nil {
		return fmt.Errorf("refresh: write: %w", err)
	}
	return nil
}

// prepare checks a record's id, records it (and its line) in seen, and
// returns the normalised id and an item carrying the payload in the given
// format (for its digest and a payload to write).
func prepare(rec Record, format feedsync.Format, seen map[string]int) (string, *feedsync.Item, error) {
	if !feedsync.ValidID(rec.ID) {
		return "", nil, fmt.Errorf("refresh: %w", recordErr(rec, fmt.Errorf("%w: %q is not a URN NSS (FS-TYPE-5)", ErrRecordID, rec.ID)))
	}
	id := feedsync.NormalizeID(rec.ID)
	if first, ok := seen[id]; ok {
		where := "an earlier record"
		if first > 0 {
			where = fmt.Sprintf("the record at line %d", first)
		}
		return "", nil, fmt.Errorf("refresh: %w", recordErr(rec, fmt.Errorf("%w: also used by %s (FS-SYNC-2)", feedsync.ErrDuplicateID, where)))
	}
	seen[id] = rec.Line
	if rec.Payload == nil {
		return "", nil, fmt.Errorf("refresh: %w", recordErr(rec, errors.New("no payload")))
	}
	p := rec.Payload
	pf := feedsync.RSS
	if p.Tag == "entry" {
		pf = feedsync.Atom
	}
	if pf != format {
		c, err := feedsync.ConvertItem(feedsync.NewItem(pf, p), format)
		if err == nil {
			p, err = c.Payload()
		}
		if err != nil {
			return "", nil, fmt.Errorf("refresh: %w", recordErr(rec, err))
		}
	}
	if format == feedsync.Atom && p.Space == "" && p.SelectAttr("xmlns") == nil {
		// The payload is compared outside any feed: without this its
		// children would be in no namespace, and never equal to the
		// entries of an Atom feed.
		p = p.Copy()
		p.CreateAttr("xmlns", feedsync.AtomNamespace)
	}
	return id, feedsync.NewItem(format, p), nil
}

// create writes a new item for rec (FS-CREATE).
func create(out *feedsync.Writer, rec Record, format feedsync.Format, opts RefreshOptions) error {
	it, err := feedsync.Create(format, rec.Payload, rec.ID, opts.Stamp, opts.NoConflicts)
	if err != nil {
		return fmt.Errorf("refresh: %w", recordErr(rec, err))
	}
	if err := out.WriteItem(it); err != nil {
		return fmt.Errorf("refresh: write: %w", err)
	}
	return nil
}

// recordErr says which record err is about.
func recordErr(rec Record, err error) error {
	if ie, ok := err.(*feedsync.ItemError); ok {
		c := *ie
		if c.ID == "" {
			c.ID = rec.ID
		}
		if c.Line == 0 {
			c.Line = rec.Line
		}
		return &c
	}
	var ie *feedsync.ItemError
	if errors.As(err, &ie) {
		return err
	}
	return &feedsync.ItemError{ID: rec.ID, Line: rec.Line, Err: err}
}
