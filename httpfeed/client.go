package httpfeed

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"

	"github.com/feedsync/go-feedsync/feedsync"
	"github.com/feedsync/go-feedsync/merge"
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
	// NoGzip sends request bodies (feeds, summaries) uncompressed: no
	// compression at all, despite the name. Responses are still
	// compressed as NoZstd allows. Default: false, compressed (see
	// uploadCoding).
	NoGzip bool
	// NoZstd keeps to gzip: responses are asked for with Accept-Encoding:
	// gzip alone and request bodies are never zstd, for a server or a
	// proxy that mishandles zstd. Default: false, zstd where the server
	// takes it.
	NoZstd bool
	// OnItem, if set, is called after each pulled item is merged with
	// the number of items and bytes received so far, for progress
	// reports. Default: nil.
	OnItem func(items int, bytes int64)
	// PageItems and PageBytes bound one page of Sync: the items of a
	// pushed or pulled feed page, and the bytes of a pushed page before
	// compression (a summary page holds ten lines per item). Keep them
	// below the server's limits (Handler.MaxItems, MaxBodyBytes), which
	// bound one request. Default: DefaultClientPageItems,
	// DefaultClientPageBytes.
	PageItems int
	PageBytes int64
}

// zstdServers holds, by collection (scheme, host and path), whether it
// takes zstd request bodies: true once a response of it listed zstd in its
// Accept-Encoding header, false for good once it answered 415 to one. It
// is the package's, not a Client's, so that Clients stay copyable values.
var zstdServers sync.Map

// collectionKey names the collection u addresses in zstdServers.
func collectionKey(u *url.URL) string {
	return u.Scheme + "://" + u.Host + u.EscapedPath()
}

// uploadCoding returns the coding of the next request body: none with
// NoGzip; zstd once a response of the server has listed zstd in its
// Accept-Encoding header (RFC 9110 §12.5.3), which a Handler sends on
// every response; gzip otherwise, which every Handler has always taken. A
// 415 answer to a zstd body makes the client send gzip to that collection
// from then on.
func (c *Client) uploadCoding() coding {
	switch {
	case c.NoGzip:
		return codingIdentity
	case !c.NoZstd && c.takesZstd():
		return codingZstd
	}
	return codingGzip
}

// takesZstd reports whether the collection has said it takes zstd bodies.
func (c *Client) takesZstd() bool {
	u, err := url.Parse(c.URL)
	if err != nil {
		return false
	}
	v, ok := zstdServers.Load(collectionKey(u))
	return ok && v.(bool)
}

// noteEncodings records from resp whether the server takes zstd bodies.
func (c *Client) noteEncodings(req *http.Request, resp *http.Response) {
	key := collectionKey(req.URL)
	if resp.StatusCode == http.StatusUnsupportedMediaType && req.Header.Get("Content-Encoding") == "zstd" {
		// Refused for good: a server that lists zstd but refuses it (a
		// proxy in front) would otherwise have every other body fail.
		zstdServers.Store(key, false)
		return
	}
	if v, ok := zstdServers.Load(key); ok && !v.(bool) {
		return
	}
	ae := resp.Header.Values("Accept-Encoding")
	if len(ae) == 0 {
		return
	}
	zstdOK := false
	for _, v := range ae {
		for part := range strings.SplitSeq(v, ",") {
			if enc, q := mediaRange(part); enc == "zstd" && q > 0 {
				zstdOK = true
			}
		}
	}
	switch v, ok := zstdServers.Load(key); {
	case zstdOK && !ok:
		zstdServers.Store(key, true)
	case !zstdOK && ok && v.(bool):
		zstdServers.Delete(key)
	}
}

// acceptEncoding returns the Accept-Encoding header of the client's
// requests. The client sets it itself, so net/http does not decode gzip
// for it: decodeBody does, for both codings.
func (c *Client) acceptEncoding() string {
	if c.NoZstd {
		return "gzip"
	}
	return "zstd, gzip"
}

// Defaults of the client's page bounds.
const (
	DefaultClientPageItems = 1000
	DefaultClientPageBytes = 4 << 20
)

func (c *Client) pageItems() int {
	if c.PageItems <= 0 {
		return DefaultClientPageItems
	}
	return c.PageItems
}

func (c *Client) pageBytes() int64 {
	if c.PageBytes <= 0 {
		return DefaultClientPageBytes
	}
	return c.PageBytes
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
	// Header holds the response's headers (FeedSync-Token-Rejected,
	// FeedSync-Peer-Mark).
	Header http.Header
	// RetryAfter is the wait the server asked for with Retry-After
	// (usually with 429 or 503), 0 when it did not.
	RetryAfter time.Duration
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
	// Summary is the server's merge of a Post, nil for a Get. Its
	// rejections are *feedsync.ItemError (see Post).
	Summary *merge.Summary
	// Header holds all the response's headers.
	Header http.Header
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
// JSON answer. Each rejection in Summary is a *feedsync.ItemError naming
// the item and line the server gave; errors.Is matches feedsync.ErrUntrusted
// for an item the server would not let this client write, and
// feedsync.ErrLimit for one over its limits. body is compressed on the way
// unless NoGzip is set: with zstd when an earlier response of the server
// said it takes zstd, else with gzip.
func (c *Client) Post(ctx context.Context, body io.Reader, since string, wantFeed bool) (*Response, error) {
	var pr *io.PipeReader
	enc := c.uploadCoding()
	if enc != codingIdentity {
		var pw *io.PipeWriter
		pr, pw = io.Pipe()
		go func(src io.Reader) {
			zw := getCompressor(enc, pw)
			_, err := io.Copy(zw, src)
			if err == nil {
				err = zw.Close()
			}
			putCompressor(zw)
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
		req.Header.Set("Content-Encoding", enc.String())
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
	req.Header.Set("Accept-Encoding", c.acceptEncoding())
	if c.Token != "" {
		req.Header.Set("Authorization", "Bearer "+c.Token)
	}
	if c.Peer != "" {
		req.Header.Set(HeaderPeer, c.Peer)
	}
	return req, nil
}

// roundTrip sends req and returns a 2xx or 304 response, or the
// *StatusError of any other.
func (c *Client) roundTrip(req *http.Request) (*http.Response, error) {
	resp, err := c.http().Do(req)
	if err != nil {
		return nil, fmt.Errorf("httpfeed: %s %s: %w", req.Method, redactURL(req.URL), err)
	}
	c.noteEncodings(req, resp)
	if err := decodeBody(resp); err != nil {
		resp.Body.Close()
		return nil, fmt.Errorf("httpfeed: %s %s: %w", req.Method, redactURL(req.URL), err)
	}
	if resp.StatusCode != http.StatusNotModified && (resp.StatusCode < 200 || resp.StatusCode > 299) {
		defer resp.Body.Close()
		return nil, statusError(resp)
	}
	return resp, nil
}

// do sends req and sorts out the answer.
func (c *Client) do(req *http.Request) (*Response, error) {
	resp, err := c.roundTrip(req)
	if err != nil {
		return nil, err
	}
	out := &Response{
		Token:         resp.Header.Get(HeaderToken),
		Kind:          resp.Header.Get(HeaderFeed),
		TokenRejected: resp.Header.Get(HeaderTokenRejected),
		Forgotten:     resp.Header.Get(HeaderForgotten) == "true",
		ETag:          resp.Header.Get("ETag"),
		Header:        resp.Header,
	}
	if resp.StatusCode == http.StatusNotModified {
		resp.Body.Close()
		out.NotModified = true
		return out, nil
	}
	if s := resp.Header.Get(HeaderSummary); s != "" {
		var sum summaryJSON
		if err := json.Unmarshal([]byte(s), &sum); err != nil {
			resp.Body.Close()
			return nil, fmt.Errorf("httpfeed: %s %s: bad %s header: %w", req.Method, redactURL(req.URL), HeaderSummary, err)
		}
		m := sum.summary()
		out.Summary = &m
	}
	if strings.HasPrefix(resp.Header.Get("Content-Type"), "application/json") {
		defer resp.Body.Close()
		var sum summaryJSON
		if err := json.NewDecoder(io.LimitReader(resp.Body, 16<<20)).Decode(&sum); err != nil {
			return nil, fmt.Errorf("httpfeed: %s %s: read summary: %w", req.Method, redactURL(req.URL), err)
		}
		m := sum.summary()
		out.Summary = &m
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
	e := &StatusError{StatusCode: resp.StatusCode, Header: resp.Header, RetryAfter: retryAfter(resp.Header.Get("Retry-After"), time.Now())}
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
