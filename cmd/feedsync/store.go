package main

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"net/url"
	"os"
	"strings"

	"github.com/feedsync/go-feedsync/store"
	"github.com/feedsync/go-feedsync/store/open"
)

// The store DSNs the commands accept (--store, and the endpoints of
// verify), as store/open reads them:
//
//   - "memory:", a new, empty store that goes away when the command ends;
//   - "sqlite:PATH", the SQLite database file PATH;
//   - a path ending in ".db", the same as "sqlite:PATH";
//   - "postgres://…" or "postgresql://…", a PostgreSQL database (the query
//     parameter feedsync_schema=NAME chooses the schema).
//
// store/open also takes any other bare path for a SQLite file; the commands
// do not, because their other arguments are feed files: "--store tasks.xml"
// would otherwise turn a feed into a new, empty database.
const storeDSNs = "sqlite:PATH, a path ending in .db, postgres://… or memory:"

// storeKind is the kind of store a DSN names.
type storeKind uint8

const (
	notStore storeKind = iota
	memoryStore
	sqliteStore
	postgresStore
)

// parseDSN says which kind of store s names, and for SQLite the file's
// path; notStore for anything else (a feed file, "-"). It is store/open's
// reading (open.Parse), except that a bare path names a store only when it
// ends in ".db".
func parseDSN(s string) (storeKind, string) {
	kind, path, bare := open.Parse(s)
	switch {
	case kind == open.Memory:
		return memoryStore, ""
	case kind == open.Postgres:
		return postgresStore, ""
	case kind == open.SQLite && (!bare || strings.HasSuffix(path, ".db")):
		return sqliteStore, path
	}
	return notStore, ""
}

// isStore reports whether s names a store rather than a feed file.
func isStore(s string) bool {
	k, _ := parseDSN(s)
	return k != notStore
}

// storeLabel is how messages name the store s: the DSN as given, with a
// PostgreSQL password hidden; "<memory>" for "memory:", as "<stdin>" names
// standard input.
func storeLabel(s string) string {
	switch k, _ := parseDSN(s); k {
	case memoryStore:
		return "<memory>"
	case postgresStore:
		if u, err := url.Parse(s); err == nil && u.User != nil {
			return u.Redacted()
		}
	}
	return s
}

// openStore opens the store dsn names. With create false the store must
// exist already (a SQLite file, or a PostgreSQL schema, holding one):
// commands that only read a store (produce, verify, show, conflicts) fail
// on a mistyped name with "no such store" instead of making an empty
// database or schema there. Errors name
// the store (with a PostgreSQL password hidden) and are input errors (exit
// 2).
func (m *Main) openStore(ctx context.Context, dsn string, create bool) (store.Store, error) {
	label := storeLabel(dsn)
	kind, path := parseDSN(dsn)
	switch {
	case kind == notStore:
		return nil, &usageError{
			msg:  fmt.Sprintf("%q is not a store", dsn),
			hint: "Name a store as " + storeDSNs + ".",
		}
	case kind == sqliteStore && path == "":
		return nil, &usageError{msg: fmt.Sprintf("%q: no file name after sqlite:", dsn), hint: "For example --store sqlite:tasks.db."}
	case kind == sqliteStore && !create:
		fi, err := os.Stat(path)
		if errors.Is(err, fs.ErrNotExist) {
			return nil, &usageError{
				msg:  fmt.Sprintf("%s: no such store", label),
				hint: fmt.Sprintf("A store is made by merging a feed into it: feedsync merge --store %s FEED", dsn),
			}
		}
		if err != nil {
			return nil, inFile(label, err)
		}
		if !fi.Mode().IsRegular() {
			return nil, inFile(label, errors.New("not a regular file"))
		}
	}
	openDSN := open.Open
	if !create {
		openDSN = open.Existing
	}
	st, err := openDSN(ctx, dsn)
	if errors.Is(err, store.ErrNotExist) {
		return nil, &usageError{
			msg:  fmt.Sprintf("%s: no such store", label),
			hint: fmt.Sprintf("A store is made by merging a feed into it: feedsync merge --store %s FEED", label),
		}
	}
	if err != nil {
		if strings.Contains(err.Error(), label) {
			return nil, err // store/open named it already
		}
		return nil, inFile(label, err)
	}
	return st, nil
}
