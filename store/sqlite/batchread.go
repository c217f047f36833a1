package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"

	"github.com/feedsync/go-feedsync/store"
	"github.com/feedsync/go-feedsync/store/internal/itemrow"
)

// batchIDs is how many ids one query of StatMany or PeerVersions names: a
// full batch has its statement prepared once per connection, the last
// batch of a call is padded with "" (never a sync id). The cost of a
// lookup is then mostly SQLite's, not a round of database/sql per item.
const batchIDs = 256

// batchRows is how many peer versions one statement of SetPeerVersions
// writes at most; fewer go in statements of a power of two rows, so that
// a connection keeps at most a few of them prepared.
const batchRows = 128

var _ interface {
	store.BatchReader
	store.BatchWriter
} = (*tx)(nil)

// inList returns "?,?,…" with n placeholders.
func inList(n int) string {
	return strings.TrimSuffix(strings.Repeat("?,", n), ",")
}

var (
	qStatMany     = `SELECT ` + statCols + ` FROM items WHERE id IN (` + inList(batchIDs) + `)`
	qPeerVersions = `SELECT id, top_by, top_seq, top_when, conflicts FROM peer_versions WHERE peer = ? AND id IN (` + inList(batchIDs) + `)`
	qPeerNum      = `SELECT num FROM peer_names WHERE name = ?`
)

// peerNum returns the number peer_versions names peer by, and false when
// the peer has none (it has no versions); with create it makes one.
func (t *tx) peerNum(ctx context.Context, peer string, create bool) (int64, bool, error) {
	if create && !t.named[peer] {
		if err := t.exec(ctx, qAddPeerName, peer); err != nil {
			return 0, false, err
		}
		if t.named == nil {
			t.named = map[string]bool{}
		}
		t.named[peer] = true
	}
	var num int64
	err := t.queryRow(ctx, qPeerNum, []any{peer}, &num)
	if errors.Is(err, sql.ErrNoRows) {
		return 0, false, nil
	}
	return num, err == nil, err
}

// idArgs returns ids as the arguments of a query naming batchIDs ids,
// after the arguments before.
func idArgs(args []any, ids []string) []any {
	for _, id := range ids {
		args = append(args, id)
	}
	for range batchIDs - len(ids) {
		args = append(args, "")
	}
	return args
}

func (t *tx) StatMany(ctx context.Context, ids []string) ([]store.ItemStat, error) {
	if err := t.enter(ctx, false); err != nil {
		return nil, fmt.Errorf("sqlite: stat %d items: %w", len(ids), err)
	}
	out := make([]store.ItemStat, len(ids))
	args := make([]any, 0, batchIDs)
	for start := 0; start < len(ids); start += batchIDs {
		batch := ids[start:min(len(ids), start+batchIDs)]
		if err := batchOf(ctx, t, qStatMany, idArgs(args[:0], batch), batch, out[start:], scanStatOf); err != nil {
			return nil, fmt.Errorf("sqlite: stat items %q to %q: %w", batch[0], batch[len(batch)-1], t.Fail(err))
		}
	}
	return out, nil
}

// batchOf runs the batch lookup q with args and reads its rows into out
// at the positions of their ids in batch (itemrow.ScanInto).
func batchOf[T any](ctx context.Context, t *tx, q string, args []any, batch []string, out []T, scan func(func(...any) error) (string, T, error)) error {
	st, err := t.stmt(ctx, q)
	if err != nil {
		return err
	}
	rows, err := st.QueryContext(ctx, args...)
	if err != nil {
		return err
	}
	defer rows.Close()
	return itemrow.ScanInto(rows, batch, out, scan)
}

// scanStatOf reads the statCols of one row of qStatMany.
func scanStatOf(scan func(...any) error) (string, store.ItemStat, error) {
	stat, err := scanStat(scan)
	return stat.ID, stat, err
}

func (t *tx) PeerVersions(ctx context.Context, peer string, ids []string) ([]store.Version, error) {
	if err := t.enter(ctx, false); err != nil {
		return nil, fmt.Errorf("sqlite: versions of %d items at peer %q: %w", len(ids), peer, err)
	}
	out := make([]store.Version, len(ids))
	num, ok, err := t.peerNum(ctx, peer, false)
	if err != nil {
		return nil, fmt.Errorf("sqlite: versions of %d items at peer %q: %w", len(ids), peer, t.Fail(err))
	}
	if !ok {
		return out, nil
	}
	args := make([]any, 0, 1+batchIDs)
	for start := 0; start < len(ids); start += batchIDs {
		batch := ids[start:min(len(ids), start+batchIDs)]
		if err := batchOf(ctx, t, qPeerVersions, idArgs(append(args[:0], num), batch), batch, out[start:], scanPeerVersion); err != nil {
			return nil, fmt.Errorf("sqlite: versions of items %q to %q at peer %q: %w", batch[0], batch[len(batch)-1], peer, t.Fail(err))
		}
	}
	return out, nil
}

// scanPeerVersion reads one row of qPeerVersions.
func scanPeerVersion(scan func(...any) error) (string, store.Version, error) {
	var id string
	var v store.Version
	var when sql.NullInt64
	err := scan(&id, &v.Top.By, &v.Top.Sequence, &when, &v.Conflicts)
	v.Top.When = fromUnix(when)
	return id, v, err
}

// qSetPeerVersionsOf returns the upsert of n peer versions.
func qSetPeerVersionsOf(n int) string {
	return `INSERT INTO peer_versions (peer, id, top_by, top_seq, top_when, conflicts) VALUES ` +
		strings.TrimSuffix(strings.Repeat("(?, ?, ?, ?, ?, ?),", n), ",") + `
ON CONFLICT (peer, id) DO UPDATE SET top_by = excluded.top_by, top_seq = excluded.top_seq,
	top_when = excluded.top_when, conflicts = excluded.conflicts`
}

// qSetPeerVersions are the upserts of batchRows, batchRows/2, …, 1 rows.
var qSetPeerVersions = func() map[int]string {
	m := map[int]string{}
	for n := batchRows; n >= 1; n /= 2 {
		m[n] = qSetPeerVersionsOf(n)
	}
	return m
}()

func (t *tx) SetPeerVersions(ctx context.Context, peer string, ids []string, vs []store.Version) error {
	if err := t.enter(ctx, true); err != nil {
		return fmt.Errorf("sqlite: set versions of %d items at peer %q: %w", len(ids), peer, err)
	}
	if len(ids) != len(vs) {
		return fmt.Errorf("sqlite: set versions at peer %q: %d ids, %d versions", peer, len(ids), len(vs))
	}
	if len(ids) == 0 {
		return nil
	}
	num, _, err := t.peerNum(ctx, peer, true)
	if err != nil {
		return fmt.Errorf("sqlite: set versions of %d items at peer %q: %w", len(ids), peer, t.Fail(err))
	}
	args := make([]any, 0, 6*batchRows)
	for len(ids) > 0 {
		n := batchRows
		for n > len(ids) {
			n /= 2
		}
		args = args[:0]
		for i, id := range ids[:n] {
			v := vs[i]
			args = append(args, num, id, v.Top.By, v.Top.Sequence, unixOrNil(v.Top.When), v.Conflicts)
		}
		if err := t.exec(ctx, qSetPeerVersions[n], args...); err != nil {
			return fmt.Errorf("sqlite: set versions of items %q to %q at peer %q: %w", ids[0], ids[n-1], peer, t.Fail(err))
		}
		ids, vs = ids[n:], vs[n:]
	}
	return nil
}
