package postgres

import (
	"context"
	"fmt"
	"time"

	"github.com/feedsync/go-feedsync/feedsync"
	"github.com/feedsync/go-feedsync/store"
	"github.com/feedsync/go-feedsync/store/internal/itemrow"
)

// batchIDs is how many ids one query of StatMany or PeerVersions names
// (as one array parameter, id = ANY($1)).
const batchIDs = 256

// batchRows is how many peer versions one upsert of SetPeerVersions
// writes at most (as arrays, unnest).
const batchRows = 128

var _ interface {
	store.BatchReader
	store.BatchWriter
} = (*tx)(nil)

const (
	qStatMany     = `SELECT ` + statCols + ` FROM feedsync_items WHERE id = ANY($1)`
	qPeerVersions = `SELECT id, top_by, top_seq, top_when, conflicts FROM feedsync_peer_versions WHERE peer = $1 AND id = ANY($2)`
	// qSetPeerVersions upserts the rows of arrays of the same length; an
	// id appears in them at most once (ON CONFLICT DO UPDATE may not
	// touch a row twice in one statement).
	qSetPeerVersions = `INSERT INTO feedsync_peer_versions (peer, id, top_by, top_seq, top_when, conflicts)
SELECT $1, * FROM unnest($2::text[], $3::text[], $4::bigint[], $5::timestamptz[], $6::text[])
ON CONFLICT (peer, id) DO UPDATE SET top_by = excluded.top_by, top_seq = excluded.top_seq,
	top_when = excluded.top_when, conflicts = excluded.conflicts`
)

func (t *tx) StatMany(ctx context.Context, ids []string) ([]store.ItemStat, error) {
	if err := t.enter(ctx, false); err != nil {
		return nil, fmt.Errorf("postgres: stat %d items: %w", len(ids), err)
	}
	// As Stat: the pending writes are sent first if one of them puts one
	// of ids.
	for _, id := range ids {
		if t.items[id] {
			if err := t.flush(ctx); err != nil {
				return nil, fmt.Errorf("postgres: stat %d items: %w", len(ids), err)
			}
			break
		}
	}
	out := make([]store.ItemStat, len(ids))
	for start := 0; start < len(ids); start += batchIDs {
		batch := ids[start:min(len(ids), start+batchIDs)]
		if err := t.statBatchOf(ctx, batch, out[start:]); err != nil {
			return nil, fmt.Errorf("postgres: stat items %q to %q: %w", batch[0], batch[len(batch)-1], t.Fail(err))
		}
	}
	return out, nil
}

// statBatchOf reads the stats of the items of one batch into out.
func (t *tx) statBatchOf(ctx context.Context, batch []string, out []store.ItemStat) error {
	rows, err := t.tx.Query(ctx, qStatMany, batch)
	if err != nil {
		return err
	}
	defer rows.Close()
	return itemrow.ScanInto(rows, batch, out, func(scan func(...any) error) (string, store.ItemStat, error) {
		stat, err := scanStat(scan)
		return stat.ID, stat, err
	})
}

func (t *tx) PeerVersions(ctx context.Context, peer string, ids []string) ([]store.Version, error) {
	if err := t.enterFlushed(ctx, false); err != nil {
		return nil, fmt.Errorf("postgres: versions of %d items at peer %q: %w", len(ids), peer, err)
	}
	out := make([]store.Version, len(ids))
	for start := 0; start < len(ids); start += batchIDs {
		batch := ids[start:min(len(ids), start+batchIDs)]
		if err := t.peerBatchOf(ctx, peer, batch, out[start:]); err != nil {
			return nil, fmt.Errorf("postgres: versions of items %q to %q at peer %q: %w", batch[0], batch[len(batch)-1], peer, t.Fail(err))
		}
	}
	return out, nil
}

// peerBatchOf reads the peer versions of the items of one batch into out.
func (t *tx) peerBatchOf(ctx context.Context, peer string, batch []string, out []store.Version) error {
	rows, err := t.tx.Query(ctx, qPeerVersions, peer, batch)
	if err != nil {
		return err
	}
	defer rows.Close()
	return itemrow.ScanInto(rows, batch, out, func(scan func(...any) error) (string, store.Version, error) {
		var id string
		var v store.Version
		var when *time.Time
		err := scan(&id, &v.Top.By, &v.Top.Sequence, &when, &v.Conflicts)
		v.Top.When = utc(when)
		return id, v, err
	})
}

// SetPeerVersions queues one upsert per batchRows rows on the Tx's pending
// writes (flush), after the writes queued before it and before those
// queued after it, as SetPeerVersion for each would be.
func (t *tx) SetPeerVersions(ctx context.Context, peer string, ids []string, vs []store.Version) error {
	if err := t.enter(ctx, true); err != nil {
		return fmt.Errorf("postgres: set versions of %d items at peer %q: %w", len(ids), peer, err)
	}
	if len(ids) != len(vs) {
		return fmt.Errorf("postgres: set versions at peer %q: %d ids, %d versions", peer, len(ids), len(vs))
	}
	for len(ids) > 0 {
		// A batch ends before an id it holds already: a statement may
		// upsert a row once, and the later version must win.
		n, seen := 0, make(map[string]bool, batchRows)
		for n < len(ids) && n < batchRows && !seen[ids[n]] {
			seen[ids[n]] = true
			n++
		}
		bids, bys, seqs := make([]string, n), make([]string, n), make([]int64, n)
		whens, conflicts := make([]*time.Time, n), make([]string, n)
		for i, v := range vs[:n] {
			bids[i], bys[i], seqs[i], conflicts[i] = ids[i], v.Top.By, v.Top.Sequence, v.Conflicts
			if !v.Top.When.IsZero() {
				when := feedsync.Normalize(v.Top.When)
				whens[i] = &when
			}
		}
		what := fmt.Sprintf("set versions of items %q to %q at peer %q", ids[0], ids[n-1], peer)
		if err := t.queue(ctx, what, qSetPeerVersions, peer, bids, bys, seqs, whens, conflicts); err != nil {
			return fmt.Errorf("postgres: %w", err)
		}
		ids, vs = ids[n:], vs[n:]
	}
	return nil
}
