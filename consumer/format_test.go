package consumer_test

import (
	"context"
	"strings"
	"testing"

	"github.com/feedsync/go-feedsync/consumer"
	"github.com/feedsync/go-feedsync/feedsync"
	"github.com/feedsync/go-feedsync/store"
)

const (
	pushedAtom = `<feed xmlns="http://www.w3.org/2005/Atom" xmlns:sx="http://feedsync.org/2007/feedsync">
<title>laptop's tasks</title>
<entry><sx:sync id="t1" updates="1"><sx:history sequence="1" when="2009-04-02T00:00:00Z" by="laptop"/></sx:sync><title>Buy stamps</title><content type="xhtml"><div xmlns="http://www.w3.org/1999/xhtml"><b>now</b></div></content></entry>
</feed>`
	pushedRSS = `<rss version="2.0" xmlns:sx="http://feedsync.org/2007/feedsync"><channel><title>phone's tasks</title>
<item><sx:sync id="t2" updates="1"><sx:history sequence="1" when="2009-04-02T00:00:00Z" by="phone"/></sx:sync><title>Fix the fence</title></item>
</channel></rss>`
)

func feedFormat(t *testing.T, st store.Store) (feedsync.FeedInfo, feedsync.Format) {
	t.Helper()
	var info feedsync.FeedInfo
	var f feedsync.Format
	withTx(t, st, false, func(tx store.Tx) {
		var err error
		if info, f, err = tx.FeedInfo(context.Background()); err != nil {
			t.Fatal(err)
		}
	})
	return info, f
}

// TestFirstMergeSetsFormat: a store written only by merges of pushed feeds
// takes the format of the first one (FS-FEED-10), so it serves the pushed
// Atom entries as Atom instead of converting every one to RSS; later feeds
// of the other format do not change it, and the feed's title is not copied
// (FS-FEED-9).
func TestFirstMergeSetsFormat(t *testing.T) {
	ctx := context.Background()
	for name, open := range stores {
		t.Run(name, func(t *testing.T) {
			st := open(t)
			if _, f := feedFormat(t, st); f != feedsync.FormatUnknown {
				t.Fatalf("a new store has format %v", f)
			}
			if _, err := consumer.Consume(ctx, st, strings.NewReader(pushedAtom), consumer.Options{Peer: "laptop"}); err != nil {
				t.Fatal(err)
			}
			info, f := feedFormat(t, st)
			if f != feedsync.Atom {
				t.Fatalf("after a pushed Atom feed the store's format is %v, want atom", f)
			}
			if info.Title != "" {
				t.Errorf("the pushed feed's title %q became the store's (FS-FEED-9)", info.Title)
			}
			if _, err := consumer.Consume(ctx, st, strings.NewReader(pushedRSS), consumer.Options{Peer: "phone"}); err != nil {
				t.Fatal(err)
			}
			if _, f := feedFormat(t, st); f != feedsync.Atom {
				t.Fatalf("a later RSS feed changed the store's format to %v", f)
			}
		})
	}
}

// TestFirstMergeFormatOption: Options.Format, the format new items are kept
// in, is the store's format when it had none.
func TestFirstMergeFormatOption(t *testing.T) {
	st := store.NewMemory()
	if _, err := consumer.Consume(context.Background(), st, strings.NewReader(pushedAtom), consumer.Options{Format: feedsync.RSS}); err != nil {
		t.Fatal(err)
	}
	if _, f := feedFormat(t, st); f != feedsync.RSS {
		t.Fatalf("store format %v, want rss (Options.Format)", f)
	}
}

// TestFailedFirstMergeSetsNoFormat: the format is set in the merge's
// transaction, so a push cut off in the middle (malformed after its first
// entry) leaves a new store as it was, without a format to hold on to.
func TestFailedFirstMergeSetsNoFormat(t *testing.T) {
	st := store.NewMemory()
	cut := pushedAtom[:strings.Index(pushedAtom, "</entry>")+len("</entry>")] + "<entry><title>"
	if _, err := consumer.Consume(context.Background(), st, strings.NewReader(cut), consumer.Options{}); err == nil {
		t.Fatal("a feed cut off in an entry merged without error")
	}
	if _, f := feedFormat(t, st); f != feedsync.FormatUnknown {
		t.Fatalf("a failed first merge left the store with format %v", f)
	}
}
