package main

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
)

// writeAtomic writes the file path with write, so that path holds either
// its old content or the complete new content, never part of it:
//
//  1. write goes to a new temporary file in path's directory (a rename only
//     stays atomic within one file system);
//  2. the data is flushed and fsynced, the file gets path's permissions
//     (0644 for a new file) and is closed;
//  3. it is renamed over path, and the directory is fsynced so the rename
//     survives a crash.
//
// If anything fails, the temporary file is removed and path is untouched.
// path may be a file that write is reading (feedsync merge a.xml b.xml -o
// a.xml): the old file stays readable until the rename. A symbolic link is
// followed, so the file it points to is replaced, not the link.
func writeAtomic(path string, write func(w io.Writer) error) (err error) {
	if target, err := filepath.EvalSymlinks(path); err == nil {
		path = target
	}
	mode := fs.FileMode(0o644)
	if fi, err := os.Stat(path); err == nil {
		if !fi.Mode().IsRegular() {
			return fmt.Errorf("%s: not a regular file", path)
		}
		mode = fi.Mode().Perm()
	}
	dir, base := filepath.Split(path)
	if dir == "" {
		dir = "."
	}
	f, err := os.CreateTemp(dir, "."+base+".tmp-*")
	if err != nil {
		return err
	}
	tmp := f.Name()
	defer func() {
		if err != nil {
			f.Close()
			os.Remove(tmp)
		}
	}()
	bw := bufio.NewWriterSize(f, 64<<10)
	if err := write(bw); err != nil {
		return err
	}
	if err := bw.Flush(); err != nil {
		return fmt.Errorf("write %s: %w", tmp, err)
	}
	if err := f.Chmod(mode); err != nil {
		return err
	}
	if err := f.Sync(); err != nil {
		return fmt.Errorf("sync %s: %w", tmp, err)
	}
	if err := f.Close(); err != nil {
		return err
	}
	if err := os.Rename(tmp, path); err != nil {
		return err
	}
	syncDir(dir)
	return nil
}

// syncDir makes a rename in dir durable. Some systems cannot sync a
// directory; the rename has happened anyway, so errors are ignored.
func syncDir(dir string) {
	d, err := os.Open(dir)
	if err != nil {
		return
	}
	d.Sync()
	d.Close()
}

// output writes to path atomically, holding its lock (see lock), or to
// Stdout when path is "" or "-".
func (m *Main) output(ctx context.Context, path string, write func(w io.Writer) error) error {
	if path == "" || path == "-" {
		bw := bufio.NewWriterSize(m.Stdout, 64<<10)
		if err := write(bw); err != nil {
			return err
		}
		return bw.Flush()
	}
	release, err := m.lock(ctx, path)
	if err != nil {
		return err
	}
	defer release()
	return writeAtomic(path, write)
}

// open opens a file to read, or Stdin for "-". The error names the file.
func (m *Main) open(name string) (io.ReadCloser, error) {
	if name == "-" {
		return io.NopCloser(m.Stdin), nil
	}
	f, err := os.Open(name)
	if err != nil {
		var pe *fs.PathError
		if errors.As(err, &pe) {
			err = pe.Err // the path is said once, by inFile
		}
		return nil, inFile(name, err)
	}
	return f, nil
}
