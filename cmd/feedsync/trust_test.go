package main

import (
	"strings"
	"testing"
)

// Grants from the command line: a token limited to named collections,
// read-only or read-write, sees only those in GET / and gets 403 on the
// others; a client syncing a file as another endpoint than its token's
// principal has its new items rejected (FS-TRUST-1).
func TestServeGrants(t *testing.T) {
	h := newHarness(t)
	srv := startServe(t, h,
		"--collection", "tasks=memory:", "--collection", "notes=memory:",
		"--token", "t-laptop=laptop", "--token", "t-phone=phone", "--token", "t-peer=peer",
		"--grant", "phone=tasks:ro", "--grant", "laptop=tasks,notes", "--relay", "peer")
	resp, body := httpGet(t, srv.url+"/", "Authorization", "Bearer t-phone")
	if got, want := strings.TrimSpace(string(body)), `{"collections":["tasks"]}`; resp.StatusCode != 200 || got != want {
		t.Errorf("GET / as phone: %d %s, want %s", resp.StatusCode, got, want)
	}
	if resp, body := httpGet(t, srv.url+"/notes", "Authorization", "Bearer t-phone"); resp.StatusCode != 403 {
		t.Errorf("GET /notes as phone: %d %s, want 403", resp.StatusCode, body)
	}

	h.ok("", "create", "phone.xml", "--by", "phone", "--id", "p", "--set", "title=P")
	h.fails(exitUsage, []string{"403", "phone may not write collection tasks"}, "sync", srv.url+"/tasks", "--feed", "phone.xml", "--by", "phone", "--token", "t-phone")
	h.ok("", "sync", srv.url+"/tasks", "--feed", "phone.xml", "--by", "phone", "--token", "t-phone", "--pull")

	// laptop writes as itself: accepted; as someone else: rejected.
	h.ok("", "create", "laptop.xml", "--by", "laptop", "--id", "a", "--set", "title=A")
	h.ok("", "create", "laptop.xml", "--by", "tablet", "--id", "b", "--set", "title=B")
	r := h.run("", "sync", srv.url+"/tasks", "--feed", "laptop.xml", "--by", "laptop", "--token", "t-laptop")
	if !strings.Contains(r.stderr, "1 new") || !strings.Contains(r.stderr, "1 rejected") || !strings.Contains(r.stderr, `new history entry 1@tablet is not by "laptop"`) {
		t.Errorf("laptop's sync with an item by tablet:\n%s", r.stderr)
	}
	// A relaying peer may bring tablet's item.
	h.write("peer.xml", h.read("laptop.xml"))
	h.ok("", "sync", srv.url+"/tasks", "--feed", "peer.xml", "--by", "peer", "--token", "t-peer")
	h.ok("", "sync", srv.url+"/tasks", "--feed", "phone.xml", "--by", "phone", "--token", "t-phone", "--pull")
	if items := h.items("phone.xml"); items["a"] == nil || items["b"] == nil {
		t.Errorf("phone pulled %d items, want a and b", len(items))
	}
}

func TestServeGrantUsageErrors(t *testing.T) {
	h := newHarness(t)
	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{"--grant", "phone=/"}, "--grant and --relay need --token"},
		{[]string{"--token", "s=phone", "--grant", "laptop=/"}, "no --token names the principal laptop"},
		{[]string{"--token", "s=phone", "--grant", "phone=notes"}, `no collection "/notes" is served`},
		{[]string{"--token", "s=phone", "--grant", "phone=/:rx"}, "the access is ro (read-only) or rw (read-write)"},
		{[]string{"--token", "s=phone", "--relay", "laptop"}, "no --token names this principal"},
		{[]string{"--max-jump", "0"}, "--max-jump must be positive"},
	} {
		h.fails(exitUsage, []string{c.want}, append([]string{"serve", "--store", "memory:"}, c.args...)...)
	}
}
