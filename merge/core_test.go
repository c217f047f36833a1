package merge

import (
	"strings"
	"testing"

	"github.com/feedsync/go-feedsync/feedsync"
	"github.com/google/go-cmp/cmp"
)

// TestCoreHeaderInfoBeforeEOF checks what Feeds relies on for
// Options.Format: Header.Info, and so Header.Convert, works on a header
// taken from a Reader before the end of the feed, which is when a streaming
// merge needs it. (It once returned an empty FeedInfo there, losing the
// feed's title, link and description.)
func TestCoreHeaderInfoBeforeEOF(t *testing.T) {
	const feed = `<rss version="2.0"><channel><title>Tasks</title><link>https://example.org/</link><description>Things</description>
<item><title>a</title></item>
</channel></rss>`
	want := feedsync.FeedInfo{Title: "Tasks", Link: "https://example.org/", Description: "Things"}

	h, _, err := feedsync.ReadAll(strings.NewReader(feed))
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(want, h.Info()); diff != "" {
		t.Fatalf("Info after ReadAll (-want +got):\n%s", diff)
	}

	r := feedsync.NewReader(strings.NewReader(feed))
	h, err = r.Header()
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(want, h.Info()); diff != "" {
		t.Errorf("feedsync: Info of a header read before the end of the feed (-want +got):\n%s", diff)
	}
	if got := h.Convert(feedsync.Atom).Info().Title; got != want.Title {
		t.Errorf("feedsync: Convert of a header read before the end of the feed: title %q, want %q", got, want.Title)
	}
}

// TestCoreConvertItemDigest checks what the merge relies on across formats:
// an item made by ConvertItem has the payload digest of the same item
// written out and read back, so MergeItem sees a converted incoming version
// as the same payload as the identical local one (FS-MERGE-14, FS-FEED-10).
// (RSS items converted to Atom once digested differently.)
func TestCoreConvertItemDigest(t *testing.T) {
	feeds := map[feedsync.Format]string{
		feedsync.RSS: `<rss version="2.0" xmlns:sx="http://feedsync.org/2007/feedsync"><channel><title>x</title>
<item><title>Buy milk</title><description>Two litres</description><sx:sync id="milk-1" updates="1"><sx:history sequence="1" when="2009-04-01T09:20:00Z" by="phone"/></sx:sync></item></channel></rss>`,
		feedsync.Atom: `<feed xmlns="http://www.w3.org/2005/Atom" xmlns:sx="http://feedsync.org/2007/feedsync"><title>x</title>
<entry><title>Buy milk</title><summary>Two litres</summary><id>urn:x</id><updated>2009-04-01T09:20:00Z</updated><sx:sync id="milk-1" updates="1"><sx:history sequence="1" when="2009-04-01T09:20:00Z" by="phone"/></sx:sync></entry></feed>`,
	}
	for from, feed := range feeds {
		to := feedsync.Atom
		if from == feedsync.Atom {
			to = feedsync.RSS
		}
		t.Run(from.String()+"-to-"+to.String(), func(t *testing.T) {
			_, items, err := feedsync.ReadAll(strings.NewReader(feed))
			if err != nil {
				t.Fatal(err)
			}
			c, err := feedsync.ConvertItem(items[0], to)
			if err != nil {
				t.Fatal(err)
			}
			b, err := feedsync.MarshalItem(c)
			if err != nil {
				t.Fatal(err)
			}
			back, err := feedsync.UnmarshalItem(b)
			if err != nil {
				t.Fatal(err)
			}
			got, err := c.Digest()
			if err != nil {
				t.Fatal(err)
			}
			want, err := back.Digest()
			if err != nil {
				t.Fatal(err)
			}
			if got != want {
				t.Errorf("feedsync: Digest of ConvertItem's result = %x, after MarshalItem/UnmarshalItem = %x; want equal\n%s", got, want, b)
			}
		})
	}
}
