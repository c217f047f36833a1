// Package spill holds what the module's external sorts and buffers share:
// the temporary files that data too large for memory goes to, and how much
// of it is held in memory before it does.
//
// The sizes are variables, not options, so that the tests of any package
// can make a sort go to disk with a handful of items (producer's
// DiffSources, and feedsync verify built on it), while the library's API
// offers only the directory of the files.
package spill

import (
	"bufio"
	"fmt"
	"io"
	"os"
)

// RunEntries is how many entries an external sort holds in memory at a
// time: an input with more is sorted on disk, in runs of this many entries
// merged later. A manifest entry takes some 200 bytes in memory, so a run
// holds a few megabytes whatever the number of items.
var RunEntries = 1 << 14

// FanIn is how many sorted runs one merge reads at once, each through a
// buffer of BufferSize bytes: an input with more runs is merged in passes,
// each writing fewer, longer runs, so that the buffers of a merge stay
// bounded too however many items there are.
var FanIn = 64

// SetSizes sets RunEntries and FanIn, and returns what sets them back: for
// tests, as t.Cleanup(spill.SetSizes(2, 2)), to make every sort of a
// handful of entries go to disk and merge in passes.
func SetSizes(runEntries, fanIn int) (restore func()) {
	oldN, oldFan := RunEntries, FanIn
	RunEntries, FanIn = runEntries, fanIn
	return func() { RunEntries, FanIn = oldN, oldFan }
}

// Probe, when set (tests), is called by Tick every 256th entry a sort takes
// in, merges or hands on: where its memory is at its highest.
var Probe func()

// Tick calls Probe at the nth entry, if n is a multiple of 256.
func Tick(n int64) {
	if Probe != nil && n%256 == 0 {
		Probe()
	}
}

// BufferSize is the buffer of a File's writer and of each run a merge
// reads.
const BufferSize = 16 << 10

// File is a temporary file written through a buffer and read back in
// sections. It is unlinked as soon as it is created where an open file may
// be (POSIX), so that a killed program leaves nothing behind; elsewhere
// when it is closed.
type File struct {
	f       *os.File
	removed bool
	w       *bufio.Writer
	size    int64
}

// Create creates a temporary file in dir ("" for os.TempDir()).
func Create(dir string) (*File, error) {
	f, err := os.CreateTemp(dir, "feedsync-*.spill")
	if err != nil {
		return nil, fmt.Errorf("create spill file: %w", err)
	}
	removed := os.Remove(f.Name()) == nil
	return &File{f: f, removed: removed, w: bufio.NewWriterSize(f, BufferSize)}, nil
}

// Write appends p to the file.
func (sf *File) Write(p []byte) (int, error) {
	n, err := sf.w.Write(p)
	sf.size += int64(n)
	if err != nil {
		err = fmt.Errorf("write spill file: %w", err)
	}
	return n, err
}

// Flush writes what is buffered, so that sections of it can be read.
func (sf *File) Flush() error {
	if err := sf.w.Flush(); err != nil {
		return fmt.Errorf("write spill file: %w", err)
	}
	return nil
}

// Size is the number of bytes written so far.
func (sf *File) Size() int64 { return sf.size }

// Section reads n bytes from off, which must have been flushed.
func (sf *File) Section(off, n int64) *io.SectionReader {
	return io.NewSectionReader(sf.f, off, n)
}

// Close closes and removes the file.
func (sf *File) Close() {
	sf.f.Close()
	if !sf.removed {
		os.Remove(sf.f.Name())
	}
}
