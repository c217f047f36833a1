package itemrow

import (
	"fmt"
	"time"

	"github.com/feedsync/go-feedsync/feedsync"
	"github.com/feedsync/go-feedsync/store"
)

// Row is one item as the database stores keep it. The columns beside XML
// are derived from the item, kept so that queries (and people looking at the
// database) need not parse XML.
type Row struct {
	ID      string
	Updates int64
	Deleted bool
	// TopBy, TopSeq and TopWhen are the topmost history entry; TopBy is ""
	// for an anonymous entry and TopWhen the zero Time when absent.
	TopBy   string
	TopSeq  int64
	TopWhen time.Time
	// Digest is the payload digest (feedsync.Item.Digest).
	Digest []byte
	// Conflicts counts the conflict copies.
	Conflicts int
	// XML is the standalone form written by feedsync.MarshalItem.
	XML []byte
}

// FromItem returns the row of it, after store.CheckItem.
func FromItem(it *feedsync.Item) (Row, error) {
	if err := store.CheckItem(it); err != nil {
		return Row{}, err
	}
	s := it.Sync
	b, err := feedsync.MarshalItem(it)
	if err != nil {
		return Row{}, fmt.Errorf("marshal item %q: %w", s.ID, err)
	}
	d, err := it.Digest()
	if err != nil {
		return Row{}, fmt.Errorf("digest of item %q: %w", s.ID, err)
	}
	v := store.VersionOf(it)
	return Row{
		ID:        s.ID,
		Updates:   s.Updates,
		Deleted:   s.Deleted,
		TopBy:     v.Top.By,
		TopSeq:    v.Top.Sequence,
		TopWhen:   v.Top.When,
		Digest:    d[:],
		Conflicts: len(s.Conflicts),
		XML:       b,
	}, nil
}

// Decode reads back the item stored under id.
func Decode(id string, xml []byte) (*feedsync.Item, error) {
	it, err := feedsync.UnmarshalItem(xml)
	if err != nil {
		return nil, fmt.Errorf("decode item %q: %w", id, err)
	}
	return it, nil
}

// Batch bounds one batch of an iterator: a database iterator reads up to
// BatchRows rows per query, and stops early once it holds BatchBytes of
// XML, so that a batch of large items stays small in memory.
const (
	BatchRows  = 256
	BatchBytes = 8 << 20
)
