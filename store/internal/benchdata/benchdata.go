package benchdata

import (
	"bytes"
	"context"
	"fmt"
	"sync"
	"time"

	"github.com/beevik/etree"
	"github.com/feedsync/go-feedsync/feedsync"
	"github.com/feedsync/go-feedsync/store"
	"github.com/feedsync/go-feedsync/store/internal/itemrow"
)

// N is the number of items Items can return.
const N = 100_000

var (
	once  sync.Once
	items []*feedsync.Item
)

// entry returns a realistic Atom entry payload.
func entry(i int) *etree.Element {
	e := etree.NewElement("entry")
	e.CreateAttr("xmlns", feedsync.AtomNamespace)
	e.CreateElement("title").SetText(fmt.Sprintf("Task %d: buy stamps and postcards", i))
	e.CreateElement("id").SetText(fmt.Sprintf("urn:uuid:00000000-0000-4000-8000-%012d", i))
	e.CreateElement("updated").SetText("2009-04-02T11:05:00Z")
	e.CreateElement("content").SetText("10 first-class stamps, 5 postcards, and a roll of tape for the parcel to the tablet's owner.")
	return e
}

// ID returns the sync id of the i-th item.
func ID(i int) string { return fmt.Sprintf("bench-%07d", i) }

// Items returns n (at most N) distinct items with a history of two
// updates, as a consumer gets them: read from a feed, so they keep their
// source bytes. They are made once per process.
func Items(n int) []*feedsync.Item {
	once.Do(func() {
		when := time.Date(2009, 4, 2, 8, 0, 0, 0, time.UTC)
		made := make([]*feedsync.Item, N)
		for i := range made {
			it, err := feedsync.Create(feedsync.Atom, entry(i), ID(i), feedsync.Stamp{By: "laptop", When: when}, false)
			if err == nil {
				it, err = feedsync.Update(it, nil, feedsync.Stamp{By: "phone", When: when.Add(time.Hour)})
			}
			if err != nil {
				panic(err)
			}
			made[i] = it
		}
		var feed bytes.Buffer
		if err := feedsync.WriteAll(&feed, feedsync.NewHeader(feedsync.Atom, feedsync.FeedInfo{Title: "bench"}), made); err != nil {
			panic(err)
		}
		_, read, err := feedsync.ReadAll(&feed)
		if err != nil {
			panic(err)
		}
		items = read
	})
	return items[:n]
}

// Rows returns the rows of items, computed before a bulk insert is timed.
func Rows(items []*feedsync.Item) ([]itemrow.Row, error) {
	rows := make([]itemrow.Row, len(items))
	for i, it := range items {
		r, err := itemrow.FromItem(it)
		if err != nil {
			return nil, err
		}
		rows[i] = r
	}
	return rows, nil
}

// Clones calls fn with rows start..end-1 of a large store: copies of the
// first item's row with the id rewritten (in the column and in the XML), so
// that a million items take seconds to make rather than the minutes Create
// and MarshalItem would. Their seqs are start+1 … end.
func Clones(start, end int, fn func(seq int64, r itemrow.Row) error) error {
	tmpl := Items(1)[0]
	r, err := itemrow.FromItem(tmpl)
	if err != nil {
		return err
	}
	for i := start; i < end; i++ {
		ri := r
		ri.ID = ID(i)
		ri.XML = bytes.Replace(r.XML, []byte(tmpl.ID()), []byte(ri.ID), 1)
		ri.Data = itemrow.Encode(ri.XML)
		if err := fn(int64(i)+1, ri); err != nil {
			return err
		}
	}
	return nil
}

// Merge does in tx what a consumer does for each incoming item of a feed
// from peer: look at the local item's stat and skip the item if it is the
// Same version (no decoding); otherwise get the local version, merge the
// incoming one into it (feedsync.MergeItem) and put the result if it
// changed. Either way it records that the peer holds the incoming version.
// It reports how many items it put.
func Merge(ctx context.Context, tx store.Tx, peer string, items []*feedsync.Item) (puts int, err error) {
	for _, in := range items {
		inStat, err := store.StatOf(in)
		if err != nil {
			return puts, err
		}
		local, ok, err := tx.Stat(ctx, in.ID())
		if err != nil {
			return puts, err
		}
		if !ok || !local.Same(inStat) {
			var localItem *feedsync.Item
			if ok {
				if localItem, err = tx.Get(ctx, in.ID()); err != nil {
					return puts, err
				}
			}
			merged, outcome := feedsync.MergeItem(localItem, in)
			if outcome != feedsync.Unchanged {
				if _, err := tx.Put(ctx, merged); err != nil {
					return puts, err
				}
				puts++
			}
		}
		if err := tx.SetPeerVersion(ctx, peer, in.ID(), inStat.Version); err != nil {
			return puts, err
		}
	}
	return puts, nil
}
