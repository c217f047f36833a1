package producer_test

import (
	"bytes"
	"fmt"
	"io"
	"iter"
	"os"
	"time"

	"github.com/feedsync/go-feedsync/converter"
	"github.com/feedsync/go-feedsync/feedsync"
	"github.com/feedsync/go-feedsync/producer"
)

// A producer publishes a task list. The first Refresh creates every item;
// the second, after one task changed and one was done (removed), writes an
// update and a tombstone and leaves the third item as it was.
func ExampleRefresh() {
	m := converter.Map{}
	tasks := func(titles map[string]string, order ...string) iter.Seq2[producer.Record, error] {
		return func(yield func(producer.Record, error) bool) {
			for _, id := range order {
				p, err := m.ToPayload(id, map[string]any{"title": titles[id]})
				if !yield(producer.Record{ID: id, Payload: p}, err) {
					return
				}
			}
		}
	}
	when := time.Date(2009, 4, 1, 9, 0, 0, 0, time.UTC)
	header := feedsync.NewHeader(feedsync.RSS, feedsync.FeedInfo{Title: "Tasks"})

	var v1 bytes.Buffer
	sum, err := producer.Refresh(nil, tasks(map[string]string{"stamps": "Buy stamps", "fence": "Fix the fence", "shed": "Paint the shed"}, "stamps", "fence", "shed"),
		&v1, producer.RefreshOptions{Stamp: feedsync.Stamp{By: "laptop", When: when}, Header: header})
	if err != nil {
		panic(err)
	}
	fmt.Println(sum)

	var v2 bytes.Buffer
	sum, err = producer.Refresh(bytes.NewReader(v1.Bytes()), tasks(map[string]string{"stamps": "Buy 10 stamps", "shed": "Paint the shed"}, "stamps", "shed"),
		&v2, producer.RefreshOptions{Stamp: feedsync.Stamp{By: "laptop", When: when.Add(time.Hour)}})
	if err != nil {
		panic(err)
	}
	fmt.Println(sum)
	io.Copy(os.Stdout, &v2)
	// Output:
	// 3 created, 0 updated, 0 deleted, 0 unchanged
	// 0 created, 1 updated, 1 deleted, 1 unchanged
	// <?xml version="1.0" encoding="UTF-8"?>
	// <rss version="2.0" xmlns:sx="http://feedsync.org/2007/feedsync">
	// <channel>
	// <title>Tasks</title>
	// <link>urn:feedsync</link>
	// <description></description>
	// <item><title>Buy 10 stamps</title><sx:sync id="stamps" updates="2"><sx:history sequence="2" when="2009-04-01T10:00:00Z" by="laptop"/><sx:history sequence="1" when="2009-04-01T09:00:00Z" by="laptop"/></sx:sync></item>
	// <item><title>Fix the fence</title><sx:sync id="fence" updates="2" deleted="true"><sx:history sequence="2" when="2009-04-01T10:00:00Z" by="laptop"/><sx:history sequence="1" when="2009-04-01T09:00:00Z" by="laptop"/></sx:sync></item>
	// <item><title>Paint the shed</title><sx:sync id="shed" updates="1"><sx:history sequence="1" when="2009-04-01T09:00:00Z" by="laptop"/></sx:sync></item></channel>
	// </rss>
}
