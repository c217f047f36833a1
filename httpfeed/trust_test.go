package httpfeed_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"

	"github.com/feedsync/go-feedsync/feedsync"
	"github.com/feedsync/go-feedsync/httpfeed"
)

// withHistory returns a copy of it whose updates and history are set by
// hand, as a hostile client can write them.
func withHistory(it *feedsync.Item, updates int64, h ...feedsync.History) *feedsync.Item {
	s := it.Sync.Clone()
	s.Updates = updates
	s.History = h
	c := *it
	c.Sync = s
	return &c
}

// FS-TRUST-1 (issue: alice POSTed item t with updates="50" and an entry
// by="bob"; accepted, bob's next genuine edit was silently subsumed, and
// updates="2147483647" froze the item): over HTTP with bearer tokens, on
// SQLite and PostgreSQL, the forged versions are rejected for the item
// with 403 in the summary, and bob's and alice's genuine edits go through.
func TestClientCannotRewriteAnothersHistory(t *testing.T) {
	tokens := map[string]string{"alice-secret": "alice", "bob-secret": "bob", "peer-secret": "peer"}
	for name, open := range durableStores() {
		t.Run(name, func(t *testing.T) {
			st := open(t)
			base := create("t", "bob", 1)
			put(t, st, base)
			h := &httpfeed.Handler{Store: st, Grants: httpfeed.Grants{"peer": {Relay: true}}, MaxJump: 100}
			srv := newServer(t, httpfeed.BearerAuth(tokens, h))
			post := func(token string, items ...*feedsync.Item) wireSummary {
				t.Helper()
				code, s := postJSON(t, testClient, srv.URL, feedOf(t, items...), "Authorization", "Bearer "+token)
				if code != 200 {
					t.Fatalf("POST: %d", code)
				}
				return s
			}
			forbidden := func(s wireSummary, want string) {
				t.Helper()
				if s.Rejected != 1 || len(s.Rejections) != 1 || s.Rejections[0].Status != http.StatusForbidden || !strings.Contains(s.Rejections[0].Error, want) {
					t.Errorf("summary %+v, want t rejected with 403: %q", s, want)
				}
			}

			forged := withHistory(update(base, "alice", 2), 50,
				feedsync.History{Sequence: 50, By: "bob", When: day}, feedsync.History{Sequence: 1, By: "bob", When: day})
			forbidden(post("alice-secret", forged), `new history entry 50@bob is not by "alice"`)
			// A Client reads the same rejection as a *feedsync.ItemError
			// for t whose error is feedsync.ErrUntrusted.
			c := &httpfeed.Client{URL: srv.URL, HTTP: testClient, Token: "alice-secret"}
			resp, err := c.Post(context.Background(), bytes.NewReader(feedOf(t, forged)), "", false)
			if err != nil {
				t.Fatal(err)
			}
			var ie *feedsync.ItemError
			if resp.Summary == nil || resp.Summary.Rejected != 1 || len(resp.Summary.Rejections) != 1 ||
				!errors.As(resp.Summary.Rejections[0], &ie) || ie.ID != "t" || !errors.Is(ie, feedsync.ErrUntrusted) || errors.Is(ie, feedsync.ErrLimit) {
				t.Errorf("Client.Post summary %+v, want t rejected as feedsync.ErrUntrusted", resp.Summary)
			}
			frozen := withHistory(update(base, "alice", 2), 2147483647,
				feedsync.History{Sequence: 2147483647, By: "alice", When: day}, feedsync.History{Sequence: 1, By: "bob", When: day})
			forbidden(post("alice-secret", frozen), "updates 2147483647 runs 2147483646 past this endpoint's 1, more than the bound of 100")
			// A forged entry hidden in a conflict copy is new history too.
			copied := update(base, "alice", 3)
			s := copied.Sync.Clone()
			s.Conflicts = []*feedsync.Item{withHistory(base, 7, feedsync.History{Sequence: 7, By: "carol", When: day})}
			copied.Sync = s
			forbidden(post("alice-secret", copied), `new history entry 7@carol is not by "alice"`)
			if got := get(t, st, "t"); got.Sync.Updates != 1 || len(got.Sync.Conflicts) != 0 {
				t.Fatalf("t changed by rejected POSTs: %+v", got.Sync)
			}

			// bob's genuine edit is not subsumed by anything forged.
			if s := post("bob-secret", update(base, "bob", 4)); s.Updated != 1 {
				t.Errorf("bob's edit: %+v, want updated", s)
			}
			// alice's genuine edit, passing bob's entries on, is accepted.
			if s := post("alice-secret", update(get(t, st, "t"), "alice", 5)); s.Updated != 1 {
				t.Errorf("alice's edit: %+v, want updated", s)
			}
			// A peer server may relay other endpoints' edits.
			if s := post("peer-secret", update(get(t, st, "t"), "dave", 6)); s.Updated != 1 {
				t.Errorf("relayed edit: %+v, want updated", s)
			}
			if got := title(t, get(t, st, "t")); got != "t by dave at 6" {
				t.Errorf("t = %q", got)
			}
		})
	}
}

// FS-TRUST-1: the rule itself, free of HTTP.
func TestTrustCheck(t *testing.T) {
	base := create("t", "bob", 1)
	tr := feedsync.Trust{Principal: "alice", MaxJump: 10}
	cases := []struct {
		name     string
		local    *feedsync.Item
		incoming *feedsync.Item
		ok       bool
	}{
		{"new item by the sender", nil, create("n", "alice", 1), true},
		{"new item by another", nil, create("n", "bob", 1), false},
		{"new item with updates past the bound", nil, withHistory(create("n", "alice", 1), 11, feedsync.History{Sequence: 11, By: "alice", When: day}), false},
		{"edit passing history on", base, update(base, "alice", 2), true},
		{"same version sent back", base, base, true},
		{"older version of another", update(base, "bob", 2), base, true},
		{"forged entry", base, withHistory(base, 2, feedsync.History{Sequence: 2, By: "bob", When: day}), false},
		{"anonymous new entry", base, withHistory(base, 2, feedsync.History{Sequence: 2, When: day}, feedsync.History{Sequence: 1, By: "bob", When: day}), false},
		{"sparse-purged jump within the bound", base, withHistory(base, 9, feedsync.History{Sequence: 9, By: "alice", When: day}, feedsync.History{Sequence: 1, By: "bob", When: day}), true},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			err := tr.Check(c.local, c.incoming)
			if c.ok != (err == nil) {
				t.Errorf("Check = %v, want ok %v", err, c.ok)
			}
			if err != nil && !strings.Contains(err.Error(), "FS-TRUST-1") {
				t.Errorf("error %v does not cite FS-TRUST-1", err)
			}
		})
	}
}

// Grants: a token limited to named collections, read-only or read-write,
// sees only those in GET / and gets 403 elsewhere.
func TestGrants(t *testing.T) {
	grants := httpfeed.Grants{
		"alice": {Collections: map[string]httpfeed.Access{"tasks": httpfeed.ReadWrite}},
		"bob":   {Collections: map[string]httpfeed.Access{"tasks": httpfeed.ReadOnly, "notes": httpfeed.ReadWrite}},
	}
	cols := map[string]http.Handler{}
	for _, n := range []string{"tasks", "notes", "secret"} {
		cols[n] = &httpfeed.Handler{Store: newMemory(t), Name: n, Grants: grants}
	}
	tokens := map[string]string{"a": "alice", "b": "bob", "c": "carol"}
	peers := []*httpfeed.Peer{
		{Client: &httpfeed.Client{URL: "http://p2/tasks"}, Collection: "tasks"},
		{Client: &httpfeed.Client{URL: "http://p2/secret"}, Collection: "secret"},
	}
	srv := newServer(t, httpfeed.BearerAuth(tokens, &httpfeed.Router{Collections: cols, Grants: grants, Peers: peers}))
	do := func(token, method, path string) (int, []byte) {
		t.Helper()
		var body io.Reader
		if method == "POST" {
			body = strings.NewReader(string(feedOf(t, create("x", "bob", 1))))
		}
		req := httptest.NewRequest(method, srv.URL+path, body)
		req.RequestURI = ""
		req.Header.Set("Authorization", "Bearer "+token)
		resp, err := testClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, b
	}
	for token, want := range map[string][]string{"a": {"tasks"}, "b": {"notes", "tasks"}, "c": {"notes", "secret", "tasks"}} {
		code, b := do(token, "GET", "/")
		var list struct {
			Collections []string
			Peers       []httpfeed.PeerStatus
		}
		if err := json.Unmarshal(b, &list); err != nil || code != 200 || !slices.Equal(list.Collections, want) {
			t.Errorf("GET / as %s: %d %s, want %v", tokens[token], code, b, want)
		}
		// The peers shown are those of the collections shown.
		var of []string
		for _, p := range list.Peers {
			of = append(of, p.Collection)
		}
		slices.Sort(of)
		if wantPeers := slices.DeleteFunc(slices.Clone(want), func(n string) bool { return n == "notes" }); !slices.Equal(of, wantPeers) {
			t.Errorf("GET / as %s: peers of %v, want %v", tokens[token], of, wantPeers)
		}
	}
	// An unknown path lists what is served, without what is hidden.
	if code, b := do("a", "GET", "/nope"); code != 404 || !strings.Contains(string(b), `"collections":["/tasks"]`) {
		t.Errorf("GET /nope as alice: %d %s, want 404 listing /tasks only", code, b)
	}
	for _, c := range []struct {
		token, method, path string
		code                int
	}{
		{"a", "GET", "/tasks", 200}, {"a", "POST", "/tasks", 200}, {"a", "GET", "/notes", 403}, {"a", "POST", "/secret", 403},
		{"b", "GET", "/tasks", 200}, {"b", "POST", "/tasks", 403}, {"b", "POST", "/notes", 200}, {"b", "GET", "/secret", 403},
		{"c", "GET", "/secret", 200},
	} {
		if code, b := do(c.token, c.method, c.path); code != c.code {
			t.Errorf("%s %s as %s: %d %s, want %d", c.method, c.path, tokens[c.token], code, b, c.code)
		}
	}
}
