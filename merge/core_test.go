package merge

import (
	"strings"
	"testing"
	"time"

	"github.com/feedsync/go-feedsync/feedsync"
	"github.com/google/go-cmp/cmp"
)

// TestCoreHeaderInfoBeforeEOF shows a problem in package feedsync that
// Feeds works around (header.go): Header.Info, and so Header.Convert,
// returns an empty FeedInfo for a header taken from a Reader before the
// reader reached the end of the feed. Info parses the header's bytes plus
// its trailer, and the trailer is only recorded at the end tag of the
// document. A streaming merge needs the header before the first item, so
// converting the output (Options.Format) would lose the feed's title, link
// and description.
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

// TestConvertHeaderWorkaround checks the workaround itself: the converted
// header carries the local feed's title, link and description
// (Options.Format, FS-FEED-9).
func TestConvertHeaderWorkaround(t *testing.T) {
	tests := []struct {
		name string
		feed string
		to   feedsync.Format
		want feedsync.FeedInfo
	}{
		{
			name: "rss to atom",
			feed: `<?xml version="1.0"?><rss version="2.0"><channel><title> Tasks </title><image><title>logo</title></image><link>https://example.org/</link><description>Things</description><item><title>a</title></item></channel></rss>`,
			to:   feedsync.Atom,
			want: feedsync.FeedInfo{Title: "Tasks", Link: "https://example.org/", Description: "Things"},
		},
		{
			name: "atom to rss",
			feed: `<feed xmlns="http://www.w3.org/2005/Atom"><title>Fence</title><subtitle>Garden</subtitle><link rel="self" href="https://example.org/self"/><link href="https://example.org/"/><id>urn:x</id><updated>2009-04-02T11:05:00Z</updated><entry><title>e</title></entry></feed>`,
			to:   feedsync.RSS,
			want: feedsync.FeedInfo{Title: "Fence", Link: "https://example.org/", Description: "Garden"},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			rec := &prefixRecorder{r: strings.NewReader(tc.feed), limit: 1 << 20, on: true}
			h, err := feedsync.NewReader(rec).Header()
			if err != nil {
				t.Fatal(err)
			}
			got := convertHeader(h, tc.to, rec.buf).Info()
			// A new Atom header gets a fresh id and the current time.
			got.ID, got.Updated = "", time.Time{}
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("converted header info (-want +got):\n%s", diff)
			}
		})
	}
}

// TestCoreConvertItemDigest shows a problem in package feedsync that the
// merge works around (convertItem in merge.go): the payload digest of an
// item made by ConvertItem differs from the digest of the same item once it
// is written and read back, so MergeItem sees a converted incoming version
// as a different payload than the identical local one (FS-MERGE-14 breaks
// for merges across formats, FS-FEED-10).
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
			_, items, err := feedsync.ReadString(feed)
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
