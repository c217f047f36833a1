package feedsync

import (
	"bytes"
)

// MarshalItem returns the item as a standalone XML element: its <item> or
// <entry> with every namespace declaration it relies on, so that it means
// the same outside its feed. Stores and spill files keep items this way;
// UnmarshalItem reads them back.
func MarshalItem(it *Item) ([]byte, error) {
	h := standaloneHeader(it.format)
	w := &Writer{h: h, decls: map[[2]*scope][]binding{}}
	// Render for a place where nothing is bound, so that every binding the
	// item relies on is declared on its root.
	b, err := w.render(it, nil)
	if err != nil {
		return nil, itemErr(it, err)
	}
	return bytes.Clone(b), nil
}

// UnmarshalItem parses an element written by MarshalItem (or any standalone
// RSS <item> or Atom <entry>).
func UnmarshalItem(b []byte) (*Item, error) { return unmarshalItem(b, ReaderOptions{}) }

var (
	rssWrapOpen   = []byte("<rss><channel>")
	rssWrapClose  = []byte("</channel></rss>")
	atomWrapOpen  = []byte(`<feed xmlns="` + AtomNamespace + `">`)
	atomWrapClose = []byte("</feed>")
)

// sniffItemFormat looks at the root tag of a standalone element.
func sniffItemFormat(b []byte) Format {
	b = bytes.TrimLeft(b, " \t\r\n")
	switch {
	case bytes.HasPrefix(b, []byte("<item")) && len(b) > 5 && (isSpace(b[5]) || b[5] == '>' || b[5] == '/'):
		return RSS
	case bytes.Contains(b[:min(len(b), 200)], []byte("entry")):
		return Atom
	}
	return FormatUnknown
}

var standaloneHeaders = map[Format]*Header{
	RSS:  {Format: RSS},
	Atom: {Format: Atom},
}

func standaloneHeader(f Format) *Header {
	if h, ok := standaloneHeaders[f]; ok {
		return h
	}
	return standaloneHeaders[RSS]
}
