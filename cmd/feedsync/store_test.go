package main

import (
	"context"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/jackc/pgx/v5"

	"github.com/feedsync/go-feedsync/feedsync"
	"github.com/feedsync/go-feedsync/producer"
	"github.com/feedsync/go-feedsync/store/open"
)

func TestParseDSN(t *testing.T) {
	tests := []struct {
		s        string
		kind     storeKind
		path     string
		wantName string
	}{
		{"memory:", memoryStore, "", "<memory>"},
		{"sqlite:tasks.db", sqliteStore, "tasks.db", "sqlite:tasks.db"},
		{"sqlite:/srv/feeds/tasks", sqliteStore, "/srv/feeds/tasks", "sqlite:/srv/feeds/tasks"},
		{"tasks.db", sqliteStore, "tasks.db", "tasks.db"},
		{"dir/tasks.db", sqliteStore, "dir/tasks.db", "dir/tasks.db"},
		{"postgres://u:secret@host/db?sslmode=disable", postgresStore, "", "postgres://u:xxxxx@host/db?sslmode=disable"},
		{"postgresql://host/db", postgresStore, "", "postgresql://host/db"},
		{"tasks.xml", notStore, "", "tasks.xml"},
		{"-", notStore, "", "-"},
		{"tasks.db.xml", notStore, "", "tasks.db.xml"},
		{"https://example.org/tasks.db", notStore, "", "https://example.org/tasks.db"},
		{"memory:x", notStore, "", "memory:x"},
	}
	for _, tc := range tests {
		kind, path := parseDSN(tc.s)
		if kind != tc.kind || path != tc.path {
			t.Errorf("parseDSN(%q) = %v, %q; want %v, %q", tc.s, kind, path, tc.kind, tc.path)
		}
		if got := storeLabel(tc.s); got != tc.wantName {
			t.Errorf("storeLabel(%q) = %q, want %q", tc.s, got, tc.wantName)
		}
	}
}

// nextToken returns the token produce printed on stderr.
func nextToken(t *testing.T, stderr string) string {
	t.Helper()
	m := regexp.MustCompile(`(?m)^next token: (\S+)$`).FindStringSubmatch(stderr)
	if m == nil {
		t.Fatalf("no next token in:\n%s", stderr)
	}
	return m[1]
}

// storeManifest opens the store dsn (relative to the harness directory),
// returns its manifest and closes it again.
func (h *harness) storeManifest(dsn string) producer.Manifest {
	h.t.Helper()
	if k, p := parseDSN(dsn); k == sqliteStore && !filepath.IsAbs(p) {
		dsn = "sqlite:" + h.path(p)
	}
	st, err := open.Open(context.Background(), dsn)
	if err != nil {
		h.t.Fatal(err)
	}
	defer st.Close()
	m, err := producer.StoreManifest(context.Background(), st)
	if err != nil {
		h.t.Fatal(err)
	}
	return m
}

// sharing returns the since and until of a feed's sx:sharing.
func sharing(t *testing.T, feed string) (since, until string) {
	t.Helper()
	h, _, err := feedsync.ReadAll(strings.NewReader(feed))
	if err != nil {
		t.Fatal(err)
	}
	if h.Sharing == nil {
		t.Fatalf("no sx:sharing in:\n%s", feed)
	}
	return h.Sharing.Since, h.Sharing.Until
}

// TestStoreStory is E5 with a SQLite store as the laptop: the store is
// seeded from laptop's feed, publishes it, merges tablet's feed and then
// publishes only the changes, without what tablet sent itself (echo
// suppression). It holds what the file merge of the same feeds holds.
func TestStoreStory(t *testing.T) {
	h := newHarness(t)
	h.copyFixture("e5/laptop.xml", "laptop.xml")
	h.copyFixture("e5/tablet.xml", "tablet.xml")

	// Seeding: the store does not exist yet.
	r := h.ok("", "merge", "--store", "tasks.db", "laptop.xml", "--peer", "laptop")
	if want := "tasks.db: 2 new, 0 updated, 0 deleted, 0 conflicts, 0 unchanged, 0 rejected\n"; r.stderr != want {
		t.Errorf("seeding merge said:\n%s\nwant %s", r.stderr, want)
	}

	// The complete feed: laptop's items, title and format (FS-FEED-9).
	r = h.ok("", "produce", "--store", "tasks.db", "-o", "full.xml", "--token-file", "tablet.token")
	if !strings.HasPrefix(r.stderr, "full.xml: complete feed of tasks.db, 2 items\nnext token: ") {
		t.Errorf("produce said:\n%s", r.stderr)
	}
	tok1 := nextToken(t, r.stderr)
	if got := h.read("tablet.token"); got != tok1+"\n" {
		t.Errorf("token file holds %q, want %q", got, tok1+"\n")
	}
	full := h.read("full.xml")
	if !strings.Contains(full, `<feed xmlns="http://www.w3.org/2005/Atom"`) || !strings.Contains(full, "<title>Fence project (laptop)</title>") {
		t.Errorf("the store's feed is not laptop's Atom feed:\n%s", full)
	}
	if _, until := sharing(t, full); until != tok1 {
		t.Errorf("sx:sharing until = %q, want the next token %q", until, tok1)
	}
	h.ok("", "validate", "full.xml")
	r = h.ok("", "verify", "full.xml", "laptop.xml")
	if r.stdout != "same: 2 items\n" {
		t.Errorf("verify full.xml laptop.xml: %s", r.stdout)
	}

	// tablet's feed conflicts on fence-1 and brings gravel-1.
	h.fails(exitProblem, []string{"tasks.db: 1 new, 0 updated, 0 deleted, 1 conflict, 0 unchanged, 0 rejected\n", "feedsync merge: 1 item with new conflicts"},
		"merge", "--store", "tasks.db", "tablet.xml", "--peer", "tablet", "--fail-on-conflicts")

	// The partial feed for tablet: fence-1 changed (it has a conflict now);
	// gravel-1 is tablet's own and goes back only to others.
	r = h.ok("", "produce", "--store", "tasks.db", "--since", tok1, "--peer", "tablet", "-o", "changes.xml", "--token-file", "tablet.token")
	if !strings.HasPrefix(r.stderr, "changes.xml: partial feed of tasks.db, 1 item, 1 left out (tablet has them)\n") {
		t.Errorf("incremental produce said:\n%s", r.stderr)
	}
	tok2 := nextToken(t, r.stderr)
	if tok2 == tok1 || h.read("tablet.token") != tok2+"\n" {
		t.Errorf("next token %q after %q; token file %q", tok2, tok1, h.read("tablet.token"))
	}
	changes := h.read("changes.xml")
	if since, until := sharing(t, changes); since != tok1 || until != tok2 {
		t.Errorf("sx:sharing since=%q until=%q, want %q and %q", since, until, tok1, tok2)
	}
	items := h.items("changes.xml")
	if len(items) != 1 || items["fence-1"] == nil || len(items["fence-1"].Sync.Conflicts) != 1 {
		t.Errorf("partial feed for tablet:\n%s", changes)
	}
	// For another subscriber nothing is left out.
	r = h.ok("", "produce", "--store", "tasks.db", "--since", tok1)
	if !strings.HasPrefix(r.stderr, "<stdout>: partial feed of tasks.db, 2 items\n") || len(itemLines(t, r.stdout)) != 2 {
		t.Errorf("partial feed for anyone:\n%s\n%s", r.stdout, r.stderr)
	}
	// Nothing changed since tok2.
	r = h.ok("", "produce", "--store", "tasks.db", "--since", tok2, "--peer", "tablet")
	if !strings.HasPrefix(r.stderr, "<stdout>: partial feed of tasks.db, 0 items\n") || nextToken(t, r.stderr) != tok2 {
		t.Errorf("feed after the last token:\n%s", r.stderr)
	}

	// The store holds what the file merge of the same two feeds makes.
	h.ok("", "merge", "laptop.xml", "tablet.xml", "-o", "merged.xml")
	for _, dsn := range []string{"tasks.db", "sqlite:" + h.path("tasks.db")} {
		r = h.ok("", "verify", "merged.xml", dsn)
		if r.stdout != "same: 3 items\n" {
			t.Errorf("verify merged.xml %s: %s", dsn, r.stdout)
		}
	}
	// The same feed again changes nothing (FS-MERGE-14).
	before := h.storeManifest("tasks.db")
	r = h.ok("", "merge", "--store", "tasks.db", "tablet.xml", "--fail-on-conflicts")
	if !strings.Contains(r.stderr, "0 new, 0 updated, 0 deleted, 0 conflicts, 2 unchanged, 0 rejected") {
		t.Errorf("second merge: %s", r.stderr)
	}
	if after := h.storeManifest("tasks.db"); after.Sum() != before.Sum() {
		t.Errorf("a repeated merge changed the store: %v", producer.Diff(before, after))
	}
}

// TestProduceStoreTokens checks that a token produce cannot use gives the
// complete feed, exit 0, with the reason on stderr (FS-FEED-4).
func TestProduceStoreTokens(t *testing.T) {
	h := newHarness(t)
	h.copyFixture("e5/laptop.xml", "laptop.xml")
	h.copyFixture("e5/tablet.xml", "tablet.xml")
	h.ok("", "merge", "--store", "a.db", "laptop.xml")
	h.ok("", "merge", "--store", "b.db", "tablet.xml")
	foreign := nextToken(t, h.ok("", "produce", "--store", "b.db").stderr)
	good := nextToken(t, h.ok("", "produce", "--store", "a.db").stderr)

	tests := []struct {
		name, since string
		want        []string
	}{
		{"malformed", "not a token!", []string{`--since not used, so the feed is complete (FS-FEED-4): producer: bad token "not a token!"`}},
		{"another store's", foreign, []string{"--since not used", "minted by store"}},
		{"empty", "", nil},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r := h.ok("", "produce", "--store", "a.db", "--since", tc.since, "-o", "out.xml")
			for _, w := range tc.want {
				if !strings.Contains(r.stderr, w) {
					t.Errorf("stderr does not say %q:\n%s", w, r.stderr)
				}
			}
			if tc.want == nil && strings.Contains(r.stderr, "not used") {
				t.Errorf("stderr complains:\n%s", r.stderr)
			}
			if !strings.Contains(r.stderr, "out.xml: complete feed of a.db, 2 items\n") {
				t.Errorf("not the complete feed:\n%s", r.stderr)
			}
			if got := nextToken(t, r.stderr); got != good {
				t.Errorf("next token %q, want %q", got, good)
			}
			if got := len(h.items("out.xml")); got != 2 {
				t.Errorf("%d items in the feed, want 2", got)
			}
		})
	}

	// --format converts on the way out (FS-FEED-10).
	r := h.ok("", "produce", "--store", "a.db", "--format", "rss")
	if !strings.Contains(r.stdout, "<rss") || len(itemLines(t, r.stdout)) != 2 {
		t.Errorf("--format rss:\n%s", r.stdout)
	}
}

// TestStoreUsageErrors checks the command lines --store refuses (exit 2),
// and that none of them creates a database.
func TestStoreUsageErrors(t *testing.T) {
	h := newHarness(t)
	h.copyFixture("e5/laptop.xml", "laptop.xml")
	h.write("data.jsonl", `{"id":"a"}`+"\n")
	tests := []struct {
		args []string
		want []string
	}{
		{[]string{"produce", "data.jsonl", "--store", "x.db"}, []string{`unexpected argument "data.jsonl": with --store`, "not both"}},
		{[]string{"produce", "--store", "x.db", "--by", "laptop"}, []string{"--by cannot be used with --store"}},
		{[]string{"produce", "--store", "x.db", "--from", "laptop.xml"}, []string{"--from cannot be used with --store"}},
		{[]string{"produce", "data.jsonl", "--by", "laptop", "--since", "x"}, []string{"--since needs --store"}},
		{[]string{"produce", "data.jsonl", "--by", "laptop", "--token-file", "t"}, []string{"--token-file needs --store"}},
		{[]string{"produce", "--store", "x.db"}, []string{"feedsync produce: x.db: no such store", "feedsync merge --store x.db FEED"}},
		{[]string{"produce", "--store", "sqlite:x"}, []string{"sqlite:x: no such store"}},
		{[]string{"produce", "--store", "sqlite:"}, []string{`"sqlite:": no file name`}},
		{[]string{"produce", "--store", "laptop.xml"}, []string{`"laptop.xml" is not a store`, "sqlite:PATH"}},
		{[]string{"produce", "--store", "x.db", "--token-file", "-"}, []string{"--token-file must be a file"}},
		{[]string{"merge", "--store", "x.db", "laptop.xml", "laptop.xml"}, []string{`unexpected argument "laptop.xml": with --store give only INCOMING`}},
		{[]string{"merge", "--store", "x.db"}, []string{"missing INCOMING"}},
		{[]string{"merge", "--store", "x.db", "laptop.xml", "-o", "out.xml"}, []string{"-o cannot be used with --store"}},
		{[]string{"merge", "--store", "x.db", "missing.xml"}, []string{"missing.xml: no such file or directory"}},
		{[]string{"merge", "--store", "x.db", "laptop.xml", "--policy", "coinflip"}, []string{`--policy "coinflip"`}},
		{[]string{"merge", "--store", "laptop.xml", "laptop.xml"}, []string{`"laptop.xml" is not a store`}},
		{[]string{"merge", "laptop.xml", "laptop.xml", "--peer", "x"}, []string{"--peer needs --store"}},
	}
	for _, tc := range tests {
		t.Run(strings.Join(tc.args, " "), func(t *testing.T) {
			h.fails(exitUsage, tc.want, tc.args...)
		})
	}
	if got, want := h.files(), []string{"data.jsonl", "laptop.xml"}; !slices.Equal(got, want) {
		t.Errorf("files: %v, want %v", got, want)
	}
}

// TestMergeStoreAtomic checks that a feed that fails to merge leaves the
// store exactly as it was: the same manifest, and no new change.
func TestMergeStoreAtomic(t *testing.T) {
	h := newHarness(t)
	h.copyFixture("e5/laptop.xml", "laptop.xml")
	h.copyFixture("e5/tablet.xml", "tablet.xml")
	h.ok("", "merge", "--store", "tasks.db", "laptop.xml")
	before := h.storeManifest("tasks.db")
	tok := nextToken(t, h.ok("", "produce", "--store", "tasks.db").stderr)

	// Each feed starts with a valid item that would be added (gravel-1)
	// before the merge fails.
	valid := `<item><title>Gravel</title><sx:sync id="gravel-1" updates="1"><sx:history sequence="1" by="tablet"/></sx:sync></item>`
	tests := []struct {
		name, feed string
		stdin      bool
		want       []string
	}{
		{"malformed XML", `<rss><channel xmlns:sx="http://feedsync.org/2007/feedsync">` + "\n" + valid + "\n<item><title>x</item></channel></rss>", false, []string{"feedsync merge: in.xml: line 3:"}},
		{"duplicate ids", `<rss><channel xmlns:sx="http://feedsync.org/2007/feedsync">` + "\n" + valid + "\n" + valid + "\n</channel></rss>", false, []string{`feedsync merge: in.xml: item "gravel-1" (line 3): duplicate sync id`}},
		{"not a feed", "<html><body/></html>", true, []string{"feedsync merge: <stdin>: line 1: root element <html> is not RSS 2.0 <rss> or Atom 1.0 <feed>\n"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var r result
			if tc.stdin {
				r = h.run(tc.feed, "merge", "--store", "tasks.db", "-", "--peer", "tablet")
			} else {
				h.write("in.xml", tc.feed)
				r = h.run("", "merge", "--store", "tasks.db", "in.xml", "--peer", "tablet")
			}
			if r.code != exitUsage {
				t.Errorf("exit %d, want %d\n%s", r.code, exitUsage, r.stderr)
			}
			for _, w := range tc.want {
				if !strings.Contains(r.stderr, w) {
					t.Errorf("stderr does not contain %q:\n%s", w, r.stderr)
				}
			}
			if after := h.storeManifest("tasks.db"); after.Sum() != before.Sum() {
				t.Errorf("the store changed: %v", producer.Diff(before, after))
			}
			// No change was committed: the partial feed after the last
			// token is empty.
			r = h.ok("", "produce", "--store", "tasks.db", "--since", tok)
			if !strings.Contains(r.stderr, "partial feed of tasks.db, 0 items") {
				t.Errorf("changes after a failed merge:\n%s", r.stderr)
			}
		})
	}
}

// TestMergeStorePolicies checks that --policy and --by reach the store
// merge: source resolves E5's conflict as an update by --by
// (FS-RESOLVE-2); defer keeps it and lists it.
func TestMergeStorePolicies(t *testing.T) {
	h := newHarness(t)
	h.copyFixture("e5/laptop.xml", "laptop.xml")
	h.copyFixture("e5/tablet.xml", "tablet.xml")
	h.ok("", "merge", "--store", "source.db", "laptop.xml")
	h.ok("", "merge", "--store", "defer.db", "laptop.xml")

	h.ok("", "merge", "--store", "source.db", "tablet.xml", "--policy", "source", "--by", "phone")
	h.ok("", "produce", "--store", "source.db", "-o", "source.xml")
	it := h.items("source.xml")["fence-1"]
	if it == nil || len(it.Sync.Conflicts) != 0 || it.Sync.Top().By != "phone" || !it.Sync.Top().When.Equal(h.now) {
		t.Errorf("fence-1 after --policy source: %+v", it)
	}

	r := h.ok("", "merge", "--store", "defer.db", "tablet.xml", "--policy", "defer")
	if !strings.Contains(r.stderr, `conflict to review: "fence-1" (incoming line`) {
		t.Errorf("defer does not list the conflict:\n%s", r.stderr)
	}
	h.fails(exitProblem, []string{"1 item differs between defer.db (3 items) and source.db (3 items)"}, "verify", "defer.db", "source.db")
}

// TestMergeStoreFormat checks that a new store takes --format as its own
// format, and that memory: works (and keeps nothing).
func TestMergeStoreFormat(t *testing.T) {
	h := newHarness(t)
	h.copyFixture("e5/laptop.xml", "laptop.xml")
	h.ok("", "merge", "--store", "rss.db", "laptop.xml", "--format", "rss")
	r := h.ok("", "produce", "--store", "rss.db")
	if !strings.Contains(r.stdout, "<rss") || !strings.Contains(r.stdout, "<title>Fence project (laptop)</title>") {
		t.Errorf("a store seeded with --format rss produced:\n%s", r.stdout)
	}
	r = h.ok("", "merge", "--store", "memory:", "laptop.xml")
	if r.stderr != "<memory>: 2 new, 0 updated, 0 deleted, 0 conflicts, 0 unchanged, 0 rejected\n" {
		t.Errorf("merge into memory: %s", r.stderr)
	}
	r = h.ok("", "produce", "--store", "memory:")
	if !strings.Contains(r.stderr, "complete feed of <memory>, 0 items") {
		t.Errorf("a new memory: store is not empty:\n%s", r.stderr)
	}
}

// testPostgres returns the DSN of a schema of its own in the test database,
// dropped when the test ends; it skips the test without a server.
func testPostgres(t *testing.T) string {
	t.Helper()
	dsn := os.Getenv("FEEDSYNC_TEST_POSTGRES")
	if dsn == "" {
		t.Skip("PostgreSQL tests need a server: set FEEDSYNC_TEST_POSTGRES=postgres://postgres@127.0.0.1:5432/test?sslmode=disable")
	}
	schema := "feedsync_cmd_test_" + strings.ReplaceAll(feedsync.NewID(), "-", "")
	t.Cleanup(func() {
		ctx := context.Background()
		conn, err := pgx.Connect(ctx, dsn)
		if err != nil {
			t.Errorf("drop schema %s: %v", schema, err)
			return
		}
		defer conn.Close(ctx)
		if _, err := conn.Exec(ctx, `DROP SCHEMA IF EXISTS `+pgx.Identifier{schema}.Sanitize()+` CASCADE`); err != nil {
			t.Errorf("drop schema %s: %v", schema, err)
		}
	})
	sep := "?"
	if strings.Contains(dsn, "?") {
		sep = "&"
	}
	return dsn + sep + open.SchemaParam + "=" + schema
}

// TestStorePostgres runs the store commands against PostgreSQL, in a
// schema of the test's own.
func TestStorePostgres(t *testing.T) {
	pg := testPostgres(t)

	h := newHarness(t)
	h.copyFixture("e5/laptop.xml", "laptop.xml")
	h.copyFixture("e5/tablet.xml", "tablet.xml")
	h.ok("", "merge", "--store", pg, "laptop.xml", "--peer", "laptop")
	r := h.ok("", "produce", "--store", pg, "-o", "full.xml")
	tok := nextToken(t, r.stderr)
	h.fails(exitProblem, []string{"1 conflict", "1 item with new conflicts"}, "merge", "--store", pg, "tablet.xml", "--peer", "tablet", "--fail-on-conflicts")
	r = h.ok("", "produce", "--store", pg, "--since", tok, "--peer", "tablet")
	if !strings.Contains(r.stderr, "partial feed of ") || !strings.Contains(r.stderr, "1 item, 1 left out (tablet has them)") {
		t.Errorf("partial feed for tablet:\n%s", r.stderr)
	}

	h.ok("", "merge", "laptop.xml", "tablet.xml", "-o", "merged.xml")
	h.ok("", "merge", "--store", "tasks.db", "laptop.xml")
	h.ok("", "merge", "--store", "tasks.db", "tablet.xml")
	for _, other := range []string{"merged.xml", "tasks.db"} {
		r = h.ok("", "verify", pg, other)
		if r.stdout != "same: 3 items\n" {
			t.Errorf("verify postgres %s: %s", other, r.stdout)
		}
	}
}

// TestStorePostgresReadOnly checks that the commands that only read a
// store refuse a PostgreSQL schema that holds none, with "no such store"
// and exit 2 as for a missing SQLite file, and create nothing: a mistyped
// feedsync_schema must not become an empty store.
func TestStorePostgresReadOnly(t *testing.T) {
	pg := testPostgres(t)
	schema := pg[strings.LastIndex(pg, "=")+1:]
	h := newHarness(t)
	h.copyFixture("e5/laptop.xml", "laptop.xml")
	for _, args := range [][]string{
		{"verify", pg, "laptop.xml"},
		{"produce", "--store", pg, "-o", "out.xml"},
		{"show", "--store", pg},
		{"conflicts", "--store", pg},
		{"update", "--store", pg, "--by", "laptop", "--id", "fence-1", "--set", "title=x"},
	} {
		t.Run(args[0], func(t *testing.T) {
			h.fails(exitUsage, []string{"no such store", "feedsync merge --store"}, args...)
		})
	}
	ctx := context.Background()
	conn, err := pgx.Connect(ctx, os.Getenv("FEEDSYNC_TEST_POSTGRES"))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(ctx)
	var found bool
	if err := conn.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM pg_namespace WHERE nspname = $1)`, schema).Scan(&found); err != nil {
		t.Fatal(err)
	}
	if found {
		t.Errorf("a read-only command created schema %s", schema)
	}
	// Once a merge made it, the same commands read it.
	h.ok("", "merge", "--store", pg, "laptop.xml")
	h.ok("", "verify", pg, "laptop.xml")
}
