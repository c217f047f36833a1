package merge

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"math"
	"os"

	"github.com/feedsync/go-feedsync/feedsync"
)

// Feeds merges the incoming feed into the local feed and writes the result
// to out:
//
//   - local items keep their place; each one the incoming feed mentions is
//     replaced by the merge result (FS-MERGE-2, FS-MERGE-15), and the others,
//     with every item without sx:sync, are written exactly as read
//     (FS-MERGE-13, FS-FEED-8);
//   - incoming items without a local counterpart follow, in incoming document
//     order (FS-MERGE-1, FS-MERGE-15);
//   - the local feed's header is kept: its title, links and sx:sharing. The
//     incoming feed's header, sx:sharing included, is never copied
//     (FS-FEED-9, FS-SHARING-5);
//   - incoming items without sx:sync are ignored (FS-FEED-7, §17 A-11), and
//     incoming items with invalid metadata are rejected: counted, reported
//     in the Summary and left out (FS-ROBUST-1).
//
// The output is in opts.Format, or the local feed's format when it is zero.
// Merging a feed whose items change nothing writes out byte for byte what
// local holds (FS-MERGE-14).
//
// A sync id that occurs twice in either feed makes Feeds fail with an error
// wrapping feedsync.ErrDuplicateID that names the id and both lines
// (FS-ROBUST-3, §17 A-10). On any error out holds a partial feed: write to a
// temporary file and rename it over the local feed only on success.
//
// Feeds streams. It reads the incoming feed once, copying every valid sync
// item into a spill file under opts.TempDir (removed before Feeds returns)
// and keeping in memory only an index from sync id to the item's place in
// that file; then it reads the local feed once, merging and writing item by
// item, and finally copies the incoming items no local item consumed. Memory
// therefore grows with the number of incoming sync ids and local sync ids
// (for the duplicate check), not with the size of the feeds. ctx is checked
// between items.
//
// Each feed is tokenised on a goroutine of its own, a few dozen items ahead
// of the merge (aheadReader), so that on a machine with two cores reading
// the XML runs beside spilling, merging and writing. Neither reader is used
// after Feeds returns.
func Feeds(ctx context.Context, local, incoming io.Reader, out io.Writer, opts Options) (Summary, error) {
	m := &merger{opts: opts}
	sp, err := newSpill(opts.TempDir)
	if err != nil {
		return m.sum, fmt.Errorf("merge: %w", err)
	}
	defer sp.remove()

	if err := m.spillIncoming(ctx, incoming, sp); err != nil {
		return m.sum, err
	}
	if err := sp.flush(); err != nil {
		return m.sum, fmt.Errorf("merge: spill incoming items: %w", err)
	}
	if err := m.mergeLocal(ctx, local, out, sp); err != nil {
		return m.sum, err
	}
	return m.sum, nil
}

// spillIncoming is the first pass: it reads the incoming feed, rejects
// invalid items, detects duplicate ids and spills every valid sync item.
func (m *merger) spillIncoming(ctx context.Context, incoming io.Reader, sp *spill) error {
	r := readAhead(feedsync.NewReaderOptions(incoming, m.opts.ReaderOptions), nil, nil)
	defer r.close()
	for {
		if err := ctx.Err(); err != nil {
			return fmt.Errorf("merge: %w", err)
		}
		in, err := r.next()
		if err == io.EOF {
			return nil
		}
		if err != nil {
			return fmt.Errorf("merge: read incoming feed: %w", err)
		}
		if in.Sync == nil {
			continue // FS-FEED-7, §17 A-11
		}
		rejected := check(in)
		if id := in.ID(); id != "" {
			// An item without an id is rejected below and cannot clash.
			if first, ok := sp.index[id]; ok {
				return fmt.Errorf("merge: incoming feed: %w", duplicate(in, int(sp.entries[first].line)))
			}
			// The item is carried (feedsync.Carry) before it is spilled:
			// the spill keeps the item, not the feed around it.
			e := entry{line: int32(min(in.Line(), math.MaxInt32)), state: pending}
			if rejected != nil {
				e.state = rejectedState
			} else if e.off, e.n, err = sp.append(feedsync.Carry(in)); err != nil {
				return fmt.Errorf("merge: spill incoming item %q (line %d): %w", id, in.Line(), err)
			}
			sp.index[id] = int32(len(sp.entries))
			sp.entries = append(sp.entries, e)
		}
		if rejected != nil {
			// Reported now, in incoming order: a rejected item has no place
			// in the output whatever the local feed holds.
			m.report(in, feedsync.Rejected, rejected)
		}
	}
}

// mergeLocal is the second pass: it streams the local feed, merges every
// local item the incoming feed mentions, writes everything, then appends the
// incoming items nothing consumed.
func (m *merger) mergeLocal(ctx context.Context, local io.Reader, out io.Writer, sp *spill) error {
	lr := feedsync.NewReaderOptions(local, m.opts.ReaderOptions)
	src, err := lr.Header()
	if err != nil {
		return fmt.Errorf("merge: read local feed: %w", err)
	}
	// The reader completes the header as it reads on (the separator, the
	// content between items, the trailer). The writer gets a copy, brought
	// up to date with each batch of items.
	h := new(feedsync.Header)
	*h = *src
	r := readAhead(lr, src, h)
	defer r.close()
	// Options.Format: the local header converted keeps the feed's title,
	// link, description and sx:sharing (FS-FEED-9).
	h = h.Convert(m.opts.Format)
	m.into = h
	w := feedsync.NewWriter(out, h)
	var ids feedsync.IDSet
	var dec feedsync.ItemDecoder
	for {
		if err := ctx.Err(); err != nil {
			return fmt.Errorf("merge: %w", err)
		}
		l, err := r.next()
		if err == io.EOF {
			break
		}
		if err != nil {
			return fmt.Errorf("merge: read local feed: %w", err)
		}
		res := l
		if id := l.ID(); id != "" {
			// Duplicate local ids (FS-ROBUST-3): ids the incoming feed
			// has are marked in the index, the others go to ids, so the
			// index is not held twice.
			i, ok := sp.index[id]
			if !ok {
				if err := ids.Add(l); err != nil {
					return fmt.Errorf("merge: local feed: %w", err)
				}
			} else if e := &sp.entries[i]; e.localLine != 0 {
				return fmt.Errorf("merge: local feed: %w", duplicate(l, int(e.localLine)))
			} else {
				e.localLine = int32(min(max(l.Line(), 1), math.MaxInt32))
			}
			if ok && sp.entries[i].state == pending {
				e := &sp.entries[i]
				in, err := sp.read(&dec, e)
				if err != nil {
					return fmt.Errorf("merge: read back incoming item %q (line %d): %w", id, e.line, err)
				}
				e.state = consumed
				var o feedsync.Outcome
				res, o, err = m.step(l, in, feedsync.FormatUnknown)
				if err != nil && o != feedsync.Rejected {
					return fmt.Errorf("merge: %w", err)
				}
				m.report(in, o, err)
			}
		}
		if err := w.WriteItem(res); err != nil {
			return fmt.Errorf("merge: write item %q: %w", l.ID(), err)
		}
	}
	if err := m.appendRest(ctx, w, sp, &dec); err != nil {
		return err
	}
	if err := w.Close(); err != nil {
		return fmt.Errorf("merge: write output: %w", err)
	}
	return nil
}

// appendRest writes the incoming items that no local item consumed, in
// incoming document order (FS-MERGE-1, FS-MERGE-15). It reads the spill file
// sequentially: entries are stored in that order.
func (m *merger) appendRest(ctx context.Context, w *feedsync.Writer, sp *spill, dec *feedsync.ItemDecoder) error {
	br := bufio.NewReaderSize(io.NewSectionReader(sp.f, 0, sp.size), 64<<10)
	var pos int64
	for i := range sp.entries {
		e := &sp.entries[i]
		if e.state != pending {
			continue
		}
		if err := ctx.Err(); err != nil {
			return fmt.Errorf("merge: %w", err)
		}
		if _, err := br.Discard(int(e.off - pos)); err != nil {
			return fmt.Errorf("merge: read back incoming item at line %d: %w", e.line, err)
		}
		b := make([]byte, e.n)
		if _, err := io.ReadFull(br, b); err != nil {
			return fmt.Errorf("merge: read back incoming item at line %d: %w", e.line, err)
		}
		pos = e.off + int64(e.n)
		in, err := dec.Decode(b)
		if err != nil {
			return fmt.Errorf("merge: read back incoming item at line %d: %w", e.line, err)
		}
		e.state = consumed
		res, o, err := m.step(nil, in, feedsync.FormatUnknown)
		if o == feedsync.Rejected {
			// Only the limits on results can reject an item without a
			// local counterpart (FS-ROBUST-6): it is left out.
			m.report(in, o, err)
			continue
		}
		if err != nil {
			return fmt.Errorf("merge: %w", err)
		}
		if err := w.WriteItem(res); err != nil {
			return fmt.Errorf("merge: write item %q: %w", in.ID(), err)
		}
		m.report(in, o, nil)
	}
	return nil
}

// duplicate is the error for an item whose id an earlier item of the same
// feed, at line first, already used (FS-ROBUST-3). It reads like
// feedsync.IDSet's.
func duplicate(it *feedsync.Item, first int) error {
	where := "an earlier item"
	if first > 0 {
		where = fmt.Sprintf("the item at line %d", first)
	}
	return &feedsync.ItemError{ID: it.ID(), Line: it.Line(),
		Err: fmt.Errorf("%w: also used by %s (FS-SYNC-2, FS-ROBUST-3)", feedsync.ErrDuplicateID, where)}
}

// Entry states.
const (
	pending       uint8 = iota // spilled, not merged yet
	consumed                   // merged into a local item or appended
	rejectedState              // invalid (FS-ROBUST-1): not spilled, kept for the duplicate check
)

// entry is the index record of one incoming sync item: where its binary
// form lies in the spill file, its source line, the line of the local item
// with its id (0 until one is seen) and its state.
type entry struct {
	off       int64
	n         int32
	line      int32
	localLine int32
	state     uint8
}

// spill is the temporary file holding the incoming items and the index of
// their ids. It is the only per-item state Feeds keeps.
type spill struct {
	f       *os.File
	bw      *bufio.Writer
	size    int64
	enc     feedsync.ItemEncoder
	index   map[string]int32 // sync id → position in entries
	entries []entry          // in incoming document order

	// The read cursor: cur reads the file from offset pos on (pos < 0:
	// not positioned yet).
	cur *bufio.Reader
	pos int64
}

func newSpill(dir string) (*spill, error) {
	f, err := os.CreateTemp(dir, "feedsync-merge-*.spill")
	if err != nil {
		return nil, fmt.Errorf("create spill file: %w", err)
	}
	return &spill{f: f, bw: bufio.NewWriterSize(f, 64<<10), index: map[string]int32{}}, nil
}

// append writes the binary form of it and returns where it lies.
func (sp *spill) append(it *feedsync.Item) (off int64, n int32, err error) {
	b, err := sp.enc.Encode(it)
	if err != nil {
		return 0, 0, err
	}
	if len(b) > 1<<31-1 {
		return 0, 0, errors.New("item too large to spill")
	}
	if _, err := sp.bw.Write(b); err != nil {
		return 0, 0, err
	}
	off = sp.size
	sp.size += int64(len(b))
	return off, int32(len(b)), nil
}

func (sp *spill) flush() error { return sp.bw.Flush() }

// maxSkip is how far ahead of the read cursor an entry may lie for read to
// reach it by reading on rather than by seeking.
const maxSkip = 256 << 10

// read decodes the item at e. The bytes are freshly allocated: the decoded
// item keeps referring to them.
//
// Peers usually list the same items in the same order, so consecutive
// lookups tend to move forward through the spill file. read therefore keeps
// a buffered cursor and reads on from it when e lies a little ahead, which
// turns one system call per item into one per buffer; any other entry is
// read with ReadAt, and the cursor moves to just after it.
func (sp *spill) read(dec *feedsync.ItemDecoder, e *entry) (*feedsync.Item, error) {
	b := make([]byte, e.n)
	if sp.cur == nil {
		sp.cur = bufio.NewReaderSize(nil, 64<<10)
		sp.pos = -1
	}
	end := e.off + int64(e.n)
	if sp.pos >= 0 && e.off >= sp.pos && e.off-sp.pos <= maxSkip {
		if _, err := sp.cur.Discard(int(e.off - sp.pos)); err != nil {
			return nil, err
		}
		if _, err := io.ReadFull(sp.cur, b); err != nil {
			return nil, err
		}
	} else {
		if _, err := sp.f.ReadAt(b, e.off); err != nil {
			return nil, err
		}
		sp.cur.Reset(io.NewSectionReader(sp.f, end, sp.size-end))
	}
	sp.pos = end
	return dec.Decode(b)
}

// remove closes and deletes the spill file.
func (sp *spill) remove() {
	sp.f.Close()
	os.Remove(sp.f.Name())
}

// aheadBatch and aheadBatches bound how far an aheadReader reads ahead of
// its caller: at most aheadBatches batches of aheadBatch items wait.
const (
	aheadBatch   = 32
	aheadBatches = 4
)

// aheadReader reads the items of a feed on a goroutine of its own, a few
// dozen items ahead of its caller. Tokenising the XML is most of the work
// of a merge; this way it runs on another core than what the caller does
// with each item (spilling the incoming items, merging and writing the
// local ones), at the memory of a few batches of items.
type aheadReader struct {
	batches chan aheadItems
	stop    chan struct{}
	done    chan struct{}
	cur     aheadItems
	header  *feedsync.Header // the caller's copy of the header, or nil
}

// aheadItems is a batch of items; err, if set, came after them and ends
// the feed (io.EOF at its end). header is the feed's header as it was
// after them.
type aheadItems struct {
	items  []*feedsync.Item
	err    error
	header feedsync.Header
}

// readAhead starts reading r's items. The caller must call close, which
// waits until r is no longer used. With src, r's header, set, each batch
// the caller takes also copies src into header, the caller's copy: the
// reader goroutine changes src as it reads on, so the caller must not use
// it.
func readAhead(r *feedsync.Reader, src, header *feedsync.Header) *aheadReader {
	a := &aheadReader{batches: make(chan aheadItems, aheadBatches), stop: make(chan struct{}), done: make(chan struct{}), header: header}
	go func() {
		defer close(a.done)
		for {
			var b aheadItems
			for len(b.items) < aheadBatch && b.err == nil {
				it, err := r.Next()
				if err != nil {
					b.err = err
				} else {
					b.items = append(b.items, it)
				}
			}
			if src != nil {
				b.header = *src
			}
			select {
			case a.batches <- b:
			case <-a.stop:
				return
			}
			if b.err != nil {
				return
			}
		}
	}()
	return a
}

// next returns the next item, or the reader's error once the items before
// it are out (io.EOF at the end of the feed). It must not be called again
// after an error.
func (a *aheadReader) next() (*feedsync.Item, error) {
	for len(a.cur.items) == 0 {
		if a.cur.err != nil {
			return nil, a.cur.err
		}
		a.cur = <-a.batches
		if a.header != nil {
			*a.header = a.cur.header
		}
	}
	it := a.cur.items[0]
	a.cur.items = a.cur.items[1:]
	return it, nil
}

// close stops the reading goroutine and waits for it to end.
func (a *aheadReader) close() {
	close(a.stop)
	<-a.done
}
