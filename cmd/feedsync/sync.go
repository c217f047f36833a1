package main

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"io/fs"
	"net/http"
	"net/url"
	"os"
	"time"

	"github.com/feedsync/go-feedsync/consumer"
	"github.com/feedsync/go-feedsync/feedsync"
	"github.com/feedsync/go-feedsync/httpfeed"
	"github.com/feedsync/go-feedsync/merge"
	"github.com/feedsync/go-feedsync/producer"
	"github.com/feedsync/go-feedsync/store"
)

// maxBackoff is the longest wait between failed rounds of sync --watch,
// unless --interval is longer.
const maxBackoff = 5 * time.Minute

// SyncCommand syncs a store or a feed file with a collection that
// 'feedsync serve' (httpfeed.Handler) serves.
type SyncCommand struct {
	m *Main

	store    string
	feed     string
	pull     bool
	push     bool
	by       string
	token    string
	watch    bool
	interval time.Duration
	policy   string
	format   formatFlag
	timeout  time.Duration
	json     bool

	// feedToken is the server's token after the last sync of --feed.
	feedToken string

	// afterRound, if set, is called after each round with its error;
	// returning false ends --watch (tests).
	afterRound func(err error) bool
	// showProgress forces the progress line, which is otherwise shown only
	// when standard error is a terminal (tests).
	showProgress bool
}

func (c *SyncCommand) flags() *flag.FlagSet {
	fs := newFlagSet("sync")
	fs.StringVar(&c.store, "store", "", "")
	fs.StringVar(&c.feed, "feed", "", "")
	fs.BoolVar(&c.pull, "pull", false, "")
	fs.BoolVar(&c.push, "push", false, "")
	fs.StringVar(&c.by, "by", "", "")
	fs.StringVar(&c.token, "token", "", "")
	fs.BoolVar(&c.watch, "watch", false, "")
	fs.DurationVar(&c.interval, "interval", 30*time.Second, "")
	fs.StringVar(&c.policy, "policy", "keep", "")
	fs.Var(&c.format, "format", "")
	fs.DurationVar(&c.timeout, "timeout", httpfeed.DefaultTimeout, "")
	fs.BoolVar(&c.json, "json", false, "")
	return fs
}

// Run syncs once, or until interrupted with --watch.
func (c *SyncCommand) Run(ctx context.Context, args []string) error {
	pos, err := parseArgs(c.flags(), args)
	if err != nil {
		return err
	}
	if err := wantArgs(pos, "URL"); err != nil {
		return err
	}
	u, err := url.Parse(pos[0])
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return usagef("%q is not an http:// or https:// URL", pos[0])
	}
	switch {
	case (c.store == "") == (c.feed == ""):
		return &usageError{msg: "give exactly one of --store DSN and --feed FILE", hint: "--store syncs a database (sqlite:PATH, postgres://…), --feed a feed file."}
	case c.pull && c.push:
		return usagef("--pull and --push cannot be used together (without either, sync does both)")
	case c.interval <= 0 || c.timeout <= 0:
		return usagef("--interval and --timeout must be positive")
	}
	dir := httpfeed.Both
	if c.pull {
		dir = httpfeed.Pull
	} else if c.push {
		dir = httpfeed.Push
	}
	policy, _, err := parsePolicy(c.policy)
	if err != nil {
		return err
	}
	// This endpoint's identifier names it to the server (whose knowledge
	// of what we hold is kept under it) and stamps automatic resolutions.
	by, err := c.m.endpoint(c.by)
	if err != nil {
		return err
	}
	token := c.token
	if token == "" {
		token = c.m.Getenv("FEEDSYNC_TOKEN")
	}
	client := &httpfeed.Client{
		URL:    pos[0],
		HTTP:   &http.Client{Timeout: c.timeout},
		Token:  token,
		Peer:   by,
		Remote: remoteName(u),
		Format: c.format.f,
		Policy: policy,
	}

	var st store.Store
	if c.store != "" {
		if st, err = c.m.openStore(ctx, c.store, true); err != nil {
			return err
		}
		defer st.Close()
	}
	// serverToken is the server's token after the last round, for the long
	// poll that waits for the next change.
	var serverToken string
	// local ends the wait for changes when the store commits one after
	// the round began (nil for a feed file, or a store that does not say).
	var local <-chan struct{}
	round := func() error {
		local = httpfeed.Changes(st)
		client.Stamp = c.m.stamp(by)
		p := c.newProgress()
		defer p.done()
		if st != nil {
			client.OnItem = p.update
			res, err := client.Sync(ctx, st, dir)
			if err != nil {
				return err
			}
			serverToken = res.Token
			c.report(fmt.Sprintf("%d item%s sent", res.PushedItems, plural(res.PushedItems, "", "s")), res.Pushed, dir != httpfeed.Pull, res.PulledKind, res.Pulled, res.TokenRejected)
			return nil
		}
		err := c.syncFeed(ctx, client, dir, p)
		serverToken = c.feedToken
		return err
	}
	if !c.watch {
		return round()
	}
	// Between rounds, wait for a change at the server (a long poll, where
	// it offers them) or in the local store (when it says so), else
	// --interval.
	await := func(ctx context.Context, d time.Duration) {
		if dir == httpfeed.Push {
			serverToken = "" // the server's changes do not matter
		}
		client.Await(ctx, local, serverToken, d)
	}
	return c.watchLoop(ctx, round, await)
}

// watchLoop runs round until ctx ends, each after the previous one and
// await (which returns after at most the duration it is given). After a
// failed round it waits 1s (or --interval if shorter), then twice as long
// after each further failure, up to maxBackoff (or --interval if longer),
// and at least what a 429 or 503 answer's Retry-After asks. An error the
// server will give again, whatever the wait (a bad token, a feed it
// refuses), ends the loop.
func (c *SyncCommand) watchLoop(ctx context.Context, round func() error, await func(context.Context, time.Duration)) error {
	base := min(c.interval, time.Second)
	limit := max(c.interval, maxBackoff)
	failures := 0
	for {
		err := round()
		if c.afterRound != nil && !c.afterRound(err) {
			return err
		}
		if ctx.Err() != nil {
			return nil // interrupted: a normal end of --watch
		}
		if err == nil {
			failures = 0
			await(ctx, c.interval)
			if ctx.Err() != nil {
				return nil
			}
			continue
		}
		if permanent(err) {
			return err
		}
		failures++
		wait := min(base<<min(failures-1, 20), limit)
		var se *httpfeed.StatusError
		if errors.As(err, &se) && se.RetryAfter > wait {
			wait = se.RetryAfter
		}
		fmt.Fprintf(c.m.Stderr, "feedsync sync: %s; retrying in %s\n", messageOf(err), wait)
		t := time.NewTimer(wait)
		select {
		case <-ctx.Done():
			t.Stop()
			return nil
		case <-t.C:
		}
	}
}

// permanent reports whether err is a refusal that retrying cannot change.
func permanent(err error) bool {
	var se *httpfeed.StatusError
	if !errors.As(err, &se) {
		return false
	}
	switch se.StatusCode {
	case http.StatusBadRequest, http.StatusUnauthorized, http.StatusForbidden, http.StatusNotFound,
		http.StatusMethodNotAllowed, http.StatusRequestEntityTooLarge, http.StatusUnsupportedMediaType:
		return true
	}
	return false
}

// remoteName is the name of the server in the local side's records: its
// URL without user info, query and fragment, and with "/" for an empty
// path, so that http://host and http://host/ are one server.
func remoteName(u *url.URL) string {
	v := *u
	v.User, v.RawQuery, v.ForceQuery, v.Fragment, v.RawFragment = nil, "", false, "", ""
	if v.Path == "" {
		v.Path, v.RawPath = "/", ""
	}
	return v.String()
}

// report prints what a round did.
func (c *SyncCommand) report(sent string, pushed *merge.Summary, didPush bool, kind string, pulled merge.Summary, rejectedToken string) {
	if c.watch && rejectedToken == "" && (pushed == nil || pushed.String() == (merge.Summary{}).String()) && !pulled.Changed() && pulled.Unchanged == 0 && pulled.Rejected == 0 {
		return // --watch reports only rounds that moved something
	}
	if c.json {
		c.reportJSON(pushed, kind, pulled, rejectedToken)
		return
	}
	if rejectedToken != "" {
		fmt.Fprintf(c.m.Stderr, "feedsync sync: the server did not know our token (%s); it sent its complete feed\n", rejectedToken)
	}
	if pushed != nil {
		fmt.Fprintf(c.m.Stderr, "push: %s; server: %s\n", sent, pushed)
		for _, r := range pushed.Rejections {
			fmt.Fprintf(c.m.Stderr, "feedsync sync: rejected by the server: %s\n", cleanMsg(r.Error()))
		}
		if pushed.Rejected > len(pushed.Rejections) {
			fmt.Fprintf(c.m.Stderr, "feedsync sync: %d more items rejected by the server\n", pushed.Rejected-len(pushed.Rejections))
		}
	} else if didPush {
		fmt.Fprintln(c.m.Stderr, "push: nothing to send")
	}
	if kind != "" {
		fmt.Fprintf(c.m.Stderr, "pull (%s feed): %s\n", kind, pulled)
		for _, r := range pulled.Rejections {
			fmt.Fprintf(c.m.Stderr, "feedsync sync: rejected from the server's feed: %s\n", cleanMsg(r.Error()))
		}
		if pulled.Conflicts > 0 && c.feed != "" {
			fmt.Fprintf(c.m.Stderr, "run 'feedsync conflicts %s' to review, and 'feedsync resolve' to settle them\n", c.feed)
		}
	}
}

// syncState is what sync keeps next to a feed file, in FILE.sync.json,
// for each server it syncs with.
type syncState struct {
	Remotes map[string]*remoteState `json:"remotes"`
}

// remoteState is the store.PeerState the client keeps for the server, and
// the file's digest when it was last written by a sync.
type remoteState struct {
	Received string `json:"received,omitempty"`
	Sent     string `json:"sent,omitempty"`
	Resume   string `json:"resume,omitempty"`
	// File is the SHA-256 of the feed file after the last sync: while
	// the file still has it, nothing changed here and nothing is pushed.
	File string `json:"file,omitempty"`
}

// statePath is the side file of a feed file.
func statePath(feed string) string { return feed + ".sync.json" }

func readState(path string) (*syncState, error) {
	st := &syncState{Remotes: map[string]*remoteState{}}
	b, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		return st, nil
	}
	if err != nil {
		return nil, err
	}
	if err := json.Unmarshal(b, st); err != nil {
		return nil, &usageError{msg: fmt.Sprintf("%s: %v", path, err), hint: "Remove the file: the next sync then compares versions with the server first."}
	}
	if st.Remotes == nil {
		st.Remotes = map[string]*remoteState{}
	}
	return st, nil
}

// fileDigest returns the SHA-256 of a file, "" when it does not exist.
func fileDigest(path string) (string, error) {
	f, err := os.Open(path)
	if errors.Is(err, fs.ErrNotExist) {
		return "", nil
	}
	if err != nil {
		return "", err
	}
	defer f.Close()
	h := sha256.New()
	if _, err := io.Copy(h, f); err != nil {
		return "", inFile(path, err)
	}
	return hex.EncodeToString(h.Sum(nil)), nil
}

// errUnchanged stops an atomic write whose new content would equal the old.
var errUnchanged = errors.New("unchanged")

// syncFeed syncs the feed file --feed with the same client as a store:
// the file is loaded into a memory store, which Client.Sync syncs with the
// server (pages, versions first, marks), and what the sync changed there
// is merged back into the file (merge.Feeds, written atomically, so the
// file keeps its order, its header and its items without sx:sync). The
// client's marks live in FILE.sync.json, written atomically after the
// file. A file unchanged since the last sync pushes nothing; a changed one
// pushes by versions first (the memory store is new each time), so only
// the items the server lacks travel.
func (c *SyncCommand) syncFeed(ctx context.Context, client *httpfeed.Client, dir httpfeed.Direction, p *progress) error {
	// From reading the file to saving the token, no other command may
	// rewrite it, or what this sync pulls could be dropped while the
	// token moves past it (see lock).
	release, err := c.m.lock(ctx, c.feed)
	if err != nil {
		return err
	}
	defer release()
	releaseState, err := c.m.lock(ctx, statePath(c.feed))
	if err != nil {
		return err
	}
	defer releaseState()
	state, err := readState(statePath(c.feed))
	if err != nil {
		return err
	}
	rs := state.Remotes[client.Remote]
	if rs == nil {
		rs = &remoteState{}
		state.Remotes[client.Remote] = rs
	}
	before, err := fileDigest(c.feed)
	if err != nil {
		return err
	}
	mem := store.NewMemory()
	defer mem.Close()
	if before != "" {
		if err := c.loadFeed(ctx, mem); err != nil {
			return err
		}
	}
	loaded, err := memLastSeq(ctx, mem)
	if err != nil {
		return err
	}
	if err := setPeerState(ctx, mem, client.Remote, store.PeerState{Received: rs.Received, Sent: rs.Sent, Resume: rs.Resume}); err != nil {
		return err
	}
	runDir := dir
	if dir == httpfeed.Both && before != "" && before == rs.File {
		runDir = httpfeed.Pull // nothing changed here since the last sync
	}
	var res httpfeed.SyncResult
	if dir == httpfeed.Push && before == rs.File {
		c.report("", nil, true, "", merge.Summary{}, "")
		return nil
	}
	client.OnItem = p.update
	res, err = client.Sync(ctx, mem, runDir)
	// What merged into the memory store goes into the file even when a
	// later page failed: its marks were committed with it.
	written, werr := c.writeBack(ctx, mem, loaded, before != "")
	if werr != nil {
		return werr
	}
	ps, perr := peerState(ctx, mem, client.Remote)
	if perr != nil {
		return perr
	}
	rs.Received, rs.Sent, rs.Resume = ps.Received, ps.Sent, ps.Resume
	c.feedToken = rs.Received
	// The server holds everything the file holds when this sync pushed,
	// or when the file had not changed since one that did.
	if synced := runDir != httpfeed.Pull || (before != "" && before == rs.File); err == nil && synced {
		after, derr := fileDigest(c.feed)
		if derr != nil {
			return derr
		}
		rs.File = after
		if written && res.Pulled.Conflicts > 0 {
			// The merge made versions the server lacks: push them next time.
			rs.File = ""
		}
	}
	if serr := writeAtomic(statePath(c.feed), func(w io.Writer) error {
		enc := json.NewEncoder(w)
		enc.SetIndent("", "  ")
		return enc.Encode(state)
	}); serr != nil {
		return fmt.Errorf("keep the sync state: %w", serr)
	}
	if err != nil {
		return err
	}
	sent := displayName(c.feed) + " sent"
	if runDir == httpfeed.Pull && dir != httpfeed.Pull {
		res.Pushed = nil
	}
	if res.PushedItems == 0 && res.Pushed == nil {
		sent = ""
	}
	c.report(sent, res.Pushed, dir != httpfeed.Pull, res.PulledKind, res.Pulled, res.TokenRejected)
	return nil
}

// loadFeed merges the feed file into the memory store mem.
func (c *SyncCommand) loadFeed(ctx context.Context, mem store.Store) error {
	f, err := os.Open(c.feed)
	if err != nil {
		return inFile(c.feed, err)
	}
	defer f.Close()
	r := feedsync.NewReader(f)
	if _, err := consumer.ConsumeReader(ctx, mem, r, consumer.Options{}); err != nil {
		return inFile(c.feed, err)
	}
	h, err := r.Header()
	if err != nil {
		return inFile(c.feed, err)
	}
	tx, err := mem.Begin(ctx, true)
	if err != nil {
		return err
	}
	defer tx.Rollback()
	if err := tx.SetFeedInfo(ctx, feedsync.FeedInfo{}, h.Format); err != nil {
		return err
	}
	return tx.Commit()
}

// writeBack merges the items the sync changed in mem (those after
// sequence loaded) into the feed file, atomically; it reports whether the
// file was written.
func (c *SyncCommand) writeBack(ctx context.Context, mem store.Store, loaded int64, exists bool) (bool, error) {
	var changed bytes.Buffer
	tx, err := mem.Begin(ctx, false)
	if err != nil {
		return false, err
	}
	defer tx.Rollback()
	since, err := producer.TokenAt(ctx, tx, mem.ID(), loaded)
	if err != nil {
		return false, err
	}
	res, err := producer.Page(ctx, tx, mem.ID(), since, &changed, producer.Options{Format: c.format.f})
	if err != nil {
		return false, err
	}
	if res.Items == 0 && exists {
		return false, nil
	}
	// A file that does not exist yet is made even when nothing came: the
	// first sync of a new endpoint leaves it a feed to edit.
	var local io.Reader
	if exists {
		f, err := os.Open(c.feed)
		if err != nil {
			return false, inFile(c.feed, err)
		}
		defer f.Close()
		local = f
	} else {
		// A new file starts as an empty feed of the format asked for, or
		// the server's.
		_, format, err := tx.FeedInfo(ctx)
		if err != nil {
			return false, err
		}
		if c.format.f != feedsync.FormatUnknown {
			format = c.format.f
		}
		if format == feedsync.FormatUnknown {
			format = firstFormat(changed.Bytes())
		}
		var buf bytes.Buffer
		if err := feedsync.WriteAll(&buf, feedsync.NewHeader(format, feedsync.FeedInfo{}), nil); err != nil {
			return false, err
		}
		local = &buf
	}
	var sum merge.Summary
	err = writeAtomic(c.feed, func(w io.Writer) error {
		var err error
		sum, err = merge.Feeds(ctx, local, &changed, w, merge.Options{Format: c.format.f})
		if err == nil && exists && !sum.Changed() {
			return errUnchanged
		}
		return err
	})
	if errors.Is(err, errUnchanged) {
		return false, nil
	}
	if err != nil {
		return false, fmt.Errorf("merge the server's changes into %s: %w", c.feed, err)
	}
	return true, nil
}

// firstFormat is the format of the first item of a feed, RSS if none.
func firstFormat(feed []byte) feedsync.Format {
	r := feedsync.NewReader(bytes.NewReader(feed))
	if it, err := r.Next(); err == nil && it.Format() != feedsync.FormatUnknown {
		return it.Format()
	}
	return feedsync.RSS
}

func memLastSeq(ctx context.Context, st store.Store) (int64, error) {
	tx, err := st.Begin(ctx, false)
	if err != nil {
		return 0, err
	}
	defer tx.Rollback()
	return tx.LastSeq(ctx)
}

func peerState(ctx context.Context, st store.Store, peer string) (store.PeerState, error) {
	tx, err := st.Begin(ctx, false)
	if err != nil {
		return store.PeerState{}, err
	}
	defer tx.Rollback()
	return tx.PeerState(ctx, peer)
}

func setPeerState(ctx context.Context, st store.Store, peer string, ps store.PeerState) error {
	tx, err := st.Begin(ctx, true)
	if err != nil {
		return err
	}
	defer tx.Rollback()
	if err := tx.SetPeerState(ctx, peer, ps); err != nil {
		return err
	}
	return tx.Commit()
}

func (c *SyncCommand) newProgress() *progress {
	return c.m.newProgress("sync", "received", c.showProgress)
}

// syncJSON is the summary of a sync round with --json: what the server
// did with what was pushed, and what the local merge did with what was
// pulled (absent when that direction did not run).
type syncJSON struct {
	Push          *mergeJSON `json:"push,omitempty"`
	PullKind      string     `json:"pull_kind,omitempty"` // "complete" or "partial"
	Pull          *mergeJSON `json:"pull,omitempty"`
	TokenRejected bool       `json:"token_rejected"`
}

// reportJSON prints a round's summary as one JSON object; with --watch,
// one per round (JSON Lines).
func (c *SyncCommand) reportJSON(pushed *merge.Summary, kind string, pulled merge.Summary, rejectedToken string) {
	j := syncJSON{TokenRejected: rejectedToken != ""}
	if pushed != nil {
		p := mergeSummaryJSON("server", *pushed)
		j.Push = &p
	}
	if kind != "" {
		out := c.feed
		if c.store != "" {
			out = storeLabel(c.store)
		}
		p := mergeSummaryJSON(out, pulled)
		j.PullKind, j.Pull = kind, &p
	}
	c.m.printJSON(j)
}

// Usage prints the help of sync.
func (c *SyncCommand) Usage() {
	fmt.Fprint(c.m.Stdout, `The sync command syncs a store or a feed file with a collection served by
'feedsync serve': it sends the local changes the server has not seen and
merges the server's changes this endpoint has not seen, in one request.
Conflicts are kept, as 'feedsync merge' keeps them.

Sync is resumable. It remembers, per server, the server's token and how
far local changes were sent: in the store (--store), or in FILE.sync.json
next to the feed file (--feed). Both move only after the local merge is
written, so a sync that is killed leaves both sides consistent, and the
next one picks up where it stopped. A summary goes to standard error, with
a progress line for big feeds when it is a terminal.

Usage:

	feedsync sync URL (--store DSN | --feed FILE) [arguments]

Arguments:

	--store DSN
	    Sync this store: sqlite:PATH (created if missing), postgres://…
	    or memory:.

	--feed FILE
	    Sync this feed file instead (created if missing). It is sent whole
	    when it changed since the last sync, and the server's changes are
	    merged into it, atomically.

	--pull
	    Only merge the server's changes.

	--push
	    Only send the local changes.

	--by ENDPOINT
	    This endpoint's identifier: the name the server knows it by (unless
	    --token says who it is), and the by of automatic resolutions.
	    Default: $FEEDSYNC_BY, else the one kept in the user config
	    directory.

	--token TOKEN
	    A bearer token for a server started with --token. Default:
	    $FEEDSYNC_TOKEN (which, unlike the flag, other users cannot see in
	    the process list).

	--watch
	    Keep syncing until interrupted (Ctrl-C or SIGTERM, the normal end
	    of --watch: exit 0, and a round cut short leaves the feed and the
	    sync state as they were), and report only the rounds that moved
	    something. Between rounds it waits for a change at the server (a
	    long poll, answered as soon as there is one) or in the local
	    store, for at most --interval; against a server that does not
	    offer long polls, it syncs every --interval. After a failure
	    the next try comes after 1s, then twice as long each time, up to
	    5 minutes (or what the server's Retry-After asks); a refusal that
	    retrying cannot change (a bad token, a feed the server rejects)
	    ends it.

	--interval DURATION
	    The longest time between syncs with --watch. Default: 30s.

	--policy POLICY
	    What to do with items the local merge leaves with conflicts, as for
	    'feedsync merge': keep (default), defer, source, destination, lww
	    or endpoint:NAME.

	--format rss|atom
	    The format of the feeds exchanged, and of a new --feed file.
	    Default: the store's or file's own, else the server's.

	--timeout DURATION
	    The longest one request may take. Default: 10m.

	--json
	    Print each round's summary as one JSON object on standard output
	    instead of text on standard error: {"push", "pull_kind", "pull",
	    "token_rejected"}: push what the server did with what was sent,
	    pull what the merge did with what came back (each as 'feedsync
	    merge --json' prints it), pull_kind "complete" or "partial", and
	    whether the server refused the resume token. With --watch, one
	    object per line.

Example:

	feedsync sync http://127.0.0.1:8080/ --feed tasks.xml --by laptop
	feedsync sync http://127.0.0.1:8080/tasks --store sqlite:phone.db --by phone --watch --interval 10s
`)
}
