package httpfeed_test

import (
	"context"
	"encoding/json"
	"net/http"
	"testing"

	"github.com/feedsync/go-feedsync/httpfeed"
	"github.com/feedsync/go-feedsync/store"
)

func TestBearerAuth(t *testing.T) {
	var seen string
	next := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		seen, _ = httpfeed.Principal(r.Context())
	})
	h := httpfeed.BearerAuth(map[string]string{"s3cret": "alice", "other": "bob", "": "nobody"}, next)
	tests := []struct {
		auth     string
		wantCode int
		want     string
	}{
		{"Bearer s3cret", 200, "alice"},
		{"bearer other", 200, "bob"},
		{"Bearer  s3cret ", 200, "alice"},
		{"", 401, ""},
		{"Bearer", 401, ""},
		{"Bearer ", 401, ""},
		{"Bearer wrong", 401, ""},
		{"Basic czNjcmV0", 401, ""},
	}
	for _, tc := range tests {
		seen = ""
		rec := serve(h, newRequest("GET", "/", nil, "Authorization", tc.auth))
		if rec.Code != tc.wantCode || seen != tc.want {
			t.Errorf("Authorization %q: %d principal %q, want %d %q", tc.auth, rec.Code, seen, tc.wantCode, tc.want)
		}
		if tc.wantCode == 401 {
			var p httpfeed.Problem
			if rec.Header().Get("WWW-Authenticate") == "" || json.Unmarshal(rec.Body.Bytes(), &p) != nil || p.Error == "" {
				t.Errorf("Authorization %q: 401 without WWW-Authenticate or JSON problem: %v %s", tc.auth, rec.Header(), rec.Body)
			}
		}
	}
}

func TestPrincipalIsThePeer(t *testing.T) {
	// An authenticated client cannot pass itself off as another peer: the
	// store records what it sent under its principal, whatever its
	// FeedSync-Peer header says.
	st := newMemory(t)
	h := httpfeed.BearerAuth(map[string]string{"t-alice": "alice"}, &httpfeed.Handler{Store: st})
	rec := serve(h, newRequest("POST", "/", feedOf(t, create("a", "alice", 1)), "Authorization", "Bearer t-alice", httpfeed.HeaderPeer, "bob"))
	if rec.Code != 200 {
		t.Fatalf("POST: %d %s", rec.Code, rec.Body)
	}
	withTx(t, st, false, func(tx store.Tx) {
		ctx := context.Background()
		if _, ok, err := tx.PeerVersion(ctx, "alice", "a"); err != nil || !ok {
			t.Errorf("no version recorded for alice (%v)", err)
		}
		if _, ok, err := tx.PeerVersion(ctx, "bob", "a"); err != nil || ok {
			t.Errorf("a version recorded for the forged peer bob (%v)", err)
		}
	})
}
