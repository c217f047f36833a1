package feedsync

import (
	"bytes"
	"encoding"
	"testing"
	"time"
)

// An item restored from its binary form writes the same bytes as the
// original, changed or not, and keeps metadata, digest and conflicts.
func TestBinaryRoundTrip(t *testing.T) {
	for _, name := range []string{"rss-tasks.xml", "atom-fence.xml", "rss-unpublished-sse.xml"} {
		t.Run(name, func(t *testing.T) {
			h, items := mustReadAll(t, readFixture(t, name))
			var dec ItemDecoder
			var enc ItemEncoder
			var restored []*Item
			for i, it := range items {
				b, err := encodeOnce(it)
				if err != nil {
					t.Fatal(err)
				}
				// The encoder that has seen the document's scopes before
				// gives the same bytes as a fresh one.
				eb, err := enc.Encode(it)
				if err != nil {
					t.Fatal(err)
				}
				if !bytes.Equal(eb, b) {
					t.Errorf("item %d: a reused ItemEncoder and a fresh one differ", i)
				}
				got, err := dec.Decode(b)
				if err != nil {
					t.Fatal(err)
				}
				if !got.Sync.SameVersion(it.Sync) {
					t.Errorf("sync %+v, want %+v", got.Sync, it.Sync)
				}
				if d1, d2 := mustDigest(t, got), mustDigest(t, it); d1 != d2 {
					t.Error("digest changed")
				}
				restored = append(restored, got)
			}
			if a, b := writeAll(t, h, items), writeAll(t, h, restored); !bytes.Equal(a, b) {
				t.Errorf("restored items write differently:\n%s\n---\n%s", a, b)
			}
			// A changed item stays changed after a round trip.
			for i, it := range items {
				if it.Sync == nil {
					continue
				}
				u, err := Update(it, nil, Stamp{By: "binary", When: time.Date(2010, 1, 1, 0, 0, 0, 0, time.UTC)})
				if err != nil {
					t.Fatal(err)
				}
				b, _ := encodeOnce(u)
				got, err := new(ItemDecoder).Decode(b)
				if err != nil {
					t.Fatal(err)
				}
				items[i], restored[i] = u, got
			}
			if a, b := writeAll(t, h, items), writeAll(t, h, restored); !bytes.Equal(a, b) {
				t.Errorf("restored updated items write differently:\n%s\n---\n%s", a, b)
			}
		})
	}
	// A constructed item (no source bytes) survives too.
	it, err := Create(Atom, nil, "made-1", Stamp{By: "me", When: time.Unix(1e9, 0)}, false)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := encodeOnce(it)
	got, err := new(ItemDecoder).Decode(b)
	if err != nil {
		t.Fatal(err)
	}
	if !got.Sync.SameVersion(it.Sync) {
		t.Errorf("constructed: %+v", got.Sync)
	}
	if _, err := new(ItemDecoder).Decode(b[:len(b)/2]); err == nil {
		t.Error("truncated input decoded without error")
	}
	other := bytes.Clone(b)
	other[0]++
	if _, err := new(ItemDecoder).Decode(other); err == nil {
		t.Error("another version's form decoded without error")
	}
	// Item is not an encoding.BinaryMarshaler: encoding/gob and the like
	// cannot persist the form by accident.
	if _, ok := any(it).(encoding.BinaryMarshaler); ok {
		t.Error("*Item implements encoding.BinaryMarshaler")
	}
}

// encodeOnce encodes it with a fresh ItemEncoder, into a slice of its own.
func encodeOnce(it *Item) ([]byte, error) {
	b, err := new(ItemEncoder).Encode(it)
	return bytes.Clone(b), err
}

func mustDigest(t *testing.T, it *Item) Digest {
	t.Helper()
	d, err := it.Digest()
	if err != nil {
		t.Fatal(err)
	}
	return d
}
