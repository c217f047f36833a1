package main

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"time"
)

// DefaultLockWait is how long a command waits for another command's lock
// on a feed file (Main.LockWait).
const DefaultLockWait = 30 * time.Second

// lockPoll is how often a waiting command tries the lock again.
const lockPoll = 50 * time.Millisecond

// lock takes the lock on the feed file path for the rest of the command:
// every command that rewrites a feed file (sync --feed, create, update,
// delete, resolve, merge, and any -o) holds it from before it reads the
// file until after it renamed the new version into place, so that two
// commands never both read the old version and the second rename silently
// drops the first one's change (a pull, say, whose token was already
// saved). A second command waits up to Main.LockWait, then fails with an
// error that says which file is busy.
//
// The lock is flock(2) on a file beside the feed, .NAME.lock, never on the
// feed itself, which the rename replaces. The system releases the lock of
// a killed command; its lock file stays until the next command on the
// file removes it. Once the lock is held, temporary files that a
// killed command left (.NAME.tmp-*, see writeAtomic) cannot belong to a
// running one, and are removed.
//
// Taking a lock this command already holds returns at once: output locks
// the file it writes, and commands that read it first lock it earlier.
// release is never nil.
func (m *Main) lock(ctx context.Context, path string) (release func(), err error) {
	if path == "" || path == "-" {
		return func() {}, nil
	}
	given := path
	if target, err := filepath.EvalSymlinks(path); err == nil {
		path = target // writeAtomic replaces the file a link points to
	}
	if fi, err := os.Stat(path); err == nil && !fi.Mode().IsRegular() {
		return func() {}, nil // /dev/null, or a directory writeAtomic refuses
	}
	abs, err := filepath.Abs(path)
	if err != nil {
		return nil, err
	}
	if m.held[abs] {
		return func() {}, nil
	}
	wait := m.LockWait
	if wait <= 0 {
		wait = DefaultLockWait
	}
	unlock, err := lockFile(ctx, abs, wait)
	if err != nil {
		var pe *fs.PathError
		if errors.As(err, &pe) {
			// Say it of the file the user gave (a missing directory, say).
			return nil, inFile(given, pe.Err)
		}
		return nil, err
	}
	if m.held == nil {
		m.held = map[string]bool{}
	}
	m.held[abs] = true
	removeStaleTemps(abs)
	return func() {
		delete(m.held, abs)
		unlock()
	}, nil
}

// errBusy says that another command holds a file's lock.
var errBusy = errors.New("is being changed by another feedsync command")

// lockFile takes the exclusive lock of path's lock file, trying again
// until wait has passed or ctx is done. unlock removes the lock file, then
// releases the lock, so that none is left behind: a command that opened
// the file before it was removed finds, once it holds the lock, that its
// file is no longer the one at the path, and starts again.
func lockFile(ctx context.Context, path string, wait time.Duration) (unlock func(), err error) {
	dir, base := filepath.Split(path)
	name := filepath.Join(dir, "."+base+".lock")
	deadline := time.Now().Add(wait)
	for {
		f, err := os.OpenFile(name, os.O_RDWR|os.O_CREATE, 0o644)
		if err != nil {
			return nil, err
		}
		ok, err := tryLock(f)
		if err != nil {
			f.Close()
			return nil, fmt.Errorf("lock %s: %w", name, err)
		}
		if ok {
			held, err1 := f.Stat()
			now, err2 := os.Stat(name)
			if err1 == nil && err2 == nil && os.SameFile(held, now) {
				return func() {
					os.Remove(name)
					f.Close() // releases the lock
				}, nil
			}
			f.Close() // the holder before us removed it: try the new one
			continue
		}
		f.Close()
		if time.Now().After(deadline) {
			return nil, &usageError{
				msg:  fmt.Sprintf("%s %v (waited %v for its lock %s)", path, errBusy, wait, name),
				hint: "Run the command again when the other one has finished.",
			}
		}
		select {
		case <-ctx.Done():
			return nil, fmt.Errorf("wait for the lock of %s: %w", path, context.Cause(ctx))
		case <-time.After(lockPoll):
		}
	}
}

// removeStaleTemps removes the temporary files writeAtomic left for path
// when a command writing it was killed. The caller holds path's lock, so
// no running command is writing one.
func removeStaleTemps(path string) {
	dir, base := filepath.Split(path)
	if dir == "" {
		dir = "."
	}
	es, err := os.ReadDir(dir)
	if err != nil {
		return
	}
	prefix := "." + base + ".tmp-"
	for _, e := range es {
		if strings.HasPrefix(e.Name(), prefix) && e.Type().IsRegular() {
			os.Remove(filepath.Join(dir, e.Name()))
		}
	}
}
