package itemrow

import (
	"encoding/binary"
	"math/bits"
	"sync"
)

// The encoder of the stored forms encDict and encImplied. It makes the
// search tokenize makes (greedy, one hash table that starts from the
// dictionary's, every position of a match inserted), and so writes the
// same bytes, but in one loop with the bit buffer in local variables and
// the codes as packed tables (encodeTables): through tokenize's sink it
// cost about as much per item as the rest of a put.

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
	return e
}

// windows holds the buffers of encodeDict.
var windows = sync.Pool{New: func() any { return new(dictWork) }}

type dictWork struct {
	// window is dict then the element; dict stays there from one
	// element to the next, and only the element is copied in.
	window []byte
	// table is the hash table, with one more entry that insertions
	// which are not to be made go to (insertUnless).
	table [tableSize + 1]int32
	// out holds the stream as written, with room for any element:
	// at most 15 bits for each byte, and 8 bytes of slack.
	out []byte
}

// The window, dict and an element of up to maxDictXML bytes, is within
// DEFLATE's 32 KiB of distance: encodeDict need not check the distance of
// a match (this does not compile otherwise).
var _ [32768 - len(dict) - maxDictXML]struct{}

func load64(b []byte, i int) uint64 { return binary.LittleEndian.Uint64(b[i:]) }

// matchLen returns how many bytes from w[c+from] on equal those from
// w[i+from] on (c < i), up to limit in all.
func matchLen(w []byte, c, i, from, limit int) int {
	l := from
	for l+8 <= limit {
		if x := load64(w, i+l) ^ load64(w, c+l); x != 0 {
			return l + bits.TrailingZeros64(x)>>3
		}
		l += 8
	}
	for l < limit && w[c+l] == w[i+l] {
		l++
	}
	return l
}

// insertUnless records position j, whose next 4 bytes are u, in table,
// unless skip: then it writes the spare entry. Without a branch to
// mispredict, it lets encodeDict insert the positions of a short match
// in one straight run of code.
func insertUnless(table *[tableSize + 1]int32, u uint32, j int, skip bool) {
	h := hash4(u)
	if skip {
		h = tableSize
	}
	table[h] = int32(j)
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
	start := len(t.window)
	if len(wk.window) < start {
		wk.window = append(wk.window[:0], t.window...)
	}
	w := append(wk.window[:start], xml...)
	wk.window = w
	table := &wk.table
	*(*[tableSize]int32)(table[:tableSize]) = t.table
	need := len(t.header) + 2*len(xml) + 16
	if len(wk.out) < need {
		wk.out = make([]byte, need)
	}
	buf := wk.out[:need]

	// The bit buffer: nb bits in acc, from byte o of buf on, wait to be
	// written. After each symbol acc goes to buf whole, o moves past
	// the whole bytes and acc keeps the rest, fewer than 8 bits: with a
	// symbol of at most 15 bits (a literal) or 48 (a match, 20 of length
	// and 28 of distance), acc never overflows.
	o := 0
	var acc uint64
	var nb uint
	if !implied {
		o = copy(buf, t.header[:t.headerN/8])
	}
	if r := t.headerN % 8; r > 0 {
		acc, nb = uint64(t.header[t.headerN/8])&(1<<r-1), r
	}
	n := len(w)
	i := start
	for i+minMatch <= n {
		cur := load32(w, i)
		h := hash4(cur)
		c := int(table[h])
		table[h] = int32(i)
		if c >= i || load32(w, c) != cur {
			e := et.lit[byte(cur)]
			acc |= uint64(e&0xffffff) << nb
			nb += uint(e >> 24)
			binary.LittleEndian.PutUint64(buf[o:], acc)
			o += int(nb >> 3)
			acc >>= nb &^ 7
			nb &= 7
			i++
			continue
		}
		l := matchLen(w, c, i, minMatch, min(maxMatch, n-i))
		e := et.length[l]
		acc |= uint64(e&0xffffff) << nb
		nb += uint(e >> 24)
		dc, x, v := distCode(i - c)
		e = et.dist[dc]
		acc |= (uint64(e&0xffffff) | uint64(v)<<(e>>24)) << nb
		nb += uint(e>>24) + x
		binary.LittleEndian.PutUint64(buf[o:], acc)
		o += int(nb >> 3)
		acc >>= nb &^ 7
		nb &= 7
		// Insert the positions inside the match, as tokenize does.
		end := i + l
		if l <= 8 && i+11 <= n {
			a, b := load64(w, i+1), load64(w, i+3)
			insertUnless(table, uint32(a), i+1, l <= 1)
			insertUnless(table, uint32(a>>8), i+2, l <= 2)
			insertUnless(table, uint32(a>>16), i+3, l <= 3)
			insertUnless(table, uint32(a>>24), i+4, l <= 4)
			insertUnless(table, uint32(a>>32), i+5, l <= 5)
			insertUnless(table, uint32(b>>24), i+6, l <= 6)
			insertUnless(table, uint32(b>>32), i+7, l <= 7)
		} else {
			for j := i + 1; j < end && j+minMatch <= n; j++ {
				table[hash4(load32(w, j))] = int32(j)
			}
		}
		i = end
	}
	for ; i < n; i++ {
		e := et.lit[w[i]]
		acc |= uint64(e&0xffffff) << nb
		nb += uint(e >> 24)
		binary.LittleEndian.PutUint64(buf[o:], acc)
		o += int(nb >> 3)
		acc >>= nb &^ 7
		nb &= 7
	}
	e := et.eob
	acc |= uint64(e&0xffffff) << nb
	nb += uint(e >> 24)
	binary.LittleEndian.PutUint64(buf[o:], acc)
	return buf[:o+int(nb+7)/8]
}
