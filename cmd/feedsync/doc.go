// Command feedsync creates, changes, merges and inspects FeedSync feeds:
// RSS 2.0 and Atom 1.0 feeds whose items carry sx:sync version metadata.
//
// # Usage
//
//	feedsync <command> [arguments]
//
// The commands, one file each:
//
//   - produce (produce.go): make or refresh a feed from JSON Lines data
//     (producer.Refresh, converter.Map): FS-CREATE, FS-UPDATE, FS-DELETE;
//     or, with --store, a complete or partial feed from a store
//     (producer.Produce): FS-FEED-1..6.
//   - merge (merge.go): merge another endpoint's feed (merge.Feeds):
//     FS-MERGE, with a conflict policy (feedsync.ConflictPolicy); with
//     --store, into a store in one transaction (consumer).
//   - create, update, delete (create.go, update.go, delete.go): change one
//     item: FS-CREATE, FS-UPDATE, FS-DELETE.
//   - conflicts, resolve (conflicts.go, resolve.go): list and settle
//     conflicts: FS-CONFLICT, FS-RESOLVE.
//   - validate (validate.go): list every problem of a feed: FS-ROBUST,
//     FS-SYNC-2.
//   - show (show.go): items and their sync metadata.
//
// create, update, delete, resolve, conflicts and show work on a feed file
// or, with --store DSN, on a store (target.go): each command describes its
// change once, and the store applies it in one transaction.
//   - convert, export (convert.go, export.go): plain RSS, Atom and JSON
//     feeds in (converter/plainfeed, FS-CREATE-4, SSE 0.93 upgrade) and out
//     (converter/export: current winners only).
//   - verify (verify.go): compare two endpoints, feed files or stores, by
//     manifests of their item sets (producer.Diff), without payloads.
//   - compact (compact.go): sparse-purge histories, minimal tombstones and
//     old tombstones forgotten, in a store (store.Compact) or a feed file:
//     FS-PURGE, FS-DELETE-2, FS-RETAIN-1; serve --retain runs it
//     periodically.
//   - serve, sync (serve.go, sync.go): the HTTP handler standalone
//     (httpfeed) and the client that keeps a store or feed file in step
//     with a remote endpoint.
//
// Shared pieces: main.go (Main, the command table, exit codes), flags.go
// (flags after positional arguments, error wording), atomic.go (atomic
// file writes), endpoint.go (this endpoint's identifier, FS-BY-1),
// feedfile.go (editing one item of a feed in a stream), target.go (the
// same edits and listings on a store), store.go (store
// names: sqlite:PATH, PATH.db, postgres://…, memory:).
//
// Exit status: 0 ok; 1 a problem was found (validate; conflicts with
// --fail-on-conflicts); 2 a usage or input error. Run "feedsync help" for
// the details of each command.
package main
