package consumer

import (
	"context"
	"fmt"
	"io"

	"github.com/feedsync/go-feedsync/feedsync"
	"github.com/feedsync/go-feedsync/merge"
	"github.com/feedsync/go-feedsync/store"
)

// Options are the settings of Consume, ConsumeReader and ConsumeTx. The zero
// value merges as the spec does by default: conflicts are kept
// (FS-CONFLICT-2) and nothing is recorded about the sender.
type Options struct {
	// Peer names the endpoint that sent the feed. For every valid incoming
	// item the store records the version the peer sent
	// (store.Writer.SetPeerVersion), so that a producer making a feed for
	// that peer leaves out what the peer holds already (producer.Options.Peer,
	// echo suppression). Use the same name for the peer on both sides of the
	// exchange. Default: "", nothing recorded.
	Peer string
	// Policy decides what happens to an item the merge left with conflicts
	// (feedsync.ConflictPolicy): feedsync.KeepConflicts, Defer, SourceWins,
	// DestinationWins, EndpointWins(by), LastWriterWins or a MergeFunc.
	// Default (nil): KeepConflicts, the spec's behaviour (FS-CONFLICT-2).
	Policy feedsync.ConflictPolicy
	// Stamp is the local endpoint, whose by and when automatic policies
	// write into their resolutions (FS-RESOLVE-2). Required by the
	// automatic policies; default: empty, enough for policies that keep
	// conflicts.
	Stamp feedsync.Stamp
	// Format is the format items new to the store are kept in. Default:
	// the format each arrives in. An item that meets a stored one is merged
	// in the stored item's format (FS-FEED-10, merge.Options.Format).
	Format feedsync.Format
	// Reader bounds what Consume accepts from the incoming feed
	// (FS-ROBUST-4), and what every merge result may hold (FS-ROBUST-6):
	// a result beyond these bounds, or beyond the feedsync defaults that
	// stores read their items back with, is rejected for that item.
	// ConsumeReader and ConsumeTx take a Reader that has its options
	// already, and use these only for results. Default: the feedsync
	// defaults.
	Reader feedsync.ReaderOptions
	// Admit, if set, may refuse an incoming item before it is merged
	// (merge.Options.Admit): servers bind what an authenticated sender
	// writes to it with feedsync.Trust.Check (FS-TRUST-1). Default: nil.
	Admit func(local, incoming *feedsync.Item) error
	// OnItem, if set, is told the outcome of every incoming item with
	// sx:sync, in document order (merge.Options.OnItem). Default: nil.
	OnItem func(id string, line int, o feedsync.Outcome, err error)
	// Fresh, if set, carries what ConsumeTx learns about a store that was
	// empty over to the next ConsumeTx with the same Fresh: the pages of
	// an initial load then skip the store lookups that would all miss
	// (see Fresh). Default: nil, a store is looked up whenever it was not
	// empty when the transaction began.
	Fresh *Fresh
}

// Consume merges the feed read from incoming into st in one writable
// transaction, and commits it only when the whole feed merged: on any error,
// a cancelled ctx included, the transaction is rolled back and st is exactly
// as it was. It returns what happened to each incoming item (FS-MERGE-16):
// added, updated, deleted, conflicts, unchanged, and the rejected ones with
// the reason (FS-ROBUST-1). Rejected items do not fail the feed; malformed
// XML, an exceeded limit, a duplicate sync id (FS-ROBUST-3, §17 A-10) and
// store errors do.
//
// On error the Summary counts what was merged before the failure, all of
// which was rolled back.
func Consume(ctx context.Context, st store.Store, incoming io.Reader, opts Options) (merge.Summary, error) {
	return ConsumeReader(ctx, st, feedsync.NewReaderOptions(incoming, opts.Reader), opts)
}

// ConsumeReader is Consume for a feed the caller reads with its own Reader,
// so that it can look at the feed's header (r.Header) afterwards, for
// instance to keep the sx:sharing until of the feed as the since of its next
// request (FS-FEED-4). opts.Reader only bounds the results.
func ConsumeReader(ctx context.Context, st store.Store, r *feedsync.Reader, opts Options) (merge.Summary, error) {
	tx, err := st.Begin(ctx, true)
	if err != nil {
		return merge.Summary{}, fmt.Errorf("consume: begin: %w", err)
	}
	defer tx.Rollback()
	sum, err := ConsumeTx(ctx, tx, r, opts)
	if err != nil {
		return sum, err
	}
	// A ctx cancelled after the last item still means "do not apply".
	if err := ctx.Err(); err != nil {
		return sum, fmt.Errorf("consume: %w", err)
	}
	if err := tx.Commit(); err != nil {
		return sum, fmt.Errorf("consume: commit: %w", err)
	}
	return sum, nil
}

// ConsumeTx merges the feed r reads into tx, a writable transaction the
// caller commits or rolls back. On error, part of the feed may have been
// put into tx: roll it back. opts.Reader only bounds the results.
//
// The store work runs on a goroutine of its own while the feed is read
// (pipeline.go), with the same calls in the same order as a Local would
// make them; tx is not used by anything else until ConsumeTx returns.
func ConsumeTx(ctx context.Context, tx store.Tx, r *feedsync.Reader, opts Options) (merge.Summary, error) {
	l := NewLocal(tx, opts.Peer)
	l.fresh = opts.Fresh
	own := opts.Fresh == nil
	sum, err := consumeTx(ctx, r, l, merge.Options{
		Format:        opts.Format,
		Policy:        opts.Policy,
		Stamp:         opts.Stamp,
		OnItem:        opts.OnItem,
		Admit:         opts.Admit,
		ReaderOptions: storeLimits(opts.Reader),
	})
	if !own && l.checked {
		var last int64
		if err == nil {
			last, err = tx.LastSeq(ctx)
		}
		l.fresh.done(last, err)
	}
	if err == nil {
		err = seedFormat(ctx, tx, r, opts.Format)
	}
	if err != nil {
		return sum, fmt.Errorf("consume: %w", err)
	}
	return sum, nil
}

// seedFormat gives a store that has no format yet (a new store, or one only
// ever written by merges of pushed feeds) the incoming feed's format, or
// format when it is set. Without it a store seeded by a push of Atom entries
// would serve them, by default, converted to RSS (FS-FEED-10). The feed's
// title and links stay the store's own business (FS-FEED-9): only the
// format is taken.
func seedFormat(ctx context.Context, tx store.Tx, r *feedsync.Reader, format feedsync.Format) error {
	info, have, err := tx.FeedInfo(ctx)
	if err != nil {
		return fmt.Errorf("read feed info: %w", err)
	}
	if have != feedsync.FormatUnknown {
		return nil
	}
	if format == feedsync.FormatUnknown {
		h, err := r.Header()
		if err != nil {
			return fmt.Errorf("read incoming: %w", err)
		}
		format = h.Format
	}
	if format == feedsync.FormatUnknown {
		return nil
	}
	if err := tx.SetFeedInfo(ctx, info, format); err != nil {
		return fmt.Errorf("set feed format: %w", err)
	}
	return nil
}

// storeLimits returns the bounds of a merge result put into a store: o, but
// nowhere looser than the feedsync defaults, which is what stores read
// their items back with (feedsync.UnmarshalItem). A looser bound would
// commit items that break every later read of the store (FS-ROBUST-6).
func storeLimits(o feedsync.ReaderOptions) feedsync.ReaderOptions {
	clamp := func(v, d int64) int64 {
		if v <= 0 || v > d {
			return d
		}
		return v
	}
	o.MaxItemBytes = clamp(o.MaxItemBytes, feedsync.DefaultMaxItemBytes)
	if o.MaxItemTotalBytes > 0 { // zero is 4 × MaxItemBytes
		o.MaxItemTotalBytes = clamp(o.MaxItemTotalBytes, feedsync.DefaultMaxItemTotalBytes)
	}
	o.MaxHistory = int(clamp(int64(o.MaxHistory), feedsync.DefaultMaxHistory))
	o.MaxConflicts = int(clamp(int64(o.MaxConflicts), feedsync.DefaultMaxConflicts))
	return o
}

// Local is the local side of a merge (merge.Local) made of a store
// transaction: Get reads the stored item, Put stores the merge result.
// It also observes every valid incoming item (merge.Observer) to record the
// version the sending peer holds.
type Local struct {
	tx   store.Tx
	peer string
	// checked says whether empty was read. empty is true when the store
	// had no change at all when the merge began (LastSeq 0, so no item):
	// then an id the merge has not put cannot be in the store, and Get
	// answers from fresh, the ids put, without asking the store. This is
	// the initial load of a new or wiped endpoint from a complete feed
	// (FS-FEED-4), where the store lookups would be a large part of the
	// work and all miss. fresh is Options.Fresh when set, to carry the
	// ids on to the next transaction; else one of l's own, whose filter
	// keeps the memory of a load of a million items to a few megabytes.
	checked, empty bool
	fresh          *Fresh
}

var (
	_ merge.Local    = (*Local)(nil)
	_ merge.Observer = (*Local)(nil)
)

// NewLocal returns the local side for merging a feed sent by peer into tx.
// An empty peer records nothing.
func NewLocal(tx store.Tx, peer string) *Local {
	return &Local{tx: tx, peer: peer}
}

// Get returns the stored item with sync id id, or nil, nil.
//
// In a store that was empty when the transaction began (its LastSeq was 0)
// only the items put through l exist, so Get asks the store only for those
// (and for the few others l's filter of their ids cannot tell apart). Writable transactions run one at a time
// (store.Store), so nothing else can add an item meanwhile.
func (l *Local) Get(ctx context.Context, id string) (*feedsync.Item, error) {
	if err := l.check(ctx); err != nil {
		return nil, err
	}
	if !l.lookup(id) {
		return nil, nil
	}
	return l.tx.Get(ctx, id)
}

// check reads, once, whether the store was empty.
func (l *Local) check(ctx context.Context) error {
	if l.checked {
		return nil
	}
	last, err := l.tx.LastSeq(ctx)
	if err != nil {
		return err
	}
	l.checked = true
	if l.fresh == nil {
		l.fresh = &Fresh{}
	}
	// The store holds only what the earlier transactions with fresh put
	// (none for a Fresh of l's own: an empty store), if it is where they
	// left it.
	l.empty = l.fresh.usable(last)
	return nil
}

// lookup reports whether Get must ask the store for id: always, unless the
// store was empty and id was not put since.
func (l *Local) lookup(id string) bool {
	return !l.empty || l.fresh.mayHold(id)
}

// remember notes that id was put, for lookup.
func (l *Local) remember(id string) {
	if l.empty {
		l.fresh.add(id)
	}
}

// Put stores the merge result for its id, a new change in the store's
// change sequence, so that the next feed the store produces carries it.
func (l *Local) Put(ctx context.Context, it *feedsync.Item, _ feedsync.Outcome) error {
	if _, err := l.tx.Put(ctx, it); err != nil {
		return err
	}
	l.remember(it.ID())
	return nil
}

// Observe records that the peer holds the incoming version of the item:
// the version it sent, as it sent it (store.VersionOf: winner and conflict
// set). A producer making a feed for the peer leaves the item out while the
// store's version is still that one: the peer sent it, so it has it. When the
// merge changed the item (a conflict, a policy's resolution, a local version
// that won) the store's version differs and the item goes back to the peer.
//
// The record is part of the transaction: if the feed does not land, neither
// does what it taught us about the peer.
func (l *Local) Observe(ctx context.Context, incoming *feedsync.Item) error {
	if l.peer == "" {
		return nil
	}
	return l.tx.SetPeerVersion(ctx, l.peer, incoming.ID(), store.VersionOf(incoming))
}
