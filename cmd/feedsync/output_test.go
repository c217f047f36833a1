package main

import (
	"os"
	"slices"
	"strings"
	"testing"
)

// TestOutputErrors checks that errors about an output file name the file
// the user gave (not the hidden temporary file, and not an input), that
// non-regular outputs such as /dev/null are written, and that a directory
// given as a feed is an input error (exit 2) like a missing file.
func TestOutputErrors(t *testing.T) {
	h := newHarness(t)
	h.ok("", "create", "a.xml", "--by", "laptop", "--id", "x", "--set", "title=X")
	for _, args := range [][]string{
		{"merge", "a.xml", "a.xml", "-o", "nodir/out.xml"},
		{"update", "a.xml", "--by", "laptop", "--id", "x", "--set", "title=Y", "-o", "nodir/out.xml"},
		{"delete", "a.xml", "--by", "laptop", "--id", "x", "-o", "nodir/out.xml"},
		{"export", "a.xml", "--format", "atom", "-o", "nodir/out.xml"},
	} {
		t.Run(strings.Join(args, " "), func(t *testing.T) {
			r := h.fails(exitUsage, []string{"feedsync " + args[0] + ": nodir/out.xml: no such file or directory"}, args...)
			if strings.Contains(r.stderr, ".tmp") || strings.Contains(r.stderr, "a.xml") {
				t.Errorf("the message names another file:\n%s", r.stderr)
			}
		})
	}
	if _, err := os.Stat(os.DevNull); err == nil {
		h.ok("", "merge", "a.xml", "a.xml", "-o", os.DevNull)
		h.ok("", "export", "a.xml", "--format", "rss", "-o", os.DevNull)
	}
	if err := os.Mkdir(h.path("dir"), 0o755); err != nil {
		t.Fatal(err)
	}
	h.fails(exitUsage, []string{"feedsync validate: dir: is a directory"}, "validate", "dir")
	h.fails(exitUsage, []string{"feedsync merge: dir: is a directory"}, "merge", "a.xml", "a.xml", "-o", "dir")
	h.fails(exitUsage, []string{"feedsync show: dir: is a directory"}, "show", "dir")
	if got, want := h.files(), []string{"a.xml", "dir"}; !slices.Equal(got, want) {
		t.Errorf("files: %v, want %v", got, want)
	}
}
