package httpfeed

import (
	"bytes"
	"compress/gzip"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"strconv"
	"strings"

	"github.com/feedsync/go-feedsync/consumer"
	"github.com/feedsync/go-feedsync/feedsync"
	"github.com/feedsync/go-feedsync/merge"
	"github.com/feedsync/go-feedsync/producer"
	"github.com/feedsync/go-feedsync/store"
)

// Headers of sync by knowledge (see the package documentation).
const (
	// HeaderMore is "true" on a page (a request with ?limit) that stopped
	// before the store's latest change: ask again from FeedSync-Token.
	HeaderMore = "FeedSync-More"
	// HeaderPeerMark carries, in a request, the client's own mark of how
	// far the server holds its changes (the client's PeerState.Sent, ""
	// for none); in a 409 answer, or a feed served without echo
	// suppression, the mark the server has recorded for the client.
	HeaderPeerMark = "FeedSync-Peer-Mark"
	// HeaderPeerUntil carries, in a push, the client's mark of the end of
	// the page it pushes: the server records it with the merge.
	HeaderPeerUntil = "FeedSync-Peer-Until"
)

// Defaults of the page bounds.
const (
	// DefaultPageItems bounds the items of a feed page (GET ?limit).
	DefaultPageItems = 5000
	// DefaultPageBytes bounds a feed page, or a summary page, in bytes.
	// A page is held in memory before it is sent, its token known only
	// at its end.
	DefaultPageBytes = 8 << 20
	// summaryLinesPerItem is how many summary lines a page holds for one
	// feed item: a line is about 1/20 of a typical item.
	summaryLinesPerItem = 10
)

func (h *Handler) pageItems() int { return orDefault(h.PageItems, DefaultPageItems) }

func (h *Handler) pageBytes() int64 { return orDefault(h.PageBytes, DefaultPageBytes) }

// pageLimit returns the limit a request asks for, bounded by max; 0 and
// an error for a malformed one.
func pageLimit(r *http.Request, max int) (int, error) {
	s := r.URL.Query().Get("limit")
	if s == "" {
		return max, nil
	}
	n, err := strconv.Atoi(s)
	if err != nil || n < 1 {
		return 0, fmt.Errorf("limit %.20q is not a positive integer", s)
	}
	return min(n, max), nil
}

// errPeerMark is a request whose peer mark is not the one the server has
// recorded for the peer: the server's knowledge of what the peer holds may
// be wrong (the client was restored, or the server was), and the client
// must start over by versions first (FS-KNOW-2).
type errPeerMark struct{ recorded string }

func (e *errPeerMark) Error() string {
	return "the server's record of this peer does not match its FeedSync-Peer-Mark (restored endpoint?): sync by versions first"
}

// checkPeerMark compares the peer mark r carries with the one recorded for
// peer in tx.
func checkPeerMark(ctx context.Context, tx store.Reader, peer string, r *http.Request) error {
	ps, err := tx.PeerState(ctx, peer)
	if err != nil {
		return err
	}
	if got := r.Header.Get(HeaderPeerMark); got != ps.Received {
		return &errPeerMark{recorded: ps.Received}
	}
	return nil
}

// consume merges the feed in reads for peer, as consumer.Consume does. A
// push that carries the client's marks (HeaderPeerUntil, from a named peer)
// is checked against the mark the server recorded (HeaderPeerMark), and the
// new mark is recorded in the merge's transaction.
func (h *Handler) consume(ctx context.Context, r *http.Request, in io.Reader, peer string, opts consumer.Options) (merge.Summary, error) {
	until := r.Header.Get(HeaderPeerUntil)
	if peer == "" || until == "" {
		return consumer.Consume(ctx, h.Store, in, opts)
	}
	tx, err := h.Store.Begin(ctx, true)
	if err != nil {
		return merge.Summary{}, err
	}
	defer tx.Rollback()
	if err := checkPeerMark(ctx, tx, peer, r); err != nil {
		return merge.Summary{}, err
	}
	sum, err := consumer.ConsumeTx(ctx, tx, feedsync.NewReaderOptions(in, opts.Reader), opts)
	if err != nil {
		return sum, err
	}
	ps, err := tx.PeerState(ctx, peer)
	if err != nil {
		return sum, err
	}
	ps.Received = until
	if err := tx.SetPeerState(ctx, peer, ps); err != nil {
		return sum, err
	}
	if err := ctx.Err(); err != nil {
		return sum, err
	}
	return sum, tx.Commit()
}

// requestBody receives the whole body of r, decompressed and bounded by
// Handler.MaxBodyBytes, before the caller begins any transaction (see
// spool); done releases it. On failure it has answered.
func (h *Handler) requestBody(w http.ResponseWriter, r *http.Request) (io.Reader, func(), bool) {
	body := http.MaxBytesReader(w, r.Body, h.maxBody())
	var in io.Reader = body
	switch enc := strings.ToLower(strings.TrimSpace(r.Header.Get("Content-Encoding"))); enc {
	case "", "identity":
	case "gzip", "x-gzip":
		zr, err := gzip.NewReader(body)
		if err != nil {
			writeProblem(w, http.StatusBadRequest, Problem{Error: "request body is not gzip: " + err.Error()})
			return nil, nil, false
		}
		defer zr.Close()
		in = &boundedReader{r: zr, n: h.maxBody()}
	default:
		writeProblem(w, http.StatusUnsupportedMediaType, Problem{Error: "Content-Encoding " + enc + " not supported (use gzip or none)"})
		return nil, nil, false
	}
	// Received in full before any transaction begins (spool.go).
	sp, err := spool(in, spoolMemory)
	if err != nil {
		h.lineFailure(w, r, "request", err)
		return nil, nil, false
	}
	return sp, func() { sp.Close() }, true
}

// lineFailure answers a failure to read a versions-first request body.
func (h *Handler) lineFailure(w http.ResponseWriter, r *http.Request, what string, err error) {
	var le *lineError
	var mbe *http.MaxBytesError
	var pm *errPeerMark
	code, p := http.StatusInternalServerError, Problem{Error: "internal error"}
	switch {
	case errors.As(err, &pm):
		w.Header().Set(HeaderPeerMark, pm.recorded)
		code, p = http.StatusConflict, Problem{Error: pm.Error()}
	case errors.As(err, &le):
		code, p = http.StatusBadRequest, Problem{Error: le.msg, Line: le.line}
	case errors.Is(err, errTooManyItems):
		code, p = http.StatusRequestEntityTooLarge, Problem{Error: fmt.Sprintf("more than %d lines in one request; send smaller pages", h.maxItems())}
	case errors.As(err, &mbe), errors.Is(err, errBodyTooLarge):
		code, p = http.StatusRequestEntityTooLarge, Problem{Error: "request body larger than " + strconv.FormatInt(h.maxBody(), 10) + " bytes; send smaller pages"}
	case errors.Is(err, gzip.ErrChecksum), errors.Is(err, gzip.ErrHeader), errors.Is(err, io.ErrUnexpectedEOF):
		code, p = http.StatusBadRequest, Problem{Error: "request body: " + err.Error()}
	case errors.Is(err, store.ErrClosed), r.Context().Err() != nil:
		code, p = http.StatusServiceUnavailable, Problem{Error: "the store is closed or the request was cancelled"}
	}
	level := slog.LevelWarn
	if code >= 500 {
		level = slog.LevelError
	}
	h.logger().LogAttrs(r.Context(), level, what+" failed", slog.String("collection", h.Name), slog.Int("status", code), slog.String("error", err.Error()))
	writeProblem(w, code, p)
}

// serveHeld answers POST ?versions: the client's summary of what it holds
// (one page of its items), answered with the lines of the items the server
// lacks or holds in an older or conflicting version (producer.Lacks). For
// a named peer the server records what the summary says the peer holds
// (FS-KNOW-1), and a summary without FeedSync-Peer-Mark starts over: the
// server forgets what it knew of the peer first.
func (h *Handler) serveHeld(w http.ResponseWriter, r *http.Request) {
	peer, err := h.peer(r)
	if err != nil {
		writeProblem(w, http.StatusBadRequest, Problem{Error: err.Error()})
		return
	}
	in, done, ok := h.requestBody(w, r)
	if !ok {
		return
	}
	defer done()
	ctx := r.Context()
	need, err := h.lacking(ctx, r, in, peer)
	if err != nil {
		h.lineFailure(w, r, "summary", err)
		return
	}
	w.Header().Set("Content-Type", mediaLines)
	w.Header().Set("Content-Length", strconv.Itoa(len(need)))
	w.WriteHeader(http.StatusOK)
	w.Write(need)
	h.logger().LogAttrs(ctx, slog.LevelInfo, "summary", slog.String("collection", h.Name), slog.String("peer", peer), slog.Int("bytes", len(need)))
}

// lacking reads a summary and returns the id lines of what the store lacks.
func (h *Handler) lacking(ctx context.Context, r *http.Request, in io.Reader, peer string) ([]byte, error) {
	tx, err := h.Store.Begin(ctx, peer != "")
	if err != nil {
		return nil, err
	}
	defer tx.Rollback()
	if peer != "" {
		if r.Header.Get(HeaderPeerMark) == "" {
			if err := tx.ForgetPeer(ctx, peer); err != nil {
				return nil, err
			}
		} else if err := checkPeerMark(ctx, tx, peer, r); err != nil {
			return nil, err
		}
	}
	var out []byte
	lacks := func(id string) { out = appendIDLine(out, id) }
	seen := map[string]bool{}
	sc := lines(in)
	var batch heldBatch
	for {
		line, err := sc.next()
		if err != nil {
			return nil, err
		}
		if line == nil {
			break
		}
		if len(seen) >= h.maxItems() {
			return nil, errTooManyItems
		}
		held, err := parseHeld(line, sc.n, h.Reader)
		if err != nil {
			return nil, err
		}
		if seen[held.ID] {
			return nil, &lineError{line: sc.n, msg: fmt.Sprintf("item %q summarised twice (FS-SYNC-2)", held.ID)}
		}
		seen[held.ID] = true
		if batch.add(held) == heldBatchSize {
			if err := batch.compare(ctx, tx, peer, lacks); err != nil {
				return nil, err
			}
		}
	}
	if err := batch.compare(ctx, tx, peer, lacks); err != nil {
		return nil, err
	}
	if peer == "" {
		return out, nil
	}
	if until := r.Header.Get(HeaderPeerUntil); until != "" && len(out) == 0 {
		// Nothing to push: the summary itself moves the peer's mark.
		ps, err := tx.PeerState(ctx, peer)
		if err != nil {
			return nil, err
		}
		ps.Received = until
		if err := tx.SetPeerState(ctx, peer, ps); err != nil {
			return nil, err
		}
	}
	return out, tx.Commit()
}

// heldBatchSize is how many summary lines are compared with the store
// at once: in a query or two (store.StatMany, store.SetPeerVersions), not
// two per line.
const heldBatchSize = 1024

// heldBatch is the summary lines read and not yet compared.
type heldBatch struct {
	held []producer.Held
	ids  []string
	vs   []store.Version
}

// add adds a line and returns how many wait.
func (b *heldBatch) add(h producer.Held) int {
	b.held = append(b.held, h)
	b.ids = append(b.ids, h.ID)
	return len(b.held)
}

// compare compares the lines of b with the store tx reads, calls lacks
// with the id of each line whose version the store lacks, in the order of
// the lines, and, for a named peer, records the versions the peer holds
// (FS-KNOW-1). b is empty afterwards. The server compares a client's
// summary with it, and the client the server's (Client.pullSummaryPage).
func (b *heldBatch) compare(ctx context.Context, tx store.Tx, peer string, lacks func(id string)) error {
	if len(b.held) == 0 {
		return nil
	}
	stats, err := store.StatMany(ctx, tx, b.ids)
	if err != nil {
		return err
	}
	b.vs = b.vs[:0]
	for i, held := range b.held {
		v := held.Version()
		b.vs = append(b.vs, v)
		lacking, err := lacksStat(ctx, tx, held, v, stats[i])
		if err != nil {
			return fmt.Errorf("item %q: %w", held.ID, err)
		}
		if lacking {
			lacks(held.ID)
		}
	}
	if peer != "" {
		if err := store.SetPeerVersions(ctx, tx, peer, b.ids, b.vs); err != nil {
			return err
		}
	}
	clear(b.held)
	b.held, b.ids = b.held[:0], b.ids[:0]
	return nil
}

// lacksStat reports whether the store lacks a version that held names,
// given v, the Version of held, and st, the stat of the item (st.ID ""
// for none): it compares the stat first (the same version: nothing to
// send) and decodes the item only when they differ.
func lacksStat(ctx context.Context, r store.ItemReader, held producer.Held, v store.Version, st store.ItemStat) (bool, error) {
	if st.ID == "" {
		return true, nil
	}
	if st.Version.Equal(v) {
		return false, nil
	}
	it, err := r.Get(ctx, held.ID)
	if err != nil {
		return false, err
	}
	return producer.Lacks(it, held), nil
}

// serveSummary answers GET ?versions: one page of the server's summary, the
// Held lines of its items changed after since, in change order. Headers:
// FeedSync-Token (the since of the next page) and FeedSync-More. A since
// this store cannot use gets 409 with FeedSync-Token-Rejected: start over
// without since.
func (h *Handler) serveSummary(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	limit, err := pageLimit(r, summaryLinesPerItem*h.pageItems())
	if err != nil {
		writeProblem(w, http.StatusBadRequest, Problem{Error: err.Error()})
		return
	}
	tx, err := h.Store.Begin(ctx, false)
	if err != nil {
		writeProblem(w, storeStatus(err), storeProblem(err, "cannot read the store"))
		return
	}
	defer tx.Rollback()
	since, reason, err := h.usableToken(ctx, tx, r.URL.Query().Get("since"))
	if err != nil {
		writeProblem(w, storeStatus(err), storeProblem(err, "cannot read the store"))
		return
	}
	if reason != nil {
		w.Header().Set(HeaderTokenRejected, headerSafe(reason.Error()))
		writeProblem(w, http.StatusConflict, Problem{Error: "since: " + reason.Error() + "; start the summary over without since"})
		return
	}
	last, err := tx.LastSeq(ctx)
	if err != nil {
		writeProblem(w, storeStatus(err), Problem{Error: "cannot read the store"})
		return
	}
	body, until, more, err := summaryPage(ctx, tx, h.Store.ID(), since, limit, h.pageBytes())
	if err != nil {
		h.logger().LogAttrs(ctx, slog.LevelError, "summary failed", slog.String("collection", h.Name), slog.String("error", err.Error()))
		writeProblem(w, storeStatus(err), storeProblem(err, "cannot read the store"))
		return
	}
	hdr := w.Header()
	hdr.Set(HeaderToken, until.String())
	hdr.Set(HeaderMore, strconv.FormatBool(more))
	tag := etag(h.Store.ID(), last, feedsync.FormatUnknown, r.URL.Query().Get("since"), "", "summary",
		strconv.Itoa(limit), strconv.FormatInt(h.pageBytes(), 10))
	hdr.Set("ETag", tag)
	hdr.Set("Cache-Control", "no-cache")
	hdr.Set("Vary", "Accept-Encoding, Authorization")
	if noneMatch(r.Header.Values("If-None-Match"), tag) {
		w.WriteHeader(http.StatusNotModified)
		return
	}
	hdr.Set("Content-Type", mediaLines)
	fw := newFeedWriter(w, acceptsGzip(r))
	if r.Method != http.MethodHead {
		fw.Write(body)
	}
	fw.Close()
}

// usableToken parses since ("" is the start of the store) and checks it
// against the store's history (FS-KNOW-2); reason says why it cannot be
// used.
func (h *Handler) usableToken(ctx context.Context, tx store.Reader, since string) (tok producer.Token, reason, err error) {
	if since == "" {
		return producer.Token{Store: h.Store.ID()}, nil, nil
	}
	tok, reason = producer.ParseToken(since, h.Store.ID())
	if reason != nil {
		return tok, reason, nil
	}
	if _, err := producer.CheckToken(ctx, tx, tok); err != nil {
		if errors.Is(err, producer.ErrBadToken) {
			return tok, err, nil
		}
		return tok, nil, err
	}
	return tok, nil, nil
}

// summaryPage returns the summary lines of the items changed after since,
// at most limit lines and about maxBytes bytes, the token of the last
// change covered and whether more follow.
func summaryPage(ctx context.Context, r store.Reader, storeID string, since producer.Token, limit int, maxBytes int64) ([]byte, producer.Token, bool, error) {
	last, err := r.LastSeq(ctx)
	if err != nil {
		return nil, producer.Token{}, false, err
	}
	var out []byte
	covered, n, more := since.Seq, 0, false
	for st, err := range r.Stats(ctx, since.Seq) {
		if err != nil {
			return nil, producer.Token{}, false, err
		}
		if st.Seq > last {
			break
		}
		if n >= limit || int64(len(out)) >= maxBytes {
			more = true
			break
		}
		held, ok := producer.HeldOfStat(st)
		if !ok {
			it, err := r.Get(ctx, st.ID)
			if err != nil {
				return nil, producer.Token{}, false, err
			}
			if it == nil {
				return nil, producer.Token{}, false, fmt.Errorf("item %q vanished under a read transaction", st.ID)
			}
			held = producer.HeldOf(it)
		}
		out = appendHeld(out, held)
		covered, n = st.Seq, n+1
	}
	if !more {
		covered = max(covered, last)
	}
	tok, err := producer.TokenAt(ctx, r, storeID, covered)
	return out, tok, more, err
}

// serveItems answers POST ?items: the id lines of the items the client
// lacks (after comparing the server's summary with what it holds), answered
// with a feed of those items.
func (h *Handler) serveItems(w http.ResponseWriter, r *http.Request) {
	f, _, err := requestFormat(r)
	if err != nil {
		writeProblem(w, http.StatusBadRequest, Problem{Error: "format " + r.URL.Query().Get("format") + ": " + err.Error()})
		return
	}
	in, done, ok := h.requestBody(w, r)
	if !ok {
		return
	}
	defer done()
	var ids []string
	seen := map[string]bool{}
	sc := lines(in)
	for {
		line, err := sc.next()
		if err == nil && line != nil && len(ids) >= h.maxItems() {
			err = errTooManyItems
		}
		if err != nil {
			h.lineFailure(w, r, "items", err)
			return
		}
		if line == nil {
			break
		}
		id, err := parseIDLine(line, sc.n)
		if err == nil && seen[id] {
			err = &lineError{line: sc.n, msg: fmt.Sprintf("item %q asked for twice", id)}
		}
		if err != nil {
			h.lineFailure(w, r, "items", err)
			return
		}
		seen[id] = true
		ids = append(ids, id)
	}
	ctx := r.Context()
	tx, err := h.Store.Begin(ctx, false)
	if err != nil {
		writeProblem(w, storeStatus(err), storeProblem(err, "cannot read the store"))
		return
	}
	defer tx.Rollback()
	w.Header().Set("Content-Type", contentType(f))
	fw := newFeedWriter(w, acceptsGzip(r))
	seq := func(yield func(string, error) bool) {
		for _, id := range ids {
			if !yield(id, nil) {
				return
			}
		}
	}
	if _, err := producer.Items(ctx, tx, h.Store.ID(), seq, fw, producer.Options{Format: f}); err != nil {
		if fw.discard() {
			w.Header().Del("Content-Type")
			writeProblem(w, storeStatus(err), Problem{Error: "cannot produce the items"})
			return
		}
		panic(http.ErrAbortHandler)
	}
	fw.Close()
}

// servePage answers GET with ?limit: one page of the feed after since,
// held in memory up to Handler.PageBytes and sent with its token
// (FeedSync-Token) and FeedSync-More. Unlike a GET without limit, a since
// the store cannot use gets 409 (FeedSync-Token-Rejected), not the
// complete feed: the client then syncs by versions first. A named peer
// whose FeedSync-Peer-Mark differs from the server's record gets the page
// without echo suppression (what the server knows of it may be wrong) and
// the recorded mark in FeedSync-Peer-Mark.
func (h *Handler) servePage(w http.ResponseWriter, r *http.Request, peer string, f feedsync.Format) feedResult {
	ctx := r.Context()
	limit, err := pageLimit(r, h.pageItems())
	if err != nil {
		writeProblem(w, http.StatusBadRequest, Problem{Error: err.Error()})
		return feedResult{status: http.StatusBadRequest}
	}
	tx, err := h.Store.Begin(ctx, false)
	if err != nil {
		writeProblem(w, storeStatus(err), storeProblem(err, "cannot read the store"))
		return feedResult{status: storeStatus(err)}
	}
	defer tx.Rollback()
	since := r.URL.Query().Get("since")
	tok, reason, err := h.usableToken(ctx, tx, since)
	if err == nil && reason == nil && peer != "" {
		if err = checkPeerMark(ctx, tx, peer, r); err != nil {
			var pm *errPeerMark
			if errors.As(err, &pm) {
				w.Header().Set(HeaderPeerMark, pm.recorded)
				peer, err = "", nil
			}
		}
	}
	if err != nil {
		writeProblem(w, storeStatus(err), storeProblem(err, "cannot read the store"))
		return feedResult{status: storeStatus(err)}
	}
	if reason != nil {
		w.Header().Set(HeaderTokenRejected, headerSafe(reason.Error()))
		if errors.Is(reason, producer.ErrForgotten) {
			w.Header().Set(HeaderForgotten, "true")
		}
		writeProblem(w, http.StatusConflict, Problem{Error: "since: " + reason.Error() + "; sync by versions first"})
		return feedResult{status: http.StatusConflict}
	}
	if f == feedsync.FormatUnknown {
		if _, f, err = tx.FeedInfo(ctx); err != nil {
			writeProblem(w, storeStatus(err), storeProblem(err, "cannot read the store"))
			return feedResult{status: storeStatus(err)}
		}
	}
	last, err := tx.LastSeq(ctx)
	if err != nil {
		writeProblem(w, storeStatus(err), Problem{Error: "cannot read the store"})
		return feedResult{status: storeStatus(err)}
	}
	buf := &pageBuffer{gzipOK: acceptsGzip(r) && r.Method != http.MethodHead}
	defer buf.release()
	opts := producer.Options{Format: f, Peer: peer, MaxItems: limit, MaxBytes: h.pageBytes()}
	kind := FeedIncremental
	if since == "" {
		kind, tok = FeedFull, producer.Token{}
	} else {
		opts.CompleteURL = h.completeURL(r)
	}
	res, err := producer.Page(ctx, tx, h.Store.ID(), tok, buf, opts)
	if err != nil {
		h.logger().LogAttrs(ctx, slog.LevelError, "feed failed", slog.String("collection", h.Name), slog.String("error", err.Error()))
		writeProblem(w, storeStatus(err), Problem{Error: "cannot produce the feed"})
		return feedResult{status: storeStatus(err)}
	}
	hdr := w.Header()
	hdr.Set(HeaderToken, res.Token.String())
	hdr.Set(HeaderFeed, kind)
	hdr.Set(HeaderMore, strconv.FormatBool(res.More))
	// The page is made of the store's content up to last and the request:
	// since, the peer (with the mark it was checked against: a page sent
	// without echo suppression differs) and the bounds.
	tag := etag(h.Store.ID(), last, f, since, peer, "page", r.Header.Get(HeaderPeerMark), hdr.Get(HeaderPeerMark),
		strconv.Itoa(limit), strconv.FormatInt(h.pageBytes(), 10))
	hdr.Set("ETag", tag)
	hdr.Set("Cache-Control", "no-cache")
	hdr.Set("Vary", "Accept, Accept-Encoding, Authorization, "+HeaderPeer+", "+HeaderPeerMark)
	if noneMatch(r.Header.Values("If-None-Match"), tag) {
		w.WriteHeader(http.StatusNotModified)
		h.Metrics.observeFeed(h.Name, "not_modified")
		return feedResult{status: http.StatusNotModified, kind: kind}
	}
	hdr.Set("Content-Type", contentType(f))
	buf.send(w, r)
	h.Metrics.observeFeed(h.Name, kind)
	return feedResult{status: http.StatusOK, kind: kind, bytes: buf.n}
}

// pageBuffer holds a feed page until its token is known, then sends it.
// When the response may be gzip-compressed, the page is compressed as it
// comes once it is larger than bufferLimit: the page is held compressed,
// not copied whole, then compressed.
type pageBuffer struct {
	gzipOK bool
	plain  bytes.Buffer
	zbuf   bytes.Buffer
	zw     *gzip.Writer
	n      int64 // page bytes, before compression
}

func (b *pageBuffer) Write(p []byte) (int, error) {
	b.n += int64(len(p))
	if b.zw != nil {
		return b.zw.Write(p)
	}
	b.plain.Write(p)
	if b.gzipOK && b.plain.Len() > bufferLimit {
		b.zw = gzipPool.Get().(*gzip.Writer)
		b.zw.Reset(&b.zbuf)
		_, err := b.zw.Write(b.plain.Bytes())
		b.plain = bytes.Buffer{}
		if err != nil {
			return 0, err
		}
	}
	return len(p), nil
}

// send sends the page as the body of a 200 (none for HEAD), its
// headers set but for the body's own.
func (b *pageBuffer) send(w http.ResponseWriter, r *http.Request) {
	if b.zw == nil {
		fw := newFeedWriter(w, b.gzipOK)
		if r.Method != http.MethodHead {
			fw.Write(b.plain.Bytes())
		}
		fw.Close()
		return
	}
	b.zw.Close() // into memory: no failure
	hdr := w.Header()
	hdr.Set("Content-Encoding", "gzip")
	hdr.Set("Content-Length", strconv.Itoa(b.zbuf.Len()))
	w.WriteHeader(http.StatusOK)
	w.Write(b.zbuf.Bytes())
}

// release returns the gzip writer to its pool.
func (b *pageBuffer) release() {
	if b.zw != nil {
		b.zw.Reset(io.Discard)
		gzipPool.Put(b.zw)
		b.zw = nil
	}
}
