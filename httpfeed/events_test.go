package httpfeed_test

import (
	"bufio"
	"bytes"
	"context"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/feedsync/go-feedsync/httpfeed"
)

// eventStream opens GET url with Accept: text/event-stream as peer, with
// the header pairs given, and returns the data of each event it receives,
// closed when the stream ends.
func eventStream(t *testing.T, ctx context.Context, url, peer string, header ...string) (*http.Response, <-chan string) {
	t.Helper()
	req, err := http.NewRequestWithContext(ctx, "GET", url, nil)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Accept", "text/event-stream")
	req.Header.Set(httpfeed.HeaderPeer, peer)
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Set(header[i], header[i+1])
	}
	resp, err := http.DefaultClient.Do(req) // bounded by ctx
	if err != nil {
		t.Fatal(err)
	}
	events := make(chan string, 16)
	go func() {
		defer close(events)
		defer resp.Body.Close()
		sc := bufio.NewScanner(resp.Body)
		var id, data string
		for sc.Scan() {
			line := sc.Text()
			switch {
			case strings.HasPrefix(line, "id: "):
				id = strings.TrimPrefix(line, "id: ")
			case strings.HasPrefix(line, "data: "):
				data = strings.TrimPrefix(line, "data: ")
			case line == "" && data != "":
				if id != data {
					data = "id " + id + " differs from data " + data
				}
				events <- data
				id, data = "", ""
			}
		}
	}()
	return resp, events
}

// next returns the next event, or fails when the stream ends or ctx does.
func next(t *testing.T, ctx context.Context, events <-chan string) string {
	t.Helper()
	select {
	case ev, ok := <-events:
		if !ok {
			t.Fatal("the stream ended")
		}
		return ev
	case <-ctx.Done():
		t.Fatal("no event")
	}
	return ""
}

func postAs(t *testing.T, url, peer string, body []byte) {
	t.Helper()
	req, _ := http.NewRequest("POST", url, bytes.NewReader(body))
	req.Header.Set(httpfeed.HeaderPeer, peer)
	resp, err := testClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 200 {
		t.Fatalf("POST as %s: %d", peer, resp.StatusCode)
	}
}

// An event stream of change notifications: an event once the collection
// has a change the peer lacks (not for its own changes, echo suppression),
// carrying the store's latest token; at once without since; from
// Last-Event-ID after a reconnection; ended by Handler.Stop. A server that
// does not wait answers with the feed.
func TestEventStream(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	st := newSQLite(t)
	put(t, st, create("a", "laptop", 1))
	stop := make(chan struct{})
	srv := newServer(t, &httpfeed.Handler{Store: st, Stop: stop})
	tok := tokenOf(t, srv.URL)

	resp, events := eventStream(t, ctx, srv.URL+"/?since="+tok, "phone")
	if ct := resp.Header.Get("Content-Type"); resp.StatusCode != 200 || ct != "text/event-stream" {
		t.Fatalf("GET as an event stream: %d %s", resp.StatusCode, ct)
	}
	postAs(t, srv.URL, "phone", feedOf(t, create("p", "phone", 2)))
	postAs(t, srv.URL, "laptop", feedOf(t, create("l", "laptop", 3)))
	ev := next(t, ctx, events)
	if head := tokenOf(t, srv.URL); ev != head {
		t.Errorf("first event %s, want the head after laptop's change %s (none for phone's own)", ev, head)
	}
	rec := serve(&httpfeed.Handler{Store: st}, newRequest("GET", "/?since="+tok, nil, httpfeed.HeaderPeer, "phone"))
	if _, items := readFeed(t, rec.Body.Bytes()); len(items) != 1 || items[0].ID() != "l" {
		t.Errorf("the changes for phone: %v, want l", ids(items))
	}

	// Reconnecting from the last event: nothing until the next change.
	_, again := eventStream(t, ctx, srv.URL+"/", "phone", "Last-Event-ID", ev)
	postAs(t, srv.URL, "laptop", feedOf(t, create("m", "laptop", 4)))
	if got, head := next(t, ctx, again), tokenOf(t, srv.URL); got != head {
		t.Errorf("event after reconnecting: %s, want %s", got, head)
	}
	// Without since: an event at once.
	_, fresh := eventStream(t, ctx, srv.URL+"/", "tablet")
	if got, head := next(t, ctx, fresh), tokenOf(t, srv.URL); got != head {
		t.Errorf("first event without since: %s, want %s", got, head)
	}
	// Stop ends every stream (after the events already sent: the first
	// stream's for m).
	close(stop)
	for _, ch := range []<-chan string{events, again, fresh} {
		for ended := false; !ended; {
			select {
			case _, ok := <-ch:
				ended = !ok
			case <-ctx.Done():
				t.Fatal("a stream did not end at Stop")
			}
		}
	}

	// A handler that does not wait sends the feed.
	noWait := newServer(t, &httpfeed.Handler{Store: st, MaxWait: -1})
	resp, _ = eventStream(t, ctx, noWait.URL+"/?since="+tok, "phone")
	if ct := resp.Header.Get("Content-Type"); !strings.Contains(ct, "xml") {
		t.Errorf("a handler that does not wait answered %s, want the feed", ct)
	}
}
