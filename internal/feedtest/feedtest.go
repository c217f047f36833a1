// Package feedtest holds test helpers shared by the packages that drive
// stores: running a function in a transaction, putting and getting items,
// reading a store's sequence and manifest, and finding the PostgreSQL
// server the tests may use. Each helper fails the test on any error.
package feedtest

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"os"
	"testing"

	"github.com/feedsync/go-feedsync/feedsync"
	"github.com/feedsync/go-feedsync/producer"
	"github.com/feedsync/go-feedsync/store"
)

// PostgresEnv names the environment variable that gives the tests a
// PostgreSQL database (a DSN).
const PostgresEnv = "FEEDSYNC_TEST_POSTGRES"

// PostgresDSN returns the test database's DSN, or skips the test with a
// message saying how to enable it.
func PostgresDSN(t testing.TB) string {
	t.Helper()
	dsn := os.Getenv(PostgresEnv)
	if dsn == "" {
		t.Skip("PostgreSQL tests need a server: set " + PostgresEnv + "=postgres://postgres@127.0.0.1:5432/test?sslmode=disable")
	}
	return dsn
}

// WithTx runs f in a transaction of st and commits it.
func WithTx(t testing.TB, st store.Store, writable bool, f func(tx store.Tx)) {
	t.Helper()
	tx, err := st.Begin(context.Background(), writable)
	if err != nil {
		t.Fatal(err)
	}
	defer tx.Rollback()
	f(tx)
	if err := tx.Commit(); err != nil {
		t.Fatal(err)
	}
}

// Put stores items in one transaction.
func Put(t testing.TB, st store.Store, items ...*feedsync.Item) {
	t.Helper()
	WithTx(t, st, true, func(tx store.Tx) {
		for _, it := range items {
			if _, err := tx.Put(context.Background(), it); err != nil {
				t.Fatal(err)
			}
		}
	})
}

// Get returns the item with sync id id, or nil.
func Get(t testing.TB, st store.Store, id string) *feedsync.Item {
	t.Helper()
	var it *feedsync.Item
	WithTx(t, st, false, func(tx store.Tx) {
		var err error
		if it, err = tx.Get(context.Background(), id); err != nil {
			t.Fatal(err)
		}
	})
	return it
}

// LastSeq returns the store's latest change sequence number.
func LastSeq(t testing.TB, st store.Store) int64 {
	t.Helper()
	var last int64
	WithTx(t, st, false, func(tx store.Tx) {
		var err error
		if last, err = tx.LastSeq(context.Background()); err != nil {
			t.Fatal(err)
		}
	})
	return last
}

// Manifest returns the store's manifest (producer.StoreManifest).
func Manifest(t testing.TB, st store.Store) producer.Manifest {
	t.Helper()
	m, err := producer.StoreManifest(context.Background(), st)
	if err != nil {
		t.Fatal(err)
	}
	return m
}

// NotePostgres tells the developer, on the terminal, that the PostgreSQL
// tests of the package pkg are skipped because PostgresEnv is not set.
// Call it from TestMain. go test shows nothing that a passing package
// prints, t.Skip messages included, unless run with -v; so the note goes
// to the controlling terminal, and nowhere when there is none (CI sets the
// variable anyway).
func NotePostgres(pkg string) {
	if os.Getenv(PostgresEnv) != "" {
		return
	}
	tty, err := os.OpenFile("/dev/tty", os.O_WRONLY, 0)
	if err != nil {
		return
	}
	defer tty.Close()
	fmt.Fprintf(tty, "note: %s: PostgreSQL tests skipped; set %s=postgres://… to run them\n", pkg, PostgresEnv)
}

// HTTPGet sends a GET to url with c, setting the headers given as name, value
// pairs, and returns the response with its whole body as it came.
func HTTPGet(t testing.TB, c *http.Client, url string, header ...string) (*http.Response, []byte) {
	t.Helper()
	req, err := http.NewRequest("GET", url, nil)
	if err != nil {
		t.Fatal(err)
	}
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Set(header[i], header[i+1])
	}
	resp, err := c.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp, body
}
