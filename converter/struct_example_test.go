package converter_test

import (
	"bytes"
	"fmt"
	"os"
	"time"

	"github.com/feedsync/go-feedsync/converter"
	"github.com/feedsync/go-feedsync/feedsync"
)

// Task is how an application holds its data; struct tags say where each
// field goes in the item.
type Task struct {
	Title    string   `xml:"title"`
	Creator  string   `xml:"http://purl.org/dc/elements/1.1/ creator,omitempty"`
	Tags     []string `xml:"category"`
	Priority int      `xml:"http://example.org/tasks priority"`
}

// A struct published as an item of an RSS feed and read back: the
// application writes no XML.
func ExampleStruct() {
	conv := converter.Struct[Task]{Format: feedsync.RSS}
	var ids converter.IDs[string]

	task := Task{Title: "Buy stamps", Creator: "Ann", Tags: []string{"post", "errand"}, Priority: 2}
	id, err := ids.SyncID("task 7")
	if err != nil {
		panic(err)
	}
	payload, err := conv.ToPayload(id, task)
	if err != nil {
		panic(err)
	}
	stamp := feedsync.Stamp{By: "laptop", When: time.Date(2009, 4, 1, 9, 0, 0, 0, time.UTC)}
	item, err := feedsync.Create(feedsync.RSS, payload, id, stamp, false)
	if err != nil {
		panic(err)
	}

	var feed bytes.Buffer
	h := feedsync.NewHeader(feedsync.RSS, feedsync.FeedInfo{Title: "Tasks", Link: "https://tasks.example.org/"})
	if err := feedsync.WriteAll(&feed, h, []*feedsync.Item{item}); err != nil {
		panic(err)
	}
	os.Stdout.Write(feed.Bytes())

	_, items, err := feedsync.ReadAll(&feed)
	if err != nil {
		panic(err)
	}
	back, err := converter.FromItem[Task](conv, items[0])
	if err != nil {
		panic(err)
	}
	key, err := ids.AppID(items[0].ID())
	if err != nil {
		panic(err)
	}
	fmt.Printf("%q: %+v\n", key, back)
	// Output:
	// <?xml version="1.0" encoding="UTF-8"?>
	// <rss version="2.0" xmlns:sx="http://feedsync.org/2007/feedsync">
	// <channel>
	// <title>Tasks</title>
	// <link>https://tasks.example.org/</link>
	// <description></description>
	// <item xmlns:dc="http://purl.org/dc/elements/1.1/" xmlns:ns1="http://example.org/tasks"><title>Buy stamps</title><dc:creator>Ann</dc:creator><category>post</category><category>errand</category><ns1:priority>2</ns1:priority><sx:sync id="task%207" updates="1"><sx:history sequence="1" when="2009-04-01T09:00:00Z" by="laptop"/></sx:sync></item></channel>
	// </rss>
	// "task 7": {Title:Buy stamps Creator:Ann Tags:[post errand] Priority:2}
}

// In an Atom entry, unqualified fields are Atom elements, and the entry's
// required atom:id and atom:updated are derived when the struct has no
// field for them.
func ExampleStruct_atom() {
	conv := converter.Struct[Task]{Format: feedsync.Atom}
	payload, err := conv.ToPayload("task-7", Task{Title: "Buy stamps", Priority: 1})
	if err != nil {
		panic(err)
	}
	fmt.Println(writeElem(payload))

	back, err := conv.FromPayload(payload)
	if err != nil {
		panic(err)
	}
	fmt.Printf("%+v\n", back)
	// Output:
	// <entry xmlns="http://www.w3.org/2005/Atom" xmlns:ns1="http://example.org/tasks"><id>urn:feedsync:item:task-7</id><updated>1970-01-01T00:00:00Z</updated><title>Buy stamps</title><ns1:priority>1</ns1:priority></entry>
	// {Title:Buy stamps Creator: Tags:[] Priority:1}
}
