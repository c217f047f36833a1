package main

import (
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// TestValidate checks that every problem of testdata/invalid.xml is listed
// with its item and line, errors and warnings apart, and exit 1: missing
// history (FS-ROBUST-1), a bad integer (FS-TYPE-2), a duplicate id
// (FS-SYNC-2), an entry with neither when nor by (FS-HIST-4), a lagging
// sequence (FS-SYNC-7: an error although the merge tolerates it,
// FS-ROBUST-2) and a lenient boolean (FS-TYPE-3, a warning, an error with
// --strict).
func TestValidate(t *testing.T) {
	h := newHarness(t)
	h.copyFixture("invalid.xml", "invalid.xml")
	r := h.fails(exitProblem, nil, "validate", "invalid.xml")
	want := []string{
		`feedsync validate: invalid.xml: item "nohist" (line 6): invalid sx:sync: sx:sync has no sx:history (FS-ROBUST-1)`,
		`feedsync validate: invalid.xml: item "badup" (line 7): invalid sx:sync: sx:sync updates "zero" is not a decimal integer (FS-TYPE-2)`,
		`feedsync validate: invalid.xml: item "ok-1" (line 8): duplicate sync id: also used by the item at line 5 (FS-SYNC-2, FS-ROBUST-3)`,
		`feedsync validate: invalid.xml: item "anon" (line 9): invalid sx:sync: sx:history has neither when nor by (FS-HIST-4)`,
		`feedsync validate: invalid.xml: item "lag" (line 10): topmost sequence 1 differs from updates 2 (FS-SYNC-7, FS-ROBUST-2)`,
		`feedsync validate: invalid.xml: item "odd" (line 11): warning: sx:sync deleted "yes" read as true; write "true" (FS-TYPE-3)`,
		`feedsync validate: invalid.xml: 5 errors, 1 warning in 7 items (7 synchronized)`,
	}
	if diff := cmp.Diff(want, strings.Split(strings.TrimSpace(r.stderr), "\n")); diff != "" {
		t.Errorf("validate (-want +got):\n%s", diff)
	}
	if r.stdout != "" {
		t.Errorf("stdout: %q", r.stdout)
	}

	r = h.fails(exitProblem, []string{
		`item "odd" (line 11): invalid sx:sync: sx:sync deleted "yes" is not true or false (FS-TYPE-3)`,
		`invalid.xml: 6 errors, 0 warnings in 7 items`,
	}, "validate", "invalid.xml", "--strict")
}

// TestValidateWarningsOnly: warnings alone pass, unless --strict.
func TestValidateWarningsOnly(t *testing.T) {
	h := newHarness(t)
	h.write("w.xml", `<rss><channel xmlns:sx="http://feedsync.org/2007/feedsync">
<item><sx:sync id="stale" updates="2"><sx:history sequence="2" by="laptop"/><sx:conflicts><item><sx:sync id="stale" updates="1"><sx:history sequence="1" by="laptop"/></sx:sync></item></sx:conflicts></sx:sync></item>
<item><title>plain</title></item>
</channel></rss>`)
	r := h.ok("", "validate", "w.xml")
	if r.stdout != "ok: 2 items (1 synchronized), 1 warning\n" || !strings.Contains(r.stderr, `warning: conflict copy 1: version 1@laptop is subsumed`) {
		t.Errorf("stdout %q stderr %q", r.stdout, r.stderr)
	}
	h.fails(exitProblem, []string{"w.xml: 0 errors, 1 warning"}, "validate", "w.xml", "--strict")
}

// TestValidateXML checks that malformed XML is a problem found (exit 1)
// with its line, listed after the problems found before it.
func TestValidateXML(t *testing.T) {
	h := newHarness(t)
	h.write("bad.xml", `<rss><channel xmlns:sx="http://feedsync.org/2007/feedsync">
<item><sx:sync id="a" updates="1"></sx:sync></item>
<item><title>&nbsp;</title></item>
</channel></rss>`)
	r := h.fails(exitProblem, nil, "validate", "bad.xml")
	lines := strings.Split(strings.TrimSpace(r.stderr), "\n")
	if len(lines) != 3 || !strings.Contains(lines[0], `item "a" (line 2)`) || !strings.HasPrefix(lines[1], "feedsync validate: bad.xml: line 3: ") {
		t.Errorf("stderr:\n%s", r.stderr)
	}
	h.write("html.xml", "<html></html>")
	h.fails(exitProblem, []string{"feedsync validate: html.xml: line 1: root element <html> is not RSS 2.0 <rss> or Atom 1.0 <feed>"}, "validate", "html.xml")
}

func TestValidateOK(t *testing.T) {
	h := newHarness(t)
	h.copyFixture("e5/want.xml", "feed.xml")
	r := h.ok("", "validate", "feed.xml")
	if r.stdout != "ok: 3 items (3 synchronized)\n" || r.stderr != "" {
		t.Errorf("stdout %q stderr %q", r.stdout, r.stderr)
	}
	r = h.ok(h.read("feed.xml"), "validate", "-")
	if r.stdout != "ok: 3 items (3 synchronized)\n" {
		t.Errorf("from stdin: %q", r.stdout)
	}
}

// TestValidateMismatchedEndTag: a feed whose end tag does not match its
// start tag is not well-formed XML and must be reported (exit 1).
//
// It fails while feedsync.Reader reads with xml.Decoder.RawToken, which
// does not check that end tags match their start tags: as long as the
// nesting depth balances, <title>x</b> is accepted, validate says "ok",
// and the malformed bytes are copied into every feed written from it.
func TestValidateMismatchedEndTag(t *testing.T) {
	h := newHarness(t)
	h.write("mm.xml", "<rss><channel><item><title>x</b></item></channel></rss>")
	h.fails(exitProblem, []string{"feedsync validate: mm.xml: line 1: "}, "validate", "mm.xml")
}
