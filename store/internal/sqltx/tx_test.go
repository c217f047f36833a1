package sqltx

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/beevik/etree"
	"github.com/feedsync/go-feedsync/feedsync"
	"github.com/feedsync/go-feedsync/store"
	"github.com/feedsync/go-feedsync/store/internal/itemrow"
	"github.com/feedsync/go-feedsync/store/internal/txstate"
)

// fakeDriver records what the Tx asks of it, in order. Writes wait for
// Flush, as PostgreSQL's do; failWrite makes the write whose what it is
// fail at Flush.
type fakeDriver struct {
	state     *txstate.State
	calls     []string
	pending   []string
	items     map[string]bool
	failWrite string
}

func (d *fakeDriver) call(f string, args ...any) { d.calls = append(d.calls, fmt.Sprintf(f, args...)) }

func (d *fakeDriver) Exec(_ context.Context, q string, _ ...any) (int64, error) {
	d.call("exec %s", q)
	return 1, nil
}

func (d *fakeDriver) QueryRow(_ context.Context, q string, _ []any, _ ...any) error {
	d.call("query %s", q)
	return sql.ErrNoRows
}

func (d *fakeDriver) Query(_ context.Context, q string, _ ...any) (Rows, error) {
	d.call("query %s", q)
	return nil, errors.New("fake: no rows to give")
}

func (d *fakeDriver) Write(_ context.Context, what, item, _ string, _ ...any) error {
	d.pending = append(d.pending, what)
	if item != "" {
		d.items[item] = true
	}
	return nil
}

func (d *fakeDriver) Flush(context.Context) error {
	if len(d.pending) == 0 {
		return nil
	}
	d.call("flush %s", strings.Join(d.pending, ", "))
	pending := d.pending
	d.pending, d.items = nil, map[string]bool{}
	if slices.Contains(pending, d.failWrite) {
		return fmt.Errorf("fake: %w", d.state.Fail(fmt.Errorf("%s: refused", d.failWrite)))
	}
	return nil
}

func (d *fakeDriver) Pending(id string) bool { return d.items[id] }

func (d *fakeDriver) Peer(_ context.Context, peer string, _ bool) (any, bool, error) {
	return peer, true, nil
}

func (d *fakeDriver) SaveSeq(_ context.Context, seq int64) error {
	d.call("save seq %d", seq)
	return nil
}

func (d *fakeDriver) Commit(context.Context) error {
	d.call("commit")
	return nil
}

func (d *fakeDriver) Rollback() error {
	d.call("rollback")
	return nil
}

// rowBatcher is a fakeDriver that keeps the rows of Put itself.
type rowBatcher struct{ *fakeDriver }

func (d rowBatcher) Put(_ context.Context, seq int64, r itemrow.Row) error {
	d.call("row put %d %s", seq, r.ID)
	return nil
}

func (d rowBatcher) SetPeerVersion(_ context.Context, peer, id string, _ store.Version) error {
	d.call("row version %s %s", peer, id)
	return nil
}

var fakeDialect = Dialect{Name: "fake", Get: "get", Count: "count", AddHistory: "add history", Stat: "stat"}

func newFake(t *testing.T, batcher bool) (*Tx, *fakeDriver) {
	t.Helper()
	d := &fakeDriver{items: map[string]bool{}}
	var drv Driver = d
	if batcher {
		drv = rowBatcher{d}
	}
	tx := New(&fakeDialect, drv, txstate.State{Writable: true, Seq: 10, Seq0: 10}, &store.Signal{})
	d.state = &tx.State
	return tx, d
}

func item(t *testing.T, id string) *feedsync.Item {
	t.Helper()
	e := etree.NewElement("item")
	e.CreateElement("title").SetText(id)
	it, err := feedsync.Create(feedsync.RSS, e, id, feedsync.Stamp{By: "laptop"}, false)
	if err != nil {
		t.Fatal(err)
	}
	return it
}

// TestPendingWrites checks the order in which the Tx hands its work to a
// Driver that queues writes: a Get of an item no pending write changes
// reads at once, one of an item put waits for the writes, and Commit
// sends what is left before it saves the counter and the history mark.
func TestPendingWrites(t *testing.T) {
	ctx := context.Background()
	tx, d := newFake(t, false)
	if seq, err := tx.Put(ctx, item(t, "a")); err != nil || seq != 11 {
		t.Fatalf("Put = %d, %v", seq, err)
	}
	if err := tx.SetPeerSeq(ctx, "p", 11); err != nil {
		t.Fatal(err)
	}
	if _, err := tx.Get(ctx, "b"); err != nil {
		t.Fatal(err)
	}
	if _, err := tx.Get(ctx, "a"); err != nil {
		t.Fatal(err)
	}
	if _, err := tx.Put(ctx, item(t, "c")); err != nil {
		t.Fatal(err)
	}
	if err := tx.Commit(); err != nil {
		t.Fatal(err)
	}
	want := []string{
		"query get",
		`flush put item "a", set seq sent to peer "p"`,
		"query get",
		`flush put item "c"`,
		"save seq 12",
		"exec add history",
		"commit",
	}
	if !slices.Equal(d.calls, want) {
		t.Errorf("calls:\n%s\nwant:\n%s", strings.Join(d.calls, "\n"), strings.Join(want, "\n"))
	}
}

// TestRowBatcher checks that a Driver that keeps rows itself gets them,
// not a write of the Dialect's statement.
func TestRowBatcher(t *testing.T) {
	ctx := context.Background()
	tx, d := newFake(t, true)
	if _, err := tx.Put(ctx, item(t, "a")); err != nil {
		t.Fatal(err)
	}
	if err := tx.SetPeerVersion(ctx, "p", "a", store.Version{}); err != nil {
		t.Fatal(err)
	}
	want := []string{"row put 11 a", "row version p a"}
	if !slices.Equal(d.calls, want) || len(d.pending) != 0 {
		t.Errorf("calls %q, pending %q; want calls %q", d.calls, d.pending, want)
	}
}

// TestFailedWrite checks that a write refused when it is sent fails the
// Tx: the call that sent it says which write it was, later calls report
// the failure, and Commit rolls back.
func TestFailedWrite(t *testing.T) {
	ctx := context.Background()
	tx, d := newFake(t, false)
	d.failWrite = `put item "a"`
	if _, err := tx.Put(ctx, item(t, "a")); err != nil {
		t.Fatal(err)
	}
	_, err := tx.Count(ctx)
	if err == nil || !strings.Contains(err.Error(), `fake: count: fake: put item "a": refused`) {
		t.Errorf("Count after a refused write: %v", err)
	}
	if _, err := tx.Get(ctx, "b"); !errors.Is(err, store.ErrTxFailed) || !strings.Contains(err.Error(), `put item "a"`) {
		t.Errorf("Get after a refused write: %v", err)
	}
	if err := tx.Commit(); !errors.Is(err, store.ErrTxFailed) {
		t.Errorf("Commit after a refused write: %v", err)
	}
	if last := d.calls[len(d.calls)-1]; last != "rollback" || slices.Contains(d.calls, "commit") {
		t.Errorf("calls %q, want a rollback and no commit", d.calls)
	}
	if err := tx.Rollback(); !errors.Is(err, store.ErrTxDone) {
		t.Errorf("Rollback after Commit: %v", err)
	}
}
