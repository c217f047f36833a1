package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"strings"

	"github.com/feedsync/go-feedsync/store"
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

// inList returns "?,?,…" with n placeholders.
func inList(n int) string {
	return strings.TrimSuffix(strings.Repeat("?,", n), ",")
}

const qPeerNum = `SELECT num FROM peer_names WHERE name = ?`

// Peer returns the number peer_versions names peer by, and false when the
// peer has none (it has no versions); with create it makes one.
func (t *tx) Peer(ctx context.Context, peer string, create bool) (any, bool, error) {
	if create && !t.named[peer] {
		if err := t.exec(ctx, qAddPeerName, peer); err != nil {
			return nil, false, err
		}
		if t.named == nil {
			t.named = map[string]bool{}
		}
		t.named[peer] = true
	}
	var num int64
	err := t.QueryRow(ctx, qPeerNum, []any{peer}, &num)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, false, nil
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

// setPeerVersions returns the upsert of the first batchRows of the
// versions, or of the largest power of two of them if fewer
// (sqltx.Dialect.SetPeerVersions). The peer's key is its number.
func setPeerVersions(num any, ids []string, vs []store.Version) (int, string, []any) {
	n := batchRows
	for n > len(ids) {
		n /= 2
	}
	args := make([]any, 0, 6*n)
	for i, id := range ids[:n] {
		v := vs[i]
		args = append(args, num, id, v.Top.By, v.Top.Sequence, unixOrNil(v.Top.When), v.Conflicts)
	}
	return n, qSetPeerVersions[n], args
}
