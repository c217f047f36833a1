// Package feedsync implements the FeedSync 1.0 sync metadata (formerly SSE,
// Simple Sharing Extensions) and its rules for items carried in RSS 2.0 and
// Atom 1.0 feeds.
//
// The package has no I/O of its own beyond the streaming codec: every rule
// takes items and returns items and an outcome, so the same input always
// gives the same output. Files, stores and HTTP handlers drive the rules
// from outside (packages merge, consumer, producer, httpfeed).
//
// # Usage
//
//  1. Read a feed item by item with NewReader; each Item keeps its exact
//     source bytes and its parsed Sync metadata.
//  2. Change items with Create, Update, Delete and Resolve (each takes a
//     Stamp: who and when), or merge an incoming version into a local one
//     with MergeItem, which returns the merged item and an Outcome.
//  3. Write the items with NewWriter. Unchanged items come out byte for
//     byte; a changed item has only its sx:sync rewritten, in place.
//
// # Spec rules and where they live
//
// Rule IDs (FS-MERGE-6, …) are defined in docs/RULES.md, the project's own
// statement of the rules it implements.
//
//   - FS-NS (namespace, placement), FS-TYPE (value syntax), FS-SHARING,
//     FS-RELATED, FS-UNPUB: reader.go, parse.go, writer.go, sync.go.
//   - FS-SYNC, FS-HIST, FS-BY, FS-CONFLICTS (the model): sync.go, item.go.
//   - FS-CREATE, FS-UPDATE, FS-DELETE, FS-RESOLVE, FS-PURGE: ops.go.
//   - FS-SUBSUME, FS-WIN, FS-MERGE (per item), FS-CONFLICT, FS-NOCONF:
//     compare.go.
//   - FS-ROBUST, validation: validate.go, parse.go, reader.go (limits),
//     limits.go (FS-ROBUST-6: results within the reader's limits);
//     well-formed XML: internal/xmltok, the Reader's tokenizer, which
//     accepts and rejects what encoding/xml does in Strict mode.
//   - FS-TRUST-1 (what an authenticated sender may write): trust.go.
//   - FS-FEED-10 (RSS and Atom payloads): convert.go.
//   - FS-TYPE-5 and FS-TYPE-6 (ids and endpoint identifiers): stamp.go.
//   - Automatic conflict resolution policies: policy.go.
//
// The whole-feed merge (FS-MERGE-1, -12..-15, FS-FEED-3..9) walks feeds in
// package merge, which calls MergeItem for each item.
//
// # Readings of the spec
//
// Where docs/RULES.md §17 lists an ambiguity, the code follows the reading it
// recommends and names it (A-1 … A-18) next to the code that depends on it.
package feedsync
