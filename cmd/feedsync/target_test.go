package main

import (
	"regexp"
	"strings"
	"testing"
)

// TestEditStore runs the same edits on a feed file and, with --store, on a
// store, and checks that both end with the same items: create
// (FS-CREATE-1..2), update (FS-UPDATE-1..3), a merge that keeps a
// conflict (FS-CONFLICT-1), resolve (FS-RESOLVE-1..4), delete
// (FS-DELETE-1) and undelete (FS-UPDATE-5), and that show and conflicts
// list a store's items as they list a feed's.
func TestEditStore(t *testing.T) {
	t.Run("sqlite", func(t *testing.T) { testEditStore(t, "sqlite:tasks.db") })
	t.Run("postgres", func(t *testing.T) { testEditStore(t, testPostgres(t)) })
}

func testEditStore(t *testing.T, dsn string) {
	h := newHarness(t)
	// both runs args on the feed file and on the store and returns the
	// two results.
	both := func(args ...string) (feed, st result) {
		t.Helper()
		cmd, rest := args[0], args[1:]
		feed = h.ok("", append([]string{cmd, "tasks.xml"}, rest...)...)
		st = h.ok("", append([]string{cmd, "--store", dsn}, rest...)...)
		return feed, st
	}
	lines := regexp.MustCompile(` \(line \d+\)|"line":\d+,`) // a store has no lines
	same := func(what string, feed, st result) {
		t.Helper()
		if got, want := st.stdout, lines.ReplaceAllString(feed.stdout, ""); got != want {
			t.Errorf("%s --store printed:\n%s\nthe feed gave:\n%s", what, got, want)
		}
	}

	both("create", "--id", "stamps", "--by", "laptop", "--set", "title=Buy stamps")
	h.write("tablet.xml", h.read("tasks.xml"))
	both("update", "--id", "stamps", "--by", "laptop", "--set", "title=Buy 10 stamps")
	h.ok("", "update", "tablet.xml", "--id", "stamps", "--by", "tablet", "--set", "title=Buy 20 stamps")
	h.ok("", "merge", "tasks.xml", "tablet.xml", "-o", "tasks.xml")
	h.ok("", "merge", "--store", dsn, "tablet.xml", "--peer", "tablet")

	feed, st := both("conflicts", "--json")
	same("conflicts --json", feed, st)
	if !strings.Contains(st.stdout, `"by":"tablet"`) {
		t.Errorf("conflicts --store lists no copy by tablet:\n%s", st.stdout)
	}
	feed, st = both("show", "--id", "stamps")
	same("show --id", feed, st)
	both("resolve", "--id", "stamps", "--keep", "1", "--by", "laptop")
	both("create", "--id", "fence", "--by", "laptop", "--set", "title=Fix the fence")
	both("delete", "--id", "fence", "--by", "laptop")
	both("update", "--id", "fence", "--by", "laptop", "--set", "title=Fix the fence again")
	feed, st = both("show")
	same("show", feed, st)
	if !strings.Contains(st.stdout, "Buy 10 stamps") || !strings.Contains(st.stdout, "Fix the fence again") {
		t.Errorf("show --store:\n%s", st.stdout)
	}
	r := h.ok("", "conflicts", "--store", dsn)
	if !strings.Contains(r.stderr, "no conflicts") {
		t.Errorf("conflicts after resolve: %s", r.stderr)
	}
	if r := h.ok("", "verify", "tasks.xml", dsn); r.stdout != "same: 2 items\n" {
		t.Errorf("verify feed store: %s", r.stdout)
	}

	// Misuse: both targets, a missing item, an existing id, -o.
	h.fails(exitUsage, []string{"Give either FEED or --store DSN"}, "show", "tasks.xml", "--store", dsn)
	h.fails(exitUsage, []string{`no item with id "nope"`, "feedsync show --store"}, "update", "--store", dsn, "--id", "nope", "--by", "laptop", "--set", "title=x")
	h.fails(exitUsage, []string{`an item with id "stamps" exists already`}, "create", "--store", dsn, "--id", "stamps", "--by", "laptop", "--set", "title=x")
	h.fails(exitUsage, []string{"-o cannot be used with --store"}, "delete", "--store", dsn, "--id", "stamps", "--by", "laptop", "-o", "x.xml")
	h.fails(exitUsage, []string{"is not a store"}, "show", "--store", "tasks.xml")
	if r := h.ok("", "verify", "tasks.xml", dsn); r.stdout != "same: 2 items\n" {
		t.Errorf("a failed edit changed the store: %s", r.stdout)
	}
}

// TestEditStoreMissing checks that editing a store that does not exist
// fails without making one; only create makes a new store.
func TestEditStoreMissing(t *testing.T) {
	h := newHarness(t)
	h.fails(exitUsage, []string{"no such store"}, "update", "--store", "none.db", "--id", "a", "--by", "laptop", "--set", "title=x")
	h.fails(exitUsage, []string{"no such store"}, "show", "--store", "none.db")
	if files := h.files(); len(files) != 0 {
		t.Errorf("a failed edit left files: %v", files)
	}
	h.ok("", "create", "--store", "new.db", "--id", "a", "--by", "laptop", "--set", "title=x")
	if r := h.ok("", "show", "--store", "new.db"); !strings.Contains(r.stdout, `a  updates=1`) {
		t.Errorf("show of the new store:\n%s", r.stdout)
	}
}
