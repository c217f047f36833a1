package sqlite

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"errors"
	"fmt"
	"io/fs"
	"net/url"
	"os"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/feedsync/go-feedsync/store"
	"github.com/feedsync/go-feedsync/store/internal/sqltx"
	"github.com/feedsync/go-feedsync/store/internal/txstate"
	_ "modernc.org/sqlite" // the "sqlite" database/sql driver, pure Go
)

// Defaults of Options.
const (
	DefaultBusyTimeout = 10 * time.Second
	DefaultMaxConns    = 8
)

// Options tune a Store. The zero value gives the defaults.
type Options struct {
	// BusyTimeout is how long a statement waits for a lock held by another
	// process (another Store on the same file) before failing with
	// SQLITE_BUSY. Writers of one Store queue in Go and do not need it.
	// Default: DefaultBusyTimeout.
	BusyTimeout time.Duration
	// MaxConns bounds the open connections: read-only transactions run in
	// parallel on them, writable ones one at a time. Default:
	// DefaultMaxConns.
	MaxConns int
	// MustExist makes Open fail with store.ErrNotExist, creating nothing,
	// when path is not a file that holds a store: for programs that only
	// read a store, where a mistyped name must not create an empty
	// database. Default: false, Open creates the file and the tables.
	MustExist bool
}

// pageSize is the page size of a new database file.
const pageSize = 8192

// setPageSize gives a new (absent or empty) database file pages of
// pageSize bytes: 8 KiB pages hold rows of a compressed item of a
// kilobyte or two with a few percent left unused, where 4 KiB pages (the
// default) left an eighth of the file empty. The page size of a file is
// set before anything is written to it, WAL mode included, which the
// driver would set first from the DSN; an existing file keeps its own.
func setPageSize(path string, busy time.Duration) error {
	if fi, err := os.Stat(path); err == nil && fi.Size() > 0 {
		return nil
	}
	q := url.Values{}
	q.Add("_pragma", fmt.Sprintf("busy_timeout(%d)", busy.Milliseconds()))
	db, err := sql.Open("sqlite", path+"?"+q.Encode())
	if err != nil {
		return err
	}
	defer db.Close()
	// Another process may be creating the file meanwhile: then page_size
	// changes nothing, and WAL mode is set either way.
	_, err = db.Exec(fmt.Sprintf("PRAGMA page_size = %d; PRAGMA journal_mode = WAL", pageSize))
	return err
}

// Store is a store.Store in one SQLite database file.
type Store struct {
	db   *sql.DB
	id   string
	path string
	// writer holds a token while a writable Tx of this Store is open:
	// writers of one process queue here, with their ctx, instead of
	// spinning on SQLITE_BUSY. BEGIN IMMEDIATE and the busy timeout
	// serialise them with other processes.
	writer chan struct{}
	closed atomic.Bool

	// slots holds a token for each transaction open, at most
	// Options.MaxConns: the connections in use plus those in idle never
	// exceed the pool's bound, so s.db.Conn never waits for a connection
	// that sits unused in idle.
	slots chan struct{}
	done  chan struct{} // closed by Close, to wake Begins waiting for a slot
	mu    sync.Mutex
	idle  []*conn // connections of ended transactions, for the next ones

	signal store.Signal // Notify after a commit that took sequence numbers
}

// conn is a connection of the Store's own pool with the statements
// prepared on it. It outlives transactions: the next transaction that
// takes it reuses the statements instead of compiling them again, which
// is most of the cost of a short read-only transaction.
type conn struct {
	c     *sql.Conn
	stmts map[string]*sql.Stmt
}

// stmt returns the statement q prepared on c, preparing it the first time.
func (c *conn) stmt(ctx context.Context, q string) (*sql.Stmt, error) {
	if st, ok := c.stmts[q]; ok {
		return st, nil
	}
	st, err := c.c.PrepareContext(ctx, q)
	if err != nil {
		return nil, err
	}
	c.stmts[q] = st
	return st, nil
}

// close closes c's statements and c; with bad set it keeps database/sql
// from reusing the connection under it, whose state is unknown after a
// failure.
func (c *conn) close(bad bool) {
	for _, st := range c.stmts {
		st.Close()
	}
	c.stmts = nil
	if bad {
		discard(c.c)
	} else {
		c.c.Close()
	}
}

var _ store.Store = (*Store)(nil)

// Open opens the SQLite database at path, creating the file if needed, and
// brings its schema up to date (numbered migrations recorded in a
// schema_version table; re-opening an up-to-date database changes nothing).
// The database uses WAL mode, so readers never block the writer nor the
// writer the readers. A database written by a newer version of this package
// is refused with store.ErrSchemaVersion.
func Open(ctx context.Context, path string, opts Options) (*Store, error) {
	if path == "" || strings.ContainsRune(path, '?') {
		return nil, fmt.Errorf("sqlite: open %q: the path must be a non-empty file name without '?'", path)
	}
	if opts.BusyTimeout <= 0 {
		opts.BusyTimeout = DefaultBusyTimeout
	}
	if opts.MaxConns <= 0 {
		opts.MaxConns = DefaultMaxConns
	}
	// Connection settings go in the DSN so that every connection of the
	// pool gets them. synchronous=NORMAL is the usual choice with WAL: a
	// commit is atomic and consistent, and durable once the next checkpoint
	// has run (a power cut may lose the last commits, never corrupt).
	q := url.Values{}
	q.Add("_pragma", fmt.Sprintf("busy_timeout(%d)", opts.BusyTimeout.Milliseconds()))
	q.Add("_pragma", "journal_mode(WAL)")
	q.Add("_pragma", "synchronous(NORMAL)")
	if opts.MustExist {
		// Checked before the driver opens the file, which creates it.
		if _, err := os.Stat(path); errors.Is(err, fs.ErrNotExist) {
			return nil, fmt.Errorf("sqlite: open %s: %w", path, store.ErrNotExist)
		}
	}
	if !opts.MustExist {
		if err := setPageSize(path, opts.BusyTimeout); err != nil {
			return nil, fmt.Errorf("sqlite: open %s: %w", path, err)
		}
	}
	db, err := sql.Open("sqlite", path+"?"+q.Encode())
	if err != nil {
		return nil, fmt.Errorf("sqlite: open %s: %w", path, err)
	}
	db.SetMaxOpenConns(opts.MaxConns)
	db.SetMaxIdleConns(opts.MaxConns)
	if opts.MustExist {
		var n int
		err := db.QueryRowContext(ctx, `SELECT count(*) FROM sqlite_master WHERE type = 'table' AND name = 'schema_version'`).Scan(&n)
		if err == nil && n == 0 {
			err = store.ErrNotExist
		}
		if err != nil {
			db.Close()
			return nil, fmt.Errorf("sqlite: open %s: %w", path, err)
		}
	}
	id, err := migrate(ctx, db)
	// A new connection that meets another process's migration can get
	// SQLITE_BUSY at once, without the busy timeout (switching a new file
	// to WAL takes a lock no handler waits for): try again, a bounded
	// number of times.
	for try := 0; err != nil && strings.Contains(err.Error(), "SQLITE_BUSY") && try < 50 && ctx.Err() == nil; try++ {
		time.Sleep(20 * time.Millisecond)
		id, err = migrate(ctx, db)
	}
	if err != nil {
		db.Close()
		return nil, fmt.Errorf("sqlite: open %s: migrate: %w", path, err)
	}
	return &Store{
		db: db, id: id, path: path,
		writer: make(chan struct{}, 1),
		slots:  make(chan struct{}, opts.MaxConns),
		done:   make(chan struct{}),
	}, nil
}

// ID returns the store's identifier, kept in the database.
func (s *Store) ID() string { return s.id }

var _ store.Notifier = (*Store)(nil)

// Changed returns a channel closed by the next commit of a Put through
// this Store (store.Notifier). Commits by other processes, or by another
// Store open on the same file, are not seen.
func (s *Store) Changed() <-chan struct{} { return s.signal.Changed() }

// Close closes the database and the idle connections of the Store's pool.
// Transactions still open fail with store.ErrClosed; their connections
// close as they end.
func (s *Store) Close() error {
	s.mu.Lock()
	if s.closed.Swap(true) {
		s.mu.Unlock()
		return nil
	}
	idle := s.idle
	s.idle = nil
	s.mu.Unlock()
	close(s.done)
	for _, c := range idle {
		c.close(false)
	}
	if err := s.db.Close(); err != nil {
		return fmt.Errorf("sqlite: close %s: %w", s.path, err)
	}
	return nil
}

// Begin starts a transaction on a connection of its own: BEGIN IMMEDIATE
// for a writable one, which takes the database's write lock at once, so
// two writers serialise at Begin instead of one failing with SQLITE_BUSY
// in the middle of its work; a plain (deferred) BEGIN for a read-only one,
// which reads a snapshot of the committed state.
func (s *Store) Begin(ctx context.Context, writable bool) (store.Tx, error) {
	if s.closed.Load() {
		return nil, fmt.Errorf("sqlite: begin: %w", store.ErrClosed)
	}
	if writable {
		select {
		case s.writer <- struct{}{}:
		case <-ctx.Done():
			return nil, fmt.Errorf("sqlite: begin: %w", ctx.Err())
		}
	}
	tx, err := s.begin(ctx, writable)
	if err != nil {
		if writable {
			<-s.writer
		}
		if s.closed.Load() {
			err = store.ErrClosed
		}
		return nil, fmt.Errorf("sqlite: begin: %w", err)
	}
	return tx, nil
}

func (s *Store) begin(ctx context.Context, writable bool) (*sqltx.Tx, error) {
	c, err := s.acquire(ctx)
	if err != nil {
		return nil, err
	}
	d := &tx{s: s, c: c, conn: c.c}
	q := "BEGIN"
	if writable {
		q = "BEGIN IMMEDIATE"
	}
	if err := d.exec(ctx, q); err != nil {
		s.release(c, true)
		return nil, err
	}
	state := txstate.State{Writable: writable, Closed: s.closed.Load, Map: s.errClosedIf}
	if writable {
		if err := d.QueryRow(ctx, qLastSeq, nil, &state.Seq); err != nil {
			rollback(c.c)
			s.release(c, true)
			return nil, err
		}
		state.Seq0 = state.Seq
	}
	t := sqltx.New(&dialect, d, state, &s.signal)
	d.State = &t.State
	return t, nil
}

// acquire takes a slot and a connection for a new transaction: an idle one
// of the pool, with its prepared statements, or else a new one.
func (s *Store) acquire(ctx context.Context) (*conn, error) {
	select {
	case s.slots <- struct{}{}:
	case <-s.done:
		return nil, store.ErrClosed
	case <-ctx.Done():
		return nil, ctx.Err()
	}
	s.mu.Lock()
	if n := len(s.idle); n > 0 {
		c := s.idle[n-1]
		s.idle = s.idle[:n-1]
		s.mu.Unlock()
		return c, nil
	}
	s.mu.Unlock()
	sc, err := s.db.Conn(ctx)
	if err != nil {
		<-s.slots
		return nil, err
	}
	return &conn{c: sc, stmts: map[string]*sql.Stmt{}}, nil
}

// release gives back the connection and slot of an ended transaction. A
// connection after a failure (bad), or once the store is closed, is
// closed instead of kept for the next transaction.
func (s *Store) release(c *conn, bad bool) {
	s.mu.Lock()
	keep := !bad && !s.closed.Load()
	if keep {
		s.idle = append(s.idle, c)
	}
	s.mu.Unlock()
	if !keep {
		c.close(bad)
	}
	<-s.slots
}

// rollback ends the transaction open on conn, if any. It runs without the
// caller's ctx, which may be the reason the transaction failed.
func rollback(conn *sql.Conn) error {
	_, err := conn.ExecContext(context.Background(), "ROLLBACK")
	if err != nil && strings.Contains(err.Error(), "no transaction is active") {
		return nil // SQLite already rolled back (after an interrupt, say)
	}
	return err
}

// discard closes conn and keeps database/sql from reusing the connection
// under it, whose state is unknown after a failure.
func discard(conn *sql.Conn) {
	conn.Raw(func(any) error { return driver.ErrBadConn })
	conn.Close()
}

// errClosedIf returns store.ErrClosed in place of the errors database/sql
// gives once the store is closed.
func (s *Store) errClosedIf(err error) error {
	if err != nil && s.closed.Load() && !errors.Is(err, store.ErrClosed) {
		return fmt.Errorf("%w (%v)", store.ErrClosed, err)
	}
	return err
}
