package itemrow

import (
	"errors"
	"fmt"

	"github.com/feedsync/go-feedsync/feedsync"
	"github.com/feedsync/go-feedsync/store"
)

// Row is one item as the database stores keep it: its ItemStat, kept in
// columns so that queries (and people looking at the database) need not
// parse XML, and its standalone XML (feedsync.MarshalItem) in the stored
// form (Encode).
type Row struct {
	store.ItemStat
	XML  []byte // the standalone element
	Data []byte // XML as stored: Encode(XML); write this, never XML
}

// FromItem returns the row of it, after store.CheckItem. Its Seq is 0.
func FromItem(it *feedsync.Item) (Row, error) {
	stat, err := store.StatOf(it)
	if err != nil {
		return Row{}, err
	}
	b, err := feedsync.MarshalItem(it)
	if err != nil {
		return Row{}, fmt.Errorf("marshal item %q: %w", stat.ID, err)
	}
	return Row{ItemStat: stat, XML: b, Data: Encode(b)}, nil
}

// Digest converts a digest column back.
func Digest(id string, b []byte) (feedsync.Digest, error) {
	var d feedsync.Digest
	if len(b) != len(d) {
		return d, fmt.Errorf("item %q: digest column holds %d bytes, want %d", id, len(b), len(d))
	}
	copy(d[:], b)
	return d, nil
}

// Decode reads back the item stored under id as data (either stored form,
// see Encode), with the default reader limits. An item stored beyond them
// is an error wrapping store.ErrOversized that says how to repair it.
func Decode(id string, data []byte) (*feedsync.Item, error) {
	return DecodeLimits(id, data, feedsync.ReaderOptions{})
}

// DecodeLimits is Decode with the reader limits opts (store.RepairReader).
func DecodeLimits(id string, data []byte, opts feedsync.ReaderOptions) (*feedsync.Item, error) {
	xml, err := XML(data)
	if err != nil {
		return nil, fmt.Errorf("decode item %q: %w", id, err)
	}
	it, err := opts.UnmarshalItem(xml)
	if errors.Is(err, feedsync.ErrLimit) {
		return nil, fmt.Errorf("decode: %w", store.Oversized(id, xml, err))
	}
	if err != nil {
		return nil, fmt.Errorf("decode item %q: %w", id, err)
	}
	return it, nil
}

// Batch bounds one batch of an iterator: a database iterator reads up to
// BatchRows rows per query, and stops early once it holds BatchBytes of
// stored items, so that a batch of large items stays small in memory.
const (
	BatchRows  = 256
	BatchBytes = 8 << 20
)
