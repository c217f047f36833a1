package open

import (
	"context"
	"fmt"
	"net/url"
	"strings"

	"github.com/feedsync/go-feedsync/store"
	"github.com/feedsync/go-feedsync/store/postgres"
	"github.com/feedsync/go-feedsync/store/sqlite"
)

// SchemaParam is the DSN query parameter that names the PostgreSQL schema
// (postgres.Options.Schema).
const SchemaParam = "feedsync_schema"

// Open opens the store that dsn names (see the package documentation).
func Open(ctx context.Context, dsn string) (store.Store, error) {
	return openDSN(ctx, dsn, false)
}

// Existing is Open for a store that must exist already: for a SQLite file
// or a PostgreSQL schema that holds no store it creates nothing and fails
// with store.ErrNotExist. Programs that only read a store use it, so that a
// mistyped name is reported instead of read as a new, empty store.
// "memory:" is always a new, empty store.
func Existing(ctx context.Context, dsn string) (store.Store, error) {
	return openDSN(ctx, dsn, true)
}

// Kind is the kind of store a DSN names.
type Kind uint8

const (
	// Unknown: not a DSN this package opens.
	Unknown Kind = iota
	Memory
	SQLite
	Postgres
)

// Parse says which kind of store dsn names, as Open reads it, and for
// SQLite the file's path; bare reports a SQLite file named by its path
// alone, without "sqlite:". It is the one reading of DSNs: programs that
// take DSNs and other arguments in one place (the feedsync command takes
// feed files too) build their own rules on it.
func Parse(dsn string) (kind Kind, path string, bare bool) {
	switch {
	case dsn == "":
		return Unknown, "", false
	case dsn == "memory:":
		return Memory, "", false
	case strings.HasPrefix(dsn, "sqlite:"):
		return SQLite, strings.TrimPrefix(dsn, "sqlite:"), false
	case strings.HasPrefix(dsn, "postgres://"), strings.HasPrefix(dsn, "postgresql://"):
		return Postgres, "", false
	case strings.Contains(dsn, "://"), strings.HasPrefix(dsn, "memory:"):
		return Unknown, "", false
	}
	return SQLite, dsn, true
}

func openDSN(ctx context.Context, dsn string, mustExist bool) (store.Store, error) {
	kind, path, _ := Parse(dsn)
	switch {
	case dsn == "":
		return nil, fmt.Errorf("open store: empty DSN (want memory:, sqlite:PATH, a file path or postgres://…)")
	case kind == Memory:
		return store.NewMemory(), nil
	case kind == SQLite:
		return openSQLite(ctx, path, mustExist)
	case kind == Postgres:
		return openPostgres(ctx, dsn, mustExist)
	}
	return nil, fmt.Errorf("open store %q: unknown kind (want memory:, sqlite:PATH, a file path or postgres://…)", redact(dsn))
}

func openSQLite(ctx context.Context, path string, mustExist bool) (store.Store, error) {
	s, err := sqlite.Open(ctx, path, sqlite.Options{MustExist: mustExist})
	if err != nil {
		return nil, fmt.Errorf("open store: %w", err)
	}
	return s, nil
}

func openPostgres(ctx context.Context, dsn string, mustExist bool) (store.Store, error) {
	u, err := url.Parse(dsn)
	if err != nil {
		return nil, fmt.Errorf("open store: parse PostgreSQL URL: %w", err)
	}
	opts := postgres.Options{MustExist: mustExist}
	q := u.Query()
	if q.Has(SchemaParam) {
		opts.Schema = q.Get(SchemaParam)
		q.Del(SchemaParam)
		u.RawQuery = q.Encode()
	}
	s, err := postgres.Open(ctx, u.String(), opts)
	if err != nil {
		return nil, fmt.Errorf("open store %s: %w", redact(dsn), err)
	}
	return s, nil
}

// redact hides a password in a URL-shaped DSN, for error messages.
func redact(dsn string) string {
	u, err := url.Parse(dsn)
	if err != nil || u.User == nil {
		return dsn
	}
	return u.Redacted()
}
