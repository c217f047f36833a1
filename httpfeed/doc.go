// Package httpfeed serves a FeedSync collection over HTTP and syncs a local
// store with one, so that endpoints converge through plain GET and POST
// requests.
//
// A collection is a store.Store. Handler is an http.Handler for one
// collection, to mount in any mux; Router serves several named collections
// under /{name}; Client is the other end, and Peer keeps a store in sync
// with a collection continuously.
//
// # Usage
//
//  1. Open a store (store/open.Open, or a store package) and wrap it:
//     h := &httpfeed.Handler{Store: st}. The zero value of every other field
//     is a usable default.
//  2. Mount it: mux.Handle("/tasks", h), optionally behind BearerAuth, and
//     mount a Metrics at /metrics if Handler.Metrics is set.
//  3. A subscriber sends GET for the complete feed, then GET ?since=TOKEN
//     with the token of the last feed it merged (header FeedSync-Token, or
//     the feed's sx:sharing until) for the changes after it.
//  4. A publisher POSTs its feed; the server merges it in one transaction.
//     With ?since=TOKEN the response is the server's changes the client has
//     not seen, so that one round trip syncs both ways (Client.Sync).
//
// # The protocol
//
// GET (and HEAD):
//
//   - no since: the complete feed (FS-FEED-1, FS-FEED-4).
//   - ?since=TOKEN: the partial feed of the changes after TOKEN (FS-FEED-6),
//     without the items the requesting peer is known to hold (echo
//     suppression, producer.Options.Peer). A token this store did not mint
//     (another store, a store wiped and recreated, a restored backup) gets the
//     complete feed, and the header FeedSync-Token-Rejected says why.
//   - the format is ?format=rss|atom, else the Accept header
//     (application/rss+xml, application/atom+xml), else the store's own.
//   - response headers: FeedSync-Token (the since of the next request),
//     FeedSync-Feed ("full" or "incremental"), ETag. If-None-Match with
//     that ETag gets 304 Not Modified while nothing changed. Bodies of 1 KiB
//     or more are compressed when the request accepts it: with zstd when
//     Accept-Encoding wants it at least as much as gzip (q values
//     honoured), else with gzip; the weak ETag is the same for every
//     coding. Every answer lists the codings request bodies may have in
//     its own Accept-Encoding header: "zstd, gzip".
//   - ?since=TOKEN&wait=30s (a long poll, wait.go): the answer waits until
//     there is a change after TOKEN that the requesting peer lacks, then
//     comes as without wait; after the wait it is 304 Not Modified. The
//     server caps the wait (Handler.MaxWait) and says how long it waits in
//     the FeedSync-Wait header; an answer without that header comes from a
//     server that does not wait, and the client should poll. Client.Await
//     waits so (with HEAD, no feed travels) before the next Sync.
//   - ?since=TOKEN with "Accept: text/event-stream" (events.go): a stream
//     of server-sent events, one each time there are changes the peer
//     lacks, with the store's latest token as id and data.
//   - a poll from the store's latest token is answered from the head the
//     handler remembers, without reading the store (head.go).
//
// POST or PUT a FeedSync feed (zstd- or gzip-compressed or not; the
// decoded body counts against MaxBodyBytes, so a compression bomb gets
// 413):
//
//   - the feed is merged with consumer.Consume in one transaction: it lands
//     completely or not at all (FS-MERGE, FS-ROBUST-1, FS-ROBUST-3).
//   - the response is the merge's summary in JSON, {"added": N,
//     "updated": N, "deleted": N, "conflicts": N, "unchanged": N,
//     "rejected": N, "rejections": [Problem…]} (Client.Post reads it as a
//     merge.Summary), or, when the request has a since
//     parameter (even empty) or its Accept names a feed type, the server's
//     feed after since for the peer, with the merge summary in the header
//     FeedSync-Summary. The items the client just sent are left out when
//     the request names its peer (echo suppression).
//   - bodies larger than Handler.MaxBodyBytes, or with more items than
//     Handler.MaxItems, get 413; a malformed feed gets 400. Error bodies are
//     RFC 9457 problems (application/problem+json): {"title": "Bad
//     Request", "status": 400, "error": "...", "item": "...", "line": N}.
//
// # Sync by knowledge
//
// Client.Sync uses four more requests (the README's "The sync protocol"
// describes them for clients in other languages):
//
//   - GET ?since=TOKEN&limit=N: one page of the feed, its token in
//     FeedSync-Token and FeedSync-More: true when more follow. A token the
//     store cannot use gets 409 (not the complete feed), a client whose
//     FeedSync-Peer-Mark does not match the server's record of it the page
//     without echo suppression.
//   - GET ?versions[&since=TOKEN]&limit=N: one page of the server's summary
//     (application/x-ndjson, one line per item: its sync id and the
//     topmost history entry of each version, producer.Held).
//   - both pages carry an ETag, as the complete feed does: If-None-Match
//     with it gets 304 Not Modified (with the page's FeedSync-Token and
//     FeedSync-More) while nothing changed.
//   - POST ?versions: the client's summary, answered with the id lines of
//     the items the server lacks or holds in an older or conflicting
//     version (producer.Lacks, FS-KNOW-1).
//   - POST ?items: id lines, answered with a feed of those items.
//
// A push carries the client's marks (FeedSync-Peer-Mark, -Until): the
// server checks the first against its record of the peer and records the
// second with the merge, so that a restored client or server is caught
// (409) instead of trusted (FS-KNOW-2).
//
// # Compression
//
// Client sends Accept-Encoding: zstd, gzip (gzip alone with NoZstd) and
// decodes the answer itself. It compresses request bodies with gzip, which
// every Handler takes, until an answer of the collection has listed zstd
// in its Accept-Encoding header; then with zstd, which costs both ends
// less CPU for fewer bytes. A 415 to a zstd body fails that request, and
// the client sends gzip to that collection from then on (a proxy in front
// may refuse what the server lists). NoGzip sends bodies uncompressed.
//
// # Identity
//
// The peer a request comes from names the endpoint whose knowledge the store
// keeps (store.PeerReader): what it sent, so that it is not sent back. It is
// the principal of an authenticated request (BearerAuth, or any middleware
// that calls WithPrincipal), which a client cannot forge; otherwise the
// FeedSync-Peer request header. Automatic conflict resolutions
// (Handler.Policy) are updates made by this server, stamped with Handler.By:
// never with the client's identifier, because an update written under a
// client's by would be subsumed by that client's next own edit of the item
// and silently lost (FS-BY-2, FS-CONFLICT-6).
//
// # Trust
//
// An authenticated client may write only its own history: in a POST, every
// history entry the server's version does not already subsume must carry
// the client's principal as by, and updates may not run more than
// Handler.MaxJump past the server's version (feedsync.Trust, FS-TRUST-1).
// A principal with Grant.Relay (a peer server) may bring others' entries.
// An item that breaks this is rejected on its own, with status 403 in the
// summary (feedsync.ErrUntrusted for Client.Post). Grants also limit a principal to named collections, read-only or
// read-write; Router lists only those it may see. Every POST body is
// received in full before its transaction begins (spool.go), so a slow
// client delays no other; give the http.Server deadlines as well.
//
// # Files
//
//   - handler.go: Handler, GET and POST.
//   - negotiate.go: formats, ETags, compression, the buffered response.
//   - problem.go: JSON error bodies and status codes.
//   - auth.go: BearerAuth and principals.
//   - grant.go: Grants and the trust check of POSTs.
//   - spool.go: receiving request bodies before any transaction.
//   - router.go: Router, several collections; AtRoot, one.
//   - knowledge.go, lines.go: pages, summaries, peer marks (server side).
//   - sync.go: Client.Sync, pages and versions first (client side).
//   - metrics.go: Prometheus text-format metrics.
//   - client.go: Client, its requests and errors.
//   - zstd.go: zstd request and response bodies.
//   - wait.go: long polls, served (Handler) and asked for (Client.Await).
//   - events.go: event streams of change notifications.
//   - head.go: the store's head, which answers polls that are up to date.
//   - peer.go: Peer, a store kept in sync with a remote collection
//     continuously (a server's peers, a server farm).
package httpfeed
