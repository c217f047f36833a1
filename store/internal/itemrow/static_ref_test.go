package itemrow

import (
	"bytes"
	"math/rand/v2"
	"os"
	"path/filepath"
	"testing"
)

// refEncoder is the encoder of the stored forms 0x02 and 0x03 as first
// written, over tokenize and its sink: simple enough to check by reading,
// and what encodeDict, written for speed, must agree with byte for byte.
type refEncoder struct {
	bw bitWriter
	t  *static
}

func (e *refEncoder) literals(b []byte) {
	lit := &e.t.lit
	for _, c := range b {
		e.bw.write(uint64(lit.code[c]), uint(lit.len[c]))
	}
}

func (e *refEncoder) match(length, dist int) {
	t := e.t
	lc := int(t.lenCode[length])
	e.bw.write(uint64(t.lit.code[257+lc]), uint(t.lit.len[257+lc]))
	if x := lengthExtra[lc]; x > 0 {
		e.bw.write(uint64(length-int(lengthBase[lc])), uint(x))
	}
	dc, x, v := distCode(dist)
	e.bw.write(uint64(t.dist.code[dc]), uint(t.dist.len[dc]))
	if x > 0 {
		e.bw.write(uint64(v), x)
	}
}

// refEncodeDict is encodeDict as first written.
func refEncodeDict(out, xml []byte, implied bool) []byte {
	t := tables()
	window := append(append([]byte(nil), t.window...), xml...)
	table := t.table
	e := refEncoder{bw: bitWriter{out: out}, t: t}
	if !implied {
		for _, b := range t.header[:t.headerN/8] {
			e.bw.write(uint64(b), 8)
		}
	}
	if r := t.headerN % 8; r > 0 {
		e.bw.write(uint64(t.header[t.headerN/8]), r)
	}
	tokenize(window, len(t.window), &table, &e)
	e.bw.write(uint64(t.lit.code[256]), uint(t.lit.len[256])) // end of block
	e.bw.flush()
	return e.bw.out
}

// encodeDict writes the bytes refEncodeDict writes, in both stored forms,
// for typical items and for the unusual elements of dictForms and the
// goldens.
func TestEncodeDictReference(t *testing.T) {
	r := rand.New(rand.NewPCG(15, 16))
	xmls := goldenXMLs(t)
	for i := range 300 {
		xmls = append(xmls, sampleItem(r, i, r.IntN(4000)))
	}
	for n := range 200 {
		b := make([]byte, n)
		for i := range b {
			b[i] = byte(r.IntN(256))
		}
		xmls = append(xmls, b, bytes.Repeat([]byte("<a>"), n), []byte(dict[r.IntN(len(dict)-n):][:n]))
	}
	xmls = append(xmls, []byte(dict), bytes.Repeat([]byte(dict), maxDictXML/len(dict)+1)[:maxDictXML], bytes.Repeat([]byte{'x'}, maxDictXML))
	for _, x := range xmls {
		if len(x) > maxDictXML {
			continue
		}
		for _, implied := range []bool{false, true} {
			got, want := encodeDict([]byte{7}, x, implied), refEncodeDict([]byte{7}, x, implied)
			if !bytes.Equal(got, want) {
				t.Fatalf("encodeDict(%.40q, implied %v) = %d bytes, the reference %d bytes: they differ", x, implied, len(got), len(want))
			}
		}
	}
}

// goldenXMLs returns the elements of testdata/stored.
func goldenXMLs(t testing.TB) [][]byte {
	names, err := filepath.Glob(filepath.Join("testdata", "stored", "*.xml"))
	if err != nil || len(names) == 0 {
		t.Fatalf("testdata/stored: %d elements, %v", len(names), err)
	}
	var out [][]byte
	for _, name := range names {
		b, err := os.ReadFile(name)
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, b)
	}
	return out
}

// FuzzEncode checks that any bytes round-trip through Encode and XML, and
// that encodeDict writes what the reference does.
func FuzzEncode(f *testing.F) {
	for _, x := range goldenXMLs(f) {
		f.Add(x)
	}
	f.Add([]byte(`<item><title>x</title><sx:sync id="a" updates="1"><sx:history sequence="1" by="b"/></sx:sync></item>`))
	f.Fuzz(func(t *testing.T, x []byte) {
		b := Encode(x)
		got, err := XML(b)
		if err != nil || !bytes.Equal(got, x) {
			t.Fatalf("XML(Encode(%.40q)) = %.40q, %v", x, got, err)
		}
		if len(x) > maxDictXML {
			return
		}
		for _, implied := range []bool{false, true} {
			if got, want := encodeDict(nil, x, implied), refEncodeDict(nil, x, implied); !bytes.Equal(got, want) {
				t.Fatalf("encodeDict(%.40q, implied %v) differs from the reference", x, implied)
			}
		}
	})
}
