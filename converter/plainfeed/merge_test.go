package plainfeed_test

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/feedsync/go-feedsync/feedsync"
	"github.com/feedsync/go-feedsync/merge"
)

// TestConvertedFeedsMerge merges every golden conversion with another
// endpoint's edit of it through the whole-feed merge: the edits win
// (FS-WIN-1), items with broken metadata from the source are rejected
// (FS-ROBUST-1), and merging a feed with itself changes nothing
// (FS-MERGE-14).
func TestConvertedFeedsMerge(t *testing.T) {
	files, err := filepath.Glob("../../testdata/feeds/plain/golden/*")
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, name := range files {
		ext := filepath.Ext(name)
		if ext != ".rss" && ext != ".atom" || strings.Contains(name, ".export.") {
			continue
		}
		n++
		t.Run(filepath.Base(name), func(t *testing.T) {
			local, err := os.ReadFile(name)
			if err != nil {
				t.Fatal(err)
			}
			var self bytes.Buffer
			sum, err := merge.Feeds(context.Background(), bytes.NewReader(local), bytes.NewReader(local), &self, merge.Options{})
			if err != nil {
				t.Fatal(err)
			}
			if sum.Changed() || !bytes.Equal(self.Bytes(), local) {
				t.Errorf("merging the feed with itself changed it: %v", sum)
			}

			phone, edited, invalid := phoneEdits(t, local)
			var out bytes.Buffer
			sum, err = merge.Feeds(context.Background(), bytes.NewReader(local), bytes.NewReader(phone), &out, merge.Options{})
			if err != nil {
				t.Fatal(err)
			}
			if sum.Updated != len(edited) || sum.Rejected != invalid || sum.Conflicts != 0 || sum.Added != 0 {
				t.Errorf("summary %v; want %d updated, %d rejected", sum, len(edited), invalid)
			}
			_, items, err := feedsync.ReadAll(&out)
			if err != nil {
				t.Fatal(err)
			}
			for _, it := range items {
				if want, ok := edited[it.ID()]; ok && !it.Sync.SameVersion(want) {
					t.Errorf("item %q: the phone's edit did not win", it.ID())
				}
			}
		})
	}
	if n < 10 {
		t.Errorf("only %d golden conversions found", n)
	}
}

// phoneEdits returns the feed as another endpoint, "phone", publishes it
// after editing every live item with valid metadata, the versions it made,
// and the number of items whose metadata is invalid.
func phoneEdits(t *testing.T, feed []byte) ([]byte, map[string]*feedsync.Sync, int) {
	t.Helper()
	h, items, err := feedsync.ReadAll(bytes.NewReader(feed))
	if err != nil {
		t.Fatal(err)
	}
	edited := map[string]*feedsync.Sync{}
	invalid := 0
	var out bytes.Buffer
	w := feedsync.NewWriter(&out, h)
	for _, it := range items {
		switch {
		case it.Sync == nil:
		case it.Err() != nil:
			invalid++
		case !it.Sync.Deleted:
			u, err := feedsync.Update(it, nil, feedsync.Stamp{By: "phone", When: time.Date(2024, 2, 1, 0, 0, 0, 0, time.UTC)})
			if err != nil {
				t.Fatal(err)
			}
			it = u
			edited[it.ID()] = it.Sync
		}
		if err := w.WriteItem(it); err != nil {
			t.Fatal(err)
		}
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	return out.Bytes(), edited, invalid
}
