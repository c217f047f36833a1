package converter_test

import (
	"bytes"
	"errors"
	"strings"
	"testing"

	"github.com/beevik/etree"

	"github.com/feedsync/go-feedsync/converter"
	"github.com/feedsync/go-feedsync/feedsync"
)

// TestRawAccepts checks the payloads Raw takes in, and what FromPayload
// writes for each: the element alone, declarations kept, canonical
// escaping.
func TestRawAccepts(t *testing.T) {
	tests := []struct {
		name   string
		raw    Raw
		in     string
		format feedsync.Format
		want   string
	}{
		{
			name:   "rss item",
			in:     `<item><title>T</title><description>a &amp; b</description></item>`,
			format: feedsync.RSS,
			want:   `<item><title>T</title><description>a &amp; b</description></item>`,
		},
		{
			name:   "prolog, comments and white space around",
			in:     "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<!-- one -->\n<item><title>T</title></item>\n<!-- two -->\n",
			format: feedsync.RSS,
			want:   `<item><title>T</title></item>`,
		},
		{
			name:   "atom entry",
			in:     `<entry xmlns="http://www.w3.org/2005/Atom"><id>urn:x</id><title type="text">T</title><updated>2009-04-01T09:00:00Z</updated></entry>`,
			format: feedsync.Atom,
			want:   `<entry xmlns="http://www.w3.org/2005/Atom"><id>urn:x</id><title type="text">T</title><updated>2009-04-01T09:00:00Z</updated></entry>`,
		},
		{
			name:   "atom entry with a prefix",
			in:     `<a:entry xmlns:a="http://www.w3.org/2005/Atom"><a:title>T</a:title></a:entry>`,
			format: feedsync.Atom,
			want:   `<a:entry xmlns:a="http://www.w3.org/2005/Atom"><a:title>T</a:title></a:entry>`,
		},
		{
			name:   "atom entry cut out of its feed",
			in:     `<entry><title>T</title></entry>`,
			format: feedsync.Atom,
			want:   `<entry><title>T</title></entry>`,
		},
		{
			name:   "namespaced extension, CDATA, character references",
			in:     `<item xmlns:dc="http://purl.org/dc/elements/1.1/"><dc:creator>me</dc:creator><description><![CDATA[<p>x</p>]]></description><title>a&#xD;&#10;b</title><link href="1&#9;2&#xA;3"/></item>`,
			format: feedsync.RSS,
			want:   `<item xmlns:dc="http://purl.org/dc/elements/1.1/"><dc:creator>me</dc:creator><description><![CDATA[<p>x</p>]]></description><title>a&#xD;` + "\n" + `b</title><link href="1&#x9;2&#xA;3"/></item>`,
		},
		{
			name:   "restricted to RSS",
			raw:    Raw{Format: feedsync.RSS},
			in:     `<item/>`,
			format: feedsync.RSS,
			want:   `<item/>`,
		},
		{
			name:   "depth at the limit",
			raw:    Raw{MaxDepth: 3},
			in:     `<item><a><b/></a></item>`,
			format: feedsync.RSS,
			want:   `<item><a><b/></a></item>`,
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			e, err := tc.raw.ToPayload("", []byte(tc.in))
			if err != nil {
				t.Fatalf("ToPayload: %v", err)
			}
			if got := converter.RawFormat(e); got != tc.format {
				t.Errorf("RawFormat = %v, want %v", got, tc.format)
			}
			out, err := tc.raw.FromPayload(e)
			if err != nil {
				t.Fatalf("FromPayload: %v", err)
			}
			if got := string(out); got != tc.want {
				t.Errorf("FromPayload:\ngot  %s\nwant %s", got, tc.want)
			}
			// What FromPayload writes reads back to the same bytes and the
			// same digest.
			e2, err := tc.raw.ToPayload("", out)
			if err != nil {
				t.Fatalf("ToPayload(FromPayload): %v", err)
			}
			out2, err := tc.raw.FromPayload(e2)
			if err != nil {
				t.Fatalf("FromPayload again: %v", err)
			}
			if !bytes.Equal(out, out2) {
				t.Errorf("not stable:\nfirst  %s\nsecond %s", out, out2)
			}
			if d1, d2 := itemDigest(t, feedsync.NewItem(tc.format, e)), itemDigest(t, feedsync.NewItem(tc.format, e2)); d1 != d2 {
				t.Errorf("digest changed through FromPayload/ToPayload")
			}
		})
	}
}

// Raw is converter.Raw, short for the tables.
type Raw = converter.Raw

// TestRawRefuses checks every kind of input Raw refuses, and the error it
// says so with.
func TestRawRefuses(t *testing.T) {
	tests := []struct {
		name string
		raw  Raw
		in   string
		want error // nil: any error
	}{
		{"doctype", Raw{}, `<!DOCTYPE item><item/>`, converter.ErrUnsafeXML},
		{"entity definition", Raw{}, `<!DOCTYPE item [<!ENTITY x "boom">]><item>&x;</item>`, converter.ErrUnsafeXML},
		{"external entity", Raw{}, `<!DOCTYPE item [<!ENTITY x SYSTEM "file:///etc/passwd">]><item>&x;</item>`, converter.ErrUnsafeXML},
		{"undefined entity", Raw{}, `<item>&x;</item>`, nil},
		{"undeclared element prefix", Raw{}, `<item><dc:creator>me</dc:creator></item>`, converter.ErrUnsafeXML},
		{"undeclared attribute prefix", Raw{}, `<item><link x:rel="a"/></item>`, converter.ErrUnsafeXML},
		{"empty", Raw{}, ``, converter.ErrNotItem},
		{"only a comment", Raw{}, `<!-- x -->`, converter.ErrNotItem},
		{"two elements", Raw{}, `<item/><item/>`, converter.ErrNotItem},
		{"text after", Raw{}, `<item/>x`, converter.ErrNotItem},
		{"text before", Raw{}, `x<item/>`, converter.ErrNotItem},
		{"processing instruction", Raw{}, `<?php x?><item/>`, converter.ErrNotItem},
		{"processing instruction inside", Raw{}, `<item><?xml-stylesheet href="a"?></item>`, converter.ErrNotItem},
		{"not an item", Raw{}, `<channel/>`, converter.ErrNotItem},
		{"whole feed", Raw{}, `<rss version="2.0"><channel><item/></channel></rss>`, converter.ErrNotItem},
		{"item in a namespace", Raw{}, `<item xmlns="http://purl.org/rss/1.0/"/>`, converter.ErrNotItem},
		{"entry in another namespace", Raw{}, `<entry xmlns="http://example.org/"/>`, converter.ErrNotItem},
		{"entry when RSS is asked", Raw{Format: feedsync.RSS}, `<entry xmlns="http://www.w3.org/2005/Atom"/>`, converter.ErrNotItem},
		{"item when Atom is asked", Raw{Format: feedsync.Atom}, `<item/>`, converter.ErrNotItem},
		{"sx:sync inside", Raw{}, `<item><sx:sync xmlns:sx="http://feedsync.org/2007/feedsync" id="a" updates="1"/></item>`, converter.ErrNotItem},
		{"SSE sync inside", Raw{}, `<item><sync xmlns="http://www.microsoft.com/schemas/sse" id="a" updates="1"/></item>`, converter.ErrNotItem},
		{"unclosed", Raw{}, `<item><title>`, nil},
		{"mismatched end tag", Raw{}, `<item><a></b></item>`, nil},
		{"too deep", Raw{MaxDepth: 2}, `<item><a><b/></a></item>`, feedsync.ErrLimit},
		{"too large", Raw{MaxBytes: 10}, `<item>0123456789</item>`, feedsync.ErrLimit},
		{"not UTF-8 declared", Raw{}, `<?xml version="1.0" encoding="ISO-8859-1"?><item/>`, nil},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			e, err := tc.raw.ToPayload("", []byte(tc.in))
			if err == nil {
				t.Fatalf("ToPayload accepted it: %s", writeElem(e))
			}
			if tc.want != nil && !errors.Is(err, tc.want) {
				t.Errorf("got %v, want %v", err, tc.want)
			}
			if msg := err.Error(); !strings.HasPrefix(msg, "converter: ") || !strings.Contains(msg, "raw payload") || strings.Count(msg, "converter:") > 1 {
				t.Errorf("error %q does not say what failed", err)
			}
		})
	}
}

// TestRawFromPayload checks that FromPayload refuses elements that are not
// payloads, drops sx:sync, and takes the declarations of a payload still
// in its feed along.
func TestRawFromPayload(t *testing.T) {
	if _, err := (Raw{}).FromPayload(etree.NewElement("channel")); !errors.Is(err, converter.ErrNotItem) {
		t.Errorf("channel: got %v, want ErrNotItem", err)
	}
	if _, err := (Raw{Format: feedsync.Atom}).FromPayload(etree.NewElement("item")); !errors.Is(err, converter.ErrNotItem) {
		t.Errorf("item as Atom: got %v, want ErrNotItem", err)
	}
	if _, err := (Raw{}).FromPayload(nil); !errors.Is(err, converter.ErrNotItem) {
		t.Errorf("nil: got %v, want ErrNotItem", err)
	}

	doc := etree.NewDocument()
	err := doc.ReadFromString(`<feed xmlns="http://www.w3.org/2005/Atom" xmlns:dc="http://purl.org/dc/elements/1.1/" xmlns:sx="http://feedsync.org/2007/feedsync">` +
		`<entry><title>T</title><dc:creator>me</dc:creator><sx:sync id="a" updates="1"><sx:history sequence="1" by="x"/></sx:sync></entry></feed>`)
	if err != nil {
		t.Fatal(err)
	}
	out, err := (Raw{}).FromPayload(doc.Root().SelectElement("entry"))
	if err != nil {
		t.Fatalf("FromPayload: %v", err)
	}
	want := `<entry xmlns="http://www.w3.org/2005/Atom" xmlns:dc="http://purl.org/dc/elements/1.1/"><title>T</title><dc:creator>me</dc:creator></entry>`
	if string(out) != want {
		t.Errorf("FromPayload:\ngot  %s\nwant %s", out, want)
	}
}

// TestRawItemRoundTrip takes raw payloads through a feed and back with
// FromItem: the item's digest and the payload text survive.
func TestRawItemRoundTrip(t *testing.T) {
	for _, in := range []string{
		`<item xmlns:dc="http://purl.org/dc/elements/1.1/"><title>Buy stamps</title><dc:creator>me</dc:creator></item>`,
		`<entry xmlns="http://www.w3.org/2005/Atom"><id>urn:x</id><title>T</title><updated>2009-04-01T09:00:00Z</updated><content type="html">&lt;p&gt;x&lt;/p&gt;</content></entry>`,
	} {
		e, err := Raw{}.ToPayload("", []byte(in))
		if err != nil {
			t.Fatalf("ToPayload: %v", err)
		}
		f := converter.RawFormat(e)
		created, read := throughFeed(t, f, "raw-1", e)
		if itemDigest(t, created) != itemDigest(t, read) {
			t.Errorf("%s: digest changed through the feed", f)
		}
		out, err := converter.FromItem[[]byte](Raw{}, read)
		if err != nil {
			t.Fatalf("FromItem: %v", err)
		}
		if string(out) != in {
			t.Errorf("%s: FromItem:\ngot  %s\nwant %s", f, out, in)
		}
	}
}

// FuzzRaw checks that whatever ToPayload accepts, FromPayload writes back,
// ToPayload accepts again, and the second round gives the same bytes and
// digest (STYLE habit 15, like archive/tar's FuzzReader).
func FuzzRaw(f *testing.F) {
	for _, s := range []string{
		`<item><title>T</title></item>`,
		`<entry xmlns="http://www.w3.org/2005/Atom"><title>T</title></entry>`,
		`<item xmlns:dc="http://purl.org/dc/elements/1.1/" dc:a="x&#xA;y"><dc:creator>me</dc:creator><![CDATA[a]]>b&amp;c&#xD;</item>`,
		`<!DOCTYPE item><item/>`,
		`<item><a xmlns="urn:x"><b xmlns=""/></a></item>`,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		var r Raw
		e, err := r.ToPayload("", b)
		if err != nil {
			return
		}
		out, err := r.FromPayload(e)
		if err != nil {
			t.Fatalf("FromPayload of an accepted payload: %v", err)
		}
		e2, err := r.ToPayload("", out)
		if err != nil {
			t.Fatalf("ToPayload(%q) refused what FromPayload wrote: %v", out, err)
		}
		out2, err := r.FromPayload(e2)
		if err != nil {
			t.Fatalf("FromPayload again: %v", err)
		}
		if !bytes.Equal(out, out2) {
			t.Fatalf("not stable:\nfirst  %q\nsecond %q", out, out2)
		}
		f := converter.RawFormat(e)
		it := feedsync.NewItem(f, e)
		if itemDigest(t, it) != itemDigest(t, feedsync.NewItem(f, e2)) {
			t.Fatalf("digest changed: %q", out)
		}
		// An accepted payload makes an item that feedsync can store and
		// read back.
		m, err := feedsync.MarshalItem(it)
		if err != nil {
			t.Fatalf("MarshalItem(%q): %v", out, err)
		}
		if _, err := feedsync.UnmarshalItem(m); err != nil {
			t.Fatalf("UnmarshalItem(%q) of payload %q: %v", m, out, err)
		}
	})
}
