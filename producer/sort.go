package producer

import (
	"bufio"
	"cmp"
	"container/heap"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"iter"
	"slices"
	"time"

	"github.com/feedsync/go-feedsync/feedsync"
	"github.com/feedsync/go-feedsync/internal/spill"
)

// sortedEntry is a manifest entry with where it came from: the line of the
// item in its feed (0 for a store) and its position in the input, which
// orders the entries of one id as the input did.
type sortedEntry struct {
	Entry
	line int
	ord  int64
}

// compareSorted orders entries by sync id as Manifest does
// (bytewise), then by position in the input.
func compareSorted(a, b sortedEntry) int {
	if c := cmp.Compare(a.ID, b.ID); c != 0 {
		return c
	}
	return cmp.Compare(a.ord, b.ord)
}

// entrySorter takes the manifest entries of one source of DiffSources in any
// order (add) and gives them back in sync id order (entries), holding at
// most spill.RunEntries of them in memory: an external merge sort. A side
// that fits in one run never touches the disk.
type entrySorter struct {
	dir  string // of the spill files; "" for os.TempDir()
	buf  []sortedEntry
	n    int64 // entries added
	runs []run // sorted runs on disk, in input order
	out  *spillFile
	done bool
}

// run is a sorted sequence of entries in a spill file.
type run struct {
	f        *spillFile
	off, len int64
}

// spillFile is a temporary file that runs are appended to, with the
// number of runs that still need it.
type spillFile struct {
	*spill.File
	refs int
}

func newSpillFile(dir string) (*spillFile, error) {
	f, err := spill.Create(dir)
	if err != nil {
		return nil, err
	}
	return &spillFile{File: f}, nil
}

// add takes the entry of the next item of the input, read at line.
func (s *entrySorter) add(e Entry, line int) error {
	s.buf = append(s.buf, sortedEntry{Entry: e, line: line, ord: s.n})
	s.n++
	spill.Tick(s.n)
	if len(s.buf) >= spill.RunEntries {
		return s.spill()
	}
	return nil
}

// spill writes the entries in memory to disk as a sorted run.
func (s *entrySorter) spill() error {
	slices.SortFunc(s.buf, compareSorted)
	if s.out == nil {
		sf, err := newSpillFile(s.dir)
		if err != nil {
			return err
		}
		s.out = sf
	}
	r := run{f: s.out, off: s.out.Size()}
	var enc []byte
	for _, e := range s.buf {
		enc = appendEntry(enc[:0], e)
		if _, err := s.out.Write(enc); err != nil {
			return err
		}
	}
	if err := s.out.Flush(); err != nil {
		return err
	}
	r.len = s.out.Size() - r.off
	s.out.refs++
	s.runs = append(s.runs, r)
	clear(s.buf)
	s.buf = s.buf[:0]
	return nil
}

// finish ends the input: it sorts what is in memory, or, for a side that
// went to disk, spills it as the last run and merges runs in passes until
// one merge can read them all at once.
func (s *entrySorter) finish() error {
	if s.done {
		return nil
	}
	s.done = true
	if len(s.runs) == 0 {
		slices.SortFunc(s.buf, compareSorted)
		return nil
	}
	if len(s.buf) > 0 {
		if err := s.spill(); err != nil {
			return err
		}
	}
	s.buf = nil
	for len(s.runs) > spill.FanIn {
		out, err := newSpillFile(s.dir)
		if err != nil {
			return err
		}
		var next []run
		for group := range slices.Chunk(s.runs, spill.FanIn) {
			r := run{f: out, off: out.Size()}
			var enc []byte
			for e, err := range mergeRuns(group) {
				if err != nil {
					out.Close()
					return err
				}
				enc = appendEntry(enc[:0], e)
				if _, err := out.Write(enc); err != nil {
					out.Close()
					return err
				}
			}
			if err := out.Flush(); err != nil {
				out.Close()
				return err
			}
			r.len = out.Size() - r.off
			out.refs++
			next = append(next, r)
		}
		s.release(s.runs)
		s.runs = next
	}
	return nil
}

// release closes the files that only runs used.
func (s *entrySorter) release(runs []run) {
	for _, r := range runs {
		if r.f.refs--; r.f.refs == 0 {
			r.f.Close()
		}
	}
}

// close removes the spill files.
func (s *entrySorter) close() {
	s.release(s.runs)
	s.runs = nil
	s.buf = nil
}

// entries returns the entries added, in sync id order and, for one id, in
// input order. finish must have been called.
func (s *entrySorter) entries() iter.Seq2[sortedEntry, error] {
	if len(s.runs) == 0 {
		return func(yield func(sortedEntry, error) bool) {
			for i, e := range s.buf {
				spill.Tick(int64(i + 1))
				if !yield(e, nil) {
					return
				}
			}
		}
	}
	return mergeRuns(s.runs)
}

// values returns the entries added in sync id order, without where they came
// from. finish must have been called.
func (s *entrySorter) values() iter.Seq2[Entry, error] {
	return func(yield func(Entry, error) bool) {
		for e, err := range s.entries() {
			if !yield(e.Entry, err) || err != nil {
				return
			}
		}
	}
}

// firstDuplicate returns the error FeedManifest (feedsync.IDSet) gives a
// feed in which an id occurs twice: for the first item, in input order,
// whose id an earlier item has, naming that earlier item's line. nil when
// every id occurs once. finish must have been called.
func (s *entrySorter) firstDuplicate() error {
	var first, dup sortedEntry
	found, inGroup := false, false
	var prev sortedEntry
	havePrev := false
	for e, err := range s.entries() {
		if err != nil {
			return err
		}
		switch {
		case havePrev && e.ID == prev.ID:
			// e is the second (or later) of its id; the second has
			// the lowest position of those.
			if !inGroup && (!found || e.ord < dup.ord) {
				first, dup, found = prev, e, true
			}
			inGroup = true
		default:
			prev, havePrev, inGroup = e, true, false
		}
	}
	if !found {
		return nil
	}
	where := "an earlier item"
	if first.line > 0 {
		where = fmt.Sprintf("the item at line %d", first.line)
	}
	return &feedsync.ItemError{ID: dup.ID, Line: dup.line, Err: fmt.Errorf("%w: also used by %s (FS-SYNC-2, FS-ROBUST-3)", feedsync.ErrDuplicateID, where)}
}

// mergeRuns yields the entries of runs in order: a k-way merge.
func mergeRuns(runs []run) iter.Seq2[sortedEntry, error] {
	return func(yield func(sortedEntry, error) bool) {
		h := make(runHeap, 0, len(runs))
		for _, r := range runs {
			rd := &runReader{r: bufio.NewReaderSize(r.f.Section(r.off, r.len), spill.BufferSize)}
			ok, err := rd.next()
			if err != nil {
				yield(sortedEntry{}, err)
				return
			}
			if ok {
				h = append(h, rd)
			}
		}
		heap.Init(&h)
		var n int64
		for len(h) > 0 {
			rd := h[0]
			e := rd.cur
			n++
			spill.Tick(n)
			if !yield(e, nil) {
				return
			}
			ok, err := rd.next()
			if err != nil {
				yield(sortedEntry{}, err)
				return
			}
			if ok {
				heap.Fix(&h, 0)
			} else {
				heap.Pop(&h)
			}
		}
	}
}

// runReader reads the entries of one run.
type runReader struct {
	r   *bufio.Reader
	cur sortedEntry
	buf []byte
}

// next reads the next entry into cur; false at the end of the run.
func (rd *runReader) next() (bool, error) {
	e, err := rd.readEntry()
	if err == io.EOF {
		return false, nil
	}
	if err != nil {
		if errors.Is(err, io.EOF) {
			err = io.ErrUnexpectedEOF
		}
		return false, fmt.Errorf("read spill file: %w", err)
	}
	rd.cur = e
	return true, nil
}

// runHeap orders the readers of a merge by their current entries. The
// positions in the input break ties between runs of one input, whose
// runs hold consecutive parts of it.
type runHeap []*runReader

func (h runHeap) Len() int           { return len(h) }
func (h runHeap) Less(i, j int) bool { return compareSorted(h[i].cur, h[j].cur) < 0 }
func (h runHeap) Swap(i, j int)      { h[i], h[j] = h[j], h[i] }
func (h *runHeap) Push(x any)        { *h = append(*h, x.(*runReader)) }
func (h *runHeap) Pop() any {
	old := *h
	x := old[len(old)-1]
	*h = old[:len(old)-1]
	return x
}

// Flags of an encoded entry.
const (
	entryDeleted = 1 << iota
	entryWhen
	entryCopies
)

// appendEntry appends the binary form of e, which readEntry reads back:
// the id, updates, flags, the topmost history entry (by, sequence, when),
// the conflict versions' digest and count, the format, the payload digest
// and that of the conflict copies, the line and the position.
func appendEntry(b []byte, e sortedEntry) []byte {
	b = appendString(b, e.ID)
	b = binary.AppendVarint(b, e.Updates)
	var flags byte
	if e.Deleted {
		flags |= entryDeleted
	}
	top := e.Version.Top
	if !top.When.IsZero() {
		flags |= entryWhen
	}
	if e.Copies != (feedsync.Digest{}) {
		flags |= entryCopies
	}
	b = append(b, flags)
	b = appendString(b, top.By)
	b = binary.AppendVarint(b, top.Sequence)
	if flags&entryWhen != 0 {
		b = binary.AppendVarint(b, top.When.Unix())
		b = binary.AppendUvarint(b, uint64(top.When.Nanosecond()))
	}
	b = appendString(b, e.Version.Conflicts)
	b = binary.AppendUvarint(b, uint64(e.Conflicts))
	b = append(b, byte(e.Format))
	b = append(b, e.Payload[:]...)
	if flags&entryCopies != 0 {
		b = append(b, e.Copies[:]...)
	}
	b = binary.AppendUvarint(b, uint64(e.line))
	return binary.AppendUvarint(b, uint64(e.ord))
}

func appendString(b []byte, s string) []byte {
	b = binary.AppendUvarint(b, uint64(len(s)))
	return append(b, s...)
}

// readEntry reads an entry written by appendEntry: io.EOF at the end of
// the run, io.ErrUnexpectedEOF (or a wrapped io.EOF) inside an entry.
func (rd *runReader) readEntry() (sortedEntry, error) {
	var e sortedEntry
	if _, err := rd.r.Peek(1); err != nil {
		return e, err
	}
	var err error
	fail := func(e2 error) {
		if err == nil && e2 != nil {
			err = e2
			if err == io.EOF {
				err = io.ErrUnexpectedEOF
			}
		}
	}
	str := func() string {
		n, e2 := binary.ReadUvarint(rd.r)
		fail(e2)
		if err != nil || n > 1<<20 {
			fail(errors.New("corrupt entry"))
			return ""
		}
		rd.buf = slices.Grow(rd.buf[:0], int(n))[:n]
		_, e2 = io.ReadFull(rd.r, rd.buf)
		fail(e2)
		return string(rd.buf)
	}
	varint := func() int64 {
		v, e2 := binary.ReadVarint(rd.r)
		fail(e2)
		return v
	}
	uvarint := func() uint64 {
		v, e2 := binary.ReadUvarint(rd.r)
		fail(e2)
		return v
	}
	readByte := func() byte {
		c, e2 := rd.r.ReadByte()
		fail(e2)
		return c
	}
	digest := func(d *feedsync.Digest) {
		_, e2 := io.ReadFull(rd.r, d[:])
		fail(e2)
	}
	e.ID = str()
	e.Updates = varint()
	flags := readByte()
	e.Deleted = flags&entryDeleted != 0
	e.Version.Top.By = str()
	e.Version.Top.Sequence = varint()
	if flags&entryWhen != 0 {
		sec := varint()
		nsec := uvarint()
		e.Version.Top.When = time.Unix(sec, int64(nsec)).UTC()
	}
	e.Version.Conflicts = str()
	e.Conflicts = int(uvarint())
	e.Format = feedsync.Format(readByte())
	digest(&e.Payload)
	if flags&entryCopies != 0 {
		digest(&e.Copies)
	}
	e.line = int(uvarint())
	e.ord = int64(uvarint())
	return e, err
}
