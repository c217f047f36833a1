package itemrow

import (
	"container/heap"
	"encoding/binary"
	"math/bits"
	"sync"
)

// The encoder of the stored form encDict: one DEFLATE block (RFC 1951)
// against the preset dictionary dict, with Huffman codes fixed once for
// the process (static tables, below) rather than built for every item.
//
// compress/flate builds the Huffman codes of every block from its
// symbols, which for an item of a kilobyte or two is most of the cost of
// compressing it (sorting the symbol frequencies, limiting the code
// lengths), and its fastest level ignores a preset dictionary. Here a
// block carries codes built at start-up from a sample of typical items
// (a dynamic block whose header is the same bytes every time), and the
// matching is a greedy search in one hash table that starts from a copy
// of the dictionary's (tokenize; encodeDict in static_encode.go is the
// same search, written for speed). Any DEFLATE decoder given dict reads
// the result.

const (
	// maxDictXML is the longest element encoded so: with the dictionary it
	// stays within DEFLATE's 32 KiB window, and beyond a few kilobytes
	// compress/flate's codes, built for the item, pay for themselves.
	maxDictXML = 16 << 10
	tableBits  = 12
	tableSize  = 1 << tableBits
	minMatch   = 4
	maxMatch   = 258
)

// Base lengths and distances of the DEFLATE length codes 257-285 and
// distance codes 0-29, with their extra bits (RFC 1951 §3.2.5).
var (
	lengthBase  = [29]uint16{3, 4, 5, 6, 7, 8, 9, 10, 11, 13, 15, 17, 19, 23, 27, 31, 35, 43, 51, 59, 67, 83, 99, 115, 131, 163, 195, 227, 258}
	lengthExtra = [29]uint8{0, 0, 0, 0, 0, 0, 0, 0, 1, 1, 1, 1, 2, 2, 2, 2, 3, 3, 3, 3, 4, 4, 4, 4, 5, 5, 5, 5, 0}
)

// codes are the Huffman codes of a block: for each symbol its code, bit
// reversed as DEFLATE writes it, and its length.
type codes struct {
	code []uint16
	len  []uint8
}

// static is what every encDict block shares, made once.
type static struct {
	lit, dist codes
	lenCode   [maxMatch + 1]uint8 // match length -> length code - 257
	header    []byte              // BFINAL, BTYPE and the code lengths
	headerN   uint                // bits of header used
	table     [tableSize]int32    // the hash table after inserting dict
	window    []byte              // dict, the start of every window
	enc       *encodeTables       // the codes packed for encodeDict
}

var (
	staticOnce sync.Once
	st         *static
)

func tables() *static {
	staticOnce.Do(func() { st = newStatic() })
	return st
}

func hash4(u uint32) uint32 { return (u * 0x1e35a7bd) >> (32 - tableBits) }

// load32 reads 4 bytes at i. The slice it reads has its length and
// capacity fixed, so that the compiler checks one bound and need not
// guard a pointer past the end, as it does for b[i:]: the encoder calls
// it a few times for every byte.
func load32(b []byte, i int) uint32 { return binary.LittleEndian.Uint32(b[i : i+4 : i+4]) }

// distCode returns the distance code of d (1-32768) and its extra bits.
func distCode(d int) (code int, extra uint, value int) {
	d--
	if d < 4 {
		return d, 0, 0
	}
	n := bits.Len32(uint32(d)) - 1
	return 2*n + (d>>(n-1))&1, uint(n - 1), d & (1<<(n-1) - 1)
}

// bitWriter writes DEFLATE's least-significant-bit-first stream: the
// block header at start-up (and the tests' reference encoder).
type bitWriter struct {
	out  []byte
	bits uint64
	n    uint
}

func (w *bitWriter) write(v uint64, n uint) {
	w.bits |= v << w.n
	w.n += n
	if w.n >= 48 {
		w.out = binary.LittleEndian.AppendUint64(w.out, w.bits)[:len(w.out)+6]
		w.bits >>= 48
		w.n -= 48
	}
}

func (w *bitWriter) flush() {
	for w.n > 0 {
		w.out = append(w.out, byte(w.bits))
		w.bits >>= 8
		w.n -= min(w.n, 8)
	}
}

// sink receives the symbols of the tokenizer: the training counts them
// (and the tests' reference encoder writes them).
type sink interface {
	literals(b []byte)
	match(length, dist int)
}

// tokenize runs the greedy LZ77 search over w[start:], with table holding
// the positions of w[:start] already, and reports literals and matches.
// The training sample's symbols, and so the codes and the header the
// stored form 0x03 implies, follow from it: it is part of the format.
// encodeDict makes the same search, written for speed.
func tokenize(w []byte, start int, table *[tableSize]int32, s sink) {
	n := len(w)
	lit, i := start, start
	for i+minMatch <= n {
		cur := load32(w, i)
		h := hash4(cur)
		c := int(table[h])
		table[h] = int32(i)
		if c >= i || i-c > 32768 || load32(w, c) != cur {
			i++
			continue
		}
		l := minMatch
		for i+l < n && l < maxMatch && w[c+l] == w[i+l] {
			l++
		}
		if lit < i {
			s.literals(w[lit:i])
		}
		s.match(l, i-c)
		end := i + l
		for j := i + 1; j < end && j+minMatch <= n; j++ {
			table[hash4(load32(w, j))] = int32(j)
		}
		i, lit = end, end
	}
	if lit < n {
		s.literals(w[lit:])
	}
}

// impliedHeader returns the bytes the stored form 0x03 leaves out: the
// whole bytes of the block header of the static codes.
func impliedHeader() []byte {
	t := tables()
	return t.header[:t.headerN/8]
}

// counter counts the symbols of the training sample.
type counter struct {
	t         *static
	lit, dist [286]int
}

func (c *counter) literals(b []byte) {
	for _, x := range b {
		c.lit[x]++
	}
}

func (c *counter) match(length, dist int) {
	c.lit[257+int(c.t.lenCode[length])]++
	dc, _, _ := distCode(dist)
	c.dist[dc]++
}

// newStatic builds the shared tables: the dictionary's hash table, then
// the codes, from the symbols of the training sample (every symbol counted
// at least once, so that any element can be encoded), then the block
// header that carries them.
func newStatic() *static {
	t := &static{window: []byte(dict)}
	for lc := range lengthBase {
		hi := maxMatch
		if lc+1 < len(lengthBase) {
			hi = int(lengthBase[lc+1]) - 1
		}
		for l := int(lengthBase[lc]); l <= hi; l++ {
			t.lenCode[l] = uint8(lc)
		}
	}
	for i := 0; i+minMatch <= len(t.window); i++ {
		t.table[hash4(load32(t.window, i))] = int32(i)
	}
	c := &counter{t: t}
	for _, s := range trainingSample {
		tab := t.table
		tokenize(append(append([]byte(nil), t.window...), s...), len(t.window), &tab, c)
	}
	c.lit[256]++ // end of block
	litLens := lengths(c.lit[:286], 15, 1)
	distLens := lengths(c.dist[:30], 15, 1)
	t.lit = canonical(litLens)
	t.dist = canonical(distLens)
	t.header, t.headerN = blockHeader(litLens, distLens)
	t.enc = newEncodeTables(t)
	return t
}

// trainingSample are elements typical of what stores hold, whose symbols
// set the code lengths. They only tune the size of the stored form: any
// element encodes, and changing them changes no stored row's meaning.
var trainingSample = []string{
	`<entry xmlns="http://www.w3.org/2005/Atom"><title>Task 12: paint the shed and call the plumber</title><id>urn:uuid:6c1c6a1e-2f4b-4e8e-9c3e-1b0f3c2d4e5f</id><updated>2026-03-14T08:21:05Z</updated><author><name>Carla</name></author><category term="home"/><content type="text">Paint the garden shed before the weekend, two coats on the door and one on the walls. Call the plumber about the leak under the kitchen sink; he said Thursday morning would work, but confirm the time by phone. Buy brushes, tape and a drop cloth at the hardware store on the way back from the office, and keep the receipt for the landlord. If it rains on Saturday, move the painting to Sunday afternoon and clean the gutters instead.</content><sx:sync xmlns:sx="http://feedsync.org/2007/feedsync" id="task-0000012" updates="2"><sx:history sequence="2" when="2026-03-14T08:21:05Z" by="laptop"/><sx:history sequence="1" when="2026-03-13T19:02:44Z" by="phone"/></sx:sync></entry>`,
	`<item><title>Quarterly report draft</title><description>The draft of the quarterly report is ready for review. Sales grew in the north and the west, while costs stayed flat; the budget for the new project still needs approval from the board. Please send your comments by Friday, so that the final version can go out with the invoices at the end of the month.</description><link>https://example.com/reports/q1</link><guid isPermaLink="false">report-q1</guid><pubDate>Tue, 10 Mar 2026 14:30:00 GMT</pubDate><sx:sync xmlns:sx="http://feedsync.org/2007/feedsync" id="report-q1" updates="3"><sx:history sequence="3" when="2026-03-10T14:30:00Z" by="alice"/><sx:history sequence="2" by="bob"/></sx:sync></item>`,
	`<entry xmlns="http://www.w3.org/2005/Atom"><title>Meeting notes, 4 May</title><id>urn:feedsync:notes-0504</id><updated>2026-05-04T17:45:00Z</updated><author><name>Dev</name></author><category term="work"/><content type="text">We agreed to move the release to the second week of June. Eve will write the migration guide; Bob checks the numbers in the benchmark again, with the new machine. Open questions: who owns the support queue during the holidays, and whether the old API stays for one more year. Next meeting on Monday at ten, in the small room.</content><sx:sync xmlns:sx="http://feedsync.org/2007/feedsync" id="notes-0504" updates="1"><sx:history sequence="1" when="2026-05-04T17:45:00Z" by="dev-laptop"/></sx:sync></entry>`,
}

// lengths returns Huffman code lengths for the frequencies freq (each
// raised to at least floor), none longer than limit: where a plain
// Huffman code is longer, the frequencies are flattened and it is built
// again. Symbols of frequency 0 get no code (length 0); the others make a
// complete code, as decoders require.
func lengths(freq []int, limit, floor int) []uint8 {
	var used []int
	var f []int
	for s, v := range freq {
		if v = max(v, floor); v > 0 {
			used = append(used, s)
			f = append(f, v)
		}
	}
	out := make([]uint8, len(freq))
	if len(used) == 1 {
		out[used[0]] = 1
		return out
	}
	for {
		l := huffman(f)
		if slicesMax(l) <= uint8(limit) {
			for i, s := range used {
				out[s] = l[i]
			}
			return out
		}
		for i := range f {
			f[i] = f[i]/2 + 1
		}
	}
}

func slicesMax(l []uint8) uint8 {
	m := uint8(0)
	for _, v := range l {
		m = max(m, v)
	}
	return m
}

// node is a node of the Huffman tree built by huffman.
type node struct {
	freq        int
	sym         int // leaf symbol, -1 for an inner node
	order       int // leaves by symbol, then inner nodes as made
	left, right *node
}

type nodeHeap []*node

func (h nodeHeap) Len() int { return len(h) }

// Less is a total order (order is unique), so that the tree, and the
// header 0x03 implies, follow from the frequencies alone, whatever the
// heap's way of breaking ties.
func (h nodeHeap) Less(i, j int) bool {
	if h[i].freq != h[j].freq {
		return h[i].freq < h[j].freq
	}
	return h[i].order < h[j].order
}
func (h nodeHeap) Swap(i, j int) { h[i], h[j] = h[j], h[i] }
func (h *nodeHeap) Push(x any)   { *h = append(*h, x.(*node)) }
func (h *nodeHeap) Pop() any {
	old := *h
	x := old[len(old)-1]
	*h = old[:len(old)-1]
	return x
}

// huffman returns the code lengths of a Huffman code for freq (all > 0,
// at least two symbols).
func huffman(freq []int) []uint8 {
	h := make(nodeHeap, 0, len(freq))
	for s, f := range freq {
		h = append(h, &node{freq: f, sym: s, order: s})
	}
	heap.Init(&h)
	for order := len(freq); h.Len() > 1; order++ {
		a := heap.Pop(&h).(*node)
		b := heap.Pop(&h).(*node)
		heap.Push(&h, &node{freq: a.freq + b.freq, sym: -1, order: order, left: a, right: b})
	}
	out := make([]uint8, len(freq))
	var walk func(n *node, depth uint8)
	walk = func(n *node, depth uint8) {
		if n.sym >= 0 {
			out[n.sym] = depth
			return
		}
		walk(n.left, depth+1)
		walk(n.right, depth+1)
	}
	walk(heap.Pop(&h).(*node), 0)
	return out
}

// canonical returns the canonical codes of the code lengths l (RFC 1951
// §3.2.2), bit reversed for writing.
func canonical(l []uint8) codes {
	var count [16]int
	for _, v := range l {
		count[v]++
	}
	count[0] = 0
	var next [16]int
	code := 0
	for b := 1; b < 16; b++ {
		code = (code + count[b-1]) << 1
		next[b] = code
	}
	c := codes{code: make([]uint16, len(l)), len: l}
	for s, v := range l {
		if v == 0 {
			continue
		}
		c.code[s] = bits.Reverse16(uint16(next[v])) >> (16 - v)
		next[v]++
	}
	return c
}

// clOrder is the order of the code length code lengths in a block header.
var clOrder = [19]int{16, 17, 18, 0, 8, 7, 9, 6, 10, 5, 11, 4, 12, 3, 13, 2, 14, 1, 15}

// blockHeader returns the start of a final dynamic block (BFINAL 1, BTYPE
// 10) with the code lengths lit (286) and dist (30), and its length in
// bits.
func blockHeader(lit, dist []uint8) ([]byte, uint) {
	all := append(append([]uint8(nil), lit...), dist...)
	// Run-length encode the lengths with the symbols 0-18.
	type clSym struct{ sym, extra, n int }
	var syms []clSym
	for i := 0; i < len(all); {
		v := all[i]
		run := 1
		for i+run < len(all) && all[i+run] == v {
			run++
		}
		i += run
		if v == 0 {
			for run >= 11 {
				k := min(run, 138)
				syms = append(syms, clSym{18, k - 11, 7})
				run -= k
			}
			if run >= 3 {
				syms = append(syms, clSym{17, run - 3, 3})
				run = 0
			}
		} else {
			syms = append(syms, clSym{int(v), 0, 0})
			run--
			for run >= 3 {
				k := min(run, 6)
				syms = append(syms, clSym{16, k - 3, 2})
				run -= k
			}
		}
		for ; run > 0; run-- {
			syms = append(syms, clSym{int(v), 0, 0})
		}
	}
	freq := make([]int, 19)
	for _, s := range syms {
		freq[s.sym]++
	}
	clLens := lengths(freq, 7, 0)
	cl := canonical(clLens)
	hclen := 19
	for hclen > 4 && clLens[clOrder[hclen-1]] == 0 {
		hclen--
	}
	var w bitWriter
	w.write(1, 1)       // BFINAL
	w.write(2, 2)       // BTYPE 10: dynamic codes
	w.write(286-257, 5) // HLIT
	w.write(30-1, 5)    // HDIST
	w.write(uint64(hclen-4), 4)
	for _, s := range clOrder[:hclen] {
		w.write(uint64(clLens[s]), 3)
	}
	for _, s := range syms {
		w.write(uint64(cl.code[s.sym]), uint(cl.len[s.sym]))
		if s.n > 0 {
			w.write(uint64(s.extra), uint(s.n))
		}
	}
	n := uint(len(w.out))*8 + w.n
	w.flush()
	return w.out, n
}
