package httpfeed

import (
	"context"
	"fmt"
	"mime"
	"net/http"
	"strings"
	"time"

	"github.com/feedsync/go-feedsync/producer"
	"github.com/feedsync/go-feedsync/store"
)

// Change notifications as a stream: GET ?since=TOKEN with "Accept:
// text/event-stream" answers with a server-sent event stream (the
// EventSource format) that sends an event each time the collection has
// changes after the last one it announced that the requesting peer lacks:
//
//	id: TOKEN
//	event: change
//	data: TOKEN
//
// TOKEN is the token of the store's latest change; the client fetches the
// changes after the token of the last feed it merged (GET ?since=…), not
// after the event's. Without since, or with a token the store cannot use,
// the first event comes at once. A reconnecting EventSource sends the last
// event's id as Last-Event-ID, which stands for since. A comment line goes
// out every EventsHeartbeat, so that proxies keep the stream and a client
// that went away is noticed. Streams count among the waiting requests
// (Handler.MaxWaiters); a server that does not wait (Handler.MaxWait
// negative, or a store that does not say when changes commit) answers
// with the feed instead, as to a poll.

// EventsHeartbeat is how often an event stream sends a comment line.
const EventsHeartbeat = 15 * time.Second

// wantsEvents reports whether r asks for an event stream.
func wantsEvents(r *http.Request) bool {
	for _, v := range r.Header.Values("Accept") {
		for part := range strings.SplitSeq(v, ",") {
			if mt, _, err := mime.ParseMediaType(strings.TrimSpace(part)); err == nil && mt == "text/event-stream" {
				return true
			}
		}
	}
	return false
}

// serveEvents answers r with an event stream when it asks for one and the
// handler can wait; it reports whether it did.
func (h *Handler) serveEvents(w http.ResponseWriter, r *http.Request, since, peer string) bool {
	n, ok := h.Store.(store.Notifier)
	if !ok || h.maxWait() < 0 || r.Method != http.MethodGet || !wantsEvents(r) {
		return false
	}
	if h.waiting.Add(1) > h.maxWaiters() {
		h.waiting.Add(-1)
		return false
	}
	defer h.waiting.Add(-1)
	h.Metrics.addWaiting(h.Name, 1)
	defer h.Metrics.addWaiting(h.Name, -1)
	if id := r.Header.Get("Last-Event-ID"); id != "" {
		since = id
	}
	ctx := r.Context()
	after := int64(-1) // announce at once
	if tok, err := producer.ParseToken(since, h.Store.ID()); err == nil {
		after = tok.Seq
	}
	hdr := w.Header()
	hdr.Set("Content-Type", "text/event-stream")
	hdr.Set("Cache-Control", "no-cache")
	hdr.Set("X-Accel-Buffering", "no") // proxies: do not buffer
	rc := http.NewResponseController(w)
	write := func(s string) error {
		rc.SetWriteDeadline(time.Now().Add(2 * EventsHeartbeat))
		if _, err := fmt.Fprint(w, s); err != nil {
			return err
		}
		return rc.Flush()
	}
	if write(": feedsync change notifications\n\n") != nil {
		return true
	}
	heartbeat := time.NewTicker(EventsHeartbeat)
	defer heartbeat.Stop()
	for {
		ch := n.Changed() // before reading: a commit in between closes it
		var changed bool
		var upTo int64
		var err error
		if after < 0 {
			changed, upTo, err = true, 0, nil
		} else {
			changed, upTo, err = h.changedFor(ctx, ch, after, peer)
		}
		if err == nil && changed {
			var tok string
			if tok, upTo, err = h.latestToken(ctx); err == nil {
				err = write("id: " + tok + "\nevent: change\ndata: " + tok + "\n\n")
			}
		}
		if err != nil {
			if ctx.Err() == nil {
				h.logger().Warn("event stream ended", "collection", h.Name, "peer", peer, "error", err)
			}
			return true
		}
		after = upTo
		select {
		case <-ch:
		case <-heartbeat.C:
			if write(": heartbeat\n\n") != nil {
				return true
			}
		case <-ctx.Done():
			return true
		case <-h.Stop:
			return true
		}
	}
}

// latestToken returns the token of the store's latest change and its
// sequence number.
func (h *Handler) latestToken(ctx context.Context) (string, int64, error) {
	tx, err := h.Store.Begin(ctx, false)
	if err != nil {
		return "", 0, err
	}
	defer tx.Rollback()
	last, err := tx.LastSeq(ctx)
	if err != nil {
		return "", 0, err
	}
	tok, err := producer.TokenAt(ctx, tx, h.Store.ID(), last)
	if err != nil {
		return "", 0, err
	}
	return tok.String(), last, nil
}
