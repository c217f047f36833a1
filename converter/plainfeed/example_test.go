package plainfeed_test

import (
	"fmt"
	"os"
	"strings"
	"time"

	"github.com/feedsync/go-feedsync/converter/plainfeed"
	"github.com/feedsync/go-feedsync/feedsync"
)

const plainRSS = `<?xml version="1.0"?>
<rss version="2.0"><channel>
<title>Bakery news</title><link>https://bakery.example/</link><description>Fresh</description>
<item><title>Rye is back</title><link>https://bakery.example/rye</link><guid>bakery-1</guid></item>
<item><title>Closed on Monday</title><link>https://bakery.example/closed</link></item>
<item><title>Thank you</title></item>
</channel></rss>`

func ExampleRead() {
	f, err := plainfeed.Read(strings.NewReader(plainRSS), plainfeed.Options{})
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(f.Kind, f.Format)
	for _, e := range f.Entries {
		fmt.Println(e.From, e.ID)
	}
	// Output:
	// rss 2.0 rss
	// guid bakery-1
	// link https:%2F%2Fbakery.example%2Fclosed
	// hash sha256-a993b51b430ab3d8f60a34428ad1bbc0
}

func ExampleConvert() {
	const in = `<rss version="2.0"><channel><title>Bakery news</title>
<item><title>Rye is back</title><guid>bakery-1</guid></item>
</channel></rss>`
	s := feedsync.Stamp{By: "converter", When: time.Date(2009, 4, 1, 9, 0, 0, 0, time.UTC)}
	_, err := plainfeed.Convert(os.Stdout, strings.NewReader(in), s, plainfeed.Options{})
	if err != nil {
		fmt.Println(err)
	}
	// Output:
	// <?xml version="1.0" encoding="UTF-8"?>
	// <rss version="2.0" xmlns:sx="http://feedsync.org/2007/feedsync">
	// <channel>
	// <title>Bakery news</title>
	// <link>urn:feedsync</link>
	// <description></description>
	// <item>
	//   <title>Rye is back</title>
	//   <guid isPermaLink="false">bakery-1</guid><sx:sync id="bakery-1" updates="1"><sx:history sequence="1" when="2009-04-01T09:00:00Z" by="converter"/></sx:sync></item></channel>
	// </rss>
}

func ExampleUpgrade() {
	const in = `<rss version="2.0" xmlns:sx="http://www.microsoft.com/schemas/sse"><channel><title>t</title>
<item><title>Milk</title><sx:sync id="milk" updates="1" deleted="False"><sx:history sequence="1" when="2007-05-01T10:00:00.5+02:00"/></sx:sync></item>
</channel></rss>`
	var out strings.Builder
	rep, err := plainfeed.Upgrade(&out, strings.NewReader(in))
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(out.String())
	for _, n := range rep.Notes {
		fmt.Println(n)
	}
	// Output:
	// <rss version="2.0" xmlns:sx="http://feedsync.org/2007/feedsync"><channel><title>t</title>
	// <item><title>Milk</title><sx:sync id="milk" updates="1" deleted="false"><sx:history sequence="1" when="2007-05-01T08:00:00Z"/></sx:sync></item>
	// </channel></rss>
	// line 1: feed: rewritten: SSE 0.93 namespace declaration → http://feedsync.org/2007/feedsync (FS-NS-1, §14)
	// line 2: item "milk": rewritten: sx:sync deleted "False" → "false" (FS-TYPE-3)
	// line 2: item "milk": rewritten: sx:history when "2007-05-01T10:00:00.5+02:00" → "2007-05-01T08:00:00Z" (FS-TYPE-4)
	// line 2: item "milk": kept: 1 history entry without by kept: anonymous entries are identified by (when, sequence) (FS-HIST-4) and never purged (FS-PURGE-2)
}
