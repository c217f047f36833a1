package itemrow

import (
	"bytes"
	"compress/flate"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"fmt"
	"io"
	"math/rand/v2"
	"strings"
	"syscall"
	"testing"
	"time"
)

// The dictionary of the stored form 0x02 is part of the format: rows
// written with it are read with it. Changing it takes a new codec byte.
func TestDictPinned(t *testing.T) {
	sum := sha256.Sum256([]byte(dict))
	if got, want := hex.EncodeToString(sum[:]), pinnedDict; got != want {
		t.Errorf("sha256(dict) = %s, want %s: the dictionary of codec 0x02 changed", got, want)
	}
}

const pinnedDict = "5c2f9af36ad2c909ad1c2ac202294848d01659fe0ec606299f30ce9ebf91e91f"

// The block header the stored form 0x03 leaves out is part of the format
// too: it follows from dict, the training sample and the code building,
// and none of them may change it.
func TestImpliedHeaderPinned(t *testing.T) {
	tb := tables()
	sum := sha256.Sum256(append(fmt.Appendf(nil, "%d:", tb.headerN), tb.header...))
	if got, want := hex.EncodeToString(sum[:]), pinnedHeader; got != want {
		t.Errorf("sha256 of the static block header = %s, want %s: the header implied by codec 0x03 changed", got, want)
	}
}

const pinnedHeader = "aa4c5d4809f1cbcae9613eccb1de790e7d593de5b1be11849f0c8eb1bd62b511"

// benchWords make text that compresses about as ordinary English does.
var benchWords = strings.Fields(`time person year way day thing man world life hand part child eye woman place work week case point
government company number group problem fact be have do say get make go know take see come think look want give use find tell
ask work seem feel try leave call good new first last long great little own other old right big high different small large next
early young important few public bad same able to of in for on with at by from up about into over after beneath under above
the and a that I it not he as you this but his they her she or an will my one all would there their garden kitchen letter
river window morning evening travel market budget report meeting answer question window paper`)

// sampleItem returns a standalone Atom entry of about size bytes of text,
// in the shape of the items stores hold.
func sampleItem(r *rand.Rand, i, size int) []byte {
	var text strings.Builder
	for text.Len() < size {
		if text.Len() > 0 {
			text.WriteByte(' ')
		}
		text.WriteString(benchWords[r.IntN(len(benchWords))])
	}
	return fmt.Appendf(nil, `<entry xmlns="http://www.w3.org/2005/Atom"><title>Item %d: %s</title><id>urn:example:item-%07d</id><updated>2026-02-0%dT10:%02d:00Z</updated><author><name>Ann</name></author><content type="text">%s.</content><sx:sync xmlns:sx="http://feedsync.org/2007/feedsync" id="item-%07d" updates="1"><sx:history sequence="1" when="2026-02-0%dT10:%02d:00Z" by="server"/></sx:sync></entry>`,
		i, benchWords[r.IntN(len(benchWords))], i, 1+i%9, i%60, text.String(), i, 1+i%9, i%60)
}

// Every element round-trips through Encode and XML, whichever form Encode
// picks: short, typical, long (past maxDictXML), other scripts, bytes the
// training never saw, and lengths around the match bounds.
func TestEncodeForms(t *testing.T) {
	r := rand.New(rand.NewPCG(3, 4))
	var cases [][]byte
	cases = append(cases, nil, []byte("<item/>"), sampleItem(r, 1, 1100), sampleItem(r, 2, 40), sampleItem(r, 3, maxDictXML+100))
	cases = append(cases, []byte(strings.Repeat("日本語のテキスト、", 200)), []byte(strings.Repeat("a", 5000)), []byte(dict), []byte(dict+dict))
	for n := range 300 {
		b := make([]byte, n)
		for i := range b {
			b[i] = byte(r.IntN(256))
		}
		cases = append(cases, b, bytes.Repeat([]byte("ab<"), n))
	}
	for i := range 200 {
		cases = append(cases, sampleItem(r, i, r.IntN(3000)))
	}
	forms := map[byte]int{}
	for _, xml := range cases {
		b := Encode(xml)
		forms[b[0]]++
		got, err := XML(b)
		if err != nil || !bytes.Equal(got, xml) {
			t.Fatalf("XML(Encode(%.40q)) = %.40q, %v", xml, got, err)
		}
	}
	if forms[encImplied] == 0 || forms[encDeflate] == 0 {
		t.Errorf("forms written: %v, want both 0x01 and 0x03", forms)
	}
	// The form 0x02 (the header written out), which Encode wrote before
	// 0x03, still reads.
	for _, xml := range cases {
		if len(xml) > maxDictXML {
			continue
		}
		b := binary.AppendUvarint([]byte{encDict}, uint64(len(xml)))
		b = encodeDict(b, xml, false)
		got, err := XML(b)
		if err != nil || !bytes.Equal(got, xml) {
			t.Fatalf("XML(0x02 of %.40q) = %.40q, %v", xml, got, err)
		}
	}
}

// A stored form 0x03 is plain DEFLATE with dict as the preset dictionary,
// once the implied header is put back: any decoder reads it, and a typical
// item of about 1.5 KB is smaller than compress/flate makes it at its
// fastest level, and at most half its size.
func TestEncodeDictSize(t *testing.T) {
	r := rand.New(rand.NewPCG(5, 6))
	var plain, dictN, flateN int
	for i := range 100 {
		xml := sampleItem(r, i, 1100)
		b := Encode(xml)
		if b[0] != encImplied {
			t.Fatalf("item %d: form %#x, want 0x03", i, b[0])
		}
		_, k := binary.Uvarint(b[1:])
		zr := flate.NewReaderDict(bytes.NewReader(append(bytes.Clone(impliedHeader()), b[1+k:]...)), []byte(dict))
		got, err := io.ReadAll(zr)
		if err != nil || !bytes.Equal(got, xml) {
			t.Fatalf("item %d: flate.NewReaderDict read %.40q, %v", i, got, err)
		}
		plain += len(xml)
		dictN += len(b)
		flateN += len(encodeFlate(xml))
	}
	t.Logf("100 items: %d bytes of XML, 0x01 %d, 0x03 %d", plain, flateN, dictN)
	if dictN >= flateN || dictN > plain/2 {
		t.Errorf("0x03 stores %d bytes, 0x01 %d, XML %d: want 0x03 smaller than 0x01 and at most half the XML", dictN, flateN, plain)
	}
}

// BenchmarkEncode compresses typical items of about 1.5 KB in the stored
// forms 0x01 (compress/flate, BestSpeed) and 0x03 (Encode), and reads
// them back; it reports the mean stored bytes per item, and the CPU time
// per item (cpuTimer), steadier than ns/op on a busy machine.
func BenchmarkEncode(b *testing.B) {
	r := rand.New(rand.NewPCG(7, 8))
	items := make([][]byte, 256)
	for i := range items {
		items[i] = sampleItem(r, i, 1100)
	}
	for _, form := range []struct {
		name string
		enc  func([]byte) []byte
	}{{"flate", encodeFlate}, {"dict", Encode}} {
		stored := make([][]byte, len(items))
		size := 0
		for i, x := range items {
			stored[i] = form.enc(x)
			size += len(stored[i])
		}
		b.Run(form.name, func(b *testing.B) {
			b.ReportAllocs()
			cpu := startCPUTimer(b)
			for i := 0; b.Loop(); i++ {
				form.enc(items[i%len(items)])
			}
			cpu.report()
			b.ReportMetric(float64(size)/float64(len(items)), "stored-B")
		})
		b.Run(form.name+"/read", func(b *testing.B) {
			b.ReportAllocs()
			cpu := startCPUTimer(b)
			for i := 0; b.Loop(); i++ {
				if _, err := XML(stored[i%len(stored)]); err != nil {
					b.Fatal(err)
				}
			}
			cpu.report()
		})
	}
}

// cpuTimer measures the CPU time of the process over a benchmark.
type cpuTimer struct {
	b     *testing.B
	start time.Duration
}

func startCPUTimer(b *testing.B) cpuTimer { return cpuTimer{b, cpuTime(b)} }

// report reports the CPU time per op since start, as cpu-ns/op.
func (c cpuTimer) report() {
	c.b.ReportMetric(float64((cpuTime(c.b)-c.start).Nanoseconds())/float64(c.b.N), "cpu-ns/op")
}

// cpuTime returns the CPU time the process has used so far.
func cpuTime(b *testing.B) time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		b.Fatal(err)
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
