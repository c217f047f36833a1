package httpfeed_test

import (
	"context"
	"net/http"
	"path/filepath"
	"sync/atomic"
	"testing"
	"time"

	"github.com/feedsync/go-feedsync/httpfeed"
	"github.com/feedsync/go-feedsync/store"
	"github.com/feedsync/go-feedsync/store/sqlite"
)

// countingStore counts the transactions begun on a store.
type countingStore struct {
	store.Store
	begun atomic.Int64
}

func (s *countingStore) Begin(ctx context.Context, writable bool) (store.Tx, error) {
	s.begun.Add(1)
	return s.Store.Begin(ctx, writable)
}

// notifyingStore is a countingStore that says when changes commit.
type notifyingStore struct{ *countingStore }

func (s notifyingStore) Changed() <-chan struct{} { return s.Store.(store.Notifier).Changed() }

// A poll from the store's latest token is answered from the head the
// handler remembers, without a transaction, with the same answer as the
// first one (empty feed, token, ETag; 304 to If-None-Match); a change
// committed since is in the next poll, and a store that does not say when
// changes commit is read for every poll.
func TestPollFromHead(t *testing.T) {
	for _, notifies := range []bool{true, false} {
		base := newSQLite(t)
		put(t, base, create("a", "laptop", 1))
		cs := &countingStore{Store: base}
		var st store.Store = cs
		if notifies {
			st = notifyingStore{cs}
		}
		h := &httpfeed.Handler{Store: st}
		httpfeed.SetHeadMaxAge(h, time.Hour)
		tok := serve(h, newRequest("GET", "/", nil)).Header().Get(httpfeed.HeaderToken)
		first := serve(h, newRequest("GET", "/?since="+tok, nil, httpfeed.HeaderPeer, "phone"))
		if first.Code != 200 || first.Header().Get(httpfeed.HeaderFeed) != httpfeed.FeedIncremental {
			t.Fatalf("first poll: %d %s", first.Code, first.Header())
		}
		before := cs.begun.Load()
		again := serve(h, newRequest("GET", "/?since="+tok, nil, httpfeed.HeaderPeer, "phone"))
		for _, k := range []string{httpfeed.HeaderToken, httpfeed.HeaderFeed, "ETag", "Content-Type", "Content-Length", "Vary", "Cache-Control"} {
			if got, want := again.Header().Get(k), first.Header().Get(k); got != want {
				t.Errorf("notifies=%v: %s of the second poll = %q, want %q", notifies, k, got, want)
			}
		}
		if again.Code != 200 || again.Body.String() != first.Body.String() {
			t.Errorf("notifies=%v: second poll %d %q, want %q", notifies, again.Code, again.Body, first.Body)
		}
		notModified := serve(h, newRequest("GET", "/?since="+tok, nil, httpfeed.HeaderPeer, "phone", "If-None-Match", first.Header().Get("ETag")))
		if notModified.Code != http.StatusNotModified || notModified.Header().Get(httpfeed.HeaderToken) != tok {
			t.Errorf("notifies=%v: poll with If-None-Match: %d %s", notifies, notModified.Code, notModified.Header())
		}
		if got := cs.begun.Load() - before; notifies && got != 0 || !notifies && got != 2 {
			t.Errorf("notifies=%v: %d transactions for two polls from the head", notifies, got)
		}

		put(t, base, create("b", "laptop", 2))
		rec := serve(h, newRequest("GET", "/?since="+tok, nil, httpfeed.HeaderPeer, "phone"))
		if _, items := readFeed(t, rec.Body.Bytes()); rec.Code != 200 || len(items) != 1 || items[0].ID() != "b" || rec.Header().Get(httpfeed.HeaderToken) == tok {
			t.Errorf("notifies=%v: poll after a change: %d, %d items, token %s", notifies, rec.Code, len(items), rec.Header().Get(httpfeed.HeaderToken))
		}
	}
}

// A change committed by another writer of the SQLite file, which the
// handler's store does not hear of, shows once the head is older than its
// maximum age.
func TestPollFromHeadOtherWriter(t *testing.T) {
	path := filepath.Join(t.TempDir(), "store.db")
	open := func() store.Store {
		st, err := sqlite.Open(context.Background(), path, sqlite.Options{})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { st.Close() })
		return st
	}
	st, other := open(), open()
	put(t, st, create("a", "laptop", 1))
	h := &httpfeed.Handler{Store: st}
	httpfeed.SetHeadMaxAge(h, time.Millisecond)
	tok := serve(h, newRequest("GET", "/", nil)).Header().Get(httpfeed.HeaderToken)
	serve(h, newRequest("GET", "/?since="+tok, nil)) // the head is tok's
	put(t, other, create("b", "laptop", 2))
	time.Sleep(2 * time.Millisecond)
	rec := serve(h, newRequest("GET", "/?since="+tok, nil))
	if _, items := readFeed(t, rec.Body.Bytes()); rec.Code != 200 || len(items) != 1 {
		t.Errorf("poll after another writer's change: %d, %d items, want b", rec.Code, len(items))
	}
}
