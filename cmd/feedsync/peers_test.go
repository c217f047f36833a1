package main

import (
	"context"
	"encoding/json"
	"fmt"
	"net"
	"os"
	"os/exec"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/feedsync/go-feedsync/feedsync"
	"github.com/feedsync/go-feedsync/httpfeed"
	"github.com/feedsync/go-feedsync/producer"
	"github.com/feedsync/go-feedsync/store/open"
)

// freeAddrs returns n loopback addresses free now, for servers that must
// know each other's address before they start (and keep it across a
// restart).
func freeAddrs(t *testing.T, n int) []string {
	t.Helper()
	var addrs []string
	for range n {
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		addrs = append(addrs, ln.Addr().String())
		defer ln.Close()
	}
	return addrs
}

// manifestOf reads the manifest of the SQLite store at path.
func manifestOf(path string) (producer.Manifest, error) {
	st, err := open.Open(context.Background(), "sqlite:"+path)
	if err != nil {
		return nil, err
	}
	defer st.Close()
	return producer.StoreManifest(context.Background(), st)
}

// waitConverged waits (at most a minute) until the SQLite stores at paths
// hold the same versions of the same items, at least want of them, and
// returns that manifest.
func waitConverged(t *testing.T, want int, paths ...string) producer.Manifest {
	t.Helper()
	var last []producer.Manifest
	var lastErr error
	for range 600 {
		last, lastErr = last[:0], nil
		for _, p := range paths {
			m, err := manifestOf(p)
			if err != nil {
				lastErr = err
				break
			}
			last = append(last, m)
		}
		if lastErr == nil && len(last[0]) >= want && !slices.ContainsFunc(last[1:], func(m producer.Manifest) bool { return !cmp.Equal(m, last[0]) }) {
			return last[0]
		}
		time.Sleep(100 * time.Millisecond)
	}
	if lastErr != nil {
		t.Fatalf("stores not readable: %v", lastErr)
	}
	for i := 1; i < len(last); i++ {
		t.Errorf("%s and %s differ after a minute (-first +other):\n%s", paths[0], paths[i], cmp.Diff(last[0], last[i]))
	}
	t.Fatalf("the stores did not converge (%d items in the first, want at least %d)", len(last[0]), want)
	return nil
}

// clientEdit makes a change as client at the server url through a feed
// file of the client's own: it creates item id, or updates its title.
// syncArgs go to its syncs (a --token).
func clientEdit(h *harness, url, client, id, title string, syncArgs ...string) {
	h.t.Helper()
	file := client + ".xml"
	h.ok("", append([]string{"sync", url, "--feed", file, "--by", client}, syncArgs...)...)
	op := "create"
	if _, err := os.Stat(h.path(file)); err == nil {
		if _, ok := h.items(file)[id]; ok {
			op = "update"
		}
	}
	h.ok("", op, file, "--by", client, "--id", id, "--set", "title="+title)
	h.ok("", append([]string{"sync", url, "--feed", file, "--by", client}, syncArgs...)...)
}

// Three servers peer in a loop (P1→P2→P3→P1), each with a store of its
// own; edits at each reach all, also after one is stopped, edited around
// and started again; and each shows its peer's state.
func TestServePeersLoop(t *testing.T) {
	h := newHarness(t)
	addrs := freeAddrs(t, 3)
	urls := make([]string, 3)
	for i, a := range addrs {
		urls[i] = "http://" + a + "/"
	}
	dbs := []string{h.path("p1.db"), h.path("p2.db"), h.path("p3.db")}
	start := func(i int) *server {
		return startServe(t, h, "--store", "sqlite:"+dbs[i], "--addr", addrs[i], "--by", fmt.Sprintf("p%d", i+1),
			"--peer", urls[(i+1)%3], "--peer-interval", "2s")
	}
	servers := []*server{start(0), start(1), start(2)}

	for i := range 3 {
		h.now = h.now.Add(time.Minute)
		clientEdit(h, urls[i], fmt.Sprintf("c%d", i+1), fmt.Sprintf("item%d", i+1), "first")
	}
	h.now = h.now.Add(time.Minute)
	clientEdit(h, urls[0], "c1", "shared", "from c1")
	waitConverged(t, 4, dbs...)
	h.now = h.now.Add(time.Minute)
	clientEdit(h, urls[2], "c3", "shared", "from c3")
	waitConverged(t, 4, dbs...)

	// P2 stops; P1 and P3 go on (the loop is a line now), and P2 catches
	// up once it is back, in both directions.
	servers[1].stop(t)
	h.now = h.now.Add(time.Minute)
	clientEdit(h, urls[0], "c1", "while-down-1", "P2 was down")
	clientEdit(h, urls[2], "c3", "while-down-3", "P2 was down")
	waitConverged(t, 6, dbs[0], dbs[2])
	h.ok("", "create", "--store", "sqlite:"+dbs[1], "--by", "p2-admin", "--id", "offline-2", "--set", "title=made while P2 was down")
	servers[1] = start(1)
	got := waitConverged(t, 7, dbs...)
	if len(got) != 7 {
		t.Errorf("%d items after the restart, want 7", len(got))
	}

	// GET / asking for JSON shows the peer; /metrics counts it. P1 may
	// still be backing off after failing to reach P2 (the others brought
	// it P2's change): wait, bounded, for its next sync.
	var status struct {
		Peers []httpfeed.PeerStatus `json:"peers"`
	}
	for i := 0; ; i++ {
		status.Peers = nil // Unmarshal would keep fields the JSON leaves out
		resp, body := httpGet(t, urls[0], "Accept", "application/json")
		if err := json.Unmarshal(body, &status); err != nil || resp.StatusCode != 200 {
			t.Fatalf("GET / as JSON: %d %v\n%s", resp.StatusCode, err, body)
		}
		if len(status.Peers) == 1 && status.Peers[0].LastError == "" || i == 300 {
			break
		}
		time.Sleep(100 * time.Millisecond)
	}
	if len(status.Peers) != 1 || status.Peers[0].URL != urls[1] || status.Peers[0].Syncs == 0 || status.Peers[0].LastSync.IsZero() || status.Peers[0].LastError != "" {
		// (Items sent may be 0: round the loop the other way, P2 may
		// have everything of P1's before P1's own link offers it.)
		t.Errorf("GET / peers = %+v, want P2 with syncs, a last sync and no error", status.Peers)
	}
	if status.Peers[0].Errors == 0 {
		t.Errorf("GET / peers = %+v, want the failures while P2 was down counted", status.Peers)
	}
	_, body := httpGet(t, urls[0]+"metrics")
	for _, want := range []string{`feedsync_peer_up{collection="",peer="` + urls[1] + `"} 1`, "feedsync_peer_items_sent_total{", "feedsync_peer_lag{"} {
		if !strings.Contains(string(body), want) {
			t.Errorf("metrics lack %s:\n%s", want, body)
		}
	}
}

// A server killed (SIGKILL) while a large change crosses the loop loses
// nothing once it is started again: its store holds the last merge it
// committed, and the peers' marks move only after a merge commits.
func TestServePeersKilled(t *testing.T) {
	bin := feedsyncBinary(t)
	h := newHarness(t)
	addrs := freeAddrs(t, 3)
	urls := make([]string, 3)
	for i, a := range addrs {
		urls[i] = "http://" + a + "/"
	}
	dbs := []string{h.path("p1.db"), h.path("p2.db"), h.path("p3.db")}
	procs := make([]*exec.Cmd, 3)
	start := func(i int) {
		cmd := exec.Command(bin, "serve", "--store", "sqlite:"+dbs[i], "--addr", addrs[i], "--by", fmt.Sprintf("p%d", i+1),
			"--peer", urls[(i+1)%3], "--peer-interval", "2s")
		cmd.Env = append(os.Environ(), "XDG_CONFIG_HOME="+h.path("config"))
		logs, err := os.Create(h.path(fmt.Sprintf("p%d.log", i+1)))
		if err != nil {
			t.Fatal(err)
		}
		defer logs.Close()
		cmd.Stderr = logs
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		procs[i] = cmd
		for range 300 {
			if c, err := net.Dial("tcp", addrs[i]); err == nil {
				c.Close()
				return
			}
			time.Sleep(50 * time.Millisecond)
		}
		t.Fatalf("p%d did not start", i+1)
	}
	t.Cleanup(func() {
		for _, p := range procs {
			if p != nil && p.ProcessState == nil {
				p.Process.Kill()
				p.Wait()
			}
		}
	})
	for i := range 3 {
		start(i)
	}

	// A feed of many items lands at P1, and P2 is killed while it flows
	// round the loop.
	const n = 3000
	items := make([]*feedsync.Item, n)
	for i := range items {
		it, err := feedsync.Create(feedsync.RSS, nil, fmt.Sprintf("big-%d", i), feedsync.Stamp{By: "loader", When: h.now}, false)
		if err != nil {
			t.Fatal(err)
		}
		items[i] = it
	}
	f, err := os.Create(h.path("big.xml"))
	if err != nil {
		t.Fatal(err)
	}
	if err := feedsync.WriteAll(f, feedsync.NewHeader(feedsync.RSS, feedsync.FeedInfo{Title: "big"}), items); err != nil {
		t.Fatal(err)
	}
	f.Close()
	h.ok("", "sync", urls[0], "--feed", "big.xml", "--by", "loader", "--push")
	time.Sleep(50 * time.Millisecond)
	procs[1].Process.Kill()
	procs[1].Wait()

	clientEdit(h, urls[2], "c3", "after-kill", "while P2 was dead")
	start(1)
	waitConverged(t, n+1, dbs...)
}

// With --collection, each --peer names the collection it syncs: A's
// tasks peer with B's todo both ways, under other names; A's notes have
// no peer and stay on A. GET / lists the peers beside the collections.
func TestServePeersCollections(t *testing.T) {
	h := newHarness(t)
	addrs := freeAddrs(t, 2)
	a, b := "http://"+addrs[0], "http://"+addrs[1]
	startServe(t, h, "--addr", addrs[0], "--by", "a", "--peer-interval", "2s",
		"--collection", "tasks=sqlite:"+h.path("a-tasks.db"), "--collection", "notes=sqlite:"+h.path("a-notes.db"),
		"--peer", "tasks="+b+"/todo")
	startServe(t, h, "--addr", addrs[1], "--by", "b", "--peer-interval", "2s",
		"--collection", "todo=sqlite:"+h.path("b-todo.db"), "--collection", "notes=sqlite:"+h.path("b-notes.db"),
		"--peer", "todo="+a+"/tasks")

	clientEdit(h, a+"/notes", "n1", "note", "only on A")
	clientEdit(h, a+"/tasks", "c1", "task-a", "made at A")
	clientEdit(h, b+"/todo", "c2", "task-b", "made at B")
	got := waitConverged(t, 2, h.path("a-tasks.db"), h.path("b-todo.db"))
	if len(got) != 2 {
		t.Errorf("tasks and todo hold %d items, want 2", len(got))
	}
	if m, err := manifestOf(h.path("b-notes.db")); err != nil || len(m) != 0 {
		t.Errorf("B's notes hold %v (%v), want nothing: A's notes have no peer", m, err)
	}

	var status struct {
		Collections []string              `json:"collections"`
		Peers       []httpfeed.PeerStatus `json:"peers"`
	}
	resp, body := httpGet(t, a+"/")
	if err := json.Unmarshal(body, &status); err != nil || resp.StatusCode != 200 {
		t.Fatalf("GET /: %d %v\n%s", resp.StatusCode, err, body)
	}
	if len(status.Peers) != 1 || status.Peers[0].Collection != "tasks" || status.Peers[0].URL != b+"/todo" || len(status.Collections) != 2 {
		t.Errorf("GET / = %s, want both collections and the peer of tasks", body)
	}
	_, body = httpGet(t, a+"/metrics")
	if want := `feedsync_peer_syncs_total{collection="tasks",peer="` + b + `/todo"}`; !strings.Contains(string(body), want) {
		t.Errorf("metrics lack %s:\n%s", want, body)
	}
}

func TestServePeersUsageErrors(t *testing.T) {
	h := newHarness(t)
	cols := []string{"--collection", "tasks=memory:", "--collection", "notes=memory:"}
	for _, c := range []struct {
		args []string
		want string
	}{
		{append(cols, "--peer", "http://127.0.0.1:1/tasks"), "name the collection it syncs"},
		{append(cols, "--peer", "todo=http://127.0.0.1:1/tasks"), `no collection "/todo" is served`},
		{append(cols, "--peer", "tasks=ftp://127.0.0.1:1/tasks"), "want an http:// or https:// collection URL"},
		{append(cols, "--peer", "tasks=http://127.0.0.1:1/x", "--peer", "tasks=http://127.0.0.1:1/x"), "is given twice"},
		{[]string{"--store", "memory:", "--peer", "tasks=http://127.0.0.1:1/"}, `no collection "/tasks" is served`},
		{[]string{"--store", "memory:", "--peer", "127.0.0.1:1"}, "want [COLLECTION=]URL[=TOKEN]"},
		{[]string{"--store", "memory:", "--peer", "http://127.0.0.1:1/", "--peer-interval", "0s"}, "--peer-interval must be positive"},
	} {
		h.fails(exitUsage, []string{c.want}, append([]string{"serve", "--by", "a"}, c.args...)...)
	}
	// The same peer URL may serve two local collections, and "/" names
	// the store served alone.
	if _, err := parsePeers([]string{"a=http://h/x", "b=http://h/x", "/=http://h/y=tok"}); err != nil {
		t.Errorf("parsePeers: %v", err)
	}
}

// Three servers that demand tokens peer in a loop, each with the token
// its next server gives it, which lets it relay (FS-TRUST-1, --relay):
// their clients' edits reach every server with the clients' names in
// the history, not the servers' that forwarded them; and a client that
// is no relay still cannot send an edit in another's name, nor have it
// forwarded round the loop.
func TestServePeersTrust(t *testing.T) {
	h := newHarness(t)
	addrs := freeAddrs(t, 3)
	urls := make([]string, 3)
	for i, a := range addrs {
		urls[i] = "http://" + a + "/"
	}
	dbs := []string{h.path("p1.db"), h.path("p2.db"), h.path("p3.db")}
	for i := range 3 {
		prev, next := (i+2)%3, (i+1)%3
		// Pi accepts its client ci and the peer before it, which relays;
		// it syncs with the next one with the token that one gave it.
		startServe(t, h, "--store", "sqlite:"+dbs[i], "--addr", addrs[i], "--by", fmt.Sprintf("p%d", i+1),
			"--token", fmt.Sprintf("c%d-secret=c%d", i+1, i+1),
			"--token", fmt.Sprintf("p%d-at-p%d=p%d", prev+1, i+1, prev+1), "--relay", fmt.Sprintf("p%d", prev+1),
			"--peer", fmt.Sprintf("%s=p%d-at-p%d", urls[next], i+1, next+1), "--peer-interval", "2s")
	}
	token := func(i int) []string { return []string{"--token", fmt.Sprintf("c%d-secret", i+1)} }
	for i := range 3 {
		h.now = h.now.Add(time.Minute)
		clientEdit(h, urls[i], fmt.Sprintf("c%d", i+1), fmt.Sprintf("item%d", i+1), "first", token(i)...)
	}
	waitConverged(t, 3, dbs...)
	h.now = h.now.Add(time.Minute)
	clientEdit(h, urls[1], "c2", "item1", "c2 edits c1's item", token(1)...)
	waitConverged(t, 3, dbs...)

	// No server rejected what its peer forwarded: each relays.
	for i := range 3 {
		var status struct {
			Peers []httpfeed.PeerStatus `json:"peers"`
		}
		resp, body := httpGet(t, urls[i], "Accept", "application/json", "Authorization", fmt.Sprintf("Bearer c%d-secret", i+1))
		if err := json.Unmarshal(body, &status); err != nil || resp.StatusCode != 200 || len(status.Peers) != 1 {
			t.Fatalf("GET / of P%d as JSON: %d %v\n%s", i+1, resp.StatusCode, err, body)
		}
		if p := status.Peers[0]; p.ItemsRejected != 0 {
			t.Errorf("P%d's peer rejected %d items: %s", i+1, p.ItemsRejected, p.LastRejection)
		}
	}

	// Each entry names the client that made it, at every server.
	for i := range 3 {
		file := fmt.Sprintf("reader%d.xml", i+1)
		h.ok("", append([]string{"sync", urls[i], "--feed", file, "--by", fmt.Sprintf("c%d", i+1), "--pull"}, token(i)...)...)
		items := h.items(file)
		for id, want := range map[string][]string{"item1": {"2@c2", "1@c1"}, "item2": {"1@c2"}, "item3": {"1@c3"}} {
			var got []string
			if it := items[id]; it != nil {
				for _, e := range it.Sync.History {
					got = append(got, e.String())
				}
			}
			if !slices.Equal(got, want) {
				t.Errorf("P%d: history of %s = %v, want %v", i+1, id, got, want)
			}
		}
	}

	// c3 is no relay: an entry by c1 that it sends is rejected, alone.
	h.now = h.now.Add(time.Minute)
	h.ok("", "update", "c3.xml", "--by", "c1", "--id", "item3", "--set", "title=forged")
	h.ok("", "create", "c3.xml", "--by", "c3", "--id", "honest", "--set", "title=by c3")
	r := h.run("", append([]string{"sync", urls[2], "--feed", "c3.xml", "--by", "c3"}, token(2)...)...)
	if !strings.Contains(r.stderr, "1 rejected") || !strings.Contains(r.stderr, `new history entry 2@c1 is not by "c3"`) {
		t.Errorf("c3's sync of an entry by c1:\n%s%s", r.stdout, r.stderr)
	}
	got := waitConverged(t, 4, dbs...)
	if !slices.ContainsFunc(got, func(e producer.Entry) bool { return e.ID == "honest" }) || len(got) != 4 {
		t.Errorf("the servers hold %v, want c3's honest item beside the three", got)
	}
	for i := range 3 {
		file := fmt.Sprintf("reader%d.xml", i+1)
		h.ok("", append([]string{"sync", urls[i], "--feed", file, "--by", fmt.Sprintf("c%d", i+1), "--pull"}, token(i)...)...)
		if it := h.items(file)["item3"]; it == nil || it.Sync.Updates != 1 || it.Sync.Top().By != "c3" {
			t.Errorf("P%d: item3 = %+v, want c3's first version: the forged update must not spread", i+1, it.Sync)
		}
	}
}
