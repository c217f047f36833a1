package store_test

import (
	"testing"

	"github.com/feedsync/go-feedsync/store"
	"github.com/feedsync/go-feedsync/store/storetest"
)

func TestMemory(t *testing.T) {
	storetest.Run(t, func(t *testing.T) store.Store { return store.NewMemory() })
}

// FS-ROBUST-6: a Memory holds items decoded and reads them without
// limits; Compact and a resolution read past them still repair an item
// planted beyond them.
func TestMemoryOversized(t *testing.T) {
	storetest.RunOversized(t, store.NewMemory(), store.PlantMemory)
}
