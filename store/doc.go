// Package store keeps feedsync items with a change sequence and per-peer
// knowledge, so that feeds can be produced from it and merged into it.
//
// A Store persists items (their standalone XML, feedsync.MarshalItem,
// compressed in the database stores, and indexed columns: id, updates,
// deleted, topmost history entry, payload digest, conflict count) and three
// more things:
//
//   - a change sequence: every Put takes the next, higher sequence number,
//     and each item remembers the number of its latest change. Changes(after)
//     lists the items changed since a given number, in order, at a cost
//     that grows with the number of changes rather than the number of items:
//     an incremental feed (FS-FEED-1, FS-FEED-6).
//   - per-peer knowledge: which Version of each item a peer is known to hold
//     (because it sent it to us or we sent it to it), and the sequence number
//     up to which changes were sent to it. A producer skips items whose
//     current Version the peer holds, so two endpoints that sync back and
//     forth without edits send empty feeds after the first round.
//   - the store's own feed info and format (FS-FEED-9).
//   - what compaction recorded (Retention): the forgotten horizon, below
//     which tokens are refused (FS-RETAIN-1, FS-RETAIN-2), and the marks by
//     which the store's own clock ages tombstones.
//
// All access goes through a Tx, the unit of atomicity: a consumer merges a
// whole incoming feed in one writable Tx. Writable transactions run one at a
// time in every implementation; this is what keeps sequence numbers in
// commit order, so that a reader polling Changes never skips a change.
//
// # Usage
//
//  1. Open a store: NewMemory here, sqlite.Open or postgres.Open in the
//     subpackages, or open.Open with a DSN ("memory:", "sqlite:PATH",
//     "postgres://…").
//  2. To merge a feed, Begin a writable Tx; for each incoming item, skip it
//     if its StatOf is the Same as the stored Stat (nothing new, and no need
//     to decode the stored item), else Get the local version, merge
//     (feedsync.MergeItem) and Put the result if it changed; record what the
//     peer holds with SetPeerVersion; Commit.
//  3. To produce a feed, Begin a read-only Tx and range over Stats(after)
//     (after 0 for a complete feed), skipping items whose Version equals the
//     PeerVersion and Getting the others, or over Changes(after) or All when
//     every item goes out anyway.
//  4. To compact, call Compact, now and then (feedsync serve --retain does
//     it periodically): it sparse-purges histories (FS-PURGE-1..4) and cuts
//     tombstone payloads (FS-DELETE-2) in place, with Tx.Rewrite, which
//     keeps an item's Version and sequence number, so no peer fetches it
//     again; and it removes tombstones older than the retention window
//     (Tx.Remove), raising the forgotten horizon (compact.go).
//
// Stores also say when changes commit (Notifier, notify.go), so that a
// server can answer long polls as soon as something changes; the
// PostgreSQL store hears the commits of every process sharing its
// database (LISTEN/NOTIFY).
//
// The interfaces are split by role (ItemReader, ChangeReader, PeerReader,
// Writer) so that code can ask for only what it uses. Package storetest
// holds the conformance suite every implementation passes.
//
// # Implementations
//
//   - Memory (memory.go): in this package, for tests and in-memory work.
//   - store/sqlite: one SQLite file (modernc.org/sqlite, no cgo).
//   - store/postgres: PostgreSQL through pgx; many servers may share it.
//   - store/open: Open(ctx, dsn) picks one of the three.
//   - store/table: an application's own SQLite or PostgreSQL table,
//     tracked inline by triggers, over a store of the two above (SQLTx).
package store
