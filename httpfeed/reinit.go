package httpfeed

import (
	"context"
	"fmt"

	"github.com/feedsync/go-feedsync/store"
)

// forgetAbsent finishes re-initialising the local store with a server that
// refused our token because it has forgotten deletions we may not have
// seen (FS-RETAIN-2). present holds the ids of the server's whole
// summary (pullByVersions collects them): its whole item set. A local
// item the server lacks is one of two things (FS-RETAIN-3):
//
//   - a version the server knew, because it sent it to us (the store's
//     PeerVersion of the remote is that version) or because we pushed it
//     there (its latest change is at or below the push mark): the server
//     has since deleted it and forgotten the tombstone. It is removed
//     here too, and this store's forgotten horizon rises past the removal,
//     so that our own subscribers, who may hold the item alive, are
//     refused in turn and re-initialise with us.
//   - a change the server never saw (made here, or received from a third
//     endpoint after our last push): it stays, and the push sends it.
//
// Local tombstones the server lacks stay as they are: nothing can come
// back to life through them, and local compaction forgets them in time.
// It returns how many items it removed.
func forgetAbsent(ctx context.Context, tx store.Tx, remote string, present map[string]bool, pushed bool, pushSeq int64) (int, error) {
	var gone []string
	for s, err := range tx.Stats(ctx, 0) {
		if err != nil {
			return 0, err
		}
		if present[s.ID] || (s.Deleted && s.Conflicts == 0) {
			continue
		}
		known := pushed && s.Seq <= pushSeq
		if !known {
			v, ok, err := tx.PeerVersion(ctx, remote, s.ID)
			if err != nil {
				return 0, err
			}
			known = ok && v.Equal(s.Version)
		}
		if known {
			gone = append(gone, s.ID)
		}
	}
	if len(gone) == 0 {
		return 0, nil
	}
	ret, err := tx.Retention(ctx)
	if err != nil {
		return 0, err
	}
	for _, id := range gone {
		seq, err := tx.Remove(ctx, id)
		if err != nil {
			return 0, fmt.Errorf("forget item %q: %w", id, err)
		}
		ret.Horizon = max(ret.Horizon, seq)
	}
	if err := tx.SetRetention(ctx, ret); err != nil {
		return 0, err
	}
	return len(gone), nil
}
