package itemrow

import (
	"encoding/binary"
	"math/bits"
	"sync"
)

// The encoder of the stored forms encDict and encImplied. It makes the
// search tokenize makes (greedy, one hash table that starts from the
// dictionary's, every position of a match inserted), and so writes the
// same bytes as tokenize with the tests' reference encoder, about twice as
// fast: in one loop rather than through a sink, with the bit buffer in
// local variables written whole after each symbol, the codes as packed
// tables (encodeTables), the positions of a short match inserted without
// a branch, and the window, table and output in one value with bounds
// the compiler knows (dictWork). Encoding an item cost about as much CPU
// time as the rest of putting it in a SQLite store.

// encodeTables are the static codes packed for writing: an entry holds the
// bits to write (bit reversed, as DEFLATE writes them) in its low 24 bits
// and how many in its high 8.
type encodeTables struct {
	lit [256]uint32
	// length holds, for each match length, its length code and the extra
	// bits after it, as one write of up to 20 bits.
	length [maxMatch + 1]uint32
	dist   [30]uint32
	eob    uint32 // the end of block
}

func packed(bits uint64, n uint) uint32 { return uint32(bits) | uint32(n)<<24 }

func newEncodeTables(t *static) *encodeTables {
	e := new(encodeTables)
	for c := range e.lit {
		e.lit[c] = packed(uint64(t.lit.code[c]), uint(t.lit.len[c]))
	}
	for l := 3; l <= maxMatch; l++ {
		lc := int(t.lenCode[l])
		n := uint(t.lit.len[257+lc])
		e.length[l] = packed(uint64(t.lit.code[257+lc])|uint64(l-int(lengthBase[lc]))<<n, n+uint(lengthExtra[lc]))
	}
	for dc := range e.dist {
		e.dist[dc] = packed(uint64(t.dist.code[dc]), uint(t.dist.len[dc]))
	}
	e.eob = packed(uint64(t.lit.code[256]), uint(t.lit.len[256]))
	if len(t.header) > maxHeader {
		panic("itemrow: the static block header is longer than maxHeader")
	}
	return e
}

// windows holds the buffers of encodeDict.
var windows = sync.Pool{New: func() any { return new(dictWork) }}

// The window and the output are arrays whose sizes are a power of two and
// 8 bytes: reading 4 or 8 bytes at an index masked with windowMask, or
// writing 8 at one masked with outMask, needs no bounds check. The masks
// change no index: every window position is below windowMask, every
// output offset below outMask.
const (
	// windowMask bounds the window, dict then an element of up to
	// maxDictXML bytes.
	windowMask = 1<<15 - 1
	// maxHeader bounds the bytes of the block header (newEncodeTables
	// checks).
	maxHeader = 128
	// outMask bounds the stream of any element: the header, at most 15
	// bits for each byte (a literal; a match writes at most 48 for 4
	// bytes or more) and the end of block.
	outMask = 1<<16 - 1
)

var (
	_ [windowMask + 1 - len(dict) - maxDictXML]struct{}
	_ [outMask + 1 - maxHeader - 2*maxDictXML - 8]struct{}
)

// The window is within DEFLATE's 32 KiB of distance: encodeDict need not
// check the distance of a match (this does not compile otherwise).
var _ [32768 - len(dict) - maxDictXML]struct{}

// dictWork is what encodeDict works in: one value, so that the search
// reaches the window, the table and the output from one pointer, and the
// bounds it checks are constants.
type dictWork struct {
	// table is the hash table, with one more entry that insertions
	// which are not to be made go to (insertUnless).
	table [tableSize + 1]int32
	// window is dict then the element; dict stays there from one
	// element to the next (hasDict), and only the element is copied in.
	// The search may read 8 bytes at any position of the element: the
	// bytes past it, left from earlier elements, count for nothing.
	window  [windowMask + 1 + 8]byte
	out     [outMask + 1 + 8]byte
	hasDict bool
}

// load32 and load64 read 4 and 8 bytes of the window at i.
//
// put writes the bit buffer acc, of nb bits, to the output at o, and
// returns the buffer with the bits of a partial byte left, and o past the
// whole bytes.
func (wk *dictWork) put(acc uint64, nb uint, o int) (uint64, uint, int) {
	binary.LittleEndian.PutUint64(wk.out[o&outMask:o&outMask+8:o&outMask+8], acc)
	return acc >> (nb & 56), nb & 7, o + int(nb>>3)
}

func (wk *dictWork) load32(i int) uint32 {
	i &= windowMask
	return binary.LittleEndian.Uint32(wk.window[i : i+4 : i+4])
}

func (wk *dictWork) load64(i int) uint64 {
	i &= windowMask
	return binary.LittleEndian.Uint64(wk.window[i : i+8 : i+8])
}

// insertUnless records position j, whose next 4 bytes are u, in the
// table, unless skip: then it writes the spare entry. Without a branch to
// mispredict, it lets encodeDict insert the positions of a short match
// in one straight run of code.
func (wk *dictWork) insertUnless(u uint32, j int, skip bool) {
	h := hash4(u)
	if skip {
		h = tableSize
	}
	wk.table[h] = int32(j)
}

// encodeDict appends to out the DEFLATE stream of xml against dict, with
// the static codes. xml must be at most maxDictXML bytes. With implied,
// the stream's first bytes, up to the last one the block header reaches
// into, are left out (stored form 0x03): they are the same for every item
// (impliedHeader), and XML puts them back.
func encodeDict(out, xml []byte, implied bool) []byte {
	wk := windows.Get().(*dictWork)
	out = append(out, wk.encode(xml, implied)...)
	windows.Put(wk)
	return out
}

// encode returns the stream encodeDict appends, in wk.out.
func (wk *dictWork) encode(xml []byte, implied bool) []byte {
	t := tables()
	et := t.enc
	const start = len(dict)
	if !wk.hasDict {
		copy(wk.window[:], dict)
		wk.hasDict = true
	}
	if len(xml) > maxDictXML {
		panic("itemrow: encodeDict of an element longer than maxDictXML")
	}
	n := start + copy(wk.window[start:], xml)
	*(*[tableSize]int32)(wk.table[:tableSize]) = t.table

	// The bit buffer: nb bits in acc, from byte o of out on, wait to be
	// written. After each symbol acc goes to out whole, o moves past
	// the whole bytes and acc keeps the rest, fewer than 8 bits: with a
	// symbol of at most 15 bits (a literal) or 48 (a match, 20 of length
	// and 28 of distance), acc never overflows.
	o := 0
	var acc uint64
	var nb uint
	if !implied {
		o = copy(wk.out[:], t.header[:t.headerN/8])
	}
	if r := t.headerN % 8; r > 0 {
		acc, nb = uint64(t.header[t.headerN/8])&(1<<r-1), r
	}
	i := start
	for i+minMatch <= n {
		cur := wk.load32(i)
		h := hash4(cur)
		c := int(wk.table[h])
		wk.table[h] = int32(i)
		// c < i: the table holds the dictionary's positions and those
		// of the element before i.
		if wk.load32(c) != cur {
			e := et.lit[byte(cur)]
			acc |= uint64(e&0xffffff) << (nb & 63)
			nb += uint(e >> 24)
			acc, nb, o = wk.put(acc, nb, o)
			i++
			continue
		}
		// The match's length: 8 bytes at a time, which may read past
		// the element into the window's slack, and so is cut to it.
		limit := min(maxMatch, n-i)
		l := minMatch
		for {
			if x := wk.load64(i+l) ^ wk.load64(c+l); x != 0 {
				l += bits.TrailingZeros64(x) >> 3
				break
			}
			if l += 8; l >= limit {
				break
			}
		}
		l = min(l, limit)
		e := et.length[l]
		acc |= uint64(e&0xffffff) << (nb & 63)
		nb += uint(e >> 24)
		dc, x, v := distCode(i - c)
		e = et.dist[dc]
		acc |= (uint64(e&0xffffff) | uint64(v)<<(e>>24&63)) << (nb & 63)
		nb += uint(e>>24) + x
		acc, nb, o = wk.put(acc, nb, o)
		// Insert the positions inside the match, as tokenize does.
		end := i + l
		if l <= 8 && i+11 <= n {
			// A match is at least minMatch (4) bytes: i+1 to i+3 are
			// in every one.
			a, b := wk.load64(i+1), wk.load64(i+3)
			wk.table[hash4(uint32(a))] = int32(i + 1)
			wk.table[hash4(uint32(a>>8))] = int32(i + 2)
			wk.table[hash4(uint32(a>>16))] = int32(i + 3)
			wk.insertUnless(uint32(a>>24), i+4, l <= 4)
			wk.insertUnless(uint32(a>>32), i+5, l <= 5)
			wk.insertUnless(uint32(b>>24), i+6, l <= 6)
			wk.insertUnless(uint32(b>>32), i+7, l <= 7)
		} else {
			for j := i + 1; j < end && j+minMatch <= n; j++ {
				wk.table[hash4(wk.load32(j))] = int32(j)
			}
		}
		i = end
	}
	for ; i < n; i++ {
		e := et.lit[wk.window[i]]
		acc |= uint64(e&0xffffff) << (nb & 63)
		nb += uint(e >> 24)
		acc, nb, o = wk.put(acc, nb, o)
	}
	e := et.eob
	acc |= uint64(e&0xffffff) << (nb & 63)
	nb += uint(e >> 24)
	wk.put(acc, nb, o)
	return wk.out[:o+int(nb+7)/8]
}
