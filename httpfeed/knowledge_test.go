package httpfeed_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/beevik/etree"
	"github.com/feedsync/go-feedsync/consumer"
	"github.com/feedsync/go-feedsync/feedsync"
	"github.com/feedsync/go-feedsync/httpfeed"
	"github.com/feedsync/go-feedsync/producer"
	"github.com/feedsync/go-feedsync/store"
	"github.com/feedsync/go-feedsync/store/sqlite"
)

// words make item payloads that compress about as well as real text.
var words = strings.Fields("the quick brown fox jumps over lazy dog paint shed fence garden water plants call plumber order tiles buy milk fix roof clean gutters mow lawn walk")

// bigItem returns an item of about size bytes of payload.
func bigItem(id, by string, minute, size int, rng *rand.Rand) *feedsync.Item {
	e := etree.NewElement("item")
	e.CreateElement("title").SetText(id + " by " + by)
	var b strings.Builder
	for b.Len() < size {
		b.WriteString(words[rng.IntN(len(words))])
		b.WriteByte(' ')
	}
	e.CreateElement("description").SetText(b.String())
	return must(feedsync.Create(feedsync.RSS, e, id, stamp(by, minute), false))
}

// bigUpdate updates it as by with a new payload of about size bytes.
func bigUpdate(it *feedsync.Item, by string, minute, size int, rng *rand.Rand) *feedsync.Item {
	fresh := bigItem(it.ID(), by, minute, size, rng)
	p, err := fresh.Payload()
	if err != nil {
		panic(err)
	}
	return must(feedsync.Update(it, p, stamp(by, minute)))
}

// fillBig puts n items of about size bytes, "item-0" … "item-(n-1)", in one
// transaction.
func fillBig(t testing.TB, st store.Store, n, size int, by string) {
	t.Helper()
	rng := rand.New(rand.NewPCG(1, uint64(n)))
	withTx(t, st, true, func(tx store.Tx) {
		for i := range n {
			if _, err := tx.Put(context.Background(), bigItem("item-"+strconv.Itoa(i), by, 1, size, rng)); err != nil {
				t.Fatal(err)
			}
		}
	})
}

// editRange updates items item-from … item-(to-1) of st as by.
func editRange(t testing.TB, st store.Store, from, to int, by string, minute, size int) {
	t.Helper()
	rng := rand.New(rand.NewPCG(2, uint64(from)))
	withTx(t, st, true, func(tx store.Tx) {
		ctx := context.Background()
		for i := from; i < to; i++ {
			it, err := tx.Get(ctx, "item-"+strconv.Itoa(i))
			if err != nil || it == nil {
				t.Fatalf("item-%d: %v", i, err)
			}
			if _, err := tx.Put(ctx, bigUpdate(it, by, minute, size, rng)); err != nil {
				t.Fatal(err)
			}
		}
	})
}

// wire counts the bytes a client's connections send and receive.
type wire struct{ n atomic.Int64 }

type countedConn struct {
	net.Conn
	w *wire
}

func (c countedConn) Read(p []byte) (int, error) {
	n, err := c.Conn.Read(p)
	c.w.n.Add(int64(n))
	return n, err
}

func (c countedConn) Write(p []byte) (int, error) {
	n, err := c.Conn.Write(p)
	c.w.n.Add(int64(n))
	return n, err
}

// client returns an HTTP client whose traffic w counts, headers included.
func (w *wire) client() *http.Client {
	var d net.Dialer
	return &http.Client{Timeout: time.Minute, Transport: &http.Transport{
		DialContext: func(ctx context.Context, network, addr string) (net.Conn, error) {
			c, err := d.DialContext(ctx, network, addr)
			if err != nil {
				return nil, err
			}
			return countedConn{c, w}, nil
		},
	}}
}

// copyStore returns a memory store holding what st holds.
func copyStore(t testing.TB, st store.Store) store.Store {
	t.Helper()
	var buf bytes.Buffer
	if _, err := producer.Produce(context.Background(), st, "", &buf, producer.Options{}); err != nil {
		t.Fatal(err)
	}
	c := newMemory(t)
	if _, err := consumer.Consume(context.Background(), c, &buf, consumer.Options{}); err != nil {
		t.Fatal(err)
	}
	return c
}

// mergeComplete merges the complete feed of from into into.
func mergeComplete(t testing.TB, into, from store.Store) {
	t.Helper()
	var buf bytes.Buffer
	if _, err := producer.Produce(context.Background(), from, "", &buf, producer.Options{}); err != nil {
		t.Fatal(err)
	}
	if _, err := consumer.Consume(context.Background(), into, &buf, consumer.Options{}); err != nil {
		t.Fatal(err)
	}
}

// envInt reads a size from the environment, for running a test at a
// scale CI cannot afford.
func envInt(name string, def int) int {
	if n, err := strconv.Atoi(os.Getenv(name)); err == nil && n > 0 {
		return n
	}
	return def
}

// TestFirstTwoWaySyncMovesOnlyChanges (FS-KNOW-1): after a pull-only sync,
// with edits on both sides, the first two-way sync sends a summary and the
// changed items only, nothing comes back as an echo, the result equals
// merging the complete feeds, and the bytes on the wire stay within the
// changed items plus 100 bytes per item of summary.
// FEEDSYNC_KNOW_N sets the number of items (default 1000).
func TestFirstTwoWaySyncMovesOnlyChanges(t *testing.T) {
	const size, edits, both = 1500, 100, 5
	n := envInt("FEEDSYNC_KNOW_N", 1000)
	server, local := newMemory(t), newSQLite(t)
	fillBig(t, server, n, size, "srv")
	srv := newServer(t, &httpfeed.Handler{Store: server})
	var w wire
	c := &httpfeed.Client{URL: srv.URL, Peer: "laptop", HTTP: w.client()}
	if res := syncOK(t, c, local, httpfeed.Pull); res.Pulled.Added != n {
		t.Fatalf("pull-only sync: %+v, want %d added", res, n)
	}

	// 100 edits on each side, and 5 items edited on both.
	editRange(t, server, 0, edits+both, "srv", 10, size)
	editRange(t, local, edits, 2*edits+both, "laptop", 11, size)
	wantServer, wantLocal := copyStore(t, server), copyStore(t, local)
	mergeComplete(t, wantServer, wantLocal)
	mergeComplete(t, wantLocal, wantServer)

	w.n.Store(0)
	received := 0
	c.OnItem = func(items int, _ int64) { received++ }
	res := syncOK(t, c, local, httpfeed.Both)
	wireBytes := w.n.Load()
	if res.PushedItems != edits+both {
		t.Errorf("pushed %d items, want the %d edited here", res.PushedItems, edits+both)
	}
	if received != edits+both || res.Pulled.Unchanged != 0 {
		t.Errorf("received %d items (%+v), want the %d edited at the server and no echo", received, res.Pulled, edits+both)
	}
	if res.SummarySent != n || res.PushedKind != "versions" {
		t.Errorf("summary: %d lines, push %q; want %d lines, versions first", res.SummarySent, res.PushedKind, n)
	}
	for _, p := range []struct {
		name      string
		got, want store.Store
	}{{"server", server, wantServer}, {"client", local, wantLocal}} {
		if d := producer.Diff(manifest(t, p.want), manifest(t, p.got)); len(d) > 0 {
			t.Errorf("%s differs from merging the complete feeds on %d items, first: %s", p.name, len(d), d[0])
		}
	}

	// The budget: the changed items once each way, plus 100 bytes per
	// item of summary.
	var itemBytes int
	withTx(t, local, false, func(tx store.Tx) {
		it, err := tx.Get(context.Background(), "item-0")
		if err != nil {
			t.Fatal(err)
		}
		b, err := feedsync.MarshalItem(it)
		if err != nil {
			t.Fatal(err)
		}
		itemBytes = len(b)
	})
	budget := int64(2*(edits+both)*itemBytes + 100*n)
	t.Logf("first two-way sync of %d items, %d edited on each side: %d bytes on the wire, %d requests, budget %d (%.2fx), %.1f bytes per item",
		n, edits+both, wireBytes, res.Pages, budget, float64(wireBytes)/float64(budget), float64(wireBytes)/float64(n))
	if wireBytes > budget {
		t.Errorf("%d bytes on the wire, over the budget of %d", wireBytes, budget)
	}

	// Converged: the next sync moves nothing.
	c.OnItem = nil
	if res := syncOK(t, c, local, httpfeed.Both); res.PushedItems != 0 || res.Pulled.Changed() || res.Pulled.Unchanged != 0 {
		t.Errorf("idle sync: %+v, want nothing moved", res)
	}
}

// TestNoEchoOnFirstSync: a client's first sync with a server that holds
// other items receives none of its own items, and sends none of the
// server's back.
func TestNoEchoOnFirstSync(t *testing.T) {
	server, local := newMemory(t), newSQLite(t)
	for i := range 30 {
		edit(t, server, "srv-"+itoa(i), "srv", i)
	}
	for i := range 40 {
		edit(t, local, "mine-"+itoa(i), "laptop", i)
	}
	srv := newServer(t, &httpfeed.Handler{Store: server})
	c := &httpfeed.Client{URL: srv.URL, Peer: "laptop", HTTP: testClient}
	received := 0
	c.OnItem = func(int, int64) { received++ }
	res := syncOK(t, c, local, httpfeed.Both)
	if received != 30 || res.Pulled.Added != 30 || res.Pulled.Unchanged != 0 || res.Pulled.Updated != 0 {
		t.Errorf("first sync received %d items (%+v), want the server's 30 only", received, res.Pulled)
	}
	if res.PushedItems != 40 || res.Pushed == nil || res.Pushed.Added != 40 || res.Pushed.Unchanged != 0 {
		t.Errorf("first sync pushed %d items (%+v), want our 40, none of the server's", res.PushedItems, res.Pushed)
	}
	if res := syncOK(t, c, local, httpfeed.Both); res.PushedItems != 0 || res.Pulled.Changed() || res.Pulled.Unchanged != 0 {
		t.Errorf("second sync: %+v, want nothing moved", res)
	}
}

// TestLargePushAndPullInPages: a push and a pull far larger than what one
// request may carry go through in pages, each committed on its own; at the
// handler's default limits and at tight ones with the same page logic.
// FEEDSYNC_KNOW_LARGE sets the number of items (default 2500); memory stays
// flat as it grows, the pages being bounded.
func TestLargePushAndPullInPages(t *testing.T) {
	n := envInt("FEEDSYNC_KNOW_LARGE", 2500)
	for _, tc := range []struct {
		name   string
		h      *httpfeed.Handler
		client httpfeed.Client
	}{
		{"defaults", &httpfeed.Handler{}, httpfeed.Client{}},
		{"tight", &httpfeed.Handler{MaxItems: 120, MaxBodyBytes: 200 << 10, PageItems: 90, PageBytes: 100 << 10},
			httpfeed.Client{PageItems: 100, PageBytes: 64 << 10}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			server, a, b := newSQLite(t), newSQLite(t), newMemory(t)
			fillBig(t, a, n, 600, "laptop")
			tc.h.Store = server
			srv := newServer(t, tc.h)
			ca, cb := tc.client, tc.client
			ca.URL, ca.Peer, ca.HTTP = srv.URL, "laptop", testClient
			cb.URL, cb.Peer, cb.HTTP = srv.URL, "phone", testClient
			res := syncOK(t, &ca, a, httpfeed.Both)
			if res.PushedItems != n || count(t, server) != n {
				t.Fatalf("push of %d items: %+v, server holds %d", n, res, count(t, server))
			}
			if res.Pages < 3 {
				t.Errorf("push of %d items in %d requests, want pages", n, res.Pages)
			}
			res = syncOK(t, &cb, b, httpfeed.Both)
			if res.Pulled.Added != n || res.PulledKind != httpfeed.FeedFull || res.Pages < 3 {
				t.Errorf("pull of %d items into an empty store: %+v, want them all in pages of the complete feed", n, res)
			}
			sameManifests(t, []string{"server", "a", "b"}, []store.Store{server, a, b})
		})
	}
}

// TestKilledSyncResumes: a sync cut off between pages, by a cancelled
// context during the pull and by a dying server during the push, resumes
// at the page where it stopped without re-sending what landed.
func TestKilledSyncResumes(t *testing.T) {
	const n = 1000
	t.Run("pull", func(t *testing.T) {
		server, local := newMemory(t), newSQLite(t)
		fillBig(t, server, n, 300, "srv")
		srv := newServer(t, &httpfeed.Handler{Store: server})
		ctx, cancel := context.WithCancel(context.Background())
		defer cancel()
		c := &httpfeed.Client{URL: srv.URL, Peer: "laptop", HTTP: testClient, PageItems: 100}
		c.OnItem = func(items int, _ int64) {
			if items == 350 {
				cancel() // in the middle of the fourth page
			}
		}
		if _, err := c.Sync(ctx, local, httpfeed.Both); !errors.Is(err, context.Canceled) {
			t.Fatalf("cancelled sync: %v", err)
		}
		landed := count(t, local)
		if landed != 300 {
			t.Fatalf("%d items landed, want the three pages before the cut", landed)
		}
		received := 0
		c.OnItem = func(int, int64) { received++ }
		res := syncOK(t, c, local, httpfeed.Both)
		if received != n-landed || res.Pulled.Added != n-landed {
			t.Errorf("resumed sync received %d items (%+v), want the %d that had not landed", received, res.Pulled, n-landed)
		}
		sameManifests(t, []string{"server", "local"}, []store.Store{server, local})
	})
	t.Run("push", func(t *testing.T) {
		server, local := newSQLite(t), newSQLite(t)
		fillBig(t, local, n, 300, "laptop")
		var posts, limit atomic.Int64
		limit.Store(3)
		h := &httpfeed.Handler{Store: server}
		srv := newServer(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if r.Method == http.MethodPost && !r.URL.Query().Has("versions") {
				if posts.Add(1) > limit.Load() {
					http.Error(w, "going down", http.StatusServiceUnavailable)
					return
				}
			}
			h.ServeHTTP(w, r)
		}))
		c := &httpfeed.Client{URL: srv.URL, Peer: "laptop", HTTP: testClient, PageItems: 100}
		if _, err := c.Sync(context.Background(), local, httpfeed.Both); err == nil {
			t.Fatal("sync with a server that died succeeded")
		}
		landed := count(t, server)
		if landed != 300 {
			t.Fatalf("%d items landed at the server, want three pages", landed)
		}
		limit.Store(1 << 30)
		res := syncOK(t, c, local, httpfeed.Both)
		if res.PushedItems != n-landed || res.Pushed.Unchanged != 0 {
			t.Errorf("resumed sync pushed %d items (%+v), want the %d that had not landed", res.PushedItems, res.Pushed, n-landed)
		}
		sameManifests(t, []string{"server", "local"}, []store.Store{server, local})
	})
}

// sqliteFile is a SQLite store that can be closed, backed up and restored
// from a copy of its file.
type sqliteFile struct {
	t    testing.TB
	path string
	st   store.Store
}

func newSQLiteFile(t testing.TB) *sqliteFile {
	f := &sqliteFile{t: t, path: filepath.Join(t.TempDir(), "store.db")}
	f.open()
	t.Cleanup(func() { f.st.Close() })
	return f
}

func (f *sqliteFile) open() {
	st, err := sqlite.Open(context.Background(), f.path, sqlite.Options{})
	if err != nil {
		f.t.Fatal(err)
	}
	f.st = st
}

// backup closes the store, copies its file (the documented cold backup)
// and opens it again; it returns the copy's path.
func (f *sqliteFile) backup() string {
	f.st.Close()
	dst := f.path + fmt.Sprintf(".bak-%d", time.Now().UnixNano())
	b, err := os.ReadFile(f.path)
	if err != nil {
		f.t.Fatal(err)
	}
	if err := os.WriteFile(dst, b, 0o600); err != nil {
		f.t.Fatal(err)
	}
	f.open()
	return dst
}

// restore closes the store, puts the backup in its place and opens it.
func (f *sqliteFile) restore(backup string) {
	f.st.Close()
	b, err := os.ReadFile(backup)
	if err != nil {
		f.t.Fatal(err)
	}
	for _, suffix := range []string{"-wal", "-shm"} {
		os.Remove(f.path + suffix)
	}
	if err := os.WriteFile(f.path, b, 0o600); err != nil {
		f.t.Fatal(err)
	}
	f.open()
}

// TestRestoresConverge (FS-KNOW-2): a server restored from a backup while
// its clients kept going refuses their tokens, and a client restored from
// a backup does not make the server skip what it lost; afterwards every
// endpoint holds every item.
func TestRestoresConverge(t *testing.T) {
	server := newSQLiteFile(t)
	var h atomic.Pointer[httpfeed.Handler]
	h.Store(&httpfeed.Handler{Store: server.st})
	srv := newServer(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { h.Load().ServeHTTP(w, r) }))
	a, b := newSQLiteFile(t), newMemory(t)
	ca := &httpfeed.Client{URL: srv.URL, Peer: "laptop", HTTP: testClient}
	cb := &httpfeed.Client{URL: srv.URL, Peer: "phone", HTTP: testClient}
	round := func() {
		t.Helper()
		syncOK(t, ca, a.st, httpfeed.Both)
		syncOK(t, cb, b, httpfeed.Both)
		syncOK(t, ca, a.st, httpfeed.Both)
	}
	edit(t, a.st, "a0", "laptop", 1)
	edit(t, b, "b0", "phone", 2)
	round()

	// The server is backed up; the clients go on; the server is restored.
	serverBackup := server.backup()
	h.Store(&httpfeed.Handler{Store: server.st})
	edit(t, a.st, "a1", "laptop", 3)
	edit(t, b, "b1", "phone", 4)
	edit(t, server.st, "s1", "srv", 5)
	round()
	server.restore(serverBackup)
	h.Store(&httpfeed.Handler{Store: server.st})
	if get(t, server.st, "a1") != nil {
		t.Fatal("the restore kept a1")
	}
	// After the restore the server takes new changes, reusing the
	// sequence numbers the clients' tokens name.
	edit(t, server.st, "s2", "srv", 6)
	edit(t, server.st, "s3", "srv", 7)
	edit(t, a.st, "a2", "laptop", 8)
	res := syncOK(t, ca, a.st, httpfeed.Both)
	if res.TokenRejected == "" {
		t.Errorf("a's sync with the restored server: %+v, want its token refused", res)
	}
	round()
	want := []string{"a0", "a1", "a2", "b0", "b1", "s1", "s2", "s3"}
	for name, st := range map[string]store.Store{"server": server.st, "a": a.st, "b": b} {
		for _, id := range want {
			if get(t, st, id) == nil {
				t.Errorf("after the server's restore, %s lacks %s", name, id)
			}
		}
	}
	sameManifests(t, []string{"server", "a", "b"}, []store.Store{server.st, a.st, b})

	// Now a is backed up, goes on (its edits reach the server, and it
	// receives b's), and is restored.
	clientBackup := a.backup()
	edit(t, a.st, "a3", "laptop", 9)
	edit(t, b, "b2", "phone", 10)
	round()
	a.restore(clientBackup)
	if get(t, a.st, "a3") != nil || get(t, a.st, "b2") != nil {
		t.Fatal("the restore kept a3 or b2")
	}
	round()
	round()
	want = append(want, "a3", "b2")
	for name, st := range map[string]store.Store{"server": server.st, "a": a.st, "b": b} {
		for _, id := range want {
			if get(t, st, id) == nil {
				t.Errorf("after a's restore, %s lacks %s", name, id)
			}
		}
	}
	sameManifests(t, []string{"server", "a", "b"}, []store.Store{server.st, a.st, b})
}

// TestKnowledgeHostileInput: malformed requests to the versions-first
// endpoints get a clear 4xx, and change nothing.
func TestKnowledgeHostileInput(t *testing.T) {
	st := newMemory(t)
	edit(t, st, "x", "srv", 1)
	h := &httpfeed.Handler{Store: st, MaxItems: 3}
	line := func(id string) string { return `{"id":"` + id + `","v":[["laptop",1,"2009-04-02T00:01:00Z"]]}` + "\n" }
	for _, tc := range []struct {
		name, method, target, body string
		status                     int
		says                       string
	}{
		{"not JSON", "POST", "/?versions", "{oops\n", 400, `"line":1`},
		{"no versions", "POST", "/?versions", `{"id":"x","v":[]}` + "\n", 400, "versions"},
		{"bad entry", "POST", "/?versions", `{"id":"x","v":[["laptop","one",""]]}` + "\n", 400, "[by, sequence, when]"},
		{"bad id", "POST", "/?versions", `{"id":"no spaces","v":[["laptop",1,""]]}` + "\n", 400, "URN NSS"},
		{"bad by", "POST", "/?versions", `{"id":"x","v":[["lap top",1,""]]}` + "\n", 400, "endpoint identifier"},
		{"no by, no when", "POST", "/?versions", `{"id":"x","v":[["",1,""]]}` + "\n", 400, "FS-ROBUST-1"},
		{"bad when", "POST", "/?versions", `{"id":"x","v":[["laptop",1,"yesterday"]]}` + "\n", 400, "RFC 3339"},
		{"duplicate ids", "POST", "/?versions", line("x") + line("y") + line("x"), 400, "twice"},
		{"huge line", "POST", "/?versions", `{"id":"` + strings.Repeat("a", 70<<10) + `"}` + "\n", 400, "longer than"},
		{"too many lines", "POST", "/?versions", line("a") + line("b") + line("c") + line("d"), 413, "more than 3"},
		{"items: not JSON", "POST", "/?items", "x\n", 400, `"line":1`},
		{"items: duplicate", "POST", "/?items", `{"id":"x"}` + "\n" + `{"id":"x"}` + "\n", 400, "twice"},
		{"summary: foreign token", "GET", "/?versions&since=" + producer.Token{Store: "other", Seq: 1}.String(), "", 409, "minted by store"},
		{"summary: bad limit", "GET", "/?versions&limit=-1", "", 400, "limit"},
		{"page: bad limit", "GET", "/?since=&limit=x", "", 400, "limit"},
		{"page: lost history", "GET", "/?limit=5&since=" + producer.Token{Store: st.ID(), Seq: 1, Mark: "lost"}.String(), "", 409, "not the one the token was made from"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			before := manifest(t, st)
			rec := serve(h, newRequest(tc.method, tc.target, []byte(tc.body), "FeedSync-Peer", "laptop", "FeedSync-Peer-Mark", ""))
			if rec.Code != tc.status || !strings.Contains(rec.Body.String(), tc.says) {
				t.Errorf("%s %s: %d %s, want %d saying %q", tc.method, tc.target, rec.Code, rec.Body.String(), tc.status, tc.says)
			}
			if d := producer.Diff(before, manifest(t, st)); len(d) > 0 {
				t.Errorf("the request changed the store: %s", d[0])
			}
		})
	}
}

// statCounter is a Store whose transactions count the one-item lookups
// and peer-version writes made through them (Stat, PeerVersion,
// SetPeerVersion) and pass the batch methods on, so that a test can tell
// a comparison by batch from one by line.
type statCounter struct {
	store.Store
	single atomic.Int64
}

func (s *statCounter) Begin(ctx context.Context, writable bool) (store.Tx, error) {
	tx, err := s.Store.Begin(ctx, writable)
	if err != nil {
		return nil, err
	}
	return &countedTx{Tx: tx, n: &s.single}, nil
}

type countedTx struct {
	store.Tx
	n *atomic.Int64
}

func (t *countedTx) Stat(ctx context.Context, id string) (store.ItemStat, bool, error) {
	t.n.Add(1)
	return t.Tx.Stat(ctx, id)
}

func (t *countedTx) PeerVersion(ctx context.Context, peer, id string) (store.Version, bool, error) {
	t.n.Add(1)
	return t.Tx.PeerVersion(ctx, peer, id)
}

func (t *countedTx) SetPeerVersion(ctx context.Context, peer, id string, v store.Version) error {
	t.n.Add(1)
	return t.Tx.SetPeerVersion(ctx, peer, id, v)
}

func (t *countedTx) StatMany(ctx context.Context, ids []string) ([]store.ItemStat, error) {
	return store.StatMany(ctx, t.Tx, ids)
}

func (t *countedTx) PeerVersions(ctx context.Context, peer string, ids []string) ([]store.Version, error) {
	return store.PeerVersions(ctx, t.Tx, peer, ids)
}

func (t *countedTx) SetPeerVersions(ctx context.Context, peer string, ids []string, vs []store.Version) error {
	return store.SetPeerVersions(ctx, t.Tx, peer, ids, vs)
}

// TestFirstSyncComparesSummaryInBatches (FS-KNOW-1): the first two-way
// sync of a client that already holds a few thousand items pulls by
// versions first, comparing each page of the server's summary (1300
// lines: a batch of 1024 and one cut short by the page's end) with its
// store a batch at a time, and fetching what it lacks 130 ids at a time
// (a fetch full in the middle of a batch). The result is that of merging
// the complete feeds, only the items edited at the server come, the
// client knows afterwards the version the server holds of every item,
// and the summary costs no store lookup per line.
func TestFirstSyncComparesSummaryInBatches(t *testing.T) {
	const n, size = 2400, 200
	for name, newStore := range durableStores() {
		t.Run(name, func(t *testing.T) {
			server := newMemory(t)
			fillBig(t, server, n, size, "srv")
			counted := &statCounter{Store: newStore(t)}
			local := store.Store(counted)
			mergeComplete(t, local, server) // a common start, without knowledge of each other
			// Edits at the server in the first and last batches of the
			// summary and across a page's end; at the client in
			// between; five on both sides (conflicts).
			editRange(t, server, 0, 200, "srv", 10, size)
			editRange(t, server, 1250, 1450, "srv", 10, size)
			editRange(t, server, n-10, n, "srv", 10, size)
			editRange(t, local, 600, 700, "laptop", 11, size)
			editRange(t, local, 1445, 1455, "laptop", 11, size)
			serverEdits := 200 + 200 + 10
			wantServer, wantLocal := copyStore(t, server), copyStore(t, local)
			mergeComplete(t, wantServer, wantLocal)
			mergeComplete(t, wantLocal, wantServer)

			var ids []string
			var want []store.Version
			withTx(t, server, false, func(tx store.Tx) {
				for it, err := range tx.All(context.Background()) {
					if err != nil {
						t.Fatal(err)
					}
					ids, want = append(ids, it.ID()), append(want, store.VersionOf(it))
				}
			})

			srv := newServer(t, &httpfeed.Handler{Store: server})
			c := &httpfeed.Client{URL: srv.URL, Peer: "laptop", Remote: "server", HTTP: testClient, PageItems: 130}
			received := 0
			c.OnItem = func(int, int64) { received++ }
			counted.single.Store(0)
			res := syncOK(t, c, local, httpfeed.Both)
			if res.PulledKind != "versions" || res.SummaryReceived != n {
				t.Errorf("pull %q with %d summary lines, want versions first with %d", res.PulledKind, res.SummaryReceived, n)
			}
			if received != serverEdits || res.Pulled.Unchanged != 0 {
				t.Errorf("received %d items (%+v), want the %d edited at the server and no echo", received, res.Pulled, serverEdits)
			}
			// What merging the fetched items costs is per item; what the
			// summary costs is not.
			got := counted.single.Load()
			t.Logf("%d one-item lookups and writes for a summary of %d lines and %d items fetched", got, n, received)
			if got >= n/2 {
				t.Errorf("%d one-item lookups and writes, want far fewer than the %d summary lines", got, n)
			}
			for _, p := range []struct {
				name      string
				got, want store.Store
			}{{"server", server, wantServer}, {"client", local, wantLocal}} {
				if d := producer.Diff(manifest(t, p.want), manifest(t, p.got)); len(d) > 0 {
					t.Errorf("%s differs from merging the complete feeds on %d items, first: %s", p.name, len(d), d[0])
				}
			}
			// The client knows the version of every item that the
			// server's summary named: the server's before the sync,
			// whose pull comes before its push.
			withTx(t, local, false, func(tx store.Tx) {
				got, err := store.PeerVersions(context.Background(), tx, "server", ids)
				if err != nil {
					t.Fatal(err)
				}
				for i, id := range ids {
					if !got[i].Equal(want[i]) {
						t.Errorf("item %q: the client knows the server holds %v, its summary said %v", id, got[i], want[i])
						break
					}
				}
			})
			if res := syncOK(t, c, local, httpfeed.Both); res.PushedItems != 0 || res.Pulled.Changed() || res.Pulled.Unchanged != 0 {
				t.Errorf("idle sync: %+v, want nothing moved", res)
			}
		})
	}
}
