package main

import (
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/feedsync/go-feedsync/feedsync"
)

// TestEndpointPersistence checks that without --by and FEEDSYNC_BY an
// endpoint identifier is generated once, kept (0600) and reused, so that
// this endpoint keeps one by (FS-BY-1) distinct from every other endpoint
// (FS-CONFLICT-6).
func TestEndpointPersistence(t *testing.T) {
	h := newHarness(t)
	r := h.ok("", "create", "feed.xml", "--id", "a", "--set", "title=A")
	path := filepath.Join(h.env["XDG_CONFIG_HOME"], "feedsync", "endpoint")
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	by := strings.TrimSpace(string(b))
	if !regexp.MustCompile(`^ep-[a-z2-7]{16}$`).MatchString(by) || !feedsync.ValidBy(by) {
		t.Errorf("generated endpoint %q", by)
	}
	if !strings.Contains(r.stderr, `this endpoint is now "`+by+`" (kept in `+path) {
		t.Errorf("the new identifier was not announced: %s", r.stderr)
	}
	fi, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	if fi.Mode().Perm() != 0o600 {
		t.Errorf("endpoint file mode %v, want 0600", fi.Mode().Perm())
	}
	if got := h.items("feed.xml")["a"].Sync.Top().By; got != by {
		t.Errorf("history by %q, want %q", got, by)
	}

	// Reused, silently.
	r = h.ok("", "update", "feed.xml", "--id", "a", "--set", "title=B")
	if strings.Contains(r.stderr, "this endpoint is now") {
		t.Errorf("announced again: %s", r.stderr)
	}
	if got := h.items("feed.xml")["a"].Sync.Top().By; got != by {
		t.Errorf("second command wrote by %q, want %q", got, by)
	}

	// FEEDSYNC_BY beats the file, --by beats both.
	h.env["FEEDSYNC_BY"] = "phone"
	h.ok("", "update", "feed.xml", "--id", "a", "--set", "title=C")
	if got := h.items("feed.xml")["a"].Sync.Top().By; got != "phone" {
		t.Errorf("with FEEDSYNC_BY: by %q", got)
	}
	h.ok("", "update", "feed.xml", "--id", "a", "--set", "title=D", "--by", "tablet")
	if got := h.items("feed.xml")["a"].Sync.Top().By; got != "tablet" {
		t.Errorf("with --by: by %q", got)
	}
	h.env["FEEDSYNC_BY"] = "not valid"
	h.fails(exitUsage, []string{`FEEDSYNC_BY "not valid" is not a valid endpoint identifier`}, "delete", "feed.xml", "--id", "a")
}

// TestEndpointHome falls back to $HOME/.config without XDG_CONFIG_HOME.
func TestEndpointHome(t *testing.T) {
	h := newHarness(t)
	delete(h.env, "XDG_CONFIG_HOME")
	h.ok("", "create", "feed.xml", "--set", "title=A")
	if _, err := os.Stat(filepath.Join(h.env["HOME"], ".config", "feedsync", "endpoint")); err != nil {
		t.Error(err)
	}
	delete(h.env, "HOME")
	h.fails(exitUsage, []string{"no --by and no FEEDSYNC_BY", "neither $XDG_CONFIG_HOME nor $HOME is set"}, "create", "feed.xml", "--set", "title=B")
}

func TestEndpointBadFile(t *testing.T) {
	h := newHarness(t)
	path := filepath.Join(h.env["XDG_CONFIG_HOME"], "feedsync", "endpoint")
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, []byte("two words\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	h.fails(exitUsage, []string{path + `: "two words" is not a valid endpoint identifier`}, "create", "feed.xml", "--set", "title=A")
}

// TestEndpointNotNeeded: merging with a policy that writes no history does
// not need, and so does not make, an endpoint identifier.
func TestEndpointNotNeeded(t *testing.T) {
	h := newHarness(t)
	h.copyFixture("e5/laptop.xml", "a.xml")
	h.copyFixture("e5/tablet.xml", "b.xml")
	h.ok("", "merge", "a.xml", "b.xml", "-o", "c.xml")
	if _, err := os.Stat(h.env["XDG_CONFIG_HOME"]); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("config directory made by a merge: %v", err)
	}
}

// TestCreateEndpointRace: when another process created the file first,
// createEndpoint reports fs.ErrExist and leaves that file alone.
func TestCreateEndpointRace(t *testing.T) {
	path := filepath.Join(t.TempDir(), "feedsync", "endpoint")
	if err := createEndpoint(path, "ep-first"); err != nil {
		t.Fatal(err)
	}
	if err := createEndpoint(path, "ep-second"); !errors.Is(err, fs.ErrExist) {
		t.Errorf("second create: %v, want fs.ErrExist", err)
	}
	if by, err := readEndpoint(path); err != nil || by != "ep-first" {
		t.Errorf("read %q, %v; want ep-first", by, err)
	}
	es, err := os.ReadDir(filepath.Dir(path))
	if err != nil || len(es) != 1 {
		t.Errorf("directory holds %d entries (%v), want only the endpoint file", len(es), err)
	}
}

// TestEndpointNotMadeOnError: a command that fails on a wrong file name
// does not generate an endpoint identifier first.
func TestEndpointNotMadeOnError(t *testing.T) {
	h := newHarness(t)
	for _, args := range [][]string{
		{"produce", "missing.jsonl"},
		{"update", "missing.xml", "--id", "a", "--set", "a=b"},
		{"delete", "missing.xml", "--id", "a"},
		{"resolve", "missing.xml", "--id", "a", "--keep", "0"},
		{"merge", "missing.xml", "missing.xml", "--policy", "lww"},
	} {
		h.fails(exitUsage, []string{"missing."}, args...)
	}
	if _, err := os.Stat(h.env["XDG_CONFIG_HOME"]); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("config directory made by failed commands: %v", err)
	}
}
