// Package converter maps application values to item payloads and back.
//
// A FeedSync item is a payload (an RSS <item> or Atom <entry>) plus its
// sx:sync metadata; the rules in package feedsync never look inside the
// payload (FS-TYPE-1). Applications hold their data in their own shape.
// A converter is the bridge at the application's edge: it builds the payload
// that Create and Update carry, and reads the data back out of an item that
// a merge brought in. Converters depend on feedsync, never the reverse
// (FS-FEED-10, FS-INCORP-3).
//
// # Usage
//
//  1. Describe the mapping with a Map: the feed format and which fields of
//     your records go into the format's standard elements (title, link, …).
//  2. Call Map.ToPayload for each record and hand the element to
//     feedsync.Create or feedsync.Update (or to producer.Refresh).
//  3. Call Map.FromPayload on an item's payload to get the record back.
//
// Map writes equal records as byte-for-byte equal elements (fields in a
// fixed order, Atom's required elements derived from the record), so equal
// data gives an equal payload digest and a refresh can tell what changed.
package converter
