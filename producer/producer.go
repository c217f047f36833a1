package producer

import (
	"context"
	"errors"
	"fmt"
	"io"
	"iter"
	"time"

	"github.com/feedsync/go-feedsync/feedsync"
	"github.com/feedsync/go-feedsync/store"
)

// Options are the settings of Full, Incremental and Produce. The zero value
// gives a complete or partial feed in the store's format for an unnamed
// subscriber.
type Options struct {
	// Format is the format of the feed. Default: the store's own format
	// (store.Reader.FeedInfo, FS-FEED-9), or RSS when the store has none.
	// Items kept in the other format are converted on the way out
	// (FS-FEED-10).
	Format feedsync.Format
	// Peer names the endpoint the feed is for, by the name this store
	// records its knowledge under: the consumer.Options.Peer given when
	// that endpoint's feeds are merged into this store. Incremental leaves
	// out items whose current version the store knows the peer holds
	// (store.PeerReader): echo suppression, see Incremental. Default: "",
	// no suppression.
	Peer string
	// CompleteURL is the absolute URI of this publisher's complete feed.
	// Incremental names it in an sx:related type="complete", which marks the
	// feed as partial (FS-FEED-2, FS-RELATED-1, FS-RELATED-2). Default: "",
	// no link.
	CompleteURL string
	// Expires is the publisher's hint to read the feed again before then
	// (FS-SHARING-3, FS-FEED-5). Default: the zero Time, no expires.
	Expires time.Time
	// MaxItems and MaxBytes make the feed one page of the changes: it
	// ends after the change that reaches either bound (bytes as written,
	// give or take the writer's buffer), its token names the last change
	// it covers and Result.More says that more follow. A paged feed has no
	// sx:sharing until (the token is known only at its end): the caller
	// hands Result.Token over by other means (httpfeed sends it as a
	// header, after buffering the page). Default: 0, no bound.
	MaxItems int
	MaxBytes int64
}

// paged reports whether opts asks for one page of the changes.
func (o Options) paged() bool { return o.MaxItems > 0 || o.MaxBytes > 0 }

// Result says what Produce wrote.
type Result struct {
	// Token is the feed's high-water mark, also written in its sx:sharing
	// until: the since of the subscriber's next request.
	Token Token
	// Full reports whether the feed is complete (FS-FEED-1): the subscriber
	// sent no token, or one Produce could not use.
	Full bool
	// Reason is why a token was not used (an error wrapping ErrBadToken),
	// nil otherwise.
	Reason error
	// Items counts the items written.
	Items int
	// Suppressed counts the items left out because the peer holds them
	// already (Options.Peer).
	Suppressed int
	// More reports that a paged feed (Options.MaxItems, MaxBytes) stopped
	// before the store's latest change: ask again after Token.
	More bool
}

// Full writes to w a complete feed (FS-FEED-1): every item of the store,
// tombstones included (FS-DELETE-1, FS-DELETE-4), in the store's change
// order, read from r. storeID is the ID of the store r belongs to
// (store.Store.ID); it goes into the tokens. It returns the feed's token,
// which it also writes as sx:sharing until, with since set to the token of
// the start of the store's changes: a subscriber that merged the feed asks
// for the changes after it (Incremental).
//
// A complete feed ignores opts.Peer: it is what a subscriber that may have
// missed changes or lost its data needs (FS-FEED-4), and what the store knows
// about that subscriber is exactly what may be wrong then (see the package
// documentation on lost endpoints). It has no sx:related complete link.
//
// Full streams: it holds one item at a time. The token is the store's latest
// change when Full starts, read before the items: a change committed while it
// runs may show up in the feed too, and then again after the token, which is
// harmless (merging a version twice changes nothing, FS-MERGE-14), whereas a
// token read after the items could cover a change the feed missed. On error,
// what was written to w is incomplete and must be discarded.
func Full(ctx context.Context, r store.Reader, storeID string, w io.Writer, opts Options) (Token, error) {
	res, err := full(ctx, r, storeID, w, opts)
	return res.Token, err
}

// Incremental writes to w a partial feed (FS-FEED-1): the items changed
// after since, the token of the last feed the subscriber merged, tombstones
// included (FS-FEED-6). Its cost grows with the number of changes, not with
// the size of the store (store.ChangeReader). It returns the token of the
// new feed.
//
// The feed's sx:sharing carries since and the new token as until, both
// opaque strings (FS-SHARING-2, §17 A-12), and an sx:related
// type="complete" to opts.CompleteURL when that is set (FS-FEED-2). Because
// since is exactly the until the subscriber received last, consecutive feeds
// leave no gap (FS-FEED-4, FS-FEED-6).
//
// since must come from ParseToken with the store's id. A token ahead of the
// store's latest change fails with ErrBadToken: the store was restored from
// an older copy, or the token was not minted here, and the changes between
// cannot be told apart; the subscriber needs Full. Nothing is written to w
// before the token is checked, so a caller can fall back to Full on the
// same writer (Produce does).
//
// # Echo suppression
//
// With opts.Peer set, an item whose current version (store.VersionOf) equals
// the version the store records for that peer (store.PeerReader.PeerVersion)
// is left out. A consumer records that version for every item the peer sent
// (consumer.Options.Peer), so what a peer sent us is not sent back to it, and
// two endpoints that sync back and forth without edits exchange empty feeds
// after the first round. A version is compared with its conflict set, so an
// item whose merge added or dropped conflicts goes out again (FS-MERGE-16).
//
// Nothing is recorded when a feed is sent: the feed may never arrive, and a
// peer version recorded for it would suppress the item for good. What a peer
// holds is learnt only from what it sends (its consumer records it), and the
// token it sends back proves which feed arrived (Acknowledge).
func Incremental(ctx context.Context, r store.Reader, since Token, w io.Writer, opts Options) (Token, error) {
	res, err := incremental(ctx, r, since, w, opts)
	return res.Token, err
}

// Produce writes the feed a subscriber asks for with since, the until of the
// last feed it merged (its opaque string), from a read-only transaction of
// st of its own:
//
//   - since == "": a new subscriber, which starts from the complete feed
//     (FS-FEED-4): Full.
//   - a token of st that Incremental accepts: the partial feed.
//   - any other token (malformed, minted by another store, or ahead of the
//     store): the complete feed, with the reason in Result.Reason. A
//     subscriber that may have missed changes must start from the complete
//     feed (FS-FEED-4).
//
// Produce records nothing; see Acknowledge.
func Produce(ctx context.Context, st store.Store, since string, w io.Writer, opts Options) (Result, error) {
	tx, err := st.Begin(ctx, false)
	if err != nil {
		return Result{}, fmt.Errorf("produce: begin: %w", err)
	}
	defer tx.Rollback()
	var reason error
	if since != "" {
		tok, err := ParseToken(since, st.ID())
		if err == nil {
			var res Result
			res, err = incremental(ctx, tx, tok, w, opts)
			if !errors.Is(err, ErrBadToken) {
				return res, err
			}
		}
		reason = err
	}
	res, err := full(ctx, tx, st.ID(), w, opts)
	res.Reason = reason
	return res, err
}

// Page writes the feed a paging subscriber asks for and returns what it
// wrote, More included: the complete feed (Full) when since is the zero
// Token, else the partial one after since (Incremental). With
// opts.MaxItems or opts.MaxBytes it is one page (see Options).
func Page(ctx context.Context, r store.Reader, storeID string, since Token, w io.Writer, opts Options) (Result, error) {
	if since.IsZero() {
		return full(ctx, r, storeID, w, opts)
	}
	return incremental(ctx, r, since, w, opts)
}

// CheckToken checks that the store r reads can make a partial feed after
// since, a token ParseToken accepted, and returns the store's latest
// sequence number. The error wraps ErrBadToken for a token ahead of the
// store's latest change, for one whose history mark is not the store's
// mark of its sequence number (FS-KNOW-2: the store was restored from an
// older copy, or its file copied, and went on: a token from the history it
// lost is refused instead of silently skipping changes the subscriber
// never saw) and, with ErrForgotten, for one below the forgotten horizon.
func CheckToken(ctx context.Context, r store.Reader, since Token) (last int64, err error) {
	last, err = r.LastSeq(ctx)
	if err != nil {
		return 0, err
	}
	if since.Seq > last {
		// The store never handed out this sequence number, so the token
		// comes from a copy of the store that went further: the store was
		// restored from a backup. Changes made since the restore reuse the
		// numbers after last, and the subscriber may have missed them.
		return 0, fmt.Errorf("%w: sequence %d is ahead of the store's latest change %d (restored from an older copy?)",
			ErrBadToken, since.Seq, last)
	}
	mark, ok, err := r.HistoryMark(ctx, since.Seq)
	if err != nil {
		return 0, err
	}
	if !ok || mark != since.Mark {
		return 0, fmt.Errorf("%w: the store's history at sequence %d is not the one the token was made from (restored from a backup, or a copied store?)",
			ErrBadToken, since.Seq)
	}
	ret, err := r.Retention(ctx)
	if err != nil {
		return 0, err
	}
	if since.Seq < ret.Horizon {
		return 0, fmt.Errorf("%w: %w: sequence %d is older than the deletions forgotten up to %d: re-initialise",
			ErrBadToken, ErrForgotten, since.Seq, ret.Horizon)
	}
	return last, nil
}

// Acknowledge records that peer holds every change up to since, because it
// asked for the changes after since, a token it can only have from a feed
// that arrived (store.Writer.SetPeerSeq). It never moves the recorded
// sequence number back. It runs in a writable transaction of its own, so a
// server that wants the record calls it when a request comes in, apart from
// Produce, which only reads.
//
// Echo suppression does not need it. It is for operators and for deciding how
// long tombstones must be kept: until every subscriber has acknowledged them
// (FS-DELETE-4).
func Acknowledge(ctx context.Context, st store.Store, peer string, since Token) error {
	if since.Store != st.ID() {
		return fmt.Errorf("acknowledge %s for peer %q: %w: minted by store %q, not by this store %q",
			since, peer, ErrBadToken, since.Store, st.ID())
	}
	tx, err := st.Begin(ctx, true)
	if err != nil {
		return fmt.Errorf("acknowledge %s for peer %q: %w", since, peer, err)
	}
	defer tx.Rollback()
	last, err := tx.LastSeq(ctx)
	if err != nil {
		return fmt.Errorf("acknowledge %s for peer %q: %w", since, peer, err)
	}
	if since.Seq > last {
		return fmt.Errorf("acknowledge %s for peer %q: %w: sequence %d is ahead of the store's latest change %d",
			since, peer, ErrBadToken, since.Seq, last)
	}
	cur, err := tx.PeerSeq(ctx, peer)
	if err != nil {
		return fmt.Errorf("acknowledge %s for peer %q: %w", since, peer, err)
	}
	if since.Seq <= cur {
		return nil
	}
	if err := tx.SetPeerSeq(ctx, peer, since.Seq); err != nil {
		return fmt.Errorf("acknowledge %s for peer %q: %w", since, peer, err)
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("acknowledge %s for peer %q: %w", since, peer, err)
	}
	return nil
}

// full is Full with the counts Produce reports.
func full(ctx context.Context, r store.Reader, storeID string, w io.Writer, opts Options) (Result, error) {
	if storeID == "" {
		return Result{Full: true}, errors.New("produce complete feed: empty store id")
	}
	opts.Peer = "" // see Full
	res, err := changes(ctx, r, Token{Store: storeID}, w, opts, false)
	res.Full = true
	if err != nil {
		return res, fmt.Errorf("produce complete feed: %w", err)
	}
	return res, nil
}

// incremental is Incremental with the counts Produce reports.
func incremental(ctx context.Context, r store.Reader, since Token, w io.Writer, opts Options) (Result, error) {
	if since.Store == "" {
		return Result{}, fmt.Errorf("produce partial feed: %w: no store id (a new subscriber gets the complete feed)", ErrBadToken)
	}
	// A token from a history the store does not have (ahead of it, or
	// from a copy that went another way) cannot say which changes the
	// subscriber missed: it needs Full (FS-FEED-4, FS-KNOW-2).
	if _, err := CheckToken(ctx, r, since); err != nil {
		return Result{}, fmt.Errorf("produce partial feed after %s: %w", since, err)
	}
	res, err := changes(ctx, r, since, w, opts, true)
	if err != nil {
		return res, fmt.Errorf("produce partial feed after %s: %w", since, err)
	}
	return res, nil
}

// changes writes the feed of the changes after since: the complete feed
// when partial is false (since is then the start of the store), each
// item once. Its token is the store's latest change when it starts, read
// before the items, so that every change up to the token is in this feed
// or an earlier one (store.ChangeReader); a paged feed that stops early
// covers up to its last change instead.
func changes(ctx context.Context, r store.Reader, since Token, w io.Writer, opts Options, partial bool) (Result, error) {
	var res Result
	last, err := r.LastSeq(ctx)
	if err != nil {
		return res, err
	}
	if res.Token, err = TokenAt(ctx, r, since.Store, last); err != nil {
		return res, err
	}
	h, err := header(ctx, r, since.Store, opts)
	if err != nil {
		return res, err
	}
	sh := &feedsync.Sharing{Since: since.String(), Until: res.Token.String(), Expires: opts.Expires}
	if opts.paged() {
		sh.Until = ""
	}
	if partial && opts.CompleteURL != "" {
		sh.Related = []feedsync.Related{{Link: opts.CompleteURL, Type: feedsync.RelatedComplete}}
	}
	h.Sharing = sh
	cw := &countWriter{w: w}
	fw := feedsync.NewWriter(cw, h)
	covered := since.Seq
	for c, err := range changesOf(ctx, r, since.Seq) {
		if err == nil {
			err = ctx.Err()
		}
		if err != nil {
			return res, fmt.Errorf("read changes: %w", err)
		}
		if c.seq > last {
			break // committed after the feed started: the next feed has it
		}
		if opts.paged() && ((opts.MaxItems > 0 && res.Items >= opts.MaxItems) || (opts.MaxBytes > 0 && cw.n >= opts.MaxBytes)) {
			res.More = true
			break
		}
		covered = c.seq
		if opts.Peer != "" {
			held, ok, err := r.PeerVersion(ctx, opts.Peer, c.id)
			if err != nil {
				return res, fmt.Errorf("item %q: %w", c.id, err)
			}
			if ok && held.Equal(c.version()) {
				res.Suppressed++
				continue
			}
		}
		if err := c.writeTo(fw); err != nil {
			return res, fmt.Errorf("write item %q: %w", c.id, err)
		}
		res.Items++
	}
	if err := fw.Close(); err != nil {
		return res, err
	}
	if res.More {
		if res.Token, err = TokenAt(ctx, r, since.Store, covered); err != nil {
			return res, err
		}
	}
	return res, nil
}

// countWriter counts the bytes written through it.
type countWriter struct {
	w io.Writer
	n int64
}

func (c *countWriter) Write(p []byte) (int, error) {
	n, err := c.w.Write(p)
	c.n += int64(n)
	return n, err
}

// change is one entry of the change sequence as a producer writes it: a
// decoded item, or, from a store.XMLReader, the item's stat and
// standalone XML, which go into the feed without being parsed.
type change struct {
	seq  int64
	id   string
	item *feedsync.Item
	stat store.ItemStat
	xml  []byte
}

// changesOf reads the changes after after from r, without decoding the
// items when r can (store.XMLReader).
func changesOf(ctx context.Context, r store.Reader, after int64) iter.Seq2[change, error] {
	return func(yield func(change, error) bool) {
		if xr, ok := r.(store.XMLReader); ok {
			for c, err := range xr.ChangesXML(ctx, after) {
				if !yield(change{seq: c.Seq, id: c.ID, stat: c.ItemStat, xml: c.XML}, err) {
					return
				}
			}
			return
		}
		for c, err := range r.Changes(ctx, after) {
			if !yield(change{seq: c.Seq, id: c.Item.ID(), item: c.Item}, err) {
				return
			}
		}
	}
}

// version returns the item's store.Version.
func (c change) version() store.Version {
	if c.item != nil {
		return store.VersionOf(c.item)
	}
	return c.stat.Version
}

func (c change) writeTo(fw *feedsync.Writer) error {
	if c.item != nil {
		return fw.WriteItem(c.item)
	}
	return fw.WriteXML(c.xml)
}

// header returns the header of a feed of the store: its own feed info and
// format (FS-FEED-9), opts.Format overriding the format, RSS by default.
// A store without an Atom feed id gets one derived from its id, so that its
// feed keeps the same atom:id from one request to the next.
func header(ctx context.Context, r store.Reader, storeID string, opts Options) (*feedsync.Header, error) {
	info, format, err := r.FeedInfo(ctx)
	if err != nil {
		return nil, err
	}
	if opts.Format != feedsync.FormatUnknown {
		format = opts.Format
	}
	if format == feedsync.FormatUnknown {
		format = feedsync.RSS
	}
	if info.ID == "" {
		info.ID = "urn:feedsync:store:" + storeID
	}
	return feedsync.NewHeader(format, info), nil
}
