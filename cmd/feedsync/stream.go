package main

import (
	"context"
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
