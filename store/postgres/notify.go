package postgres

import (
	"context"
	"math/rand/v2"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
)

// Change notifications (store.Notifier) across processes: a writable Tx
// that took sequence numbers calls pg_notify on the store's channel in the
// statement that saves the counter, and PostgreSQL delivers the
// notification when, and only if, the transaction commits. Each Store that
// is asked for Changed keeps one connection of its own, outside the pool,
// LISTENing on the channel, and wakes its waiters on every notification. So
// servers sharing a database wake each other's long polls.
//
// The channel is named after the store's id, which every process reads
// from the database: stores in other schemas of the same database do not
// wake each other.

// Back-off of the listening connection after it fails: from
// listenMinBackoff, doubled at each failure up to listenMaxBackoff, with
// jitter so that servers that lost the database together do not
// reconnect together.
const (
	listenMinBackoff = 100 * time.Millisecond
	listenMaxBackoff = 30 * time.Second
)

// channelOf returns the notification channel of the store with id id.
func channelOf(id string) string {
	return "feedsync_" + strings.ReplaceAll(id, "-", "")
}

// Changed returns a channel closed once a change commits to the store,
// from this process or any other sharing the database (store.Notifier).
// The first call starts the listening connection, which Close ends. While
// that connection is down, waiters are woken (changes may go unnoticed
// meanwhile) and it is reconnected with back-off.
func (s *Store) Changed() <-chan struct{} {
	s.listenOnce.Do(s.startListening)
	return s.signal.Changed()
}

func (s *Store) startListening() {
	if s.closed.Load() {
		return
	}
	ctx, cancel := context.WithCancel(context.Background())
	s.listenStop = cancel
	s.listenDone = make(chan struct{})
	go s.listen(ctx)
}

// stopListening ends the listening connection, if any, and waits for it.
func (s *Store) stopListening() {
	s.listenOnce.Do(func() {}) // no listener may start after this
	if s.listenStop != nil {
		s.listenStop()
		<-s.listenDone
	}
}

// listen keeps a connection LISTENing until ctx ends.
func (s *Store) listen(ctx context.Context) {
	defer close(s.listenDone)
	backoff := listenMinBackoff
	for {
		start := time.Now()
		s.listenConn(ctx)
		if ctx.Err() != nil {
			return
		}
		// Changes committed while nobody listened were not announced:
		// let waiters look for themselves.
		s.signal.Notify()
		if time.Since(start) > listenMaxBackoff {
			backoff = listenMinBackoff // it worked for a while: a new failure
		}
		wait := backoff/2 + rand.N(backoff/2+1)
		backoff = min(2*backoff, listenMaxBackoff)
		t := time.NewTimer(wait)
		select {
		case <-ctx.Done():
			t.Stop()
			return
		case <-t.C:
		}
	}
}

// listenConn connects, LISTENs and turns notifications into Notify until
// the connection fails or ctx ends.
func (s *Store) listenConn(ctx context.Context) error {
	conn, err := pgx.ConnectConfig(ctx, s.connConfig.Copy())
	if err != nil {
		return err
	}
	defer func() {
		cctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		conn.Close(cctx)
	}()
	if _, err := conn.Exec(ctx, "LISTEN "+pgx.Identifier{s.channel}.Sanitize()); err != nil {
		return err
	}
	// Anything that committed before LISTEN took effect was not announced.
	s.signal.Notify()
	for {
		if _, err := conn.WaitForNotification(ctx); err != nil {
			return err
		}
		s.signal.Notify()
	}
}
