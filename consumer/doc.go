// Package consumer merges incoming FeedSync feeds into a store, one whole
// feed per transaction.
//
// The walk over the incoming feed and the per-item merge are package merge's
// (merge.Run, feedsync.MergeItem); this package gives them a local side made
// of a store transaction (Local: Get reads the store, Put writes it) and
// commits the transaction only when the whole feed merged. A feed that
// breaks off in the middle (malformed XML, a duplicate sync id, a cancelled
// ctx, a failing store) leaves the store exactly as it was.
//
// # Usage
//
//  1. Open a store (store.NewMemory, store/sqlite, store/postgres or
//     store/open).
//  2. Call Consume with the incoming feed and Options: Peer names the
//     sending endpoint, so that its own items are not sent back to it
//     (producer.Options.Peer); Policy and Stamp resolve conflicts
//     automatically if wanted (the default keeps them, FS-CONFLICT-2).
//  3. Report the merge.Summary it returns: what was added, updated, deleted,
//     what conflicted, and which incoming items were rejected and why.
//
// ConsumeReader takes a feedsync.Reader instead, so that the caller can read
// the incoming feed's sx:sharing (its until, to ask for the next partial
// feed, FS-FEED-4) after the merge. ConsumeTx merges into a transaction the
// caller owns, for callers that do more in the same transaction.
//
// # Spec rules and where they live
//
//   - FS-MERGE-1..16, FS-FEED-3, FS-FEED-7, FS-ROBUST-1, FS-ROBUST-3 and the
//     conflict policies: package merge and package feedsync, which this
//     package calls (consumer.go).
//   - One transaction per feed, echo suppression knowledge
//     (store.Writer.SetPeerVersion): consumer.go.
//   - The store side of a merge on a goroutine of its own, so that parsing
//     the feed overlaps writing the store: pipeline.go.
//   - An initial load into an empty store, in one transaction or in pages
//     (Options.Fresh), without store lookups that would miss: fresh.go.
package consumer
