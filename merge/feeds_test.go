package merge

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/feedsync/go-feedsync/feedsync"
)

// Feeds reads the two feeds on goroutines of their own (feeds.go). These
// tests check that the first failure on either side, or a cancellation,
// stops the other side at its next read: Feeds returns, reads neither
// feed afterwards, leaves no goroutine behind and removes its spill files.

const stopFeedHead = `<?xml version="1.0" encoding="UTF-8"?>
<rss version="2.0" xmlns:sx="http://feedsync.org/2007/feedsync"><channel><title>t</title>
`

// stopItem is item i of the feeds below.
func stopItem(i int) string {
	return fmt.Sprintf("<item><title>Task %d</title><sx:sync id=\"task-%d\" updates=\"1\"><sx:history sequence=\"1\" when=\"2009-04-01T09:00:00Z\" by=\"a\"/></sx:sync></item>\n", i, i)
}

// endlessFeed is a feed that never ends: a header, then items for ever.
// It counts its reads, and, once reading has been declared over, reports
// any further one as a failure.
type endlessFeed struct {
	buf   []byte
	next  int
	reads atomic.Int64
	over  atomic.Bool
	late  atomic.Int64 // reads after over
	// onRead, if set, is called with the number of each read.
	onRead func(n int64)
}

func newEndlessFeed() *endlessFeed { return &endlessFeed{buf: []byte(stopFeedHead)} }

func (f *endlessFeed) Read(p []byte) (int, error) {
	if n := f.reads.Add(1); f.onRead != nil {
		f.onRead(n)
	}
	if f.over.Load() {
		f.late.Add(1)
	}
	for len(f.buf) < len(p) {
		f.buf = append(f.buf, stopItem(f.next)...)
		f.next++
	}
	n := copy(p, f.buf)
	f.buf = f.buf[n:]
	return n, nil
}

// brokenFeed is a feed whose XML breaks after n items, on line n+3.
func brokenFeed(n int) []byte {
	var b strings.Builder
	b.WriteString(stopFeedHead)
	for i := range n {
		b.WriteString(stopItem(i))
	}
	b.WriteString("<item><title>broken</titel></item>\n")
	return []byte(b.String())
}

// checkStopped checks what every stopped Feeds must leave: no reads of
// the endless feeds after it returned, no goroutine started by it, and an
// empty TempDir.
func checkStopped(t *testing.T, goroutines int, tmp string, feeds ...*endlessFeed) {
	t.Helper()
	for _, f := range feeds {
		f.over.Store(true)
	}
	// Goroutines of the test framework and the runtime come and go; give
	// them a moment, then compare.
	deadline := time.Now().Add(5 * time.Second)
	for runtime.NumGoroutine() > goroutines && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
	}
	if n := runtime.NumGoroutine(); n > goroutines {
		buf := make([]byte, 1<<20)
		t.Errorf("%d goroutines after Feeds returned, %d before:\n%s", n, goroutines, buf[:runtime.Stack(buf, true)])
	}
	time.Sleep(20 * time.Millisecond)
	for _, f := range feeds {
		if n := f.late.Load(); n > 0 {
			t.Errorf("a feed was read %d times after Feeds returned", n)
		}
	}
	left, err := os.ReadDir(tmp)
	if err != nil {
		t.Fatal(err)
	}
	if len(left) != 0 {
		t.Errorf("TempDir holds %d files after Feeds, want none (the spill files are removed)", len(left))
	}
}

// feedsWithin runs Feeds and fails the test when it has not returned
// within a few seconds.
func feedsWithin(t *testing.T, ctx context.Context, local, incoming io.Reader, tmp string) error {
	t.Helper()
	done := make(chan error, 1)
	go func() {
		_, err := Feeds(ctx, local, incoming, io.Discard, Options{TempDir: tmp})
		done <- err
	}()
	select {
	case err := <-done:
		return err
	case <-time.After(time.Minute):
		t.Fatal("Feeds did not return: one side's failure did not stop the other")
		return nil
	}
}

// TestFeedsStopsOtherSide: malformed XML on one side stops the reading of
// the other, endless, side; the error names the feed and the line.
func TestFeedsStopsOtherSide(t *testing.T) {
	for _, broken := range []string{"local", "incoming"} {
		t.Run(broken, func(t *testing.T) {
			goroutines := runtime.NumGoroutine()
			tmp := t.TempDir()
			endless := newEndlessFeed()
			// The broken feed is read once the endless one is well
			// under way, so that the failure comes in the middle of it.
			underway := make(chan struct{})
			endless.onRead = func(n int64) {
				if n == 20 {
					close(underway)
				}
			}
			bad := &waitingReader{wait: underway, r: bytes.NewReader(brokenFeed(50))}
			var err error
			if broken == "local" {
				err = feedsWithin(t, context.Background(), bad, endless, tmp)
			} else {
				err = feedsWithin(t, context.Background(), endless, bad, tmp)
			}
			var se *feedsync.SyntaxError
			if !errors.As(err, &se) || se.Line != 53 {
				t.Errorf("err = %v, want a *feedsync.SyntaxError at line 53", err)
			}
			if want := "merge: read " + broken + " feed: "; err == nil || !strings.HasPrefix(err.Error(), want) {
				t.Errorf("err = %v, want it to start with %q", err, want)
			}
			checkStopped(t, goroutines, tmp, endless)
		})
	}
}

// TestFeedsStopsOnCancel: cancelling ctx while both feeds are being read
// stops both sides, each at its next read.
func TestFeedsStopsOnCancel(t *testing.T) {
	goroutines := runtime.NumGoroutine()
	tmp := t.TempDir()
	local, incoming := newEndlessFeed(), newEndlessFeed()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	// Cancel once both feeds are well under way.
	underway := func(int64) {
		if local.reads.Load() >= 20 && incoming.reads.Load() >= 20 {
			cancel()
		}
	}
	local.onRead, incoming.onRead = underway, underway
	err := feedsWithin(t, ctx, local, incoming, tmp)
	if !errors.Is(err, context.Canceled) {
		t.Errorf("err = %v, want context.Canceled", err)
	}
	checkStopped(t, goroutines, tmp, local, incoming)
}

// blockingFeed is a feed whose second read closes blocked, then blocks
// until release is closed; it counts its reads.
type blockingFeed struct {
	r                io.Reader
	blocked, release chan struct{}
	mu               sync.Mutex
	reads            int
}

func (f *blockingFeed) Read(p []byte) (int, error) {
	f.mu.Lock()
	f.reads++
	n := f.reads
	f.mu.Unlock()
	if n == 2 {
		close(f.blocked)
		<-f.release
	}
	// Small reads, so that the feed takes many.
	return f.r.Read(p[:min(len(p), 64)])
}

// TestFeedsWaitsForBlockedRead: when the incoming feed fails while a read
// of the local feed blocks, Feeds returns once that read returns, without
// reading the local feed again, and with nothing left running.
func TestFeedsWaitsForBlockedRead(t *testing.T) {
	goroutines := runtime.NumGoroutine()
	tmp := t.TempDir()
	var local bytes.Buffer
	local.WriteString(stopFeedHead)
	for i := range 100 {
		local.WriteString(stopItem(i))
	}
	local.WriteString("</channel></rss>\n")
	lf := &blockingFeed{r: &local, blocked: make(chan struct{}), release: make(chan struct{})}
	// The incoming feed fails once the local read blocks.
	in := &waitingReader{wait: lf.blocked, r: bytes.NewReader(brokenFeed(0))}
	done := make(chan error, 1)
	go func() {
		_, err := Feeds(context.Background(), lf, in, io.Discard, Options{TempDir: tmp})
		done <- err
	}()
	select {
	case err := <-done:
		t.Fatalf("Feeds returned (%v) while a read of the local feed was blocked in it", err)
	case <-time.After(100 * time.Millisecond):
	}
	close(lf.release)
	select {
	case err := <-done:
		if err == nil || !strings.HasPrefix(err.Error(), "merge: read incoming feed: ") {
			t.Errorf("err = %v, want the incoming feed's error", err)
		}
	case <-time.After(time.Minute):
		t.Fatal("Feeds did not return after the blocked read returned")
	}
	lf.mu.Lock()
	reads := lf.reads
	lf.mu.Unlock()
	if reads != 2 {
		t.Errorf("the local feed was read %d times, want 2: the read after the failure must not reach it", reads)
	}
	checkStopped(t, goroutines, tmp)
}

// waitingReader reads r once wait is closed.
type waitingReader struct {
	wait <-chan struct{}
	r    io.Reader
}

func (w *waitingReader) Read(p []byte) (int, error) {
	<-w.wait
	return w.r.Read(p)
}

// TestFeedsKeepsLocalBytes (FS-MERGE-14, FS-FEED-8): the local items come
// back from the local spill file, not from the XML; a merge that changes
// nothing still writes out what the local feed holds byte for byte: the
// header, comments, items without sx:sync, items that declare their own
// namespaces or use CDATA, and the trailer. Feed-level content found
// between items is kept and written after the last item, as
// feedsync.Writer writes any feed it copies. With one item changed, every
// other one is still written as read.
func TestFeedsKeepsLocalBytes(t *testing.T) {
	const between = `  <!-- between items -->
  <image><url>http://example.org/i.png</url></image>
`
	local := `<?xml version="1.0" encoding="UTF-8"?>
<!-- local copy -->
<rss version="2.0" xmlns:sx="http://feedsync.org/2007/feedsync" xmlns:dc="http://purl.org/dc/elements/1.1/">
 <channel>
  <title>Tasks</title>
  <sx:sharing since="1" until="9"><sx:related link="http://example.org/f" type="complete"/></sx:sharing>
  <item><title>plain, no sync</title></item>
  <item xmlns:ex="urn:example"><title>  a </title><ex:tag ex:a="1">x</ex:tag><sx:sync id="a" updates="1"><sx:history sequence="1" when="2009-04-01T09:00:00Z" by="p"/></sx:sync></item>
BETWEEN  <item><description><![CDATA[<b>bold</b> & more]]></description><dc:creator>Ann</dc:creator>
   <sx:sync  id="b"   updates="2"><sx:history sequence="2" when="2009-04-01T10:00:00Z" by="q"/><sx:history sequence="1" when="2009-04-01T09:00:00Z" by="p"/></sx:sync></item>
  <item><title>c</title><sx:sync id="c" updates="1"><sx:history sequence="1" by="p"/></sx:sync></item>
 </channel>
</rss>
<!-- end -->
`
	// What feedsync writes back when it copies the feed with content
	// between items: that content after the last item.
	h, items, err := feedsync.ReadAll(strings.NewReader(strings.Replace(local, "BETWEEN", between, 1)))
	if err != nil {
		t.Fatal(err)
	}
	var copied bytes.Buffer
	if err := feedsync.WriteAll(&copied, h, items); err != nil {
		t.Fatal(err)
	}
	moved := copied.String()
	if !strings.Contains(moved, "</item>\n"+between) {
		t.Fatalf("feedsync copies the feed as\n%s", moved)
	}

	empty := `<rss version="2.0"><channel><title>other</title></channel></rss>`
	for _, between := range []string{"", between} {
		feed := strings.Replace(local, "BETWEEN", between, 1)
		want := strings.Replace(local, "BETWEEN", "", 1)
		if between != "" {
			want = moved
		}
		for name, incoming := range map[string]string{"itself": feed, "an empty feed": empty} {
			out, sum := mergeBytes(t, []byte(feed), []byte(incoming), Options{TempDir: t.TempDir()})
			if string(out) != want {
				t.Errorf("merging %s: got\n%s\nwant\n%s", name, out, want)
			}
			if sum.Changed() || sum.Rejected != 0 {
				t.Errorf("merging %s: summary %v, want no changes", name, sum)
			}
		}
	}

	// c changes; everything else is written as read.
	local = strings.Replace(local, "BETWEEN", "", 1)
	changed := `<rss version="2.0" xmlns:sx="http://feedsync.org/2007/feedsync"><channel><title>other</title>
<item><title>c, changed</title><sx:sync id="c" updates="2"><sx:history sequence="2" by="q"/><sx:history sequence="1" by="p"/></sx:sync></item>
</channel></rss>`
	out, sum := mergeBytes(t, []byte(local), []byte(changed), Options{TempDir: t.TempDir()})
	if sum.Updated != 1 || sum.Added+sum.Conflicts+sum.Deleted+sum.Unchanged+sum.Rejected != 0 {
		t.Errorf("summary %v, want 1 updated", sum)
	}
	i := strings.Index(local, `  <item><title>c</title>`)
	j := strings.Index(local, "\n </channel>")
	if !strings.HasPrefix(string(out), local[:i]) || !strings.HasSuffix(string(out), local[j:]) {
		t.Errorf("the items before c, or the trailer, were not written as read:\n%s", out)
	}
	if !strings.Contains(string(out), "c, changed") {
		t.Errorf("c was not updated:\n%s", out)
	}
}

// failingWriter fails every write with err, after calling onWrite (when
// set).
type failingWriter struct {
	err     error
	onWrite func()
}

func (w *failingWriter) Write(p []byte) (int, error) {
	if w.onWrite != nil {
		w.onWrite()
	}
	if w.err != nil {
		return 0, w.err
	}
	return len(p), nil
}

// TestFeedsStopsSecondPass: a failing output or a cancellation while the
// result is written stops the goroutines that decode the spilled items
// ahead of the merge, and Feeds returns the error with nothing left
// running and its spill files removed.
func TestFeedsStopsSecondPass(t *testing.T) {
	// Enough items for the decoding goroutines to be many batches from
	// the end when the first write fails.
	var feed bytes.Buffer
	feed.WriteString(stopFeedHead)
	for i := range 5000 {
		feed.WriteString(stopItem(i))
	}
	feed.WriteString("</channel></rss>\n")
	errWrite := errors.New("disk full")
	for _, tc := range []struct {
		name   string
		cancel bool
		want   error
	}{
		{"write error", false, errWrite},
		{"cancel", true, context.Canceled},
	} {
		t.Run(tc.name, func(t *testing.T) {
			goroutines := runtime.NumGoroutine()
			tmp := t.TempDir()
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			out := &failingWriter{err: errWrite}
			if tc.cancel {
				// Cancel, and let the write succeed, so that ctx is what
				// stops the walk.
				out.err = nil
				out.onWrite = cancel
			}
			_, err := Feeds(ctx, bytes.NewReader(feed.Bytes()), bytes.NewReader(feed.Bytes()), out, Options{TempDir: tmp})
			if !errors.Is(err, tc.want) {
				t.Errorf("err = %v, want %v", err, tc.want)
			}
			checkStopped(t, goroutines, tmp)
		})
	}
}
