package httpfeed

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
)

// spoolMemory is how much of a POST body is kept in memory; the rest goes
// to a temporary file.
const spoolMemory = 1 << 20

// spool and spoolMemory let a handler receive the whole body of a POST
// before its work begins (Handler.requestBody): the store's write
// transaction, which serialises every writer, then lasts as long as the
// merge, never as long as the slowest client's upload. A client sending
// one byte per second costs only its own request (and, with Server
// timeouts, not even that for long). The body is kept in memory up to
// spoolMemory bytes, then in a temporary file that is removed as soon as
// it is created where the system allows, so that a killed server leaves
// nothing behind.

// errSpool marks a failure of the temporary file, a server error.
var errSpool = errors.New("httpfeed: spool the request body")

// spool reads r to its end: into memory up to mem bytes, then into a
// temporary file. The returned reader gives the bytes back; Close releases
// them.
func spool(r io.Reader, mem int64) (io.ReadCloser, error) {
	var buf bytes.Buffer
	n, err := io.Copy(&buf, io.LimitReader(r, mem+1))
	if err != nil {
		return nil, err
	}
	if n <= mem {
		return io.NopCloser(&buf), nil
	}
	f, err := os.CreateTemp("", "feedsync-body-*")
	if err != nil {
		return nil, fmt.Errorf("%w: %w", errSpool, err)
	}
	// Removed at once where an open file may be (POSIX); elsewhere at
	// Close.
	removed := os.Remove(f.Name()) == nil
	sf := &spoolFile{f: f, removed: removed}
	if _, err := buf.WriteTo(f); err != nil {
		sf.Close()
		return nil, fmt.Errorf("%w: %w", errSpool, err)
	}
	if _, err := io.Copy(f, r); err != nil {
		sf.Close()
		var pe *os.PathError
		if errors.As(err, &pe) {
			err = fmt.Errorf("%w: %w", errSpool, err)
		}
		return nil, err
	}
	if _, err := f.Seek(0, io.SeekStart); err != nil {
		sf.Close()
		return nil, fmt.Errorf("%w: %w", errSpool, err)
	}
	return sf, nil
}

// spoolFile is a spooled body in a temporary file.
type spoolFile struct {
	f       *os.File
	removed bool
}

func (s *spoolFile) Read(p []byte) (int, error) { return s.f.Read(p) }

func (s *spoolFile) Close() error {
	err := s.f.Close()
	if !s.removed {
		os.Remove(s.f.Name())
	}
	return err
}
