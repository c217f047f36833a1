package feedsync

import (
	"bytes"
	"fmt"
	"io"
	"strings"
	"testing"
	"testing/iotest"
)

// TestReaderRoundTripAcrossBuffer reads feeds whose items, header and
// trailer are larger than what the Reader's tokenizer reads at once, from
// a reader that hands out one byte at a time and from one that hands out
// everything, and writes them back: the output must be the input, byte for
// byte. The trailer is kept while the rest of the document is read, which
// moves the tokenizer's buffer.
func TestReaderRoundTripAcrossBuffer(t *testing.T) {
	item := func(i int, text string) string {
		return fmt.Sprintf("<item><title>%d</title><description>%s</description>"+
			`<sx:sync id="i%d" updates="1"><sx:history sequence="1" by="a"/></sx:sync></item>`, i, text, i)
	}
	big := strings.Repeat("x&amp;y\r\n", 10000)
	var items []string
	for i := range 40 {
		text := "short"
		if i%10 == 3 {
			text = big
		}
		items = append(items, item(i, text))
	}
	head := `<?xml version="1.0" encoding="UTF-8"?>` + "\n" +
		`<rss version="2.0" xmlns:sx="http://feedsync.org/2007/feedsync"><channel>` +
		"<title>t</title><description>" + strings.Repeat("h", 50000) + "</description>\n  "
	cases := map[string]string{
		"big trailer": head + strings.Join(items, "\n  ") + "\n</channel></rss>\n<!--" + strings.Repeat(" c", 60000) + "-->\n",
		"big gap":     head + strings.Join(items, "\n  ") + "\n" + strings.Repeat(" ", 100000) + "</channel></rss>",
	}
	for name, doc := range cases {
		for _, rd := range []struct {
			name string
			r    func() io.Reader
		}{
			{"whole", func() io.Reader { return strings.NewReader(doc) }},
			{"bytewise", func() io.Reader { return iotest.OneByteReader(strings.NewReader(doc)) }},
		} {
			t.Run(name+"/"+rd.name, func(t *testing.T) {
				r := NewReader(rd.r())
				var got []*Item
				for {
					it, err := r.Next()
					if err == io.EOF {
						break
					}
					if err != nil {
						t.Fatalf("item %d: %v", len(got), err)
					}
					got = append(got, it)
				}
				if len(got) != len(items) {
					t.Fatalf("read %d items, want %d", len(got), len(items))
				}
				h, err := r.Header()
				if err != nil {
					t.Fatal(err)
				}
				var out bytes.Buffer
				if err := WriteAll(&out, h, got); err != nil {
					t.Fatal(err)
				}
				if out.String() != doc {
					i := 0
					for i < min(out.Len(), len(doc)) && out.Bytes()[i] == doc[i] {
						i++
					}
					t.Fatalf("written back %d bytes, read %d; first difference at %d: %.40q, want %.40q",
						out.Len(), len(doc), i, out.Bytes()[i:], doc[i:])
				}
			})
		}
	}
}
