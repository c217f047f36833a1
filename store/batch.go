package store

import (
	"context"
	"fmt"
)

// BatchReader is implemented by the transactions of stores that can read
// what many items need in one query (the database stores): comparing a
// peer's summary of 100k items with the store, or leaving out of a feed
// what a peer holds, then costs a query per batch instead of one per item.
// Use StatMany and PeerVersions, which fall back to the one-item methods.
type BatchReader interface {
	// StatMany returns the ItemStat of each of ids, in the order of ids:
	// the zero ItemStat (ID "") for an id the store does not hold. It is
	// Stat for each id.
	StatMany(ctx context.Context, ids []string) ([]ItemStat, error)
	// PeerVersions returns the version of each of ids that peer is known
	// to hold, in the order of ids: the zero Version when nothing is
	// known (a version an item can have is never zero). It is
	// PeerVersion for each id.
	PeerVersions(ctx context.Context, peer string, ids []string) ([]Version, error)
}

// BatchWriter is implemented by the writable transactions of stores that
// can write many peer versions in one statement. Use SetPeerVersions,
// which falls back to SetPeerVersion.
type BatchWriter interface {
	// SetPeerVersions records that peer holds version vs[i] of item
	// ids[i], for each i: SetPeerVersion for each, in order. ids and vs
	// have the same length.
	SetPeerVersions(ctx context.Context, peer string, ids []string, vs []Version) error
}

// StatMany returns the ItemStat of each of ids as r holds it, in the order
// of ids, the zero ItemStat for an id r does not hold: in one query per
// batch where r is a BatchReader, else by Stat.
func StatMany(ctx context.Context, r ItemReader, ids []string) ([]ItemStat, error) {
	if br, ok := r.(BatchReader); ok {
		return br.StatMany(ctx, ids)
	}
	out := make([]ItemStat, len(ids))
	for i, id := range ids {
		st, ok, err := r.Stat(ctx, id)
		if err != nil {
			return nil, err
		}
		if ok {
			out[i] = st
		}
	}
	return out, nil
}

// PeerVersions returns the version of each of ids that peer is known to
// hold, in the order of ids, the zero Version when nothing is known: in
// one query per batch where r is a BatchReader, else by PeerVersion.
func PeerVersions(ctx context.Context, r PeerReader, peer string, ids []string) ([]Version, error) {
	if br, ok := r.(BatchReader); ok {
		return br.PeerVersions(ctx, peer, ids)
	}
	out := make([]Version, len(ids))
	for i, id := range ids {
		v, ok, err := r.PeerVersion(ctx, peer, id)
		if err != nil {
			return nil, err
		}
		if ok {
			out[i] = v
		}
	}
	return out, nil
}

// SetPeerVersions records that peer holds version vs[i] of item ids[i], for
// each i: in one statement per batch where w is a BatchWriter, else by
// SetPeerVersion.
func SetPeerVersions(ctx context.Context, w Writer, peer string, ids []string, vs []Version) error {
	if len(ids) != len(vs) {
		return fmt.Errorf("store: set peer versions of peer %q: %d ids, %d versions", peer, len(ids), len(vs))
	}
	if bw, ok := w.(BatchWriter); ok {
		return bw.SetPeerVersions(ctx, peer, ids, vs)
	}
	for i, id := range ids {
		if err := w.SetPeerVersion(ctx, peer, id, vs[i]); err != nil {
			return err
		}
	}
	return nil
}
