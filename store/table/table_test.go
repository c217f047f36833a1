package table_test

import (
	"context"
	"database/sql"
	"fmt"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/beevik/etree"

	_ "github.com/jackc/pgx/v5/stdlib" // the "pgx" database/sql driver, for the application's own SQL
	_ "modernc.org/sqlite"

	"github.com/feedsync/go-feedsync/collection"
	"github.com/feedsync/go-feedsync/converter"
	"github.com/feedsync/go-feedsync/feedsync"
	"github.com/feedsync/go-feedsync/internal/feedtest"
	"github.com/feedsync/go-feedsync/store"
	"github.com/feedsync/go-feedsync/store/postgres"
	"github.com/feedsync/go-feedsync/store/sqlite"
	"github.com/feedsync/go-feedsync/store/table"
)

// app is an application's database with a tasks table, written with plain
// SQL, and the way to open a table.Store over it.
type app struct {
	t       testing.TB
	pg      bool
	db      *sql.DB
	tasks   string // the table's name in the application's SQL
	newBase func() store.Store
}

// newApp makes a database for dialect "sqlite" or "postgres" holding an
// empty tasks table (id, title, done).
func newApp(t testing.TB, dialect string) *app {
	t.Helper()
	ctx := context.Background()
	a := &app{t: t, pg: dialect == "postgres"}
	if !a.pg {
		path := filepath.Join(t.TempDir(), "app.db")
		db, err := sql.Open("sqlite", path+"?_pragma=busy_timeout(20000)&_pragma=journal_mode(WAL)")
		if err != nil {
			t.Fatal(err)
		}
		a.db, a.tasks = db, "tasks"
		t.Cleanup(func() { db.Close() })
		a.exec(`CREATE TABLE tasks (id INTEGER PRIMARY KEY, title TEXT NOT NULL, done INTEGER NOT NULL DEFAULT 0)`)
		a.newBase = func() store.Store {
			s, err := sqlite.Open(ctx, path, sqlite.Options{})
			if err != nil {
				t.Fatal(err)
			}
			return s
		}
	} else {
		dsn := feedtest.PostgresDSN(t)
		schema := "feedsync_table_" + strings.ReplaceAll(feedsync.NewID(), "-", "")
		db, err := sql.Open("pgx", dsn)
		if err != nil {
			t.Fatal(err)
		}
		a.db, a.tasks = db, schema+".tasks"
		t.Cleanup(func() { db.Close() }) // after the drop: cleanups run last first
		t.Cleanup(func() {
			for _, s := range []string{schema, schema + "_fs"} {
				if _, err := db.Exec(`DROP SCHEMA IF EXISTS ` + s + ` CASCADE`); err != nil {
					t.Errorf("drop schema %s: %v", s, err)
				}
			}
		})
		a.exec(`CREATE SCHEMA ` + schema)
		a.exec(`CREATE TABLE ` + a.tasks + ` (id integer PRIMARY KEY, title text NOT NULL, done boolean NOT NULL DEFAULT false)`)
		a.newBase = func() store.Store {
			s, err := postgres.Open(ctx, dsn, postgres.Options{Schema: schema + "_fs"})
			if err != nil {
				t.Fatal(err)
			}
			return s
		}
	}
	return a
}

// open opens a table.Store over the tasks table, stamping by.
func (a *app) open(by string) *table.Store {
	a.t.Helper()
	s, err := table.Open(context.Background(), a.newBase(), table.Config{Table: a.tasks, Key: "id", By: by})
	if err != nil {
		a.t.Fatal(err)
	}
	a.t.Cleanup(func() { s.Close() })
	return s
}

// sqlFor rewrites ? placeholders for PostgreSQL.
func (a *app) sqlFor(q string) string {
	if !a.pg {
		return q
	}
	var b strings.Builder
	n := 0
	for _, r := range q {
		if r == '?' {
			n++
			fmt.Fprintf(&b, "$%d", n)
			continue
		}
		b.WriteRune(r)
	}
	return b.String()
}

// exec runs a statement of the application; TASKS stands for the table.
func (a *app) exec(q string, args ...any) {
	a.t.Helper()
	if err := a.try(q, args...); err != nil {
		a.t.Fatalf("%s: %v", q, err)
	}
}

func (a *app) try(q string, args ...any) error {
	q = strings.ReplaceAll(q, "TASKS", a.tasks)
	_, err := a.db.Exec(a.sqlFor(q), args...)
	return err
}

// rows returns the table as id → "title/done".
func (a *app) rows() map[string]string {
	a.t.Helper()
	rs, err := a.db.Query(`SELECT id, title, done FROM ` + a.tasks)
	if err != nil {
		a.t.Fatal(err)
	}
	defer rs.Close()
	out := map[string]string{}
	for rs.Next() {
		var id int64
		var title string
		var done bool
		if err := rs.Scan(&id, &title, &done); err != nil {
			a.t.Fatal(err)
		}
		out[fmt.Sprint(id)] = fmt.Sprintf("%s/%v", title, done)
	}
	if err := rs.Err(); err != nil {
		a.t.Fatal(err)
	}
	return out
}

// tasks is the collection of an endpoint over st, whose values are rows
// as text.
func tasks(st store.Store, by string) *collection.Collection[string, map[string]any] {
	return &collection.Collection[string, map[string]any]{
		Store: st, Items: converter.Map{}, IDs: converter.IDs[string]{}, By: by,
	}
}

// values returns the live items of st as id → "title/done", reading done
// as the text the application's database writes for it.
func values(t testing.TB, st store.Store) map[string]string {
	t.Helper()
	out := map[string]string{}
	for e, err := range tasks(st, "x").All(context.Background()) {
		if err != nil {
			t.Fatal(err)
		}
		done := fmt.Sprint(e.Value["done"])
		out[e.Key] = fmt.Sprintf("%v/%v", e.Value["title"], done == "1" || done == "true")
	}
	return out
}

func dialects(t *testing.T, f func(t *testing.T, a *app)) {
	for _, d := range []string{"sqlite", "postgres"} {
		t.Run(d, func(t *testing.T) { f(t, newApp(t, d)) })
	}
}

// TestPublish checks that the application's plain SQL writes become items
// stamped with the endpoint's by: rows present before Open and inserted
// rows are creations (FS-CREATE-1..2), changed rows updates (FS-UPDATE-1..3),
// deleted rows tombstones (FS-DELETE-1..2), a row inserted again an
// undelete (FS-UPDATE-5), and a write that changes nothing publishes
// nothing (FS-UPDATE-6).
func TestPublish(t *testing.T) {
	dialects(t, func(t *testing.T, a *app) {
		a.exec(`INSERT INTO TASKS (id, title) VALUES (1, 'before open')`)
		st := a.open("laptop")
		a.exec(`INSERT INTO TASKS (id, title) VALUES (2, 'Buy stamps')`)
		if got := values(t, st); len(got) != 2 || got["1"] != "before open/false" || got["2"] != "Buy stamps/false" {
			t.Fatalf("after two inserts: %v", got)
		}
		it := feedtest.Get(t, st, "2")
		if it.Sync.Updates != 1 || it.Sync.Top().By != "laptop" {
			t.Errorf("created item: %+v", it.Sync)
		}

		a.exec(`UPDATE TASKS SET done = ? WHERE id = 2`, true)
		a.exec(`UPDATE TASKS SET title = title`) // touches both rows, changes nothing
		a.exec(`DELETE FROM TASKS WHERE id = 1`)
		feedtest.WithTx(t, st, false, func(store.Tx) {})
		if it := feedtest.Get(t, st, "2"); it.Sync.Updates != 2 || it.Sync.Top().By != "laptop" {
			t.Errorf("updated item: %+v (want updates 2: the no-op UPDATE is not an update)", it.Sync)
		}
		if it := feedtest.Get(t, st, "1"); !it.Sync.Deleted || it.Sync.Updates != 2 {
			t.Errorf("deleted row: %+v, want a tombstone", it.Sync)
		}
		seq := feedtest.LastSeq(t, st)
		a.exec(`UPDATE TASKS SET title = 'Buy stamps' WHERE id = 2`)
		if got := feedtest.LastSeq(t, st); got != seq {
			t.Errorf("a write without change published something: seq %d -> %d", seq, got)
		}
		a.exec(`INSERT INTO TASKS (id, title) VALUES (1, 'back')`)
		if it := feedtest.Get(t, st, "1"); it.Sync.Deleted || it.Sync.Updates != 3 {
			t.Errorf("re-inserted row: %+v, want an undeleted item with updates 3", it.Sync)
		}
		// Changes made while no Store is open are published by the next.
		st.Close()
		a.exec(`UPDATE TASKS SET title = 'offline' WHERE id = 1`)
		st = a.open("laptop")
		if got := values(t, st); got["1"] != "offline/false" {
			t.Errorf("a change made while closed: %v", got)
		}
	})
}

// TestWriteBack checks that items merged from a peer are written into the
// rows and do not come back as the application's changes: a creation
// inserts a row, an update changes it, a tombstone deletes it
// (FS-DELETE-1), and a conflict keeps its versions in the shadow tables,
// where a collection lists and resolves them (FS-CONFLICT-1,
// FS-RESOLVE-1..4).
func TestWriteBack(t *testing.T) {
	dialects(t, func(t *testing.T, a *app) {
		ctx := context.Background()
		st := a.open("laptop")
		peer := store.NewMemory()
		defer peer.Close()
		phone := tasks(peer, "phone")
		for k, title := range map[string]string{"1": "one", "2": "two"} {
			if err := phone.Put(ctx, k, map[string]any{"title": title, "done": "0"}); err != nil {
				t.Fatal(err)
			}
		}
		sync(t, peer, st, "phone")
		if got := a.rows(); len(got) != 2 || got["1"] != "one/false" || got["2"] != "two/false" {
			t.Fatalf("rows after the merge: %v", got)
		}
		seq := feedtest.LastSeq(t, st)
		feedtest.WithTx(t, st, true, func(store.Tx) {})
		if got := feedtest.LastSeq(t, st); got != seq {
			t.Errorf("rows written back were published again: seq %d -> %d", seq, got)
		}
		if it := feedtest.Get(t, st, "1"); it.Sync.Top().By != "phone" || it.Sync.Updates != 1 {
			t.Errorf("merged item: %+v", it.Sync)
		}

		if err := phone.Delete(ctx, "2"); err != nil {
			t.Fatal(err)
		}
		if err := phone.Put(ctx, "1", map[string]any{"title": "one by phone", "done": "0"}); err != nil {
			t.Fatal(err)
		}
		a.exec(`UPDATE TASKS SET title = 'one by laptop' WHERE id = 1`)
		sync(t, peer, st, "phone")
		if got := a.rows(); len(got) != 1 {
			t.Errorf("rows after a tombstone and a conflict: %v", got)
		}
		laptop := tasks(st, "laptop")
		cs, err := laptop.Conflicts(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if len(cs) != 1 || cs[0].Key != "1" || len(cs[0].Versions) != 2 {
			t.Fatalf("conflicts: %+v", cs)
		}
		var titles []string
		for _, v := range cs[0].Versions {
			titles = append(titles, fmt.Sprint(v.Value["title"]))
		}
		if !strings.Contains(strings.Join(titles, ","), "one by laptop") || !strings.Contains(strings.Join(titles, ","), "one by phone") {
			t.Errorf("conflict versions: %v", titles)
		}
		winner := fmt.Sprint(cs[0].Versions[0].Value["title"])
		if got := a.rows()["1"]; got != winner+"/false" {
			t.Errorf("row = %q, want the winner %q", got, winner)
		}
		keep := cs[0].Versions[1].Value
		if err := laptop.Resolve(ctx, "1", keep); err != nil {
			t.Fatal(err)
		}
		if got := a.rows()["1"]; got != fmt.Sprint(keep["title"])+"/false" {
			t.Errorf("row after Resolve = %q, want %v", got, keep["title"])
		}
		sync(t, st, peer, "laptop")
		if cs, err := phone.Conflicts(ctx); err != nil || len(cs) != 0 {
			t.Errorf("peer conflicts after the resolution: %+v, %v (FS-RESOLVE-6)", cs, err)
		}
		if a, b := feedtest.Manifest(t, st), feedtest.Manifest(t, peer); a.Sum() != b.Sum() {
			t.Error("the endpoints did not converge")
		}
	})
}

// TestOpenErrors checks that a configuration the table cannot have fails
// at Open and says what is wrong.
func TestOpenErrors(t *testing.T) {
	a := newApp(t, "sqlite")
	ctx := context.Background()
	for _, tc := range []struct {
		cfg  table.Config
		want string
	}{
		{table.Config{Table: "nope", Key: "id", By: "x"}, "no table nope"},
		{table.Config{Table: "tasks", Key: "nope", By: "x"}, `no key column "nope"`},
		{table.Config{Table: "tasks", Key: "id", By: "x", Columns: []string{"title", "nope"}}, `no payload column "nope"`},
		{table.Config{Table: "tasks", Key: "id"}, "no by"},
		{table.Config{Table: "tasks", By: "x"}, "no key column"},
	} {
		base := a.newBase()
		_, err := table.Open(ctx, base, tc.cfg)
		base.Close()
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("Open(%+v) = %v, want an error saying %q", tc.cfg, err, tc.want)
		}
	}
	if _, err := table.Open(ctx, store.NewMemory(), table.Config{Table: "tasks", Key: "id", By: "x"}); err == nil {
		t.Error("Open over a memory store succeeded")
	}
}

func TestParseDSN(t *testing.T) {
	for _, tc := range []struct {
		dsn, base string
		cfg       table.Config
	}{
		{"sqlite:app.db?table=tasks&key=id", "sqlite:app.db", table.Config{Table: "tasks", Key: "id"}},
		{"sqlite:app.db?table=tasks&key=id&columns=title,done", "sqlite:app.db", table.Config{Table: "tasks", Key: "id", Columns: []string{"title", "done"}}},
		{"postgres://h/db?sslmode=disable&table=public.tasks&key=id", "postgres://h/db?sslmode=disable", table.Config{Table: "public.tasks", Key: "id"}},
	} {
		base, cfg, err := table.ParseDSN(tc.dsn)
		if err != nil || base != tc.base || cfg.Table != tc.cfg.Table || cfg.Key != tc.cfg.Key || strings.Join(cfg.Columns, ",") != strings.Join(tc.cfg.Columns, ",") {
			t.Errorf("ParseDSN(%q) = %q, %+v, %v", tc.dsn, base, cfg, err)
		}
	}
	for _, dsn := range []string{"sqlite:app.db", "sqlite:app.db?table=tasks", "sqlite:app.db?table=t&key=id&x=1"} {
		if _, _, err := table.ParseDSN(dsn); err == nil {
			t.Errorf("ParseDSN(%q) succeeded", dsn)
		}
	}
}

// sync merges a complete feed of from into to, as peer.
func sync(t testing.TB, from, to store.Store, peer string) {
	t.Helper()
	if err := feedSync(context.Background(), from, to, peer); err != nil {
		t.Fatal(err)
	}
}

// TestKeepsUnknownElements checks that data a peer put in an item that no
// column holds (here a category and a dc:creator) survives the
// application's edit of the row: the update keeps it (FS-TYPE-1), and only
// the columns' elements change.
func TestKeepsUnknownElements(t *testing.T) {
	dialects(t, func(t *testing.T, a *app) {
		st := a.open("laptop")
		doc := etree.NewDocument()
		if err := doc.ReadFromString(`<item xmlns:dc="http://purl.org/dc/elements/1.1/"><title>one</title><category>home</category><dc:creator>Ann</dc:creator></item>`); err != nil {
			t.Fatal(err)
		}
		it, err := feedsync.Create(feedsync.RSS, doc.Root(), "1", feedsync.Stamp{By: "phone", When: time.Now()}, false)
		if err != nil {
			t.Fatal(err)
		}
		feedtest.Put(t, st, it)
		if got := a.rows()["1"]; got != "one/false" {
			t.Fatalf("row = %q", got)
		}
		a.exec(`UPDATE TASKS SET title = 'one, edited' WHERE id = 1`)
		up := feedtest.Get(t, st, "1")
		b, err := feedsync.MarshalItem(up)
		if err != nil {
			t.Fatal(err)
		}
		for _, want := range []string{"<title>one, edited</title>", "<category>home</category>", "Ann</dc:creator>", `xmlns:dc="http://purl.org/dc/elements/1.1/"`} {
			if !strings.Contains(string(b), want) {
				t.Errorf("the updated item lacks %s:\n%s", want, b)
			}
		}
		if up.Sync.Updates != 2 || up.Sync.Top().By != "laptop" {
			t.Errorf("update: %+v", up.Sync)
		}
	})
}

// TestRemoveDeletesTheRow: an item the store forgets (re-initialisation
// removing a deletion the source forgot, FS-RETAIN-3) leaves no row behind,
// so the application cannot bring it back by editing that row.
func TestRemoveDeletesTheRow(t *testing.T) {
	dialects(t, func(t *testing.T, a *app) {
		ctx := context.Background()
		st := a.open("laptop")
		laptop := tasks(st, "laptop")
		for k, title := range map[string]string{"1": "one", "2": "two"} {
			if err := laptop.Put(ctx, k, map[string]any{"title": title, "done": "0"}); err != nil {
				t.Fatal(err)
			}
		}
		feedtest.WithTx(t, st, true, func(tx store.Tx) {
			if _, err := tx.Remove(ctx, "1"); err != nil {
				t.Fatal(err)
			}
		})
		if got := a.rows(); len(got) != 1 || got["2"] != "two/false" {
			t.Errorf("rows after Remove(1) = %v, want only row 2", got)
		}
		if it := feedtest.Get(t, st, "1"); it != nil {
			t.Errorf("item 1 still in the store after Remove: %+v", it.Sync)
		}
	})
}

// TestBatchInWritableTx checks that a writable transaction of a Store
// offers its base store's batch methods and repair reads, as a read-only
// one does, so that a merge into the table or a server comparing a peer's
// summary in it makes a query per batch, not per item: StatMany sees the
// items published from rows, SetPeerVersions and PeerVersions keep what a
// peer holds beside the items, and the rows stay as they were.
func TestBatchInWritableTx(t *testing.T) {
	dialects(t, func(t *testing.T, a *app) {
		ctx := context.Background()
		a.exec(`INSERT INTO TASKS (id, title) VALUES (1, 'one'), (2, 'two')`)
		st := a.open("laptop")
		var vs []store.Version
		feedtest.WithTx(t, st, true, func(tx store.Tx) {
			br, okR := tx.(store.BatchReader)
			bw, okW := tx.(store.BatchWriter)
			rr, okRepair := tx.(store.RepairReader)
			if !okR || !okW || !okRepair {
				t.Fatalf("writable Tx %T: BatchReader %v, BatchWriter %v, RepairReader %v; want all three", tx, okR, okW, okRepair)
			}
			stats, err := br.StatMany(ctx, []string{"2", "absent", "1"})
			if err != nil {
				t.Fatal(err)
			}
			if got := []string{stats[0].ID, stats[1].ID, stats[2].ID}; strings.Join(got, ",") != "2,,1" || stats[0].Version.Top.By != "laptop" {
				t.Fatalf("StatMany(2, absent, 1) = %+v, want the items published from rows 2 and 1 by laptop", stats)
			}
			vs = []store.Version{stats[0].Version, stats[2].Version}
			if err := bw.SetPeerVersions(ctx, "phone", []string{"2", "1"}, vs); err != nil {
				t.Fatal(err)
			}
			got, err := br.PeerVersions(ctx, "phone", []string{"1", "2", "absent"})
			if err != nil {
				t.Fatal(err)
			}
			if !got[0].Equal(vs[1]) || !got[1].Equal(vs[0]) || !got[2].IsZero() {
				t.Errorf("PeerVersions(1, 2, absent) = %v, want %v, %v and none", got, vs[1], vs[0])
			}
			it, err := rr.GetLimits(ctx, "1", feedsync.RepairLimits())
			if err != nil || it == nil || !store.VersionOf(it).Equal(vs[1]) {
				t.Errorf("GetLimits(1) = %v, %v; want the item of row 1", it, err)
			}
		})
		// Committed, and seen by a read-only Tx, whose methods are the
		// base store's own.
		feedtest.WithTx(t, st, false, func(tx store.Tx) {
			got, err := store.PeerVersions(ctx, tx, "phone", []string{"2", "1"})
			if err != nil {
				t.Fatal(err)
			}
			if !got[0].Equal(vs[0]) || !got[1].Equal(vs[1]) {
				t.Errorf("after commit, PeerVersions(2, 1) = %v, want %v", got, vs)
			}
		})
		if got := a.rows(); len(got) != 2 || got["1"] != "one/false" || got["2"] != "two/false" {
			t.Errorf("rows = %v, want rows 1 and 2 as the application wrote them", got)
		}
	})
}
