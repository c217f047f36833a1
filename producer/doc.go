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
package producer
