// Regression tests for problems once found outside this package (carriage
// returns, declaration order, Map.Key): all fixed, kept so they stay fixed.

package converter_test

import (
	"bytes"
	"strings"
	"testing"

	"github.com/beevik/etree"

	"github.com/feedsync/go-feedsync/converter"
	"github.com/feedsync/go-feedsync/feedsync"
)

// feedsync's Writer (and MarshalItem) write payload text and attribute
// values with etree's default escaping, which leaves a carriage return in
// text, and a tab, newline or carriage return in an attribute value, as
// raw characters. XML parsers turn a raw CR LF into LF and those
// characters in attributes into spaces, so the item read back has other
// data and another digest than the item created (FS-TYPE-1: payload text
// must survive unchanged). Writing with etree.WriteSettings{CanonicalText:
// true, CanonicalAttrVal: true} keeps them as character references.
func TestCoreBugWriterLosesCarriageReturns(t *testing.T) {
	for _, f := range []feedsync.Format{feedsync.RSS, feedsync.Atom} {
		e := etree.NewElement("item")
		if f == feedsync.Atom {
			e = etree.NewElement("entry")
			e.CreateAttr("xmlns", feedsync.AtomNamespace)
		}
		e.CreateElement("title").SetText("line 1\r\nline 2")
		e.CreateElement("link").CreateAttr("href", "a\tb\nc")
		created, read := throughFeed(t, f, "cr-1", e)
		p, err := read.Payload()
		if err != nil {
			t.Fatal(err)
		}
		if got := p.SelectElement("title").Text(); got != "line 1\r\nline 2" {
			t.Errorf("%s: title read back as %q", f, got)
		}
		if itemDigest(t, created) != itemDigest(t, read) {
			t.Errorf("%s: the digest changed through the feed", f)
		}
		b, err := feedsync.MarshalItem(created)
		if err != nil {
			t.Fatal(err)
		}
		// Go's encoding/xml does not normalise attribute values, so the
		// href survives a Go reader; conformant XML parsers turn the tab
		// and the newline into spaces. Check the bytes written.
		for _, ref := range []string{"&#xD;", "&#x9;", "&#xA;"} {
			if !bytes.Contains(b, []byte(ref)) {
				t.Errorf("%s: MarshalItem did not write %s: %q", f, ref, b)
			}
		}
	}
}

// Map.Key (converter/map.go) accepts sync ids that Map.SyncID never
// produces and maps them onto keys whose SyncID is another id: "%41" gives
// "A", whose id is "A"; "a b" (not a valid id) gives "a b", whose id is
// "a%20b". An application that reads the key of an item from another
// implementation and writes the item back under Map.SyncID(key) publishes
// it under a new id, a duplicate (FS-SYNC-2: no publisher may change an
// id). IDs.AppID refuses such ids with ErrID.
func TestCoreBugMapKeyNotInjective(t *testing.T) {
	var m converter.Map
	for _, id := range []string{"%41", "a b", "%2d"} {
		key, err := m.Key(id)
		if err != nil {
			continue // refusing is fine
		}
		if again := m.SyncID(key); feedsync.NormalizeID(again) != feedsync.NormalizeID(id) {
			t.Errorf("Map.Key(%q) = %q, whose SyncID is %q: another item", id, key, again)
		}
	}
}

// Item.Payload (feedsync/convert.go, declareUsed) adds the namespace
// declarations an item inherited from its feed in map iteration order, so
// the same item gives payloads whose bytes differ from call to call. An
// unchanged item passed through Update or ConvertItem is then written
// differently on each run (feeds and ETags churn although the data and
// the digest are the same); FromItem with Raw returns different bytes for
// the same item.
func TestCoreBugPayloadDeclarationOrder(t *testing.T) {
	_, items, err := feedsync.ReadAll(strings.NewReader(`<rss version="2.0" xmlns:a="urn:a" xmlns:b="urn:b" xmlns:c="urn:c" xmlns:d="urn:d" xmlns:sx="http://feedsync.org/2007/feedsync"><channel><title>t</title>` +
		`<item><a:x/><b:x/><c:x/><d:x/><sx:sync id="a" updates="1"><sx:history sequence="1" by="laptop"/></sx:sync></item></channel></rss>`))
	if err != nil {
		t.Fatal(err)
	}
	first := ""
	for i := 0; i < 50; i++ {
		p, err := items[0].Payload()
		if err != nil {
			t.Fatal(err)
		}
		got := writeElem(p)
		if i == 0 {
			first = got
		} else if got != first {
			t.Fatalf("Payload differs between calls:\n%s\n%s", first, got)
		}
	}
}
