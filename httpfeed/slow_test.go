package httpfeed_test

import (
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"testing"
	"time"

	"github.com/feedsync/go-feedsync/httpfeed"
	"github.com/feedsync/go-feedsync/store"
)

// Issue: one client sending its POST body at one byte per second held
// every other POST for as long as it took, because the body was read
// inside the store's write transaction. The body is now received before
// the transaction begins: while the slow upload is still in progress
// (asserted by order, not by time), another client's POST completes and
// its item is committed. SQLite and PostgreSQL serialise writers each
// their own way, so both are tried; so are both POSTs that write.
func TestSlowUploaderCostsOnlyItself(t *testing.T) {
	for name, open := range durableStores() {
		for _, path := range []string{"/", "/?versions"} {
			t.Run(name+path, func(t *testing.T) { slowUploader(t, open, path) })
		}
	}
}

// slowUploader runs TestSlowUploaderCostsOnlyItself with a slow POST to
// path: a merge, or a summary of held versions (which records what the
// peer holds in a write transaction).
func slowUploader(t *testing.T, open func(testing.TB) store.Store, path string) {
	st := open(t)
	// The slow client's body: two items, so that a merge reading
	// it as it comes is well into it when it stops.
	body := feedOf(t, sizedUpdate(create("slow1", "slow", 1), "slow", 2, 8<<10), create("slow", "slow", 1))
	sent := len(body) - 200
	entered := make(chan struct{}, 1)
	h := &httpfeed.Handler{Store: st}
	srv := newServer(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get(httpfeed.HeaderPeer) == "slow" {
			// Told once the handler has read all the body sent so
			// far and asks for more: the point where a merge
			// reading the body as it comes holds the store's write
			// transaction (it began before its first item).
			r.Body = &waitingRead{ReadCloser: r.Body, after: sent, waiting: entered}
		}
		h.ServeHTTP(w, r)
	}))

	// The slow client: its header and all its body but the last
	// 200 bytes at once, then one byte per second until the test
	// ends.
	conn, err := net.Dial("tcp", srv.Listener.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	head := fmt.Sprintf("POST "+path+" HTTP/1.1\r\nHost: test\r\n%s: slow\r\nContent-Length: %d\r\n\r\n", httpfeed.HeaderPeer, len(body))
	if _, err := conn.Write(append([]byte(head), body[:sent]...)); err != nil {
		t.Fatal(err)
	}
	ctx, stop := context.WithCancel(context.Background())
	defer stop()
	trickled := make(chan struct{})
	go func() {
		defer close(trickled)
		for _, b := range body[sent:] {
			select {
			case <-ctx.Done():
				return
			case <-time.After(time.Second):
			}
			if _, err := conn.Write([]byte{b}); err != nil {
				return
			}
		}
	}()
	select {
	case <-entered:
	case <-time.After(20 * time.Second):
		t.Fatal("the handler never read the slow request's body")
	}

	// Another client POSTs now, with a bound on the wait far above
	// a normal POST: before the fix it waited for the slow upload.
	fast := &http.Client{Timeout: 20 * time.Second}
	code, s := postJSON(t, fast, srv.URL, feedOf(t, create("fast", "fast", 2)), httpfeed.HeaderPeer, "fast")
	select {
	case <-trickled:
		t.Fatal("the slow upload finished first: the test proves nothing")
	default:
	}
	if code != 200 || s.Added != 1 {
		t.Fatalf("fast POST: %d %+v", code, s)
	}
	if got := get(t, st, "fast"); got == nil {
		t.Error("the fast client's item is not committed")
	}
	if got := get(t, st, "slow"); got != nil {
		t.Error("the slow client's item is committed before its body arrived")
	}
}

// waitingRead tells waiting when a Read asks for more than the first
// after bytes.
type waitingRead struct {
	io.ReadCloser
	after   int
	n       int
	waiting chan<- struct{}
	told    bool
}

func (w *waitingRead) Read(p []byte) (int, error) {
	if w.n >= w.after && !w.told {
		w.told = true
		w.waiting <- struct{}{}
	}
	n, err := w.ReadCloser.Read(p)
	w.n += n
	return n, err
}
