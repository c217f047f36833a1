package main

import (
	"fmt"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/beevik/etree"

	"github.com/feedsync/go-feedsync/feedsync"
	"github.com/feedsync/go-feedsync/store/open"
	"github.com/feedsync/go-feedsync/store/storetest"
)

var limitsDay = time.Date(2009, 4, 1, 9, 0, 0, 0, time.UTC)

func titled(title string) *etree.Element {
	e := etree.NewElement("item")
	e.CreateElement("title").SetText(title)
	return e
}

func mustIt(t *testing.T) func(*feedsync.Item, error) *feedsync.Item {
	return func(it *feedsync.Item, err error) *feedsync.Item {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
		return it
	}
}

// withCopies returns item id as a winner with n conflict copies, written
// without any limit check, as an older version of feedsync could.
func withCopies(t *testing.T, id string, n int) (base, it *feedsync.Item) {
	base = mustIt(t)(feedsync.Create(feedsync.RSS, titled("base"), id, feedsync.Stamp{By: "origin", When: limitsDay}, false))
	w := mustIt(t)(feedsync.Update(base, titled("w"), feedsync.Stamp{By: "w", When: limitsDay}))
	s := w.Sync.Clone()
	for i := range n {
		s.Conflicts = append(s.Conflicts, mustIt(t)(feedsync.Update(base, titled(fmt.Sprint(i)), feedsync.Stamp{By: fmt.Sprintf("p%d", i), When: limitsDay})))
	}
	w.Sync = s
	return base, w
}

func writeItems(t *testing.T, h *harness, name string, items ...*feedsync.Item) {
	t.Helper()
	var b strings.Builder
	if err := feedsync.WriteAll(&b, feedsync.NewHeader(feedsync.RSS, feedsync.FeedInfo{Title: "t"}), items); err != nil {
		t.Fatal(err)
	}
	h.write(name, b.String())
}

// FS-ROBUST-6 (issue: update on a 10000-entry history wrote a file no
// reader accepts): the update fails, says why and how out, and the file
// is left as it was.
func TestUpdateBeyondHistoryLimit(t *testing.T) {
	h := newHarness(t)
	it := mustIt(t)(feedsync.Create(feedsync.RSS, titled("h"), "h", feedsync.Stamp{By: "origin", When: limitsDay}, false))
	s := it.Sync.Clone()
	n := feedsync.DefaultMaxHistory
	s.Updates = int64(n)
	s.History = make([]feedsync.History, n)
	for i := range n {
		s.History[i] = feedsync.History{Sequence: int64(n - i), By: fmt.Sprintf("e%d", n-i), When: limitsDay}
	}
	it.Sync = s
	writeItems(t, h, "f.xml", it)
	before := h.read("f.xml")
	h.fails(exitUsage, []string{"10001 sx:history entries, more than the limit of 10000", "FS-PURGE-1"},
		"update", "f.xml", "--id", "h", "--by", "phone", "--set", "title=new")
	if h.read("f.xml") != before {
		t.Error("f.xml changed")
	}
	if got := h.files(); len(got) != 1 {
		t.Errorf("files left: %v", got)
	}
}

// FS-ROBUST-6 (issue: feedsync merge of two files exited 0 and wrote a
// file validate rejects): the item whose result would hold 1001 conflict
// copies is rejected and kept as it was; the output validates.
func TestMergeBeyondConflictLimit(t *testing.T) {
	h := newHarness(t)
	base, local := withCopies(t, "t", feedsync.DefaultMaxConflicts)
	writeItems(t, h, "local.xml", local)
	writeItems(t, h, "in.xml", mustIt(t)(feedsync.Update(base, titled("q"), feedsync.Stamp{By: "q", When: limitsDay})))
	r := h.run("", "merge", "local.xml", "in.xml", "-o", "out.xml")
	if !strings.Contains(r.stderr, "1001 conflict copies, more than the limit of 1000") || !strings.Contains(r.stderr, "1 rejected") {
		t.Errorf("merge said:\n%s", r.stderr)
	}
	h.ok("", "validate", "out.xml")
	if got := h.items("out.xml")["t"]; got == nil || len(got.Sync.Conflicts) != feedsync.DefaultMaxConflicts {
		t.Errorf("t not kept as it was")
	}
}

// FS-ROBUST-6: an item beyond the limits in a file, written before they
// were enforced, is repaired by resolve; validate then accepts the file.
func TestResolveRepairsOversizedItem(t *testing.T) {
	h := newHarness(t)
	_, bad := withCopies(t, "t", feedsync.DefaultMaxConflicts+1)
	writeItems(t, h, "f.xml", bad)
	h.fails(exitProblem, []string{"more than 1000 conflict copies"}, "validate", "f.xml")
	h.ok("", "resolve", "f.xml", "--id", "t", "--keep", "0", "--by", "me")
	h.ok("", "validate", "f.xml")
	if got := h.items("f.xml")["t"]; got == nil || len(got.Sync.Conflicts) != 0 {
		t.Errorf("t still has conflicts")
	}
}

// FS-ROBUST-6, FS-PURGE-1: a history written past the reader's bound
// before (by an older program) is thinned by compact, after which the
// file validates and updates work again.
func TestCompactRepairsLongHistory(t *testing.T) {
	h := newHarness(t)
	it := mustIt(t)(feedsync.Create(feedsync.RSS, titled("h"), "h", feedsync.Stamp{By: "origin", When: limitsDay}, false))
	s := it.Sync.Clone()
	n := feedsync.DefaultMaxHistory + 1
	s.Updates = int64(n)
	s.History = make([]feedsync.History, n)
	for i := range n {
		s.History[i] = feedsync.History{Sequence: int64(n - i), By: []string{"laptop", "phone"}[i%2], When: limitsDay}
	}
	it.Sync = s
	writeItems(t, h, "f.xml", it)
	h.fails(exitProblem, []string{"more than 10000 sx:history entries"}, "validate", "f.xml")
	h.ok("", "compact", "f.xml")
	h.ok("", "validate", "f.xml")
	h.ok("", "update", "f.xml", "--id", "h", "--by", "phone", "--set", "title=new")
	if got := h.items("f.xml")["h"]; got == nil || len(got.Sync.History) != 3 || got.Sync.Updates != int64(n)+1 {
		t.Errorf("after compact and update: %+v", got.Sync)
	}
}

// plantOversized stores the items of storetest.Oversized in the store dsn
// as an older version of feedsync could: past the limit check of Put.
func plantOversized(t *testing.T, h *harness, dsn string) (copies, history *feedsync.Item) {
	t.Helper()
	ctx := t.Context()
	if k, p := parseDSN(dsn); k == sqliteStore && !filepath.IsAbs(p) {
		dsn = "sqlite:" + h.path(p)
	}
	st, err := open.Open(ctx, dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	tx, err := st.Begin(ctx, true)
	if err != nil {
		t.Fatal(err)
	}
	defer tx.Rollback()
	copies, history = storetest.Oversized()
	if err := tx.SetFeedInfo(ctx, feedsync.FeedInfo{Title: "t"}, feedsync.Atom); err != nil {
		t.Fatal(err)
	}
	for _, it := range []*feedsync.Item{copies, history} {
		if err := storetest.PlantSQL(ctx, tx, it); err != nil {
			t.Fatal(err)
		}
	}
	if err := tx.Commit(); err != nil {
		t.Fatal(err)
	}
	return copies, history
}

// FS-ROBUST-6 (issue: an item stored beyond the reader's limits broke
// every read of the store, and no command repaired it): produce fails
// naming the item, the limit and the command that repairs it; compact
// thins the history (FS-PURGE-1) and names the item whose conflict copies
// it may not drop; resolve settles that one; the store serves again. On
// SQLite and on PostgreSQL.
func TestStoreRepairOversized(t *testing.T) {
	for _, kind := range []string{"sqlite", "postgres"} {
		t.Run(kind, func(t *testing.T) {
			h := newHarness(t)
			dsn := "tasks.db"
			if kind == "postgres" {
				dsn = testPostgres(t)
			}
			plantOversized(t, h, dsn)
			// An edit reads the item past the limits, and refuses to
			// write what is still beyond them.
			h.fails(exitUsage, []string{`item "history-1"`, "10002 sx:history entries, more than the limit of 10000", "feedsync compact"},
				"update", "--store", dsn, "--id", "history-1", "--by", "me", "--set", "title=x")
			h.fails(exitUsage, []string{`item "copies-1"`, "1001 conflict copies, more than the limit of 1000", "feedsync resolve --store DSN --id copies-1 --keep 0"},
				"show", "--store", dsn)
			h.fails(exitUsage, []string{`item "copies-1"`, "1001 conflict copies, more than the limit of 1000", "feedsync resolve --store DSN --id copies-1 --keep 0"},
				"produce", "--store", dsn, "-o", "out.xml")
			r := h.fails(exitProblem, []string{"1 item still beyond the reader's limits",
				`item "copies-1" is beyond the reader's limits: 1001 conflict copies, more than the limit of 1000; repair it with 'feedsync resolve --store ` + storeLabel(dsn) + ` --id copies-1 --keep 0'`},
				"compact", "--store", dsn)
			if !strings.Contains(r.stderr, "1 history purged") {
				t.Errorf("compact did not purge history-1:\n%s", r.stderr)
			}
			h.ok("", "resolve", "--store", dsn, "--id", "copies-1", "--keep", "0", "--by", "me")
			h.ok("", "produce", "--store", dsn, "-o", "out.xml")
			h.ok("", "validate", "out.xml")
			items := h.items("out.xml")
			if c, hi := items["copies-1"], items["history-1"]; c == nil || len(c.Sync.Conflicts) != 0 || hi == nil || len(hi.Sync.History) != 2 {
				t.Errorf("after the repair: copies-1 %v, history-1 %v", c, hi)
			}
			h.ok("", "compact", "--store", dsn)
		})
	}
}

// FS-ROBUST-6, a version beyond the byte limit: a conflict copy of 17 MiB
// planted in a store makes produce fail, naming the item, the limit and
// resolve; resolving to the winner drops the copy (its history folded
// in), and the store serves again. SQLite only, and not with -short: the
// item is large.
func TestStoreRepairOversizedVersion(t *testing.T) {
	if testing.Short() {
		t.Skip("a 17 MiB item")
	}
	h := newHarness(t)
	ctx := t.Context()
	base := mustIt(t)(feedsync.Create(feedsync.RSS, titled("base"), "big", feedsync.Stamp{By: "origin", When: limitsDay}, false))
	w := mustIt(t)(feedsync.Update(base, titled("small"), feedsync.Stamp{By: "laptop", When: limitsDay}))
	p := titled("large")
	p.CreateElement("description").SetText(strings.Repeat("x", feedsync.DefaultMaxItemBytes+1<<20))
	big := mustIt(t)(feedsync.Update(base, p, feedsync.Stamp{By: "phone", When: limitsDay}))
	s := w.Sync.Clone()
	s.Conflicts = []*feedsync.Item{big}
	w.Sync = s
	st, err := open.Open(ctx, "sqlite:"+h.path("tasks.db"))
	if err != nil {
		t.Fatal(err)
	}
	tx, err := st.Begin(ctx, true)
	if err != nil {
		t.Fatal(err)
	}
	if err := tx.SetFeedInfo(ctx, feedsync.FeedInfo{Title: "t"}, feedsync.RSS); err != nil {
		t.Fatal(err)
	}
	if err := storetest.PlantSQL(ctx, tx, w); err != nil {
		t.Fatal(err)
	}
	if err := tx.Commit(); err != nil {
		t.Fatal(err)
	}
	st.Close()
	h.fails(exitUsage, []string{`item "big"`, "conflict copy larger than 16777216 bytes", "feedsync resolve --store DSN --id big --keep-from ENDPOINT"},
		"produce", "--store", "tasks.db", "-o", "out.xml")
	h.fails(exitProblem, []string{`item "big" is beyond the reader's limits: conflict copy larger than 16777216 bytes`}, "compact", "--store", "tasks.db")
	h.ok("", "resolve", "--store", "tasks.db", "--id", "big", "--keep", "0", "--by", "me")
	h.ok("", "produce", "--store", "tasks.db", "-o", "out.xml")
	if got := h.items("out.xml")["big"]; got == nil || len(got.Sync.Conflicts) != 0 || got.Sync.Updates != 3 {
		t.Errorf("after the repair: %+v", got)
	}
}
