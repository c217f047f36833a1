package httpfeed_test

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/beevik/etree"
	"github.com/jackc/pgx/v5"

	"github.com/feedsync/go-feedsync/feedsync"
	"github.com/feedsync/go-feedsync/internal/feedtest"
	"github.com/feedsync/go-feedsync/store"
	"github.com/feedsync/go-feedsync/store/postgres"
	"github.com/feedsync/go-feedsync/store/sqlite"
)

// Store helpers shared with the other packages that drive stores.
var (
	put         = feedtest.Put
	withTx      = feedtest.WithTx
	get         = feedtest.Get
	lastSeq     = feedtest.LastSeq
	manifest    = feedtest.Manifest
	postgresDSN = feedtest.PostgresDSN
)

var day = time.Date(2009, 4, 2, 0, 0, 0, 0, time.UTC)

func stamp(by string, minute int) feedsync.Stamp {
	return feedsync.Stamp{By: by, When: day.Add(time.Duration(minute) * time.Minute)}
}

// rssItem returns an RSS <item> payload.
func rssItem(title string) *etree.Element {
	e := etree.NewElement("item")
	e.CreateElement("title").SetText(title)
	e.CreateElement("description").SetText(title + " description")
	return e
}

func must(it *feedsync.Item, err error) *feedsync.Item {
	if err != nil {
		panic(err)
	}
	return it
}

func create(id, by string, minute int) *feedsync.Item {
	return must(feedsync.Create(feedsync.RSS, rssItem(id+" by "+by), id, stamp(by, minute), false))
}

func update(it *feedsync.Item, by string, minute int) *feedsync.Item {
	return must(feedsync.Update(it, rssItem(fmt.Sprintf("%s by %s at %d", it.ID(), by, minute)), stamp(by, minute)))
}

// title returns the title of the item's payload.
func title(t testing.TB, it *feedsync.Item) string {
	t.Helper()
	p, err := it.Payload()
	if err != nil {
		t.Fatal(err)
	}
	if e := p.SelectElement("title"); e != nil {
		return e.Text()
	}
	return ""
}

func newMemory(t testing.TB) store.Store {
	s := store.NewMemory()
	t.Cleanup(func() { s.Close() })
	return s
}

func newSQLite(t testing.TB) store.Store {
	t.Helper()
	s, err := sqlite.Open(context.Background(), filepath.Join(t.TempDir(), "store.db"), sqlite.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

// newPostgresSchema returns a fresh schema name, dropped with everything in
// it when t ends.
func newPostgresSchema(t testing.TB, dsn string) string {
	schema := "feedsync_httpfeed_test_" + strings.ReplaceAll(strings.ToLower(feedsync.NewID()), "-", "")
	t.Cleanup(func() {
		ctx := context.Background()
		conn, err := pgx.Connect(ctx, dsn)
		if err != nil {
			t.Errorf("drop schema %s: %v", schema, err)
			return
		}
		defer conn.Close(ctx)
		if _, err := conn.Exec(ctx, `DROP SCHEMA IF EXISTS `+pgx.Identifier{schema}.Sanitize()+` CASCADE`); err != nil {
			t.Errorf("drop schema %s: %v", schema, err)
		}
	})
	return schema
}

func openPostgres(t testing.TB, dsn, schema string) store.Store {
	t.Helper()
	s, err := postgres.Open(context.Background(), dsn, postgres.Options{Schema: schema})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

// edit updates item id in st as endpoint by, or creates it.
func edit(t testing.TB, st store.Store, id, by string, minute int) {
	t.Helper()
	withTx(t, st, true, func(tx store.Tx) {
		ctx := context.Background()
		it, err := tx.Get(ctx, id)
		if err != nil {
			t.Fatal(err)
		}
		if it == nil {
			it = create(id, by, minute)
		} else {
			it = update(it, by, minute)
		}
		if _, err := tx.Put(ctx, it); err != nil {
			t.Fatal(err)
		}
	})
}

func count(t testing.TB, st store.Store) int {
	t.Helper()
	var n int
	withTx(t, st, false, func(tx store.Tx) {
		var err error
		if n, err = tx.Count(context.Background()); err != nil {
			t.Fatal(err)
		}
	})
	return n
}

// feedOf writes items into an RSS feed.
func feedOf(t testing.TB, items ...*feedsync.Item) []byte {
	t.Helper()
	var buf bytes.Buffer
	h := feedsync.NewHeader(feedsync.RSS, feedsync.FeedInfo{Title: "incoming"})
	if err := feedsync.WriteAll(&buf, h, items); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// readFeed parses a feed body.
func readFeed(t testing.TB, body []byte) (*feedsync.Header, []*feedsync.Item) {
	t.Helper()
	h, items, err := feedsync.ReadAll(bytes.NewReader(body))
	if err != nil {
		t.Fatalf("read feed: %v\n%s", err, body)
	}
	return h, items
}

func ids(items []*feedsync.Item) []string {
	var out []string
	for _, it := range items {
		out = append(out, it.ID())
	}
	return out
}

// serve runs req through h and returns the recorded response.
func serve(h http.Handler, req *http.Request) *httptest.ResponseRecorder {
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	return rec
}

func newRequest(method, target string, body []byte, header ...string) *http.Request {
	var r io.Reader
	if body != nil {
		r = bytes.NewReader(body)
	}
	req := httptest.NewRequest(method, target, r)
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Set(header[i], header[i+1])
	}
	return req
}

// newServer serves h on a loopback address until t ends.
func newServer(t testing.TB, h http.Handler) *httptest.Server {
	srv := httptest.NewServer(h)
	t.Cleanup(srv.Close)
	return srv
}

// testClient is an HTTP client for loopback servers, with a timeout so that
// no test hangs on a request.
var testClient = &http.Client{Timeout: 30 * time.Second}

func itoa(i int) string { return strconv.Itoa(i) }

// storeOfBenchItems returns a memory store holding n items of about 1.5
// KB (benchItem), enough that a feed of them is compressed.
func storeOfBenchItems(t testing.TB, n int) store.Store {
	t.Helper()
	st := newMemory(t)
	items := make([]*feedsync.Item, n)
	for i := range items {
		items[i] = benchItem(i)
	}
	put(t, st, items...)
	return st
}
