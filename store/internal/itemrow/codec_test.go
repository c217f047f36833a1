package itemrow

import (
	"bytes"
	"errors"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// Encode and XML round-trip any element, the stored form is smaller than
// the XML for an item of ordinary size, and XML reads the uncompressed
// rows of schema versions 1-3 as they are.
func TestCodecRoundTrip(t *testing.T) {
	big := `<entry xmlns="http://www.w3.org/2005/Atom" xmlns:sx="http://feedsync.org/2007/feedsync"><title>Buy stamps</title><content type="text">` +
		strings.Repeat("Ten first-class stamps and five postcards for the parcel. ", 20) +
		`</content><sx:sync id="stamps" updates="1"><sx:history sequence="1" when="2026-01-05T09:00:00Z" by="laptop"/></sx:sync></entry>`
	for _, xml := range []string{"", "<item/>", big, strings.Repeat("é\x00<>&", 40000)} {
		b := Encode([]byte(xml))
		if !Encoded(b) {
			t.Fatalf("Encode(%.20q) = %.20q: not in the stored form", xml, b)
		}
		got, err := XML(b)
		if err != nil {
			t.Fatalf("XML(Encode(%.20q)): %v", xml, err)
		}
		if string(got) != xml {
			t.Errorf("XML(Encode(%.20q)) = %.20q", xml, got)
		}
	}
	if n, m := len(Encode([]byte(big))), len(big); n > m/2 {
		t.Errorf("stored form of a %d-byte item is %d bytes, want at most half", m, n)
	}
	for _, plain := range []string{"<item><title>x</title></item>", "\n <entry/>"} {
		got, err := XML([]byte(plain))
		if err != nil || string(got) != plain {
			t.Errorf("XML(%q) = %q, %v; want it unchanged", plain, got, err)
		}
		if Encoded([]byte(plain)) {
			t.Errorf("Encoded(%q) = true", plain)
		}
	}
}

// A damaged stored form is an error, never a wrong item.
func TestCodecDamaged(t *testing.T) {
	good := Encode([]byte("<item><title>Buy stamps</title></item>"))
	longer := Encode([]byte("<item><title>Buy stamps and postcards</title></item>"))
	for name, b := range map[string][]byte{
		"truncated":     good[:len(good)-3],
		"no length":     {encDeflate},
		"huge length":   {encDeflate, 0xff, 0xff, 0xff, 0xff, 0xff, 0x7f},
		"length short":  append([]byte{encDeflate, 5}, good[2:]...),
		"length long":   append([]byte{encDeflate, 200}, good[2:]...),
		"garbage":       {encDeflate, 4, 0xff, 0xff, 0xff, 0xff},
		"other payload": append(good[:2:2], longer[2:]...),
	} {
		if got, err := XML(b); err == nil {
			t.Errorf("%s: XML = %q, want an error", name, got)
		}
	}
}

// Recode rewrites only the rows still uncompressed, reads batch after
// batch from the last sequence number seen, and stops on a short batch.
func TestRecode(t *testing.T) {
	rows := map[int64][]byte{}
	var seqs []int64
	for i := range RecodeBatch + 10 {
		seq := int64(2*i + 1)
		seqs = append(seqs, seq)
		rows[seq] = []byte("<item><title>" + strings.Repeat("x", i%50) + "</title></item>")
		if i%3 == 0 {
			rows[seq] = Encode(rows[seq])
		}
	}
	want := map[int64]string{}
	for seq, b := range rows {
		x, err := XML(b)
		if err != nil {
			t.Fatal(err)
		}
		want[seq] = string(x)
	}
	var afters []int64
	read := func(after int64, limit int) ([]Change, error) {
		afters = append(afters, after)
		var out []Change
		for _, seq := range seqs {
			if seq > after && len(out) < limit {
				out = append(out, Change{Seq: seq, Data: rows[seq]})
			}
		}
		return out, nil
	}
	written := 0
	write := func(batch []Change) error {
		for _, c := range batch {
			if Encoded(rows[c.Seq]) {
				t.Errorf("row %d rewritten although in the stored form", c.Seq)
			}
			rows[c.Seq] = c.Data
			written++
		}
		return nil
	}
	n, err := Recode(read, write)
	if err != nil {
		t.Fatal(err)
	}
	if n != written || n != len(seqs)-(len(seqs)+2)/3 {
		t.Errorf("Recode rewrote %d rows (write saw %d), want %d", n, written, len(seqs)-(len(seqs)+2)/3)
	}
	if d := cmp.Diff([]int64{0, seqs[RecodeBatch-1]}, afters); d != "" {
		t.Errorf("batches read after (-want +got):\n%s", d)
	}
	for seq, b := range rows {
		x, err := XML(b)
		if !Encoded(b) || err != nil || string(x) != want[seq] {
			t.Errorf("row %d after Recode: %q, %v", seq, x, err)
		}
	}
	// Nothing left to do the second time; a failing write is returned.
	if n, err := Recode(read, write); n != 0 || err != nil {
		t.Errorf("second Recode: %d rows, %v", n, err)
	}
	boom := errors.New("boom")
	rows[seqs[0]] = []byte("<item/>")
	if _, err := Recode(read, func([]Change) error { return boom }); !errors.Is(err, boom) {
		t.Errorf("Recode with a failing write: %v, want boom", err)
	}
	if !bytes.Equal(rows[seqs[0]], []byte("<item/>")) {
		t.Error("a failed write changed the row")
	}
}
