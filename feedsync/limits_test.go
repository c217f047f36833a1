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
		_, all, err := ReadString(doc)
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
