package httpfeed

import (
	"compress/gzip"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/feedsync/go-feedsync/consumer"
	"github.com/feedsync/go-feedsync/feedsync"
	"github.com/feedsync/go-feedsync/merge"
	"github.com/feedsync/go-feedsync/producer"
	"github.com/feedsync/go-feedsync/store"
)

// DefaultTimeout bounds each request of a Client without its own HTTP
// client: a whole feed, sent or received.
const DefaultTimeout = 10 * time.Minute

// defaultHTTP is the HTTP client of a Client without one.
var defaultHTTP = &http.Client{Timeout: DefaultTimeout}

// Client is the other end of a Handler: it reads and posts feeds, and
// syncs a local store with the remote collection (Sync).
//
// URL is required; the zero value of every other field is its default. A
// Client is safe for concurrent use if its fields do not change.
type Client struct {
	// URL is the collection's address, for example
	// "http://127.0.0.1:8080/tasks".
	URL string
	// HTTP sends the requests. Default: a client whose requests time out
	// after DefaultTimeout.
	HTTP *http.Client
	// Token is a bearer token sent with every request (BearerAuth).
	// Default: "", none.
	Token string
	// Peer is this endpoint's name at the server, sent as the FeedSync-Peer
	// header: the server records what this endpoint sent under it, and
	// leaves it out of the feeds it sends back (echo suppression). A
	// server that authenticates requests uses the principal instead. Use
	// this endpoint's own identifier (its by). Default: "", no
	// suppression.
	Peer string
	// Remote names the server in the local store's knowledge
	// (store.PeerReader): what it sent, and how far Sync has pushed and
	// pulled. Default: URL without user info, query and fragment, and
	// with "/" for an empty path.
	Remote string
	// Format is the format of the feeds pushed and pulled. Default: the
	// local store's format, else the server's.
	Format feedsync.Format
	// Policy and Stamp resolve conflicts of local merges automatically
	// (consumer.Options). Default: keep them (FS-CONFLICT-2).
	Policy feedsync.ConflictPolicy
	Stamp  feedsync.Stamp
	// Reader bounds the feeds pulled (FS-ROBUST-4). Default: the feedsync
	// defaults.
	Reader feedsync.ReaderOptions
	// NoGzip sends feeds uncompressed. Default: false, gzip.
	NoGzip bool
	// OnItem, if set, is called after each pulled item is merged with
	// the number of items and bytes received so far, for progress
	// reports. Default: nil.
	OnItem func(items int, bytes int64)
}

func (c *Client) http() *http.Client {
	if c.HTTP == nil {
		return defaultHTTP
	}
	return c.HTTP
}

// remote returns the name of the server in the local store.
func (c *Client) remote() string {
	if c.Remote != "" {
		return c.Remote
	}
	u, err := url.Parse(c.URL)
	if err != nil {
		return c.URL
	}
	u.User, u.RawQuery, u.ForceQuery, u.Fragment, u.RawFragment = nil, "", false, "", ""
	if u.Path == "" {
		u.Path, u.RawPath = "/", ""
	}
	return u.String()
}

// StatusError is a response with an error status. Problem holds the
// server's JSON error body, or the start of its text.
type StatusError struct {
	StatusCode int
	Problem    Problem
}

func (e *StatusError) Error() string {
	msg := fmt.Sprintf("httpfeed: server answered %d %s", e.StatusCode, http.StatusText(e.StatusCode))
	if e.Problem.Error != "" {
		msg += ": " + e.Problem.Error
	}
	if e.Problem.Item != "" {
		msg += fmt.Sprintf(" (item %q", e.Problem.Item)
		if e.Problem.Line > 0 {
			msg += fmt.Sprintf(", line %d", e.Problem.Line)
		}
		msg += ")"
	} else if e.Problem.Line > 0 {
		msg += fmt.Sprintf(" (line %d)", e.Problem.Line)
	}
	return msg
}

// Response is a server's answer to Get or Post.
type Response struct {
	// Body is the feed, for a feed response; the caller must close it.
	// It is nil for a 304 and for a JSON summary.
	Body io.ReadCloser
	// Format is the format of the feed in Body, by its Content-Type;
	// FormatUnknown when the server did not say.
	Format feedsync.Format
	// NotModified reports a 304 answer to Get with an ETag.
	NotModified bool
	// Token is the FeedSync-Token header: the since of the next request.
	// The feed's sx:sharing until says the same or better.
	Token string
	// Kind is FeedFull or FeedIncremental.
	Kind string
	// TokenRejected says why the server did not use the since sent.
	TokenRejected string
	// Forgotten reports that the since sent predates the server's
	// forgotten horizon (HeaderForgotten, FS-RETAIN-2).
	Forgotten bool
	// ETag identifies the feed, for the next Get.
	ETag string
	// Summary is the server's merge of a Post, nil for a Get.
	Summary *Summary
}

// Get asks for the feed after since ("" for the complete feed). With
// etag, the ETag of an earlier answer to the same request, the server
// answers NotModified while nothing changed.
func (c *Client) Get(ctx context.Context, since, etag string) (*Response, error) {
	req, err := c.newRequest(ctx, http.MethodGet, since, true, nil)
	if err != nil {
		return nil, err
	}
	if etag != "" {
		req.Header.Set("If-None-Match", etag)
	}
	return c.do(req)
}

// Post sends the feed body reads for the server to merge. With wantFeed,
// the response's Body is the server's feed after since (a feed of the
// changes this endpoint has not seen, without what it just sent), and
// Summary is read from its header; otherwise Body is nil and Summary is the
// JSON answer. body is compressed on the way unless NoGzip is set.
func (c *Client) Post(ctx context.Context, body io.Reader, since string, wantFeed bool) (*Response, error) {
	var pr *io.PipeReader
	if !c.NoGzip {
		var pw *io.PipeWriter
		pr, pw = io.Pipe()
		go func(src io.Reader) {
			zw := gzip.NewWriter(pw)
			_, err := io.Copy(zw, src)
			if err == nil {
				err = zw.Close()
			}
			pw.CloseWithError(err)
		}(body)
		body = pr
	}
	req, err := c.newRequest(ctx, http.MethodPost, since, wantFeed, body)
	if err != nil {
		if pr != nil {
			pr.CloseWithError(err)
		}
		return nil, err
	}
	if pr != nil {
		req.Header.Set("Content-Encoding", "gzip")
	}
	req.Header.Set("Content-Type", "application/xml")
	return c.do(req)
}

// newRequest builds a request to the collection; withSince adds the since
// parameter, even empty (a POST then asks for a feed back).
func (c *Client) newRequest(ctx context.Context, method, since string, withSince bool, body io.Reader) (*http.Request, error) {
	u, err := url.Parse(c.URL)
	if err != nil {
		return nil, fmt.Errorf("httpfeed: collection URL: %w", err)
	}
	q := u.Query()
	if withSince && (since != "" || method != http.MethodGet) {
		q.Set("since", since)
	}
	if c.Format != feedsync.FormatUnknown {
		q.Set("format", c.Format.String())
	}
	u.RawQuery = q.Encode()
	req, err := http.NewRequestWithContext(ctx, method, u.String(), body)
	if err != nil {
		return nil, fmt.Errorf("httpfeed: %w", err)
	}
	if withSince {
		req.Header.Set("Accept", mediaRSS+", "+mediaAtom+", application/json;q=0.5")
	} else {
		req.Header.Set("Accept", "application/json")
	}
	if c.Token != "" {
		req.Header.Set("Authorization", "Bearer "+c.Token)
	}
	if c.Peer != "" {
		req.Header.Set(HeaderPeer, c.Peer)
	}
	return req, nil
}

// do sends req and sorts out the answer.
func (c *Client) do(req *http.Request) (*Response, error) {
	resp, err := c.http().Do(req)
	if err != nil {
		return nil, fmt.Errorf("httpfeed: %s %s: %w", req.Method, redactURL(req.URL), err)
	}
	out := &Response{
		Token:         resp.Header.Get(HeaderToken),
		Kind:          resp.Header.Get(HeaderFeed),
		TokenRejected: resp.Header.Get(HeaderTokenRejected),
		Forgotten:     resp.Header.Get(HeaderForgotten) == "true",
		ETag:          resp.Header.Get("ETag"),
	}
	switch {
	case resp.StatusCode == http.StatusNotModified:
		resp.Body.Close()
		out.NotModified = true
		return out, nil
	case resp.StatusCode < 200 || resp.StatusCode > 299:
		defer resp.Body.Close()
		return nil, statusError(resp)
	}
	if s := resp.Header.Get(HeaderSummary); s != "" {
		var sum Summary
		if err := json.Unmarshal([]byte(s), &sum); err != nil {
			resp.Body.Close()
			return nil, fmt.Errorf("httpfeed: %s %s: bad %s header: %w", req.Method, redactURL(req.URL), HeaderSummary, err)
		}
		out.Summary = &sum
	}
	if strings.HasPrefix(resp.Header.Get("Content-Type"), "application/json") {
		defer resp.Body.Close()
		var sum Summary
		if err := json.NewDecoder(io.LimitReader(resp.Body, 16<<20)).Decode(&sum); err != nil {
			return nil, fmt.Errorf("httpfeed: %s %s: read summary: %w", req.Method, redactURL(req.URL), err)
		}
		out.Summary = &sum
		return out, nil
	}
	out.Body = resp.Body
	switch media, _, _ := strings.Cut(resp.Header.Get("Content-Type"), ";"); strings.TrimSpace(media) {
	case mediaRSS:
		out.Format = feedsync.RSS
	case mediaAtom:
		out.Format = feedsync.Atom
	}
	return out, nil
}

// statusError reads an error response.
func statusError(resp *http.Response) error {
	e := &StatusError{StatusCode: resp.StatusCode}
	b, _ := io.ReadAll(io.LimitReader(resp.Body, 64<<10))
	if err := json.Unmarshal(b, &e.Problem); err != nil || e.Problem.Error == "" {
		text := strings.TrimSpace(string(b))
		if len(text) > 200 {
			text = text[:200] + "..."
		}
		e.Problem = Problem{Error: text}
	}
	return e
}

// redactURL hides a password in u, for error messages.
func redactURL(u *url.URL) string {
	return u.Redacted()
}

// Direction says which way Sync copies changes.
type Direction uint8

const (
	// Both pushes local changes and pulls the server's in one round trip.
	Both Direction = iota
	// Pull only merges the server's changes into the local store.
	Pull
	// Push only sends local changes to the server.
	Push
)

// String returns "both", "pull" or "push".
func (d Direction) String() string {
	switch d {
	case Pull:
		return "pull"
	case Push:
		return "push"
	}
	return "both"
}

// SyncResult says what Sync did.
type SyncResult struct {
	// Pushed is the server's merge of the pushed feed; nil for Pull.
	Pushed *Summary
	// PushedItems counts the items pushed.
	PushedItems int
	// Pulled is the local merge of the server's feed (zero for Push).
	Pulled merge.Summary
	// PulledKind is FeedFull or FeedIncremental; "" for Push.
	PulledKind string
	// TokenRejected is the server's reason for sending the complete feed
	// although a token was sent.
	TokenRejected string
	// Token is the server's token now kept in the local store.
	Token string
	// Forgotten counts the local items removed because the server had
	// deleted them and forgotten the tombstones before this endpoint saw
	// them (FS-RETAIN-3; see HeaderForgotten).
	Forgotten int
}

// Sync syncs the local store st with the collection: it pushes the local
// changes the server has not seen and merges the server's changes this
// endpoint has not seen, in one POST for Both.
//
// Sync is resumable. It keeps its marks in st's knowledge of the remote
// (Remote; see syncMarks): the token of the server's last feed it merged,
// and how far local changes were pushed. They advance only in the
// transaction that commits the local merge, after the server committed its
// own: a Sync killed at any point leaves both stores consistent, and the
// next one sends and receives again what may not have landed, which
// merging ignores (FS-MERGE-14).
//
// The first Sync with a remote pushes every local item and pulls the
// complete feed. Later ones exchange only changes, each side leaving out
// what the other sent it (echo suppression: set Peer so that the server
// knows who we are). When the server no longer knows the token it gave
// (it lost its data, or another store answers at its URL), Sync pushes
// every local item again in a second round trip.
//
// When the server refuses the token because it has forgotten deletions
// since (HeaderForgotten, FS-RETAIN-2), Sync re-initialises: it merges the
// server's complete feed, removes the local items the server lacks and
// knew (it sent them, or we pushed them), and keeps and pushes the others
// (FS-RETAIN-3, forgetAbsent), so that no deletion the server forgot comes
// back to life through this endpoint. A first push after pull-only syncs
// sends every item, so it is preceded by a pull that would re-initialise.
func (c *Client) Sync(ctx context.Context, st store.Store, dir Direction) (SyncResult, error) {
	var first *SyncResult
	if dir == Both {
		marks, err := c.marks(ctx, st, c.remote())
		if err != nil {
			return SyncResult{}, err
		}
		if marks.token != "" && !marks.pushed {
			pulled, _, err := c.syncOnce(ctx, st, Pull)
			if err != nil {
				return pulled, err
			}
			first = &pulled
		}
	}
	res, again, err := c.syncOnce(ctx, st, dir)
	if err == nil && again {
		var second SyncResult
		second, _, err = c.syncOnce(ctx, st, dir)
		second.Pulled = addSummaries(res.Pulled, second.Pulled)
		second.PulledKind, second.TokenRejected = res.PulledKind, res.TokenRejected
		res = second
	}
	if first != nil {
		res.Pulled = addSummaries(first.Pulled, res.Pulled)
		res.Forgotten += first.Forgotten
		if first.TokenRejected != "" {
			res.PulledKind, res.TokenRejected = first.PulledKind, first.TokenRejected
		}
	}
	return res, err
}

// addSummaries returns the sum of two merge summaries.
func addSummaries(a, b merge.Summary) merge.Summary {
	a.Added += b.Added
	a.Updated += b.Updated
	a.Deleted += b.Deleted
	a.Conflicts += b.Conflicts
	a.Unchanged += b.Unchanged
	a.Rejected += b.Rejected
	a.Rejections = append(a.Rejections, b.Rejections...)
	return a
}

// syncMarks is what Sync keeps about a remote in the local store, as the
// remote's store.PeerState, in the transaction of the merge they describe.
type syncMarks struct {
	// token is the until of the server's last feed merged, "" for none.
	token string
	// pushed reports that a complete push was made, so that pushes may
	// be incremental from pushSeq, leaving out what the remote sent.
	pushed  bool
	pushSeq int64
}

// state returns the PeerState that keeps m: Received the token, Sent the
// push mark, the local sequence number pushed up to ("" before a
// complete push).
func (m syncMarks) state() store.PeerState {
	ps := store.PeerState{Received: m.token}
	if m.pushed {
		ps.Sent = strconv.FormatInt(m.pushSeq, 10)
	}
	return ps
}

// syncOnce is one round trip of Sync. again reports that the server
// refused the token we kept after we had pushed incrementally: the push
// mark is reset, and another round pushes everything.
func (c *Client) syncOnce(ctx context.Context, st store.Store, dir Direction) (res SyncResult, again bool, err error) {
	remote := c.remote()
	marks, err := c.marks(ctx, st, remote)
	if err != nil {
		return res, false, err
	}

	var resp *Response
	var pushed producer.Result
	if dir == Pull {
		resp, err = c.Get(ctx, marks.token, "")
	} else {
		resp, pushed, err = c.push(ctx, st, remote, marks, dir == Both)
		res.PushedItems = pushed.Items
		res.Pushed = nil
	}
	if err != nil {
		return res, false, err
	}
	if dir != Pull {
		res.Pushed = resp.Summary
	}
	res.TokenRejected = resp.TokenRejected

	tx, err := st.Begin(ctx, true)
	if err != nil {
		if resp.Body != nil {
			resp.Body.Close()
		}
		return res, false, fmt.Errorf("httpfeed: sync: %w", err)
	}
	defer tx.Rollback()
	next := marks
	if resp.Body != nil {
		defer resp.Body.Close()
		res.PulledKind = resp.Kind
		counted := &countingReader{r: resp.Body}
		r := feedsync.NewReaderOptions(counted, c.Reader)
		items := 0
		// A server that forgot deletions sends its complete feed: the ids
		// in it are the server's item set, which re-initialisation needs.
		var present map[string]bool
		if resp.Forgotten && resp.Kind == FeedFull {
			present = map[string]bool{}
		}
		res.Pulled, err = consumer.ConsumeTx(ctx, tx, r, consumer.Options{
			Peer:   remote,
			Policy: c.Policy,
			Stamp:  c.Stamp,
			Format: c.Format,
			OnItem: func(id string, _ int, _ feedsync.Outcome, _ error) {
				if present != nil {
					present[id] = true
				}
				items++
				if c.OnItem != nil {
					c.OnItem(items, counted.n)
				}
			},
		})
		if err != nil {
			return res, false, fmt.Errorf("httpfeed: sync: merge the server's feed: %w", err)
		}
		if resp.Token != "" {
			next.token = resp.Token
		}
		if h, err := r.Header(); err == nil && h.Sharing != nil && h.Sharing.Until != "" {
			next.token = h.Sharing.Until
		}
		if present != nil {
			res.Forgotten, err = forgetAbsent(ctx, tx, remote, present, marks)
			if err != nil {
				return res, false, fmt.Errorf("httpfeed: sync: re-initialise after the server forgot deletions: %w", err)
			}
		}
	}
	if dir != Pull {
		next.pushed, next.pushSeq = true, pushed.Token.Seq
	}
	if resp.TokenRejected != "" && !resp.Forgotten && marks.token != "" && marks.pushed {
		// What we pushed before may be gone with the server's data, and
		// what we know it holds is stale: push everything, ignoring that
		// knowledge (a complete feed, producer.Full).
		next.pushed, next.pushSeq, again = false, 0, dir != Pull
	}
	if next != marks {
		if err := tx.SetPeerState(ctx, remote, next.state()); err != nil {
			return res, false, fmt.Errorf("httpfeed: sync: keep the marks: %w", err)
		}
	}
	if err := ctx.Err(); err != nil {
		return res, false, fmt.Errorf("httpfeed: sync: %w", err)
	}
	if err := tx.Commit(); err != nil {
		return res, false, fmt.Errorf("httpfeed: sync: commit: %w", err)
	}
	res.Token = next.token
	return res, again, nil
}

// marks reads what Sync keeps about remote.
func (c *Client) marks(ctx context.Context, st store.Store, remote string) (syncMarks, error) {
	tx, err := st.Begin(ctx, false)
	if err != nil {
		return syncMarks{}, fmt.Errorf("httpfeed: sync: %w", err)
	}
	defer tx.Rollback()
	ps, err := tx.PeerState(ctx, remote)
	if err != nil {
		return syncMarks{}, fmt.Errorf("httpfeed: sync: read the marks: %w", err)
	}
	m := syncMarks{token: ps.Received}
	if ps.Sent != "" {
		seq, err := strconv.ParseInt(ps.Sent, 10, 64)
		if err != nil || seq < 0 {
			return syncMarks{}, fmt.Errorf("httpfeed: sync: bad push mark %q kept for %s", ps.Sent, remote)
		}
		m.pushed, m.pushSeq = true, seq
	}
	return m, nil
}

// push posts the local changes after the push mark, leaving out what the
// remote sent (producer.Options.Peer), or every item before the first
// complete push; withFeed asks for the server's feed after the token in
// return.
func (c *Client) push(ctx context.Context, st store.Store, remote string, marks syncMarks, withFeed bool) (*Response, producer.Result, error) {
	since := ""
	if marks.pushed {
		since = producer.Token{Store: st.ID(), Seq: marks.pushSeq}.String()
	}
	pr, pw := io.Pipe()
	type produced struct {
		res producer.Result
		err error
	}
	done := make(chan produced, 1)
	go func() {
		res, err := producer.Produce(ctx, st, since, pw, producer.Options{Peer: remote, Format: c.Format})
		pw.CloseWithError(err)
		done <- produced{res, err}
	}()
	resp, err := c.Post(ctx, pr, marks.token, withFeed)
	pr.CloseWithError(errRequestEnded) // unblocks the producer if the request stopped reading
	p := <-done
	if p.err != nil && !errors.Is(p.err, errRequestEnded) {
		if resp != nil && resp.Body != nil {
			resp.Body.Close()
		}
		return nil, p.res, fmt.Errorf("httpfeed: sync: read local changes: %w", p.err)
	}
	if err != nil {
		return nil, p.res, err
	}
	return resp, p.res, nil
}

// errRequestEnded stops a producer whose request no longer reads.
var errRequestEnded = errors.New("httpfeed: request ended")

// countingReader counts the bytes read through it.
type countingReader struct {
	r io.Reader
	n int64
}

func (c *countingReader) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	c.n += int64(n)
	return n, err
}
