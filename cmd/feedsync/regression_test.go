// Regression tests for problems once found in other packages.

package main

import (
	"strings"
	"testing"

	"github.com/feedsync/go-feedsync/feedsync"
	"github.com/feedsync/go-feedsync/producer"
)

// TestCoreFeedManifestNamesItemOnce: producer.FeedManifest wraps the
// error of an item with invalid sync metadata as `manifest: item %q (line
// %d): %w`, but Item.Err is already a *feedsync.ItemError naming the item
// and its line, so the message says it twice: `manifest: item "nohist"
// (line 2): item "nohist" (line 2): invalid sx:sync: ...`. 'feedsync verify'
// shows that message as it is.
func TestCoreFeedManifestNamesItemOnce(t *testing.T) {
	feed := `<rss><channel xmlns:sx="http://feedsync.org/2007/feedsync">
<item><sx:sync id="nohist" updates="1"></sx:sync></item>
</channel></rss>`
	_, err := producer.FeedManifest(feedsync.NewReader(strings.NewReader(feed)))
	if err == nil {
		t.Fatal("no error for an item without history")
	}
	if n := strings.Count(err.Error(), `item "nohist"`); n != 1 {
		t.Errorf("the item is named %d times: %v", n, err)
	}
}
