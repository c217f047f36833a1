package producer_test

import (
	"bytes"
	"context"
	"fmt"
	"testing"

	"github.com/feedsync/go-feedsync/producer"
	"github.com/feedsync/go-feedsync/store"
	"github.com/google/go-cmp/cmp"
)

// A paged feed for a peer leaves out what the peer holds (echo
// suppression) across more items than one batch of the producer reads
// the peer's versions for: the pages together hold every item the peer
// lacks once, in change order, whatever the page bounds, and count the
// items left out.
func TestPagesLeaveOutWhatPeerHolds(t *testing.T) {
	ctx := context.Background()
	const n = 700
	for name, open := range stores(t) {
		t.Run(name, func(t *testing.T) {
			st := open(t)
			var want []string
			suppressed := 0
			withTx(t, st, true, func(tx store.Tx) {
				for i := range n {
					id := fmt.Sprintf("item-%04d", i)
					it := create(t, id, "laptop", 1)
					if i%5 == 1 {
						it = update(t, it, "laptop", 2)
					}
					if _, err := tx.Put(ctx, it); err != nil {
						t.Fatal(err)
					}
					switch {
					case i%3 == 0: // the peer holds this version
						if err := tx.SetPeerVersion(ctx, "phone", id, store.VersionOf(it)); err != nil {
							t.Fatal(err)
						}
						suppressed++
						continue
					case i%5 == 1: // the peer holds an older version
						if err := tx.SetPeerVersion(ctx, "phone", id, store.VersionOf(create(t, id, "laptop", 1))); err != nil {
							t.Fatal(err)
						}
					}
					want = append(want, id)
				}
			})
			for _, bounds := range []producer.Options{
				{},
				{MaxItems: 100},
				{MaxItems: 7},
				{MaxItems: 256},
				{MaxItems: 300},
				{MaxBytes: 20_000},
			} {
				t.Run(fmt.Sprintf("items=%d,bytes=%d", bounds.MaxItems, bounds.MaxBytes), func(t *testing.T) {
					opts := bounds
					opts.Peer = "phone"
					since := producer.Token{Store: st.ID()}
					var got []string
					left := 0
					for pages := 0; ; pages++ {
						if pages > n {
							t.Fatal("no end of pages")
						}
						var buf bytes.Buffer
						var res producer.Result
						withTx(t, st, false, func(tx store.Tx) {
							var err error
							if res, err = producer.Page(ctx, tx, st.ID(), since, &buf, opts); err != nil {
								t.Fatal(err)
							}
						})
						f := read(t, buf.Bytes())
						if res.Items != len(f.IDs) {
							t.Errorf("page %d: Result.Items %d, feed holds %d", pages, res.Items, len(f.IDs))
						}
						got = append(got, f.IDs...)
						left += res.Suppressed
						since = res.Token
						if !res.More {
							break
						}
					}
					if diff := cmp.Diff(want, got); diff != "" {
						t.Errorf("items for phone (-want +got):\n%s", diff)
					}
					if left != suppressed {
						t.Errorf("%d items left out, want %d", left, suppressed)
					}
				})
			}
		})
	}
}
