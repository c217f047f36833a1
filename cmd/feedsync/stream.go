package main

import (
	"context"
	"errors"
	"io"

	"github.com/feedsync/go-feedsync/feedsync"
)

// eachItem calls fn for every item of the feed read by r, checking ctx
// between items. name is the file the errors name.
func eachItem(ctx context.Context, name string, r *feedsync.Reader, fn func(*feedsync.Item) error) error {
	for {
		if err := ctx.Err(); err != nil {
			return err
		}
		it, err := r.Next()
		if err == io.EOF {
			return nil
		}
		if err != nil {
			return inFile(name, err)
		}
		if err := fn(it); err != nil {
			return err
		}
	}
}

// jsonList writes a JSON array one element at a time, so a long listing is
// never held whole: "[", the elements one per line, then "]".
type jsonList struct {
	w io.Writer
	n int
}

func newJSONList(w io.Writer) *jsonList {
	io.WriteString(w, "[")
	return &jsonList{w: w}
}

func (l *jsonList) add(v any) error {
	if l.n > 0 {
		io.WriteString(l.w, ",")
	}
	io.WriteString(l.w, "\n")
	l.n++
	return writeJSON(l.w, v)
}

func (l *jsonList) close() {
	if l.n > 0 {
		io.WriteString(l.w, "\n")
	}
	io.WriteString(l.w, "]\n")
}

// ctxReader is r, failing with ctx's error once ctx is done: it lets a
// command stop work done by a function that takes no context (export,
// convert) when it is interrupted.
type ctxReader struct {
	ctx context.Context
	r   io.Reader
}

func (c ctxReader) Read(p []byte) (int, error) {
	if err := c.ctx.Err(); err != nil {
		return 0, err
	}
	return c.r.Read(p)
}

// Seek seeks r, which must be an io.Seeker (Refresh reads the previous
// feed twice).
func (c ctxReader) Seek(offset int64, whence int) (int64, error) {
	s, ok := c.r.(io.Seeker)
	if !ok {
		return 0, errors.New("cannot seek")
	}
	return s.Seek(offset, whence)
}
