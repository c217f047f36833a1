package main

import (
	"errors"
	"io"
	"os"
	"path/filepath"
	"slices"
	"testing"
)

func dirNames(t *testing.T, dir string) []string {
	t.Helper()
	es, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, e := range es {
		names = append(names, e.Name())
	}
	slices.Sort(names)
	return names
}

func TestWriteAtomic(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "feed.xml")
	if err := os.WriteFile(path, []byte("old"), 0o640); err != nil {
		t.Fatal(err)
	}

	t.Run("failure leaves the file and no temporary file", func(t *testing.T) {
		boom := errors.New("boom")
		err := writeAtomic(path, func(w io.Writer) error {
			io.WriteString(w, "half of the new content")
			return boom
		})
		if !errors.Is(err, boom) {
			t.Errorf("got %v, want boom", err)
		}
		if b, _ := os.ReadFile(path); string(b) != "old" {
			t.Errorf("file holds %q", b)
		}
		if got := dirNames(t, dir); !slices.Equal(got, []string{"feed.xml"}) {
			t.Errorf("directory: %v", got)
		}
	})

	t.Run("success replaces the content and keeps the mode", func(t *testing.T) {
		err := writeAtomic(path, func(w io.Writer) error {
			// The old file is still readable while the new one is written.
			b, err := os.ReadFile(path)
			if err != nil || string(b) != "old" {
				t.Errorf("old content while writing: %q, %v", b, err)
			}
			_, err = io.WriteString(w, "new")
			return err
		})
		if err != nil {
			t.Fatal(err)
		}
		b, _ := os.ReadFile(path)
		fi, _ := os.Stat(path)
		if string(b) != "new" || fi.Mode().Perm() != 0o640 {
			t.Errorf("file %q mode %v, want new 0640", b, fi.Mode().Perm())
		}
		if got := dirNames(t, dir); !slices.Equal(got, []string{"feed.xml"}) {
			t.Errorf("directory: %v", got)
		}
	})

	t.Run("a new file is 0644", func(t *testing.T) {
		p := filepath.Join(dir, "new.xml")
		if err := writeAtomic(p, func(w io.Writer) error { _, err := io.WriteString(w, "x"); return err }); err != nil {
			t.Fatal(err)
		}
		if fi, err := os.Stat(p); err != nil || fi.Mode().Perm() != 0o644 {
			t.Errorf("mode %v, %v", fi.Mode().Perm(), err)
		}
	})

	t.Run("a symbolic link is followed", func(t *testing.T) {
		link := filepath.Join(dir, "link.xml")
		if err := os.Symlink("feed.xml", link); err != nil {
			t.Skip("no symbolic links:", err)
		}
		if err := writeAtomic(link, func(w io.Writer) error { _, err := io.WriteString(w, "via link"); return err }); err != nil {
			t.Fatal(err)
		}
		if fi, err := os.Lstat(link); err != nil || fi.Mode()&os.ModeSymlink == 0 {
			t.Errorf("the link was replaced: %v", err)
		}
		if b, _ := os.ReadFile(path); string(b) != "via link" {
			t.Errorf("target holds %q", b)
		}
	})

	t.Run("a directory is refused", func(t *testing.T) {
		if err := writeAtomic(dir, func(io.Writer) error { return nil }); err == nil {
			t.Error("no error writing over a directory")
		}
	})

	t.Run("errors name the file asked for, never the temporary file", func(t *testing.T) {
		p := filepath.Join(dir, "nope", "f.xml")
		err := writeAtomic(p, func(io.Writer) error { return nil })
		if err == nil || err.Error() != p+": no such file or directory" {
			t.Errorf("got %v, want %s: no such file or directory", err, p)
		}
	})

	t.Run("/dev/null is written, not replaced", func(t *testing.T) {
		if _, err := os.Stat(os.DevNull); err != nil {
			t.Skip(err)
		}
		written := false
		err := writeAtomic(os.DevNull, func(w io.Writer) error {
			_, err := io.WriteString(w, "discarded")
			written = err == nil
			return err
		})
		if err != nil || !written {
			t.Errorf("writing %s: %v (written %v)", os.DevNull, err, written)
		}
		if fi, err := os.Stat(os.DevNull); err != nil || fi.Mode().IsRegular() {
			t.Errorf("%s was replaced: %v", os.DevNull, err)
		}
	})

	t.Run("a missing directory fails before write", func(t *testing.T) {
		called := false
		err := writeAtomic(filepath.Join(dir, "nope", "f.xml"), func(io.Writer) error { called = true; return nil })
		if err == nil || called {
			t.Errorf("err %v, write called %v", err, called)
		}
	})
}
