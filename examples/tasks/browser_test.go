package main

import (
	"context"
	"encoding/json"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
)

// chromium returns the path of a Chromium (or Chrome) binary, or skips the
// test saying how to install one.
func chromium(t *testing.T) string {
	t.Helper()
	for _, name := range []string{"chromium", "chromium-browser", "google-chrome", "google-chrome-stable"} {
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
	}
	t.Skip("the browser test needs Chromium: install it (Debian: apt-get install chromium) and run again")
	return ""
}

// feedsyncCLI builds the feedsync command into dir and returns a function
// that runs it there, failing the test on a non-zero exit.
func feedsyncCLI(t *testing.T, dir string) func(args ...string) string {
	t.Helper()
	bin := filepath.Join(dir, "feedsync")
	if out, err := exec.Command("go", "build", "-o", bin, "github.com/feedsync/go-feedsync/cmd/feedsync").CombinedOutput(); err != nil {
		t.Fatalf("build feedsync: %v\n%s", err, out)
	}
	return func(args ...string) string {
		t.Helper()
		cmd := exec.Command(bin, args...)
		cmd.Dir = dir
		cmd.Env = append(os.Environ(), "XDG_CONFIG_HOME="+filepath.Join(dir, "config"))
		out, err := cmd.CombinedOutput()
		if err != nil {
			t.Fatalf("feedsync %s: %v\n%s", strings.Join(args, " "), err, out)
		}
		return string(out)
	}
}

// TestBrowserConflict drives the task list in headless Chromium through a
// conflict: a task is created in the page (FS-CREATE), a second endpoint
// (phone, a feed file kept by the feedsync command) syncs it and changes
// its title while the page changes it too (FS-UPDATE), phone syncs again
// and the page shows both versions side by side with the difference
// highlighted (FS-CONFLICT-1); a click keeps phone's version (FS-RESOLVE),
// and after the next sync phone holds the resolution without conflicts
// (FS-RESOLVE-6).
func TestBrowserConflict(t *testing.T) {
	browser := chromium(t)
	dir := t.TempDir()
	cli := feedsyncCLI(t, dir)

	ctx := context.Background()
	app, err := Open(ctx, filepath.Join(dir, "tasks.db"), "laptop")
	if err != nil {
		t.Fatal(err)
	}
	defer app.Close()
	srv := httptest.NewServer(app)
	defer srv.Close()

	opts := []chromedp.ExecAllocatorOption{
		chromedp.ExecPath(browser),
		chromedp.Headless,
		chromedp.NoSandbox,
		chromedp.DisableGPU,
		chromedp.NoFirstRun,
		chromedp.NoDefaultBrowserCheck,
		// Without these Chromium reaches for the network at start and,
		// on a machine without one, stalls.
		chromedp.Flag("disable-quic", true),
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.UserDataDir(filepath.Join(dir, "chromium")),
		chromedp.WindowSize(1000, 700),
	}
	actx, cancelAlloc := chromedp.NewExecAllocator(ctx, opts...)
	defer cancelAlloc()
	bctx, cancelBrowser := chromedp.NewContext(actx)
	defer cancelBrowser()
	bctx, cancel := context.WithTimeout(bctx, 2*time.Minute)
	defer cancel()
	run := func(what string, steps ...chromedp.Action[chromedp.Void]) {
		t.Helper()
		if err := chromedp.Do(bctx, steps...); err != nil {
			t.Fatalf("%s: %v", what, err)
		}
	}

	// Create a task in the page.
	run("create a task",
		chromedp.Navigate(srv.URL+"/"),
		chromedp.SendKeys("#new-title", "Buy stamps"),
		chromedp.Click("#add"),
		chromedp.WaitVisible(`tr[id^="task-"]`),
	)
	row, err := chromedp.Run(bctx, chromedp.AttributeValue(`tr[id^="task-"]`, "id"))
	if err != nil || !row.Exists {
		t.Fatalf("read the task's id: %v", err)
	}
	key := strings.TrimPrefix(row.Value, "task-")

	// phone syncs the task, and both change it before syncing again.
	feed := srv.URL + "/feed"
	cli("sync", feed, "--feed", "phone.xml", "--by", "phone")
	cli("update", "phone.xml", "--id", key, "--by", "phone", "--set", "title=Buy 20 stamps")
	run("edit the task in the page",
		chromedp.Navigate(srv.URL+"/tasks/"+key),
		chromedp.SetValue("#title", "Buy 10 stamps"),
		chromedp.Click("#save"),
		chromedp.WaitVisible(`tr[id^="task-"]`),
	)
	out := cli("sync", feed, "--feed", "phone.xml", "--by", "phone")
	if !strings.Contains(out, "conflict") {
		t.Logf("second sync of phone:\n%s", out)
	}

	// The page shows the conflict, versions side by side.
	run("see the conflict", chromedp.Navigate(srv.URL+"/"))
	banner, err := chromedp.Run(bctx, chromedp.Text("#conflict-banner"))
	if err != nil || !strings.Contains(banner, "1 task(s)") {
		t.Errorf("banner = %q, %v", banner, err)
	}
	run("open the conflicts page",
		chromedp.Click(`#conflict-banner a`),
		chromedp.WaitVisible("#conflict-"+key),
	)
	versions, err := chromedp.Run(bctx, chromedp.Evaluate[[]string](`Array.from(document.querySelectorAll("#conflict-`+key+` td.differs")).map(e => e.textContent)`))
	if err != nil {
		t.Fatal(err)
	}
	if got := strings.Join(versions, ","); got != "Buy 20 stamps,Buy 10 stamps" && got != "Buy 10 stamps,Buy 20 stamps" {
		t.Errorf("highlighted cells = %q, want the two titles", versions)
	}
	if path := os.Getenv("TASKS_SCREENSHOT"); path != "" {
		png, err := chromedp.Run(bctx, chromedp.FullScreenshot(100))
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, png, 0o644); err != nil {
			t.Fatal(err)
		}
	}

	// Keep phone's version by clicking its button.
	run("keep phone's version",
		chromedp.Click(`button.keep[data-by="phone"]`),
		chromedp.WaitVisible("#no-conflicts"),
	)
	var title string
	if err := app.db.QueryRow(`SELECT title FROM tasks WHERE id = ?`, key).Scan(&title); err != nil || title != "Buy 20 stamps" {
		t.Errorf("row after the resolution: %q, %v", title, err)
	}

	// phone gets the resolution with its next sync.
	cli("sync", feed, "--feed", "phone.xml", "--by", "phone")
	var items []struct {
		ID        string `json:"id"`
		Title     string `json:"title"`
		Conflicts int    `json:"conflicts"`
		History   []struct {
			By string `json:"by"`
		} `json:"history"`
	}
	if err := json.Unmarshal([]byte(cli("show", "phone.xml", "--json")), &items); err != nil {
		t.Fatal(err)
	}
	if len(items) != 1 || items[0].ID != key || items[0].Title != "Buy 20 stamps" || items[0].Conflicts != 0 ||
		len(items[0].History) == 0 || items[0].History[0].By != "laptop" {
		t.Errorf("phone holds %+v, want the resolution by laptop: Buy 20 stamps without conflicts", items)
	}
}
