package feedsync

import (
	"testing"
	"time"

	"github.com/beevik/etree"
	"github.com/google/go-cmp/cmp"
)

// payloadTags lists the child element tags of it's payload.
func payloadTags(t *testing.T, it *Item) []string {
	t.Helper()
	e, err := it.Payload()
	if err != nil {
		t.Fatal(err)
	}
	var tags []string
	for _, c := range e.ChildElements() {
		tags = append(tags, c.FullTag())
	}
	return tags
}

func TestMinimal(t *testing.T) {
	when := time.Date(2009, 4, 2, 9, 0, 0, 0, time.UTC)
	atom := etree.NewElement("entry")
	atom.CreateElement("id").SetText("urn:x:1")
	atom.CreateElement("title").SetText("Fence")
	atom.CreateElement("updated").SetText("2009-04-02T09:00:00Z")
	atom.CreateElement("content").SetText("a long description")
	atom.CreateElement("link").CreateAttr("href", "http://example.com/")
	rss := etree.NewElement("item")
	rss.CreateElement("title").SetText("Fence")
	rss.CreateElement("description").SetText("text")
	rss.CreateElement("guid").SetText("g-1")
	rss.CreateElement("category").SetText("home")
	rss.CreateElement("author").SetText("me@example.com")
	mk := func(f Format, payload *etree.Element, by string) *Item {
		it, err := Create(f, payload, "x-1", Stamp{By: by, When: when}, false)
		if err != nil {
			t.Fatal(err)
		}
		return it
	}
	del := func(it *Item, by string) *Item {
		d, err := Delete(it, Stamp{By: by, When: when.Add(time.Hour)})
		if err != nil {
			t.Fatal(err)
		}
		return d
	}

	t.Run("FS-DELETE-2 Atom tombstone keeps atom:id, atom:title and atom:updated", func(t *testing.T) {
		tomb := del(mk(Atom, atom, "laptop"), "phone")
		got, err := Minimal(tomb)
		if err != nil {
			t.Fatal(err)
		}
		if d := cmp.Diff([]string{"id", "title", "updated"}, payloadTags(t, got)); d != "" {
			t.Errorf("payload (-want +got):\n%s", d)
		}
		// The metadata is untouched: the same version for every comparison.
		if d := cmp.Diff(describe(t, tomb), describe(t, got)); d != "" {
			t.Errorf("metadata changed (-want +got):\n%s", d)
		}
		// Either form merged into the other gives the same version: the
		// incoming payload is taken, as for any equal metadata (§17 A-18),
		// and nothing is a conflict.
		for _, pair := range [][2]*Item{{tomb, got}, {got, tomb}} {
			r, o := MergeItem(pair[0], pair[1])
			if o == Conflict || len(r.Sync.Conflicts) > 0 {
				t.Errorf("merging the two forms: %v", o)
			}
			if d := cmp.Diff(describe(t, tomb), describe(t, r)); d != "" {
				t.Errorf("merged metadata (-want +got):\n%s", d)
			}
		}
		if len(payloadTags(t, tomb)) != 5 {
			t.Error("input changed")
		}
		again, err := Minimal(got)
		if err != nil || again != got {
			t.Errorf("Minimal of a minimal tombstone = new item (%v), want itself", err)
		}
		// The result writes and reads back.
		b, err := MarshalItem(got)
		if err != nil {
			t.Fatal(err)
		}
		back, err := UnmarshalItem(b)
		if err != nil {
			t.Fatal(err)
		}
		if d := cmp.Diff([]string{"id", "title", "updated"}, payloadTags(t, back)); d != "" {
			t.Errorf("payload after a round trip (-want +got):\n%s", d)
		}
	})
	t.Run("FS-DELETE-2 RSS tombstone keeps title and guid", func(t *testing.T) {
		got, err := Minimal(del(mk(RSS, rss, "laptop"), "phone"))
		if err != nil {
			t.Fatal(err)
		}
		if d := cmp.Diff([]string{"title", "guid"}, payloadTags(t, got)); d != "" {
			t.Errorf("payload (-want +got):\n%s", d)
		}
	})
	t.Run("FS-DELETE-2 RSS tombstone without a title keeps its description", func(t *testing.T) {
		untitled := rss.Copy()
		untitled.RemoveChild(untitled.SelectElement("title"))
		got, err := Minimal(del(mk(RSS, untitled, "laptop"), "phone"))
		if err != nil {
			t.Fatal(err)
		}
		if d := cmp.Diff([]string{"description", "guid"}, payloadTags(t, got)); d != "" {
			t.Errorf("payload (-want +got):\n%s", d)
		}
	})
	t.Run("live items and live conflict copies keep their payload", func(t *testing.T) {
		live := mk(RSS, rss, "laptop")
		if got, err := Minimal(live); err != nil || got != live {
			t.Errorf("Minimal(live) = new item (%v), want itself", err)
		}
		// A deletion racing an edit (FS-DELETE-3): the live edit wins or is
		// a conflict copy; either way only the tombstone version shrinks.
		edit, err := Update(live, rss, Stamp{By: "tablet", When: when.Add(2 * time.Hour)})
		if err != nil {
			t.Fatal(err)
		}
		m, o := MergeItem(del(live, "phone"), edit)
		if o != Conflict {
			t.Fatalf("merge = %v, want Conflict", o)
		}
		got, err := Minimal(m)
		if err != nil {
			t.Fatal(err)
		}
		for _, v := range append([]*Item{got}, got.Sync.Conflicts...) {
			want := []string{"title", "description", "guid", "category", "author"}
			if v.Sync.Deleted {
				want = []string{"title", "guid"}
			}
			if d := cmp.Diff(want, payloadTags(t, v)); d != "" {
				t.Errorf("version deleted=%v payload (-want +got):\n%s", v.Sync.Deleted, d)
			}
		}
		if d := cmp.Diff(describe(t, m), describe(t, got)); d != "" {
			t.Errorf("metadata changed (-want +got):\n%s", d)
		}
	})
}
