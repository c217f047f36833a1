package postgres

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"

	"github.com/feedsync/go-feedsync/store"
	"github.com/feedsync/go-feedsync/store/internal/sqltx"
	"github.com/feedsync/go-feedsync/store/internal/txstate"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
)

// Options tune a Store. The zero value gives the defaults.
type Options struct {
	// Schema is the PostgreSQL schema that holds the store's tables; it is
	// created if missing and put first in every connection's search_path.
	// Several stores can share a database, each in its own schema.
	// Default: "", which uses the connection's search_path as the DSN sets
	// it (normally the public schema).
	Schema string
	// MaxConns bounds the connection pool. Default: 0, pgxpool's default
	// (the greater of 4 and the number of CPUs), or pool_max_conns in the
	// DSN.
	MaxConns int32
	// MustExist makes Open fail with store.ErrNotExist, creating nothing,
	// when the schema does not hold a store yet: for programs that only
	// read a store, where a mistyped schema name must not create an empty
	// one. Default: false, Open creates the schema and the tables.
	MustExist bool
}

// Store is a store.Store in a PostgreSQL database, shared safely by any
// number of processes.
type Store struct {
	pool   *pgxpool.Pool
	id     string
	closed atomic.Bool

	// Change notifications (notify.go).
	connConfig *pgx.ConnConfig // for the listening connection
	channel    string
	signal     store.Signal
	listenOnce sync.Once
	listenStop context.CancelFunc
	listenDone chan struct{}
}

var (
	_ store.Store    = (*Store)(nil)
	_ store.Notifier = (*Store)(nil)
)

// Open connects to the database named by dsn (a postgres:// URL or a
// key=value string, as pgx reads them) and brings the schema up to date
// (numbered migrations recorded in feedsync_schema_version; re-opening an
// up-to-date database changes nothing). A database written by a newer
// version of this package is refused with store.ErrSchemaVersion.
func Open(ctx context.Context, dsn string, opts Options) (*Store, error) {
	cfg, err := pgxpool.ParseConfig(dsn)
	if err != nil {
		return nil, fmt.Errorf("postgres: open: %w", err)
	}
	if opts.Schema != "" {
		cfg.ConnConfig.RuntimeParams["search_path"] = pgx.Identifier{opts.Schema}.Sanitize()
	}
	if opts.MaxConns > 0 {
		cfg.MaxConns = opts.MaxConns
	}
	pool, err := pgxpool.NewWithConfig(ctx, cfg)
	if err != nil {
		return nil, fmt.Errorf("postgres: open: %w", err)
	}
	if opts.MustExist {
		if err := mustExist(ctx, pool); err != nil {
			pool.Close()
			return nil, fmt.Errorf("postgres: open: %w", err)
		}
	}
	id, err := migrate(ctx, pool, opts.Schema)
	if err != nil {
		pool.Close()
		return nil, fmt.Errorf("postgres: open: migrate: %w", err)
	}
	return &Store{pool: pool, id: id, connConfig: cfg.ConnConfig, channel: channelOf(id)}, nil
}

// mustExist returns store.ErrNotExist unless the schema the connections
// use (Options.Schema, else the search_path) holds a store: to_regclass
// finds the version table through the search_path, and finds nothing when
// the schema itself is missing.
func mustExist(ctx context.Context, pool *pgxpool.Pool) error {
	var found bool
	if err := pool.QueryRow(ctx, `SELECT to_regclass('feedsync_schema_version') IS NOT NULL`).Scan(&found); err != nil {
		return err
	}
	if !found {
		return store.ErrNotExist
	}
	return nil
}

// ID returns the store's identifier, kept in the database.
func (s *Store) ID() string { return s.id }

// Close closes the connection pool and the listening connection. It waits for transactions in progress
// to end.
func (s *Store) Close() error {
	if !s.closed.Swap(true) {
		s.stopListening()
		s.pool.Close()
	}
	return nil
}

// Begin starts a transaction at isolation level READ COMMITTED. A writable
// one then locks the sequence counter row, which it holds until it ends:
// writers run one at a time, across every process sharing the database,
// and commit in the order of the sequence numbers they hand out. ctx bounds
// the wait for that lock.
func (s *Store) Begin(ctx context.Context, writable bool) (store.Tx, error) {
	if s.closed.Load() {
		return nil, fmt.Errorf("postgres: begin: %w", store.ErrClosed)
	}
	opts := pgx.TxOptions{IsoLevel: pgx.ReadCommitted, AccessMode: pgx.ReadOnly}
	if writable {
		opts.AccessMode = pgx.ReadWrite
	}
	ptx, err := s.pool.BeginTx(ctx, opts)
	if err != nil {
		return nil, fmt.Errorf("postgres: begin: %w", s.errClosedIf(err))
	}
	state := txstate.State{Writable: writable, Closed: s.closed.Load, Map: s.errClosedIf}
	if writable {
		if err := ptx.QueryRow(ctx, `SELECT seq FROM feedsync_counter WHERE k = 1 FOR UPDATE`).Scan(&state.Seq); err != nil {
			ptx.Rollback(context.Background())
			return nil, fmt.Errorf("postgres: begin: lock the sequence: %w", s.errClosedIf(err))
		}
		state.Seq0 = state.Seq
	}
	d := &tx{s: s, tx: ptx}
	t := sqltx.New(&dialect, d, state, &s.signal)
	d.State = &t.State
	return t, nil
}

// errClosedIf returns store.ErrClosed in place of the errors pgxpool gives
// once the store is closed.
func (s *Store) errClosedIf(err error) error {
	if err != nil && s.closed.Load() && !errors.Is(err, store.ErrClosed) {
		return fmt.Errorf("%w (%v)", store.ErrClosed, err)
	}
	return err
}
