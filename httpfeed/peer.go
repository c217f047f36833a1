package httpfeed

import (
	"context"
	"errors"
	"log/slog"
	"math/rand/v2"
	"net/http"
	"net/url"
	"strconv"
	"sync"
	"time"

	"github.com/feedsync/go-feedsync/store"
)

// Defaults of Peer.
const (
	// DefaultPeerInterval is the longest time between two syncs with a
	// peer: how often a server that does not long-poll is polled.
	DefaultPeerInterval = 30 * time.Second
	// DefaultPeerMaxBackoff is the longest wait after failed syncs.
	DefaultPeerMaxBackoff = time.Minute
	// peerMinGap is the shortest time between the starts of two syncs
	// with one peer: changes that come quicker are taken together, and a
	// server that wakes its long polls for nothing cannot make the loop
	// spin.
	peerMinGap = 100 * time.Millisecond
)

// Peer keeps a local store in sync with a remote collection continuously,
// with the protocol and the client of a single sync (Client.Sync): it
// syncs, waits for a change on either side (Client.Await: a long poll at
// the server, or a commit to the local store), and syncs again. After a
// failure it waits, twice as long after each further one up to MaxBackoff,
// with jitter so that servers that failed together do not retry together;
// a 429 or 503 answer's Retry-After is a lower bound for that wait. A peer
// that was down is caught up with when it answers again: Sync resumes from
// the marks it keeps in the local store.
//
// Servers whose stores sync with each other so (a server farm) may form
// any graph, loops included: what a store received from a peer is not
// sent back to it (echo suppression), and a version a server already
// holds changes nothing there, so a change goes round a loop at most once.
//
// Client and Store are required; the zero value of every other field is
// its default. Fields must not change once Run is called.
type Peer struct {
	// Client talks to the remote collection. Its Peer names this server
	// there; its Remote (default: the URL) names the remote in Store.
	Client *Client
	// Store is the local store.
	Store store.Store
	// Direction is the way changes go. Default: Both.
	Direction Direction
	// Collection names the local collection, in Status and metrics.
	// Default: "".
	Collection string
	// Interval is the longest wait between two syncs. Default:
	// DefaultPeerInterval.
	Interval time.Duration
	// MaxBackoff is the longest wait after failures. Default:
	// DefaultPeerMaxBackoff.
	MaxBackoff time.Duration
	// Logger receives a record per failed sync and per recovery.
	// Default: nil, no logs.
	Logger *slog.Logger
	// Sync is the sync itself. Default: Client.Sync(ctx, Store,
	// Direction).
	Sync func(ctx context.Context) (SyncResult, error)

	mu     sync.Mutex
	status PeerStatus
	// sentSeq is the local store's LastSeq when the last successful sync
	// began: every change up to it was offered to the peer.
	sentSeq int64
}

// PeerStatus is the state of a Peer, as GET / of a server and its metrics
// show it.
type PeerStatus struct {
	// URL is the peer's collection URL, without user info.
	URL string `json:"url"`
	// Collection is the local collection.
	Collection string `json:"collection"`
	// State is "starting", "syncing", "waiting" (for a change), "retrying"
	// (after a failure) or "stopped".
	State string `json:"state"`
	// LastSync is the end of the last successful sync; zero before one.
	LastSync time.Time `json:"last_sync,omitzero"`
	// Syncs counts the successful syncs, Errors the failed ones.
	Syncs  uint64 `json:"syncs"`
	Errors uint64 `json:"errors"`
	// LastError is the error of the last failed sync, while no sync
	// succeeded since; LastErrorAt is when it failed.
	LastError   string    `json:"last_error,omitempty"`
	LastErrorAt time.Time `json:"last_error_at,omitzero"`
	// ItemsSent and ItemsReceived count the items pushed to the peer and
	// the changes its feeds brought (added, updated, deleted and
	// conflicting items).
	ItemsSent     uint64 `json:"items_sent"`
	ItemsReceived uint64 `json:"items_received"`
	// ItemsRejected counts the items pushed that the peer rejected (a
	// peer that demands tokens rejects the edits of this server's clients
	// unless it lets this server relay, FS-TRUST-1); LastRejection is the
	// reason of the latest.
	ItemsRejected uint64 `json:"items_rejected"`
	LastRejection string `json:"last_rejection,omitempty"`
	// Lag counts the local changes made since the last successful sync
	// began, which the peer may not have yet (an upper bound: it
	// includes changes that came from the peer itself).
	Lag int64 `json:"lag"`
}

// Status returns the peer's state now.
func (p *Peer) Status() PeerStatus {
	p.mu.Lock()
	st, sent := p.status, p.sentSeq
	p.mu.Unlock()
	if st.State == "" {
		st.State = "starting"
	}
	st.URL = p.url()
	st.Collection = p.Collection
	if !st.LastSync.IsZero() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		if last, err := lastSeqOf(ctx, p.Store); err == nil {
			st.Lag = max(last-sent, 0)
		}
	}
	return st
}

func (p *Peer) url() string {
	u, err := url.Parse(p.Client.URL)
	if err != nil {
		return p.Client.URL
	}
	u.User = nil
	return u.String()
}

func (p *Peer) setState(s string) {
	p.mu.Lock()
	p.status.State = s
	p.mu.Unlock()
}

// Run syncs until ctx ends, then returns nil.
func (p *Peer) Run(ctx context.Context) error {
	interval := cmpOr(p.Interval, DefaultPeerInterval)
	limit := cmpOr(p.MaxBackoff, DefaultPeerMaxBackoff)
	defer p.setState("stopped")
	failures := 0
	for ctx.Err() == nil {
		start := time.Now()
		p.setState("syncing")
		local := Changes(p.Store) // before the sync: see Changes
		res, err := p.round(ctx)
		if ctx.Err() != nil {
			return nil
		}
		var wait time.Duration
		if err != nil {
			failures++
			wait = backoff(failures, limit, err)
			p.logger().Warn("peer sync failed", "peer", p.url(), "collection", p.Collection, "error", err, "retry_in", wait)
			p.setState("retrying")
		} else {
			if failures > 0 {
				p.logger().Info("peer sync works again", "peer", p.url(), "collection", p.Collection, "failures", failures)
			}
			failures = 0
			p.setState("waiting")
			p.Client.Await(ctx, local, res.Token, interval)
			wait = peerMinGap - time.Since(start)
		}
		if wait > 0 {
			t := time.NewTimer(wait)
			select {
			case <-ctx.Done():
				t.Stop()
			case <-t.C:
			}
		}
	}
	return nil
}

// round is one sync, with its bookkeeping.
func (p *Peer) round(ctx context.Context) (SyncResult, error) {
	before, err := lastSeqOf(ctx, p.Store)
	var res SyncResult
	if err == nil {
		if p.Sync != nil {
			res, err = p.Sync(ctx)
		} else {
			res, err = p.Client.Sync(ctx, p.Store, p.Direction)
		}
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	if err != nil {
		if ctx.Err() == nil {
			p.status.Errors++
			p.status.LastError, p.status.LastErrorAt = err.Error(), time.Now()
		}
		return res, err
	}
	p.status.Syncs++
	p.status.LastSync = time.Now()
	p.status.LastError, p.status.LastErrorAt = "", time.Time{}
	p.status.ItemsSent += uint64(res.PushedItems)
	if res.Pushed != nil && res.Pushed.Rejected > 0 {
		p.status.ItemsRejected += uint64(res.Pushed.Rejected)
		why := ""
		if len(res.Pushed.Rejections) > 0 {
			why = res.Pushed.Rejections[0].Error()
		}
		p.status.LastRejection = why
		p.logger().Warn("peer rejected items", "peer", p.url(), "collection", p.Collection, "rejected", res.Pushed.Rejected, "first", why)
	}
	r := res.Pulled
	p.status.ItemsReceived += uint64(r.Added + r.Updated + r.Deleted + r.Conflicts)
	p.sentSeq = before
	return res, nil
}

func (p *Peer) logger() *slog.Logger {
	if p.Logger == nil {
		return discardLogger
	}
	return p.Logger
}

// lastSeqOf reads the LastSeq of st.
func lastSeqOf(ctx context.Context, st store.Store) (int64, error) {
	tx, err := st.Begin(ctx, false)
	if err != nil {
		return 0, err
	}
	defer tx.Rollback()
	return tx.LastSeq(ctx)
}

func cmpOr(d, def time.Duration) time.Duration {
	if d <= 0 {
		return def
	}
	return d
}

// backoff is the wait after the failures-th failure in a row, err: from
// a second, doubled at each failure up to limit, with up to a quarter of
// jitter taken off; at least the Retry-After of a 429 or 503 answer.
func backoff(failures int, limit time.Duration, err error) time.Duration {
	d := min(time.Second<<min(failures-1, 20), limit)
	d -= rand.N(d/4 + 1)
	var se *StatusError
	if errors.As(err, &se) && (se.StatusCode == http.StatusTooManyRequests || se.StatusCode == http.StatusServiceUnavailable) {
		d = max(d, se.RetryAfter)
	}
	return d
}

// retryAfter reads a Retry-After header: seconds or an HTTP date; 0 when
// absent or unreadable. It is capped at an hour, so that a confused server
// cannot stop a peer for good.
func retryAfter(v string, now time.Time) time.Duration {
	if v == "" {
		return 0
	}
	var d time.Duration
	if n, err := strconv.ParseUint(v, 10, 32); err == nil {
		d = time.Duration(n) * time.Second
	} else if t, err := http.ParseTime(v); err == nil {
		d = t.Sub(now)
	}
	return min(max(d, 0), time.Hour)
}
