package itemrow

import (
	"bytes"
	"compress/flate"
	"encoding/binary"
	"io"
	"math/rand/v2"
	"strings"
	"testing"
)

// flateXML decodes a stored form of encDict or encImplied with
// compress/flate, the way XML did before decodeDict: what decodeDict must
// agree with.
func flateXML(b []byte) ([]byte, error) {
	n, k := binary.Uvarint(b[1:])
	out := make([]byte, n)
	stream := b[1+k:]
	if b[0] == encImplied {
		stream = append(append([]byte(nil), impliedHeader()...), stream...)
	}
	r := flate.NewReader(nil)
	if err := r.(flate.Resetter).Reset(bytes.NewReader(stream), dictBytes); err != nil {
		return nil, err
	}
	if _, err := io.ReadFull(r, out); err != nil {
		return nil, err
	}
	var one [1]byte
	if m, err := r.Read(one[:]); m != 0 || err != io.EOF {
		return nil, io.ErrShortBuffer
	}
	return out, nil
}

// dictForms returns stored forms in encDict of typical and unusual
// elements: empty, short, long runs (copies that overlap themselves),
// references into the dictionary, every byte value.
func dictForms(t *testing.T) [][]byte {
	r := rand.New(rand.NewPCG(5, 6))
	var xmls [][]byte
	xmls = append(xmls, nil, []byte("<item/>"), []byte(strings.Repeat("a", 5000)), []byte(dict[:2000]), []byte(dict[100:900]+dict[50:400]))
	for i := range 200 {
		xmls = append(xmls, sampleItem(r, i, r.IntN(3000)))
	}
	all := make([]byte, 512)
	for i := range all {
		all[i] = byte(i)
	}
	xmls = append(xmls, all)
	var forms [][]byte
	for _, x := range xmls {
		for _, form := range []byte{encDict, encImplied} {
			out := append([]byte{form}, binary.AppendUvarint(nil, uint64(len(x)))...)
			forms = append(forms, encodeDict(out, x, form == encImplied))
		}
	}
	if len(forms) < 200 {
		t.Fatal("too few forms")
	}
	return forms
}

// decodeDict reads what compress/flate reads from the static stored form.
func TestDecodeDict(t *testing.T) {
	fast := 0
	for _, b := range dictForms(t) {
		want, err := flateXML(b)
		if err != nil {
			t.Fatalf("compress/flate: %v", err)
		}
		n, k := binary.Uvarint(b[1:])
		got, ok := decodeDict(b[1+k:], int(n), b[0] == encImplied)
		if !ok {
			t.Errorf("decodeDict left a stored form of %d bytes to compress/flate", n)
			continue
		}
		fast++
		if !bytes.Equal(got, want) {
			t.Errorf("decodeDict of %d bytes differs from compress/flate", n)
		}
		if x, err := XML(b); err != nil || !bytes.Equal(x, want) {
			t.Errorf("XML of %d bytes: %v, equal %v", n, err, bytes.Equal(x, want))
		}
	}
	if fast == 0 {
		t.Fatal("no form decoded by decodeDict")
	}
}

// A damaged stored form decodes by decodeDict only to what compress/flate
// reads from it too; otherwise decodeDict leaves it to compress/flate,
// whose error XML returns.
func TestDecodeDictDamaged(t *testing.T) {
	r := rand.New(rand.NewPCG(7, 8))
	forms := dictForms(t)
	for i := range 4000 {
		b := bytes.Clone(forms[r.IntN(len(forms))])
		n, k := binary.Uvarint(b[1:])
		switch i % 4 {
		case 0: // flip a bit
			j := 1 + k + r.IntN(len(b)-1-k)
			b[j] ^= 1 << r.IntN(8)
		case 1: // cut the end
			b = b[:1+k+r.IntN(len(b)-1-k)]
		case 2: // another length
			m := int(n) + r.IntN(5) - 2
			if m < 0 {
				continue
			}
			b = append([]byte{b[0]}, append(binary.AppendUvarint(nil, uint64(m)), b[1+k:]...)...)
			n, k = binary.Uvarint(b[1:])
		case 3: // bytes after the end
			b = append(b, byte(r.IntN(256)))
		}
		got, ok := decodeDict(b[1+k:], int(n), b[0] == encImplied)
		if !ok {
			continue
		}
		want, err := flateXML(b)
		if err != nil || !bytes.Equal(got, want) {
			t.Fatalf("damage %d: decodeDict read %d bytes, compress/flate %v (equal %v)", i%4, len(got), err, bytes.Equal(got, want))
		}
	}
}

func BenchmarkXML(b *testing.B) {
	r := rand.New(rand.NewPCG(9, 10))
	stored := Encode(sampleItem(r, 1, 1100))
	b.SetBytes(int64(len(sampleItem(r, 1, 1100))))
	b.ReportAllocs()
	cpu := startCPUTimer(b)
	for b.Loop() {
		if _, err := XML(stored); err != nil {
			b.Fatal(err)
		}
	}
	cpu.report()
}
