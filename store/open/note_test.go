package open

import (
	"os"
	"testing"

	"github.com/feedsync/go-feedsync/internal/feedtest"
)

// TestMain says on the terminal when the PostgreSQL tests are skipped.
func TestMain(m *testing.M) {
	feedtest.NotePostgres("store/open")
	os.Exit(m.Run())
}
