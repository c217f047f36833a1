// Package producer makes FeedSync feeds from application data.
//
// A producer turns the state of some data into a feed that other endpoints
// merge. The data does not record its own changes, so the producer finds
// them: Refresh compares a new snapshot of the data (ids and payloads) with
// the feed it published last time and writes the local operations the spec
// asks for (FS-CREATE, FS-UPDATE, FS-DELETE) with this endpoint's stamp.
// Items whose data did not change are copied byte for byte, so subscribers
// see only real updates and the feed's history grows only when the data
// does.
//
// # Usage
//
//  1. Build a payload for each record of the data, for example with
//     converter.Map, and yield it as a Record with the item's sync id.
//  2. Call Refresh with the previous feed (nil for the first run), the
//     records, this endpoint's Stamp and where to write the new feed.
//  3. Publish the new feed; next time, it is the previous feed.
//
// # Feeds from a store
//
// An endpoint whose items live in a store (package store) publishes them
// with Produce, or with Full and Incremental inside a read-only transaction
// of its own (producer.go):
//
//  1. A new subscriber gets the complete feed (FS-FEED-1, FS-FEED-4): every
//     item, tombstones included. Its sx:sharing until holds a Token, an
//     opaque string (FS-SHARING-2, §17 A-12) naming the store and the point
//     of its change sequence the feed covers (token.go).
//  2. The subscriber sends that token back as since and gets a partial feed:
//     the items changed after it, at a cost that grows with the changes,
//     not the store, with since and the next until in sx:sharing and an
//     sx:related type="complete" link to the complete feed (FS-FEED-2,
//     FS-FEED-6). Consecutive feeds leave no gap.
//  3. A token that is malformed, minted by another store, or ahead of the
//     store (ErrBadToken) gets the complete feed again: the subscriber may
//     have missed anything.
//  4. Options.Peer names the subscriber: a partial feed leaves out the items
//     whose current version that peer sent us (echo suppression; the
//     consumer records what each peer sent). Nothing is recorded when a feed
//     goes out, since it may be lost.
//
// # Verifying and lost endpoints
//
// DiffSources names the items on which two item sets differ, each a store
// (StoreSource, ItemSource) or a feed (FeedSource), so that two endpoints
// can check they converged (FS-MERGE-14). It compares what a Manifest
// holds of each item (ids, versions, digests in place of payloads) as it
// walks both sets in sync id order, sorting them on disk when they are
// large (diffsources.go, sort.go), so its memory does not grow with the
// items. A Manifest holds that list in memory (manifest.go): the manifest
// of a store (StoreManifest) or of a feed (FeedManifest), compared by Diff.
//
// An endpoint that lost its data (wiped, or restored from an older backup)
// must re-initialise from complete feeds, in both directions, and drop the
// tokens it and its peers kept: partial feeds rely on what each side knows
// about the other, which the loss made wrong. A wiped store has a new id, so
// its peers' tokens fail (ErrBadToken); a restored one keeps its id, and its
// peers' tokens fail only while they are ahead of its change sequence. Merging
// the complete feeds adds no duplicates (items are matched by sync id) and
// resurrects no deletion (a tombstone subsumes the live versions it
// deleted, FS-DELETE-3); Diff then finds no difference.
package producer
