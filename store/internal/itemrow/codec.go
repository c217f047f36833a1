package itemrow

import (
	"bytes"
	"compress/flate"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"sync"
)

// The stored form of an item's standalone XML, the xml column of both
// database stores from schema version 4 on, one of:
//
//	0x01, uvarint(len(xml)), raw DEFLATE (RFC 1951) of xml
//	0x02, uvarint(len(xml)), raw DEFLATE of xml with the preset dictionary dict
//	0x03, as 0x02 without the bytes of the block header of the static codes
//
// The item XML is most of a store's size, and an item of a kilobyte or two
// of text compresses about twofold on its own. Encode writes 0x03 (see
// static.go) for elements of up to maxDictXML bytes, 0x01 for longer
// ones and for those the static codes fit badly; XML reads all three. The
// header 0x03 leaves out (impliedHeader) is some 70 bytes, a tenth of a
// typical item stored; it is pinned by a test, as dict is. A
// first byte of '<' or XML whitespace is an uncompressed element, the form
// of schema versions 1-3, which XML still reads. Another codec would take
// another first byte.
const (
	encDeflate = 0x01
	encDict    = 0x02
	encImplied = 0x03
)

// level is the compression level of 0x01. BestSpeed costs about as much
// CPU time as writing the row; higher levels gain a tenth in size for
// twice that, most of it spent clearing their hash tables for every item.
const level = flate.BestSpeed

var (
	writers = sync.Pool{New: func() any {
		w, err := flate.NewWriter(nil, level)
		if err != nil {
			panic(err) // only for an invalid level
		}
		return w
	}}
	readers   = sync.Pool{New: func() any { return flate.NewReader(nil) }}
	dictBytes = []byte(dict)
	// streams are buffers for the DEFLATE stream of a 0x03 form with its
	// header put back.
	streams = sync.Pool{New: func() any { return new([]byte) }}
)

// Encode returns the stored form of xml, a standalone element.
func Encode(xml []byte) []byte {
	if len(xml) > maxDictXML {
		return encodeFlate(xml)
	}
	var head [1 + binary.MaxVarintLen64]byte
	head[0] = encImplied
	h := 1 + binary.PutUvarint(head[1:], uint64(len(xml)))
	wk := windows.Get().(*dictWork)
	defer windows.Put(wk)
	stream := wk.encode(xml, true)
	if n := h + len(stream); n > len(xml)*3/4 {
		// Text the static codes fit badly (another script, binary-looking
		// data): let compress/flate build codes for it, and keep the
		// smaller.
		if alt := encodeFlate(xml); len(alt) < n {
			return alt
		}
	}
	// The stored form is kept (a pending put holds it until written):
	// allocate it at its size, not at a bound.
	out := make([]byte, h+len(stream))
	copy(out, head[:h])
	copy(out[h:], stream)
	return out
}

// encodeFlate returns the stored form 0x01 of xml.
func encodeFlate(xml []byte) []byte {
	buf := bytes.NewBuffer(make([]byte, 0, len(xml)*3/5+16))
	buf.WriteByte(encDeflate)
	var n [binary.MaxVarintLen64]byte
	buf.Write(n[:binary.PutUvarint(n[:], uint64(len(xml)))])
	w := writers.Get().(*flate.Writer)
	w.Reset(buf)
	w.Write(xml) // writes to a bytes.Buffer, which cannot fail
	w.Close()
	w.Reset(nil)
	writers.Put(w)
	return buf.Bytes()
}

// Encoded reports whether b is in a compressed stored form, not the
// uncompressed XML of schema versions 1-3.
func Encoded(b []byte) bool {
	return len(b) > 0 && (b[0] == encDeflate || b[0] == encDict || b[0] == encImplied)
}

// maxXML bounds the length a stored form may claim, so that a damaged one
// cannot make XML allocate without limit.
const maxXML = 1 << 30

// XML returns the standalone element stored as b, in either form.
func XML(b []byte) ([]byte, error) {
	if !Encoded(b) {
		return b, nil
	}
	n, k := binary.Uvarint(b[1:])
	if k <= 0 || n > maxXML {
		return nil, errors.New("stored item: bad length")
	}
	if b[0] == encDict || b[0] == encImplied {
		if out, ok := decodeDict(b[1+k:], int(n), b[0] == encImplied); ok {
			return out, nil
		}
	}
	out := make([]byte, n)
	r := readers.Get().(io.ReadCloser)
	defer readers.Put(r)
	var d []byte
	stream := b[1+k:]
	switch b[0] {
	case encDict:
		d = dictBytes
	case encImplied:
		d = dictBytes
		buf := streams.Get().(*[]byte)
		defer streams.Put(buf)
		*buf = append(append((*buf)[:0], impliedHeader()...), stream...)
		stream = *buf
	}
	if err := r.(flate.Resetter).Reset(bytes.NewReader(stream), d); err != nil {
		return nil, fmt.Errorf("stored item: %w", err)
	}
	if _, err := io.ReadFull(r, out); err != nil {
		return nil, fmt.Errorf("stored item: %w", err)
	}
	// The stream must end where the length says.
	var one [1]byte
	if m, err := r.Read(one[:]); m != 0 || err != io.EOF {
		return nil, errors.New("stored item: longer than its length")
	}
	return out, nil
}

// RecodeBatch is how many rows Recode reads at a time.
const RecodeBatch = 512

// Recode brings a table of items written before the stored form to it, the
// data step of the database stores' migration 4: read returns up to limit
// rows after sequence number after, ascending, with their stored bytes;
// write stores the given rows (Data in the stored form) back under their
// Seq. It returns how many rows it rewrote; rows already in the stored form
// are left alone.
func Recode(read func(after int64, limit int) ([]Change, error), write func([]Change) error) (int, error) {
	n := 0
	for after := int64(0); ; {
		batch, err := read(after, RecodeBatch)
		if err != nil {
			return n, err
		}
		var out []Change
		for _, c := range batch {
			after = c.Seq
			if !Encoded(c.Data) {
				c.Data = Encode(c.Data)
				out = append(out, c)
			}
		}
		if len(out) > 0 {
			if err := write(out); err != nil {
				return n, err
			}
			n += len(out)
		}
		if len(batch) < RecodeBatch {
			return n, nil
		}
	}
}
