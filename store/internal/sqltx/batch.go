package sqltx

import (
	"context"
	"fmt"

	"github.com/feedsync/go-feedsync/store"
	"github.com/feedsync/go-feedsync/store/internal/itemrow"
)

func (t *Tx) StatMany(ctx context.Context, ids []string) ([]store.ItemStat, error) {
	// As Stat: the pending writes are made first if one of them may
	// change one of ids.
	if err := t.enterFor(ctx, ids...); err != nil {
		return nil, fmt.Errorf("%s: stat %d items: %w", t.q.Name, len(ids), err)
	}
	out := make([]store.ItemStat, len(ids))
	args := make([]any, 0, t.q.BatchIDs)
	for start := 0; start < len(ids); start += t.q.BatchIDs {
		batch := ids[start:min(len(ids), start+t.q.BatchIDs)]
		if err := lookup(ctx, t, t.q.StatMany, t.q.IDArgs(args[:0], batch), batch, out[start:], t.scanStatOf); err != nil {
			return nil, fmt.Errorf("%s: stat items %q to %q: %w", t.q.Name, batch[0], batch[len(batch)-1], t.Fail(err))
		}
	}
	return out, nil
}

// lookup runs the batch lookup q with args and reads its rows into out at
// the positions of their ids in batch (itemrow.ScanInto).
func lookup[T any](ctx context.Context, t *Tx, q string, args []any, batch []string, out []T, scan func(func(...any) error) (string, T, error)) error {
	rows, err := t.d.Query(ctx, q, args...)
	if err != nil {
		return err
	}
	return closeRows(rows, itemrow.ScanInto(rows, batch, out, scan))
}

// scanStatOf reads the StatCols of one row of a StatMany query.
func (t *Tx) scanStatOf(scan func(...any) error) (string, store.ItemStat, error) {
	stat, err := t.scanStat(scan)
	return stat.ID, stat, err
}

// scanPeerVersion reads one row of a PeerVersions query.
func (t *Tx) scanPeerVersion(scan func(...any) error) (string, store.Version, error) {
	var id string
	var v store.Version
	var when nullTime
	err := scan(&id, &v.Top.By, &v.Top.Sequence, t.timeDest(&when), &v.Conflicts)
	v.Top.When = when.time()
	return id, v, err
}

func (t *Tx) PeerVersions(ctx context.Context, peer string, ids []string) ([]store.Version, error) {
	if err := t.enter(ctx, false); err != nil {
		return nil, fmt.Errorf("%s: versions of %d items at peer %q: %w", t.q.Name, len(ids), peer, err)
	}
	out := make([]store.Version, len(ids))
	key, ok, err := t.d.Peer(ctx, peer, false)
	if err != nil {
		return nil, fmt.Errorf("%s: versions of %d items at peer %q: %w", t.q.Name, len(ids), peer, t.Fail(err))
	}
	if !ok {
		return out, nil
	}
	args := make([]any, 0, 1+t.q.BatchIDs)
	for start := 0; start < len(ids); start += t.q.BatchIDs {
		batch := ids[start:min(len(ids), start+t.q.BatchIDs)]
		if err := lookup(ctx, t, t.q.PeerVersions, t.q.IDArgs(append(args[:0], key), batch), batch, out[start:], t.scanPeerVersion); err != nil {
			return nil, fmt.Errorf("%s: versions of items %q to %q at peer %q: %w", t.q.Name, batch[0], batch[len(batch)-1], peer, t.Fail(err))
		}
	}
	return out, nil
}

// SetPeerVersions writes the versions in statements of many rows
// (Dialect.SetPeerVersions), after the writes made before it and before
// those made after it, as SetPeerVersion for each would be.
func (t *Tx) SetPeerVersions(ctx context.Context, peer string, ids []string, vs []store.Version) error {
	if err := t.Check(ctx, true); err != nil {
		return fmt.Errorf("%s: set versions of %d items at peer %q: %w", t.q.Name, len(ids), peer, err)
	}
	if len(ids) != len(vs) {
		return fmt.Errorf("%s: set versions at peer %q: %d ids, %d versions", t.q.Name, peer, len(ids), len(vs))
	}
	if len(ids) == 0 {
		return nil
	}
	key, _, err := t.d.Peer(ctx, peer, true)
	if err != nil {
		return fmt.Errorf("%s: set versions of %d items at peer %q: %w", t.q.Name, len(ids), peer, t.Fail(err))
	}
	for len(ids) > 0 {
		n, q, args := t.q.SetPeerVersions(key, ids, vs)
		what := fmt.Sprintf("set versions of items %q to %q at peer %q", ids[0], ids[n-1], peer)
		if err := t.d.Write(ctx, what, "", q, args...); err != nil {
			return err
		}
		ids, vs = ids[n:], vs[n:]
	}
	return nil
}
