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

// peerSpec is one --peer [COLLECTION=]URL[=TOKEN].
type peerSpec struct {
	// collection is the local collection ("" for the store at /), named
	// is whether the flag named it.
	collection string
	named      bool
	url, token string
}

// parsePeers reads the --peer flags. A value that does not start with
// http:// or https:// names the local collection first, up to the first
// "=" (a collection name holds none); "/" is the store served alone at
// the root. A token is given after the URL's first "=" (a collection URL
// has no query, so no "="), or read from a file with =@FILE, which keeps
// it out of the process list.
func parsePeers(list []string) ([]peerSpec, error) {
	var peers []peerSpec
	for _, s := range list {
		var spec peerSpec
		if !strings.HasPrefix(s, "http://") && !strings.HasPrefix(s, "https://") {
			name, rest, ok := strings.Cut(s, "=")
			if !ok || name == "" {
				return nil, &usageError{
					msg:  fmt.Sprintf("--peer %q: want [COLLECTION=]URL[=TOKEN] with an http:// or https:// URL", s),
					hint: "For example --peer http://10.0.0.2:8080/, or with --collection, --peer tasks=http://10.0.0.2:8080/tasks",
				}
			}
			spec.collection, spec.named, s = strings.TrimPrefix(name, "/"), true, rest
		}
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
		spec.url, spec.token = raw, token
		if slices.ContainsFunc(peers, func(p peerSpec) bool { return p.url == raw && p.collection == spec.collection }) {
			return nil, usagef("--peer %s is given twice for %s", raw, "/"+spec.collection)
		}
		peers = append(peers, spec)
	}
	return peers, nil
}

// checkPeers checks that each peer names a collection that is served:
// with --collection every --peer names one, with --store none but "/"
// may be named.
func checkPeers(specs []peerSpec, cols []collection) error {
	root := len(cols) == 1 && cols[0].name == ""
	for _, s := range specs {
		switch {
		case !root && !s.named:
			return &usageError{
				msg:  fmt.Sprintf("--peer %s: name the collection it syncs with --collection", s.url),
				hint: "Say which served collection syncs with which URL: --peer NAME=URL[=TOKEN], for example --peer tasks=http://10.0.0.2:8080/tasks",
			}
		case !slices.ContainsFunc(cols, func(c collection) bool { return c.name == s.collection }):
			return usagef("--peer %s: no collection %q is served", s.url, "/"+s.collection)
		}
	}
	return nil
}

// newPeers returns the peers of the stores, one per served collection
// (cols), that sync as endpoint by.
func (c *ServeCommand) newPeers(specs []peerSpec, cols []collection, stores []store.Store, by string, logger *slog.Logger) []*httpfeed.Peer {
	var peers []*httpfeed.Peer
	for _, s := range specs {
		// parsePeers checked the URL, checkPeers the collection.
		u, _ := url.Parse(s.url)
		i := slices.IndexFunc(cols, func(c collection) bool { return c.name == s.collection })
		peers = append(peers, &httpfeed.Peer{
			Client: &httpfeed.Client{
				URL:    s.url,
				HTTP:   &http.Client{Timeout: httpfeed.DefaultTimeout},
				Token:  s.token,
				Peer:   by,
				Remote: remoteName(u),
			},
			Store:      stores[i],
			Collection: s.collection,
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
