package itemrow

import (
	"encoding/binary"
	"sync"
)

// The decoder of the stored forms encDict and encImplied. Every element
// encodeDict writes
// is one block whose header is the same bits (static.header): compress/flate
// reads that header and builds its decoding tables again for every item,
// which costs more than decoding the item itself. decodeDict checks that
// the block starts with those bits and decodes the symbols with tables
// built once from the static codes. Anything else (another header, a
// damaged stream) it leaves to compress/flate, which then decides, so
// that XML returns what it returned before, only sooner.

// decodeBits is the width of the full decoding tables: the longest code.
// The short tables, of shortBits, hold the codes up to that length (most
// symbols of an item): they stay in the processor's cache.
const (
	decodeBits = 15
	shortBits  = 10
)

// decodeTables are the static codes as lookup tables: entry i (the next
// decodeBits, or shortBits, bits of the stream, least significant first)
// holds the symbol whose code those bits start with, shifted left by 4,
// and the code's length in the low 4 bits; 0 for no code (in a short
// table: a longer code, for the full table to find).
type decodeTables struct {
	lit, dist           []uint32
	shortLit, shortDist []uint32
}

// lookup returns the entry of the next code: from short, else from full.
func lookup(short, full []uint32, bits uint64) uint32 {
	if e := short[bits&(1<<shortBits-1)]; e != 0 {
		return e
	}
	return full[bits&(1<<decodeBits-1)]
}

var (
	decodeOnce sync.Once
	decTables  *decodeTables
)

func staticDecodeTables() *decodeTables {
	decodeOnce.Do(func() {
		t := tables()
		decTables = &decodeTables{
			lit: decodeTable(t.lit, decodeBits), dist: decodeTable(t.dist, decodeBits),
			shortLit: decodeTable(t.lit, shortBits), shortDist: decodeTable(t.dist, shortBits),
		}
	})
	return decTables
}

// decodeTable returns the lookup table of c's codes of up to width bits.
func decodeTable(c codes, width uint8) []uint32 {
	tab := make([]uint32, 1<<width)
	for sym, l := range c.len {
		if l == 0 || l > width {
			continue
		}
		// c.code is bit reversed already: its bits come first in the
		// stream, least significant first; every longer pattern with
		// those low bits decodes to sym.
		for hi := 0; hi < 1<<(width-l); hi++ {
			tab[int(c.code[sym])|hi<<l] = uint32(sym)<<4 | uint32(l)
		}
	}
	return tab
}

// Base distances of the DEFLATE distance codes 0-29 and their extra bits
// (RFC 1951 §3.2.5).
var (
	distBase  = [30]uint16{1, 2, 3, 4, 5, 7, 9, 13, 17, 25, 33, 49, 65, 97, 129, 193, 257, 385, 513, 769, 1025, 1537, 2049, 3073, 4097, 6145, 8193, 12289, 16385, 24577}
	distExtra = [30]uint8{0, 0, 0, 0, 1, 1, 2, 2, 3, 3, 4, 4, 5, 5, 6, 6, 7, 7, 8, 8, 9, 9, 10, 10, 11, 11, 12, 12, 13, 13}
)

// bitReader reads the stream least significant bit first; past its end
// it reads zero bits and counts them as overrun.
type bitReader struct {
	in   []byte
	i    int
	bits uint64
	n    uint
	over uint // bits read past the end
}

// fill makes at least 56 bits available.
func (r *bitReader) fill() {
	if r.n >= 56 {
		return
	}
	if r.i+8 <= len(r.in) {
		v := binary.LittleEndian.Uint64(r.in[r.i:])
		k := (63 - r.n) / 8
		r.bits |= v << r.n
		r.i += int(k)
		r.n += k * 8
		return
	}
	for r.n <= 56 {
		var b byte
		if r.i < len(r.in) {
			b = r.in[r.i]
			r.i++
		} else {
			r.over += 8
		}
		r.bits |= uint64(b) << r.n
		r.n += 8
	}
}

// take consumes n bits (n <= 56 after fill).
func (r *bitReader) take(n uint) uint64 {
	v := r.bits & (1<<n - 1)
	r.bits >>= n
	r.n -= n
	return v
}

// overrun reports whether the bits consumed run past the stream's end.
func (r *bitReader) overrun() bool { return r.over > r.n }

// decodeDict decodes the stream in (after the stored form's length) of an
// element of n bytes, and reports false when it leaves the stream to
// compress/flate. implied says the stream leaves out the whole bytes of
// the header (the stored form 0x03).
func decodeDict(in []byte, n int, implied bool) ([]byte, bool) {
	if n < 0 || n > maxXML {
		return nil, false
	}
	t := tables()
	dt := staticDecodeTables()
	dict := t.window
	r := bitReader{in: in}
	// The header, whole bytes (unless implied) then the rest.
	whole := t.header[:t.headerN/8]
	if implied {
		whole = nil
	}
	for _, b := range whole {
		r.fill()
		if byte(r.take(8)) != b {
			return nil, false
		}
	}
	if k := t.headerN % 8; k > 0 {
		r.fill()
		if byte(r.take(k)) != t.header[t.headerN/8]&(1<<k-1) {
			return nil, false
		}
	}
	out := make([]byte, n)
	pos := 0
	for {
		r.fill()
		e := lookup(dt.shortLit, dt.lit, r.bits)
		if e == 0 {
			return nil, false
		}
		r.take(uint(e & 15))
		sym := int(e >> 4)
		switch {
		case sym < 256:
			if pos >= n {
				return nil, false
			}
			out[pos] = byte(sym)
			pos++
			continue
		case sym == 256:
			if pos != n || r.overrun() {
				return nil, false
			}
			return out, true
		case sym > 285:
			return nil, false
		}
		lc := sym - 257
		length := int(lengthBase[lc])
		if x := lengthExtra[lc]; x > 0 {
			length += int(r.take(uint(x)))
		}
		r.fill()
		d := lookup(dt.shortDist, dt.dist, r.bits)
		if d == 0 || d>>4 >= 30 {
			return nil, false
		}
		r.take(uint(d & 15))
		dc := d >> 4
		dist := int(distBase[dc])
		if x := distExtra[dc]; x > 0 {
			dist += int(r.take(uint(x)))
		}
		if pos+length > n || dist > pos+len(dict) || dist > 32768 {
			return nil, false
		}
		from := pos - dist
		if from >= 0 && dist >= length {
			copy(out[pos:pos+length], out[from:from+length])
			pos += length
			continue
		}
		if from+length <= 0 {
			copy(out[pos:pos+length], dict[len(dict)+from:])
			pos += length
			continue
		}
		for range length {
			if from < 0 {
				out[pos] = dict[len(dict)+from]
			} else {
				out[pos] = out[from]
			}
			pos++
			from++
		}
	}
}
