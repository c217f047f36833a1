package storetest

import (
	"context"
	"fmt"
	"testing"

	"github.com/feedsync/go-feedsync/feedsync"
	"github.com/feedsync/go-feedsync/store"
	"github.com/feedsync/go-feedsync/store/internal/itemrow"
	"github.com/google/go-cmp/cmp"
)

// RunRecode checks the migration of a database store to the compressed
// stored form of its items (store/internal/itemrow.Encode). open opens the
// same new database each time it is called; downgrade turns the open store
// s back into what a program before the migration wrote: for each id in
// xml, the row holding that standalone element uncompressed, and the
// schema version from before the migration. After reopening, every row
// must be in the stored form (encoded reports it) and every item read back
// as it was, at the same sequence number.
func RunRecode(t *testing.T, open func() (store.Store, error), downgrade func(s store.Store, xml map[string][]byte) error, encoded func(s store.Store) (bool, error)) {
	s, err := open()
	if err != nil {
		t.Fatalf("open: %v", err)
	}
	// More items than one batch of the rewrite, of every kind the store
	// must keep.
	items := corpus()
	for i := range 600 {
		items = append(items, newItem(fmt.Sprintf("recode-%d", i), fmt.Sprintf("Task %d", i), "laptop", "09:00"))
	}
	putAll(t, s, items...)
	want := changeViews(t, s)
	xml := map[string][]byte{}
	for _, it := range items {
		b, err := feedsync.MarshalItem(it)
		if err != nil {
			t.Fatal(err)
		}
		xml[it.ID()] = b
	}
	if err := downgrade(s, xml); err != nil {
		t.Fatalf("downgrade: %v", err)
	}
	if ok, err := encoded(s); err != nil || ok {
		t.Fatalf("after downgrade: every row in the stored form = %v, %v; want false", ok, err)
	}
	s.Close()

	s, err = open()
	if err != nil {
		t.Fatalf("reopen: %v", err)
	}
	defer s.Close()
	if ok, err := encoded(s); err != nil || !ok {
		t.Errorf("after the migration: every row in the stored form = %v, %v; want true", ok, err)
	}
	if d := cmp.Diff(want, changeViews(t, s)); d != "" {
		t.Errorf("changes after the migration (-before +after):\n%s", d)
	}
}

// EncodedRows returns the encoded function of RunRecode for a store whose
// transactions are store.SQLTx and keep items in the xml column of table:
// it reports whether every row there is in the stored form.
func EncodedRows(table string) func(s store.Store) (bool, error) {
	return func(s store.Store) (bool, error) {
		ctx := context.Background()
		tx, err := s.Begin(ctx, false)
		if err != nil {
			return false, err
		}
		defer tx.Rollback()
		sqlTx, ok := tx.(store.SQLTx)
		if !ok {
			return false, fmt.Errorf("%T is not a store.SQLTx", tx)
		}
		all := true
		err = sqlTx.QuerySQL(ctx, `SELECT xml FROM `+table, nil, func(scan func(dest ...any) error) error {
			var b []byte
			if err := scan(&b); err != nil {
				return err
			}
			all = all && itemrow.Encoded(b)
			return nil
		})
		return all, err
	}
}

// seqView is one change with what must survive of its item.
type seqView struct {
	Seq  int64
	Item view
}

func changeViews(t *testing.T, s store.Store) []seqView {
	t.Helper()
	tx := begin(t, s, false)
	defer tx.Rollback()
	var out []seqView
	for c, err := range tx.Changes(t.Context(), 0) {
		if err != nil {
			t.Fatalf("changes: %v", err)
		}
		out = append(out, seqView{c.Seq, viewOf(t, c.Item)})
	}
	return out
}
