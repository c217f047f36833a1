package consumer_test

import (
	"bytes"
	"context"
	"fmt"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/beevik/etree"
	"github.com/jackc/pgx/v5"

	"github.com/feedsync/go-feedsync/consumer"
	"github.com/feedsync/go-feedsync/feedsync"
	"github.com/feedsync/go-feedsync/internal/feedtest"
	"github.com/feedsync/go-feedsync/merge"
	"github.com/feedsync/go-feedsync/producer"
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

// entry returns an Atom <entry> payload that declares its namespace, so that
// its digest survives a trip through a feed or a store.
func entry(title string) *etree.Element {
	e := etree.NewElement("entry")
	e.CreateAttr("xmlns", feedsync.AtomNamespace)
	e.CreateElement("title").SetText(title)
	e.CreateElement("content").SetText(title + " content")
	e.CreateElement("updated").SetText(day.Format(time.RFC3339))
	return e
}

// must returns it, or panics on err: the rules fail only on a broken test.
func must(it *feedsync.Item, err error) *feedsync.Item {
	if err != nil {
		panic(err)
	}
	return it
}

func create(id, by string, minute int) *feedsync.Item {
	return must(feedsync.Create(feedsync.Atom, entry(id+" by "+by), id, stamp(by, minute), false))
}

func update(it *feedsync.Item, by string, minute int) *feedsync.Item {
	return must(feedsync.Update(it, entry(fmt.Sprintf("%s by %s at %d", it.ID(), by, minute)), stamp(by, minute)))
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

// feedOf writes items into an Atom feed.
func feedOf(t testing.TB, items ...*feedsync.Item) []byte {
	t.Helper()
	var buf bytes.Buffer
	h := feedsync.NewHeader(feedsync.Atom, feedsync.FeedInfo{Title: "incoming", ID: "urn:feedsync:test", Updated: day})
	if err := feedsync.WriteAll(&buf, h, items); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// Store constructors for the tests: memory, SQLite in t.TempDir and, when
// FEEDSYNC_TEST_POSTGRES is set, PostgreSQL in a schema of the test's own.

func newMemory(t testing.TB) store.Store {
	s := store.NewMemory()
	t.Cleanup(func() { s.Close() })
	return s
}

func newSQLite(t testing.TB) store.Store {
	t.Helper()
	return openSQLite(t, filepath.Join(t.TempDir(), "store.db"))
}

func openSQLite(t testing.TB, path string) store.Store {
	t.Helper()
	s, err := sqlite.Open(context.Background(), path, sqlite.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

// newPostgres returns a store in a schema of its own, dropped with everything
// in it when t ends.
func newPostgres(t testing.TB) store.Store {
	t.Helper()
	dsn := postgresDSN(t)
	schema := "feedsync_consumer_test_" + strings.ReplaceAll(feedsync.NewID(), "-", "")
	t.Cleanup(func() { dropSchema(t, dsn, schema) })
	s, err := postgres.Open(context.Background(), dsn, postgres.Options{Schema: schema})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

func dropSchema(t testing.TB, dsn, schema string) {
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
}

// endpoint is one participant of a multi-endpoint test: a store, the name
// its peers know it by (also its by, FS-BY-1), and the token of the last
// feed it merged from each peer, as a real subscriber keeps them.
type endpoint struct {
	name   string
	st     store.Store
	tokens map[string]string
	policy feedsync.ConflictPolicy
}

func newEndpoint(name string, st store.Store) *endpoint {
	return &endpoint{name: name, st: st, tokens: map[string]string{}}
}

// exchange is one sync step: to asks from for the changes since its token
// (or for the complete feed when full is set) and merges the feed, and
// keeps the feed's until as its next since (FS-FEED-4). It returns what the
// producer wrote and what the merge did.
func exchange(t testing.TB, from, to *endpoint, full bool) (producer.Result, merge.Summary) {
	t.Helper()
	ctx := context.Background()
	since := to.tokens[from.name]
	if full {
		since = ""
	}
	var buf bytes.Buffer
	res, err := producer.Produce(ctx, from.st, since, &buf, producer.Options{Peer: to.name, Format: feedsync.Atom})
	if err != nil {
		t.Fatalf("%s produces for %s: %v", from.name, to.name, err)
	}
	r := feedsync.NewReader(&buf)
	sum, err := consumer.ConsumeReader(ctx, to.st, r, consumer.Options{
		Peer:   from.name,
		Policy: to.policy,
		Stamp:  feedsync.Stamp{By: to.name, When: day.Add(24 * time.Hour)},
	})
	if err != nil {
		t.Fatalf("%s consumes %s's feed: %v", to.name, from.name, err)
	}
	h, err := r.Header()
	if err != nil {
		t.Fatal(err)
	}
	if h.Sharing == nil || h.Sharing.Until == "" {
		t.Fatalf("%s's feed has no sx:sharing until", from.name)
	}
	to.tokens[from.name] = h.Sharing.Until
	return res, sum
}

// converge runs exchanges between every ordered pair of endpoints, of
// complete feeds or of partial ones, until a whole pass changes nothing, and
// fails if that takes more than five passes. It returns the number of passes
// that changed something.
func converge(t testing.TB, full bool, eps ...*endpoint) int {
	t.Helper()
	for pass := 0; pass < 5; pass++ {
		changed := false
		for _, to := range eps {
			for _, from := range eps {
				if from != to {
					_, sum := exchange(t, from, to, full)
					changed = changed || sum.Changed()
				}
			}
		}
		if !changed {
			return pass
		}
	}
	t.Fatalf("exchanges (complete feeds: %v) still change something after 5 passes", full)
	return 0
}

// checkSame fails unless every endpoint holds the same items, winners,
// tombstones and conflict sets as the first (producer.Diff).
func checkSame(t testing.TB, eps ...*endpoint) {
	t.Helper()
	want := manifest(t, eps[0].st)
	for _, ep := range eps[1:] {
		if d := producer.Diff(want, manifest(t, ep.st)); len(d) != 0 {
			t.Errorf("%s (a) and %s (b) differ on %d items:\n%s", eps[0].name, ep.name, len(d), describe(d))
		}
	}
}

func describe(ds []producer.Difference) string {
	var b strings.Builder
	for _, d := range ds {
		fmt.Fprintf(&b, "\t%s\n", d)
	}
	return b.String()
}
