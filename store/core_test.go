// The store keeps items as standalone XML (feedsync.MarshalItem) and
// compares payloads by digest; these tests pin the core behaviour that
// relies on.

package store_test

import (
	"bytes"
	"testing"
	"time"

	"github.com/beevik/etree"
	"github.com/feedsync/go-feedsync/feedsync"
)

// An Atom item made by Create from an <entry> in no namespace (as the
// feedsync examples build them) keeps its digest when written into an Atom
// feed, or through MarshalItem, and read back. (It once did not: the
// payload then landed in the Atom default namespace and the store saw a
// different payload.)
func TestCoreCreatedAtomDigestSurvivesRoundTrip(t *testing.T) {
	e := etree.NewElement("entry")
	e.CreateElement("title").SetText("Buy stamps")
	it, err := feedsync.Create(feedsync.Atom, e, "stamps-1", feedsync.Stamp{By: "laptop", When: time.Date(2009, 4, 1, 9, 0, 0, 0, time.UTC)}, false)
	if err != nil {
		t.Fatal(err)
	}
	want, err := it.Digest()
	if err != nil {
		t.Fatal(err)
	}

	b, err := feedsync.MarshalItem(it)
	if err != nil {
		t.Fatal(err)
	}
	back, err := feedsync.UnmarshalItem(b)
	if err != nil {
		t.Fatal(err)
	}
	if got, _ := back.Digest(); got != want {
		t.Errorf("digest after MarshalItem/UnmarshalItem = %x, want %x (standalone form %s)", got, want, b)
	}

	var buf bytes.Buffer
	if err := feedsync.WriteAll(&buf, feedsync.NewHeader(feedsync.Atom, feedsync.FeedInfo{Title: "t"}), []*feedsync.Item{it}); err != nil {
		t.Fatal(err)
	}
	_, items, err := feedsync.ReadAll(&buf)
	if err != nil {
		t.Fatal(err)
	}
	if got, _ := items[0].Digest(); got != want {
		t.Errorf("digest after writing an Atom feed and reading it = %x, want %x", got, want)
	}
}
