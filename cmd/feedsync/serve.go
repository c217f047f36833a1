package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/signal"
	"slices"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/feedsync/go-feedsync/feedsync"
	"github.com/feedsync/go-feedsync/httpfeed"
	"github.com/feedsync/go-feedsync/store"
	"github.com/feedsync/go-feedsync/store/table"
)

// shutdownTimeout is how long serve waits, once asked to stop, for the
// requests in progress to finish; then it closes their connections, and
// merges still running roll back.
const shutdownTimeout = 30 * time.Second

// serveTimeouts are the deadlines of the server's connections, so that a
// slow or stalled client holds nothing but its own connection, and that
// only for a while (http.Server).
type serveTimeouts struct {
	header, read, write, idle time.Duration
}

// defaultTimeouts: a request's header within 10 s; its body (up to
// --max-body, received before the merge starts) within 5 minutes, 110 kB/s
// for a full 32 MiB; the whole exchange, a large feed answered included,
// within 15 minutes; an idle connection kept 2 minutes.
var defaultTimeouts = serveTimeouts{header: 10 * time.Second, read: 5 * time.Minute, write: 15 * time.Minute, idle: 2 * time.Minute}

// ServeCommand serves stores over HTTP (httpfeed.Handler).
type ServeCommand struct {
	m *Main

	store        string
	table        string
	addr         string
	collections  listFlag
	tokens       listFlag
	tlsCert      string
	tlsKey       string
	by           string
	policy       string
	maxBody      int64
	maxItems     int
	timeouts     serveTimeouts
	grants       listFlag
	relays       listFlag
	maxJump      int64
	retain       time.Duration
	compactFreq  time.Duration
	peers        listFlag
	peerInterval time.Duration

	// ready, if set, is called with the listening address once the server
	// accepts connections (tests).
	ready func(addr string)
	// wrap, if set, wraps the server's handler (tests).
	wrap func(http.Handler) http.Handler
}

func (c *ServeCommand) flags() *flag.FlagSet {
	fs := newFlagSet("serve")
	fs.StringVar(&c.store, "store", "sqlite:feedsync.db", "")
	fs.StringVar(&c.table, "table", "", "")
	fs.StringVar(&c.addr, "addr", "127.0.0.1:8080", "")
	fs.Var(&c.collections, "collection", "")
	fs.Var(&c.tokens, "token", "")
	fs.StringVar(&c.tlsCert, "tls-cert", "", "")
	fs.StringVar(&c.tlsKey, "tls-key", "", "")
	fs.StringVar(&c.by, "by", "", "")
	fs.StringVar(&c.policy, "policy", "keep", "")
	fs.Int64Var(&c.maxBody, "max-body", httpfeed.DefaultMaxBodyBytes, "")
	fs.IntVar(&c.maxItems, "max-items", httpfeed.DefaultMaxItems, "")
	fs.Var(&c.grants, "grant", "")
	fs.Var(&c.relays, "relay", "")
	fs.Int64Var(&c.maxJump, "max-jump", feedsync.DefaultMaxJump, "")
	fs.DurationVar(&c.timeouts.header, "read-header-timeout", defaultTimeouts.header, "")
	fs.DurationVar(&c.timeouts.read, "read-timeout", defaultTimeouts.read, "")
	fs.DurationVar(&c.timeouts.write, "write-timeout", defaultTimeouts.write, "")
	fs.DurationVar(&c.timeouts.idle, "idle-timeout", defaultTimeouts.idle, "")
	fs.DurationVar(&c.retain, "retain", 0, "")
	fs.DurationVar(&c.compactFreq, "compact-every", 0, "")
	fs.Var(&c.peers, "peer", "")
	fs.DurationVar(&c.peerInterval, "peer-interval", httpfeed.DefaultPeerInterval, "")
	return fs
}

// collection is one --collection NAME=DSN.
type collection struct{ name, dsn string }

// isTable reports whether the collection is an application's table
// (store/table): its DSN names one with ?table=NAME&key=COLUMN.
func (c collection) isTable() bool {
	_, q, ok := strings.Cut(c.dsn, "?")
	if !ok {
		return false
	}
	v, err := url.ParseQuery(q)
	return err == nil && v.Has("table")
}

// Run serves until ctx ends or the process gets SIGTERM or SIGINT.
func (c *ServeCommand) Run(ctx context.Context, args []string) error {
	fs := c.flags()
	pos, err := parseArgs(fs, args)
	if err != nil {
		return err
	}
	if err := wantArgs(pos); err != nil {
		return err
	}
	explicitStore := false
	fs.Visit(func(f *flag.Flag) { explicitStore = explicitStore || f.Name == "store" })
	cols, err := c.parseCollections(explicitStore)
	if err != nil {
		return err
	}
	tokens, err := parseTokens(c.tokens)
	if err != nil {
		return err
	}
	grants, err := parseGrants(c.grants, c.relays, tokens, cols)
	if err != nil {
		return err
	}
	if c.maxJump <= 0 {
		return usagef("--max-jump must be positive")
	}
	if (c.tlsCert == "") != (c.tlsKey == "") {
		return usagef("--tls-cert and --tls-key go together")
	}
	if c.maxBody <= 0 || c.maxItems <= 0 {
		return usagef("--max-body and --max-items must be positive")
	}
	if t := c.timeouts; t.header <= 0 || t.read <= 0 || t.write <= 0 || t.idle <= 0 {
		return usagef("--read-header-timeout, --read-timeout, --write-timeout and --idle-timeout must be positive")
	}
	if c.retain < 0 || c.compactFreq < 0 {
		return usagef("--retain and --compact-every must not be negative")
	}
	policy, stamps, err := parsePolicy(c.policy)
	if err != nil {
		return err
	}
	peerSpecs, err := parsePeers(c.peers)
	if err != nil {
		return err
	}
	if err := checkPeers(peerSpecs, cols); err != nil {
		return err
	}
	if c.peerInterval <= 0 {
		return usagef("--peer-interval must be positive")
	}
	by := c.by
	if stamps || by != "" || len(peerSpecs) > 0 || slices.ContainsFunc(cols, collection.isTable) {
		// A table's rows are published as changes by this endpoint too,
		// and peers name this server to each other by it. Resolutions
		// the server makes are its own updates (FS-RESOLVE-2).
		if by, err = c.m.endpoint(c.by); err != nil {
			return err
		}
	}

	logger := slog.New(slog.NewTextHandler(c.m.Stderr, nil))
	metrics := &httpfeed.Metrics{}
	stores := make([]store.Store, 0, len(cols))
	defer func() {
		for _, st := range stores {
			st.Close()
		}
	}()
	handlers := map[string]http.Handler{}
	// stopWaits ends the long polls at shutdown, which would otherwise
	// hold it for their whole wait.
	stopWaits := make(chan struct{})
	for _, col := range cols {
		var st store.Store
		if col.isTable() {
			st, err = table.OpenDSN(ctx, col.dsn, by)
		} else {
			st, err = c.m.openStore(ctx, col.dsn, true)
		}
		if err != nil {
			return err
		}
		stores = append(stores, st)
		handlers[col.name] = &httpfeed.Handler{
			Store:        st,
			Name:         col.name,
			By:           by,
			Policy:       policy,
			MaxBodyBytes: c.maxBody,
			MaxItems:     c.maxItems,
			Grants:       grants,
			MaxJump:      c.maxJump,
			Logger:       logger,
			Metrics:      metrics,
			Now:          c.m.Now,
			Stop:         stopWaits,
		}
	}
	var peers []*httpfeed.Peer
	if len(peerSpecs) > 0 {
		peers = c.newPeers(peerSpecs, cols, stores, by, logger)
		for _, p := range peers {
			metrics.AddPeer(p)
		}
	}
	mux := http.NewServeMux()
	mux.Handle("/metrics", metrics)
	if len(cols) == 1 && cols[0].name == "" {
		mux.Handle("/", withStatus(httpfeed.AtRoot(handlers[""]), peers))
	} else {
		mux.Handle("/", &httpfeed.Router{Collections: handlers, Grants: grants, Peers: peers})
	}
	var root http.Handler = mux
	if len(tokens) > 0 {
		root = httpfeed.BearerAuth(tokens, mux)
	}
	if c.wrap != nil {
		root = c.wrap(root)
	}

	srv := &http.Server{
		Handler:           root,
		ReadHeaderTimeout: c.timeouts.header,
		ReadTimeout:       c.timeouts.read,
		WriteTimeout:      c.timeouts.write,
		IdleTimeout:       c.timeouts.idle,
		ErrorLog:          slog.NewLogLogger(logger.Handler(), slog.LevelWarn),
	}
	srv.RegisterOnShutdown(func() { close(stopWaits) })
	ln, err := net.Listen("tcp", c.addr)
	if err != nil {
		return fmt.Errorf("listen on %s: %w", c.addr, err)
	}
	scheme := "http"
	if c.tlsCert != "" {
		scheme = "https"
	}
	var paths []string
	for _, col := range cols {
		paths = append(paths, "/"+col.name)
	}
	logger.Info("serving", "url", scheme+"://"+ln.Addr().String(), "collections", strings.Join(paths, " "), "metrics", "/metrics", "auth", len(tokens) > 0, "peers", len(peers))

	// SIGTERM (service managers) and SIGINT (Ctrl-C) stop the server
	// gracefully. Requests keep their own context, not this one, so a
	// merge in progress is not cancelled by the signal: Shutdown lets it
	// finish, and only after shutdownTimeout does Close cut it off, which
	// rolls it back.
	ctx, stop := signal.NotifyContext(ctx, syscall.SIGTERM, os.Interrupt)
	defer stop()
	errc := make(chan error, 1)
	go func() {
		if c.tlsCert != "" {
			errc <- srv.ServeTLS(ln, c.tlsCert, c.tlsKey)
		} else {
			errc <- srv.Serve(ln)
		}
	}()
	// Peers stop before the stores close (deferred above).
	peerCtx, stopPeers := context.WithCancel(ctx)
	waitPeers := runPeers(peerCtx, peers)
	defer waitPeers()
	defer stopPeers()
	if c.ready != nil {
		c.ready(ln.Addr().String())
	}
	stopCompaction := c.startCompaction(ctx, cols, stores, logger)
	defer stopCompaction()
	select {
	case err := <-errc:
		return fmt.Errorf("serve: %w", err)
	case <-ctx.Done():
	}
	logger.Info("shutting down", "timeout", shutdownTimeout)
	sctx, cancel := context.WithTimeout(context.Background(), shutdownTimeout)
	defer cancel()
	if err := srv.Shutdown(sctx); err != nil {
		logger.Warn("requests still running after the timeout; closing their connections", "error", err)
		srv.Close()
	}
	if err := <-errc; err != nil && !errors.Is(err, http.ErrServerClosed) {
		return fmt.Errorf("serve: %w", err)
	}
	logger.Info("stopped")
	return nil
}

// compactEvery returns how often serve compacts its stores: --compact-every,
// else a 24th of --retain between a minute and an hour; 0 for never.
func (c *ServeCommand) compactEvery() time.Duration {
	switch {
	case c.compactFreq > 0:
		return c.compactFreq
	case c.retain > 0:
		return min(max(c.retain/24, time.Minute), time.Hour)
	}
	return 0
}

// startCompaction compacts every store now and then every compactEvery
// until ctx ends (store.Compact: batches of items, each in its own
// transaction, so requests wait for one batch at most), logging what each
// run did. The caller calls the function returned, which stops them and
// waits, before closing the stores.
func (c *ServeCommand) startCompaction(ctx context.Context, cols []collection, stores []store.Store, logger *slog.Logger) (stop func()) {
	var wg sync.WaitGroup
	every := c.compactEvery()
	if every == 0 {
		return func() {}
	}
	ctx, cancel := context.WithCancel(ctx)
	logger.Info("compaction", "every", every, "retain", c.retain)
	for i, st := range stores {
		name := "/" + cols[i].name
		wg.Go(func() {
			t := time.NewTicker(every)
			defer t.Stop()
			for {
				start := time.Now()
				res, err := store.Compact(ctx, st, store.CompactOptions{Retain: c.retain, Now: c.m.Now})
				switch {
				case ctx.Err() != nil:
					return
				case err != nil:
					logger.Error("compaction failed", "collection", name, "error", err)
				default:
					logger.Info("compacted", "collection", name, "scanned", res.Scanned, "purged", res.Purged,
						"minimized", res.Minimized, "removed", res.Removed, "horizon", res.Horizon,
						"transactions", res.Transactions, "duration", time.Since(start))
					for _, err := range res.Oversized {
						logger.Error("item beyond the reader's limits", "collection", name, "error", err)
					}
				}
				select {
				case <-ctx.Done():
					return
				case <-t.C:
				}
			}
		})
	}
	return func() {
		cancel()
		wg.Wait()
	}
}

// parseCollections returns what to serve: the --collection flags, or the
// --store alone at the root.
func (c *ServeCommand) parseCollections(explicitStore bool) ([]collection, error) {
	if c.table != "" {
		if explicitStore || len(c.collections) > 0 {
			return nil, &usageError{
				msg:  "--table cannot be used with --store or --collection",
				hint: "Serve one table at / with --table, or name it in --collection NAME=DSN?table=T&key=K.",
			}
		}
		col := collection{"", c.table}
		if !col.isTable() {
			return nil, usagef("--table %q: the DSN must name the table and its key column, for example sqlite:app.db?table=tasks&key=id", c.table)
		}
		return []collection{col}, nil
	}
	if len(c.collections) == 0 {
		return []collection{{"", c.store}}, nil
	}
	if explicitStore {
		return nil, &usageError{
			msg:  "--store and --collection cannot be used together",
			hint: "Serve one store at / with --store, or several at /NAME with --collection NAME=DSN.",
		}
	}
	var cols []collection
	for _, s := range c.collections {
		name, dsn, ok := strings.Cut(s, "=")
		switch {
		case !ok || name == "" || dsn == "":
			return nil, usagef("--collection %q: want NAME=DSN, for example --collection tasks=sqlite:tasks.db", s)
		case strings.ContainsAny(name, "/?#%") || name == "metrics" || name == "." || name == "..":
			return nil, usagef("--collection %q: the name must be one path segment other than metrics", s)
		case slices.ContainsFunc(cols, func(c collection) bool { return c.name == name }):
			return nil, usagef("--collection %q: %s is given twice", s, name)
		}
		cols = append(cols, collection{name, dsn})
	}
	return cols, nil
}

// parseTokens reads --token TOKEN=PRINCIPAL flags.
func parseTokens(list []string) (map[string]string, error) {
	tokens := map[string]string{}
	for _, s := range list {
		tok, principal, ok := strings.Cut(s, "=")
		if !ok || tok == "" || principal == "" {
			return nil, usagef("--token: want TOKEN=PRINCIPAL, for example --token s3cret=laptop")
		}
		if !feedsync.ValidBy(principal) {
			return nil, &usageError{
				msg:  fmt.Sprintf("--token: principal %q is not a valid endpoint identifier", principal),
				hint: "The principal names the client's endpoint; use ASCII letters, digits and ()+,-.:=@;$_!*' only.",
			}
		}
		if _, dup := tokens[tok]; dup {
			return nil, usagef("--token: a token is given twice")
		}
		tokens[tok] = principal
	}
	return tokens, nil
}

// parseGrants reads --grant PRINCIPAL=COLLECTION[:ro|:rw],... and --relay
// PRINCIPAL flags. "/" names the store served alone at the root.
func parseGrants(grants, relays []string, tokens map[string]string, cols []collection) (httpfeed.Grants, error) {
	if len(grants)+len(relays) == 0 {
		return nil, nil
	}
	if len(tokens) == 0 {
		return nil, &usageError{msg: "--grant and --relay need --token", hint: "Grants name the principals of bearer tokens: --token SECRET=PRINCIPAL."}
	}
	known := map[string]bool{}
	for _, p := range tokens {
		known[p] = true
	}
	out := httpfeed.Grants{}
	for _, s := range grants {
		principal, spec, ok := strings.Cut(s, "=")
		if !ok || principal == "" || spec == "" {
			return nil, usagef("--grant %q: want PRINCIPAL=COLLECTION[:ro|:rw],..., for example --grant phone=tasks,notes:ro", s)
		}
		if !known[principal] {
			return nil, usagef("--grant %q: no --token names the principal %s", s, principal)
		}
		g := out[principal]
		if g.Collections == nil {
			g.Collections = map[string]httpfeed.Access{}
		}
		for part := range strings.SplitSeq(spec, ",") {
			name, mode, _ := strings.Cut(part, ":")
			access := httpfeed.ReadWrite
			switch mode {
			case "", "rw":
			case "ro":
				access = httpfeed.ReadOnly
			default:
				return nil, usagef("--grant %q: %q: the access is ro (read-only) or rw (read-write)", s, part)
			}
			name = strings.TrimPrefix(name, "/")
			if !slices.ContainsFunc(cols, func(c collection) bool { return c.name == name }) {
				return nil, usagef("--grant %q: no collection %q is served", s, "/"+name)
			}
			g.Collections[name] = access
		}
		out[principal] = g
	}
	for _, p := range relays {
		if !known[p] {
			return nil, usagef("--relay %q: no --token names this principal", p)
		}
		g := out[p]
		g.Relay = true
		out[p] = g
	}
	return out, nil
}

// Usage prints the help of serve.
func (c *ServeCommand) Usage() {
	fmt.Fprint(c.m.Stdout, `The serve command serves stores over HTTP, so that other endpoints sync with
them ('feedsync sync', or any HTTP client):

	GET  URL               the complete feed, with a FeedSync-Token header
	GET  URL?since=TOKEN   the changes after TOKEN (304 with If-None-Match
	                       while nothing changed)
	GET  URL?since=TOKEN&wait=30s
	                       the same, answered as soon as there is a change
	                       (a long poll), or 304 after the wait (at most 60s)
	GET  URL?since=TOKEN   with "Accept: text/event-stream": a stream of
	                       server-sent events, one each time something
	                       changes (its data is the latest token)
	POST URL               merge the feed in the body, in one transaction;
	                       with ?since=TOKEN the answer is the changes the
	                       client has not seen, so one request syncs both ways
	GET  /metrics          Prometheus metrics

A client names itself with the FeedSync-Peer header, or by its bearer token
when --token is given; the server does not send back what a client sent.
Logs go to standard error. SIGTERM or SIGINT stop the server: requests in
progress get 30 seconds to finish, then their merges are rolled back.

Usage:

	feedsync serve [arguments]

Arguments:

	--store DSN
	    The store to serve at /: sqlite:PATH (created if missing),
	    postgres://USER@HOST/DB (add feedsync_schema=NAME to choose a
	    schema) or memory:. Default: sqlite:feedsync.db.

	--table DSN?table=NAME&key=COLUMN[&columns=C1,C2]
	    Serve an application's own SQLite or PostgreSQL table at /,
	    tracked inline: triggers log the application's INSERT, UPDATE and
	    DELETE statements, which are published as changes by --by, and
	    merged items are written back into the rows (a deletion deletes
	    the row). columns are the payload's columns (default: all but
	    the key). The store's own tables go in the same database (with
	    PostgreSQL, give feedsync_schema=NAME and qualify the table).

	--collection NAME=DSN
	    Serve the store DSN at /NAME instead; repeat for several stores.
	    A DSN with ?table=NAME&key=COLUMN is a table, as for --table.
	    GET / lists them.

	--addr HOST:PORT
	    Where to listen. Default: 127.0.0.1:8080. Use :8080 to listen on
	    every interface.

	--token TOKEN=PRINCIPAL
	    Accept only requests with "Authorization: Bearer TOKEN" (for
	    every path, /metrics included); the client is then the endpoint
	    PRINCIPAL, whatever its FeedSync-Peer header says. Repeat for
	    several clients. Default: no authentication.

	--grant PRINCIPAL=COLLECTION[:ro|:rw],...
	    Limit the client PRINCIPAL (of a --token) to the collections
	    named, each read-only (ro) or read-write (rw, the default); / is
	    the store served with --store. It sees only those in GET /, and
	    gets 403 for the others. Repeat for several principals. Default:
	    every principal reads and writes every collection.

	--relay PRINCIPAL
	    Let PRINCIPAL send history entries made by other endpoints, as a
	    peer server forwarding its own clients' edits does. Every other
	    authenticated client may only send new entries by itself: an item
	    that carries a new entry by anyone else is rejected (403 in the
	    summary), so that no client can rewrite another's history.

	--max-jump N
	    How far the updates of an item an authenticated client sends may
	    run past the server's version of it (each update adds one).
	    Default: 10000.

	--tls-cert FILE
	--tls-key FILE
	    Serve HTTPS with this certificate and key (PEM files).

	--policy POLICY
	    What to do with items a POST leaves with conflicts, as for
	    'feedsync merge': keep (default), defer, source, destination, lww
	    or endpoint:NAME. Resolutions are updates by --by.

	--by ENDPOINT
	    This server's endpoint identifier, for the resolving policies,
	    the changes of a --table and its peers.
	    Default: $FEEDSYNC_BY, else the one kept in the user config
	    directory.

	--max-body BYTES
	    The largest request body accepted, after decompression.
	    Default: 33554432 (32 MiB).

	--max-items N
	    The most items a POSTed feed may hold. Default: 100000.

	--read-header-timeout DURATION
	--read-timeout DURATION
	--write-timeout DURATION
	--idle-timeout DURATION
	    Deadlines of each connection: for a request's header (default
	    10s); for the whole request, body included (default 5m); for the
	    request and its answer (default 15m); and for keeping an idle
	    connection (default 2m). A POST body is received in full before
	    its merge starts, so a slow client only holds its own connection.

	--retain DURATION
	    Compact every store periodically ('feedsync compact') and forget
	    tombstones whose deletion is older than DURATION (for example
	    720h): a client away longer than that is refused a partial feed
	    and re-initialises ('feedsync sync' does it by itself).
	    Default: 0, keep every tombstone.

	--compact-every DURATION
	    How often to compact. Default: with --retain, a 24th of it,
	    between 1m and 1h; without, never.

	--peer [COLLECTION=]URL[=TOKEN]
	    Keep the store in sync with the collection at URL, another
	    server, continuously (as 'feedsync sync --watch' would, with
	    long polls): repeat for several peers. Servers may peer in any
	    graph, loops included; a change crosses each link once. With
	    --collection, COLLECTION= says which served collection syncs
	    with URL (required; repeat the flag for each collection and
	    each of its peers); with --store it may be left out. With
	    =TOKEN, or =@FILE to read it from a file, requests to the peer
	    carry that bearer token; a peer that demands tokens must let
	    this server relay (its --relay), since it forwards the edits of
	    its own clients. The server names itself to its peers by --by.
	    GET / shows each peer's state (with --store, ask for it with
	    "Accept: application/json"), and /metrics counts per peer.

	--peer-interval DURATION
	    The longest time between two syncs with a peer: how often a peer
	    that does not offer long polls is polled. Default: 30s.

Example:

	feedsync serve --store sqlite:tasks.db --addr 127.0.0.1:8080
	feedsync serve --collection tasks=sqlite:tasks.db --collection notes=sqlite:notes.db --token s3cret=laptop
	feedsync serve --table 'sqlite:app.db?table=tasks&key=id' --by laptop
	feedsync serve --store sqlite:p1.db --addr 127.0.0.1:8081 --by p1 --peer http://127.0.0.1:8082/
	feedsync serve --collection tasks=sqlite:tasks.db --collection notes=sqlite:notes.db --by p1 \
	    --peer tasks=http://127.0.0.1:8082/tasks --peer notes=http://127.0.0.1:8082/notes
`)
}
