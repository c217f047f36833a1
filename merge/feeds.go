package merge

import (
	"bufio"
	"context"
	"encoding/binary"
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
// Feeds streams, in two passes. In the first it reads both feeds at the
// same time, each on a goroutine of its own, so that on a machine with two
// cores tokenising the two documents, most of the work, overlaps:
//
//   - the incoming feed: every valid sync item is copied into a spill file
//     under opts.TempDir, and memory keeps only an index from sync id to
//     the item's place in that file;
//   - the local feed: every item, sync or not, is copied into a second
//     spill file in a form that reads back without XML (its exact source
//     bytes and its parsed metadata, feedsync.ItemEncoder), with the
//     header and the content between items kept as the Writer needs them.
//
// In the second pass it walks the local spill, merging and writing item by
// item, and finally copies the incoming items no local item consumed.
// Decoding the spilled items, the bulk of that pass, runs ahead of the
// merge in a pipeline of two goroutines, one for the local items and one
// for their incoming counterparts, a bounded number of batches ahead, so
// that it too overlaps with merging and writing. Both spill files are
// removed before Feeds returns. Memory therefore grows with the number of
// incoming sync ids and local sync ids (for the duplicate check), and of
// local items with invalid metadata (whose errors are kept for the second
// pass), not with the size of the feeds.
//
// ctx is checked between items and between reads of either feed. An error
// or a cancellation on one side stops the other at its next read, and
// Feeds returns once all its goroutines have ended: neither reader is used
// after Feeds returns (a Read that blocks holds Feeds until it returns).
func Feeds(ctx context.Context, local, incoming io.Reader, out io.Writer, opts Options) (Summary, error) {
	m := &merger{opts: opts}
	sp, err := newSpill(opts.TempDir)
	if err != nil {
		return m.sum, fmt.Errorf("merge: %w", err)
	}
	defer sp.remove()
	ls, err := newLocalSpill(opts.TempDir)
	if err != nil {
		return m.sum, fmt.Errorf("merge: %w", err)
	}
	defer ls.remove()

	// The first failure, on either side, cancels the other.
	ctx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	lr := spillLocalAsync(ctx, cancel, local, ls, opts.ReaderOptions)
	err = m.spillIncoming(ctx, incoming, sp)
	if err == nil {
		err = sp.flush()
		if err != nil {
			err = fmt.Errorf("merge: spill incoming items: %w", err)
		}
	}
	if err != nil {
		cancel(err)
	}
	h, lerr := lr.wait()
	switch {
	case lerr != nil:
		// The local side failed first (or, cancelled by the incoming
		// side's failure, at the same time): its error says what.
		return m.sum, lerr
	case err != nil:
		return m.sum, err
	}
	if err := m.mergeLocal(ctx, h, ls, out, sp); err != nil {
		return m.sum, err
	}
	return m.sum, nil
}

// spillIncoming is the first pass over the incoming feed: it reads it,
// rejects invalid items, detects duplicate ids and spills every valid sync
// item.
func (m *merger) spillIncoming(ctx context.Context, incoming io.Reader, sp *spill) error {
	r := feedsync.NewReaderOptions(ctxReader{ctx, incoming}, m.opts.ReaderOptions)
	for {
		if err := ctx.Err(); err != nil {
			return fmt.Errorf("merge: %w", err)
		}
		in, err := r.Next()
		if err == io.EOF {
			return nil
		}
		if err != nil {
			if cerr := ctx.Err(); cerr != nil {
				// Stopped by ctxReader: say why, not where.
				return fmt.Errorf("merge: %w", cerr)
			}
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

// localReading is the first pass over the local feed, running on its own
// goroutine (spillLocalAsync).
type localReading struct {
	done   chan struct{}
	header *feedsync.Header // complete once the feed is read
	err    error
}

// spillLocalAsync starts reading the local feed into ls. On failure it
// cancels ctx with its error, so that the incoming side stops too.
func spillLocalAsync(ctx context.Context, cancel context.CancelCauseFunc, local io.Reader, ls *localSpill, ropts feedsync.ReaderOptions) *localReading {
	lr := &localReading{done: make(chan struct{})}
	go func() {
		defer close(lr.done)
		h, err := ls.fill(ctx, local, ropts)
		if err != nil {
			if ctx.Err() != nil {
				// Stopped by the other side or by the caller, whose
				// error is the one to report.
				return
			}
			lr.err = err
			cancel(err)
			return
		}
		lr.header = h
	}()
	return lr
}

// wait waits for the local feed to be read and returns its header, or
// the error that stopped the reading (nil when it was stopped by ctx).
func (lr *localReading) wait() (*feedsync.Header, error) {
	<-lr.done
	return lr.header, lr.err
}

// mergeLocal is the second pass: it walks the local feed as spilled,
// merges every local item the incoming feed mentions, writes everything,
// then appends the incoming items nothing consumed. src is the local
// feed's header, complete: its separator, the content found between items
// and its trailer are known before the first item is written.
func (m *merger) mergeLocal(ctx context.Context, src *feedsync.Header, ls *localSpill, out io.Writer, sp *spill) error {
	// Options.Format: the local header converted keeps the feed's title,
	// link, description and sx:sharing (FS-FEED-9).
	h := src.Convert(m.opts.Format)
	m.into = h
	w := feedsync.NewWriter(out, h)
	var ids feedsync.IDSet
	var dec feedsync.ItemDecoder
	walk := ls.walk(ctx, sp)
	defer walk.close()
	for {
		if err := ctx.Err(); err != nil {
			return fmt.Errorf("merge: %w", err)
		}
		wi, err := walk.next(ctx)
		if err == io.EOF {
			break
		}
		if err != nil {
			if cerr := ctx.Err(); cerr != nil {
				return fmt.Errorf("merge: %w", cerr)
			}
			return fmt.Errorf("merge: read back local item: %w", err)
		}
		l, lerr := wi.local, wi.localErr
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
				in := wi.in
				if wi.inErr != nil {
					return fmt.Errorf("merge: read back incoming item %q (line %d): %w", id, e.line, wi.inErr)
				}
				e.state = consumed
				var o feedsync.Outcome
				res, o, err = m.step(l, lerr, in, feedsync.FormatUnknown)
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
		res, o, err := m.step(nil, nil, in, feedsync.FormatUnknown)
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

// read decodes the item spilled at off, n bytes long. The bytes are
// freshly allocated: the decoded item keeps referring to them.
//
// Peers usually list the same items in the same order, so consecutive
// lookups tend to move forward through the spill file. read therefore keeps
// a buffered cursor and reads on from it when e lies a little ahead, which
// turns one system call per item into one per buffer; any other entry is
// read with ReadAt, and the cursor moves to just after it.
func (sp *spill) read(dec *feedsync.ItemDecoder, off int64, n int32) (*feedsync.Item, error) {
	b := make([]byte, n)
	if sp.cur == nil {
		sp.cur = bufio.NewReaderSize(nil, 64<<10)
		sp.pos = -1
	}
	end := off + int64(n)
	if sp.pos >= 0 && off >= sp.pos && off-sp.pos <= maxSkip {
		if _, err := sp.cur.Discard(int(off - sp.pos)); err != nil {
			return nil, err
		}
		if _, err := io.ReadFull(sp.cur, b); err != nil {
			return nil, err
		}
	} else {
		if _, err := sp.f.ReadAt(b, off); err != nil {
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

// localSpill is the temporary file holding the local feed's items, in
// document order, each as a length (uvarint) and its binary form, so that
// the second pass reads them back without tokenising XML.
type localSpill struct {
	f   *os.File
	bw  *bufio.Writer
	enc feedsync.ItemEncoder
	n   int // items spilled
	// broken holds the metadata error of each local sync item that has
	// one, by position: the binary form keeps the metadata, not the
	// problems the reader found in it. Memory grows only with the number
	// of broken local items.
	broken map[int]error
}

func newLocalSpill(dir string) (*localSpill, error) {
	f, err := os.CreateTemp(dir, "feedsync-merge-local-*.spill")
	if err != nil {
		return nil, fmt.Errorf("create spill file: %w", err)
	}
	return &localSpill{f: f, bw: bufio.NewWriterSize(f, 64<<10)}, nil
}

// fill reads the local feed into the spill and returns its header,
// complete with the separator, the content between items and the trailer.
// It stops at the first read after ctx is done.
func (ls *localSpill) fill(ctx context.Context, local io.Reader, ropts feedsync.ReaderOptions) (*feedsync.Header, error) {
	r := feedsync.NewReaderOptions(ctxReader{ctx, local}, ropts)
	// The header is read with the first item; the reader completes it as
	// it reads on, and nothing else uses it until fill returns.
	h, err := r.Header()
	if err != nil {
		return nil, fmt.Errorf("merge: read local feed: %w", err)
	}
	var lenBuf [binary.MaxVarintLen64]byte
	for {
		if err := ctx.Err(); err != nil {
			return nil, fmt.Errorf("merge: %w", err)
		}
		it, err := r.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			return nil, fmt.Errorf("merge: read local feed: %w", err)
		}
		if it.Sync != nil {
			if err := it.Err(); err != nil {
				if ls.broken == nil {
					ls.broken = map[int]error{}
				}
				ls.broken[ls.n] = err
			}
		}
		b, err := ls.enc.Encode(it)
		if err != nil {
			return nil, fmt.Errorf("merge: spill local item %q (line %d): %w", it.ID(), it.Line(), err)
		}
		ls.bw.Write(lenBuf[:binary.PutUvarint(lenBuf[:], uint64(len(b)))])
		if _, err := ls.bw.Write(b); err != nil {
			return nil, fmt.Errorf("merge: spill local item %q (line %d): %w", it.ID(), it.Line(), err)
		}
		ls.n++
	}
	if err := ls.bw.Flush(); err != nil {
		return nil, fmt.Errorf("merge: spill local items: %w", err)
	}
	return h, nil
}

// walk returns a cursor over the spilled items, from the first. It reads
// them ahead, with the incoming item of the same id from sp when there is
// one, so that in the second pass decoding both spills overlaps with
// merging and writing: one goroutine decodes the local items, a second
// the incoming ones, in a pipeline of batches. close stops both and must
// be called before either spill file is removed.
func (ls *localSpill) walk(ctx context.Context, sp *spill) *localWalk {
	w := &localWalk{
		batches: make(chan localBatch, walkAhead),
		stop:    make(chan struct{}),
		done:    make(chan struct{}),
	}
	locals := make(chan localBatch, walkAhead)
	localDone := make(chan struct{})
	go func() {
		defer close(localDone)
		w.decodeLocal(ctx, locals, ls, sp)
	}()
	go func() {
		defer close(w.done)
		w.decodeIncoming(ctx, locals, sp)
		<-localDone
	}()
	return w
}

// walkBatch is how many local items the decoding goroutines hand over at
// a time, and walkAhead how many batches each may run ahead: enough to keep it
// busy while the merge writes, little enough to keep memory flat.
const (
	walkBatch = 128
	walkAhead = 2
)

// localBatch is a run of decoded local items, in document order; err ends
// the walk (io.EOF after the last).
type localBatch struct {
	items []walked
	err   error
}

// walked is one local item as the decoding goroutines hand it over.
type walked struct {
	local    *feedsync.Item
	localErr error // its metadata error as read
	// The incoming item of the same id, decoded, when the incoming feed
	// has a valid one, or the error reading it back; where it was spilled
	// (inN == 0: nowhere).
	in    *feedsync.Item
	inErr error
	inOff int64
	inN   int32
}

// localWalk reads the local spill back in order.
type localWalk struct {
	batches chan localBatch
	stop    chan struct{} // closed by close
	done    chan struct{} // closed when both decoding goroutines have returned
	cur     localBatch
	i       int // next item of cur
}

// send hands b to the next stage of the walk; it reports false when the
// walk was stopped.
func (w *localWalk) send(ctx context.Context, to chan<- localBatch, b localBatch) bool {
	select {
	case to <- b:
		return true
	case <-w.stop:
		return false
	case <-ctx.Done():
		return false
	}
}

// decodeLocal reads and decodes the local spill into batches until the
// last item, an error, ctx or close, and finds where the incoming item of
// each id lies. Of sp it uses only the index and the entries' places,
// which the first pass fixed.
func (w *localWalk) decodeLocal(ctx context.Context, out chan<- localBatch, ls *localSpill, sp *spill) {
	br := bufio.NewReaderSize(io.NewSectionReader(ls.f, 0, math.MaxInt64), 256<<10)
	var dec feedsync.ItemDecoder
	send := func(b localBatch) bool { return w.send(ctx, out, b) }
	b := localBatch{items: make([]walked, 0, walkBatch)}
	for i := 0; ; i++ {
		if i == ls.n {
			b.err = io.EOF
			send(b)
			return
		}
		it, err := readLocal(br, &dec, i)
		if err != nil {
			b.err = err
			send(b)
			return
		}
		wi := walked{local: it, localErr: ls.broken[i]}
		if id := it.ID(); id != "" {
			// A rejected incoming item was not spilled (n == 0).
			if j, ok := sp.index[id]; ok {
				wi.inOff, wi.inN = sp.entries[j].off, sp.entries[j].n
			}
		}
		b.items = append(b.items, wi)
		if len(b.items) == walkBatch {
			if !send(b) {
				return
			}
			b = localBatch{items: make([]walked, 0, walkBatch)}
		}
	}
}

// decodeIncoming decodes, for each batch of local items, the incoming
// items of the same ids, and passes the batch on to next. Of sp it uses
// only the read cursor, which nothing else uses in the second pass.
func (w *localWalk) decodeIncoming(ctx context.Context, in <-chan localBatch, sp *spill) {
	var dec feedsync.ItemDecoder
	for {
		var b localBatch
		select {
		case b = <-in:
		case <-w.stop:
			return
		case <-ctx.Done():
			return
		}
		for i := range b.items {
			wi := &b.items[i]
			if wi.inN > 0 {
				wi.in, wi.inErr = sp.read(&dec, wi.inOff, wi.inN)
			}
		}
		if !w.send(ctx, w.batches, b) || b.err != nil {
			return
		}
	}
}

// readLocal reads and decodes item i (from 0) of the spill. The item's
// bytes are its own.
func readLocal(br *bufio.Reader, dec *feedsync.ItemDecoder, i int) (*feedsync.Item, error) {
	n, err := binary.ReadUvarint(br)
	if err != nil {
		return nil, fmt.Errorf("item %d: %w", i+1, noEOF(err))
	}
	if n > math.MaxInt32 {
		return nil, fmt.Errorf("item %d: bad length %d", i+1, n)
	}
	b := make([]byte, n)
	if _, err := io.ReadFull(br, b); err != nil {
		return nil, fmt.Errorf("item %d: %w", i+1, noEOF(err))
	}
	it, err := dec.Decode(b)
	if err != nil {
		return nil, fmt.Errorf("item %d: %w", i+1, err)
	}
	return it, nil
}

// next returns the next local item, or io.EOF after the last. The items
// may outlive the next call.
func (w *localWalk) next(ctx context.Context) (walked, error) {
	for w.i == len(w.cur.items) {
		if w.cur.err != nil {
			return walked{}, w.cur.err
		}
		select {
		case w.cur = <-w.batches:
			w.i = 0
		case <-ctx.Done():
			return walked{}, ctx.Err()
		}
	}
	wi := w.cur.items[w.i]
	w.cur.items[w.i] = walked{} // let the merged items go once written
	w.i++
	return wi, nil
}

// close stops the decoding goroutines and waits for them to end.
func (w *localWalk) close() {
	close(w.stop)
	<-w.done
}

// noEOF turns the end of a spill file reached too soon into an error.
func noEOF(err error) error {
	if err == io.EOF {
		return io.ErrUnexpectedEOF
	}
	return err
}

// remove closes and deletes the spill file.
func (ls *localSpill) remove() {
	ls.f.Close()
	os.Remove(ls.f.Name())
}

// ctxReader reads r until ctx is done: a read after that fails with ctx's
// error, so that a feed's reader, which reads ahead one buffer at a time,
// stops within one read of a cancellation rather than at the end of the
// feed.
type ctxReader struct {
	ctx context.Context
	r   io.Reader
}

func (c ctxReader) Read(p []byte) (int, error) {
	select {
	case <-c.ctx.Done():
		return 0, c.ctx.Err()
	default:
	}
	return c.r.Read(p)
}
