package httpfeed

import (
	"bytes"
	"io"
	"os"
	"strings"
	"testing"
)

// A body larger than what is kept in memory goes to a temporary file
// that no one sees in the directory, and gives its bytes back exactly.
func TestSpoolToFile(t *testing.T) {
	dir := t.TempDir()
	t.Setenv("TMPDIR", dir)
	want := strings.Repeat("feedsync ", 1000)
	for _, mem := range []int64{16, int64(len(want)), 1 << 20} {
		sp, err := spool(strings.NewReader(want), mem)
		if err != nil {
			t.Fatal(err)
		}
		if es, _ := os.ReadDir(dir); len(es) != 0 {
			t.Errorf("mem %d: files in the temporary directory while spooling: %v", mem, es)
		}
		var got bytes.Buffer
		if _, err := io.Copy(&got, sp); err != nil {
			t.Fatal(err)
		}
		if err := sp.Close(); err != nil {
			t.Fatal(err)
		}
		if got.String() != want {
			t.Errorf("mem %d: spooled %d bytes back, want %d", mem, got.Len(), len(want))
		}
	}
}
