// Command gen writes the data of the PouchDB comparison (bench/pouchdb/run.sh):
// the same items as a FeedSync Atom feed, for feedsync, and as JSON Lines
// documents, for PouchDB, plus 100 edits for each side of a two-way sync.
//
//	go run ./bench/pouchdb/gen -n 100000 -o DIR
//
// DIR receives feed.xml and feed.jsonl (n items), and edits-server.xml,
// edits-client.xml, edits-server.jsonl and edits-client.jsonl (the edits: the
// same items changed, 100 on each side, disjoint). The data is the same on
// every run: a fixed seed and fixed times. Each item is about 1.5 KB of XML.
package main

import (
	"bufio"
	"encoding/json"
	"flag"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/beevik/etree"
	"github.com/feedsync/go-feedsync/feedsync"
)

// words are what the generated text is made of: ordinary English, so that
// it compresses as real notes do, neither like noise nor like repetition.
var words = strings.Fields(`the a of to and in for on with at by from up about into over after
task list note parcel stamps post office corner card identification queue machine back cards
airmail postcards forwarded opening hours holidays year meeting project report budget review
draft send call email reply client invoice payment order delivery address street city garden
kitchen paint window door roof plumber electrician appointment doctor dentist school teacher
homework book library return borrow renew week month morning afternoon evening tomorrow today
monday tuesday wednesday thursday friday saturday sunday remember check confirm cancel move
schedule plan buy sell pick bring take leave ask tell write read print sign scan copy file
share update change fix clean wash cook bake water feed walk dog cat car tyres oil service
insurance bank tax form receipt keep throw recycle box tape label weigh price quote compare
before after while because unless until again also only still never always often soon later`)

// edits is how many items each side changes for the two-way sync.
const edits = 100

var base = time.Date(2026, 1, 5, 9, 0, 0, 0, time.UTC)

// doc is one item's content, as PouchDB stores it and as the Atom entry
// carries it.
type doc struct {
	ID       string `json:"_id"`
	Title    string `json:"title"`
	Updated  string `json:"updated"`
	Author   string `json:"author"`
	Category string `json:"category"`
	Content  string `json:"content"`
}

func sentence(r *rand.Rand, n int) string {
	var b strings.Builder
	for i := range n {
		if i > 0 {
			b.WriteByte(' ')
		}
		b.WriteString(words[r.IntN(len(words))])
	}
	return b.String()
}

// makeDoc returns item i; edit, when not empty, says who changed it.
func makeDoc(i int, edit string) doc {
	r := rand.New(rand.NewPCG(uint64(i), 2026))
	d := doc{
		ID:       fmt.Sprintf("task-%07d", i),
		Title:    fmt.Sprintf("Task %d: %s", i, sentence(r, 5)),
		Updated:  feedsync.FormatTime(base.Add(time.Duration(i) * time.Second)),
		Author:   []string{"Ann", "Bob", "Carla", "Dev", "Eve"}[r.IntN(5)],
		Category: []string{"errands", "work", "home", "school", "health"}[r.IntN(5)],
	}
	var c strings.Builder
	for c.Len() < 1050 {
		s := sentence(r, 6+r.IntN(10))
		c.WriteString(strings.ToUpper(s[:1]) + s[1:] + ". ")
	}
	d.Content = strings.TrimSpace(c.String())
	if edit != "" {
		d.Title += " (changed on the " + edit + ")"
		d.Updated = feedsync.FormatTime(base.Add(48 * time.Hour))
	}
	return d
}

func entry(d doc) *etree.Element {
	e := etree.NewElement("entry")
	e.CreateAttr("xmlns", feedsync.AtomNamespace)
	e.CreateElement("title").SetText(d.Title)
	e.CreateElement("id").SetText("urn:feedsync:" + d.ID)
	e.CreateElement("updated").SetText(d.Updated)
	e.CreateElement("author").CreateElement("name").SetText(d.Author)
	e.CreateElement("category").CreateAttr("term", d.Category)
	c := e.CreateElement("content")
	c.CreateAttr("type", "text")
	c.SetText(d.Content)
	return e
}

// item returns the item of d as the server created it.
func item(d doc) (*feedsync.Item, error) {
	return feedsync.Create(feedsync.Atom, entry(d), d.ID, feedsync.Stamp{By: "server", When: base}, false)
}

// output is a feed file and a JSON Lines file written side by side.
type output struct {
	files []*os.File
	feed  *feedsync.Writer
	docs  *bufio.Writer
	xml   *bufio.Writer
}

func create(dir, name, title string) (*output, error) {
	xf, err := os.Create(filepath.Join(dir, name+".xml"))
	if err != nil {
		return nil, err
	}
	jf, err := os.Create(filepath.Join(dir, name+".jsonl"))
	if err != nil {
		xf.Close()
		return nil, err
	}
	o := &output{files: []*os.File{xf, jf}, xml: bufio.NewWriterSize(xf, 1<<20), docs: bufio.NewWriterSize(jf, 1<<20)}
	o.feed = feedsync.NewWriter(o.xml, feedsync.NewHeader(feedsync.Atom, feedsync.FeedInfo{Title: title, ID: "urn:feedsync:bench:" + name, Updated: base}))
	return o, nil
}

func (o *output) write(d doc, it *feedsync.Item) error {
	if err := o.feed.WriteItem(it); err != nil {
		return err
	}
	b, err := json.Marshal(d)
	if err != nil {
		return err
	}
	o.docs.Write(b)
	return o.docs.WriteByte('\n')
}

func (o *output) close() error {
	err := o.feed.Close()
	for _, w := range []*bufio.Writer{o.xml, o.docs} {
		if ferr := w.Flush(); err == nil {
			err = ferr
		}
	}
	for _, f := range o.files {
		if cerr := f.Close(); err == nil {
			err = cerr
		}
	}
	return err
}

func run(n int, dir string) error {
	if n < 2*edits {
		return fmt.Errorf("-n %d: at least %d items", n, 2*edits)
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	all, err := create(dir, "feed", "Tasks")
	if err != nil {
		return err
	}
	for i := range n {
		d := makeDoc(i, "")
		it, err := item(d)
		if err != nil {
			return fmt.Errorf("item %d: %w", i, err)
		}
		if err := all.write(d, it); err != nil {
			return fmt.Errorf("item %d: %w", i, err)
		}
	}
	if err := all.close(); err != nil {
		return err
	}
	// The edited items are spread over the store, the server's and the
	// client's interleaved and disjoint.
	stride := n / (2 * edits)
	for side, by := range []string{"server", "client"} {
		o, err := create(dir, "edits-"+by, "Edits on the "+by)
		if err != nil {
			return err
		}
		for k := range edits {
			i := (2*k + side) * stride
			d := makeDoc(i, by)
			it, err := item(makeDoc(i, ""))
			if err == nil {
				it, err = feedsync.Update(it, entry(d), feedsync.Stamp{By: by, When: base.Add(48 * time.Hour)})
			}
			if err == nil {
				err = o.write(d, it)
			}
			if err != nil {
				return fmt.Errorf("edit of item %d on the %s: %w", i, by, err)
			}
		}
		if err := o.close(); err != nil {
			return err
		}
	}
	return nil
}

func main() {
	n := flag.Int("n", 100_000, "number of items")
	dir := flag.String("o", ".", "output directory")
	flag.Parse()
	if err := run(*n, *dir); err != nil {
		fmt.Fprintln(os.Stderr, "gen:", err)
		os.Exit(1)
	}
}
