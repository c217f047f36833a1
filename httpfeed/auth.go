package httpfeed

import (
	"context"
	"crypto/sha256"
	"net/http"
	"strings"
)

// principalKey is the context key of the authenticated principal.
type principalKey struct{}

// WithPrincipal returns a copy of ctx that carries principal, the
// authenticated identity of the request's sender. Handler uses it as the
// request's peer instead of the FeedSync-Peer header. Authentication
// middleware other than BearerAuth calls it.
func WithPrincipal(ctx context.Context, principal string) context.Context {
	return context.WithValue(ctx, principalKey{}, principal)
}

// Principal returns the principal WithPrincipal put in ctx, and whether
// there is one.
func Principal(ctx context.Context) (string, bool) {
	p, ok := ctx.Value(principalKey{}).(string)
	return p, ok && p != ""
}

// BearerAuth returns a handler that lets through only requests with an
// "Authorization: Bearer TOKEN" header whose TOKEN is a key of tokens, and
// calls next with the token's principal in the request context (Principal).
// Other requests get 401 with a JSON Problem and a WWW-Authenticate header.
//
// Tokens are compared by their SHA-256 digests, so the time a lookup takes
// says nothing useful about the tokens configured. tokens is copied; later
// changes to the map are not seen.
func BearerAuth(tokens map[string]string, next http.Handler) http.Handler {
	byDigest := make(map[[sha256.Size]byte]string, len(tokens))
	for tok, principal := range tokens {
		if tok == "" || principal == "" {
			continue
		}
		byDigest[sha256.Sum256([]byte(tok))] = principal
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		scheme, tok, ok := strings.Cut(r.Header.Get("Authorization"), " ")
		if ok && strings.EqualFold(scheme, "Bearer") {
			if principal, found := byDigest[sha256.Sum256([]byte(strings.TrimSpace(tok)))]; found {
				next.ServeHTTP(w, r.WithContext(WithPrincipal(r.Context(), principal)))
				return
			}
		}
		w.Header().Set("WWW-Authenticate", `Bearer realm="feedsync"`)
		msg := "missing bearer token"
		if ok || r.Header.Get("Authorization") != "" {
			msg = "invalid bearer token"
		}
		writeProblem(w, http.StatusUnauthorized, Problem{Error: msg})
	})
}
