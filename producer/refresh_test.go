package producer

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"iter"
	"strings"
	"testing"
	"time"

	"github.com/beevik/etree"
	"github.com/google/go-cmp/cmp"

	"github.com/feedsync/go-feedsync/converter"
	"github.com/feedsync/go-feedsync/feedsync"
)

var (
	t0   = time.Date(2009, 4, 1, 9, 0, 0, 0, time.UTC)
	t1   = time.Date(2009, 4, 2, 9, 0, 0, 0, time.UTC)
	t2   = time.Date(2009, 4, 3, 9, 0, 0, 0, time.UTC)
	laps = feedsync.Stamp{By: "laptop", When: t0}
)

// rec is a record given as its id and a JSON object.
type rec struct{ id, json string }

func records(t testing.TB, m converter.Map, recs ...rec) iter.Seq2[Record, error] {
	return func(yield func(Record, error) bool) {
		for i, r := range recs {
			dec := json.NewDecoder(strings.NewReader(r.json))
			dec.UseNumber()
			var v map[string]any
			if err := dec.Decode(&v); err != nil {
				t.Fatalf("record %s: %v", r.id, err)
			}
			p, err := m.ToPayload(r.id, v)
			if err != nil {
				t.Fatalf("record %s: %v", r.id, err)
			}
			if !yield(Record{ID: r.id, Payload: p, Line: i + 1}, nil) {
				return
			}
		}
	}
}

// refresh runs Refresh on a previous feed given as bytes (nil: none).
func refresh(t testing.TB, prev []byte, next iter.Seq2[Record, error], opts RefreshOptions) ([]byte, RefreshSummary) {
	t.Helper()
	var out bytes.Buffer
	var r io.ReadSeeker
	if prev != nil {
		r = bytes.NewReader(prev)
	}
	sum, err := Refresh(r, next, &out, opts)
	if err != nil {
		t.Fatalf("Refresh: %v", err)
	}
	return out.Bytes(), sum
}

// state is what a test checks of each item.
type state struct {
	Updates   int64
	Deleted   bool
	TopBy     string
	Conflicts int
	Title     string
}

func states(t testing.TB, feed []byte) map[string]state {
	t.Helper()
	_, items, err := feedsync.ReadAll(bytes.NewReader(feed))
	if err != nil {
		t.Fatalf("read output: %v\n%s", err, feed)
	}
	out := map[string]state{}
	for _, it := range items {
		if it.Sync == nil {
			continue
		}
		if err := it.Err(); err != nil {
			t.Errorf("output item %s: %v", it.ID(), err)
		}
		p, err := it.Payload()
		if err != nil {
			t.Fatal(err)
		}
		title := ""
		if e := p.SelectElement("title"); e != nil {
			title = e.Text()
		}
		out[it.ID()] = state{it.Sync.Updates, it.Sync.Deleted, it.Sync.Top().By, len(it.Sync.Conflicts), title}
	}
	return out
}

// itemBytes returns the exact bytes of each item of a feed, by sync id, as
// found between the start tags.
func itemBytes(t testing.TB, feed []byte) map[string]string {
	t.Helper()
	_, items, err := feedsync.ReadAll(bytes.NewReader(feed))
	if err != nil {
		t.Fatal(err)
	}
	s := string(feed)
	out := map[string]string{}
	for _, it := range items {
		if it.Sync == nil {
			continue
		}
		// Cut from the item's line to its end tag.
		lines := strings.SplitAfter(s, "\n")
		rest := strings.Join(lines[it.Line()-1:], "")
		end := "</item>"
		if it.Format() == feedsync.Atom {
			end = "</entry>"
		}
		out[it.ID()] = rest[:strings.Index(rest, end)+len(end)]
	}
	return out
}

// TestRefresh covers the refresh rules: a changed record is an update
// (FS-UPDATE-1..3), a new id a create (FS-CREATE-1..2), a missing id a
// deletion that stays as a tombstone (FS-DELETE-1, FS-DELETE-4), a tombstone
// that comes back is undeleted (FS-UPDATE-5), and everything else is copied
// byte for byte.
func TestRefresh(t *testing.T) {
	for _, format := range []feedsync.Format{feedsync.RSS, feedsync.Atom} {
		t.Run(format.String(), func(t *testing.T) {
			m := converter.Map{Format: format}
			h := feedsync.NewHeader(format, feedsync.FeedInfo{Title: "tasks", Updated: t0})
			v1, sum := refresh(t, nil, records(t, m,
				rec{"a", `{"title":"A"}`},
				rec{"b", `{"title":"B"}`},
				rec{"c", `{"title":"C"}`},
				rec{"d", `{"title":"D"}`},
			), RefreshOptions{Stamp: laps, Header: h})
			if diff := cmp.Diff(RefreshSummary{Created: 4}, sum); diff != "" {
				t.Errorf("first refresh summary (-want +got):\n%s", diff)
			}

			// Phone's stamp: b changes, d goes, e is new.
			phone := feedsync.Stamp{By: "phone", When: t1}
			v2, sum := refresh(t, v1, records(t, m,
				rec{"a", `{"title":"A"}`},
				rec{"b", `{"title":"B2"}`},
				rec{"c", `{"title":"C"}`},
				rec{"e", `{"title":"E"}`},
			), RefreshOptions{Stamp: phone})
			if diff := cmp.Diff(RefreshSummary{Created: 1, Updated: 1, Deleted: 1, Unchanged: 2}, sum); diff != "" {
				t.Errorf("second refresh summary (-want +got):\n%s", diff)
			}
			want := map[string]state{
				"a": {1, false, "laptop", 0, "A"},
				"b": {2, false, "phone", 0, "B2"},
				"c": {1, false, "laptop", 0, "C"},
				"d": {2, true, "phone", 0, "D"},
				"e": {1, false, "phone", 0, "E"},
			}
			if diff := cmp.Diff(want, states(t, v2)); diff != "" {
				t.Errorf("items after the second refresh (-want +got):\n%s", diff)
			}
			before, after := itemBytes(t, v1), itemBytes(t, v2)
			for _, id := range []string{"a", "c"} {
				if before[id] != after[id] {
					t.Errorf("unchanged item %s was rewritten:\nbefore %s\nafter  %s", id, before[id], after[id])
				}
			}

			// Same data again: nothing changes, the feed is byte-identical
			// and the tombstone stays a tombstone.
			v3, sum := refresh(t, v2, records(t, m,
				rec{"a", `{"title":"A"}`},
				rec{"b", `{"title":"B2"}`},
				rec{"c", `{"title":"C"}`},
				rec{"e", `{"title":"E"}`},
			), RefreshOptions{Stamp: feedsync.Stamp{By: "laptop", When: t2}})
			if diff := cmp.Diff(RefreshSummary{Unchanged: 5}, sum); diff != "" {
				t.Errorf("idempotent refresh summary (-want +got):\n%s", diff)
			}
			if !bytes.Equal(v3, v2) {
				t.Errorf("a refresh with the same data changed the feed:\nbefore:\n%s\nafter:\n%s", v2, v3)
			}

			// d comes back with its old content: an update that undeletes it
			// (FS-UPDATE-5), even though the payload is the same.
			v4, sum := refresh(t, v3, records(t, m,
				rec{"a", `{"title":"A"}`},
				rec{"b", `{"title":"B2"}`},
				rec{"c", `{"title":"C"}`},
				rec{"d", `{"title":"D"}`},
				rec{"e", `{"title":"E"}`},
			), RefreshOptions{Stamp: feedsync.Stamp{By: "laptop", When: t2}})
			if diff := cmp.Diff(RefreshSummary{Updated: 1, Unchanged: 4}, sum); diff != "" {
				t.Errorf("undelete summary (-want +got):\n%s", diff)
			}
			if got, want := states(t, v4)["d"], (state{3, false, "laptop", 0, "D"}); got != want {
				t.Errorf("undeleted d = %+v, want %+v", got, want)
			}
		})
	}
}

// TestRefreshKeepsForeignContent checks that items without sx:sync, feed
// metadata and sx:sharing survive a refresh untouched (FS-FEED-8, FS-FEED-9),
// and that an update keeps the conflict copies of other endpoints (§ FS-UPDATE-4
// folds only those the update subsumes).
func TestRefreshKeepsForeignContent(t *testing.T) {
	prev := []byte(`<?xml version="1.0"?>
<rss version="2.0" xmlns:sx="http://feedsync.org/2007/feedsync">
<channel>
<title>Mixed</title>
<sx:sharing since="2009-04-01T00:00:00Z" until="2009-04-02T00:00:00Z"/>
<item><title>plain, not synchronized</title></item>
<item><title>F</title><sx:sync id="f" updates="3">
  <sx:history sequence="3" when="2009-04-02T11:05:00Z" by="tablet"/>
  <sx:history sequence="2" when="2009-04-02T08:00:00Z" by="phone"/>
  <sx:conflicts><item><title>F by laptop</title><sx:sync id="f" updates="3">
    <sx:history sequence="3" when="2009-04-02T11:00:00Z" by="laptop"/>
    <sx:history sequence="2" when="2009-04-02T08:00:00Z" by="phone"/>
  </sx:sync></item></sx:conflicts>
</sx:sync></item>
<item><title>G</title><sx:sync id="g" updates="1"><sx:history sequence="1" by="phone"/></sx:sync></item>
</channel>
</rss>
`)
	out, sum := refresh(t, prev, records(t, converter.Map{},
		rec{"f", `{"title":"F2"}`},
		rec{"g", `{"title":"G"}`},
	), RefreshOptions{Stamp: feedsync.Stamp{By: "phone", When: t2}})
	if diff := cmp.Diff(RefreshSummary{Updated: 1, Unchanged: 1}, sum); diff != "" {
		t.Errorf("summary (-want +got):\n%s", diff)
	}
	for _, keep := range []string{
		"<title>Mixed</title>",
		`<sx:sharing since="2009-04-01T00:00:00Z" until="2009-04-02T00:00:00Z"/>`,
		"<item><title>plain, not synchronized</title></item>",
		`<item><title>G</title><sx:sync id="g" updates="1"><sx:history sequence="1" by="phone"/></sx:sync></item>`,
	} {
		if !bytes.Contains(out, []byte(keep)) {
			t.Errorf("output lost %s:\n%s", keep, out)
		}
	}
	if got, want := states(t, out)["f"], (state{4, false, "phone", 1, "F2"}); got != want {
		t.Errorf("f = %+v, want %+v (laptop's conflict copy kept)", got, want)
	}
}

// TestRefreshFormats checks a refresh that writes the other format, and
// records whose payloads come in the other format than the feed: they are
// converted, and the same data stays unchanged on the next refresh.
func TestRefreshFormats(t *testing.T) {
	rss := converter.Map{Format: feedsync.RSS}
	atom := converter.Map{Format: feedsync.Atom}
	data := []rec{{"a", `{"title":"A","n":1}`}, {"b", `{"title":"B"}`}}

	v1, _ := refresh(t, nil, records(t, atom, data...), RefreshOptions{Stamp: laps})
	if !bytes.Contains(v1, []byte("<rss")) {
		t.Fatalf("default format is not RSS:\n%s", v1)
	}
	_, sum := refresh(t, v1, records(t, atom, data...), RefreshOptions{Stamp: laps})
	if diff := cmp.Diff(RefreshSummary{Unchanged: 2}, sum); diff != "" {
		t.Errorf("Atom payloads into an RSS feed, refreshed (-want +got):\n%s", diff)
	}

	r1, _ := refresh(t, nil, records(t, rss, data...), RefreshOptions{Stamp: laps})
	v2, sum := refresh(t, r1, records(t, rss, data...), RefreshOptions{Stamp: laps, Format: feedsync.Atom})
	if diff := cmp.Diff(RefreshSummary{Unchanged: 2}, sum); diff != "" {
		t.Errorf("RSS feed written as Atom (-want +got):\n%s", diff)
	}
	h, items, err := feedsync.ReadAll(bytes.NewReader(v2))
	if err != nil {
		t.Fatal(err)
	}
	if h.Format != feedsync.Atom || len(items) != 2 {
		t.Errorf("got a %v feed with %d items, want atom with 2:\n%s", h.Format, len(items), v2)
	}
}

func TestRefreshErrors(t *testing.T) {
	m := converter.Map{}
	good, _ := refresh(t, nil, records(t, m, rec{"a", `{}`}), RefreshOptions{Stamp: laps})
	boom := errors.New("line 3: bad JSON")
	tests := []struct {
		name     string
		prev     []byte
		next     iter.Seq2[Record, error]
		opts     RefreshOptions
		is       error
		contains string
	}{
		{
			name:     "duplicate record id",
			next:     records(t, m, rec{"a", `{}`}, rec{"b", `{}`}, rec{"a", `{}`}),
			is:       feedsync.ErrDuplicateID,
			contains: `item "a" (line 3): feedsync: duplicate sync id: also used by the record at line 1`,
		},
		{
			name:     "duplicate record id with a previous feed",
			prev:     good,
			next:     records(t, m, rec{"a", `{}`}, rec{"a", `{"x":1}`}),
			is:       feedsync.ErrDuplicateID,
			contains: `item "a" (line 2)`,
		},
		{
			name: "invalid record id",
			next: records(t, m, rec{"a b", `{}`}),
			is:   ErrRecordID,
		},
		{
			name: "iterator error",
			prev: good,
			next: func(yield func(Record, error) bool) { yield(Record{}, boom) },
			is:   boom,
		},
		{
			name: "no stamp",
			next: records(t, m),
			opts: RefreshOptions{Stamp: feedsync.Stamp{}},
			is:   feedsync.ErrBadStamp,
		},
		{
			name: "previous feed with duplicate ids (FS-ROBUST-3)",
			prev: []byte(`<rss><channel>
<item><sx:sync xmlns:sx="http://feedsync.org/2007/feedsync" id="a" updates="1"><sx:history sequence="1" by="x"/></sx:sync></item>
<item><sx:sync xmlns:sx="http://feedsync.org/2007/feedsync" id="a" updates="1"><sx:history sequence="1" by="y"/></sx:sync></item>
</channel></rss>`),
			next: records(t, m),
			is:   feedsync.ErrDuplicateID,
		},
		{
			name: "previous feed with invalid sync (FS-ROBUST-1)",
			prev: []byte(`<rss><channel>
<item><sx:sync xmlns:sx="http://feedsync.org/2007/feedsync" id="a" updates="1"></sx:sync></item>
</channel></rss>`),
			next: records(t, m),
			is:   feedsync.ErrInvalidSync,
		},
		{
			name: "previous feed is not XML",
			prev: []byte("{}"),
			next: records(t, m),
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if tc.opts.Stamp == (feedsync.Stamp{}) && tc.name != "no stamp" {
				tc.opts.Stamp = laps
			}
			var prev io.ReadSeeker
			if tc.prev != nil {
				prev = bytes.NewReader(tc.prev)
			}
			_, err := Refresh(prev, tc.next, io.Discard, tc.opts)
			if err == nil {
				t.Fatal("got nil error")
			}
			if tc.is != nil && !errors.Is(err, tc.is) {
				t.Errorf("got %v, want %v", err, tc.is)
			}
			if !strings.Contains(err.Error(), tc.contains) {
				t.Errorf("error %q does not contain %q", err, tc.contains)
			}
		})
	}
}

// flipper serves one document until it is rewound, and another after,
// like a file rewritten by another process between the two passes.
type flipper struct {
	second []byte
	r      *bytes.Reader
}

func (f *flipper) Read(p []byte) (int, error) { return f.r.Read(p) }

func (f *flipper) Seek(off int64, whence int) (int64, error) {
	if whence == io.SeekStart {
		f.r = bytes.NewReader(f.second)
	}
	return f.r.Seek(off, whence)
}

func TestRefreshPrevChanged(t *testing.T) {
	m := converter.Map{}
	a, _ := refresh(t, nil, records(t, m, rec{"a", `{"title":"1"}`}), RefreshOptions{Stamp: laps})
	b, _ := refresh(t, nil, records(t, m, rec{"a", `{"title":"2"}`}), RefreshOptions{Stamp: laps})
	f := &flipper{second: b, r: bytes.NewReader(a)}
	_, err := Refresh(f, records(t, m, rec{"a", `{"title":"1"}`}), io.Discard, RefreshOptions{Stamp: laps})
	if !errors.Is(err, ErrPrevChanged) {
		t.Errorf("got %v, want ErrPrevChanged", err)
	}
}

// TestRefreshDoesNotModifyPayloads checks the Record contract.
func TestRefreshDoesNotModifyPayloads(t *testing.T) {
	p := etree.NewElement("entry")
	p.CreateElement("title").SetText("x")
	before := p.Copy()
	next := func(yield func(Record, error) bool) { yield(Record{ID: "a", Payload: p}, nil) }
	if _, err := Refresh(nil, next, io.Discard, RefreshOptions{Stamp: laps, Header: feedsync.NewHeader(feedsync.Atom, feedsync.FeedInfo{})}); err != nil {
		t.Fatal(err)
	}
	var b1, b2 bytes.Buffer
	p.WriteTo(&b1, &etree.WriteSettings{})
	before.WriteTo(&b2, &etree.WriteSettings{})
	if b1.String() != b2.String() {
		t.Errorf("payload changed: %s, was %s", b1.String(), b2.String())
	}
}

// BenchmarkRefresh refreshes a feed of 1000 items in which 10 changed.
func BenchmarkRefresh(b *testing.B) {
	m := converter.Map{}
	data := func(changed string) []rec {
		var recs []rec
		for i := range 1000 {
			title := "task"
			if i%100 == 0 {
				title = changed
			}
			recs = append(recs, rec{fmt.Sprintf("t%d", i), fmt.Sprintf(`{"title":%q,"n":%d}`, title, i)})
		}
		return recs
	}
	prev, _ := refresh(b, nil, records(b, m, data("task")...), RefreshOptions{Stamp: laps})
	next := data("changed")
	b.ResetTimer()
	for range b.N {
		if _, err := Refresh(bytes.NewReader(prev), records(b, m, next...), io.Discard, RefreshOptions{Stamp: laps}); err != nil {
			b.Fatal(err)
		}
	}
}
