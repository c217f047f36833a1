package main

import (
	"bytes"
	"io"

	"github.com/feedsync/go-feedsync/internal/spill"
)

// outputSpill keeps what verify will print (one line or JSON object per
// difference) until the comparison is over, when the totals that come
// first are known: in memory up to outputMemory bytes, then in a
// temporary file, so that a million differences need no more memory than
// one.
type outputSpill struct {
	dir string
	mem bytes.Buffer
	f   *spill.File
}

// outputMemory is how much of verify's output is kept in memory.
const outputMemory = 1 << 20

func (o *outputSpill) Write(p []byte) (int, error) {
	if o.f == nil && o.mem.Len()+len(p) <= outputMemory {
		return o.mem.Write(p)
	}
	if o.f == nil {
		f, err := spill.Create(o.dir)
		if err != nil {
			return 0, err
		}
		o.f = f
		if _, err := o.mem.WriteTo(f); err != nil {
			return 0, err
		}
	}
	return o.f.Write(p)
}

// WriteTo writes what was kept to w.
func (o *outputSpill) WriteTo(w io.Writer) (int64, error) {
	if o.f == nil {
		return o.mem.WriteTo(w)
	}
	if err := o.f.Flush(); err != nil {
		return 0, err
	}
	return io.Copy(w, o.f.Section(0, o.f.Size()))
}

func (o *outputSpill) close() {
	if o.f != nil {
		o.f.Close()
	}
}
