package httpfeed

import (
	"net/http"
	"strconv"
	"sync"
	"time"

	"github.com/feedsync/go-feedsync/feedsync"
)

// Polls that are up to date (GET ?since=TOKEN where TOKEN is the store's
// latest) are most of a server's requests, and their answer is always
// the same empty feed, or 304. The handler remembers the head of the
// store, its latest sequence number and token, from the last feed it
// read, together with the store's Changed channel (store.Notifier) taken
// before that read: while the channel is open no change has committed
// through the store since, and a poll from the head is answered without
// a read transaction, with the empty feed written for the first such
// poll. A store that does not say when changes commit gets no such
// answers; and the head is read again at least every headMaxAge, which
// bounds how late a change committed by another process that the store
// does not hear of (a second writer of a SQLite file) shows: a poll
// answered from the head is one that came up to headMaxAge earlier.

// headMaxAge is the longest a head is used.
const headMaxAge = 100 * time.Millisecond

// maxHeadBodies bounds the empty feeds kept per head: one per format and
// complete URL (the Host a client names).
const maxHeadBodies = 16

// head is the store's head as of read.
type head struct {
	changed <-chan struct{}
	read    time.Time
	last    int64
	token   string          // the token of last
	format  feedsync.Format // the store's own; FormatUnknown when not read

	mu     sync.Mutex
	bodies map[headKey][]byte // empty incremental feeds from token
}

type headKey struct {
	format      feedsync.Format
	completeURL string
}

// current reports whether the head is still the store's, read at most
// maxAge ago.
func (hd *head) current(maxAge time.Duration) bool {
	if hd == nil || time.Since(hd.read) >= maxAge {
		return false
	}
	select {
	case <-hd.changed:
		return false
	default:
		return true
	}
}

func (hd *head) body(k headKey) []byte {
	hd.mu.Lock()
	defer hd.mu.Unlock()
	return hd.bodies[k]
}

func (hd *head) setBody(k headKey, b []byte) {
	hd.mu.Lock()
	defer hd.mu.Unlock()
	if hd.bodies == nil {
		hd.bodies = map[headKey][]byte{}
	}
	if len(hd.bodies) < maxHeadBodies {
		hd.bodies[k] = b
	}
}

func (h *Handler) headAge() time.Duration {
	if h.headMaxAge != 0 {
		return h.headMaxAge
	}
	return headMaxAge
}

// setHead records the head read in a transaction begun after Changes
// returned changed; format is the store's, or FormatUnknown when not read.
func (h *Handler) setHead(changed <-chan struct{}, last int64, token string, format feedsync.Format) {
	if changed == nil {
		return
	}
	if old := h.head.Load(); old.current(h.headAge()) && old.last == last && old.token == token && (old.format == format || format == feedsync.FormatUnknown) {
		return // keep its bodies
	}
	h.head.Store(&head{changed: changed, read: time.Now(), last: last, token: token, format: format})
}

// serveHead answers a GET or HEAD from the head of the store when since is
// its token and the head is current; it reports whether it answered. The
// answer is the one writeFeed gives: an empty incremental feed (once
// writeFeed wrote it for this head), or 304 to a matching If-None-Match.
func (h *Handler) serveHead(w http.ResponseWriter, r *http.Request, since, peer string, f feedsync.Format) (feedResult, bool) {
	hd := h.head.Load()
	if since == "" || !hd.current(h.headAge()) || since != hd.token || (h.Acknowledge && peer != "") {
		return feedResult{}, false
	}
	if f == feedsync.FormatUnknown {
		if f = hd.format; f == feedsync.FormatUnknown {
			return feedResult{}, false
		}
	}
	tag := etag(h.Store.ID(), hd.last, f, since, peer)
	hdr := w.Header()
	if noneMatch(r.Header.Values("If-None-Match"), tag) {
		setFeedHeaders(hdr, hd.token, tag)
		w.WriteHeader(http.StatusNotModified)
		h.Metrics.observeFeed(h.Name, "not_modified")
		return feedResult{status: http.StatusNotModified, kind: FeedIncremental}, true
	}
	body := hd.body(headKey{f, h.completeURL(r)})
	if body == nil {
		return feedResult{}, false
	}
	setFeedHeaders(hdr, hd.token, tag)
	hdr.Set("Content-Type", contentType(f))
	hdr.Set("Content-Length", strconv.Itoa(len(body)))
	w.WriteHeader(http.StatusOK)
	if r.Method != http.MethodHead {
		w.Write(body)
	}
	h.Metrics.observeFeed(h.Name, FeedIncremental)
	return feedResult{status: http.StatusOK, kind: FeedIncremental, bytes: int64(len(body))}, true
}

// setFeedHeaders sets the headers of an incremental feed answer that
// writeFeed and serveHead share.
func setFeedHeaders(hdr http.Header, token, tag string) {
	hdr.Set(HeaderToken, token)
	hdr.Set(HeaderFeed, FeedIncremental)
	hdr.Set("ETag", tag)
	hdr.Set("Cache-Control", "no-cache")
	hdr.Set("Vary", varyFeed)
}
