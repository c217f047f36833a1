package producer_test

import (
	"context"
	"fmt"
	"io"
	"strings"

	"github.com/feedsync/go-feedsync/feedsync"
	"github.com/feedsync/go-feedsync/producer"
	"github.com/feedsync/go-feedsync/store"
)

// Two endpoints check whether they converged: the laptop's store against
// the feed the tablet published. The tablet updated "fence-1" and holds a
// "gravel-1" the laptop has not seen, which lacks the tablet's feed's
// "shed-1".
func ExampleDiffSources() {
	ctx := context.Background()
	item := func(id string, updates int, by string) string {
		return fmt.Sprintf(`<item><title>%s</title><sx:sync id="%s" updates="%d"><sx:history sequence="%d" when="2009-04-02T10:00:00Z" by="%s"/></sx:sync></item>`, id, id, updates, updates, by)
	}
	feed := func(items ...string) *feedsync.Reader {
		return feedsync.NewReader(strings.NewReader(`<rss version="2.0" xmlns:sx="http://feedsync.org/2007/feedsync"><channel>` +
			strings.Join(items, "") + `</channel></rss>`))
	}

	// The laptop's items, merged into its store from its own feed.
	laptop := store.NewMemory()
	tx, err := laptop.Begin(ctx, true)
	if err != nil {
		panic(err)
	}
	r := feed(item("fence-1", 1, "laptop"), item("shed-1", 1, "laptop"))
	for {
		it, err := r.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			panic(err)
		}
		if _, err := tx.Put(ctx, it); err != nil {
			panic(err)
		}
	}
	if err := tx.Commit(); err != nil {
		panic(err)
	}

	tablet := feed(item("gravel-1", 1, "tablet"), item("fence-1", 2, "tablet"))
	tot, err := producer.DiffSources(ctx, producer.StoreSource(laptop), producer.FeedSource(tablet), producer.DiffOptions{},
		func(d producer.Difference) error {
			fmt.Println(d)
			return nil
		})
	if err != nil {
		panic(err)
	}
	fmt.Printf("%d items differ between the laptop (%d items) and the tablet (%d items)\n", tot.Differences, tot.A, tot.B)
	// Output:
	// "fence-1": winner differ: updates 1, top 1@laptop in a, updates 2, top 2@tablet in b
	// "gravel-1": only in b (updates 1, top 1@tablet)
	// "shed-1": only in a (updates 1, top 1@laptop)
	// 3 items differ between the laptop (2 items) and the tablet (2 items)
}
