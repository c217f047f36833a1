package main

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"mime"
	"net/http"
	"net/url"
	"os"
	"slices"
	"strings"
	"sync"

	"github.com/feedsync/go-feedsync/httpfeed"
	"github.com/feedsync/go-feedsync/store"
)

// peerSpec is one --peer URL[=TOKEN].
type peerSpec struct {
	url, token string
}

// parsePeers reads the --peer flags. A token is given after the first
// "=" (a collection URL has no query, so no "="), or read from a file
// with =@FILE, which keeps it out of the process list.
func parsePeers(list []string) ([]peerSpec, error) {
	var peers []peerSpec
	for _, s := range list {
		raw, token, _ := strings.Cut(s, "=")
		u, err := url.Parse(raw)
		if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || u.RawQuery != "" || u.Fragment != "" {
			return nil, &usageError{
				msg:  fmt.Sprintf("--peer %q: want an http:// or https:// collection URL without a query", raw),
				hint: "For example --peer http://10.0.0.2:8080/ or, with a bearer token, --peer http://10.0.0.2:8080/=@/etc/feedsync/peer2.token",
			}
		}
		if file, ok := strings.CutPrefix(token, "@"); ok {
			b, err := os.ReadFile(file)
			if err != nil {
				return nil, usagef("--peer %s: read the token: %v", raw, err)
			}
			token = strings.TrimSpace(string(b))
		}
		if slices.ContainsFunc(peers, func(p peerSpec) bool { return p.url == raw }) {
			return nil, usagef("--peer %s is given twice", raw)
		}
		peers = append(peers, peerSpec{raw, token})
	}
	return peers, nil
}

// newPeers returns the peers of the store st, serving collection name,
// that sync as endpoint by.
func (c *ServeCommand) newPeers(specs []peerSpec, st store.Store, name, by string, logger *slog.Logger) []*httpfeed.Peer {
	var peers []*httpfeed.Peer
	for _, s := range specs {
		u, _ := url.Parse(s.url) // checked by parsePeers
		peers = append(peers, &httpfeed.Peer{
			Client: &httpfeed.Client{
				URL:    s.url,
				HTTP:   &http.Client{Timeout: httpfeed.DefaultTimeout},
				Token:  s.token,
				Peer:   by,
				Remote: remoteName(u),
			},
			Store:      st,
			Collection: name,
			Interval:   c.peerInterval,
			Logger:     logger,
		})
	}
	return peers
}

// runPeers runs every peer until ctx ends; the returned function waits
// for them to stop.
func runPeers(ctx context.Context, peers []*httpfeed.Peer) (wait func()) {
	var wg sync.WaitGroup
	for _, p := range peers {
		wg.Go(func() { p.Run(ctx) })
	}
	return wg.Wait
}

// serverStatus is the JSON answer to GET / asking for JSON: the state
// of each peer.
type serverStatus struct {
	Peers []httpfeed.PeerStatus `json:"peers"`
}

// withStatus answers GET / with the server's status as JSON when the
// request asks for JSON only (the feed of the store served at / is the
// answer otherwise).
func withStatus(next http.Handler, peers []*httpfeed.Peer) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/" || (r.Method != http.MethodGet && r.Method != http.MethodHead) || !wantsJSON(r) {
			next.ServeHTTP(w, r)
			return
		}
		st := serverStatus{Peers: []httpfeed.PeerStatus{}}
		for _, p := range peers {
			st.Peers = append(st.Peers, p.Status())
		}
		w.Header().Set("Content-Type", "application/json")
		w.Header().Set("Cache-Control", "no-cache")
		enc := json.NewEncoder(w)
		enc.SetIndent("", "  ")
		enc.Encode(st)
	})
}

// wantsJSON reports whether r's Accept names application/json and no feed
// type.
func wantsJSON(r *http.Request) bool {
	json := false
	for _, v := range r.Header.Values("Accept") {
		for part := range strings.SplitSeq(v, ",") {
			mt, _, err := mime.ParseMediaType(strings.TrimSpace(part))
			if err != nil {
				continue
			}
			switch {
			case mt == "application/json":
				json = true
			case strings.Contains(mt, "xml"), mt == "*/*":
				return false
			}
		}
	}
	return json
}
