package main

import (
	"database/sql"
	"strings"
	"testing"

	_ "modernc.org/sqlite" // the application's own SQL
)

// TestServeTable serves an application's SQLite table with --table: rows
// written with plain SQL reach a client's feed file as items by the
// server's endpoint (FS-CREATE, FS-UPDATE), and the client's update comes
// back into the row.
func TestServeTable(t *testing.T) {
	h := newHarness(t)
	db, err := sql.Open("sqlite", h.path("app.db")+"?_pragma=busy_timeout(10000)")
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	exec := func(q string) {
		t.Helper()
		if _, err := db.Exec(q); err != nil {
			t.Fatal(err)
		}
	}
	exec(`CREATE TABLE tasks (id INTEGER PRIMARY KEY, title TEXT NOT NULL)`)
	exec(`INSERT INTO tasks (id, title) VALUES (1, 'Buy stamps')`)
	srv := startServe(t, h, "--table", "sqlite:"+h.path("app.db")+"?table=tasks&key=id", "--by", "laptop")

	r := h.ok("", "sync", srv.url, "--feed", "phone.xml", "--by", "phone")
	if !strings.Contains(r.stderr, "pull (full feed): 1 new") {
		t.Errorf("first sync:\n%s", r.stderr)
	}
	it := h.items("phone.xml")["1"]
	if it == nil || it.Sync.Top().By != "laptop" || itemTitle(it) != "Buy stamps" {
		t.Fatalf("phone.xml after the first sync:\n%s", h.read("phone.xml"))
	}
	exec(`UPDATE tasks SET title = 'Buy 10 stamps' WHERE id = 1`)
	exec(`INSERT INTO tasks (id, title) VALUES (2, 'Fix the fence')`)
	h.ok("", "sync", srv.url, "--feed", "phone.xml", "--by", "phone")
	if it := h.items("phone.xml")["1"]; itemTitle(it) != "Buy 10 stamps" || it.Sync.Updates != 2 {
		t.Errorf("the row's update did not arrive:\n%s", h.read("phone.xml"))
	}
	h.ok("", "update", "phone.xml", "--by", "phone", "--id", "2", "--set", "title=Fix the fence today")
	h.ok("", "sync", srv.url, "--feed", "phone.xml", "--by", "phone")
	var title string
	if err := db.QueryRow(`SELECT title FROM tasks WHERE id = 2`).Scan(&title); err != nil || title != "Fix the fence today" {
		t.Errorf("row 2 = %q, %v; want phone's update", title, err)
	}
	r = h.ok("", "sync", srv.url, "--feed", "phone.xml", "--by", "phone")
	if !strings.Contains(r.stderr, "push: nothing to send") || !strings.Contains(r.stderr, "0 new, 0 updated, 0 deleted, 0 conflicts, 0 unchanged") {
		t.Errorf("an idle sync moved items (echo):\n%s", r.stderr)
	}

	h.fails(exitUsage, []string{"--table cannot be used with --store"}, "serve", "--table", "sqlite:app.db?table=tasks&key=id", "--store", "x.db")
	h.fails(exitUsage, []string{"must name the table and its key column"}, "serve", "--table", "sqlite:app.db")
}
