package consumer_test

import (
	"bytes"
	"context"
	"fmt"
	"testing"

	"github.com/feedsync/go-feedsync/consumer"
	"github.com/feedsync/go-feedsync/feedsync"
	"github.com/feedsync/go-feedsync/merge"
	"github.com/feedsync/go-feedsync/store"
)

// consumePage merges items into st in one transaction through a Tx that
// counts the Gets reaching the store, with fresh.
func consumePage(t *testing.T, st store.Store, fresh *consumer.Fresh, items ...*feedsync.Item) (merge.Summary, int) {
	t.Helper()
	var sum merge.Summary
	gets := 0
	withTx(t, st, true, func(tx store.Tx) {
		ct := &countingTx{Tx: tx}
		var err error
		sum, err = consumer.ConsumeTx(context.Background(), ct, feedsync.NewReader(bytes.NewReader(feedOf(t, items...))), consumer.Options{Fresh: fresh})
		if err != nil {
			t.Fatal(err)
		}
		gets = ct.gets
	})
	return sum, gets
}

// An initial load in pages (one transaction each) with a Fresh: the pages
// after the first ask the store only for the ids an earlier page put, and
// an item met again merges with what the earlier page stored. Once another
// writer changed the store between pages, every id is looked up again.
func TestFreshAcrossPages(t *testing.T) {
	st := newSQLite(t)
	fresh := &consumer.Fresh{}
	var page1, page2 []*feedsync.Item
	for i := range 50 {
		page1 = append(page1, create(fmt.Sprintf("a%d", i), "server", 1))
		page2 = append(page2, create(fmt.Sprintf("b%d", i), "server", 1))
	}
	if sum, gets := consumePage(t, st, fresh, page1...); sum.Added != 50 || gets != 0 {
		t.Fatalf("page 1: %+v, %d Gets; want 50 added, 0 Gets", sum, gets)
	}
	// a3 changed on the server during the load: it comes again.
	a3 := update(page1[3], "server", 2)
	sum, gets := consumePage(t, st, fresh, append(page2, a3)...)
	if sum.Added != 50 || sum.Updated != 1 || gets != 1 {
		t.Fatalf("page 2: %+v, %d Gets; want 50 added, 1 updated, 1 Get (a3)", sum, gets)
	}
	if got := get(t, st, "a3"); got.Sync.Updates != 2 {
		t.Errorf("a3 after page 2: %d updates, want 2", got.Sync.Updates)
	}
	// Another writer puts c1; the next page must find it and merge.
	local := create("c1", "laptop", 3)
	put(t, st, local)
	remote := create("c1", "server", 4)
	sum, gets = consumePage(t, st, fresh, remote, create("c2", "server", 4))
	if gets != 2 || sum.Conflicts != 1 || sum.Added != 1 {
		t.Fatalf("page after another writer: %+v, %d Gets; want a conflict on c1, c2 added, 2 Gets", sum, gets)
	}
	// And it stays so, although nothing else wrote since.
	if _, gets = consumePage(t, st, fresh, create("d1", "server", 5)); gets != 1 {
		t.Errorf("page after that: %d Gets, want 1", gets)
	}
}

// A Fresh given to a store that was not empty is of no use: every id is
// looked up.
func TestFreshNotEmpty(t *testing.T) {
	st := newMemory(t)
	put(t, st, create("x", "laptop", 1))
	fresh := &consumer.Fresh{}
	if sum, gets := consumePage(t, st, fresh, create("x", "server", 2), create("y", "server", 2)); gets != 2 || sum.Conflicts != 1 {
		t.Fatalf("%+v, %d Gets; want a conflict on x and 2 Gets", sum, gets)
	}
}
