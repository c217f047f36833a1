package txstate

import (
	"context"
	"errors"
	"testing"
)

// TestState walks a transaction through its life: a write in a read-only
// transaction is refused without failing it; the first failure is kept
// and reported by every later call; a closed store and a cancelled ctx
// fail it; Commit is refused once it ended or failed.
func TestState(t *testing.T) {
	ctx := context.Background()
	var s State
	if err := s.Check(ctx, false); err != nil {
		t.Fatalf("read in a new transaction: %v", err)
	}
	if err := s.Check(ctx, true); !errors.Is(err, ErrReadOnly) || s.Failed() != nil {
		t.Errorf("write in a read-only transaction: %v, failed %v", err, s.Failed())
	}
	first, second := errors.New("first"), errors.New("second")
	s.Fail(first)
	s.Fail(second)
	if err := s.Check(ctx, false); !errors.Is(err, ErrTxFailed) || !errors.Is(err, first) || errors.Is(err, second) {
		t.Errorf("after two failures: %v", err)
	}
	if err := s.CanCommit(); !errors.Is(err, ErrTxFailed) || !errors.Is(err, first) {
		t.Errorf("commit after a failure: %v", err)
	}
	s.End()
	if err := s.Check(ctx, false); !errors.Is(err, ErrTxDone) {
		t.Errorf("after End: %v", err)
	}
	if err := s.CanCommit(); !errors.Is(err, ErrTxDone) {
		t.Errorf("commit after End: %v", err)
	}

	closed := false
	c := State{Writable: true, Closed: func() bool { return closed }, Map: func(err error) error {
		if closed {
			return ErrClosed
		}
		return err
	}}
	closed = true
	if err := c.Check(ctx, true); !errors.Is(err, ErrClosed) || !errors.Is(c.Failed(), ErrClosed) {
		t.Errorf("closed store: %v, failed %v", err, c.Failed())
	}
	if err := c.Fail(errors.New("driver: connection reset")); !errors.Is(err, ErrClosed) {
		t.Errorf("Map: %v", err)
	}

	cctx, cancel := context.WithCancel(ctx)
	cancel()
	var d State
	if err := d.Check(cctx, false); !errors.Is(err, context.Canceled) || !errors.Is(d.Failed(), context.Canceled) {
		t.Errorf("cancelled ctx: %v, failed %v", err, d.Failed())
	}
}

// TestMarks checks the sequence numbers and the history mark of a
// writable transaction (store.Tx.HistoryMark).
func TestMarks(t *testing.T) {
	s := State{Writable: true, Seq: 10, Seq0: 10}
	if s.Changed() {
		t.Error("changed before any Next")
	}
	if mark, ok, own := s.OwnMark(0); mark != "" || !ok || !own {
		t.Errorf("OwnMark(0) = %q, %v, %v", mark, ok, own)
	}
	if _, _, own := s.OwnMark(10); own {
		t.Error("seq 10, committed before, answered by the transaction")
	}
	if _, ok, own := s.OwnMark(11); ok || !own {
		t.Errorf("seq 11 before it was taken: ok %v, own %v", ok, own)
	}
	if n := s.Next(); n != 11 || !s.Changed() {
		t.Errorf("Next = %d, changed %v", n, s.Changed())
	}
	mark, ok, own := s.OwnMark(11)
	if mark == "" || !ok || !own || mark != s.Mark() {
		t.Errorf("OwnMark(11) = %q, %v, %v; Mark %q", mark, ok, own, s.Mark())
	}
	r := State{Seq: 5, Seq0: 5}
	if _, _, own := r.OwnMark(7); own || r.Changed() {
		t.Error("a read-only transaction answered a mark itself")
	}
}
