package storetest

import (
	"context"
	"fmt"

	"github.com/feedsync/go-feedsync/feedsync"
	"github.com/feedsync/go-feedsync/store"
	"github.com/feedsync/go-feedsync/store/internal/itemrow"
)

// PlantSQL stores it in a database store's transaction as an older
// version of this module could: without the limit check of Put, so that
// it may be beyond the reader's limits (FS-ROBUST-6). Tests of repairs
// plant such items; nothing else may. The row is a Put of a small item
// with the same id (a change like any other), whose columns and stored
// XML are then replaced by it's.
func PlantSQL(ctx context.Context, tx store.Tx, it *feedsync.Item) error {
	sq, ok := tx.(store.SQLTx)
	if !ok {
		return fmt.Errorf("plant item %q: %T runs no SQL", it.ID(), tx)
	}
	small, err := feedsync.Create(it.Format(), nil, it.ID(), feedsync.Stamp{By: "plant"}, false)
	if err != nil {
		return fmt.Errorf("plant item %q: %w", it.ID(), err)
	}
	if _, err := tx.Put(ctx, small); err != nil {
		return fmt.Errorf("plant item %q: %w", it.ID(), err)
	}
	xml, err := feedsync.MarshalItem(it)
	if err != nil {
		return fmt.Errorf("plant item %q: %w", it.ID(), err)
	}
	d, err := it.Digest()
	if err != nil {
		return fmt.Errorf("plant item %q: %w", it.ID(), err)
	}
	v := store.VersionOf(it)
	var when any
	table, q := "items", `UPDATE items SET updates = ?, deleted = ?, top_by = ?, top_seq = ?, top_when = ?,
	digest = ?, conflicts = ?, conflicts_digest = ?, xml = ? WHERE id = ?`
	if !v.Top.When.IsZero() {
		when = v.Top.When.Unix()
	}
	if sq.SQLDialect() == "postgres" {
		table, q = "feedsync_items", `UPDATE feedsync_items SET updates = $1, deleted = $2, top_by = $3, top_seq = $4, top_when = $5,
	digest = $6, conflicts = $7, conflicts_digest = $8, xml = $9 WHERE id = $10`
		if !v.Top.When.IsZero() {
			when = v.Top.When
		}
	}
	n, err := sq.ExecSQL(ctx, q, it.Sync.Updates, it.Sync.Deleted, v.Top.By, v.Top.Sequence, when,
		d[:], len(it.Sync.Conflicts), v.Conflicts, itemrow.Encode(xml), it.ID())
	if err == nil && n != 1 {
		err = fmt.Errorf("%d rows of %s changed", n, table)
	}
	if err != nil {
		return fmt.Errorf("plant item %q: %w", it.ID(), err)
	}
	return nil
}
