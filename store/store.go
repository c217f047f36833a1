package store

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"iter"
	"slices"
	"strconv"
	"time"

	"github.com/feedsync/go-feedsync/feedsync"
	"github.com/feedsync/go-feedsync/store/internal/txstate"
)

// Errors returned by stores. Implementations wrap them with the step and the
// item that failed; test for them with errors.Is.
var (
	// ErrClosed is returned by Store.Begin, and by the methods of a Tx that
	// is still open, once the store has been closed.
	ErrClosed = txstate.ErrClosed
	// ErrTxDone is returned by every method of a Tx after Commit or Rollback
	// (Rollback included, so a deferred Rollback after Commit is harmless).
	ErrTxDone = txstate.ErrTxDone
	// ErrReadOnly is returned by the write methods (Put, Rewrite, Remove,
	// SetPeerVersion, SetPeerSeq, SetPeerState, ForgetPeer, SetFeedInfo,
	// SetRetention) of a Tx begun with writable false.
	ErrReadOnly = txstate.ErrReadOnly
	// ErrTxFailed is returned by every method of a Tx, Commit included, after
	// an earlier method of that Tx failed: the transaction can only be rolled
	// back, so a caller that misses one error can never commit half a feed.
	// Commit rolls back and returns it joined with the first failure.
	ErrTxFailed = txstate.ErrTxFailed
	// ErrInvalidItem is returned by Tx.Put for an item it cannot keep: nil,
	// without sx:sync (FS-SYNC-1), with an id that is not a URN NSS
	// (FS-TYPE-5) or without history (FS-ROBUST-1).
	ErrInvalidItem = errors.New("store: item cannot be stored")
	// ErrSchemaVersion is returned by the Open functions of the database
	// stores when the database was written by a newer version of this
	// package (its schema_version is above the latest migration known here).
	ErrSchemaVersion = errors.New("store: database schema is newer than this program")
	// ErrNotExist is returned by the Open functions of the database stores,
	// when asked to open only an existing store (Options.MustExist), for a
	// database that holds none: no file, no schema, or no store tables.
	// Nothing is created then, so a read-only command with a mistyped name
	// leaves nothing behind.
	ErrNotExist = errors.New("store: no such store")
	// ErrNotSameVersion is returned by Tx.Rewrite for an item whose
	// Version differs from the stored one's, or that the store does not
	// hold: a rewrite may change only what no peer needs to learn.
	ErrNotSameVersion = errors.New("store: rewrite would change the item's version")
)

// Store keeps feedsync items, a change sequence and what each peer is known
// to hold. All access goes through transactions.
//
// A Store is safe for concurrent use. Writable transactions run one at a time
// (Begin waits for the current one to end); read-only transactions run
// alongside them and see only committed changes.
type Store interface {
	// Begin starts a transaction. ctx bounds the wait for it to start (a
	// writable transaction waits for the previous writer to finish); each
	// method of the Tx takes its own ctx. The caller must end the Tx with
	// Commit or Rollback.
	Begin(ctx context.Context, writable bool) (Tx, error)
	// ID returns the store's identifier: random, made when the store was
	// created and kept with its data. Tokens that carry a sequence number
	// (an incremental feed's "since") also carry this id, so a token minted
	// by another store (or by a store that was wiped and recreated) is
	// recognised and rejected instead of silently skipping changes.
	ID() string
	// Close releases the store. Begin fails with ErrClosed afterwards.
	Close() error
}

// Tx is a transaction: the unit of atomicity. A consumer merges a whole
// incoming feed in one writable Tx, so the feed lands completely or not at
// all; a producer reads a consistent set of changes in one Tx.
//
// A Tx is not safe for concurrent use; use one per goroutine. Any error
// from a method fails the Tx: later calls return ErrTxFailed and Commit
// rolls back. ErrTxDone and ErrReadOnly are the exceptions: they report a
// misuse and nothing was attempted.
//
// Iterators (Changes, All) read in batches, so the loop body may call other
// methods of the same Tx (Get, PeerVersion, Put, …); the database
// connections underneath allow only one query at a time.
type Tx interface {
	Reader
	Writer
	// Commit makes the transaction's changes durable and visible to others.
	// For a read-only Tx it just ends it.
	Commit() error
	// Rollback discards the transaction's changes. It returns ErrTxDone
	// after Commit or an earlier Rollback, so `defer tx.Rollback()` is safe.
	Rollback() error
}

// Reader is the read half of a Tx.
type Reader interface {
	ItemReader
	ChangeReader
	PeerReader
	// FeedInfo returns what the store's own feed looks like: title, link,
	// … and format (FS-FEED-9: the local feed keeps its own feed-level
	// content). A store whose feed info was never set returns the zero
	// FeedInfo and FormatUnknown.
	FeedInfo(ctx context.Context) (feedsync.FeedInfo, feedsync.Format, error)
	// Retention returns what compaction recorded (FS-RETAIN-1): the
	// forgotten horizon and the marks that age tombstones. A store never
	// compacted returns the zero Retention.
	Retention(ctx context.Context) (Retention, error)
}

// ItemReader reads items by id, the local side a merge needs (with
// ItemWriter), and the whole item set, which a complete feed needs.
type ItemReader interface {
	// Get returns the item with sync id id, or nil and no error when the
	// store has none. Tombstones are items like any other (FS-DELETE-1).
	Get(ctx context.Context, id string) (*feedsync.Item, error)
	// All returns every item, in change order (oldest change first): the
	// same items as Changes(ctx, 0), without the sequence numbers.
	All(ctx context.Context) iter.Seq2[*feedsync.Item, error]
	// Count returns the number of items, tombstones included.
	Count(ctx context.Context) (int, error)
	// Stat returns what the store keeps beside item id, without decoding
	// the item, and false when the store has none. A merge can skip an
	// incoming item whose Version and Digest equal the local item's: it
	// is the version the store holds (see ItemStat.Same).
	Stat(ctx context.Context, id string) (ItemStat, bool, error)
}

// ChangeReader is what an incremental feed needs: the change sequence.
type ChangeReader interface {
	// Changes returns the items changed after sequence number after, in
	// ascending sequence order, each item once at the sequence of its latest
	// change. The cost grows with the number of changes returned, not with
	// the number of items in the store. Changes(ctx, 0) returns every item.
	//
	// A change the iterator has not reached yet and that is superseded by a
	// later commit (or by a Put of this Tx in the loop body) shows up at its
	// new sequence; a change committed by another Tx is never skipped:
	// every committed sequence number below the highest one a reader has
	// seen was committed before it.
	Changes(ctx context.Context, after int64) iter.Seq2[Change, error]
	// Stats is Changes without decoding the items: the same entries, as
	// ItemStats. A producer reads it to skip the items a peer already
	// holds (their Version equals the PeerVersion) and Gets the others.
	Stats(ctx context.Context, after int64) iter.Seq2[ItemStat, error]
	// LastSeq returns the sequence number of the latest change, 0 for a
	// store without changes. Changes(ctx, LastSeq) is empty.
	LastSeq(ctx context.Context) (int64, error)
	// HistoryMark names the point seq of this store's change history
	// (FS-KNOW-2): the random mark of the commit that took sequence number
	// seq, "" for seq 0 (the start, common to every history). ok is false
	// for a seq above LastSeq. A token that carries seq and its mark can
	// be checked on use: a store restored from a backup, or a copy of its
	// file, goes on with new commits that reuse the numbers after the
	// backup under new marks, so a token minted from the lost history no
	// longer matches. Sequence numbers of a commit that are not its last
	// share the mark of the commit; a writable Tx answers for its own
	// uncommitted numbers with the mark its Commit will record.
	HistoryMark(ctx context.Context, seq int64) (mark string, ok bool, err error)
}

// XMLReader is implemented by the transactions of stores that keep items
// as standalone XML (the database stores). A producer uses it to copy
// items into a feed without parsing them (feedsync.Writer.WriteXML), which
// is most of the cost of serving a feed otherwise.
type XMLReader interface {
	// ChangesXML is Changes without decoding: the same entries, each as
	// its ItemStat and its standalone XML (feedsync.MarshalItem).
	ChangesXML(ctx context.Context, after int64) iter.Seq2[XMLChange, error]
}

// XMLChange is one entry of XMLReader.ChangesXML.
type XMLChange struct {
	ItemStat
	XML []byte
}

// PeerReader reads what the store knows about its peers, for echo
// suppression: a producer skips an item whose current version the peer is
// known to hold already, because it sent it or because the peer sent it.
type PeerReader interface {
	// PeerVersion returns the version of item id that peer is known to
	// hold, and false when nothing is known.
	PeerVersion(ctx context.Context, peer, id string) (Version, bool, error)
	// PeerSeq returns the sequence number up to which changes have been
	// sent to peer, 0 when nothing was recorded.
	PeerSeq(ctx context.Context, peer string) (int64, error)
	// PeerState returns the sync state kept for peer (SetPeerState), the
	// zero PeerState when none was kept.
	PeerState(ctx context.Context, peer string) (PeerState, error)
}

// Writer is the write half of a Tx. Its methods return ErrReadOnly on a
// read-only Tx.
//
// An implementation may send writes to its database in batches (the
// PostgreSQL store does, to save round trips): the database's error for
// such a write then comes from a later call of the Tx or from Commit, says
// which write failed, and fails the Tx as any error does. Reads in the same
// Tx always see the Tx's own writes.
type Writer interface {
	// Put stores it, replacing the item with the same sync id, and returns
	// the sequence number of this change. Every Put is a change: it takes
	// a new, higher sequence number even if it stores the same version
	// again, so callers put only what changed (a merge's outcome says so).
	// it must carry sx:sync with a valid id and at least one history entry
	// (ErrInvalidItem otherwise). Items without sx:sync do not take part in
	// synchronization (FS-SYNC-1) and have no place in a store.
	//
	Put(ctx context.Context, it *feedsync.Item) (seq int64, err error)
	// SetPeerVersion records that peer holds version v of item id.
	SetPeerVersion(ctx context.Context, peer, id string, v Version) error
	// SetPeerSeq records that changes up to seq have been sent to peer.
	SetPeerSeq(ctx context.Context, peer string, seq int64) error
	// SetPeerState replaces the sync state kept for peer; the zero
	// PeerState removes it.
	SetPeerState(ctx context.Context, peer string, s PeerState) error
	// ForgetPeer drops everything the store knows about the items peer
	// holds (every PeerVersion of peer), and its PeerState: what a sync
	// that starts over with peer from scratch must not rely on. PeerSeq
	// is kept.
	ForgetPeer(ctx context.Context, peer string) error
	// SetFeedInfo sets the store's feed info and format.
	SetFeedInfo(ctx context.Context, info feedsync.FeedInfo, format feedsync.Format) error

	// Rewrite replaces the stored item with it's id by it in place: the
	// item keeps its sequence number, so it is not a change and no feed
	// carries it again. it must have the stored item's Version (else
	// ErrNotSameVersion): compaction rewrites items into a form every peer
	// treats as the one it holds (sparse-purged histories, FS-PURGE-1..4;
	// tombstones without payload, FS-DELETE-2), whose payload Digest may
	// differ.
	Rewrite(ctx context.Context, it *feedsync.Item) error
	// Remove forgets item id: the item and what peers are known to hold of
	// it. No feed says the item is gone, so the caller records what was
	// forgotten in the same Tx by raising the forgotten horizon
	// (SetRetention, FS-RETAIN-1): to the item's own sequence number when
	// every peer that saw that change saw the item's end (a tombstone), or
	// to seq, the new sequence number the removal takes, when peers may
	// hold the item alive. seq is a point in the change history that no
	// change occupies. Removing an id the store does not hold only takes
	// the number.
	Remove(ctx context.Context, id string) (seq int64, err error)
	// SetRetention replaces what Retention returns.
	SetRetention(ctx context.Context, r Retention) error
}

// Retention is what a store remembers about its compactions.
type Retention struct {
	// Horizon is the forgotten horizon (FS-RETAIN-1): the highest
	// sequence number at which an item the store removed had its latest
	// change; 0 when nothing was forgotten. A peer whose knowledge ends
	// before it may hold a version whose deletion the store no longer
	// has, so a token whose sequence is below Horizon is refused
	// (FS-RETAIN-2).
	Horizon int64
	// Compacted is the sequence number up to which every item has been
	// compacted: a compaction only looks at items changed after it
	// (Rewrite keeps sequence numbers, so they stay compacted).
	Compacted int64
	// Swept is the sequence number up to which tombstones older than the
	// retention window have been removed: a compaction looks for old
	// tombstones after it only.
	Swept int64
	// Marks record the store's latest sequence number at the instants
	// compaction ran, oldest first: the clock by which a tombstone's age
	// is measured (a deletion is older than the window when a mark made
	// at least the window ago already covered it). This store's own
	// clock decides, never the deleting endpoint's.
	Marks []Mark
}

// Mark says that the store's latest change had sequence number Seq at
// instant At.
type Mark struct {
	At  time.Time
	Seq int64
}

// PeerState is what a store keeps about one sync partner besides its
// per-item knowledge (PeerVersion): the marks of an exchange, so that the
// next one starts where the last stopped, committed in the transaction of
// the merge they describe. The store keeps the values as they are; their
// meaning belongs to the sync code (httpfeed documents its use).
type PeerState struct {
	// Received names how far this store has merged the peer's changes:
	// the peer's token, the since of the next pull from it. "" for none.
	Received string
	// Sent names how far the peer holds this store's changes: a token of
	// this store (HistoryMark), the start of the next push. "" for none.
	Sent string
	// Resume is the state of an unfinished exchange, "" for none.
	Resume string
}

// IsZero reports whether s holds nothing.
func (s PeerState) IsZero() bool { return s == PeerState{} }

// Change is one entry of the change sequence: an item and the sequence
// number of its latest change.
type Change struct {
	Seq  int64
	Item *feedsync.Item
}

// ItemStat is what a store keeps beside an item, readable without decoding
// the item: the indexed columns of the database stores.
type ItemStat struct {
	// ID is the sync id.
	ID string
	// Seq is the sequence number of the item's latest change (0 in the
	// result of StatOf, which knows no store).
	Seq int64
	// Version identifies the item's state for synchronization.
	Version Version
	// Digest is the payload digest of the winning version.
	Digest feedsync.Digest
	// Updates and Deleted are the winning version's sx:sync attributes.
	Updates int64
	Deleted bool
	// Conflicts counts the conflict copies.
	Conflicts int
}

// StatOf returns the ItemStat of it, with Seq 0. it must pass CheckItem.
func StatOf(it *feedsync.Item) (ItemStat, error) {
	if err := CheckItem(it); err != nil {
		return ItemStat{}, err
	}
	d, err := it.Digest()
	if err != nil {
		return ItemStat{}, fmt.Errorf("digest of item %q: %w", it.Sync.ID, err)
	}
	return ItemStat{
		ID:        it.Sync.ID,
		Version:   VersionOf(it),
		Digest:    d,
		Updates:   it.Sync.Updates,
		Deleted:   it.Sync.Deleted,
		Conflicts: len(it.Sync.Conflicts),
	}, nil
}

// Same reports whether s and o describe the same state of an item: the same
// id, Version (topmost entry of the winner and of every conflict copy) and
// payload digest. An incoming item whose stat is the Same as the stored
// one's brings nothing new in the usual case, and a merge may skip it
// without decoding the stored item. Two corner cases still differ in
// detail, and a merge that skips them keeps the local form: histories
// thinned differently by sparse purging (FS-PURGE, same topmost entry,
// fewer older ones) and conflict copies with equal metadata but other
// payloads (anonymous collisions, FS-CONFLICT-6, §17 A-18).
func (s ItemStat) Same(o ItemStat) bool {
	return s.ID == o.ID && s.Version.Equal(o.Version) && s.Digest == o.Digest
}

// Version identifies one state of an item as far as synchronization is
// concerned, compactly enough to be kept for every item and every peer.
//
// The topmost history entry of the winning version identifies that version
// (FS-SUBSUME-1: it is what subsumption looks at). It does not identify the
// state of the item: a merge can keep the same winner and add or drop
// conflict copies (FS-MERGE-16 calls that a change to be republished), so a
// peer that holds the winner may still lack a conflict. Conflicts therefore
// records the set of conflict versions too, as a digest of their topmost
// entries; comparing two Versions compares both.
type Version struct {
	// Top is the topmost history entry of the winning version, without
	// unknown attributes (History.Extra is always nil).
	Top feedsync.History
	// Conflicts is a digest of the topmost entries of the item's conflict
	// copies, independent of their order (docs/RULES.md A-17: order in
	// sx:conflicts is not significant); "" when there are none.
	Conflicts string
}

// VersionOf returns the Version of it; the zero Version for nil or an item
// without sx:sync.
func VersionOf(it *feedsync.Item) Version {
	if it == nil || it.Sync == nil {
		return Version{}
	}
	if len(it.Sync.Conflicts) == 0 {
		return Version{Top: bare(it.Sync.Top())}
	}
	tops := make([]feedsync.History, 0, len(it.Sync.Conflicts))
	for _, c := range it.Sync.Conflicts {
		if c != nil && c.Sync != nil {
			tops = append(tops, c.Sync.Top())
		}
	}
	return VersionOfTops(it.Sync.Top(), tops)
}

// VersionOfTops returns the Version of an item whose winner has the topmost
// history entry top and whose conflict copies have the topmost entries
// conflicts (in any order): what VersionOf returns for the item, from what
// a peer's summary of it says (without payloads).
func VersionOfTops(top feedsync.History, conflicts []feedsync.History) Version {
	v := Version{Top: bare(top)}
	if len(conflicts) == 0 {
		return v
	}
	tops := make([]feedsync.History, len(conflicts))
	for i, c := range conflicts {
		tops[i] = bare(c)
	}
	slices.SortFunc(tops, compareEntry)
	h := sha256.New()
	var buf []byte
	for _, e := range tops {
		buf = buf[:0]
		buf = append(buf, e.By...)
		buf = append(buf, 0)
		buf = strconv.AppendInt(buf, e.Sequence, 10)
		buf = append(buf, 0)
		if e.HasWhen() {
			buf = strconv.AppendInt(buf, e.When.Unix(), 10)
		}
		buf = append(buf, '\n')
		h.Write(buf)
	}
	v.Conflicts = hex.EncodeToString(h.Sum(nil)[:16])
	return v
}

// Equal reports whether v and w describe the same state: the same topmost
// entry (by, sequence and instant) and the same conflict versions.
func (v Version) Equal(w Version) bool {
	return v.Top.By == w.Top.By && v.Top.Sequence == w.Top.Sequence &&
		v.Top.When.Equal(w.Top.When) && v.Conflicts == w.Conflicts
}

// IsZero reports whether v is the zero Version (no item).
func (v Version) IsZero() bool {
	return v.Top.By == "" && v.Top.Sequence == 0 && v.Top.When.IsZero() && v.Conflicts == ""
}

// bare returns h without unknown attributes, in UTC whole seconds
// (FS-TYPE-4), as stores keep it.
func bare(h feedsync.History) feedsync.History {
	if h.HasWhen() {
		h.When = feedsync.Normalize(h.When)
	} else {
		h.When = time.Time{}
	}
	h.Extra = nil
	return h
}

func compareEntry(a, b feedsync.History) int {
	if a.By != b.By {
		if a.By < b.By {
			return -1
		}
		return 1
	}
	if a.Sequence != b.Sequence {
		if a.Sequence < b.Sequence {
			return -1
		}
		return 1
	}
	return a.When.Compare(b.When)
}

// CheckItem returns nil if Put can keep it, and an error wrapping
// ErrInvalidItem that says why not otherwise. Implementations of Store call
// it before storing anything.
func CheckItem(it *feedsync.Item) error {
	switch {
	case it == nil:
		return fmt.Errorf("%w: nil item", ErrInvalidItem)
	case it.Sync == nil:
		return fmt.Errorf("%w: %w", ErrInvalidItem, feedsync.ErrNoSync)
	case !feedsync.ValidID(it.Sync.ID):
		return fmt.Errorf("%w: sync id %q is not a URN NSS (FS-TYPE-5)", ErrInvalidItem, it.Sync.ID)
	case len(it.Sync.History) == 0:
		return fmt.Errorf("%w: item %q has no history (FS-ROBUST-1)", ErrInvalidItem, it.Sync.ID)
	}
	// Stores read items back with the default reader limits: an item
	// beyond them would make every later read of the store fail
	// (FS-ROBUST-6).
	if err := (feedsync.ReaderOptions{}).Check(it); err != nil {
		return fmt.Errorf("%w: %w", ErrInvalidItem, err)
	}
	return nil
}

// NormalizeFeedInfo returns info as stores keep it: Updated in UTC, to whole
// seconds (the precision FS-TYPE-4 gives every FeedSync time, and one every
// database keeps exactly).
func NormalizeFeedInfo(info feedsync.FeedInfo) feedsync.FeedInfo {
	if !info.Updated.IsZero() {
		info.Updated = feedsync.Normalize(info.Updated)
	}
	return info
}
