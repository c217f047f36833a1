// Package merge merges an incoming FeedSync feed into a local item set, item
// by item, without holding either side in memory.
//
// The per-item rules (subsumption, winner, conflicts, resolution) live in
// package feedsync; this package only walks: it matches incoming items to
// local ones by sync id, calls feedsync.MergeItem for each pair, applies a
// ConflictPolicy, and counts what happened. The same step drives two local
// sides:
//
//   - Feeds merges two feed documents into a third. It reads both feeds at
//     the same time, on goroutines of their own, each into a temporary
//     spill file: the incoming items with an index of their sync ids in
//     memory, the local items in a form that reads back without XML. Then
//     it walks the local items and writes the result, while two more
//     goroutines decode the spilled local items and their incoming
//     counterparts a few batches ahead.
//   - Run merges an incoming feed into any Local: a store transaction (package
//     consumer), or the MemoryLocal of this package.
//
// # Usage
//
//  1. Open the local feed, the incoming feed and an output (a temporary file
//     that replaces the local feed once Feeds returns without error).
//  2. Call Feeds with Options: zero values give the spec's defaults (keep
//     conflicts, write the local feed's format).
//  3. Print Summary.String, and report Summary.Rejections: incoming items
//     left out because their metadata was invalid.
//
// # Spec rules and where they live
//
// Rule IDs are defined in docs/RULES.md, the project's statement of the
// rules it implements.
//
//   - FS-MERGE-1, FS-MERGE-2, FS-MERGE-16 (per-item step and outcomes),
//     FS-FEED-7 and FS-FEED-10 (which incoming items take part, and in which
//     format), FS-ROBUST-1 (rejection), conflict policies: merge.go.
//   - FS-MERGE-13, FS-MERGE-15 (output order), FS-FEED-8, FS-FEED-9 and
//     FS-SHARING-5 (the local feed's items and header are kept), FS-ROBUST-3
//     (duplicate ids): feeds.go.
//   - The Local interface and Run: merge.go; MemoryLocal: local.go; the
//     optional Observer of a Local: observe.go.
//
// # Readings of the spec
//
//   - §17 A-10, FS-ROBUST-3: a duplicate sync id in either feed rejects the
//     whole merge (ErrDuplicateID); duplicates are never merged in turn.
//   - §17 A-11, FS-FEED-7: incoming items without sx:sync are ignored.
//   - FS-ROBUST-1 applied to the local side: an incoming item whose local
//     counterpart has invalid metadata is rejected too, and the local item is
//     kept as it is, so a broken local item never blocks the rest of a merge.
//   - FS-MERGE-16: Unchanged counts incoming items that left their local item
//     as it was; local items the incoming feed does not mention are not
//     counted, so Feeds and Run report the same numbers.
//   - Conflict policies apply to merge results that hold conflict copies and
//     differ from the local item; the reported outcome is what the merge
//     found (Conflict stays Conflict even when the policy resolved it).
//   - FS-FEED-10: the same version in the other format is the same payload
//     (RSS/Atom conversion is not an exact round trip), so it leaves the
//     local item Unchanged; a changed incoming item is converted to the
//     local format before the merge, so conflict copies are kept in the
//     format of the feed that holds them.
package merge
