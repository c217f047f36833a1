package merge

import (
	"bytes"
	"testing"
	"time"

	"github.com/feedsync/go-feedsync/feedsync"
)

// TestMixedMeshConvergesOnPayloads (§17 A-18, FS-FEED-10, issue 9 point 2):
// in the chain R1 (RSS) ↔ A (Atom) ↔ R2 (RSS), an item made on R1 and one
// made on A, both with payloads no format maps exactly, end up with
// identical bytes on the two RSS endpoints, and further exchanges change
// nothing. A same-format merge and a cross-format merge both take the
// incoming payload of the same version when it differs.
func TestMixedMeshConvergesOnPayloads(t *testing.T) {
	rssItem := `<item xml:lang="de"><title>Buy stamps &amp; envelopes</title>` +
		`<description><![CDATA[<p>Ten <i>first-class</i></p>]]></description>` +
		`<guid>http://example.org/1</guid><pubDate>Wed, 01 Apr 2009 09:00:00 GMT</pubDate>` +
		`<category domain="urn:tags">errands</category><comments>http://example.org/c</comments></item>`
	atomEntry := `<entry xmlns="http://www.w3.org/2005/Atom"><id>urn:e:2</id>` +
		`<title>if a&lt;b &amp;&amp; c&gt;d</title><updated>2009-04-01T09:00:00Z</updated>` +
		`<published>2009-04-01T10:00:00+02:00</published>` +
		`<content type="xhtml"><div xmlns="http://www.w3.org/1999/xhtml">x <b>y</b></div></content>` +
		`<link rel="alternate" href="http://example.org/2" hreflang="fr"/><link rel="alternate" href="http://example.org/2.en" hreflang="en"/></entry>`
	mk := func(f feedsync.Format, payload, id, by string) *feedsync.Item {
		p, err := etreePayload(payload)
		if err != nil {
			t.Fatal(err)
		}
		it, err := feedsync.Create(f, p, id, feedsync.Stamp{By: by, When: time.Date(2009, 4, 1, 9, 0, 0, 0, time.UTC)}, false)
		if err != nil {
			t.Fatal(err)
		}
		return it
	}
	feed := func(f feedsync.Format, name string, items ...*feedsync.Item) []byte {
		var buf bytes.Buffer
		h := feedsync.NewHeader(f, feedsync.FeedInfo{Title: name, ID: "urn:feed:" + name, Updated: time.Unix(0, 0)})
		if err := feedsync.WriteAll(&buf, h, items); err != nil {
			t.Fatal(err)
		}
		return buf.Bytes()
	}
	r1 := feed(feedsync.RSS, "r1", mk(feedsync.RSS, rssItem, "r-1", "r1"))
	a := feed(feedsync.Atom, "a", mk(feedsync.Atom, atomEntry, "a-1", "a"))
	r2 := feed(feedsync.RSS, "r2")
	exchange := func() bool {
		changed := false
		for _, m := range []struct{ dst, src *[]byte }{{&a, &r1}, {&r1, &a}, {&r2, &a}, {&a, &r2}} {
			out, sum := mergeBytes(t, *m.dst, *m.src, Options{})
			changed = changed || sum.Changed()
			*m.dst = out
		}
		return changed
	}
	for i := 0; i < 3; i++ {
		exchange()
	}
	if exchange() {
		t.Error("a fourth exchange still changed feeds")
	}
	items := func(feed []byte) map[string]string {
		_, its, err := feedsync.ReadAll(bytes.NewReader(feed))
		if err != nil {
			t.Fatal(err)
		}
		m := map[string]string{}
		for _, it := range its {
			b, err := feedsync.MarshalItem(it)
			if err != nil {
				t.Fatal(err)
			}
			m[it.ID()] = string(b)
		}
		return m
	}
	i1, i2 := items(r1), items(r2)
	for _, id := range []string{"r-1", "a-1"} {
		if i1[id] != i2[id] {
			t.Errorf("%s: the RSS endpoints hold different payloads of the same version:\nr1: %s\nr2: %s", id, i1[id], i2[id])
		}
	}
}
