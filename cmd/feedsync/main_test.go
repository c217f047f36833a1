package main

import (
	"bytes"
	"context"
	"flag"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/feedsync/go-feedsync/feedsync"
)

var update = flag.Bool("update", false, "rewrite the golden files under testdata/")

// harness runs Main with buffers, a temporary directory, a fake
// environment and a clock the test moves.
type harness struct {
	t   *testing.T
	dir string
	env map[string]string
	now time.Time
	// lockWait is Main.LockWait.
	lockWait time.Duration
	// progress forces progress lines, with a clock that moves tick at
	// every reading (a slow command).
	progress bool
	tick     time.Duration
}

func newHarness(t *testing.T) *harness {
	t.Helper()
	dir := t.TempDir()
	return &harness{
		t:   t,
		dir: dir,
		env: map[string]string{"XDG_CONFIG_HOME": filepath.Join(dir, "config"), "HOME": filepath.Join(dir, "home")},
		now: time.Date(2009, 4, 2, 12, 0, 0, 0, time.UTC),
	}
}

type result struct {
	stdout, stderr string
	code           int
}

// run runs feedsync with args in the harness directory; stdin is the
// standard input.
func (h *harness) run(stdin string, args ...string) result {
	h.t.Helper()
	var out, errb bytes.Buffer
	m := &Main{
		Stdin:  strings.NewReader(stdin),
		Stdout: &out,
		Stderr: &errb,
		Getenv: func(k string) string { return h.env[k] },
		Now: func() time.Time {
			h.now = h.now.Add(h.tick)
			return h.now
		},
		forceProgress: h.progress,

		LockWait: h.lockWait,
	}
	wd, err := os.Getwd()
	if err != nil {
		h.t.Fatal(err)
	}
	if err := os.Chdir(h.dir); err != nil {
		h.t.Fatal(err)
	}
	defer os.Chdir(wd)
	code := m.Report(m.Run(context.Background(), args))
	return result{out.String(), errb.String(), code}
}

// ok runs feedsync and fails the test unless it exits 0.
func (h *harness) ok(stdin string, args ...string) result {
	h.t.Helper()
	r := h.run(stdin, args...)
	if r.code != 0 {
		h.t.Fatalf("feedsync %s: exit %d\nstdout:\n%s\nstderr:\n%s", strings.Join(args, " "), r.code, r.stdout, r.stderr)
	}
	return r
}

// fails runs feedsync and checks its exit code and that stderr contains
// each of the given strings.
func (h *harness) fails(code int, want []string, args ...string) result {
	h.t.Helper()
	r := h.run("", args...)
	if r.code != code {
		h.t.Errorf("feedsync %s: exit %d, want %d\nstderr:\n%s", strings.Join(args, " "), r.code, code, r.stderr)
	}
	for _, w := range want {
		if !strings.Contains(r.stderr, w) {
			h.t.Errorf("feedsync %s: stderr does not contain %q:\n%s", strings.Join(args, " "), w, r.stderr)
		}
	}
	return r
}

func (h *harness) path(name string) string { return filepath.Join(h.dir, name) }

func (h *harness) write(name, content string) {
	h.t.Helper()
	if err := os.WriteFile(h.path(name), []byte(content), 0o644); err != nil {
		h.t.Fatal(err)
	}
}

func (h *harness) read(name string) string {
	h.t.Helper()
	b, err := os.ReadFile(h.path(name))
	if err != nil {
		h.t.Fatal(err)
	}
	return string(b)
}

// copyFixture copies testdata/src into the harness directory as name.
func (h *harness) copyFixture(src, name string) {
	h.t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", src))
	if err != nil {
		h.t.Fatal(err)
	}
	h.write(name, string(b))
}

// files lists the harness directory (the config directory left out), to
// catch temporary files left behind.
func (h *harness) files() []string {
	h.t.Helper()
	es, err := os.ReadDir(h.dir)
	if err != nil {
		h.t.Fatal(err)
	}
	var names []string
	for _, e := range es {
		if e.Name() != "config" {
			names = append(names, e.Name())
		}
	}
	slices.Sort(names)
	return names
}

// items reads a feed of the harness directory.
func (h *harness) items(name string) map[string]*feedsync.Item {
	h.t.Helper()
	_, items, err := feedsync.ReadAll(strings.NewReader(h.read(name)))
	if err != nil {
		h.t.Fatalf("%s: %v", name, err)
	}
	out := map[string]*feedsync.Item{}
	for _, it := range items {
		if it.Sync != nil {
			out[it.ID()] = it
		}
	}
	return out
}

// golden compares got with testdata/name, or rewrites it with -update.
func golden(t *testing.T, name, got string) {
	t.Helper()
	path := filepath.Join("testdata", name)
	if *update {
		if err := os.WriteFile(path, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run the test with -update to create it)", err)
	}
	if diff := cmp.Diff(string(want), got); diff != "" {
		t.Errorf("%s differs (-want +got); check the diff, then run with -update:\n%s", path, diff)
	}
}

// TestHelp checks that every way of asking for help prints a usage with a
// real example, on standard output, with exit 0, and that each command's
// usage mentions every flag it accepts.
func TestHelp(t *testing.T) {
	h := newHarness(t)
	for _, args := range [][]string{{"--help"}, {"-h"}, {"help"}} {
		r := h.ok("", args...)
		for _, c := range commands {
			if !strings.Contains(r.stdout, c.name) {
				t.Errorf("feedsync %s does not list %s", args[0], c.name)
			}
		}
		if !strings.Contains(r.stdout, "Example") {
			t.Errorf("feedsync %s has no example", args[0])
		}
	}
	for _, c := range commands {
		t.Run(c.name, func(t *testing.T) {
			h := newHarness(t)
			a := h.ok("", "help", c.name)
			b := h.ok("", c.name, "--help")
			d := h.ok("", c.name, "-h")
			_, example, _ := strings.Cut(a.stdout, "Example:\n")
			if !strings.Contains(example, "\tfeedsync "+c.name+" ") {
				t.Errorf("help %s: no example of the command:\n%s", c.name, a.stdout)
			}
			if b.stdout != a.stdout || d.stdout != a.stdout {
				t.Errorf("%s --help and -h differ from help %s", c.name, c.name)
			}
			c.new(&Main{}).flags().VisitAll(func(f *flag.Flag) {
				name := "--" + f.Name
				if len(f.Name) == 1 {
					name = "-" + f.Name
				}
				if !strings.Contains(a.stdout, "\t"+name) {
					t.Errorf("usage of %s does not describe %s", c.name, name)
				}
			})
		})
	}
}

// TestUsageErrors checks exit 2 and a hint for wrong command lines.
func TestUsageErrors(t *testing.T) {
	h := newHarness(t)
	h.write("a.xml", "<rss><channel></channel></rss>")
	tests := []struct {
		args []string
		want []string
	}{
		{nil, []string{"no command given", "Usage:"}},
		{[]string{"frobnicate"}, []string{`feedsync: unknown command "frobnicate"`, "Run 'feedsync help'"}},
		{[]string{"help", "frobnicate"}, []string{`unknown command "frobnicate"`}},
		{[]string{"merge", "a.xml"}, []string{"feedsync merge: missing INCOMING", "Run 'feedsync help merge' for usage."}},
		{[]string{"merge"}, []string{"feedsync merge: missing LOCAL and INCOMING"}},
		{[]string{"merge", "a.xml", "a.xml", "c.xml"}, []string{`unexpected argument "c.xml"`}},
		{[]string{"merge", "-", "-"}, []string{"cannot both be standard input"}},
		{[]string{"merge", "a.xml", "a.xml", "--policy", "coinflip"}, []string{`--policy "coinflip"`, "endpoint:NAME"}},
		{[]string{"merge", "a.xml", "a.xml", "--format", "json"}, []string{`"json" is not a feed format`}},
		{[]string{"show", "a.xml", "--nope"}, []string{"feedsync show: unknown flag --nope\n", "Run 'feedsync help show'"}},
		{[]string{"show", "a.xml", "-nope=1"}, []string{"feedsync show: unknown flag -nope\n"}},
		{[]string{"merge", "a.xml", "a.xml", "--o"}, []string{"feedsync merge: flag --o needs a value\n"}},
		{[]string{"sync", "http://127.0.0.1:1/", "--feed", "a.xml", "--interval=soon"}, []string{`invalid value "soon" for --interval: parse error`}},
		{[]string{"create", "a.xml", "--by", "lap top", "--set", "title=x"}, []string{`--by "lap top" is not a valid endpoint identifier`, "for example --by laptop", "FS-TYPE-6", "explained in docs/RULES.md"}},
		{[]string{"create", "a.xml", "--by", "laptop"}, []string{"give the item's fields"}},
		{[]string{"create", "a.xml", "--by", "laptop", "--set", "notanassignment"}, []string{`--set "notanassignment": want field=value`}},
		{[]string{"create", "a.xml", "--by", "laptop", "--fields", "[1]"}, []string{"--fields:", "one JSON object"}},
		{[]string{"update", "a.xml", "--by", "laptop", "--set", "a=b"}, []string{"missing --id"}},
		{[]string{"update", "a.xml", "--id", "x", "--by", "laptop"}, []string{"nothing to change"}},
		{[]string{"resolve", "a.xml", "--id", "x", "--by", "laptop"}, []string{"--keep N or --keep-from ENDPOINT"}},
		{[]string{"resolve", "a.xml", "--id", "x", "--keep", "1", "--keep-from", "a", "--by", "laptop"}, []string{"cannot be used together"}},
		{[]string{"produce", "a.xml", "--by", "laptop", "--from", "-"}, []string{"--from must be a file"}},
		{[]string{"produce", "a.xml", "--by", "laptop"}, []string{"a.xml: line 1: this is XML, not JSON Lines", "feedsync convert a.xml --by ENDPOINT"}},
	}
	for _, tc := range tests {
		t.Run(strings.Join(tc.args, " "), func(t *testing.T) {
			h.fails(exitUsage, tc.want, tc.args...)
		})
	}
}

// TestWrongFile checks that a missing file is an input error (exit 2) whose
// message names the file, for every command.
func TestWrongFile(t *testing.T) {
	h := newHarness(t)
	h.write("ok.xml", "<rss><channel></channel></rss>")
	tests := [][]string{
		{"produce", "missing.jsonl", "--by", "laptop"},
		{"produce", "ok.xml", "--by", "laptop", "--from", "missing.xml"},
		{"merge", "missing.xml", "ok.xml"}, // with a hint to copy ok.xml
		{"merge", "ok.xml", "missing.xml"},
		{"update", "missing.xml", "--id", "a", "--by", "laptop", "--set", "a=b"},
		{"delete", "missing.xml", "--id", "a", "--by", "laptop"},
		{"conflicts", "missing.xml"},
		{"resolve", "missing.xml", "--id", "a", "--keep", "0", "--by", "laptop"},
		{"validate", "missing.xml"},
		{"show", "missing.xml"},
	}
	for _, args := range tests {
		t.Run(strings.Join(args, " "), func(t *testing.T) {
			r := h.fails(exitUsage, []string{"feedsync " + args[0] + ": missing.", "no such file or directory"}, args...)
			first, _, _ := strings.Cut(r.stderr, "\n")
			if strings.Count(first, "missing.") != 1 {
				t.Errorf("the file is not named exactly once: %s", r.stderr)
			}
		})
	}
	if got, want := h.files(), []string{"ok.xml"}; !slices.Equal(got, want) {
		t.Errorf("files after failed commands: %v, want %v", got, want)
	}
}

func TestParseArgs(t *testing.T) {
	tests := []struct {
		args    []string
		wantPos []string
		wantO   string
		wantB   bool
	}{
		{[]string{"a", "b"}, []string{"a", "b"}, "", false},
		{[]string{"-o", "x", "a", "b"}, []string{"a", "b"}, "x", false},
		{[]string{"a", "b", "-o", "x"}, []string{"a", "b"}, "x", false},
		{[]string{"a", "--o=x", "b", "--b"}, []string{"a", "b"}, "x", true},
		{[]string{"a", "-", "-o", "x"}, []string{"a", "-"}, "x", false},
		{[]string{"a", "--", "-o", "x"}, []string{"a", "-o", "x"}, "", false},
		{[]string{"--b", "--", "--"}, []string{"--"}, "", true},
	}
	for _, tc := range tests {
		t.Run(strings.Join(tc.args, " "), func(t *testing.T) {
			fs := newFlagSet("test")
			o := fs.String("o", "", "")
			b := fs.Bool("b", false, "")
			pos, err := parseArgs(fs, tc.args)
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tc.wantPos, pos); diff != "" {
				t.Errorf("positional (-want +got):\n%s", diff)
			}
			if *o != tc.wantO || *b != tc.wantB {
				t.Errorf("-o %q -b %v, want %q %v", *o, *b, tc.wantO, tc.wantB)
			}
		})
	}
}

func TestExitCode(t *testing.T) {
	tests := []struct {
		err  error
		want int
	}{
		{nil, 0},
		{&cmdError{cmd: "validate", err: &problemError{msg: "x"}}, 1},
		{&cmdError{cmd: "merge", err: &usageError{msg: "x"}}, 2},
		{os.ErrNotExist, 2},
	}
	for _, tc := range tests {
		if got := ExitCode(tc.err); got != tc.want {
			t.Errorf("ExitCode(%v) = %d, want %d", tc.err, got, tc.want)
		}
	}
}
