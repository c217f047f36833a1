package producer

import (
	"context"
	"fmt"
	"io"
	"iter"

	"github.com/feedsync/go-feedsync/feedsync"
	"github.com/feedsync/go-feedsync/store"
)

// Held is what an endpoint holds of one item, as it says so when two
// endpoints sync by versions first (FS-KNOW-1): the sync id and the topmost
// history entry of each version, the winner's first, then those of the
// conflict copies. It carries no payload. The endpoint that receives it has
// the full histories of its own versions, which is all it needs to decide
// whether the sender holds a version it lacks (Lacks): subsumption looks at
// the topmost entry of the version subsumed only (FS-SUBSUME-2).
type Held struct {
	ID   string
	Tops []feedsync.History
}

// HeldOf returns what holding it says; it must carry sx:sync.
func HeldOf(it *feedsync.Item) Held {
	h := Held{ID: it.ID(), Tops: make([]feedsync.History, 0, 1+len(it.Sync.Conflicts))}
	h.Tops = append(h.Tops, it.Sync.Top())
	for _, c := range it.Sync.Conflicts {
		if c != nil && c.Sync != nil {
			h.Tops = append(h.Tops, c.Sync.Top())
		}
	}
	return h
}

// HeldOfStat returns the Held of the item st describes, without decoding
// the item, and false when st cannot tell: the item has conflict copies,
// whose topmost entries only the item holds.
func HeldOfStat(st store.ItemStat) (Held, bool) {
	if st.Conflicts > 0 {
		return Held{}, false
	}
	return Held{ID: st.ID, Tops: []feedsync.History{st.Version.Top}}, true
}

// Version returns the store.Version of the item h describes: what
// store.VersionOf returns for it.
func (h Held) Version() store.Version {
	if len(h.Tops) == 0 {
		return store.Version{}
	}
	return store.VersionOfTops(h.Tops[0], h.Tops[1:])
}

// Lacks reports whether local lacks a version that h names: one of them is
// not subsumed by any version of local (FS-SUBSUME-2), so that merging the
// sender's item into local would change it (FS-MERGE-6, FS-MERGE-7). When
// every version h names is subsumed by one of local's, the merge keeps
// local's versions as they are, and the item need not travel. A nil local
// (no such item) lacks everything.
func Lacks(local *feedsync.Item, h Held) bool {
	if local == nil || local.Sync == nil {
		return true
	}
	versions := make([]*feedsync.Sync, 0, 1+len(local.Sync.Conflicts))
	versions = append(versions, local.Sync)
	for _, c := range local.Sync.Conflicts {
		if c != nil && c.Sync != nil {
			versions = append(versions, c.Sync)
		}
	}
	for _, top := range h.Tops {
		if !subsumedByAny(top, versions) {
			return true
		}
	}
	return false
}

// subsumedByAny reports whether a version with topmost entry top is
// subsumed by one of versions.
func subsumedByAny(top feedsync.History, versions []*feedsync.Sync) bool {
	for _, v := range versions {
		for _, e := range v.History {
			if top.SubsumedBy(e) {
				return true
			}
		}
	}
	return false
}

// Items writes to w a feed of the items of r named by ids, in that order,
// leaving out ids r does not hold: what a peer that compared versions
// (Lacks) asks for. The feed has no sx:sharing (it is no part of the change
// sequence). storeID names the store in the feed's atom:id.
func Items(ctx context.Context, r store.Reader, storeID string, ids iter.Seq2[string, error], w io.Writer, opts Options) (Result, error) {
	var res Result
	h, err := header(ctx, r, storeID, opts)
	if err != nil {
		return res, fmt.Errorf("produce items: %w", err)
	}
	fw := feedsync.NewWriter(w, h)
	for id, err := range ids {
		if err == nil {
			err = ctx.Err()
		}
		if err != nil {
			return res, fmt.Errorf("produce items: %w", err)
		}
		it, err := r.Get(ctx, id)
		if err != nil {
			return res, fmt.Errorf("produce items: %w", err)
		}
		if it == nil {
			continue
		}
		if err := fw.WriteItem(it); err != nil {
			return res, fmt.Errorf("produce items: write item %q: %w", id, err)
		}
		res.Items++
	}
	if err := fw.Close(); err != nil {
		return res, fmt.Errorf("produce items: %w", err)
	}
	return res, nil
}
