package merge_test

import (
	"context"
	"fmt"
	"log"
	"os"
	"strings"

	"github.com/feedsync/go-feedsync/feedsync"
	"github.com/feedsync/go-feedsync/merge"
)

// Merging the phone's feed into the laptop's: spec example E4 plus a new
// item. The laptop's item is replaced by the phone's later version, the new
// item is appended, and the laptop's feed header stays.
func ExampleFeeds() {
	local := `<rss version="2.0" xmlns:sx="http://feedsync.org/2007/feedsync"><channel><title>Laptop</title>
<item><title>Buy stamps</title><sx:sync id="stamps-1" updates="1"><sx:history sequence="1" when="2009-04-01T09:00:00Z" by="laptop"/></sx:sync></item>
</channel></rss>`
	incoming := `<rss version="2.0" xmlns:sx="http://feedsync.org/2007/feedsync"><channel><title>Phone</title>
<item><title>Buy stamps and postcards</title><sx:sync id="stamps-1" updates="2"><sx:history sequence="2" when="2009-04-01T10:15:00Z" by="phone"/><sx:history sequence="1" when="2009-04-01T09:00:00Z" by="laptop"/></sx:sync></item>
<item><title>Buy milk</title><sx:sync id="milk-1" updates="1"><sx:history sequence="1" when="2009-04-01T10:20:00Z" by="phone"/></sx:sync></item>
</channel></rss>`

	sum, err := merge.Feeds(context.Background(), strings.NewReader(local), strings.NewReader(incoming), os.Stdout, merge.Options{})
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println()
	fmt.Println(sum)
	// Output:
	// <rss version="2.0" xmlns:sx="http://feedsync.org/2007/feedsync"><channel><title>Laptop</title>
	// <item><title>Buy stamps and postcards</title><sx:sync id="stamps-1" updates="2"><sx:history sequence="2" when="2009-04-01T10:15:00Z" by="phone"/><sx:history sequence="1" when="2009-04-01T09:00:00Z" by="laptop"/></sx:sync></item>
	// <item><title>Buy milk</title><sx:sync id="milk-1" updates="1"><sx:history sequence="1" when="2009-04-01T10:20:00Z" by="phone"/></sx:sync></item>
	// </channel></rss>
	// 1 new, 1 updated, 0 deleted, 0 conflicts, 0 unchanged, 0 rejected
}

// Run merges a feed into any Local, here the in-memory one; a store-backed
// Local does the same inside a transaction.
func ExampleRun() {
	incoming := `<feed xmlns="http://www.w3.org/2005/Atom" xmlns:sx="http://feedsync.org/2007/feedsync"><title>Tablet</title>
<entry><title>Fence repair</title><id>urn:x:1</id><updated>2009-04-02T11:05:00Z</updated><sx:sync id="fence-1" updates="1"><sx:history sequence="1" when="2009-04-02T11:05:00Z" by="tablet"/></sx:sync></entry>
<entry><title>Broken</title><id>urn:x:2</id><updated>2009-04-02T11:05:00Z</updated><sx:sync id="bad-1" updates="1"/></entry>
</feed>`
	local := merge.NewMemoryLocal()
	sum, err := merge.Run(context.Background(), local, feedsync.NewReader(strings.NewReader(incoming)), merge.Options{
		OnItem: func(id string, line int, o feedsync.Outcome, err error) {
			fmt.Printf("%s (line %d): %v\n", id, line, o)
		},
	})
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(sum)
	fmt.Println(local.Len(), "item held")
	// Output:
	// fence-1 (line 2): added
	// bad-1 (line 3): rejected
	// 1 new, 0 updated, 0 deleted, 0 conflicts, 0 unchanged, 1 rejected
	// 1 item held
}
