package plainfeed

import (
	"bytes"
	"io"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/feedsync/go-feedsync/feedsync"
)

func TestUpgradeGolden(t *testing.T) {
	in := openFixture(t, "sse093.xml")
	var out bytes.Buffer
	rep, err := Upgrade(&out, bytes.NewReader(in))
	if err != nil {
		t.Fatal(err)
	}
	checkGolden(t, "sse093.upgraded.xml", out.Bytes())
	var notes strings.Builder
	for _, n := range rep.Notes {
		notes.WriteString(n.String())
		notes.WriteByte('\n')
	}
	checkGolden(t, "sse093.upgrade-report.txt", []byte(notes.String()))
	if rep.Namespaces != 1 {
		t.Errorf("Namespaces = %d, want 1", rep.Namespaces)
	}
	if bytes.Contains(out.Bytes(), []byte(feedsync.LegacyNamespace)) {
		t.Error("the output still declares the SSE 0.93 namespace")
	}

	// Upgrading rewrites sync metadata only: every payload is the same.
	_, before, err := feedsync.ReadAll(bytes.NewReader(in))
	if err != nil {
		t.Fatal(err)
	}
	_, after, err := feedsync.ReadAll(&out)
	if err != nil {
		t.Fatal(err)
	}
	if len(before) != len(after) {
		t.Fatalf("%d items before, %d after", len(before), len(after))
	}
	for i := range before {
		db, err1 := before[i].Digest()
		da, err2 := after[i].Digest()
		if err1 != nil || err2 != nil {
			t.Fatal(err1, err2)
		}
		if db != da {
			t.Errorf("item %d (%q): payload changed", i, after[i].ID())
		}
		// The metadata means the same, in canonical form.
		if b, a := before[i].Sync, after[i].Sync; (b == nil) != (a == nil) || b != nil && b.ID != "item%2A1" && b.ID != "broken" && !a.SameVersion(b) {
			t.Errorf("item %d (%q): sync metadata changed meaning", i, after[i].ID())
		}
		if errs, warns := after[i].Problems(); after[i].ID() != "broken" && (len(errs) > 0 || len(warns) > 0) {
			t.Errorf("item %q after upgrade: errors %v, warnings %v", after[i].ID(), errs, warns)
		}
	}
}

func TestUpgradeNotes(t *testing.T) {
	type note struct {
		Kind NoteKind
		ID   string
		Msg  string // a fragment
	}
	tests := []struct {
		name string
		in   string
		want []note
	}{
		{
			name: "opaque since/until are kept",
			in:   `<rss xmlns:sx="http://www.microsoft.com/schemas/sse"><channel><sx:sharing since="a" until="b"/></channel></rss>`,
			want: []note{
				{Rewritten, "", "SSE 0.93 namespace declaration"},
				{Kept, "", "opaque tokens"},
			},
		},
		{
			name: "date since/until become canonical",
			in:   `<rss xmlns:sx="http://feedsync.org/2007/feedsync"><channel><sx:sharing since="2009-01-01T01:00:00+01:00" until="2009-01-02T00:00:00Z"/></channel></rss>`,
			want: []note{{Rewritten, "", `since "2009-01-01T01:00:00+01:00" → "2009-01-01T00:00:00Z"`}},
		},
		{
			name: "since without until",
			in:   `<rss xmlns:sx="http://feedsync.org/2007/feedsync"><channel><sx:sharing since="2009-01-01T00:00:00Z"/></channel></rss>`,
			want: []note{{Failed, "", "only one of since and until"}},
		},
		{
			name: "anonymous history reported once per item",
			in: `<rss xmlns:s="http://www.microsoft.com/schemas/sse"><channel><item><s:sync id="x" updates="2">` +
				`<s:history sequence="2" when="2009-01-01T00:00:00Z"/><s:history sequence="1" when="2008-01-01T00:00:00Z"/></s:sync></item></channel></rss>`,
			want: []note{
				{Rewritten, "", "SSE 0.93 namespace declaration"},
				{Kept, "x", "2 history entries without by"},
			},
		},
		{
			name: "SSE 0.91 is not upgraded",
			in:   `<rss xmlns:sx="http://www.microsoft.com/schemas/rss/sse"><channel><item><title>t</title></item></channel></rss>`,
			want: []note{{Failed, "", "SSE 0.91 namespace"}},
		},
		{
			name: "neither when nor by",
			in: `<rss xmlns:sx="http://feedsync.org/2007/feedsync"><channel><item><sx:sync id="y" updates="1">` +
				`<sx:history sequence="1"/></sx:sync></item></channel></rss>`,
			want: []note{{Failed, "y", "neither when nor by"}},
		},
		{
			name: "core problems the rewriter does not see",
			in: `<rss xmlns:sx="http://feedsync.org/2007/feedsync"><channel><item><sx:sync id="z" updates="1">` +
				`<sx:history sequence="1" by="a"/><sx:conflicts><item><sx:sync id="w" updates="1"><sx:history sequence="1" by="b"/></sx:sync></item></sx:conflicts></sx:sync></item>` +
				`<item><sx:sync id="z" updates="1"><sx:history sequence="1" by="a"/></sx:sync></item></channel></rss>`,
			want: []note{
				{Failed, "z", `has id "w", not "z"`},
				{Failed, "z", "duplicate sync id"},
			},
		},
		{
			name: "unknown attribute kept",
			in: `<rss xmlns:sx="http://feedsync.org/2007/feedsync"><channel><item><sx:sync id="u" updates="1" noconflict="true">` +
				`<sx:history sequence="1" by="a"/></sx:sync></item></channel></rss>`,
			want: []note{{Kept, "u", "unknown attribute noconflict"}},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rep, err := Upgrade(io.Discard, strings.NewReader(tt.in))
			if err != nil {
				t.Fatal(err)
			}
			var got []note
			for _, n := range rep.Notes {
				got = append(got, note{n.Kind, n.ID, n.Msg})
			}
			match := cmp.Comparer(func(a, b string) bool {
				return strings.Contains(a, b) || strings.Contains(b, a)
			})
			if diff := cmp.Diff(tt.want, got, match); diff != "" {
				t.Errorf("notes (-want +got):\n%s", diff)
			}
		})
	}
}

// TestUpgradeKeepsBytes: outside the rewritten values, the output is the
// input, byte for byte, comments, CDATA and odd quoting included.
func TestUpgradeKeepsBytes(t *testing.T) {
	const in = `<?xml version="1.0" encoding="UTF-8"?>
<!-- a comment with <sx:sync id="fake" updates="0"> inside -->
<rss version="2.0" xmlns:sse = 'http://www.microsoft.com/schemas/sse'>
<channel><title>t</title>
<item><title><![CDATA[<b>bold</b> xmlns:sx="http://www.microsoft.com/schemas/sse"]]></title>
<sse:sync  updates = '1'   id="a"
  deleted="TRUE"><sse:history sequence="1" when='2009-01-01T00:00:00.5Z' by="me"/></sse:sync></item>
</channel></rss>
`
	const want = `<?xml version="1.0" encoding="UTF-8"?>
<!-- a comment with <sx:sync id="fake" updates="0"> inside -->
<rss version="2.0" xmlns:sse = 'http://feedsync.org/2007/feedsync'>
<channel><title>t</title>
<item><title><![CDATA[<b>bold</b> xmlns:sx="http://www.microsoft.com/schemas/sse"]]></title>
<sse:sync  updates = '1'   id="a"
  deleted="true"><sse:history sequence="1" when='2009-01-01T00:00:00Z' by="me"/></sse:sync></item>
</channel></rss>
`
	var out bytes.Buffer
	if _, err := Upgrade(&out, strings.NewReader(in)); err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(want, out.String()); diff != "" {
		t.Errorf("output (-want +got):\n%s", diff)
	}
}

func TestUpgradeMalformed(t *testing.T) {
	for _, in := range []string{
		`<rss xmlns:sx="http://www.microsoft.com/schemas/sse"><channel><item>`,
		`<rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#"/>`,
		``,
	} {
		if _, err := Upgrade(io.Discard, strings.NewReader(in)); err == nil {
			t.Errorf("Upgrade(%q) succeeded", in)
		}
	}
}
