// Package plainfeed brings feeds that are not FeedSync 1.0 into FeedSync:
// plain feeds as people publish them, and SSE 0.93 feeds.
//
// Plain feeds (RSS 0.9x, 1.0 and 2.0, Atom 0.3 and 1.0, JSON Feed 1.0 and
// 1.1) are read leniently with gofeed, the only package of this module that
// imports it. Each item becomes a FeedSync payload (an RSS <item> or Atom
// <entry>) with a sync id; creating sx:sync for every item is how a plain
// feed joins FeedSync (FS-CREATE-4).
//
// # Usage
//
//  1. Read a feed with Read: each Entry has a sync id (from the guid, else
//     the link, else a content hash; see Read and feedsync.EscapeID) and a payload.
//  2. Turn the entries into items with Feed.Items and a Stamp (FS-CREATE-1..4),
//     and write them with a feedsync.Writer for Feed.Header — or do both
//     steps at once with Convert. To refresh an earlier output instead,
//     hand the entries to producer.Refresh as records.
//  3. For SSE 0.93 input, call Upgrade (or set Options.Upgrade): it rewrites
//     the sync metadata to FeedSync 1.0 and reports, per item, what it
//     rewrote, kept or could not upgrade (docs/RULES.md §14).
//
// # Spec rules and readings
//
//   - FS-CREATE-1..4: Convert and Feed.Items create each new item with
//     updates="1" and one history entry for the stamp.
//   - FS-TYPE-5: ids are made NSS-safe by feedsync.EscapeID, which escapes '%' too so
//     that different guids never share an id.
//   - FS-SYNC-2: items that already carry sx:sync are read with the core
//     reader and kept untouched, ids included. Duplicate ids: a plain item is
//     left out and reported; synced duplicates are merged in turn
//     (FS-ROBUST-3).
//   - §14, FS-TYPE-3/4, FS-SHARING-2, FS-HIST-4, FS-PURGE-2, FS-UNPUB-2:
//     Upgrade; its doc says which reading it takes for each (opaque
//     since/until are kept, §17 A-12; anonymous history is kept).
//
// # Limits
//
// gofeed needs the whole feed in memory; Options.MaxBytes bounds it
// (FS-ROBUST-4). Upgrade streams. Payloads carry the elements listed in
// Read's doc; other extension elements of plain feeds are not carried,
// because gofeed keys extensions by prefix and drops the namespaces of
// their attributes, so they cannot be written back faithfully.
package plainfeed
