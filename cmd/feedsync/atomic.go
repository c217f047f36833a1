package main

import (
	"bufio"
	"errors"
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
//
// A path that exists and is not a regular file or a directory (/dev/null,
// a named pipe, a terminal) cannot be replaced, and there is nothing to
// keep whole: it is written directly.
//
// Errors of the file operations name path as the user gave it, never the
// temporary file, whose name means nothing to them; errors returned by
// write are returned as they are.
func writeAtomic(path string, write func(w io.Writer) error) (err error) {
	name := path
	if target, err := filepath.EvalSymlinks(path); err == nil {
		path = target
	}
	mode := fs.FileMode(0o644)
	if fi, err := os.Stat(path); err == nil {
		switch {
		case fi.IsDir():
			return inFile(name, errors.New("is a directory"))
		case !fi.Mode().IsRegular():
			return writeDirect(name, path, write)
		}
		mode = fi.Mode().Perm()
	}
	dir, base := filepath.Split(path)
	if dir == "" {
		dir = "."
	}
	f, err := os.CreateTemp(dir, "."+base+".tmp-*")
	if err != nil {
		return outputError(name, err)
	}
	tmp := f.Name()
	defer func() {
		if err != nil {
			f.Close()
			os.Remove(tmp)
		}
	}()
	bw := bufio.NewWriterSize(&namedWriter{w: f, name: name}, 64<<10)
	if err := write(bw); err != nil {
		return err
	}
	if err := bw.Flush(); err != nil {
		return err
	}
	if err := f.Chmod(mode); err != nil {
		return outputError(name, err)
	}
	if err := f.Sync(); err != nil {
		return outputError(name, err)
	}
	if err := f.Close(); err != nil {
		return outputError(name, err)
	}
	if err := os.Rename(tmp, path); err != nil {
		return outputError(name, err)
	}
	syncDir(dir)
	return nil
}

// writeDirect writes a file that is not a regular file (see writeAtomic).
func writeDirect(name, path string, write func(w io.Writer) error) error {
	f, err := os.OpenFile(path, os.O_WRONLY, 0)
	if err != nil {
		return outputError(name, err)
	}
	defer f.Close()
	bw := bufio.NewWriterSize(&namedWriter{w: f, name: name}, 64<<10)
	if err := write(bw); err != nil {
		return err
	}
	if err := bw.Flush(); err != nil {
		return err
	}
	if err := f.Close(); err != nil {
		return outputError(name, err)
	}
	return nil
}

// outputError is err about the output file name: the cause alone (the
// path inside a *fs.PathError or *os.LinkError may be the temporary file),
// named after the file the user asked for.
func outputError(name string, err error) error {
	var pe *fs.PathError
	var le *os.LinkError
	switch {
	case errors.As(err, &pe):
		err = pe.Err
	case errors.As(err, &le):
		err = le.Err
	}
	return inFile(name, err)
}

// namedWriter is the output file, with write errors (a full disk) naming
// the file the user asked for.
type namedWriter struct {
	w    io.Writer
	name string
}

func (n *namedWriter) Write(p []byte) (int, error) {
	k, err := n.w.Write(p)
	if err != nil {
		err = outputError(n.name, err)
	}
	return k, err
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

// output writes to path atomically, or to Stdout when path is "" or "-".
func (m *Main) output(path string, write func(w io.Writer) error) error {
	if path == "" || path == "-" {
		bw := bufio.NewWriterSize(m.Stdout, 64<<10)
		if err := write(bw); err != nil {
			return err
		}
		return bw.Flush()
	}
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
	// A directory opens, and fails at the first read with a message that
	// looks like a problem in a feed; say what is wrong: an input error.
	if fi, err := f.Stat(); err == nil && fi.IsDir() {
		f.Close()
		return nil, inFile(name, errors.New("is a directory, not a file"))
	}
	return f, nil
}
