package open

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/feedsync/go-feedsync/feedsync"
	"github.com/feedsync/go-feedsync/store"
	"github.com/feedsync/go-feedsync/store/postgres"
	"github.com/feedsync/go-feedsync/store/sqlite"
	"github.com/jackc/pgx/v5"
)

func TestOpen(t *testing.T) {
	dir := t.TempDir()
	tests := []struct {
		dsn  string
		want string // the concrete type
	}{
		{"memory:", "*store.Memory"},
		{"sqlite:" + filepath.Join(dir, "a.db"), "*sqlite.Store"},
		{filepath.Join(dir, "b.db"), "*sqlite.Store"},
		{"relative.db", "*sqlite.Store"},
	}
	t.Chdir(dir)
	for _, tc := range tests {
		t.Run(tc.dsn, func(t *testing.T) {
			s, err := Open(t.Context(), tc.dsn)
			if err != nil {
				t.Fatal(err)
			}
			defer s.Close()
			if got := typeName(s); got != tc.want {
				t.Errorf("Open(%q) is a %s, want %s", tc.dsn, got, tc.want)
			}
			if tc.want == "*sqlite.Store" {
				path := strings.TrimPrefix(tc.dsn, "sqlite:")
				if _, err := os.Stat(path); err != nil {
					t.Errorf("database file: %v", err)
				}
			}
		})
	}
}

func typeName(s store.Store) string {
	switch s.(type) {
	case *store.Memory:
		return "*store.Memory"
	case *sqlite.Store:
		return "*sqlite.Store"
	case *postgres.Store:
		return "*postgres.Store"
	}
	return "unknown"
}

func TestOpenRejects(t *testing.T) {
	for _, dsn := range []string{"", "mysql://u@h/db", "memory:extra", "sqlite:", "sqlite:a?b.db"} {
		t.Run(dsn, func(t *testing.T) {
			s, err := Open(t.Context(), dsn)
			if err == nil {
				s.Close()
				t.Fatalf("Open(%q) succeeded, want an error", dsn)
			}
		})
	}
}

func TestRedact(t *testing.T) {
	got := redact("postgres://me:secret@db.example/feeds")
	if strings.Contains(got, "secret") {
		t.Errorf("redact left the password in %q", got)
	}
}

func TestOpenPostgres(t *testing.T) {
	dsn := os.Getenv("FEEDSYNC_TEST_POSTGRES")
	if dsn == "" {
		t.Skip("PostgreSQL tests need a server: set FEEDSYNC_TEST_POSTGRES=postgres://postgres@127.0.0.1:5432/test?sslmode=disable")
	}
	schema := "feedsync_test_" + strings.ReplaceAll(feedsync.NewID(), "-", "")
	t.Cleanup(func() {
		ctx := context.Background()
		conn, err := pgx.Connect(ctx, dsn)
		if err != nil {
			t.Error(err)
			return
		}
		defer conn.Close(ctx)
		if _, err := conn.Exec(ctx, `DROP SCHEMA IF EXISTS `+pgx.Identifier{schema}.Sanitize()+` CASCADE`); err != nil {
			t.Error(err)
		}
	})
	sep := "?"
	if strings.Contains(dsn, "?") {
		sep = "&"
	}
	s, err := Open(t.Context(), dsn+sep+SchemaParam+"="+schema)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if got := typeName(s); got != "*postgres.Store" {
		t.Fatalf("got a %s", got)
	}
	// The tables went into the schema named by the DSN.
	conn, err := pgx.Connect(t.Context(), dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(context.Background())
	var n int
	if err := conn.QueryRow(t.Context(), `SELECT count(*) FROM information_schema.tables WHERE table_schema = $1 AND table_name = 'feedsync_items'`, schema).Scan(&n); err != nil {
		t.Fatal(err)
	}
	if n != 1 {
		t.Errorf("feedsync_items in schema %s: found %d, want 1", schema, n)
	}
}

// TestParse is the one reading of DSNs that Open and the feedsync command
// share.
func TestParse(t *testing.T) {
	for _, tc := range []struct {
		dsn  string
		kind Kind
		path string
		bare bool
	}{
		{"memory:", Memory, "", false},
		{"sqlite:a/b.db", SQLite, "a/b.db", false},
		{"tasks.db", SQLite, "tasks.db", true},
		{"tasks.xml", SQLite, "tasks.xml", true},
		{"postgres://u@h/db?feedsync_schema=s", Postgres, "", false},
		{"postgresql://h/db", Postgres, "", false},
		{"mysql://h/db", Unknown, "", false},
		{"memory:x", Unknown, "", false},
		{"", Unknown, "", false},
	} {
		kind, path, bare := Parse(tc.dsn)
		if kind != tc.kind || path != tc.path || bare != tc.bare {
			t.Errorf("Parse(%q) = %v, %q, %v; want %v, %q, %v", tc.dsn, kind, path, bare, tc.kind, tc.path, tc.bare)
		}
	}
}
