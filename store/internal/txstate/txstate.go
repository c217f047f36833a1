package txstate

import (
	"context"
	"errors"
	"fmt"

	"github.com/feedsync/go-feedsync/feedsync"
)

// The errors of a transaction's life; package store documents them.
var (
	ErrClosed   = errors.New("store: closed")
	ErrTxDone   = errors.New("store: transaction already committed or rolled back")
	ErrReadOnly = errors.New("store: read-only transaction")
	ErrTxFailed = errors.New("store: transaction failed earlier")
)

// State is one transaction's life. The zero State is an open, read-only
// transaction of a store that never closes.
type State struct {
	// Writable says whether the transaction may write.
	Writable bool
	// Closed, if set, reports whether the store has been closed: every
	// method then fails with ErrClosed.
	Closed func() bool
	// Map, if set, rewrites a failure before Fail records it (a driver's
	// error on a closed store becomes ErrClosed).
	Map func(error) error
	// Seq is the last sequence number taken, Seq0 the one the transaction
	// began with. A writable transaction reads the store's counter at
	// Begin, holding the write lock, counts up (Next) and writes it back at
	// Commit: no other writer can run between.
	Seq, Seq0 int64

	done bool
	err  error  // the first failure
	mark string // the history mark of this transaction's changes, made on first use
}

// Check reports whether a method may run now: ErrTxDone once the
// transaction has ended, ErrTxFailed wrapping the first failure once it
// has failed, ErrReadOnly for a write in a read-only transaction (a misuse
// that attempted nothing, so not a failure), and otherwise the store's
// closing or ctx's end, which fail the transaction.
func (s *State) Check(ctx context.Context, write bool) error {
	if s.done {
		return ErrTxDone
	}
	if s.err != nil {
		return fmt.Errorf("%w: %w", ErrTxFailed, s.err)
	}
	if write && !s.Writable {
		return ErrReadOnly
	}
	if s.Closed != nil && s.Closed() {
		return s.Fail(ErrClosed)
	}
	if err := ctx.Err(); err != nil {
		return s.Fail(err)
	}
	return nil
}

// Fail records err as the transaction's failure, unless it failed before,
// and returns err (as Map rewrites it). PostgreSQL aborts a transaction at
// its first failed statement; every store behaves so.
func (s *State) Fail(err error) error {
	if s.Map != nil {
		err = s.Map(err)
	}
	if s.err == nil {
		s.err = err
	}
	return err
}

// Done reports whether the transaction has ended.
func (s *State) Done() bool { return s.done }

// Failed returns the transaction's first failure, or nil.
func (s *State) Failed() error { return s.err }

// CanCommit reports whether Commit may go on: ErrTxDone once the
// transaction has ended, ErrTxFailed wrapping the first failure, or
// ErrClosed for a closed store. On any error the caller rolls back and
// ends the transaction.
func (s *State) CanCommit() error {
	switch {
	case s.done:
		return ErrTxDone
	case s.err != nil:
		return fmt.Errorf("%w: %w", ErrTxFailed, s.err)
	case s.Closed != nil && s.Closed():
		return ErrClosed
	}
	return nil
}

// End marks the transaction ended.
func (s *State) End() { s.done = true }

// Next takes the next sequence number.
func (s *State) Next() int64 {
	s.Seq++
	return s.Seq
}

// Changed reports whether a writable transaction took sequence numbers:
// Commit then saves the counter and a history mark.
func (s *State) Changed() bool { return s.Writable && s.Seq != s.Seq0 }

// Mark returns the history mark of this transaction's changes, made on
// first use (Commit records it with Seq).
func (s *State) Mark() string {
	if s.mark == "" {
		s.mark = feedsync.NewID()
	}
	return s.mark
}

// OwnMark answers store.Tx.HistoryMark for the sequence numbers this
// transaction can answer alone: 0, which every store has seen, and those a
// writable transaction took itself (Mark, or none beyond Seq). own is false
// for every other seq: the store looks it up in what was committed.
func (s *State) OwnMark(seq int64) (mark string, ok, own bool) {
	switch {
	case seq == 0:
		return "", true, true
	case s.Writable && seq > s.Seq0:
		if seq > s.Seq {
			return "", false, true
		}
		return s.Mark(), true, true
	}
	return "", false, false
}
