package main

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"errors"
	"fmt"
	"html/template"
	"log/slog"
	"net/http"
	"strconv"
	"time"

	_ "modernc.org/sqlite" // the application's own SQL goes through database/sql

	"github.com/feedsync/go-feedsync/collection"
	"github.com/feedsync/go-feedsync/converter"
	"github.com/feedsync/go-feedsync/httpfeed"
	"github.com/feedsync/go-feedsync/store/sqlite"
	"github.com/feedsync/go-feedsync/store/table"
)

// App is the task list: its own table, written with plain SQL, tracked by
// feedsync (store/table) and served as a FeedSync feed at /feed.
type App struct {
	db    *sql.DB
	feed  *table.Store
	tasks *collection.Collection[string, map[string]any]
	mux   *http.ServeMux
}

// Task is a row of the tasks table.
type Task struct {
	ID    string
	Title string
	Done  bool
}

// schema is the application's table. It knows nothing of feedsync: Open
// adds the triggers and shadow tables beside it.
const schema = `CREATE TABLE IF NOT EXISTS tasks (
	id    TEXT PRIMARY KEY,
	title TEXT NOT NULL DEFAULT '',
	done  INTEGER NOT NULL DEFAULT 0
)`

// Open opens (or creates) the database at path and the feed of its tasks,
// whose changes are stamped by.
func Open(ctx context.Context, path, by string) (*App, error) {
	db, err := sql.Open("sqlite", path+"?_pragma=busy_timeout(10000)&_pragma=journal_mode(WAL)")
	if err != nil {
		return nil, err
	}
	if _, err := db.ExecContext(ctx, schema); err != nil {
		db.Close()
		return nil, fmt.Errorf("create the tasks table: %w", err)
	}
	base, err := sqlite.Open(ctx, path, sqlite.Options{})
	if err != nil {
		db.Close()
		return nil, err
	}
	feed, err := table.Open(ctx, base, table.Config{Table: "tasks", Key: "id", Columns: []string{"title", "done"}, By: by})
	if err != nil {
		base.Close()
		db.Close()
		return nil, err
	}
	a := &App{
		db:   db,
		feed: feed,
		tasks: &collection.Collection[string, map[string]any]{
			Store: feed, Items: feed.Items(), IDs: converter.IDs[string]{}, By: by,
		},
		mux: http.NewServeMux(),
	}
	a.mux.HandleFunc("GET /{$}", a.list)
	a.mux.HandleFunc("POST /tasks", a.create)
	a.mux.HandleFunc("GET /tasks/{id}", a.editForm)
	a.mux.HandleFunc("POST /tasks/{id}", a.update)
	a.mux.HandleFunc("POST /tasks/{id}/delete", a.delete)
	a.mux.HandleFunc("GET /conflicts", a.conflicts)
	a.mux.HandleFunc("POST /conflicts/{id}", a.resolve)
	a.mux.Handle("/feed", &httpfeed.Handler{Store: feed, Name: "tasks", Logger: slog.New(slog.DiscardHandler)})
	return a, nil
}

// Close closes the database and the feed.
func (a *App) Close() error {
	return errors.Join(a.feed.Close(), a.db.Close())
}

func (a *App) ServeHTTP(w http.ResponseWriter, r *http.Request) { a.mux.ServeHTTP(w, r) }

// The application's own reads and writes: plain SQL on its table.

func (a *App) list(w http.ResponseWriter, r *http.Request) {
	rows, err := a.db.QueryContext(r.Context(), `SELECT id, title, done FROM tasks ORDER BY title, id`)
	if err != nil {
		fail(w, err)
		return
	}
	defer rows.Close()
	var tasks []Task
	for rows.Next() {
		var t Task
		if err := rows.Scan(&t.ID, &t.Title, &t.Done); err != nil {
			fail(w, err)
			return
		}
		tasks = append(tasks, t)
	}
	if err := rows.Err(); err != nil {
		fail(w, err)
		return
	}
	cs, err := a.tasks.Conflicts(r.Context())
	if err != nil {
		fail(w, err)
		return
	}
	conflicted := map[string]bool{}
	for _, c := range cs {
		conflicted[c.Key] = true
	}
	render(w, "list", map[string]any{"Tasks": tasks, "Conflicts": len(cs), "Conflicted": conflicted})
}

func (a *App) create(w http.ResponseWriter, r *http.Request) {
	title := r.FormValue("title")
	if title == "" {
		http.Error(w, "a task needs a title", http.StatusBadRequest)
		return
	}
	if _, err := a.db.ExecContext(r.Context(), `INSERT INTO tasks (id, title) VALUES (?, ?)`, newKey(), title); err != nil {
		fail(w, err)
		return
	}
	http.Redirect(w, r, "/", http.StatusSeeOther)
}

func (a *App) editForm(w http.ResponseWriter, r *http.Request) {
	var t Task
	err := a.db.QueryRowContext(r.Context(), `SELECT id, title, done FROM tasks WHERE id = ?`, r.PathValue("id")).Scan(&t.ID, &t.Title, &t.Done)
	if errors.Is(err, sql.ErrNoRows) {
		http.NotFound(w, r)
		return
	}
	if err != nil {
		fail(w, err)
		return
	}
	render(w, "edit", t)
}

func (a *App) update(w http.ResponseWriter, r *http.Request) {
	_, err := a.db.ExecContext(r.Context(), `UPDATE tasks SET title = ?, done = ? WHERE id = ?`,
		r.FormValue("title"), r.FormValue("done") == "on", r.PathValue("id"))
	if err != nil {
		fail(w, err)
		return
	}
	http.Redirect(w, r, "/", http.StatusSeeOther)
}

func (a *App) delete(w http.ResponseWriter, r *http.Request) {
	if _, err := a.db.ExecContext(r.Context(), `DELETE FROM tasks WHERE id = ?`, r.PathValue("id")); err != nil {
		fail(w, err)
		return
	}
	http.Redirect(w, r, "/", http.StatusSeeOther)
}

// Conflicts come from feedsync: the versions live in its shadow tables.

// versionView is one version of a conflicted task, as the page shows it.
type versionView struct {
	Index                  int
	Title, Done            string
	Deleted                bool
	By, When               string
	Updates                int64
	TitleDiffers, DoneDiff bool
}

type conflictView struct {
	Key      string
	Versions []versionView
}

func (a *App) conflicts(w http.ResponseWriter, r *http.Request) {
	cs, err := a.tasks.Conflicts(r.Context())
	if err != nil {
		fail(w, err)
		return
	}
	views := make([]conflictView, 0, len(cs))
	for _, c := range cs {
		cv := conflictView{Key: c.Key}
		for i, v := range c.Versions {
			vv := versionView{
				Index: i, Title: text(v.Value["title"]), Done: doneText(v.Value["done"]), Deleted: v.Deleted,
				By: v.By, Updates: v.Updates,
			}
			if !v.When.IsZero() {
				vv.When = v.When.Format(time.DateTime)
			}
			cv.Versions = append(cv.Versions, vv)
		}
		// What differs between the versions is highlighted: a field is
		// marked in every version when not all versions agree on it.
		for i := range cv.Versions {
			for _, o := range cv.Versions {
				cv.Versions[i].TitleDiffers = cv.Versions[i].TitleDiffers || o.Title != cv.Versions[i].Title
				cv.Versions[i].DoneDiff = cv.Versions[i].DoneDiff || o.Done != cv.Versions[i].Done
			}
		}
		views = append(views, cv)
	}
	render(w, "conflicts", views)
}

func (a *App) resolve(w http.ResponseWriter, r *http.Request) {
	key := r.PathValue("id")
	i, err := strconv.Atoi(r.FormValue("version"))
	if err != nil {
		http.Error(w, "which version? (version=N)", http.StatusBadRequest)
		return
	}
	c, ok, err := a.tasks.Conflict(r.Context(), key)
	if err != nil {
		fail(w, err)
		return
	}
	// The version must still be the one the page showed: a sync may have
	// changed the conflict since.
	if !ok || i < 0 || i >= len(c.Versions) || c.Versions[i].By != r.FormValue("by") || strconv.FormatInt(c.Versions[i].Updates, 10) != r.FormValue("updates") {
		http.Error(w, "the conflict changed since the page was shown; look again", http.StatusConflict)
		return
	}
	if v := c.Versions[i]; v.Deleted {
		err = a.tasks.ResolveDeleted(r.Context(), key)
	} else {
		err = a.tasks.Resolve(r.Context(), key, v.Value)
	}
	if err != nil {
		fail(w, err)
		return
	}
	http.Redirect(w, r, "/conflicts", http.StatusSeeOther)
}

func text(v any) string {
	if v == nil {
		return ""
	}
	return fmt.Sprint(v)
}

// doneText shows a done column as the rows hold it (0 or 1), whatever form
// a peer sent it in.
func doneText(v any) string {
	switch text(v) {
	case "1", "true":
		return "done"
	}
	return "to do"
}

// newKey returns a new task key: random, so that endpoints that create
// tasks at the same time never pick the same one.
func newKey() string {
	var b [6]byte
	rand.Read(b[:])
	return hex.EncodeToString(b[:])
}

func fail(w http.ResponseWriter, err error) {
	http.Error(w, err.Error(), http.StatusInternalServerError)
}

func render(w http.ResponseWriter, name string, data any) {
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	if err := pages.ExecuteTemplate(w, name, data); err != nil {
		fail(w, err)
	}
}

var pages = template.Must(template.New("").Parse(`
{{define "head"}}<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Tasks</title>
<style>
body { font-family: system-ui, sans-serif; max-width: 52rem; margin: 2rem auto; padding: 0 1rem; color: #222; }
h1 a { color: inherit; text-decoration: none; }
table { border-collapse: collapse; width: 100%; }
td, th { padding: .4rem .6rem; border-bottom: 1px solid #ddd; text-align: left; vertical-align: top; }
.done { text-decoration: line-through; color: #888; }
.warn { background: #fff3cd; border: 1px solid #e0c36a; padding: .5rem .8rem; margin: 1rem 0; }
.versions td.differs { background: #ffd7d7; font-weight: bold; }
.versions th { background: #f3f3f3; }
form.inline { display: inline; }
input[type=text] { width: 20rem; }
</style></head><body><h1><a href="/">Tasks</a></h1>{{end}}

{{define "list"}}{{template "head"}}
{{if .Conflicts}}<p class="warn" id="conflict-banner">{{.Conflicts}} task(s) changed on two endpoints at once: <a href="/conflicts">compare and keep one</a>.</p>{{end}}
<form method="post" action="/tasks"><input type="text" name="title" id="new-title" placeholder="New task" required> <button id="add">Add</button></form>
<table><tbody>
{{range .Tasks}}<tr id="task-{{.ID}}">
<td class="{{if .Done}}done{{end}}">{{.Title}}{{if index $.Conflicted .ID}} ⚠{{end}}</td>
<td><a href="/tasks/{{.ID}}">edit</a>
<form class="inline" method="post" action="/tasks/{{.ID}}/delete"><button>delete</button></form></td></tr>
{{else}}<tr><td>No tasks.</td></tr>{{end}}
</tbody></table>
<p><small>This list is a FeedSync feed at <code>/feed</code>: <code>feedsync sync http://HOST/feed --feed mine.xml</code>.</small></p>
</body></html>{{end}}

{{define "edit"}}{{template "head"}}
<form method="post" action="/tasks/{{.ID}}">
<p><input type="text" name="title" id="title" value="{{.Title}}"></p>
<p><label><input type="checkbox" name="done" {{if .Done}}checked{{end}}> done</label></p>
<p><button id="save">Save</button> <a href="/">cancel</a></p>
</form></body></html>{{end}}

{{define "conflicts"}}{{template "head"}}
<h2>Conflicts</h2>
{{range .}}<section id="conflict-{{.Key}}"><h3>{{(index .Versions 0).Title}} <small>(task {{.Key}})</small></h3>
<table class="versions"><thead><tr><th></th>{{range .Versions}}<th>{{if eq .Index 0}}current{{else}}other{{end}} version, by {{.By}}<br><small>{{.When}} · update {{.Updates}}</small></th>{{end}}</tr></thead>
<tbody>
<tr><th>title</th>{{range .Versions}}<td class="{{if .TitleDiffers}}differs{{end}}">{{if .Deleted}}<em>deleted</em>{{else}}{{.Title}}{{end}}</td>{{end}}</tr>
<tr><th>done</th>{{range .Versions}}<td class="{{if .DoneDiff}}differs{{end}}">{{.Done}}</td>{{end}}</tr>
<tr><th></th>{{$key := .Key}}{{range .Versions}}<td><form method="post" action="/conflicts/{{$key}}">
<input type="hidden" name="version" value="{{.Index}}"><input type="hidden" name="by" value="{{.By}}"><input type="hidden" name="updates" value="{{.Updates}}">
<button class="keep" data-by="{{.By}}">Keep this one</button></form></td>{{end}}</tr>
</tbody></table></section>
{{else}}<p id="no-conflicts">No conflicts.</p>{{end}}
</body></html>{{end}}
`))
