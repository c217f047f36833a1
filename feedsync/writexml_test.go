package feedsync

import (
	"bytes"
	"os"
	"path/filepath"
	"testing"
)

// WriteXML(MarshalItem(it)) writes what WriteItem(UnmarshalItem(…)) of the
// same element writes, in a feed of either format: the stored form of an
// item serves it without being parsed (same format) or after conversion
// (the other one, FS-FEED-10).
func TestWriteXMLMatchesWriteItem(t *testing.T) {
	paths, err := filepath.Glob(filepath.Join("..", "testdata", "feeds", "*.xml"))
	if err != nil || len(paths) == 0 {
		t.Fatalf("no feeds in testdata: %v", err)
	}
	paths = append(paths, filepath.Join("..", "testdata", "feeds", "rewrite", "rss-tasks-fence-updated.xml"))
	var elems [][]byte
	for _, p := range paths {
		f, err := os.Open(p)
		if err != nil {
			t.Fatal(err)
		}
		_, items, err := ReadAll(f)
		f.Close()
		if err != nil {
			t.Fatalf("%s: %v", p, err)
		}
		for _, it := range items {
			if it.Sync == nil {
				continue
			}
			// Changed items too: their stored form is rendered, not copied.
			for _, v := range []*Item{it, must(Update(it, nil, Stamp{By: "writer-test"}))} {
				b, err := MarshalItem(v)
				if err != nil {
					t.Fatalf("%s: item %q: %v", p, v.ID(), err)
				}
				elems = append(elems, b)
			}
		}
	}
	// A header read from a feed that binds Atom to a prefix, not as the
	// default namespace: the items need their bindings declared.
	prefixed, _, err := readString(`<a:feed xmlns:a="http://www.w3.org/2005/Atom"><a:title>t</a:title><a:id>urn:t</a:id></a:feed>`)
	if err != nil {
		t.Fatal(err)
	}
	for _, h := range []*Header{NewHeader(RSS, FeedInfo{Title: "t"}), NewHeader(Atom, FeedInfo{Title: "t", ID: "urn:t"}), prefixed} {
		f := h.Format
		var viaItem, viaXML bytes.Buffer
		wi := NewWriter(&viaItem, h)
		wx := NewWriter(&viaXML, h)
		converted := 0
		for _, b := range elems {
			it, err := UnmarshalItem(b)
			if err != nil {
				t.Fatal(err)
			}
			if it.Format() != f {
				converted++
			}
			if err := wi.WriteItem(it); err != nil {
				t.Fatal(err)
			}
			if err := wx.WriteXML(b); err != nil {
				t.Fatalf("WriteXML(%.80q): %v", b, err)
			}
		}
		if err := wi.Close(); err != nil {
			t.Fatal(err)
		}
		if err := wx.Close(); err != nil {
			t.Fatal(err)
		}
		if converted == 0 || converted == len(elems) {
			t.Errorf("%v feed: %d of %d items in the other format; want some of each", f, converted, len(elems))
		}
		if !bytes.Equal(viaItem.Bytes(), viaXML.Bytes()) {
			t.Errorf("%v feed: WriteXML wrote\n%s\nWriteItem wrote\n%s", f, viaXML.Bytes(), viaItem.Bytes())
		}
	}
}

func must(it *Item, err error) *Item {
	if err != nil {
		panic(err)
	}
	return it
}
