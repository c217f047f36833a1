package store

import "sync"

// Notifier is implemented by stores that tell when changes commit, so that
// a server can answer a waiting client (a long poll) as soon as there is
// something new instead of at its next poll. Every store of this module
// implements it: Memory and the SQLite store for the commits of their own
// process, the PostgreSQL store for the commits of every process sharing
// its database.
type Notifier interface {
	// Changed returns a channel that is closed once a transaction that
	// took new sequence numbers (a Put) commits after the call. It may
	// also be closed without a change (for example after a lost database
	// connection, when changes may have gone unnoticed): a waiter reads
	// LastSeq again and waits on a fresh channel if nothing is new. To
	// miss nothing, call Changed before reading LastSeq.
	Changed() <-chan struct{}
}

// Signal is a broadcast for Notifier implementations: Changed returns a
// channel that the next Notify closes. The zero value is ready to use; it
// is safe for concurrent use.
type Signal struct {
	mu sync.Mutex
	ch chan struct{}
}

// Changed returns the channel the next Notify closes.
func (s *Signal) Changed() <-chan struct{} {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.ch == nil {
		s.ch = make(chan struct{})
	}
	return s.ch
}

// Notify wakes everyone waiting on a channel from Changed.
func (s *Signal) Notify() {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.ch != nil {
		close(s.ch)
		s.ch = nil
	}
}
