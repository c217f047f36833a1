package merge

import (
	"fmt"
	"html"
	"strings"
	"time"

	"github.com/feedsync/go-feedsync/feedsync"
	"pgregory.net/rapid"
)

// This file generates random feeds for the reference and fuzz checks: a
// model of versions rendered as RSS or Atom text, so that the reader is
// exercised too.

// genHist is one sx:history entry; when is minutes after genEpoch, or -1
// for none.
type genHist struct {
	seq  int64
	by   string
	when int
}

// genVersion is one version of an item: metadata plus a payload title.
type genVersion struct {
	id       string
	updates  int64
	deleted  bool
	noconf   bool
	hist     []genHist
	title    string
	children []*genVersion // conflict copies, when the version is an item
}

// genItem is one item of a feed: a sync item (v set) or a plain item.
type genItem struct {
	v     *genVersion
	title string // plain items only
}

// genFeed is a feed to render.
type genFeed struct {
	format feedsync.Format
	prefix string // prefix bound to the FeedSync namespace
	name   string
	items  []genItem
}

var genEpoch = time.Date(2009, 4, 1, 9, 0, 0, 0, time.UTC)

func (h genHist) subsumedBy(y genHist) bool {
	if h.by != "" {
		return y.by == h.by && y.seq >= h.seq
	}
	return y.by == "" && y.when == h.when && y.seq == h.seq
}

// render writes the feed as XML text.
func (f genFeed) render() []byte {
	var b strings.Builder
	p := f.prefix
	b.WriteString(`<?xml version="1.0" encoding="UTF-8"?>` + "\n")
	if f.format == feedsync.Atom {
		fmt.Fprintf(&b, `<feed xmlns="%s" xmlns:%s="%s">`+"\n", feedsync.AtomNamespace, p, feedsync.Namespace)
		fmt.Fprintf(&b, "  <title>%s</title>\n  <id>urn:feed:%s</id>\n  <updated>2009-04-01T09:00:00Z</updated>\n", f.name, f.name)
	} else {
		fmt.Fprintf(&b, `<rss version="2.0" xmlns:%s="%s">`+"\n  <channel>\n", p, feedsync.Namespace)
		fmt.Fprintf(&b, "    <title>%s</title>\n    <link>https://%s.example.org/</link>\n    <description>random feed</description>\n", f.name, f.name)
	}
	for _, it := range f.items {
		if it.v == nil {
			if f.format == feedsync.Atom {
				fmt.Fprintf(&b, "  <entry><title>%s</title><id>urn:plain:%s</id><updated>2009-04-01T09:00:00Z</updated></entry>\n", it.title, it.title)
			} else {
				fmt.Fprintf(&b, "    <item><title>%s</title></item>\n", it.title)
			}
			continue
		}
		renderVersion(&b, it.v, f.format, p, "    ")
	}
	if f.format == feedsync.Atom {
		b.WriteString("</feed>\n")
	} else {
		b.WriteString("  </channel>\n</rss>\n")
	}
	return []byte(b.String())
}

func renderVersion(b *strings.Builder, v *genVersion, f feedsync.Format, p, ind string) {
	tag := "item"
	if f == feedsync.Atom {
		tag = "entry"
	}
	fmt.Fprintf(b, "%s<%s>\n", ind, tag)
	if f == feedsync.Atom {
		fmt.Fprintf(b, "%s  <title>%s</title>\n%s  <summary>about %s</summary>\n%s  <id>urn:item:%s</id>\n%s  <updated>2009-04-01T09:00:00Z</updated>\n",
			ind, html.EscapeString(v.title), ind, html.EscapeString(v.title), ind, v.id, ind)
	} else {
		fmt.Fprintf(b, "%s  <title>%s</title>\n%s  <description>about %s</description>\n", ind, html.EscapeString(v.title), ind, html.EscapeString(v.title))
	}
	fmt.Fprintf(b, `%s  <%s:sync id="%s"`, ind, p, v.id)
	if v.updates > 0 {
		fmt.Fprintf(b, ` updates="%d"`, v.updates)
	}
	if v.deleted {
		b.WriteString(` deleted="true"`)
	}
	if v.noconf {
		b.WriteString(` noconflicts="true"`)
	}
	b.WriteString(">\n")
	for _, h := range v.hist {
		fmt.Fprintf(b, `%s    <%s:history sequence="%d"`, ind, p, h.seq)
		if h.when >= 0 {
			fmt.Fprintf(b, ` when="%s"`, feedsync.FormatTime(genEpoch.Add(time.Duration(h.when)*time.Minute)))
		}
		if h.by != "" {
			fmt.Fprintf(b, ` by="%s"`, h.by)
		}
		b.WriteString("/>\n")
	}
	if len(v.children) > 0 {
		fmt.Fprintf(b, "%s    <%s:conflicts>\n", ind, p)
		for _, c := range v.children {
			renderVersion(b, c, f, p, ind+"      ")
		}
		fmt.Fprintf(b, "%s    </%s:conflicts>\n", ind, p)
	}
	fmt.Fprintf(b, "%s  </%s:sync>\n%s</%s>\n", ind, p, ind, tag)
}

// genUniverse draws the versions an item id went through: a creation, then
// updates derived from earlier versions, some of them resolutions that fold
// another version's history (FS-RESOLVE-3). bys is the endpoint pool; ""
// stands for anonymous entries.
func genUniverse(t *rapid.T, id string, bys []string, noconf bool) []*genVersion {
	by := rapid.SampledFrom(bys)
	when := rapid.IntRange(-1, 6)
	pick := func(label string) genHist {
		h := genHist{by: by.Draw(t, label+"-by"), when: when.Draw(t, label+"-when")}
		if h.by == "" && h.when < 0 {
			h.when = 0 // FS-HIST-4: one of the two
		}
		return h
	}
	titles := rapid.SampledFrom([]string{"milk", "eggs", "bread & jam", "stamps"})
	root := pick("root")
	root.seq = 1
	u := []*genVersion{{id: id, updates: 1, noconf: noconf, hist: []genHist{root}, title: titles.Draw(t, "title")}}
	n := rapid.IntRange(0, 4).Draw(t, "versions")
	for k := 0; k < n; k++ {
		parent := rapid.SampledFrom(u).Draw(t, "parent")
		h := pick("update")
		h.seq = parent.updates + 1
		v := &genVersion{id: id, updates: h.seq, noconf: noconf, title: titles.Draw(t, "title"),
			deleted: rapid.IntRange(0, 3).Draw(t, "deleted") == 0}
		v.hist = append([]genHist{h}, parent.hist...)
		if rapid.IntRange(0, 3).Draw(t, "fold") == 0 {
			o := rapid.SampledFrom(u).Draw(t, "folded")
			at := 1
		fold:
			for _, oh := range o.hist {
				for _, vh := range v.hist {
					if oh.subsumedBy(vh) {
						continue fold
					}
				}
				v.hist = append(v.hist[:at], append([]genHist{oh}, v.hist[at:]...)...)
				at++
			}
		}
		u = append(u, v)
	}
	return u
}

// genSide draws what one feed holds for an item: a winner and some other
// versions of the universe as conflict copies (none for noconflicts items,
// FS-MERGE-11).
func genSide(t *rapid.T, u []*genVersion, label string) *genVersion {
	w := *rapid.SampledFrom(u).Draw(t, label+"-winner")
	w.children = nil
	if w.noconf {
		return &w
	}
	n := rapid.IntRange(0, 2).Draw(t, label+"-conflicts")
	for i := 0; i < n; i++ {
		c := rapid.SampledFrom(u).Draw(t, label+"-conflict")
		dup := c.updates == w.updates && sameHist(c.hist, w.hist)
		for _, o := range w.children {
			dup = dup || o.updates == c.updates && sameHist(o.hist, c.hist)
		}
		if !dup {
			cc := *c
			cc.children = nil
			w.children = append(w.children, &cc)
		}
	}
	return &w
}

func sameHist(a, b []genHist) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

// genPair draws a local and an incoming feed over a common set of item
// ids, with plain items on both sides, invalid items on the incoming side,
// random formats and prefixes, and incoming items in a random order.
func genPair(t *rapid.T, bys []string) (local, incoming genFeed) {
	formats := rapid.SampledFrom([]feedsync.Format{feedsync.RSS, feedsync.Atom})
	prefixes := rapid.SampledFrom([]string{"sx", "fs"})
	local = genFeed{format: formats.Draw(t, "local-format"), prefix: prefixes.Draw(t, "local-prefix"), name: "local"}
	incoming = genFeed{format: formats.Draw(t, "incoming-format"), prefix: prefixes.Draw(t, "incoming-prefix"), name: "incoming"}
	n := rapid.IntRange(0, 6).Draw(t, "ids")
	for i := 0; i < n; i++ {
		id := fmt.Sprintf("item-%d", i)
		noconf := rapid.IntRange(0, 7).Draw(t, "noconflicts") == 0
		u := genUniverse(t, id, bys, noconf)
		switch rapid.IntRange(0, 3).Draw(t, "sides") {
		case 0:
			local.items = append(local.items, genItem{v: genSide(t, u, "local")})
		case 1:
			incoming.items = append(incoming.items, genItem{v: genSide(t, u, "incoming")})
		default:
			local.items = append(local.items, genItem{v: genSide(t, u, "local")})
			incoming.items = append(incoming.items, genItem{v: genSide(t, u, "incoming")})
		}
	}
	for i := rapid.IntRange(0, 2).Draw(t, "local-plain"); i > 0; i-- {
		at := rapid.IntRange(0, len(local.items)).Draw(t, "at")
		local.items = append(local.items[:at], append([]genItem{{title: fmt.Sprintf("local-plain-%d", i)}}, local.items[at:]...)...)
	}
	for i := rapid.IntRange(0, 1).Draw(t, "incoming-plain"); i > 0; i-- {
		incoming.items = append(incoming.items, genItem{title: fmt.Sprintf("incoming-plain-%d", i)})
	}
	if rapid.IntRange(0, 4).Draw(t, "invalid") == 0 {
		// FS-ROBUST-1: no updates attribute.
		incoming.items = append(incoming.items, genItem{v: &genVersion{id: "bad-1", hist: []genHist{{seq: 1, by: "x", when: 0}}, title: "bad"}})
	}
	incoming.items = rapid.Permutation(incoming.items).Draw(t, "incoming-order")
	return local, incoming
}
