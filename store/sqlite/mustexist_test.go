package sqlite

import (
	"database/sql"
	"errors"
	"os"
	"path/filepath"
	"testing"

	"github.com/feedsync/go-feedsync/store"
)

// TestOpenMustExist checks that Options.MustExist opens only a file that
// holds a store, and creates nothing otherwise.
func TestOpenMustExist(t *testing.T) {
	dir := t.TempDir()
	ctx := t.Context()

	missing := filepath.Join(dir, "missing.db")
	if _, err := Open(ctx, missing, Options{MustExist: true}); !errors.Is(err, store.ErrNotExist) {
		t.Fatalf("Open of a missing file with MustExist: %v, want store.ErrNotExist", err)
	}
	if _, err := os.Stat(missing); !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("Open with MustExist created the file: %v", err)
	}

	// A SQLite database of something else is not a store, and gets no
	// store tables.
	other := filepath.Join(dir, "other.db")
	db, err := sql.Open("sqlite", other)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := db.Exec(`CREATE TABLE notes (body TEXT)`); err != nil {
		t.Fatal(err)
	}
	db.Close()
	if _, err := Open(ctx, other, Options{MustExist: true}); !errors.Is(err, store.ErrNotExist) {
		t.Fatalf("Open of another database with MustExist: %v, want store.ErrNotExist", err)
	}

	path := filepath.Join(dir, "store.db")
	s, err := Open(ctx, path, Options{})
	if err != nil {
		t.Fatal(err)
	}
	id := s.ID()
	s.Close()
	s, err = Open(ctx, path, Options{MustExist: true})
	if err != nil {
		t.Fatalf("Open of an existing store with MustExist: %v", err)
	}
	defer s.Close()
	if s.ID() != id {
		t.Errorf("reopened store has id %s, want %s", s.ID(), id)
	}
}
