package httpfeed

import (
	"net/http"
	"slices"
	"strings"
)

// Router serves several collections, each under /{name}: GET /tasks is
// the feed of the collection "tasks". GET / lists the collections as JSON
// ({"collections": ["notes", "tasks"]}), those the request's principal may
// see (Grants), and the state of their Peers ("peers": [PeerStatus...]),
// when there are any. Mount it under a prefix with
// http.StripPrefix:
//
//	mux.Handle("/feeds/", http.StripPrefix("/feeds", router))
//
// A trailing slash names the same collection (/tasks/ is /tasks). Unknown
// names get 404 with a JSON body that says so and lists the collections:
// {"error": "no collection x", "collections": ["/notes", "/tasks"]}. A
// Router must not be changed once it serves requests.
type Router struct {
	// Collections maps a name to the handler of that collection, usually a
	// *Handler whose Name is the same name. Names are single path segments.
	Collections map[string]http.Handler
	// Grants limits which collections each authenticated principal sees
	// in the list and may use, and how (Grants). Default: nil, all.
	Grants Grants
	// Peers keep collections in sync with other servers; GET / shows the
	// state of those whose Collection the principal may see. Default:
	// none.
	Peers []*Peer
}

var _ http.Handler = (*Router)(nil)

// ServeHTTP dispatches on the first path segment.
func (rt *Router) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	name := strings.TrimSuffix(strings.TrimPrefix(r.URL.Path, "/"), "/")
	if name == "" {
		if r.Method != http.MethodGet && r.Method != http.MethodHead {
			w.Header().Set("Allow", "GET, HEAD")
			writeProblem(w, http.StatusMethodNotAllowed, Problem{Error: "method " + r.Method + " not allowed on the list of collections"})
			return
		}
		var peers []PeerStatus
		for _, p := range rt.Peers {
			if rt.Grants.access(r, p.Collection) > NoAccess {
				peers = append(peers, p.Status())
			}
		}
		writeJSON(w, http.StatusOK, struct {
			Collections []string     `json:"collections"`
			Peers       []PeerStatus `json:"peers,omitempty"`
		}{rt.names(r, ""), peers})
		return
	}
	h, ok := rt.Collections[name]
	if !ok || strings.Contains(name, "/") {
		notServed(w, r, rt.names(r, "/"))
		return
	}
	if !rt.Grants.allow(w, r, name) {
		return
	}
	h.ServeHTTP(w, r)
}

// names lists the collections the request's principal may see (Grants),
// sorted, each after prefix.
func (rt *Router) names(r *http.Request, prefix string) []string {
	names := make([]string, 0, len(rt.Collections))
	for n := range rt.Collections {
		if rt.Grants.access(r, n) > NoAccess {
			names = append(names, prefix+n)
		}
	}
	slices.Sort(names)
	return names
}

// notServed answers a request for a path that names no collection: 404,
// with the paths that are served. Syncing with a wrong URL fails at once
// instead of building marks for a collection that does not exist.
func notServed(w http.ResponseWriter, r *http.Request, served []string) {
	writeBody(w, http.StatusNotFound, mediaProblem, struct {
		Problem
		Collections []string `json:"collections"`
	}{Problem{Title: http.StatusText(http.StatusNotFound), Status: http.StatusNotFound, Error: "no collection at " + headerSafe(r.URL.Path)}, served})
}

// AtRoot serves the collection h at "/" only: every other path gets 404
// with the list of what is served (["/"]), as a Router does for unknown
// names. It is how one collection is served alone (feedsync serve
// --store).
func AtRoot(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/" && r.URL.Path != "" {
			notServed(w, r, []string{"/"})
			return
		}
		h.ServeHTTP(w, r)
	})
}
