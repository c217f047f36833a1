package httpfeed

import (
	"net/http"

	"github.com/feedsync/go-feedsync/feedsync"
)

// Access is what a principal may do with one collection.
type Access uint8

// Access levels.
const (
	// NoAccess hides the collection: 403, and not in the Router's list.
	NoAccess Access = iota
	// ReadOnly allows GET and HEAD.
	ReadOnly
	// ReadWrite allows POST and PUT as well.
	ReadWrite
)

// Grant is what one authenticated principal (see Principal) may do.
type Grant struct {
	// Collections limits the principal to the collections named, each
	// ReadOnly or ReadWrite; "" names a Handler served alone (its Name is
	// ""). Default: nil, every collection read-write.
	Collections map[string]Access
	// Relay lets the principal POST history entries made by other
	// endpoints, as a peer server forwarding its own clients' edits does
	// (feedsync.Trust.Relay, FS-TRUST-1). Default: false, every new entry
	// it sends must carry the principal as by.
	Relay bool
}

// Grants maps principals to their Grant. A principal without an entry may
// read and write every collection, and may not relay. Requests without a
// principal (no authentication) are not limited: grants need
// authentication, such as BearerAuth, in front of the handler.
type Grants map[string]Grant

// access returns what the request's principal may do with collection.
func (g Grants) access(r *http.Request, collection string) Access {
	p, ok := Principal(r.Context())
	if !ok {
		return ReadWrite
	}
	gr, ok := g[p]
	if !ok || gr.Collections == nil {
		return ReadWrite
	}
	return gr.Collections[collection]
}

// allow answers 403 and returns false when the request's principal may
// not make it on collection.
func (g Grants) allow(w http.ResponseWriter, r *http.Request, collection string) bool {
	need := ReadOnly
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		need = ReadWrite
	}
	if g.access(r, collection) >= need {
		return true
	}
	p, _ := Principal(r.Context())
	what := "read"
	if need == ReadWrite {
		what = "write"
	}
	name := "this collection"
	if collection != "" {
		name = "collection " + headerSafe(collection)
	}
	writeProblem(w, http.StatusForbidden, Problem{Error: headerSafe(p) + " may not " + what + " " + name, Status: http.StatusForbidden})
	return false
}

// admit returns the check that binds what the request's sender writes to
// it (FS-TRUST-1), or nil for a request without a principal.
func (h *Handler) admit(r *http.Request) func(local, incoming *feedsync.Item) error {
	p, ok := Principal(r.Context())
	if !ok {
		return nil
	}
	return feedsync.Trust{Principal: p, Relay: h.Grants[p].Relay, MaxJump: h.MaxJump}.Check
}
