package main

import (
	"fmt"
	"io"
	"os"
	"sync"
	"time"
)

// progress shows how far a long command has got: one line on standard
// error, rewritten in place, such as "feedsync merge: 120000 items, 48.2 MB
// read". It appears only when standard error is a terminal (never in a
// pipe or a log) and only after the first second, so quick commands stay
// quiet. While it is up, every other write to Main.Stderr (a rejection, the
// summary) first clears the line, so nothing runs into it.
//
// A command starts it with Main.newProgress, feeds it with item, update,
// reader or writer, and calls done before it returns.
type progress struct {
	mu    sync.Mutex
	m     *Main
	w     io.Writer // the real standard error
	label string    // "feedsync merge"
	verb  string    // what the byte count is: "read", "received", "written"
	on    bool
	now   func() time.Time

	start, last time.Time
	shown       bool // the line is on the screen
	items       int
	bytes       int64
}

// newProgress starts a progress line for the command name, counting bytes
// that are verb ("read", "written"). force shows it even when standard error
// is not a terminal, and makes it use m.Now as its clock (tests).
func (m *Main) newProgress(name, verb string, force bool) *progress {
	force = force || m.forceProgress
	p := &progress{m: m, w: m.Stderr, label: "feedsync " + name, verb: verb, now: time.Now}
	p.on = force || isTerminal(m.Stderr)
	if force {
		p.now = m.Now
	}
	p.start = p.now()
	if p.on {
		m.Stderr = &clearingWriter{p: p}
	}
	return p
}

// item counts one item.
func (p *progress) item() {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.items++
	p.draw()
}

// update sets the counts: items done and bytes.
func (p *progress) update(items int, n int64) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.items, p.bytes = items, n
	p.draw()
}

// reader returns r, counting the bytes read from it.
func (p *progress) reader(r io.Reader) io.Reader {
	if !p.on {
		return r
	}
	return &progressIO{p: p, r: r}
}

// writer returns w, counting the bytes written to it.
func (p *progress) writer(w io.Writer) io.Writer {
	if !p.on {
		return w
	}
	return &progressIO{p: p, w: w}
}

// done clears the line and gives Main its standard error back.
func (p *progress) done() {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.clear()
	if cw, ok := p.m.Stderr.(*clearingWriter); ok && cw.p == p {
		p.m.Stderr = p.w
	}
	p.on = false
}

// draw rewrites the line, at most five times a second. p.mu is held.
func (p *progress) draw() {
	if !p.on {
		return
	}
	now := p.now()
	if now.Sub(p.start) < time.Second || (p.shown && now.Sub(p.last) < 200*time.Millisecond) {
		return
	}
	p.last, p.shown = now, true
	// Before the first item (merge indexing the local feed, verify) only
	// the bytes say how far it got.
	io.WriteString(p.w, "\r"+p.label+": ")
	if p.items > 0 || p.bytes == 0 {
		fmt.Fprintf(p.w, "%d item%s", p.items, plural(p.items, "", "s"))
		if p.bytes > 0 {
			io.WriteString(p.w, ", ")
		}
	}
	if p.bytes > 0 {
		fmt.Fprintf(p.w, "%.1f MB %s", float64(p.bytes)/(1<<20), p.verb)
	}
	io.WriteString(p.w, "\x1b[K") // erase what a longer line left
}

// clear removes the line from the screen. p.mu is held.
func (p *progress) clear() {
	if p.shown {
		io.WriteString(p.w, "\r\x1b[K")
		p.shown = false
	}
}

// clearingWriter is Main.Stderr while a progress line is up: it clears the
// line before anything else is written.
type clearingWriter struct{ p *progress }

func (c *clearingWriter) Write(b []byte) (int, error) {
	c.p.mu.Lock()
	defer c.p.mu.Unlock()
	c.p.clear()
	return c.p.w.Write(b)
}

// progressIO counts the bytes that go through a reader or a writer.
type progressIO struct {
	p *progress
	r io.Reader
	w io.Writer
}

func (c *progressIO) Read(b []byte) (int, error) {
	n, err := c.r.Read(b)
	c.count(n)
	return n, err
}

func (c *progressIO) Write(b []byte) (int, error) {
	n, err := c.w.Write(b)
	c.count(n)
	return n, err
}

func (c *progressIO) count(n int) {
	c.p.mu.Lock()
	defer c.p.mu.Unlock()
	c.p.bytes += int64(n)
	c.p.draw()
}

// isTerminal reports whether w is a terminal.
func isTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	if !ok {
		return false
	}
	fi, err := f.Stat()
	return err == nil && fi.Mode()&os.ModeCharDevice != 0
}
