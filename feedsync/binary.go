package feedsync

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"sort"
	"time"

	"github.com/beevik/etree"
)

// binaryVersion is the first byte of ItemEncoder's output.
const binaryVersion = 1

// ItemEncoder encodes items in a compact form that ItemDecoder restores
// without parsing XML: the source bytes, the parsed metadata, the namespace
// bindings and the payload digest. It reuses its buffer and the encoding of
// each namespace scope it has seen: items of one document share their
// scopes, so a long feed encodes them once.
//
// The form is for spill files and in-memory stores within one run of a
// program: it changes between versions of this package, and ItemDecoder
// refuses another version's. Items are stored and sent as MarshalItem's
// XML, the one serialisation meant to last. (Item deliberately does not
// implement encoding.BinaryMarshaler, so that encoding/gob and the like
// cannot persist this form by accident.)
type ItemEncoder struct {
	buf    []byte
	scopes map[*scope][]byte
}

// Encode returns the binary form of it. The result is valid until the next
// call to Encode.
func (e *ItemEncoder) Encode(it *Item) ([]byte, error) {
	b, err := it.appendBinary(e.buf[:0], 0, e)
	if err != nil {
		return nil, err
	}
	e.buf = b
	return b, nil
}

// scopeBytes returns the encoded form of s, from the cache when it can.
func (e *ItemEncoder) scopeBytes(s *scope) []byte {
	if e == nil {
		return encodeScope(s)
	}
	if b, ok := e.scopes[s]; ok {
		return b
	}
	if e.scopes == nil || len(e.scopes) > 4096 {
		e.scopes = map[*scope][]byte{}
	}
	b := encodeScope(s)
	e.scopes[s] = b
	return b
}

const (
	flagSync = 1 << iota
	flagSrc
	flagDirty
	flagPristine
	flagDigest
	flagElem
)

func (it *Item) appendBinary(b []byte, depth int, enc *ItemEncoder) ([]byte, error) {
	if depth == 0 {
		b = append(b, binaryVersion)
	}
	if depth > 2 {
		return nil, errors.New("feedsync: conflict copies nested too deeply")
	}
	var flags uint64
	if it.Sync != nil {
		flags |= flagSync
	}
	if it.src != nil && it.src.raw != nil {
		flags |= flagSrc
		if it.src.dirty {
			flags |= flagDirty
		}
		if it.pristine() {
			flags |= flagPristine
		}
	}
	if it.hasDigest {
		flags |= flagDigest
	}
	if it.elem != nil && flags&flagSrc == 0 {
		flags |= flagElem
	}
	b = binary.AppendUvarint(b, flags)
	b = append(b, byte(it.format))
	b = binary.AppendUvarint(b, uint64(it.line))
	b = binary.AppendVarint(b, int64(it.syncIndex))
	if flags&flagSrc != 0 {
		s := it.src
		b = appendBytes(b, s.raw)
		b = binary.AppendVarint(b, int64(s.syncStart))
		b = binary.AppendVarint(b, int64(s.syncEnd))
		b = appendBytes(b, enc.scopeBytes(s.scope))
		b = appendBytes(b, enc.scopeBytes(s.inner))
	}
	if flags&flagElem != 0 {
		var buf bytes.Buffer
		it.elem.WriteTo(&buf, exactXML)
		b = appendBytes(b, buf.Bytes())
	}
	if flags&flagDigest != 0 {
		b = append(b, it.digest[:]...)
	}
	if flags&flagSync != 0 {
		s := it.Sync
		b = appendString(b, s.ID)
		b = binary.AppendVarint(b, s.Updates)
		b = appendBool(b, s.Deleted)
		b = appendBool(b, s.NoConflicts)
		b = binary.AppendUvarint(b, uint64(len(s.History)))
		for _, h := range s.History {
			b = binary.AppendVarint(b, h.Sequence)
			if h.HasWhen() {
				b = binary.AppendVarint(b, h.When.Unix())
			} else {
				b = binary.AppendVarint(b, minUnix)
			}
			b = appendString(b, h.By)
			b = appendAttrs(b, h.Extra)
		}
		b = appendAttrs(b, s.ExtraAttrs)
		b = binary.AppendUvarint(b, uint64(len(s.ExtraElements)))
		for _, e := range s.ExtraElements {
			var buf bytes.Buffer
			e.WriteTo(&buf, exactXML)
			b = appendBytes(b, buf.Bytes())
		}
		b = binary.AppendUvarint(b, uint64(len(s.Conflicts)))
		for _, c := range s.Conflicts {
			var err error
			if b, err = c.appendBinary(b, depth+1, enc); err != nil {
				return nil, err
			}
		}
	}
	return b, nil
}

// minUnix marks an absent when.
const minUnix = -1 << 62

func appendBytes(b, s []byte) []byte {
	b = binary.AppendUvarint(b, uint64(len(s)))
	return append(b, s...)
}

func appendString(b []byte, s string) []byte {
	b = binary.AppendUvarint(b, uint64(len(s)))
	return append(b, s...)
}

func appendBool(b []byte, v bool) []byte {
	if v {
		return append(b, 1)
	}
	return append(b, 0)
}

func appendAttrs(b []byte, attrs []etree.Attr) []byte {
	b = binary.AppendUvarint(b, uint64(len(attrs)))
	for _, a := range attrs {
		b = appendString(b, a.Space)
		b = appendString(b, a.Key)
		b = appendString(b, a.Value)
	}
	return b
}

// encodeScope writes the bindings in force, flattened and sorted. nil and
// an empty scope are the same.
func encodeScope(s *scope) []byte {
	m := s.flatten()
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	b := binary.AppendUvarint(nil, uint64(len(keys)))
	for _, k := range keys {
		b = appendString(b, k)
		b = appendString(b, m[k])
	}
	return b
}

type decoder struct {
	b   []byte
	err error
	// scopes interns decoded scopes so that items of one document share
	// scope pointers again (the writer caches declarations by pointer).
	scopes map[string]*scope
}

func (d *decoder) fail(msg string) {
	if d.err == nil {
		d.err = errors.New(msg)
	}
	d.b = nil
}

func (d *decoder) byte() byte {
	if len(d.b) < 1 {
		d.fail("truncated")
		return 0
	}
	c := d.b[0]
	d.b = d.b[1:]
	return c
}

func (d *decoder) uvarint() uint64 {
	v, n := binary.Uvarint(d.b)
	if n <= 0 {
		d.fail("bad varint")
		return 0
	}
	d.b = d.b[n:]
	return v
}

func (d *decoder) varint() int64 {
	v, n := binary.Varint(d.b)
	if n <= 0 {
		d.fail("bad varint")
		return 0
	}
	d.b = d.b[n:]
	return v
}

func (d *decoder) bytes() []byte {
	n := d.uvarint()
	if uint64(len(d.b)) < n {
		d.fail("truncated")
		return nil
	}
	s := d.b[:n:n]
	d.b = d.b[n:]
	return s
}

func (d *decoder) string() string { return string(d.bytes()) }

func (d *decoder) count() int {
	n := d.uvarint()
	if n > uint64(len(d.b)) {
		d.fail("bad count")
		return 0
	}
	return int(n)
}

func (d *decoder) attrs() []etree.Attr {
	n := d.count()
	if n == 0 {
		return nil
	}
	out := make([]etree.Attr, n)
	for i := range out {
		out[i] = etree.Attr{Space: d.string(), Key: d.string(), Value: d.string()}
	}
	return out
}

// scope reads an encoded scope. Scopes are interned by their encoding, and
// the lookup by a []byte key does not allocate.
func (d *decoder) scope() *scope {
	blob := d.bytes()
	if d.err != nil {
		return nil
	}
	if s, ok := d.scopes[string(blob)]; ok {
		return s
	}
	sd := decoder{b: blob}
	n := sd.count()
	var s *scope
	if n > 0 {
		decls := make([]binding, n)
		for i := range decls {
			decls[i] = binding{sd.string(), sd.string()}
		}
		s = &scope{decls: decls}
	}
	if sd.err != nil {
		d.fail("bad scope")
		return nil
	}
	if d.scopes == nil {
		d.scopes = map[string]*scope{}
	}
	d.scopes[string(blob)] = s
	return s
}

func (d *decoder) element() *etree.Element {
	doc := etree.NewDocument()
	if err := doc.ReadFromBytes(d.bytes()); err != nil || doc.Root() == nil {
		d.fail("bad element")
		return nil
	}
	e := doc.Root()
	doc.RemoveChild(e)
	return e
}

func (d *decoder) item(depth int) *Item {
	if depth > 2 {
		d.fail("conflict copies nested too deeply")
		return nil
	}
	it := &Item{}
	flags := d.uvarint()
	it.format = Format(d.byte())
	it.line = int(d.uvarint())
	it.syncIndex = int(d.varint())
	if flags&flagSrc != 0 {
		s := &source{}
		s.raw = d.bytes()
		s.syncStart = int(d.varint())
		s.syncEnd = int(d.varint())
		s.scope = d.scope()
		s.inner = d.scope()
		s.dirty = flags&flagDirty != 0
		it.src = s
	}
	if flags&flagElem != 0 {
		it.elem = d.element()
	}
	if flags&flagDigest != 0 {
		if len(d.b) < len(it.digest) {
			d.fail("truncated")
			return nil
		}
		copy(it.digest[:], d.b)
		d.b = d.b[len(it.digest):]
		it.hasDigest = true
	}
	if flags&flagSync != 0 {
		s := &Sync{}
		s.ID = d.string()
		s.Updates = d.varint()
		s.Deleted = d.byte() == 1
		s.NoConflicts = d.byte() == 1
		if n := d.count(); n > 0 {
			s.History = make([]History, n)
			for i := range s.History {
				h := &s.History[i]
				h.Sequence = d.varint()
				if u := d.varint(); u != minUnix {
					h.When = time.Unix(u, 0).UTC()
				}
				h.By = d.string()
				h.Extra = d.attrs()
			}
		}
		s.ExtraAttrs = d.attrs()
		if n := d.count(); n > 0 {
			for range n {
				s.ExtraElements = append(s.ExtraElements, d.element())
			}
		}
		if n := d.count(); n > 0 {
			s.Conflicts = make([]*Item, 0, n)
			for range n {
				c := d.item(depth + 1)
				if d.err != nil {
					return nil
				}
				s.Conflicts = append(s.Conflicts, c)
			}
		}
		it.Sync = s
	}
	if it.src != nil {
		if flags&flagPristine != 0 {
			it.src.orig = it.Sync.Clone()
		} else {
			// Not what the bytes say: never write them back unchanged.
			it.src.orig = &Sync{}
		}
	}
	return it
}

// ItemDecoder decodes many items encoded by ItemEncoder, sharing namespace
// scopes between them so that a Writer recognises items of one document.
type ItemDecoder struct {
	d decoder
}

// Decode restores one item. The item refers to b, which must not be
// changed afterwards.
func (dec *ItemDecoder) Decode(b []byte) (*Item, error) {
	dec.d.b, dec.d.err = b, nil
	if v := dec.d.byte(); v != binaryVersion {
		return nil, fmt.Errorf("feedsync: binary item version %d, want %d", v, binaryVersion)
	}
	it := dec.d.item(0)
	if dec.d.err != nil {
		return nil, fmt.Errorf("feedsync: binary item: %w", dec.d.err)
	}
	return it, nil
}
