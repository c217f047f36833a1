package main

import (
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// TestExport compares the command's output with the goldens of package
// export, and checks the summary it prints.
func TestExport(t *testing.T) {
	tests := []struct {
		input  string // under testdata/feeds/plain
		args   []string
		golden string
	}{
		{"rss20-sx.xml", []string{"--format", "json"}, "rss20-sx.export.json"},
		{"rss20-sx.xml", []string{"--format", "ATOM"}, "rss20-sx.export.atom"},
		{"rss20-sx.xml", nil, "rss20-sx.export.rss"}, // the input's format
		{"golden/atom10-xhtml.atom", nil, "atom10-xhtml.export.atom"},
		{"golden/atom10-xhtml.atom", []string{"--format", "rss"}, "atom10-xhtml.export.rss"},
	}
	for _, tc := range tests {
		t.Run(tc.golden, func(t *testing.T) {
			h := newHarness(t)
			h.copyPlain(tc.input, "feed.xml")
			r := h.ok("", append([]string{"export", "feed.xml", "-o", "plain"}, tc.args...)...)
			if diff := cmp.Diff(plainGolden(t, tc.golden), h.read("plain")); diff != "" {
				t.Errorf("output (-want +got):\n%s", diff)
			}
			if !strings.Contains(r.stderr, "plain: ") || !strings.Contains(r.stderr, "exported") {
				t.Errorf("no summary: %s", r.stderr)
			}
		})
	}
}

func TestExportSummaryAndStdout(t *testing.T) {
	h := newHarness(t)
	h.copyPlain("rss20-sx.xml", "tasks.xml")
	r := h.ok("", "export", "tasks.xml", "--format", "json")
	if diff := cmp.Diff(plainGolden(t, "rss20-sx.export.json"), r.stdout); diff != "" {
		t.Errorf("output (-want +got):\n%s", diff)
	}
	if want := "3 exported, 1 tombstones left out, 1 with conflicts, 0 invalid"; !strings.Contains(r.stderr, want) {
		t.Errorf("stderr lacks %q: %s", want, r.stderr)
	}
}

func TestExportUsageErrors(t *testing.T) {
	h := newHarness(t)
	h.copyPlain("rss20-sx.xml", "tasks.xml")
	h.write("plain.json", `{"version": "https://jsonfeed.org/version/1.1", "items": []}`)
	tests := []struct {
		args []string
		want []string
	}{
		{[]string{"export"}, []string{"feedsync export: missing FEED"}},
		{[]string{"export", "tasks.xml", "--format", "opml"}, []string{`"opml" is not an export format: use rss, atom or json`}},
		{[]string{"export", "missing.xml"}, []string{"missing.xml", "no such file or directory"}},
		{[]string{"export", "plain.json"}, []string{"plain.json: export: the input is no RSS 2.0 or Atom 1.0 feed"}},
	}
	for _, tc := range tests {
		t.Run(strings.Join(tc.args, " "), func(t *testing.T) {
			h.fails(exitUsage, tc.want, tc.args...)
		})
	}
	if got := h.files(); len(got) != 2 {
		t.Errorf("files after failed exports: %v", got)
	}
}
