package merge

import (
	"bytes"
	"encoding/xml"
	"io"
	"strings"

	"github.com/feedsync/go-feedsync/feedsync"
)

// convertHeader returns the local feed's header in format to, for
// Options.Format.
//
// Workaround: feedsync's Header.Info, which Header.Convert uses, parses the
// header's bytes together with its trailer, and a Reader only knows the
// trailer once it has read the whole feed. Feeds needs the header before the
// first item, so Convert would lose the local feed's title, link and
// description. convertHeader therefore reads them from the bytes the Reader
// consumed up to the first item (prefix) whenever Info comes back empty. Once
// Info works on a header read before the end of the feed, this path is never
// taken.
func convertHeader(h *feedsync.Header, to feedsync.Format, prefix []byte) *feedsync.Header {
	if to == feedsync.FormatUnknown || to == h.Format {
		return h
	}
	if h.Info() != (feedsync.FeedInfo{}) {
		return h.Convert(to)
	}
	n := feedsync.NewHeader(to, prefixInfo(prefix, h.Format))
	if h.Sharing != nil {
		n.SetSharing(h.Sharing)
	}
	return n
}

// prefixInfo reads a feed's title, link, description (or subtitle), Atom id
// and updated time from the start of the document, stopping at the first
// item. It reads what Header.Info reads: the direct text of each element.
// Whatever cannot be read stays empty, and NewHeader's defaults apply.
func prefixInfo(prefix []byte, f feedsync.Format) feedsync.FeedInfo {
	var info feedsync.FeedInfo
	dec := xml.NewDecoder(bytes.NewReader(prefix))
	// Documents in other encodings are converted by the feedsync Reader,
	// not here: their info stays empty.
	dec.CharsetReader = func(string, io.Reader) (io.Reader, error) { return nil, io.EOF }
	var (
		stack []xml.Name
		text  strings.Builder
		seen  = map[string]bool{}
	)
	// container is the depth of the elements holding the feed's info:
	// rss/channel/* or feed/*.
	container := 2
	if f == feedsync.Atom {
		container = 1
	}
	for {
		tok, err := dec.Token()
		if err != nil {
			return info
		}
		switch t := tok.(type) {
		case xml.StartElement:
			stack = append(stack, t.Name)
			if len(stack) == container+1 {
				if t.Name.Local == "item" || t.Name.Local == "entry" {
					return info
				}
				text.Reset()
				if f == feedsync.Atom && t.Name.Local == "link" && t.Name.Space == feedsync.AtomNamespace && info.Link == "" {
					rel, href := "alternate", ""
					for _, a := range t.Attr {
						switch a.Name {
						case xml.Name{Local: "rel"}:
							rel = a.Value
						case xml.Name{Local: "href"}:
							href = a.Value
						}
					}
					if rel == "alternate" {
						info.Link = href
					}
				}
			}
		case xml.CharData:
			if len(stack) == container+1 {
				text.Write(t)
			}
		case xml.EndElement:
			if len(stack) == container+1 {
				name, v := t.Name, strings.TrimSpace(text.String())
				ok := f == feedsync.RSS && name.Space == "" || f == feedsync.Atom && name.Space == feedsync.AtomNamespace
				if ok && !seen[name.Local] {
					seen[name.Local] = true
					switch {
					case name.Local == "title":
						info.Title = v
					case f == feedsync.RSS && name.Local == "link":
						info.Link = v
					case f == feedsync.RSS && name.Local == "description",
						f == feedsync.Atom && name.Local == "subtitle":
						info.Description = v
					case f == feedsync.Atom && name.Local == "id":
						info.ID = v
					case f == feedsync.Atom && name.Local == "updated":
						if u, err := feedsync.ParseTime(v); err == nil {
							info.Updated = u
						}
					}
				}
			}
			if len(stack) > 0 {
				stack = stack[:len(stack)-1]
			}
		}
	}
}

// prefixRecorder passes reads through and keeps a copy of the first limit
// bytes while on is set.
type prefixRecorder struct {
	r     io.Reader
	buf   []byte
	limit int
	on    bool
}

func (p *prefixRecorder) Read(b []byte) (int, error) {
	n, err := p.r.Read(b)
	if p.on && n > 0 {
		room := p.limit - len(p.buf)
		p.buf = append(p.buf, b[:min(n, max(room, 0))]...)
	}
	return n, err
}
