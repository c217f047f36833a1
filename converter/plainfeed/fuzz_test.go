package plainfeed

import (
	"bytes"
	"errors"
	"io"
	"os"
	"path/filepath"
	"testing"

	"github.com/feedsync/go-feedsync/feedsync"
)

// FuzzConvert: Convert never panics, and whatever it writes reads back with
// the core reader, every item with valid sync metadata — except items that
// already carried broken metadata in the input, which Convert keeps as
// they are and reports (in Feed.Warnings, or as Failed upgrade notes).
func FuzzConvert(f *testing.F) {
	files, err := filepath.Glob(filepath.Join(fixtures, "*"))
	if err != nil {
		f.Fatal(err)
	}
	for _, name := range files {
		if filepath.Ext(name) == "" {
			continue // the golden directory
		}
		b, err := os.ReadFile(name)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b, uint8(0))
		f.Add(b, uint8(3))
	}
	f.Add([]byte(`<rss><channel><item><guid> </guid><link>%zz</link></item></channel></rss>`), uint8(1))
	f.Add([]byte(`{"version":"https://jsonfeed.org/version/1","items":[{"id":"a"},{"id":"a"},{}]}`), uint8(2))
	f.Fuzz(func(t *testing.T, in []byte, mode uint8) {
		opts := Options{Upgrade: mode&2 != 0, MaxBytes: 1 << 20}
		if mode&1 != 0 {
			opts.Format = feedsync.Atom
		}
		var out bytes.Buffer
		fd, err := Convert(&out, bytes.NewReader(in), stamp, opts)
		if err != nil {
			return
		}
		broken := map[string]bool{}
		for _, w := range fd.Warnings {
			var ie *feedsync.ItemError
			if errors.As(w, &ie) {
				broken[ie.ID] = true
			}
		}
		if fd.Upgrade != nil {
			for _, n := range fd.Upgrade.Notes {
				if n.Kind == Failed && n.Item {
					broken[n.ID] = true
				}
			}
		}
		rd := feedsync.NewReader(&out)
		for {
			it, err := rd.Next()
			if err == io.EOF {
				break
			}
			if err != nil {
				t.Fatalf("output does not read back: %v\n%s", err, out.Bytes())
			}
			if it.Sync == nil {
				t.Fatalf("output item at line %d has no sx:sync", it.Line())
			}
			if errs, _ := it.Problems(); len(errs) > 0 && !broken[it.ID()] {
				t.Fatalf("output item %q: %v", it.ID(), errs)
			}
		}
	})
}
