package feedsync

import (
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"
)

// sized returns an RSS item of about n bytes, version of id made by by.
func sized(t *testing.T, base *Item, id, by string, n int, minute int) *Item {
	t.Helper()
	p := rpayload(RSS, by+" "+strings.Repeat("x", n))
	s := Stamp{By: by, When: time.Date(2009, 4, 1, 9, minute, 0, 0, time.UTC)}
	if base == nil {
		return mustItem(t)(Create(RSS, p, id, s, false))
	}
	return mustItem(t)(Update(base, p, s))
}

// FS-ROBUST-4, FS-ROBUST-6: MaxItemBytes bounds each version, not the item
// with its conflict copies, so that two concurrent edits near the bound
// still make a readable item; MaxItemTotalBytes bounds the whole.
func TestReaderLimitIsPerVersion(t *testing.T) {
	opts := ReaderOptions{MaxItemBytes: 64 << 10}
	base := sized(t, nil, "big", "origin", 10, 0)
	a := sized(t, base, "big", "alice", 40<<10, 1)
	b := sized(t, base, "big", "bob", 40<<10, 2)
	merged, o := MergeItem(a, b)
	if o != Conflict {
		t.Fatalf("outcome %v, want Conflict", o)
	}
	if err := opts.Check(merged); err != nil {
		t.Fatalf("Check: %v", err)
	}
	doc := writeFeed(t, merged)
	if len(doc) <= 64<<10 {
		t.Fatalf("feed of %d bytes does not exceed the per-version bound", len(doc))
	}
	r := NewReaderOptions(strings.NewReader(doc), opts)
	got, err := r.Next()
	if err != nil {
		t.Fatalf("read back two 40 KiB versions with a 64 KiB bound: %v", err)
	}
	if n := len(got.Sync.Conflicts); n != 1 {
		t.Errorf("read back %d conflict copies, want 1", n)
	}

	// One version over the bound is refused, as winner or as copy.
	c := sized(t, base, "big", "carol", 70<<10, 3)
	for name, it := range map[string]*Item{"winner": c, "copy": first(MergeItem(a, c))} {
		t.Run(name, func(t *testing.T) {
			_, err := NewReaderOptions(strings.NewReader(writeFeed(t, it)), opts).Next()
			if !errors.Is(err, ErrLimit) || !strings.Contains(err.Error(), "larger than 65536 bytes") {
				t.Errorf("read: %v, want a 64 KiB limit error", err)
			}
			if err := opts.Check(it); !errors.Is(err, ErrLimit) {
				t.Errorf("Check: %v, want ErrLimit", err)
			}
		})
	}

	// Many small versions: the total bound (4 × 64 KiB by default).
	var many *Item = a
	for i := range 8 {
		many, _ = MergeItem(many, sized(t, base, "big", fmt.Sprintf("p%d", i), 40<<10, 4+i))
	}
	_, err = NewReaderOptions(strings.NewReader(writeFeed(t, many)), opts).Next()
	if !errors.Is(err, ErrLimit) || !strings.Contains(err.Error(), "with its conflict copies larger than 262144 bytes") {
		t.Errorf("read 9 versions of 40 KiB: %v, want the total bound", err)
	}
	if err := opts.Check(many); !errors.Is(err, ErrLimit) || !strings.Contains(err.Error(), "FS-ROBUST-6") {
		t.Errorf("Check of 9 versions of 40 KiB: %v, want ErrLimit naming FS-ROBUST-6", err)
	}
}

func first(it *Item, _ Outcome) *Item { return it }

func writeFeed(t *testing.T, items ...*Item) string {
	t.Helper()
	var b strings.Builder
	if err := WriteAll(&b, NewHeader(RSS, FeedInfo{Title: "t"}), items); err != nil {
		t.Fatal(err)
	}
	return b.String()
}

// FS-ROBUST-6: Check counts conflict copies and history entries exactly as
// the reader does, and names the limit and the way out.
func TestCheckCounts(t *testing.T) {
	opts := ReaderOptions{MaxConflicts: 3, MaxHistory: 4}
	base := sized(t, nil, "c", "origin", 10, 0)
	it := sized(t, base, "c", "p", 10, 1)
	for i := range 3 {
		it, _ = MergeItem(it, sized(t, base, "c", fmt.Sprintf("p%d", i), 10, i+2))
	}
	if err := opts.Check(it); err != nil {
		t.Fatalf("3 copies with a bound of 3: %v", err)
	}
	more, _ := MergeItem(it, sized(t, base, "c", "q", 10, 9))
	err := opts.Check(more)
	if !errors.Is(err, ErrLimit) || !strings.Contains(err.Error(), "4 conflict copies, more than the limit of 3") || !strings.Contains(err.Error(), "feedsync resolve") {
		t.Errorf("4 copies: %v", err)
	}
	var ie *ItemError
	if !errors.As(err, &ie) || ie.ID != "c" {
		t.Errorf("error %v does not name item c", err)
	}

	h := base
	for i := range 3 {
		h = sized(t, h, "c", fmt.Sprintf("e%d", i), 10, i+1)
	}
	if err := opts.Check(h); err != nil {
		t.Fatalf("4 entries with a bound of 4: %v", err)
	}
	h = sized(t, h, "c", "e9", 10, 9)
	if err := opts.Check(h); !errors.Is(err, ErrLimit) || !strings.Contains(err.Error(), "5 sx:history entries, more than the limit of 4") {
		t.Errorf("5 entries: %v", err)
	}
	// The same bounds as the reader: what Check refuses, the reader
	// refuses.
	if _, err := NewReaderOptions(strings.NewReader(writeFeed(t, h)), opts).Next(); !errors.Is(err, ErrLimit) {
		t.Errorf("reader accepted what Check refused: %v", err)
	}
}

// FS-ROBUST-6: Check agrees with the reader at the byte bound, for items
// read from a feed (sized from their bytes) and built in code (rendered).
func TestCheckAgreesWithReader(t *testing.T) {
	for _, n := range []int{1000, 3000, 3900, 4000, 4100, 5000} {
		opts := ReaderOptions{MaxItemBytes: 4096}
		built := sized(t, nil, "b", "origin", n, 0)
		doc := writeFeed(t, built)
		_, readErr := NewReaderOptions(strings.NewReader(doc), opts).Next()
		_, all, err := readString(doc)
		if err != nil {
			t.Fatal(err)
		}
		for name, it := range map[string]*Item{"built": built, "read": all[0]} {
			checkErr := opts.Check(it)
			if (checkErr == nil) != (readErr == nil) {
				t.Errorf("%d bytes, %s: Check %v, reader %v", n, name, checkErr, readErr)
			}
		}
	}
}

// FS-TYPE-4 (issue: 9999-12-31T23:59:59-14:00 was accepted, normalised to
// year 10000, written back and then refused by every reader): a when
// outside 0001..9999 once in UTC makes the item invalid on input, with an
// error that says so; the edges inside the range are kept.
func TestWhenOutsideYearRange(t *testing.T) {
	cases := []struct {
		when string
		ok   bool
	}{
		{"9999-12-31T23:59:59Z", true},
		{"9999-12-31T23:59:59-14:00", false},
		{"9999-12-31T09:59:59-14:00", true},
		{"0001-01-01T00:00:01Z", true},
		{"0001-01-01T00:00:00Z", false}, // the zero time, which means "no when"
		{"0001-01-01T00:30:00+01:00", false},
		{"0000-06-01T00:00:00Z", false},
	}
	for _, c := range cases {
		t.Run(c.when, func(t *testing.T) {
			doc := `<rss><channel><item><title>a</title><sx:sync xmlns:sx="http://feedsync.org/2007/feedsync" id="a" updates="1">` +
				`<sx:history sequence="1" by="x" when="` + c.when + `"/></sx:sync></item></channel></rss>`
			_, items, err := readString(doc)
			if err != nil {
				t.Fatal(err)
			}
			err = items[0].Err()
			if c.ok {
				if err != nil {
					t.Fatalf("rejected: %v", err)
				}
				// What is read is written back and read again.
				_, again, err := readString(writeFeed(t, items[0]))
				if err != nil || again[0].Err() != nil || !again[0].Sync.Top().When.Equal(items[0].Sync.Top().When) {
					t.Errorf("round trip: %v %v", err, again[0].Err())
				}
				return
			}
			if !errors.Is(err, ErrInvalidSync) || !strings.Contains(err.Error(), "outside 0001-01-01T00:00:01Z..9999-12-31T23:59:59Z") {
				t.Errorf("error %v does not say the date is out of range", err)
			}
		})
	}
	// Stamps obey the same range: no rule writes a date no reader takes.
	far := Stamp{By: "x", When: time.Date(9999, 12, 31, 23, 59, 59, 0, time.FixedZone("", -14*3600))}
	if _, err := Create(RSS, rpayload(RSS, "a"), "a", far, false); !errors.Is(err, ErrBadStamp) {
		t.Errorf("Create with a when in year 10000 (UTC): %v, want ErrBadStamp", err)
	}
}
