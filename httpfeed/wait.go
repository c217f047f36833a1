package httpfeed

import (
	"context"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"net/url"
	"strconv"
	"time"

	"github.com/feedsync/go-feedsync/feedsync"
	"github.com/feedsync/go-feedsync/producer"
	"github.com/feedsync/go-feedsync/store"
)

// Long polls: GET ?since=TOKEN&wait=30s waits until the collection has a
// change after TOKEN that the requesting peer lacks, then answers as
// without wait; or answers 304 Not Modified when the wait is over first.
// It works on stores that say when changes commit (store.Notifier: every
// store of this module; the PostgreSQL store hears the commits of other
// servers sharing its database too).

// HeaderWait, in the answer to a request with a wait parameter, is the
// longest the server waits, in whole seconds: the wait asked for, capped
// by Handler.MaxWait. An answer without it comes from a server that does
// not wait (or not now, having Handler.MaxWaiters waiting already): the
// client should poll instead.
const HeaderWait = "FeedSync-Wait"

// Defaults of the long-poll settings of Handler.
const (
	// DefaultMaxWait caps the wait of a long poll.
	DefaultMaxWait = time.Minute
	// DefaultMaxWaiters bounds the requests waiting at once.
	DefaultMaxWaiters = 10_000
	// DefaultWait is the wait Client.Await asks for.
	DefaultWait = 30 * time.Second
)

func (h *Handler) maxWait() time.Duration {
	if h.MaxWait == 0 {
		return DefaultMaxWait
	}
	return h.MaxWait
}

func (h *Handler) maxWaiters() int64 { return int64(orDefault(h.MaxWaiters, DefaultMaxWaiters)) }

// parseWait reads the wait parameter: a Go duration ("30s") or a number of
// seconds ("30").
func parseWait(s string) (time.Duration, error) {
	d, err := time.ParseDuration(s)
	if err != nil {
		n, nerr := strconv.ParseUint(s, 10, 32)
		if nerr != nil {
			return 0, fmt.Errorf("wait %.32q is not a duration (30s) or a number of seconds", s)
		}
		d = time.Duration(n) * time.Second
	}
	if d < 0 {
		return 0, fmt.Errorf("wait %.32q is negative", s)
	}
	return d, nil
}

// awaitChange holds a request with a wait parameter until the store has
// a change after since that peer lacks, and reports whether it has one
// (false: the wait is over, the client went away or the server stops).
// Requests that cannot wait, for a complete feed or with a token of
// another store, pass at once.
func (h *Handler) awaitChange(ctx context.Context, w http.ResponseWriter, since, peer string, wait time.Duration) bool {
	n, ok := h.Store.(store.Notifier)
	limit := h.maxWait()
	if !ok || limit < 0 {
		return true
	}
	if h.waiting.Add(1) > h.maxWaiters() {
		h.waiting.Add(-1)
		return true
	}
	defer h.waiting.Add(-1)
	wait = min(wait, limit)
	w.Header().Set(HeaderWait, strconv.FormatInt(int64((wait+time.Second-1)/time.Second), 10))
	if since == "" || wait <= 0 {
		return true
	}
	tok, err := producer.ParseToken(since, h.Store.ID())
	if err != nil {
		return true // writeFeed sends the complete feed and says why
	}
	h.Metrics.addWaiting(h.Name, 1)
	defer h.Metrics.addWaiting(h.Name, -1)
	timer := time.NewTimer(wait)
	defer timer.Stop()
	after := tok.Seq
	for {
		// Changed before reading: a commit in between closes ch.
		ch := n.Changed()
		changed, upTo, err := h.changedFor(ctx, ch, after, peer)
		switch {
		case ctx.Err() != nil:
			// The client went away (a peer stops waiting when a change
			// of its own comes): no one to tell, and no server error.
			return false
		case err != nil || changed:
			return true // on an error, writeFeed fails and says why
		}
		after = upTo
		select {
		case <-ch:
		case <-timer.C:
			return false
		case <-ctx.Done():
			return false
		case <-h.Stop:
			return false
		}
	}
}

// changedFor reports whether the changes after sequence number after hold
// one that peer lacks (the feed for peer would not be empty, echo
// suppression as producer.Options.Peer), and the sequence number up to
// which it looked: the changes up to it need no second look, since an item
// that changes again takes a new, higher number. A token ahead of the store
// (a store restored from an older copy) counts as a change, for writeFeed
// to answer with the complete feed. changed is the store's Changed channel,
// taken before: when the head the handler remembers is current and at
// after, nothing changed, and no transaction is needed (head.go); so most
// waiters never touch the store, and their goroutines' stacks stay small.
// A read that finds nothing new remembers the head it read.
func (h *Handler) changedFor(ctx context.Context, changed <-chan struct{}, after int64, peer string) (bool, int64, error) {
	if hd := h.head.Load(); hd.current(h.headAge()) && hd.last == after {
		return false, after, nil
	}
	tx, err := h.Store.Begin(ctx, false)
	if err != nil {
		return false, after, err
	}
	defer tx.Rollback()
	last, err := tx.LastSeq(ctx)
	switch {
	case err != nil:
		return false, after, err
	case last == after:
		if tok, err := producer.TokenAt(ctx, tx, h.Store.ID(), last); err == nil {
			h.setHead(changed, last, tok.String(), feedsync.FormatUnknown)
		}
		return false, after, nil
	case last < after || peer == "":
		return true, last, nil
	}
	for st, err := range tx.Stats(ctx, after) {
		if err != nil {
			return false, after, err
		}
		held, ok, err := tx.PeerVersion(ctx, peer, st.ID)
		if err != nil {
			return false, after, err
		}
		if !ok || !held.Equal(st.Version) {
			return true, last, nil
		}
	}
	return false, last, nil
}

// Wait asks the server to answer once the collection has changes after
// since that this endpoint lacks, or after wait: a long poll (a HEAD
// request with a wait parameter, so no feed travels; Sync fetches it).
// changed reports a change. supported is false when the server answered
// without waiting (it does not offer long polls, or not now): poll
// instead.
func (c *Client) Wait(ctx context.Context, since string, wait time.Duration) (changed, supported bool, err error) {
	req, err := c.newRequest(ctx, http.MethodHead, since, true, nil)
	if err != nil {
		return false, false, err
	}
	q := req.URL.Query()
	q.Set("wait", strconv.FormatInt(int64((wait+time.Second-1)/time.Second), 10))
	req.URL.RawQuery = q.Encode()
	resp, err := c.http().Do(req)
	if err != nil {
		return false, false, fmt.Errorf("httpfeed: wait for changes at %s: %w", redactURL(req.URL), err)
	}
	io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10))
	resp.Body.Close()
	supported = resp.Header.Get(HeaderWait) != ""
	switch {
	case resp.StatusCode == http.StatusNotModified:
		return false, supported, nil
	case resp.StatusCode < 200 || resp.StatusCode > 299:
		return false, supported, &StatusError{StatusCode: resp.StatusCode, Problem: Problem{Error: "long poll: " + http.StatusText(resp.StatusCode)}}
	}
	return true, supported, nil
}

// Changes returns st's Changed channel (store.Notifier), or nil when st
// does not say when changes commit. Take it before a Sync and give it to
// Await after: a local change committed while the Sync ran then ends the
// wait at once instead of going unnoticed.
func Changes(st store.Store) <-chan struct{} {
	if n, ok := st.(store.Notifier); ok {
		return n.Changed()
	}
	return nil
}

// Await waits for a reason to sync again, for at most max: the collection
// has changes after since for this endpoint (a long poll, when the server
// offers it; since is the token Sync returned), or local is closed (from
// Changes, taken before the Sync; nil: no local notifications). Against a
// server that does not offer long polls it waits max: polling. When the
// long poll fails it returns after a second or two, for the next Sync to
// say what is wrong. It returns at once when ctx ends.
func (c *Client) Await(ctx context.Context, local <-chan struct{}, since string, max time.Duration) {
	ctx, cancel := context.WithTimeout(ctx, max)
	defer cancel()
	remote := make(chan struct{}, 1)
	if since != "" {
		go func() {
			if c.longPoll(ctx, since) {
				remote <- struct{}{}
			}
		}()
	}
	select {
	case <-ctx.Done():
	case <-local:
	case <-remote:
	}
}

// longPoll waits at the server until a change, ctx's end or a failure;
// it reports whether to sync now.
func (c *Client) longPoll(ctx context.Context, since string) bool {
	for {
		wait := DefaultWait
		if d, ok := ctx.Deadline(); ok {
			wait = min(wait, time.Until(d))
		}
		if wait < time.Second {
			<-ctx.Done()
			return false
		}
		changed, supported, err := c.Wait(ctx, since, wait)
		switch {
		case ctx.Err() != nil:
			return false
		case err != nil:
			// Let the next Sync report it, after a pause with jitter so
			// that a failing server is not hammered.
			t := time.NewTimer(time.Second + rand.N(time.Second))
			defer t.Stop()
			select {
			case <-ctx.Done():
				return false
			case <-t.C:
				return true
			}
		case !supported:
			<-ctx.Done()
			return false
		case changed:
			return true
		}
	}
}

// serveWait runs the long poll of a GET or HEAD with a wait parameter in
// its query q; it reports whether to go on and send the feed (false: the
// answer, 304 or an error, has been sent).
func (h *Handler) serveWait(w http.ResponseWriter, r *http.Request, q url.Values, since, peer string) bool {
	if !q.Has("wait") {
		return true
	}
	d, err := parseWait(q.Get("wait"))
	if err != nil {
		writeProblem(w, http.StatusBadRequest, Problem{Error: err.Error()})
		return false
	}
	if h.awaitChange(r.Context(), w, since, peer, d) {
		return true
	}
	w.Header().Set("Cache-Control", "no-cache")
	w.WriteHeader(http.StatusNotModified)
	h.Metrics.observeFeed(h.Name, "not_modified")
	return false
}
