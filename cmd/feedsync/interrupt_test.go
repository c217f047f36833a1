package main

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/feedsync/go-feedsync/internal/feedtest"
)

var (
	binaryOnce sync.Once
	binaryPath string
	binaryErr  error
	binaryDir  string
)

// TestMain says on the terminal when the PostgreSQL tests are skipped, and
// removes the command built by feedsyncBinary.
func TestMain(m *testing.M) {
	feedtest.NotePostgres("cmd/feedsync")
	code := m.Run()
	if binaryDir != "" {
		os.RemoveAll(binaryDir)
	}
	os.Exit(code)
}

// feedsyncBinary builds the command once, for tests that run it as a
// process (signals, terminals).
func feedsyncBinary(t *testing.T) string {
	t.Helper()
	if runtime.GOOS == "windows" {
		t.Skip("signals are a Unix matter")
	}
	binaryOnce.Do(func() {
		goTool, err := exec.LookPath("go")
		if err != nil {
			binaryErr = err
			return
		}
		if binaryDir, err = os.MkdirTemp("", "feedsync-bin-"); err != nil {
			binaryErr = err
			return
		}
		binaryPath = filepath.Join(binaryDir, "feedsync")
		out, err := exec.Command(goTool, "build", "-o", binaryPath, ".").CombinedOutput()
		if err != nil {
			binaryErr = fmt.Errorf("go build: %v\n%s", err, out)
		}
	})
	if binaryErr != nil {
		t.Skip("cannot build the command:", binaryErr)
	}
	return binaryPath
}

// endlessFeed writes an RSS feed of synchronized items to w until w fails
// (the reader went away) or max items were written, and returns how many
// bytes it wrote; written is closed after the first minBytes.
func endlessFeed(w io.Writer, max, minBytes int, written chan<- struct{}) {
	endless(w, max, minBytes, written,
		`<rss version="2.0" xmlns:sx="http://feedsync.org/2007/feedsync"><channel><title>t</title>`+"\n",
		`<item><title>item %d</title><sx:sync id="i%d" updates="1"><sx:history sequence="1" when="2009-04-01T09:00:00Z" by="laptop"/></sx:sync></item>`+"\n",
		"</channel></rss>\n")
}

// endlessData is endlessFeed for JSON Lines data.
func endlessData(w io.Writer, max, minBytes int, written chan<- struct{}) {
	endless(w, max, minBytes, written, "", `{"title":"item %d","id":"i%d"}`+"\n", "")
}

// endless writes head, then line formatted with i twice for each i below
// max, then tail, until w fails; written is closed after minBytes.
func endless(w io.Writer, max, minBytes int, written chan<- struct{}, head, line, tail string) {
	bw := bufio.NewWriter(w)
	n := 0
	count := func(s string) bool {
		k, err := bw.WriteString(s)
		n += k
		if n >= minBytes && written != nil {
			close(written)
			written = nil
		}
		return err == nil
	}
	if !count(head) {
		return
	}
	for i := range max {
		if !count(fmt.Sprintf(line, i, i)) {
			return
		}
	}
	count(tail)
	bw.Flush()
}

// TestInterrupt runs commands as processes and stops them mid-work with
// SIGINT and with SIGTERM: each says "interrupted", exits 130, and leaves
// no temporary file, no half-written output and no half-merged store.
func TestInterrupt(t *testing.T) {
	bin := feedsyncBinary(t)
	tests := []struct {
		name string
		args []string
		data bool // JSON Lines on standard input, not a feed
	}{
		{"merge", []string{"merge", "local.xml", "-", "-o", "out.xml"}, false},
		{"merge --store", []string{"merge", "--store", "sqlite:s.db", "-"}, false},
		{"validate", []string{"validate", "-"}, false},
		{"export", []string{"export", "-", "--format", "atom", "-o", "out.xml"}, false},
		{"verify", []string{"verify", "local.xml", "-"}, false},
		{"produce", []string{"produce", "-", "--by", "laptop", "-o", "out.xml"}, true},
	}
	for _, sig := range []syscall.Signal{syscall.SIGINT, syscall.SIGTERM} {
		for _, tc := range tests {
			t.Run(sig.String()+"/"+tc.name, func(t *testing.T) {
				dir := t.TempDir()
				local := `<rss version="2.0"><channel><title>local</title></channel></rss>`
				if err := os.WriteFile(filepath.Join(dir, "local.xml"), []byte(local), 0o644); err != nil {
					t.Fatal(err)
				}
				cmd := exec.Command(bin, tc.args...)
				cmd.Dir = dir
				cmd.Env = append(os.Environ(), "FEEDSYNC_BY=laptop", "HOME="+dir, "XDG_CONFIG_HOME="+dir)
				var stderr bytes.Buffer
				cmd.Stderr = &stderr
				stdin, err := cmd.StdinPipe()
				if err != nil {
					t.Fatal(err)
				}
				if err := cmd.Start(); err != nil {
					t.Fatal(err)
				}
				// The feed never ends before the signal: once 512 kB went
				// through the pipe (whose buffer is far smaller), the
				// command is busy reading and merging it.
				written := make(chan struct{})
				feedDone := make(chan struct{})
				go func() {
					defer close(feedDone)
					if tc.data {
						endlessData(stdin, 20_000_000, 512<<10, written)
					} else {
						endlessFeed(stdin, 20_000_000, 512<<10, written)
					}
					stdin.Close()
				}()
				select {
				case <-written:
				case <-time.After(60 * time.Second):
					cmd.Process.Kill()
					t.Fatalf("the command read nothing in 60s; stderr:\n%s", stderr.String())
				}
				if err := cmd.Process.Signal(sig); err != nil {
					t.Fatal(err)
				}
				waited := make(chan error, 1)
				go func() { waited <- cmd.Wait() }()
				select {
				case err = <-waited:
				case <-time.After(60 * time.Second):
					cmd.Process.Kill()
					t.Fatalf("still running 60s after %v; stderr:\n%s", sig, stderr.String())
				}
				<-feedDone
				var ee *exec.ExitError
				if !errors.As(err, &ee) || ee.ExitCode() != exitInterrupted {
					t.Errorf("after %v: %v, want exit status %d; stderr:\n%s", sig, err, exitInterrupted, stderr.String())
				}
				if want := "feedsync " + tc.args[0] + ": interrupted\n"; !strings.HasSuffix(stderr.String(), want) {
					t.Errorf("stderr does not end with %q:\n%s", want, stderr.String())
				}
				if strings.Contains(stderr.String(), "context canceled") {
					t.Errorf("stderr says context canceled:\n%s", stderr.String())
				}
				var left []string
				for _, n := range dirNames(t, dir) {
					if n != "local.xml" && n != "s.db" && n != "feedsync" {
						left = append(left, n)
					}
				}
				if len(left) > 0 {
					t.Errorf("files left behind: %v", left)
				}
				if slices.Contains(dirNames(t, dir), "s.db") {
					// The merge was rolled back: the store holds no item.
					var out bytes.Buffer
					v := exec.Command(bin, "produce", "--store", "sqlite:s.db")
					v.Dir, v.Stdout = dir, &out
					v.Run()
					if strings.Contains(out.String(), "<item>") {
						t.Errorf("the interrupted merge left items in the store:\n%.500s", out.String())
					}
				}
			})
		}
	}
}

// TestInterruptSyncWatch stops sync --watch with SIGTERM, as a service
// manager does: that is how --watch normally ends, so it exits 0, and it
// leaves no temporary file.
func TestInterruptSyncWatch(t *testing.T) {
	bin := feedsyncBinary(t)
	srv, _ := newFeedServer(t)
	dir := t.TempDir()
	cmd := exec.Command(bin, "sync", srv.URL, "--feed", "laptop.xml", "--by", "laptop", "--watch", "--interval", "50ms")
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), "HOME="+dir, "XDG_CONFIG_HOME="+dir)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	// The first round writes the sync state next to the feed.
	deadline := time.Now().Add(60 * time.Second)
	for {
		if _, err := os.Stat(filepath.Join(dir, "laptop.xml.sync.json")); err == nil {
			break
		}
		if time.Now().After(deadline) {
			cmd.Process.Kill()
			cmd.Wait()
			t.Fatalf("no round in 60s; stderr:\n%s", stderr.String())
		}
		time.Sleep(20 * time.Millisecond)
	}
	time.Sleep(100 * time.Millisecond) // some rounds more
	if err := cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	waited := make(chan error, 1)
	go func() { waited <- cmd.Wait() }()
	select {
	case err := <-waited:
		if err != nil {
			t.Errorf("sync --watch after SIGTERM: %v, want exit 0; stderr:\n%s", err, stderr.String())
		}
	case <-time.After(60 * time.Second):
		cmd.Process.Kill()
		t.Fatalf("still running 60s after SIGTERM; stderr:\n%s", stderr.String())
	}
	for _, n := range dirNames(t, dir) {
		if strings.Contains(n, ".tmp-") {
			t.Errorf("temporary file left behind: %s", n)
		}
	}
}
