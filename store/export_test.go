package store

import (
	"context"
	"fmt"

	"github.com/feedsync/go-feedsync/feedsync"
)

// PlantMemory is Put without its checks, for tests of repairs: it stores
// it in tx, a writable Tx of a Memory, even beyond the reader's limits
// (storetest.RunOversized).
func PlantMemory(ctx context.Context, tx Tx, it *feedsync.Item) error {
	mt, ok := tx.(*memTx)
	if !ok {
		return fmt.Errorf("plant: %T is not a Memory's Tx", tx)
	}
	if err := mt.Check(ctx, true); err != nil {
		return err
	}
	d, err := it.Digest()
	if err != nil {
		return err
	}
	_, err = mt.putRow(it, ItemStat{ID: it.Sync.ID, Version: VersionOf(it), Digest: d,
		Updates: it.Sync.Updates, Deleted: it.Sync.Deleted, Conflicts: len(it.Sync.Conflicts)})
	return err
}
