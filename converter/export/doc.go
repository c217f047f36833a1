// Package export writes FeedSync feeds as plain feeds for ordinary feed
// readers: RSS 2.0, Atom 1.0 or JSON Feed 1.1 with the current winners only.
//
// A FeedSync feed is already an RSS or Atom feed, but readers show its
// tombstones and ignore its sx:sync, and its conflict copies are noise to
// them. Write drops all three (FS-DELETE-1, FS-CONFLICT-2) and writes what
// is left with gorilla/feeds, the only package of this module that imports
// it.
//
// # Usage
//
//  1. Open the FeedSync feed (RSS or Atom).
//  2. Call Write with the output and Options{Format: RSS, Atom or JSON}.
//  3. Read the Summary: items exported, tombstones left out, items whose
//     conflict copies were left out, items with invalid metadata.
//
// # What gorilla/feeds cannot carry
//
// gorilla/feeds has one generic item type and writes each format from it.
// What it has no field for is not written, rather than worked around:
//
//   - extension and namespaced elements of the payload (Dublin Core apart
//     from dc:creator and dc:date, which map to author and updated, media
//     elements, anything in another namespace);
//   - more than one author, and more than one enclosure per item (the first
//     is written); RSS enclosures without a length or type (gorilla/feeds
//     drops them);
//   - categories in Atom (gorilla/feeds' Atom entry has no category with a
//     term attribute), and all but the first category in RSS; JSON Feed gets
//     every category as a tag;
//   - XHTML content as XHTML: it is written as HTML markup (type="html" in
//     Atom, content:encoded in RSS, content_html in JSON Feed);
//   - the publication date in Atom (gorilla/feeds writes atom:updated only;
//     RSS gets pubDate, JSON Feed both dates);
//   - the RSS author element gets the author's name, not an e-mail address,
//     an Atom entry without a link gets an empty one, and the Atom feed id
//     is the feed's link (all three are gorilla/feeds' choices).
//
// # Memory
//
// Write reads its input with feedsync.Reader, one item at a time, but
// gorilla/feeds needs every item in memory before it writes the feed, so
// memory grows with the number of items exported.
package export
