package itemrow

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// testdata/stored holds elements (NAME.xml) with the stored form an
// earlier encoder wrote for them (NAME.stored): 0x03 for typical items,
// 0x01 for long ones and for bytes the static codes fit badly, and 0x02,
// which Encode wrote before 0x03. Rows on disk hold such bytes, so they
// must read back whatever the encoder now writes. The files are never
// rewritten from the current encoder: they are what it must stay
// compatible with.
func TestStoredGolden(t *testing.T) {
	names, err := filepath.Glob(filepath.Join("testdata", "stored", "*.stored"))
	if err != nil {
		t.Fatal(err)
	}
	if len(names) < 10 {
		t.Fatalf("%d stored forms in testdata/stored, want the 10 or more committed", len(names))
	}
	forms := map[byte]int{}
	for _, name := range names {
		t.Run(strings.TrimSuffix(filepath.Base(name), ".stored"), func(t *testing.T) {
			stored, err := os.ReadFile(name)
			if err != nil {
				t.Fatal(err)
			}
			want, err := os.ReadFile(strings.TrimSuffix(name, ".stored") + ".xml")
			if err != nil {
				t.Fatal(err)
			}
			if !Encoded(stored) {
				t.Fatalf("stored form starts with %#x, not a codec byte", stored[0])
			}
			forms[stored[0]]++
			got, err := XML(stored)
			if err != nil {
				t.Fatalf("XML: %v", err)
			}
			if !bytes.Equal(got, want) {
				t.Errorf("XML read %d bytes %.60q, want %d bytes %.60q", len(got), got, len(want), want)
			}
			// Encode stores the element in no more bytes than the
			// encoder that wrote the golden did, where that was ours
			// (0x01 is compress/flate's, whatever the Go release).
			if n := len(Encode(want)); stored[0] == encImplied && n > len(stored) {
				t.Errorf("Encode stores %d bytes, the golden %d", n, len(stored))
			}
		})
	}
	for _, f := range []byte{encDeflate, encDict, encImplied} {
		if forms[f] == 0 {
			t.Errorf("no golden of the stored form %#x", f)
		}
	}
}
