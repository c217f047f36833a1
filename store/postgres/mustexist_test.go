package postgres

import (
	"context"
	"errors"
	"testing"

	"github.com/feedsync/go-feedsync/store"
	"github.com/jackc/pgx/v5"
)

// schemaExists reports whether the schema name exists in the database.
func schemaExists(t *testing.T, dsn, name string) bool {
	t.Helper()
	ctx := context.Background()
	conn, err := pgx.Connect(ctx, dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(ctx)
	var found bool
	if err := conn.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM pg_namespace WHERE nspname = $1)`, name).Scan(&found); err != nil {
		t.Fatal(err)
	}
	return found
}

// TestOpenMustExist checks that Options.MustExist opens only a schema that
// holds a store, and creates nothing otherwise: no schema, and no tables in
// a schema that exists without a store.
func TestOpenMustExist(t *testing.T) {
	dsn := testDSN(t)
	schema := newSchema(t, dsn)
	ctx := t.Context()

	_, err := Open(ctx, dsn, Options{Schema: schema, MustExist: true})
	if !errors.Is(err, store.ErrNotExist) {
		t.Fatalf("Open of a missing schema with MustExist: %v, want store.ErrNotExist", err)
	}
	if schemaExists(t, dsn, schema) {
		t.Fatalf("Open with MustExist created schema %s", schema)
	}

	// A schema without the store's tables is not a store either.
	conn, err := pgx.Connect(ctx, dsn)
	if err != nil {
		t.Fatal(err)
	}
	_, err = conn.Exec(ctx, `CREATE SCHEMA `+pgx.Identifier{schema}.Sanitize())
	conn.Close(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := Open(ctx, dsn, Options{Schema: schema, MustExist: true}); !errors.Is(err, store.ErrNotExist) {
		t.Fatalf("Open of an empty schema with MustExist: %v, want store.ErrNotExist", err)
	}

	s, err := Open(ctx, dsn, Options{Schema: schema})
	if err != nil {
		t.Fatal(err)
	}
	id := s.ID()
	s.Close()
	s, err = Open(ctx, dsn, Options{Schema: schema, MustExist: true})
	if err != nil {
		t.Fatalf("Open of an existing store with MustExist: %v", err)
	}
	defer s.Close()
	if s.ID() != id {
		t.Errorf("reopened store has id %s, want %s", s.ID(), id)
	}
}
