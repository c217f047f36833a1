package feedsync

import (
	"bytes"
	"strings"
	"testing"
	"time"
)

// TestUpdateKeepsSyncPlace (FS-NS-4, issue 9 point 5): an update with a new
// payload keeps sx:sync where it stood among the item's children; writers
// put it last only for items that had none.
func TestUpdateKeepsSyncPlace(t *testing.T) {
	const feed = `<rss version="2.0" xmlns:sx="http://feedsync.org/2007/feedsync"><channel><title>t</title>
<item>
  <sx:sync id="first" updates="1"><sx:history sequence="1" by="a"/></sx:sync>
  <title>one</title>
  <description>d</description>
</item>
<item>
  <title>two</title>
  <sx:sync id="middle" updates="1"><sx:history sequence="1" by="a"/></sx:sync>
  <description>d</description>
</item>
<item>
  <title>three</title>
  <description>d</description>
  <sx:sync id="last" updates="1"><sx:history sequence="1" by="a"/></sx:sync>
</item>
</channel></rss>`
	h, items, err := ReadString(feed)
	if err != nil {
		t.Fatal(err)
	}
	st := Stamp{By: "b", When: time.Date(2009, 4, 1, 9, 0, 0, 0, time.UTC)}
	for i, it := range items {
		p, err := it.Payload()
		if err != nil {
			t.Fatal(err)
		}
		p.SelectElement("title").SetText("changed")
		if items[i], err = Update(it, p, st); err != nil {
			t.Fatal(err)
		}
	}
	var buf bytes.Buffer
	if err := WriteAll(&buf, h, items); err != nil {
		t.Fatal(err)
	}
	// The order of the three children in each written item.
	want := []string{"sync title description", "title sync description", "title description sync"}
	parts := strings.Split(buf.String(), "<item>")[1:]
	for i, part := range parts {
		var got []string
		pos := map[string]int{"sync": strings.Index(part, "<sx:sync"), "title": strings.Index(part, "<title>"), "description": strings.Index(part, "<description>")}
		for len(pos) > 0 {
			best := ""
			for n, p := range pos {
				if best == "" || p < pos[best] {
					best = n
				}
			}
			got = append(got, best)
			delete(pos, best)
		}
		if g := strings.Join(got, " "); g != want[i] {
			t.Errorf("item %d: children in order %q, want %q\n%s", i+1, g, want[i], part)
		}
	}
}
