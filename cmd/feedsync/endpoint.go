package main

import (
	"bytes"
	"crypto/rand"
	"encoding/base32"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"runtime"
	"strings"

	"github.com/feedsync/go-feedsync/feedsync"
)

// endpointFile is where the generated endpoint identifier is kept, under
// the user config directory.
const endpointFile = "feedsync/endpoint"

// endpoint returns this endpoint's identifier for the by attribute of the
// history entries a command writes (FS-BY-1): the --by flag, else
// FEEDSYNC_BY, else the identifier kept in the user config directory,
// generated on first use.
//
// Every endpoint needs one of its own that never changes: two endpoints
// sharing a by never conflict, so one of two concurrent edits is silently
// lost, and they never converge (FS-BY-2, FS-CONFLICT-6). That is why an
// absent --by is not written as an anonymous entry but replaced by a stable
// generated identifier.
func (m *Main) endpoint(flagBy string) (string, error) {
	by, from := flagBy, "--by"
	if by == "" {
		by, from = m.Getenv("FEEDSYNC_BY"), "FEEDSYNC_BY"
	}
	if by != "" {
		if !feedsync.ValidBy(by) {
			return "", &usageError{
				msg:  fmt.Sprintf("%s %q is not a valid endpoint identifier", from, by),
				hint: "Use ASCII letters, digits and ()+,-.:=@;$_!*' only, for example --by laptop (FS-TYPE-6).",
			}
		}
		return by, nil
	}
	return m.storedEndpoint()
}

// storedEndpoint reads the generated identifier, creating it if needed.
func (m *Main) storedEndpoint() (string, error) {
	dir, err := m.configDir()
	if err != nil {
		return "", fmt.Errorf("no --by and no FEEDSYNC_BY, and no config directory to keep an endpoint identifier in: %w", err)
	}
	path := filepath.Join(dir, filepath.FromSlash(endpointFile))
	if by, err := readEndpoint(path); err == nil || !errors.Is(err, fs.ErrNotExist) {
		return by, err
	}
	by := newEndpointID()
	switch err := createEndpoint(path, by); {
	case errors.Is(err, fs.ErrExist):
		// Another feedsync process got there first: use its identifier.
		return readEndpoint(path)
	case err != nil:
		return "", fmt.Errorf("keep the endpoint identifier: %w", err)
	}
	fmt.Fprintf(m.Stderr, "feedsync: this endpoint is now %q (kept in %s; use --by or FEEDSYNC_BY to choose)\n", by, path)
	return by, nil
}

func readEndpoint(path string) (string, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return "", err
	}
	by := strings.TrimSpace(string(b))
	if !feedsync.ValidBy(by) {
		return "", fmt.Errorf("%s: %q is not a valid endpoint identifier (FS-TYPE-6); fix or remove the file", path, by)
	}
	return by, nil
}

// createEndpoint writes the identifier to path if path does not exist yet,
// atomically: the file is written aside and linked into place, so a
// concurrent reader never sees it half written and a concurrent writer
// gets fs.ErrExist.
func createEndpoint(path, by string) error {
	dir := filepath.Dir(path)
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return err
	}
	f, err := os.CreateTemp(dir, ".endpoint-*")
	if err != nil {
		return err
	}
	tmp := f.Name()
	defer os.Remove(tmp)
	_, err = f.WriteString(by + "\n")
	if err == nil {
		err = f.Chmod(0o600)
	}
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return err
	}
	if err := os.Link(tmp, path); err != nil {
		if errors.Is(err, fs.ErrExist) {
			return fs.ErrExist
		}
		// No hard links on this file system: fall back to O_EXCL.
		g, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
		if err != nil {
			return err
		}
		_, err = g.WriteString(by + "\n")
		if cerr := g.Close(); err == nil {
			err = cerr
		}
		return err
	}
	syncDir(dir)
	return nil
}

// newEndpointID returns "ep-" and 16 random base32 letters and digits (80
// bits): unique without coordination, and in the NSS character set that
// FS-TYPE-6 asks generated identifiers to use.
func newEndpointID() string {
	var b [10]byte
	rand.Read(b[:])
	s := base32.StdEncoding.WithPadding(base32.NoPadding).EncodeToString(b[:])
	return "ep-" + string(bytes.ToLower([]byte(s)))
}

// configDir is os.UserConfigDir read through m.Getenv, so tests can point
// it at a temporary directory. XDG_CONFIG_HOME, when set, wins on every
// system (os.UserConfigDir only looks at it on Unix).
func (m *Main) configDir() (string, error) {
	if d := m.Getenv("XDG_CONFIG_HOME"); d != "" {
		if !filepath.IsAbs(d) {
			return "", fmt.Errorf("$XDG_CONFIG_HOME %q is not an absolute path", d)
		}
		return d, nil
	}
	switch runtime.GOOS {
	case "windows":
		if d := m.Getenv("AppData"); d != "" {
			return d, nil
		}
		return "", errors.New("%AppData% is not set")
	case "darwin", "ios":
		if h := m.Getenv("HOME"); h != "" {
			return filepath.Join(h, "Library", "Application Support"), nil
		}
		return "", errors.New("$HOME is not set")
	case "plan9":
		if h := m.Getenv("home"); h != "" {
			return filepath.Join(h, "lib"), nil
		}
		return "", errors.New("$home is not set")
	}
	if h := m.Getenv("HOME"); h != "" {
		return filepath.Join(h, ".config"), nil
	}
	return "", errors.New("neither $XDG_CONFIG_HOME nor $HOME is set")
}
