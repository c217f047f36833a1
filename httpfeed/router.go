package httpfeed

import (
	"net/http"
	"slices"
	"strings"
)

// Router serves several collections, each under /{name}: GET /tasks is
// the feed of the collection "tasks". GET / lists the collections as JSON
// ({"collections": ["notes", "tasks"]}), those the request's principal may
// see (Grants). Mount it under a prefix with
// http.StripPrefix:
//
//	mux.Handle("/feeds/", http.StripPrefix("/feeds", router))
//
// Unknown names get 404 with a JSON Problem. A Router must not be changed
// once it serves requests.
type Router struct {
	// Collections maps a name to the handler of that collection, usually a
	// *Handler whose Name is the same name. Names are single path segments.
	Collections map[string]http.Handler
	// Grants limits which collections each authenticated principal sees
	// in the list and may use, and how (Grants). Default: nil, all.
	Grants Grants
}

var _ http.Handler = (*Router)(nil)

// ServeHTTP dispatches on the first path segment.
func (rt *Router) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	name := strings.TrimPrefix(r.URL.Path, "/")
	if name == "" {
		if r.Method != http.MethodGet && r.Method != http.MethodHead {
			w.Header().Set("Allow", "GET, HEAD")
			writeProblem(w, http.StatusMethodNotAllowed, Problem{Error: "method " + r.Method + " not allowed on the list of collections"})
			return
		}
		names := make([]string, 0, len(rt.Collections))
		for n := range rt.Collections {
			if rt.Grants.access(r, n) > NoAccess {
				names = append(names, n)
			}
		}
		slices.Sort(names)
		writeJSON(w, http.StatusOK, struct {
			Collections []string `json:"collections"`
		}{names})
		return
	}
	h, ok := rt.Collections[name]
	if !ok || strings.Contains(name, "/") {
		writeProblem(w, http.StatusNotFound, Problem{Error: "no collection " + headerSafe(name)})
		return
	}
	if !rt.Grants.allow(w, r, name) {
		return
	}
	h.ServeHTTP(w, r)
}
