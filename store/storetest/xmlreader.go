package storetest

import (
	"testing"

	"github.com/feedsync/go-feedsync/feedsync"
	"github.com/feedsync/go-feedsync/store"
	"github.com/google/go-cmp/cmp"
)

// testChangesXML checks, for a store whose transactions implement
// store.XMLReader, that ChangesXML lists what Changes lists: the same
// sequence numbers, each item's ItemStat and its standalone XML, from any
// point, and inside a writable Tx with its own Puts when writable ones
// implement it too.
func testChangesXML(t *testing.T, s store.Store) {
	tx := begin(t, s, false)
	_, ok := tx.(store.XMLReader)
	tx.Rollback()
	if !ok {
		t.Skip("the store's transactions do not implement store.XMLReader")
	}
	items := append(corpus(), bigItem("big-1", 3<<20))
	seqs := putAll(t, s, items...)
	tx = begin(t, s, true)
	put(t, tx, must(feedsync.Delete(items[1], stamp("phone", "15:00"))))
	if _, ok := tx.(store.XMLReader); !ok {
		// Only the read-only transactions read XML: check them.
		commit(t, tx)
		tx = begin(t, s, false)
	}
	defer tx.Rollback()
	for _, after := range []int64{0, seqs[3]} {
		var want, got []seqView
		var wantStats, gotStats []store.ItemStat
		for c, err := range tx.Changes(t.Context(), after) {
			if err != nil {
				t.Fatal(err)
			}
			want = append(want, seqView{c.Seq, viewOf(t, c.Item)})
			st, err := store.StatOf(c.Item)
			if err != nil {
				t.Fatal(err)
			}
			st.Seq = c.Seq
			wantStats = append(wantStats, st)
		}
		for c, err := range tx.(store.XMLReader).ChangesXML(t.Context(), after) {
			if err != nil {
				t.Fatal(err)
			}
			it, err := feedsync.UnmarshalItem(c.XML)
			if err != nil {
				t.Fatalf("ChangesXML: item %q: %v", c.ID, err)
			}
			v := viewOf(t, it)
			if v.XML != string(c.XML) {
				t.Errorf("ChangesXML: item %q: XML is not what MarshalItem writes", c.ID)
			}
			got = append(got, seqView{c.Seq, v})
			gotStats = append(gotStats, c.ItemStat)
		}
		if d := cmp.Diff(want, got); d != "" || len(got) == 0 {
			t.Errorf("ChangesXML(%d) lists %d items (-Changes +ChangesXML):\n%s", after, len(got), d)
		}
		if d := cmp.Diff(wantStats, gotStats); d != "" {
			t.Errorf("ChangesXML(%d) stats (-StatOf +ChangesXML):\n%s", after, d)
		}
	}
}
