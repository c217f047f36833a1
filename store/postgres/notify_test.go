package postgres

import (
	"context"
	"testing"
	"time"

	"github.com/feedsync/go-feedsync/feedsync"
	"github.com/jackc/pgx/v5"
)

// putOne commits one new item through s.
func putOne(t *testing.T, s *Store, id string) {
	t.Helper()
	ctx := t.Context()
	tx, err := s.Begin(ctx, true)
	if err != nil {
		t.Fatal(err)
	}
	defer tx.Rollback()
	it, err := feedsync.Create(feedsync.RSS, nil, id, feedsync.Stamp{By: "laptop", When: time.Date(2026, 12, 7, 9, 0, 0, 0, time.UTC)}, false)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := tx.Put(ctx, it); err != nil {
		t.Fatal(err)
	}
	if err := tx.Commit(); err != nil {
		t.Fatal(err)
	}
}

// waitClosed fails t unless ch is closed within 10 seconds (far longer than
// a notification takes; the bound only keeps a broken test from hanging).
func waitClosed(t *testing.T, ch <-chan struct{}, what string) {
	t.Helper()
	select {
	case <-ch:
	case <-time.After(10 * time.Second):
		t.Fatalf("%s: no notification within 10s", what)
	}
}

// Two handles on one schema, as two servers sharing a database: a change
// committed through one wakes the waiters of the other (LISTEN/NOTIFY),
// also after the listening connection was killed and came back.
func TestNotifyAcrossHandles(t *testing.T) {
	dsn := testDSN(t)
	ctx := t.Context()
	schema := newSchema(t, dsn)
	a, err := Open(ctx, dsn, Options{Schema: schema})
	if err != nil {
		t.Fatal(err)
	}
	defer a.Close()
	b, err := Open(ctx, dsn, Options{Schema: schema})
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	other, err := Open(ctx, dsn, Options{Schema: newSchema(t, dsn)})
	if err != nil {
		t.Fatal(err)
	}
	defer other.Close()
	conn, err := pgx.Connect(ctx, dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(context.Background())

	// The first Changed starts the listener.
	b.Changed()
	ch := listening(t, conn, b)
	putOne(t, other, "elsewhere") // another schema: another channel
	select {
	case <-ch:
		t.Fatal("a change in another schema woke the waiter")
	case <-time.After(200 * time.Millisecond):
	}
	putOne(t, a, "one")
	waitClosed(t, ch, "change through the other handle")

	// Kill b's listening connection, as a database restart or a network
	// failure would: waiters wake (changes may go unannounced while it is
	// down), and once it is back, changes wake them again.
	ch = b.Changed()
	var killed int
	if err := conn.QueryRow(ctx, `SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity WHERE query = $1`,
		listenQuery(b)).Scan(&killed); err != nil {
		t.Fatal(err)
	}
	if killed != 1 {
		t.Fatalf("killed %d listening connections, want 1", killed)
	}
	waitClosed(t, ch, "lost listening connection")
	ch = listening(t, conn, b)
	putOne(t, a, "two")
	waitClosed(t, ch, "change after the reconnection")
}

func listenQuery(s *Store) string { return "LISTEN " + pgx.Identifier{s.channel}.Sanitize() }

// listening waits until s's listening connection is up (seen from conn),
// then returns a channel of s.Changed that stayed open for 300ms: the
// wake-up the listener gives when it starts listening is past.
func listening(t *testing.T, conn *pgx.Conn, s *Store) <-chan struct{} {
	t.Helper()
	for i := 0; ; i++ {
		var n int
		if err := conn.QueryRow(t.Context(), `SELECT count(*) FROM pg_stat_activity WHERE query = $1 AND state = 'idle'`, listenQuery(s)).Scan(&n); err != nil {
			t.Fatal(err)
		}
		if n == 1 {
			break
		}
		if i == 200 {
			t.Fatal("the listening connection did not come up in 10s")
		}
		time.Sleep(50 * time.Millisecond)
	}
	for range 20 {
		ch := s.Changed()
		select {
		case <-ch:
		case <-time.After(300 * time.Millisecond):
			return ch
		}
	}
	t.Fatal("Changed() keeps closing without changes")
	return nil
}
