package main

import (
	"regexp"
	"strings"
	"testing"
	"time"
)

// progressLine matches one drawing of a progress line; clearLine is what
// removes it.
var (
	progressLine = regexp.MustCompile(`\r(feedsync [a-z]+): ([0-9]+ items?|[0-9]+ items?, [0-9.]+ MB [a-z]+|[0-9.]+ MB [a-z]+)\x1b\[K`)
	clearLine    = "\r\x1b[K"
)

// TestProgress runs the commands that can take long with progress forced
// and a slow clock: each draws a progress line, and clears it before
// anything else is written, so the summary starts on a clean line. Without
// a terminal (the harness's buffers) none draws anything.
func TestProgress(t *testing.T) {
	// setup gives each run the same files: the fixtures, a store seeded
	// with laptop's feed and a plain feed.
	setup := func(t *testing.T) *harness {
		h := newHarness(t)
		h.copyFixture("e5/laptop.xml", "laptop.xml")
		h.copyFixture("e5/tablet.xml", "tablet.xml")
		h.write("tasks.jsonl", `{"id":"a","title":"A"}`+"\n"+`{"id":"b","title":"B"}`+"\n")
		h.ok("", "merge", "--store", "sqlite:seeded.db", "laptop.xml")
		h.ok("", "export", "laptop.xml", "--format", "rss", "-o", "plain.xml")
		return h
	}
	tests := [][]string{
		{"merge", "laptop.xml", "tablet.xml", "-o", "out.xml"},
		{"merge", "--store", "sqlite:s.db", "laptop.xml"},
		{"produce", "--store", "sqlite:seeded.db", "-o", "store.xml"},
		{"produce", "tasks.jsonl", "--by", "laptop", "-o", "tasks.xml"},
		{"validate", "laptop.xml"},
		{"verify", "laptop.xml", "laptop.xml"},
		{"export", "laptop.xml", "--format", "atom", "-o", "atom.xml"},
		{"convert", "plain.xml", "--by", "laptop", "-o", "converted.xml"},
	}
	for _, args := range tests {
		t.Run(strings.Join(args, " "), func(t *testing.T) {
			quiet := setup(t).ok("", args...)
			if strings.ContainsAny(quiet.stderr, "\r\x1b") {
				t.Errorf("progress without a terminal:\n%q", quiet.stderr)
			}

			h := setup(t)
			h.progress, h.tick = true, time.Second
			r := h.ok("", args...)
			if !strings.Contains(r.stderr, "\rfeedsync "+args[0]+": ") {
				t.Fatalf("no progress line:\n%q", r.stderr)
			}
			// What is left once every drawing is followed by its
			// clearing is what a terminal shows: the quiet run's output.
			rest := r.stderr
			for {
				loc := progressLine.FindStringIndex(rest)
				if loc == nil {
					break
				}
				after := rest[loc[1]:]
				// Further drawings may come before the clearing.
				for {
					l := progressLine.FindStringIndex(after)
					if l == nil || l[0] != 0 {
						break
					}
					after = after[l[1]:]
				}
				if !strings.HasPrefix(after, clearLine) {
					t.Fatalf("a progress line is not cleared before %q:\n%q", after, r.stderr)
				}
				rest = rest[:loc[0]] + after[len(clearLine):]
			}
			// Each store has its own tokens.
			token := regexp.MustCompile(`next token: \S+`)
			rest = token.ReplaceAllString(rest, "next token: T")
			if want := token.ReplaceAllString(quiet.stderr, "next token: T"); rest != want {
				t.Errorf("with progress cleared, stderr is\n%q\nwant\n%q", rest, want)
			}
		})
	}
}
