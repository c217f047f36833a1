package merge

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/feedsync/go-feedsync/feedsync"
)

// fuzzLimits keep the fuzzer's inputs from spending its time on huge
// documents (FS-ROBUST-4).
var fuzzLimits = feedsync.ReaderOptions{MaxItemBytes: 64 << 10, MaxHeaderBytes: 64 << 10, MaxDepth: 32, MaxHistory: 64, MaxConflicts: 16}

// FuzzMerge merges arbitrary local and incoming documents. Feeds must never
// panic, and may fail only with an error of its own ("merge: …"). When it
// succeeds:
//
//   - the output reads back as a feed;
//   - every item it rejected is one whose metadata, or whose local
//     counterpart's, Item.Err finds invalid (FS-ROBUST-1);
//   - merging the same incoming feed into the output again changes nothing
//     (FS-MERGE-14).
//
// The seed corpus is every golden case of testdata/merge plus the files in
// testdata/fuzz/FuzzMerge.
func FuzzMerge(f *testing.F) {
	dirs, err := filepath.Glob(filepath.Join("testdata", "merge", "*"))
	if err != nil {
		f.Fatal(err)
	}
	for _, dir := range dirs {
		local, err := os.ReadFile(filepath.Join(dir, "local.xml"))
		if err != nil {
			f.Fatal(err)
		}
		incoming, err := os.ReadFile(filepath.Join(dir, "incoming.xml"))
		if err != nil {
			f.Fatal(err)
		}
		f.Add(local, incoming)
	}
	tmp := f.TempDir()
	f.Fuzz(func(t *testing.T, local, incoming []byte) {
		type rejection struct {
			id   string
			line int
		}
		var rejected []rejection
		opts := Options{
			ReaderOptions: fuzzLimits,
			TempDir:       tmp,
			OnItem: func(id string, line int, o feedsync.Outcome, err error) {
				if o == feedsync.Rejected {
					rejected = append(rejected, rejection{id, line})
					if err == nil {
						t.Errorf("item %q (line %d) rejected without a reason", id, line)
					}
				}
			},
		}
		var out bytes.Buffer
		sum, err := Feeds(context.Background(), bytes.NewReader(local), bytes.NewReader(incoming), &out, opts)
		if err != nil {
			if !strings.HasPrefix(err.Error(), "merge: ") {
				t.Fatalf("error %q does not say it comes from the merge", err)
			}
			return
		}
		if sum.Rejected != len(rejected) {
			t.Errorf("summary counts %d rejected, OnItem saw %d", sum.Rejected, len(rejected))
		}
		if _, _, err := feedsync.ReadAll(bytes.NewReader(out.Bytes())); err != nil {
			t.Fatalf("output does not read back: %v\noutput:\n%s", err, out.Bytes())
		}

		if len(rejected) > 0 {
			_, litems, lerr := feedsync.ReadAll(bytes.NewReader(local))
			_, iitems, ierr := feedsync.ReadAll(bytes.NewReader(incoming))
			if lerr != nil || ierr != nil {
				t.Fatalf("Feeds read the feeds, ReadAll did not: %v, %v", lerr, ierr)
			}
			for _, r := range rejected {
				var in *feedsync.Item
				for _, it := range iitems {
					if it.Sync != nil && it.ID() == r.id && it.Line() == r.line {
						in = it
					}
				}
				if in == nil {
					t.Fatalf("rejected item %q (line %d) is not in the incoming feed", r.id, r.line)
				}
				invalid := in.Err() != nil
				for _, l := range litems {
					if l.Sync != nil && r.id != "" && l.ID() == r.id && l.Err() != nil {
						invalid = true
					}
				}
				if !invalid {
					t.Errorf("item %q (line %d) was rejected, but it and its local counterpart are valid", r.id, r.line)
				}
			}
		}

		opts.OnItem = nil
		var again bytes.Buffer
		sum2, err := Feeds(context.Background(), bytes.NewReader(out.Bytes()), bytes.NewReader(incoming), &again, opts)
		if err != nil {
			t.Fatalf("merging the output again: %v\noutput:\n%s", err, out.Bytes())
		}
		if sum2.Changed() {
			t.Errorf("merging the same incoming feed again: %v, want no changes\nlocal:\n%s\nincoming:\n%s\nfirst output:\n%s\nsecond output:\n%s",
				sum2, local, incoming, out.Bytes(), again.Bytes())
		}
	})
}
