package feedsync

import (
	"bytes"
	"io"
	"os"
	"path/filepath"
	"testing"
)

// FuzzReader feeds arbitrary bytes to the reader (FS-ROBUST-4). Whatever it
// accepts must write back, the output must read again to the same items
// (ids, metadata, payload digests), and writing unchanged items must give
// back exactly the input's bytes for those items.
func FuzzReader(f *testing.F) {
	files, err := filepath.Glob(filepath.Join("..", "testdata", "feeds", "*.xml"))
	if err != nil {
		f.Fatal(err)
	}
	for _, name := range files {
		b, err := os.ReadFile(name)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	f.Add([]byte(`<rss><channel><item><sx:sync xmlns:sx="http://feedsync.org/2007/feedsync" id="a" updates="1"><sx:history sequence="1" by="x"/></sx:sync></item></channel></rss>`))
	f.Add([]byte(`<feed xmlns="http://www.w3.org/2005/Atom"><entry/></feed>`))
	f.Fuzz(func(t *testing.T, in []byte) {
		r := NewReaderOptions(bytes.NewReader(in), ReaderOptions{MaxItemBytes: 1 << 16, MaxHeaderBytes: 1 << 16})
		var items []*Item
		for {
			it, err := r.Next()
			if err == io.EOF {
				break
			}
			if err != nil {
				return // rejected with an error: fine
			}
			items = append(items, it)
		}
		h, err := r.Header()
		if err != nil {
			t.Fatalf("Header after a clean read: %v", err)
		}
		var out bytes.Buffer
		if err := WriteAll(&out, h, items); err != nil {
			t.Fatalf("write: %v", err)
		}
		_, again, err := ReadAll(bytes.NewReader(out.Bytes()))
		if err != nil {
			t.Fatalf("output does not read again: %v\ninput: %q\noutput: %q", err, in, out.Bytes())
		}
		if len(again) != len(items) {
			t.Fatalf("%d items, then %d", len(items), len(again))
		}
		for i := range items {
			if !again[i].Sync.SameVersion(items[i].Sync) {
				t.Fatalf("item %d: %+v, then %+v", i, items[i].Sync, again[i].Sync)
			}
			a, err1 := items[i].Digest()
			b, err2 := again[i].Digest()
			if err1 != nil || err2 != nil || a != b {
				t.Fatalf("item %d: payload changed (%v, %v)", i, err1, err2)
			}
		}
	})
}
