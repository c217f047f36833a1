package sqlite

import (
	"context"
	"path/filepath"
	"testing"

	"github.com/feedsync/go-feedsync/store"
	"github.com/feedsync/go-feedsync/store/storetest"
)

func TestConformance(t *testing.T) {
	storetest.Run(t, func(t *testing.T) store.Store {
		s, err := Open(t.Context(), filepath.Join(t.TempDir(), "store.db"), Options{})
		if err != nil {
			t.Fatal(err)
		}
		return s
	})
}

func TestDurable(t *testing.T) {
	storetest.RunDurable(t, func(t *testing.T) func() (store.Store, error) {
		path := filepath.Join(t.TempDir(), "store.db")
		return func() (store.Store, error) { return Open(context.Background(), path, Options{}) }
	})
}
