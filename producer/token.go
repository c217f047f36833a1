package producer

import (
	"encoding/base64"
	"errors"
	"fmt"
	"strconv"
	"strings"
)

// ErrBadToken is returned by ParseToken for a token that is malformed or was
// minted by another store, and by Incremental for a token ahead of the
// store's latest change. A subscriber that sends such a token cannot be
// given the changes it missed: it may have missed any, so it needs the
// complete feed (FS-FEED-4). Produce does that by itself.
var ErrBadToken = errors.New("producer: bad token")

// ErrForgotten is wrapped, with ErrBadToken, in CheckToken's error for a
// token older than the store's forgotten horizon (store.Retention): the
// store has removed tombstones the subscriber may never have seen, so a
// partial feed would leave those items alive there (FS-RETAIN-2). The
// subscriber gets no partial feed and re-initialises (FS-RETAIN-3,
// httpfeed.Client.Sync does).
var ErrForgotten = errors.New("producer: token predates the store's forgotten horizon")

// tokenVersion prefixes every encoded token, so that the encoding can change
// later without old tokens being misread.
const tokenVersion = "v1"

// Token is the baseline of a feed: the store the feed was made from and the
// sequence number of the store's change sequence up to which the feed covers
// its changes (store.ChangeReader). Full and Incremental return the token of
// the feed they wrote; a subscriber sends it back to get the changes made
// after it.
//
// A feed carries tokens in sx:sharing's since and until as opaque strings
// (String): FS-SHARING-2 types them as strings, and §17 A-12 reads them as
// opaque unless both parse as date-times, which ours never do. Only the store
// that minted a token reads it (ParseToken); everyone else passes it back.
type Token struct {
	// Store is the ID of the store the token belongs to (store.Store.ID).
	Store string
	// Seq is the sequence number the feed covers changes up to; 0 is the
	// start, before any change.
	Seq int64
}

// IsZero reports whether t is the zero Token: no baseline at all.
func (t Token) IsZero() bool { return t == Token{} }

// String returns the token in its opaque form: "v1", the sequence number and
// the store id, base64url-encoded without padding, so that it fits an XML
// attribute and a URL query unescaped. The zero Token is "".
func (t Token) String() string {
	if t.IsZero() {
		return ""
	}
	raw := tokenVersion + " " + strconv.FormatInt(t.Seq, 10) + " " + t.Store
	return base64.RawURLEncoding.EncodeToString([]byte(raw))
}

// ParseToken reads a token written by Token.String and checks that it belongs
// to the store with id storeID. The error wraps ErrBadToken and says what is
// wrong: not a token of ours, or a token of another store — for instance of
// a store that was wiped and recreated, which got a new id. Either way the
// subscriber needs the complete feed (FS-FEED-4).
//
// An empty s is not a token: callers treat "no since" as a new subscriber
// (FS-FEED-4) before calling ParseToken, as Produce does.
func ParseToken(s, storeID string) (Token, error) {
	raw, err := base64.RawURLEncoding.DecodeString(s)
	if err != nil {
		return Token{}, fmt.Errorf("%w %q: not base64url: %w", ErrBadToken, s, err)
	}
	version, rest, ok1 := strings.Cut(string(raw), " ")
	seqText, id, ok2 := strings.Cut(rest, " ")
	if !ok1 || !ok2 || version != tokenVersion {
		return Token{}, fmt.Errorf("%w %q: not a %s token of this producer", ErrBadToken, s, tokenVersion)
	}
	seq, err := strconv.ParseInt(seqText, 10, 64)
	if err != nil || seq < 0 || strconv.FormatInt(seq, 10) != seqText {
		return Token{}, fmt.Errorf("%w %q: bad sequence number %q", ErrBadToken, s, seqText)
	}
	if id == "" {
		return Token{}, fmt.Errorf("%w %q: no store id", ErrBadToken, s)
	}
	if id != storeID {
		return Token{}, fmt.Errorf("%w %q: minted by store %q, not by this store %q", ErrBadToken, s, id, storeID)
	}
	return Token{Store: id, Seq: seq}, nil
}
