package httpfeed

import (
	"bytes"
	"compress/gzip"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"

	"github.com/feedsync/go-feedsync/consumer"
	"github.com/feedsync/go-feedsync/feedsync"
	"github.com/feedsync/go-feedsync/merge"
	"github.com/feedsync/go-feedsync/producer"
	"github.com/feedsync/go-feedsync/store"
)

// SyncResult says what Sync did.
type SyncResult struct {
	// Pushed is the server's merge of the pushed pages, added up; nil for
	// Pull.
	Pushed *merge.Summary
	// PushedItems counts the items pushed.
	PushedItems int
	// Pulled is the local merge of the server's pages (zero for Push).
	Pulled merge.Summary
	// PulledKind says how the pull went: FeedFull, FeedIncremental or
	// "versions" (by versions first); "" for Push.
	PulledKind string
	// PushedKind says how the push went: FeedIncremental or "versions";
	// "" for Pull.
	PushedKind string
	// TokenRejected is the server's reason for refusing the token kept
	// for it: the pull went by versions first.
	TokenRejected string
	// Token is the server's token now kept in the local store.
	Token string
	// SummarySent and SummaryReceived count the summary lines exchanged
	// by versions first (the client's items, the server's).
	SummarySent, SummaryReceived int
	// Pages counts the requests made.
	Pages int
	// shrink divides the page bounds after a 413: the server's limits
	// on one request are below the pages asked for.
	shrink int
	// Forgotten counts the local items removed because the server had
	// deleted them and forgotten the tombstones before this endpoint saw
	// them (FS-RETAIN-3; see HeaderForgotten).
	Forgotten int
}

// tooLarge reports whether err is a 413 answer, after which the page is
// sent again at half the size, down to one item.
func (c *Client) tooLarge(err error, res *SyncResult) bool {
	var se *StatusError
	if !errors.As(err, &se) || se.StatusCode != http.StatusRequestEntityTooLarge {
		return false
	}
	if res.shrink == 0 {
		res.shrink = 1
	}
	if c.pageItems()/res.shrink <= 1 {
		return false
	}
	res.shrink *= 2
	return true
}

// bounds returns the page bounds, shrunk after 413 answers.
func (c *Client) bounds(res *SyncResult) (int, int64) {
	d := max(res.shrink, 1)
	return max(c.pageItems()/d, 1), max(c.pageBytes()/int64(d), 1)
}

// Kinds of exchange beside FeedFull and FeedIncremental.
const kindVersions = "versions"

// Resume flags kept in store.PeerState.Resume while an exchange by
// versions first is unfinished, so that a killed sync goes on with it.
const (
	resumePush = "push"
	resumePull = "pull"
	// resumeReinit: the pull re-initialises after the server forgot
	// deletions (FS-RETAIN-2); it restarts from the server's first page,
	// since it needs the server's whole item set.
	resumeReinit = "reinit"
)

// Sync syncs the local store st with the collection: it pushes the local
// changes the server lacks, then merges the server's changes this endpoint
// lacks, in pages (PageItems, PageBytes), each merged and committed on its
// own on both sides.
//
// Sync keeps its marks in st, as the remote's store.PeerState (Remote):
// Received is the server's token up to which its changes are merged here,
// Sent a token of st up to which the server holds st's changes. Both move
// page by page in the transaction that commits the page, so a Sync killed
// at any point resumes at the page it stopped in.
//
// With a usable mark a direction sends only the changes after it, each side
// leaving out what the other sent it (echo suppression: set Peer so that
// the server knows who we are). Without one (the first sync, a new store,
// a token the server refuses because it was restored, a server whose
// record of this endpoint does not match: FS-KNOW-2) the direction goes by
// versions first (FS-KNOW-1): the source sends a summary of what it holds,
// per item the sync id and the topmost entries of its versions, the
// destination answers with what it lacks, and only those items travel.
// The result is what merging the complete feeds would give. A store that
// has nothing pulls the complete feed, in pages, without a summary.
func (c *Client) Sync(ctx context.Context, st store.Store, dir Direction) (SyncResult, error) {
	var res SyncResult
	remote := c.remote()
	// The pull goes first: it finds out when the server was restored
	// (the push then starts over) or forgot deletions (the pull removes
	// them here, so that the push cannot bring them back, FS-RETAIN-3).
	if dir != Push {
		if err := c.pullPhase(ctx, st, remote, &res); err != nil {
			return res, err
		}
	}
	if dir != Pull {
		if err := c.pushPhase(ctx, st, remote, &res); err != nil {
			return res, err
		}
	}
	if dir == Both && res.PushedItems > 0 {
		// Move the pull mark past what we just pushed (left out of the
		// feed as ours): a token older than our own changes would be
		// refused once the server forgets their tombstones (FS-RETAIN-2).
		kind := res.PulledKind
		if err := c.pullPhase(ctx, st, remote, &res); err != nil {
			return res, err
		}
		res.PulledKind = kind
	}
	ps, err := readPeerState(ctx, st, remote)
	res.Token = ps.Received
	return res, err
}

// readPeerState reads what st keeps about remote.
func readPeerState(ctx context.Context, st store.Store, remote string) (store.PeerState, error) {
	tx, err := st.Begin(ctx, false)
	if err != nil {
		return store.PeerState{}, fmt.Errorf("httpfeed: sync: %w", err)
	}
	defer tx.Rollback()
	ps, err := tx.PeerState(ctx, remote)
	if err != nil {
		return ps, fmt.Errorf("httpfeed: sync: read the marks: %w", err)
	}
	return ps, nil
}

// updatePeerState changes what tx keeps about remote.
func updatePeerState(ctx context.Context, tx store.Tx, remote string, f func(*store.PeerState)) error {
	ps, err := tx.PeerState(ctx, remote)
	if err != nil {
		return err
	}
	f(&ps)
	return tx.SetPeerState(ctx, remote, ps)
}

// setResume adds or removes a resume flag.
func setResume(ps *store.PeerState, flag string, on bool) {
	var flags []string
	for f := range strings.SplitSeq(ps.Resume, ",") {
		if f != "" && f != flag {
			flags = append(flags, f)
		}
	}
	if on {
		flags = append(flags, flag)
	}
	ps.Resume = strings.Join(flags, ",")
}

func hasResume(ps store.PeerState, flag string) bool {
	for f := range strings.SplitSeq(ps.Resume, ",") {
		if f == flag {
			return true
		}
	}
	return false
}

// ownToken parses a token of st and checks it against st's history: a
// store restored from a backup, or replaced, does not have the history its
// marks were made in.
func ownToken(ctx context.Context, st store.Store, s string) (producer.Token, bool) {
	tok, err := producer.ParseToken(s, st.ID())
	if err != nil {
		return tok, false
	}
	tx, err := st.Begin(ctx, false)
	if err != nil {
		return tok, false
	}
	defer tx.Rollback()
	_, err = producer.CheckToken(ctx, tx, tok)
	return tok, err == nil
}

// peerMarkConflict returns the mark a 409 answer says the server recorded,
// and whether err is such an answer.
func peerMarkConflict(err error) (string, bool) {
	var se *StatusError
	if !errors.As(err, &se) || se.StatusCode != http.StatusConflict {
		return "", false
	}
	return se.Header.Get(HeaderPeerMark), true
}

// pushPhase pushes what the server lacks: the changes after Sent, or by
// versions first.
func (c *Client) pushPhase(ctx context.Context, st store.Store, remote string, res *SyncResult) error {
	ps, err := readPeerState(ctx, st, remote)
	if err != nil {
		return err
	}
	sent, walk := ps.Sent, hasResume(ps, resumePush) || ps.Sent == ""
	var from int64
	if sent != "" {
		tok, ok := ownToken(ctx, st, sent)
		if ok {
			from = tok.Seq
		} else {
			sent, walk = "", true
		}
	}
	for attempt := 0; ; attempt++ {
		if walk {
			res.PushedKind = kindVersions
			err = c.pushByVersions(ctx, st, remote, sent, from, res)
		} else {
			res.PushedKind = FeedIncremental
			err = c.pushChanges(ctx, st, remote, sent, from, res)
		}
		recorded, conflict := peerMarkConflict(err)
		if !conflict || attempt > 0 {
			return err
		}
		// The server's record of us is not our mark. If it names a later
		// point of our own history, the server merged a page whose commit
		// here was lost (a killed sync): go on from there. Otherwise one
		// of us was restored: start over by versions first (FS-KNOW-2).
		if tok, ok := ownToken(ctx, st, recorded); ok && recorded != "" && tok.Seq >= from {
			sent, from, walk = recorded, tok.Seq, false
		} else {
			sent, from, walk = "", 0, true
		}
	}
}

// pushChanges pushes the changes after from, page by page, each page
// carrying the marks the server checks and records.
func (c *Client) pushChanges(ctx context.Context, st store.Store, remote, sent string, from int64, res *SyncResult) error {
	for {
		var buf bytes.Buffer
		items, size := c.bounds(res)
		page, err := c.readPage(ctx, st, from, &buf, producer.Options{
			Peer: remote, Format: c.Format, MaxItems: items, MaxBytes: size,
		})
		if err != nil {
			return err
		}
		if page.Token.Seq == from {
			return nil // nothing changed since the last push
		}
		until := page.Token.String()
		if err := c.pushPage(ctx, &buf, sent, until, res); err != nil {
			if c.tooLarge(err, res) {
				continue
			}
			return err
		}
		res.PushedItems += page.Items
		if err := c.commitSent(ctx, st, remote, until, false); err != nil {
			return err
		}
		sent, from = until, page.Token.Seq
		if !page.More {
			return nil
		}
	}
}

// readPage writes the page of st's changes after from.
func (c *Client) readPage(ctx context.Context, st store.Store, from int64, w io.Writer, opts producer.Options) (producer.Result, error) {
	tx, err := st.Begin(ctx, false)
	if err != nil {
		return producer.Result{}, fmt.Errorf("httpfeed: sync: %w", err)
	}
	defer tx.Rollback()
	since, err := producer.TokenAt(ctx, tx, st.ID(), from)
	if err != nil {
		return producer.Result{}, fmt.Errorf("httpfeed: sync: read local changes: %w", err)
	}
	res, err := producer.Page(ctx, tx, st.ID(), since, w, opts)
	if err != nil {
		return res, fmt.Errorf("httpfeed: sync: read local changes: %w", err)
	}
	return res, nil
}

// pushPage posts one page of items; with until, it carries the marks the
// server checks (sent) and records (until).
func (c *Client) pushPage(ctx context.Context, body io.Reader, sent, until string, res *SyncResult) error {
	req, err := c.newRequest(ctx, http.MethodPost, "", false, c.compressed(body))
	if err != nil {
		return err
	}
	c.bodyHeaders(req, "application/xml")
	if until != "" {
		req.Header.Set(HeaderPeerMark, sent)
		req.Header.Set(HeaderPeerUntil, until)
	}
	res.Pages++
	resp, err := c.do(req)
	if err != nil {
		return err
	}
	if resp.Summary != nil {
		if res.Pushed == nil {
			res.Pushed = &merge.Summary{}
		}
		*res.Pushed = addSummaries(*res.Pushed, *resp.Summary)
	}
	return nil
}

// compressed returns body gzip-compressed unless NoGzip is set.
func (c *Client) compressed(body io.Reader) io.Reader {
	if c.NoGzip {
		return body
	}
	var buf bytes.Buffer
	zw, _ := gzip.NewWriterLevel(&buf, gzip.BestSpeed)
	io.Copy(zw, body) // writes to memory do not fail
	zw.Close()
	return &buf
}

// bodyHeaders sets the headers of a request body made by compressed.
func (c *Client) bodyHeaders(req *http.Request, contentType string) {
	req.Header.Set("Content-Type", contentType)
	if !c.NoGzip {
		req.Header.Set("Content-Encoding", "gzip")
	}
}

// commitSent records that the server holds st's changes up to until.
func (c *Client) commitSent(ctx context.Context, st store.Store, remote, until string, walkDone bool) error {
	tx, err := st.Begin(ctx, true)
	if err != nil {
		return fmt.Errorf("httpfeed: sync: %w", err)
	}
	defer tx.Rollback()
	err = updatePeerState(ctx, tx, remote, func(ps *store.PeerState) {
		ps.Sent = until
		if walkDone {
			setResume(ps, resumePush, false)
		}
	})
	if err == nil {
		err = tx.Commit()
	}
	if err != nil {
		return fmt.Errorf("httpfeed: sync: keep the push mark: %w", err)
	}
	return nil
}

// pushByVersions pushes what the server lacks by versions first: page by
// page of st's change sequence after from, a summary of the items, then
// the items the server says it lacks. The first page (sent "") tells the
// server to forget what it knew of us.
func (c *Client) pushByVersions(ctx context.Context, st store.Store, remote, sent string, from int64, res *SyncResult) error {
	if err := c.setResume(ctx, st, remote, resumePush, true); err != nil {
		return err
	}
	for {
		summary, until, more, lines, err := c.localSummary(ctx, st, from, res)
		if err != nil {
			return err
		}
		if sent == "" && until.Seq == 0 {
			// A store without a change has nothing to say: the server
			// learns about us when there is something.
			return c.setResume(ctx, st, remote, resumePush, false)
		}
		req, err := c.newRequest(ctx, http.MethodPost, "", false, c.compressed(bytes.NewReader(summary)))
		if err != nil {
			return err
		}
		req.URL.RawQuery = withParam(req.URL.RawQuery, "versions")
		c.bodyHeaders(req, mediaLines)
		req.Header.Set("Accept", mediaLines)
		if sent != "" {
			req.Header.Set(HeaderPeerMark, sent)
		}
		req.Header.Set(HeaderPeerUntil, until.String())
		res.Pages++
		ids, err := c.idLines(req)
		if c.tooLarge(err, res) {
			continue
		}
		if err != nil {
			return err
		}
		res.SummarySent += lines
		if len(ids) > 0 {
			if err := c.pushItems(ctx, st, ids, sent, until.String(), res); err != nil {
				return err
			}
		}
		if err := c.commitSent(ctx, st, remote, until.String(), !more); err != nil {
			return err
		}
		sent, from = until.String(), until.Seq
		if !more {
			return nil
		}
	}
}

// withParam adds a valueless query parameter.
func withParam(q, name string) string {
	if q == "" {
		return name
	}
	return q + "&" + name
}

// setResume sets or clears a resume flag of remote in st.
func (c *Client) setResume(ctx context.Context, st store.Store, remote, flag string, on bool) error {
	tx, err := st.Begin(ctx, true)
	if err != nil {
		return fmt.Errorf("httpfeed: sync: %w", err)
	}
	defer tx.Rollback()
	err = updatePeerState(ctx, tx, remote, func(ps *store.PeerState) { setResume(ps, flag, on) })
	if err == nil {
		err = tx.Commit()
	}
	if err != nil {
		return fmt.Errorf("httpfeed: sync: keep the marks: %w", err)
	}
	return nil
}

// localSummary returns the summary lines of st's items changed after from,
// one page, with the token of the last change covered.
func (c *Client) localSummary(ctx context.Context, st store.Store, from int64, res *SyncResult) ([]byte, producer.Token, bool, int, error) {
	tx, err := st.Begin(ctx, false)
	if err != nil {
		return nil, producer.Token{}, false, 0, fmt.Errorf("httpfeed: sync: %w", err)
	}
	defer tx.Rollback()
	since, err := producer.TokenAt(ctx, tx, st.ID(), from)
	if err != nil {
		return nil, producer.Token{}, false, 0, fmt.Errorf("httpfeed: sync: %w", err)
	}
	items, size := c.bounds(res)
	out, until, more, err := summaryPage(ctx, tx, st.ID(), since, summaryLinesPerItem*items, size)
	if err != nil {
		return nil, producer.Token{}, false, 0, fmt.Errorf("httpfeed: sync: summarise local items: %w", err)
	}
	return out, until, more, bytes.Count(out, []byte{'\n'}), nil
}

// idLines sends req and reads the id lines of the answer.
func (c *Client) idLines(req *http.Request) ([]string, error) {
	resp, err := c.roundTrip(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	var ids []string
	sc := lines(resp.Body)
	for {
		line, err := sc.next()
		if err != nil {
			return nil, fmt.Errorf("httpfeed: %s %s: read the answer: %w", req.Method, redactURL(req.URL), err)
		}
		if line == nil {
			return ids, nil
		}
		id, err := parseIDLine(line, sc.n)
		if err != nil {
			return nil, fmt.Errorf("httpfeed: %s %s: read the answer: %w", req.Method, redactURL(req.URL), err)
		}
		ids = append(ids, id)
	}
}

// pushItems pushes the items of st named by ids, in pages; the last page
// carries the marks.
func (c *Client) pushItems(ctx context.Context, st store.Store, ids []string, sent, until string, res *SyncResult) error {
	for len(ids) > 0 {
		var buf bytes.Buffer
		n, err := c.itemsPage(ctx, st, ids, &buf, res)
		if err != nil {
			return err
		}
		markSent, markUntil := "", ""
		if n == len(ids) {
			markSent, markUntil = sent, until
		}
		if err := c.pushPage(ctx, &buf, markSent, markUntil, res); err != nil {
			if c.tooLarge(err, res) {
				continue
			}
			return err
		}
		ids = ids[n:]
		res.PushedItems += n
	}
	return nil
}

// itemsPage writes a feed of the first items of st named by ids, up to the
// page bounds, and returns how many ids it covered.
func (c *Client) itemsPage(ctx context.Context, st store.Store, ids []string, w *bytes.Buffer, res *SyncResult) (int, error) {
	tx, err := st.Begin(ctx, false)
	if err != nil {
		return 0, fmt.Errorf("httpfeed: sync: %w", err)
	}
	defer tx.Rollback()
	n := 0
	items, size := c.bounds(res)
	seq := func(yield func(string, error) bool) {
		for _, id := range ids {
			if n >= items || int64(w.Len()) >= size {
				return
			}
			n++
			if !yield(id, nil) {
				return
			}
		}
	}
	if _, err := producer.Items(ctx, tx, st.ID(), seq, w, producer.Options{Format: c.Format}); err != nil {
		return 0, fmt.Errorf("httpfeed: sync: read local items: %w", err)
	}
	return n, nil
}

// pullPhase merges what the local store lacks: the server's changes after
// Received, the complete feed for an empty store, or by versions first.
func (c *Client) pullPhase(ctx context.Context, st store.Store, remote string, res *SyncResult) error {
	ps, err := readPeerState(ctx, st, remote)
	if err != nil {
		return err
	}
	if hasResume(ps, resumeReinit) {
		res.PulledKind = kindVersions
		return c.pullByVersions(ctx, st, remote, "", true, res)
	}
	walk := hasResume(ps, resumePull)
	if ps.Received == "" && !walk {
		empty, err := isEmpty(ctx, st)
		if err != nil {
			return err
		}
		walk = !empty
	}
	if walk {
		res.PulledKind = kindVersions
		return c.pullByVersions(ctx, st, remote, ps.Received, false, res)
	}
	err = c.pullChanges(ctx, st, remote, ps.Received, res)
	var se *StatusError
	if !errors.As(err, &se) || se.StatusCode != http.StatusConflict {
		return err
	}
	res.TokenRejected = se.Header.Get(HeaderTokenRejected)
	res.PulledKind = kindVersions
	if se.Header.Get(HeaderForgotten) == "true" {
		// The server forgot deletions we may not have seen: re-initialise
		// (FS-RETAIN-2, FS-RETAIN-3).
		if err := c.setResume(ctx, st, remote, resumeReinit, true); err != nil {
			return err
		}
		return c.pullByVersions(ctx, st, remote, "", true, res)
	}
	// The server refused the token: restored, or another store at the
	// same URL (FS-KNOW-2). It may lack what we pushed too: our push mark
	// goes, and the push starts over by versions first.
	if err := c.forgetSent(ctx, st, remote); err != nil {
		return err
	}
	return c.pullByVersions(ctx, st, remote, "", false, res)
}

func isEmpty(ctx context.Context, st store.Store) (bool, error) {
	tx, err := st.Begin(ctx, false)
	if err != nil {
		return false, fmt.Errorf("httpfeed: sync: %w", err)
	}
	defer tx.Rollback()
	n, err := tx.Count(ctx)
	if err != nil {
		return false, fmt.Errorf("httpfeed: sync: %w", err)
	}
	return n == 0, nil
}

// forgetSent drops the push mark kept for remote: the next push goes by
// versions first.
func (c *Client) forgetSent(ctx context.Context, st store.Store, remote string) error {
	tx, err := st.Begin(ctx, true)
	if err != nil {
		return fmt.Errorf("httpfeed: sync: %w", err)
	}
	defer tx.Rollback()
	err = updatePeerState(ctx, tx, remote, func(ps *store.PeerState) { ps.Sent = "" })
	if err == nil {
		err = tx.Commit()
	}
	if err != nil {
		return fmt.Errorf("httpfeed: sync: keep the marks: %w", err)
	}
	return nil
}

// pullChanges merges the server's changes after since, page by page.
func (c *Client) pullChanges(ctx context.Context, st store.Store, remote, since string, res *SyncResult) error {
	items := 0
	// Into an empty store, page after page finds only what the pages
	// before put: fresh keeps their ids, so the merge skips the store
	// lookups that would miss.
	fresh := &consumer.Fresh{}
	for {
		ps, err := readPeerState(ctx, st, remote)
		if err != nil {
			return err
		}
		req, err := c.newRequest(ctx, http.MethodGet, since, true, nil)
		if err != nil {
			return err
		}
		req.URL.RawQuery = withParam(req.URL.RawQuery, fmt.Sprintf("limit=%d", c.pageItems()))
		req.Header.Set(HeaderPeerMark, ps.Sent)
		res.Pages++
		resp, err := c.do(req)
		if err != nil {
			return err
		}
		if res.PulledKind == "" {
			res.PulledKind = resp.Kind
		}
		if resp.Body == nil || resp.Token == "" {
			if resp.Body != nil {
				resp.Body.Close()
			}
			return fmt.Errorf("httpfeed: GET %s: the server sent no paged feed (no %s)", redactURL(req.URL), HeaderToken)
		}
		// The server's record of us did not match our push mark: it sent
		// the page without leaving out what it believes we hold, and the
		// next push starts over by versions first.
		mismatch := len(resp.Header.Values(HeaderPeerMark)) > 0
		err = c.mergePage(ctx, st, remote, resp.Body, fresh, &items, res, func(ps *store.PeerState) {
			ps.Received = resp.Token
			if mismatch {
				ps.Sent = ""
			}
		})
		resp.Body.Close()
		if err != nil {
			return err
		}
		since = resp.Token
		if resp.Header.Get(HeaderMore) != "true" {
			return nil
		}
	}
}

// mergePage merges the feed body reads into st in one transaction,
// together with the change of marks.
func (c *Client) mergePage(ctx context.Context, st store.Store, remote string, body io.Reader, fresh *consumer.Fresh, items *int, res *SyncResult, marks func(*store.PeerState)) error {
	tx, err := st.Begin(ctx, true)
	if err != nil {
		return fmt.Errorf("httpfeed: sync: %w", err)
	}
	defer tx.Rollback()
	if err := c.mergeInto(ctx, tx, remote, body, fresh, items, res); err != nil {
		return err
	}
	return commitWithMarks(ctx, tx, remote, marks)
}

// commitWithMarks records the change of marks in tx and commits it, so a
// page and the marks that say it landed commit together; a cancelled ctx
// commits nothing.
func commitWithMarks(ctx context.Context, tx store.Tx, remote string, marks func(*store.PeerState)) error {
	if err := updatePeerState(ctx, tx, remote, marks); err != nil {
		return fmt.Errorf("httpfeed: sync: keep the marks: %w", err)
	}
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("httpfeed: sync: %w", err)
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("httpfeed: sync: commit: %w", err)
	}
	return nil
}

// mergeInto merges the feed body reads into tx, recording what the server
// holds.
func (c *Client) mergeInto(ctx context.Context, tx store.Tx, remote string, body io.Reader, fresh *consumer.Fresh, items *int, res *SyncResult) error {
	counted := &countingReader{r: body}
	sum, err := consumer.ConsumeTx(ctx, tx, feedsync.NewReaderOptions(counted, c.Reader), consumer.Options{
		Peer:   remote,
		Policy: c.Policy,
		Stamp:  c.Stamp,
		Format: c.Format,
		Fresh:  fresh,
		OnItem: func(string, int, feedsync.Outcome, error) {
			*items++
			if c.OnItem != nil {
				c.OnItem(*items, counted.n)
			}
		},
	})
	res.Pulled = addSummaries(res.Pulled, sum)
	if err != nil {
		return fmt.Errorf("httpfeed: sync: merge the server's feed: %w", err)
	}
	return nil
}

// addSummaries returns the sum of two merge summaries.
func addSummaries(a, b merge.Summary) merge.Summary {
	a.Added += b.Added
	a.Updated += b.Updated
	a.Deleted += b.Deleted
	a.Conflicts += b.Conflicts
	a.Unchanged += b.Unchanged
	a.Rejected += b.Rejected
	for _, r := range b.Rejections {
		if len(a.Rejections) < merge.MaxRejections {
			a.Rejections = append(a.Rejections, r)
		}
	}
	return a
}

// pullByVersions merges what the local store lacks by versions first: page
// by page of the server's summary after since, the items this store lacks
// are fetched (POST ?items) and merged, with the page's token, in one
// transaction per page.
//
// With reinit the walk starts from the server's first page and collects the
// server's item set; the last page then removes the local items the server
// lacks and knew (forgetAbsent, FS-RETAIN-3).
func (c *Client) pullByVersions(ctx context.Context, st store.Store, remote, since string, reinit bool, res *SyncResult) error {
	if err := c.setResume(ctx, st, remote, resumePull, true); err != nil {
		return err
	}
	var present map[string]bool
	if reinit {
		present = map[string]bool{}
	}
	items := 0
	for attempt := 0; ; {
		req, err := c.newRequest(ctx, http.MethodGet, since, true, nil)
		if err != nil {
			return err
		}
		req.URL.RawQuery = withParam(req.URL.RawQuery, fmt.Sprintf("versions&limit=%d", summaryLinesPerItem*c.pageItems()))
		req.Header.Set("Accept", mediaLines)
		res.Pages++
		resp, err := c.roundTrip(req)
		var se *StatusError
		if errors.As(err, &se) && se.StatusCode == http.StatusConflict && since != "" && attempt == 0 && !reinit {
			since, attempt = "", 1 // the token of an unfinished summary is gone: start over
			continue
		}
		if err != nil {
			return err
		}
		until, more := resp.Header.Get(HeaderToken), resp.Header.Get(HeaderMore) == "true"
		var last func(store.Tx) error
		if reinit && !more {
			last = func(tx store.Tx) error { return c.forgetAbsent(ctx, st, tx, remote, present, res) }
		}
		err = c.pullSummaryPage(ctx, st, remote, req, resp.Body, &items, res, present, last, func(ps *store.PeerState) {
			ps.Received = until
			if !more {
				setResume(ps, resumePull, false)
				setResume(ps, resumeReinit, false)
			}
		})
		resp.Body.Close()
		if err != nil {
			return err
		}
		if until == "" {
			return fmt.Errorf("httpfeed: GET %s: the server sent no %s", redactURL(req.URL), HeaderToken)
		}
		since = until
		if !more {
			return nil
		}
	}
}

// pullSummaryPage compares one page of the server's summary with st,
// records what the server holds, fetches and merges what st lacks, and
// changes the marks, in one transaction.
//
// The lines are compared heldBatchSize at a time, as the server compares
// a client's summary (heldBatch): a store lookup and a write of peer
// versions per batch (store.StatMany, store.SetPeerVersions), not per
// line. What st lacks is fetched pageItems ids at a time, the same
// requests as when each line was compared on its own: a batch may
// complete one fetch and start the next.
//
// present, if not nil, collects the ids of the summary; last, if not nil,
// runs in the transaction after the page's items are merged.
func (c *Client) pullSummaryPage(ctx context.Context, st store.Store, remote string, req *http.Request, body io.Reader, items *int, res *SyncResult,
	present map[string]bool, last func(store.Tx) error, marks func(*store.PeerState)) error {
	tx, err := st.Begin(ctx, true)
	if err != nil {
		return fmt.Errorf("httpfeed: sync: %w", err)
	}
	defer tx.Rollback()
	var want []string
	lacks := func(id string) { want = append(want, id) }
	var batch heldBatch
	// compare compares the lines waiting in batch and fetches what st
	// lacks in pages of pageItems ids, keeping the rest for later.
	compare := func() error {
		if err := batch.compare(ctx, tx, remote, lacks); err != nil {
			return fmt.Errorf("httpfeed: sync: compare the summary: %w", err)
		}
		n := c.pageItems()
		for len(want) >= n {
			if err := c.fetch(ctx, tx, remote, want[:n], items, res); err != nil {
				return err
			}
			want = append(want[:0], want[n:]...)
		}
		return nil
	}
	sc := lines(body)
	for {
		line, err := sc.next()
		if err != nil {
			return fmt.Errorf("httpfeed: %s %s: read the summary: %w", req.Method, redactURL(req.URL), err)
		}
		if line == nil {
			break
		}
		held, err := parseHeld(line, sc.n, c.Reader)
		if err != nil {
			return fmt.Errorf("httpfeed: %s %s: read the summary: %w", req.Method, redactURL(req.URL), err)
		}
		res.SummaryReceived++
		if present != nil {
			present[held.ID] = true
		}
		if batch.add(held) == heldBatchSize {
			if err := compare(); err != nil {
				return err
			}
		}
	}
	if err := compare(); err != nil {
		return err
	}
	if len(want) > 0 {
		if err := c.fetch(ctx, tx, remote, want, items, res); err != nil {
			return err
		}
	}
	if last != nil {
		if err := last(tx); err != nil {
			return err
		}
	}
	return commitWithMarks(ctx, tx, remote, marks)
}

// forgetAbsent removes, in tx, the local items the server lacks and knew
// (see the function of that name), after a re-initialisation collected the
// server's item set in present.
func (c *Client) forgetAbsent(ctx context.Context, st store.Store, tx store.Tx, remote string, present map[string]bool, res *SyncResult) error {
	ps, err := tx.PeerState(ctx, remote)
	if err != nil {
		return err
	}
	var pushed bool
	var pushSeq int64
	if ps.Sent != "" {
		if tok, err := producer.ParseToken(ps.Sent, st.ID()); err == nil {
			pushed, pushSeq = true, tok.Seq
		}
	}
	n, err := forgetAbsent(ctx, tx, remote, present, pushed, pushSeq)
	if err != nil {
		return fmt.Errorf("httpfeed: sync: re-initialise after the server forgot deletions: %w", err)
	}
	res.Forgotten += n
	return nil
}

// fetch asks the server for the items ids and merges them into tx.
func (c *Client) fetch(ctx context.Context, tx store.Tx, remote string, ids []string, items *int, res *SyncResult) error {
	var idLines []byte
	for _, id := range ids {
		idLines = appendIDLine(idLines, id)
	}
	req, err := c.newRequest(ctx, http.MethodPost, "", false, c.compressed(bytes.NewReader(idLines)))
	if err != nil {
		return err
	}
	req.URL.RawQuery = withParam(req.URL.RawQuery, "items")
	c.bodyHeaders(req, mediaLines)
	req.Header.Set("Accept", mediaRSS+", "+mediaAtom)
	res.Pages++
	resp, err := c.roundTrip(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	return c.mergeInto(ctx, tx, remote, resp.Body, nil, items, res)
}
