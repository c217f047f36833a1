package httpfeed

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"sync/atomic"
	"time"

	"github.com/feedsync/go-feedsync/consumer"
	"github.com/feedsync/go-feedsync/feedsync"
	"github.com/feedsync/go-feedsync/merge"
	"github.com/feedsync/go-feedsync/producer"
	"github.com/feedsync/go-feedsync/store"
)

// HTTP headers of the protocol (see the package documentation).
const (
	// HeaderToken carries, in a feed response, the token to send as since
	// in the next request: the same value as the feed's sx:sharing until,
	// or an earlier one when a change committed while the feed was being
	// written (asking from an earlier token only repeats changes, which
	// merging ignores, FS-MERGE-14).
	HeaderToken = "FeedSync-Token"
	// HeaderFeed says what a feed response holds: "full" (every item,
	// FS-FEED-1) or "incremental" (the changes after since).
	HeaderFeed = "FeedSync-Feed"
	// HeaderTokenRejected says why the since token of a request was not
	// used and the complete feed was sent instead.
	HeaderTokenRejected = "FeedSync-Token-Rejected"
	// HeaderForgotten, "true" beside HeaderTokenRejected, says that the
	// token predates the store's forgotten horizon (FS-RETAIN-2): the
	// store removed tombstones the requester may not have seen. The
	// requester re-initialises: it merges the complete feed, then deletes
	// what it holds that the store lacks and knew (FS-RETAIN-3,
	// Client.Sync).
	HeaderForgotten = "FeedSync-Forgotten"
	// HeaderSummary carries, in the feed response to a POST, the JSON
	// Summary of the merge, with only its first maxHeaderRejections
	// rejections, shortened to printable ASCII.
	HeaderSummary = "FeedSync-Summary"
	// HeaderPeer names the requesting endpoint when the request is not
	// authenticated (see Principal). Its value must be a valid endpoint
	// identifier (feedsync.ValidBy) of at most 256 bytes.
	HeaderPeer = "FeedSync-Peer"
)

// Feed kinds, the values of HeaderFeed.
const (
	FeedFull        = "full"
	FeedIncremental = "incremental"
)

// Defaults of the Handler settings.
const (
	// DefaultMaxBodyBytes bounds a POST body, after decompression.
	DefaultMaxBodyBytes = 32 << 20
	// DefaultMaxItems bounds the items of a POSTed feed.
	DefaultMaxItems = 100_000
)

// maxPeerLen bounds the FeedSync-Peer header.
const maxPeerLen = 256

// Handler serves one collection, a store.Store, over HTTP: GET and HEAD
// send its complete or partial feed, POST and PUT merge a feed into it. See
// the package documentation for the protocol.
//
// Store is required; the zero value of every other field is its default.
// A Handler must not be changed once it serves requests; it is safe for
// concurrent use.
type Handler struct {
	// Store is the collection.
	Store store.Store
	// Name names the collection in logs and metrics. Default: "".
	Name string
	// By is this server's endpoint identifier (FS-BY-1), which stamps the
	// updates an automatic Policy makes when it resolves a conflict
	// (FS-RESOLVE-2). Servers that share one store may share it: their
	// writes are serialised by the store. Default: "", which writes
	// anonymous entries (FS-CONFLICT-6 discourages them: set By when
	// Policy resolves).
	By string
	// Policy decides what happens to items a POST leaves with conflicts
	// (consumer.Options.Policy). Default: nil, keep them (FS-CONFLICT-2).
	Policy feedsync.ConflictPolicy
	// MaxBodyBytes bounds a POST body, after decompression.
	// Default: DefaultMaxBodyBytes.
	MaxBodyBytes int64
	// MaxItems bounds the items (with sx:sync) of a POSTed feed.
	// Default: DefaultMaxItems.
	MaxItems int
	// Reader bounds each item of a POSTed feed (FS-ROBUST-4).
	// Default: the feedsync defaults.
	Reader feedsync.ReaderOptions
	// CompleteURL is the absolute URI of this collection's complete feed,
	// named in the sx:related type="complete" of partial feeds (FS-FEED-2).
	// Default: the request's own URL without its query, which is right
	// unless a proxy rewrites URLs.
	CompleteURL string
	// Acknowledge records, for a request from a named peer with a valid
	// since token, that the peer holds every change up to the token
	// (producer.Acknowledge): for operators, and for deciding how long
	// tombstones must be kept (FS-DELETE-4). It costs a writable
	// transaction per such request. Default: false.
	Acknowledge bool
	// Grants limits what each authenticated principal may do: which
	// collections it reads or writes (this one is Name), and whether it may
	// relay history entries of other endpoints. Default: nil, every
	// principal reads and writes, and relays nothing.
	Grants Grants
	// MaxJump bounds, for an authenticated sender, how far the updates of
	// a version it POSTs may run past this store's version
	// (feedsync.Trust, FS-TRUST-1). Default: feedsync.DefaultMaxJump.
	MaxJump int64
	// PageItems and PageBytes bound one page of a paged GET (?limit=N,
	// what Client.Sync asks for): the items of a feed page, and the bytes
	// of a feed or summary page, held in memory before it is sent.
	// Default: DefaultPageItems, DefaultPageBytes.
	PageItems int
	PageBytes int64
	// Logger receives one record per request and the details of every
	// server error. Default: nil, no logs.
	Logger *slog.Logger
	// Metrics counts requests, merges and outcomes. Default: nil, none.
	Metrics *Metrics
	// Now is the clock that stamps automatic resolutions.
	// Default: time.Now.
	Now func() time.Time
	// MaxWait caps the wait of a long poll (GET ?since=TOKEN&wait=30s,
	// wait.go). Default: DefaultMaxWait; negative: requests never wait,
	// and answers say so by leaving out HeaderWait.
	MaxWait time.Duration
	// MaxWaiters bounds the requests waiting at once; more are answered
	// at once, as by a server that does not wait. Default:
	// DefaultMaxWaiters.
	MaxWaiters int
	// Stop, once closed, ends every wait: waiting requests get their
	// 304 at once. Close it when the server shuts down
	// (http.Server.RegisterOnShutdown), which otherwise waits for them.
	// Default: nil, waits end only at their time or when the client
	// goes away.
	Stop <-chan struct{}

	waiting atomic.Int64         // requests waiting (long polls)
	head    atomic.Pointer[head] // the store's head, for serveHead
	// headMaxAge replaces the package's headMaxAge when set (tests).
	headMaxAge time.Duration
}

// varyFeed is the Vary header of feed answers.
const varyFeed = "Accept, Accept-Encoding, Authorization, " + HeaderPeer

var _ http.Handler = (*Handler)(nil)

var discardLogger = slog.New(slog.DiscardHandler)

func (h *Handler) logger() *slog.Logger {
	if h.Logger == nil {
		return discardLogger
	}
	return h.Logger
}

// orDefault is v, or def when v is not positive: what a zero setting of
// Handler means.
func orDefault[T ~int | ~int64](v, def T) T {
	if v <= 0 {
		return def
	}
	return v
}

func (h *Handler) maxBody() int64 { return orDefault(h.MaxBodyBytes, DefaultMaxBodyBytes) }

func (h *Handler) maxItems() int { return orDefault(h.MaxItems, DefaultMaxItems) }

func (h *Handler) now() time.Time {
	if h.Now == nil {
		return time.Now()
	}
	return h.Now()
}

// ServeHTTP serves GET and HEAD (a feed) and POST and PUT (a merge); other
// methods get 405.
func (h *Handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	start := time.Now()
	sw := &statusWriter{ResponseWriter: w}
	defer func() {
		h.Metrics.observeRequest(h.Name, r.Method, sw.status(), time.Since(start))
	}()
	if h.Store == nil {
		writeProblem(sw, http.StatusInternalServerError, Problem{Error: "no store configured"})
		return
	}
	sw.Header().Set("Accept-Encoding", acceptedEncodings)
	if !h.Grants.allow(sw, r, h.Name) {
		return
	}
	q := r.URL.Query()
	switch r.Method {
	case http.MethodGet, http.MethodHead:
		if q.Has("versions") {
			h.serveSummary(sw, r)
			return
		}
		h.serveFeed(sw, r, q, start)
	case http.MethodPost, http.MethodPut:
		switch {
		case r.Method == http.MethodPost && q.Has("versions"):
			h.serveHeld(sw, r)
		case r.Method == http.MethodPost && q.Has("items"):
			h.serveItems(sw, r)
		default:
			h.serveMerge(sw, r, start)
		}
	default:
		sw.Header().Set("Allow", "GET, HEAD, POST, PUT")
		writeProblem(sw, http.StatusMethodNotAllowed, Problem{Error: "method " + r.Method + " not allowed (use GET to read the feed, POST to merge one)"})
	}
}

// peer returns the endpoint a request comes from: its authenticated
// principal, else its FeedSync-Peer header, else "".
func (h *Handler) peer(r *http.Request) (string, error) {
	if p, ok := Principal(r.Context()); ok {
		return p, nil
	}
	p := r.Header.Get(HeaderPeer)
	if p == "" {
		return "", nil
	}
	if len(p) > maxPeerLen || !feedsync.ValidBy(p) {
		return "", fmt.Errorf("%s header %.64q is not a valid endpoint identifier (ASCII letters, digits and ()+,-.:=@;$_!*' only, at most %d bytes)", HeaderPeer, p, maxPeerLen)
	}
	return p, nil
}

// serveFeed answers GET and HEAD; q is the request's query.
func (h *Handler) serveFeed(w http.ResponseWriter, r *http.Request, q url.Values, start time.Time) {
	peer, err := h.peer(r)
	if err != nil {
		writeProblem(w, http.StatusBadRequest, Problem{Error: err.Error()})
		return
	}
	f, _, err := queryFormat(r, q)
	if err != nil {
		writeProblem(w, http.StatusBadRequest, Problem{Error: "format " + q.Get("format") + ": " + err.Error()})
		return
	}
	since := q.Get("since")
	if h.serveEvents(w, r, since, peer) {
		h.logger().LogAttrs(r.Context(), slog.LevelInfo, "events",
			slog.String("collection", h.Name), slog.String("peer", peer), slog.Duration("duration", time.Since(start)))
		return
	}
	if !h.serveWait(w, r, q, since, peer) {
		return
	}
	var res feedResult
	// Polls that find nothing new, most of a server's requests, are
	// logged at debug level only (the metrics count them).
	level := slog.LevelInfo
	if q.Has("limit") {
		res = h.servePage(w, r, peer, f)
	} else if hr, ok := h.serveHead(w, r, since, peer, f); ok {
		res, level = hr, slog.LevelDebug
	} else {
		res = h.writeFeed(r.Context(), w, r, since, peer, f, true)
	}
	if res.status == http.StatusNotModified {
		level = slog.LevelDebug
	}
	h.logger().LogAttrs(r.Context(), level, "feed",
		slog.String("collection", h.Name), slog.String("method", r.Method), slog.String("peer", peer),
		slog.Int("status", res.status), slog.String("feed", res.kind), slog.Int64("bytes", res.bytes),
		slog.Duration("duration", time.Since(start)))
}

// feedResult says what writeFeed sent, for logs.
type feedResult struct {
	status int
	kind   string
	bytes  int64
}

// writeFeed sends the feed after since for peer in format f (the store's
// when unknown). conditional allows a 304 answer to If-None-Match.
func (h *Handler) writeFeed(ctx context.Context, w http.ResponseWriter, r *http.Request, since, peer string, f feedsync.Format, conditional bool) feedResult {
	fail := func(code int, msg string, err error) feedResult {
		h.logger().LogAttrs(ctx, slog.LevelError, "feed failed", slog.String("collection", h.Name), slog.String("error", err.Error()))
		writeProblem(w, code, storeProblem(err, msg))
		return feedResult{status: code}
	}
	id := h.Store.ID()
	changed := Changes(h.Store) // before the read: see setHead
	tx, err := h.Store.Begin(ctx, false)
	if err != nil {
		return fail(storeStatus(err), "cannot read the store", err)
	}
	defer tx.Rollback()
	// The token of the response is read first, in the transaction the feed
	// is read in: a change committed later is in the next feed, and at
	// worst in this one too (producer.Full).
	last, err := tx.LastSeq(ctx)
	if err != nil {
		return fail(storeStatus(err), "cannot read the store", err)
	}
	storeFormat := feedsync.FormatUnknown
	if f == feedsync.FormatUnknown {
		_, sf, err := tx.FeedInfo(ctx)
		if err != nil {
			return fail(storeStatus(err), "cannot read the store", err)
		}
		f = sf
		if f == feedsync.FormatUnknown {
			f = feedsync.RSS
		}
		storeFormat = f
	}
	var tok producer.Token
	var reason error
	full := true
	if since != "" {
		t, why, err := h.usableToken(ctx, tx, since)
		switch {
		case err != nil:
			return fail(storeStatus(err), "cannot read the store", err)
		case why != nil:
			reason = why
		default:
			tok, full = t, false
		}
	}
	if !full && h.Acknowledge && peer != "" {
		if err := producer.Acknowledge(ctx, h.Store, peer, tok); err != nil {
			h.logger().LogAttrs(ctx, slog.LevelWarn, "acknowledge failed", slog.String("collection", h.Name), slog.String("peer", peer), slog.String("error", err.Error()))
		}
	}
	kind := FeedIncremental
	if full {
		kind = FeedFull
	}
	hdr := w.Header()
	lastTok, err := producer.TokenAt(ctx, tx, id, last)
	if err != nil {
		return fail(storeStatus(err), "cannot read the store", err)
	}
	h.setHead(changed, last, lastTok.String(), storeFormat)
	hdr.Set(HeaderToken, lastTok.String())
	hdr.Set(HeaderFeed, kind)
	if reason != nil {
		hdr.Set(HeaderTokenRejected, headerSafe(reason.Error()))
		if errors.Is(reason, producer.ErrForgotten) {
			hdr.Set(HeaderForgotten, "true")
		}
	}
	tag := etag(id, last, f, since, peer)
	hdr.Set("ETag", tag)
	hdr.Set("Cache-Control", "no-cache")
	hdr.Set("Vary", varyFeed)
	if conditional && noneMatch(r.Header.Values("If-None-Match"), tag) {
		w.WriteHeader(http.StatusNotModified)
		h.Metrics.observeFeed(h.Name, "not_modified")
		return feedResult{status: http.StatusNotModified, kind: kind}
	}
	hdr.Set("Content-Type", contentType(f))

	fw := newFeedWriter(w, responseCoding(r))
	// feedsync.NewWriter buffers 64 KiB; handing it a pooled buffer of that
	// size makes it use ours (bufio.NewWriterSize returns a large enough
	// *bufio.Writer as it is), which saves allocating and clearing 64 KiB
	// per request: most of the cost of an empty poll.
	bw := bufioPool.Get().(*bufio.Writer)
	bw.Reset(fw)
	opts := producer.Options{Format: f, Peer: peer}
	if full {
		_, err = producer.Full(ctx, tx, id, bw, opts)
	} else {
		opts.CompleteURL = h.completeURL(r)
		_, err = producer.Incremental(ctx, tx, tok, bw, opts)
	}
	if err == nil {
		err = bw.Flush()
	}
	var empty []byte // the empty feed from the head, for serveHead
	if err == nil && !full && tok.Seq == last {
		empty = fw.small()
	}
	if err == nil {
		err = fw.Close()
	}
	bw.Reset(nil)
	bufioPool.Put(bw)
	if err != nil {
		if fw.discard() {
			hdr.Del(HeaderToken)
			hdr.Del(HeaderFeed)
			hdr.Del("ETag")
			return fail(storeStatus(err), "cannot produce the feed", err)
		}
		// Part of the feed has gone out: break the connection, so that the
		// client sees a failed transfer instead of a short feed.
		h.logger().LogAttrs(ctx, slog.LevelError, "feed broken off", slog.String("collection", h.Name), slog.String("error", err.Error()))
		panic(http.ErrAbortHandler)
	}
	if hd := h.head.Load(); empty != nil && hd != nil && hd.last == last && hd.token == since {
		hd.setBody(headKey{f, opts.CompleteURL}, empty)
	}
	h.Metrics.observeFeed(h.Name, kind)
	return feedResult{status: http.StatusOK, kind: kind, bytes: fw.n}
}

// storeStatus is the status of a failure to read the store.
func storeStatus(err error) int {
	if errors.Is(err, store.ErrClosed) || errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
		return http.StatusServiceUnavailable
	}
	return http.StatusInternalServerError
}

// completeURL returns the URL of the complete feed for an incremental feed
// answering r.
func (h *Handler) completeURL(r *http.Request) string {
	if h.CompleteURL != "" {
		return h.CompleteURL
	}
	if r.Host == "" {
		return ""
	}
	scheme := "http"
	if r.TLS != nil {
		scheme = "https"
	}
	// RequestURI is the path the client asked for, before any
	// http.StripPrefix in front of the handler removed part of it.
	path := r.URL.EscapedPath()
	if u, err := url.ParseRequestURI(r.RequestURI); err == nil && r.RequestURI != "" {
		path = u.EscapedPath()
	}
	return scheme + "://" + r.Host + path
}

// headerSafe makes s fit a header value: printable ASCII, at most 300 bytes.
func headerSafe(s string) string {
	b := []byte(s)
	if len(b) > 300 {
		b = append(b[:297], "..."...)
	}
	for i, c := range b {
		if c < 0x20 || c > 0x7e {
			b[i] = '?'
		}
	}
	return string(b)
}

// serveMerge answers POST and PUT.
func (h *Handler) serveMerge(w http.ResponseWriter, r *http.Request, start time.Time) {
	peer, err := h.peer(r)
	if err != nil {
		writeProblem(w, http.StatusBadRequest, Problem{Error: err.Error()})
		return
	}
	f, explicit, err := requestFormat(r)
	if err != nil {
		writeProblem(w, http.StatusBadRequest, Problem{Error: "format " + r.URL.Query().Get("format") + ": " + err.Error()})
		return
	}
	q := r.URL.Query()
	wantFeed := q.Has("since") || explicit

	// The body is in hand before the merge's transaction begins.
	in, done, ok := h.requestBody(w, r)
	if !ok {
		return
	}
	defer done()

	ctx, cancel := context.WithCancelCause(r.Context())
	defer cancel(nil)
	maxItems, items := h.maxItems(), 0
	sum, err := h.consume(ctx, r, in, peer, consumer.Options{
		Peer:   peer,
		Policy: h.Policy,
		Stamp:  feedsync.Stamp{By: h.By, When: h.now()},
		Reader: h.Reader,
		Admit:  h.admit(r),
		OnItem: func(string, int, feedsync.Outcome, error) {
			if items++; items > maxItems {
				cancel(errTooManyItems)
			}
		},
	})
	if err != nil {
		var pm *errPeerMark
		if errors.As(err, &pm) {
			w.Header().Set(HeaderPeerMark, pm.recorded)
		}
		code, p := h.classify(ctx, err)
		level := slog.LevelWarn
		if code >= 500 {
			level = slog.LevelError
		}
		h.logger().LogAttrs(r.Context(), level, "merge failed",
			slog.String("collection", h.Name), slog.String("peer", peer), slog.Int("status", code),
			slog.String("error", err.Error()), slog.Duration("duration", time.Since(start)))
		writeProblem(w, code, p)
		return
	}
	h.Metrics.observeMerge(h.Name, sum)
	s := wireSummary(sum)
	attrs := []slog.Attr{
		slog.String("collection", h.Name), slog.String("peer", peer),
		slog.Int("added", s.Added), slog.Int("updated", s.Updated), slog.Int("deleted", s.Deleted),
		slog.Int("conflicts", s.Conflicts), slog.Int("unchanged", s.Unchanged), slog.Int("rejected", s.Rejected),
	}
	if !wantFeed {
		writeJSON(w, http.StatusOK, s)
		h.logger().LogAttrs(r.Context(), slog.LevelInfo, "merge", append(attrs,
			slog.Int("status", http.StatusOK), slog.Duration("duration", time.Since(start)))...)
		return
	}
	head := s
	head.Rejections = headerRejections(s.Rejections)
	b, _ := json.Marshal(head)
	w.Header().Set(HeaderSummary, string(b))
	// The merge is committed: the feed that follows is read after it, so
	// it holds the merge's results, without what the peer just sent.
	res := h.writeFeed(r.Context(), w, r, q.Get("since"), peer, f, false)
	h.logger().LogAttrs(r.Context(), slog.LevelInfo, "merge", append(attrs,
		slog.Int("status", res.status), slog.String("feed", res.kind), slog.Int64("bytes", res.bytes),
		slog.Duration("duration", time.Since(start)))...)
}

// maxHeaderRejections bounds the rejections in HeaderSummary, where they
// tell a syncing client why (a 403 of FS-TRUST-1, a limit) without making
// the header large.
const maxHeaderRejections = 3

// headerRejections returns the first rejections, made fit for a header.
func headerRejections(ps []Problem) []Problem {
	var out []Problem
	for _, p := range ps[:min(len(ps), maxHeaderRejections)] {
		if len(p.Error) > 200 {
			p.Error = p.Error[:197] + "..."
		}
		p.Error, p.Item = headerSafe(p.Error), headerSafe(p.Item)
		out = append(out, p)
	}
	return out
}

// boundedReader reads at most n bytes from r, then fails with
// errBodyTooLarge: the bound on a decompressed body, which
// http.MaxBytesReader cannot see.
type boundedReader struct {
	r io.Reader
	n int64
}

func (b *boundedReader) Read(p []byte) (int, error) {
	if b.n <= 0 {
		// Allow a clean end of stream exactly at the bound.
		var one [1]byte
		if n, err := b.r.Read(one[:]); n == 0 && err == io.EOF {
			return 0, io.EOF
		}
		return 0, errBodyTooLarge
	}
	if int64(len(p)) > b.n {
		p = p[:b.n]
	}
	n, err := b.r.Read(p)
	b.n -= int64(n)
	return n, err
}

// summaryJSON is the JSON form of a merge's result (merge.Summary) on the
// wire: the body of the response to a POST without since, and the value of
// the FeedSync-Summary header:
//
//	{"added": 1, "updated": 2, "deleted": 0, "conflicts": 0, "unchanged": 7, "rejected": 1,
//	 "rejections": [{"status": 403, "error": "...", "item": "a", "line": 12}]}
//
// Rejections describes the first rejected items (merge.MaxRejections), each
// a Problem whose status says why: 403 for feedsync.ErrUntrusted, 413 for
// feedsync.ErrLimit, none for an invalid item.
type summaryJSON struct {
	Added      int       `json:"added"`
	Updated    int       `json:"updated"`
	Deleted    int       `json:"deleted"`
	Conflicts  int       `json:"conflicts"`
	Unchanged  int       `json:"unchanged"`
	Rejected   int       `json:"rejected"`
	Rejections []Problem `json:"rejections,omitempty"`
}

// wireSummary returns the JSON form of s.
func wireSummary(s merge.Summary) summaryJSON {
	out := summaryJSON{
		Added: s.Added, Updated: s.Updated, Deleted: s.Deleted,
		Conflicts: s.Conflicts, Unchanged: s.Unchanged, Rejected: s.Rejected,
	}
	for _, err := range s.Rejections {
		p := problemOf(err)
		switch {
		case errors.Is(err, feedsync.ErrUntrusted):
			p.Status = http.StatusForbidden
		case errors.Is(err, feedsync.ErrLimit):
			p.Status = http.StatusRequestEntityTooLarge
		}
		out.Rejections = append(out.Rejections, p)
	}
	return out
}

// summary returns the merge.Summary that s describes. Each rejection is a
// *feedsync.ItemError naming the item and line the server gave, whose
// error matches feedsync.ErrUntrusted or feedsync.ErrLimit with errors.Is
// when the server rejected the item for that reason.
func (s summaryJSON) summary() merge.Summary {
	out := merge.Summary{
		Added: s.Added, Updated: s.Updated, Deleted: s.Deleted,
		Conflicts: s.Conflicts, Unchanged: s.Unchanged, Rejected: s.Rejected,
	}
	for _, p := range s.Rejections {
		out.Rejections = append(out.Rejections, &feedsync.ItemError{ID: p.Item, Line: p.Line, Err: &rejection{msg: p.Error, status: p.Status}})
	}
	return out
}

// rejection is why the server rejected an item, as its Problem said.
type rejection struct {
	msg    string
	status int
}

func (r *rejection) Error() string { return r.msg }

// Is matches the error the status stands for (see summaryJSON).
func (r *rejection) Is(target error) bool {
	switch r.status {
	case http.StatusForbidden:
		return target == feedsync.ErrUntrusted
	case http.StatusRequestEntityTooLarge:
		return target == feedsync.ErrLimit
	}
	return false
}

// statusWriter remembers the status code of a response, for metrics.
type statusWriter struct {
	http.ResponseWriter
	code int
}

func (s *statusWriter) WriteHeader(code int) {
	if s.code == 0 {
		s.code = code
	}
	s.ResponseWriter.WriteHeader(code)
}

func (s *statusWriter) Write(p []byte) (int, error) {
	if s.code == 0 {
		s.code = http.StatusOK
	}
	return s.ResponseWriter.Write(p)
}

// Unwrap gives http.ResponseController the underlying writer.
func (s *statusWriter) Unwrap() http.ResponseWriter { return s.ResponseWriter }

func (s *statusWriter) status() int {
	if s.code == 0 {
		return http.StatusOK
	}
	return s.code
}
