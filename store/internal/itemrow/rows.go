package itemrow

import (
	"iter"

	"github.com/feedsync/go-feedsync/feedsync"
	"github.com/feedsync/go-feedsync/store"
)

// Rows are the rows of a query as ScanChanges, ScanStatRows and ScanStats
// read them: database/sql's *sql.Rows and pgx.Rows both are. The caller
// closes them.
type Rows interface {
	Next() bool
	Scan(dest ...any) error
	Err() error
}

// ScanStat reads one row's stat columns with scan, the way each store
// stores them.
type ScanStat func(scan func(dest ...any) error) (store.ItemStat, error)

// ScanChanges reads the rows (seq, id, stored item) of a batch of changes,
// up to BatchRows rows or BatchBytes of stored items; more reports whether
// there may be more. It reads the whole batch before the caller sees any
// of it: a connection runs one query at a time, and the caller may use the
// Tx while it works through the batch.
func ScanChanges(rows Rows) (out []Change, more bool, err error) {
	size := 0
	for rows.Next() {
		var c Change
		if err := rows.Scan(&c.Seq, &c.ID, &c.Data); err != nil {
			return nil, false, err
		}
		out = append(out, c)
		if size += len(c.Data); size >= BatchBytes {
			return out, true, nil
		}
	}
	return out, len(out) == BatchRows, rows.Err()
}

// ScanStatRows reads the rows (the stat columns, then the stored item) of
// a batch as ScanChanges does.
func ScanStatRows(rows Rows, scanStat ScanStat) (out []StatRow, more bool, err error) {
	size := 0
	for rows.Next() {
		var r StatRow
		r.ItemStat, err = scanStat(func(dest ...any) error { return rows.Scan(append(dest, &r.Data)...) })
		if err != nil {
			return nil, false, err
		}
		out = append(out, r)
		if size += len(r.Data); size >= BatchBytes {
			return out, true, nil
		}
	}
	return out, len(out) == BatchRows, rows.Err()
}

// ScanStats reads the stats of the rows of a batch.
func ScanStats(rows Rows, scanStat ScanStat) ([]store.ItemStat, error) {
	var out []store.ItemStat
	for rows.Next() {
		stat, err := scanStat(rows.Scan)
		if err != nil {
			return nil, err
		}
		out = append(out, stat)
	}
	return out, rows.Err()
}

// ScanInto reads the rows of a batch lookup of ids (StatMany,
// PeerVersions): scan reads one row's id and value, which goes to every
// position of out where ids holds that id, so that an id asked for twice
// is answered twice. Positions without a row keep their zero value.
func ScanInto[T any](rows Rows, ids []string, out []T, scan func(scan func(dest ...any) error) (string, T, error)) error {
	at := make(map[string][]int, len(ids))
	for i, id := range ids {
		at[id] = append(at[id], i)
	}
	for rows.Next() {
		id, v, err := scan(rows.Scan)
		if err != nil {
			return err
		}
		for _, i := range at[id] {
			out[i] = v
		}
	}
	return rows.Err()
}

// Items yields the items of changes, for Tx.All.
func Items(changes iter.Seq2[store.Change, error]) iter.Seq2[*feedsync.Item, error] {
	return func(yield func(*feedsync.Item, error) bool) {
		for c, err := range changes {
			if !yield(c.Item, err) {
				return
			}
		}
	}
}
