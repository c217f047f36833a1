package producer

import (
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"strconv"
	"strings"

	"github.com/feedsync/go-feedsync/store"
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
// Version 1 had no history mark; its tokens are refused (the subscriber
// falls back to versions first, once).
const tokenVersion = "v2"

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
	// Mark is the store's history mark of Seq (store.ChangeReader.
	// HistoryMark), "" for Seq 0: it names the point of the store's change
	// history, not just a number, so that a store restored from a backup
	// refuses tokens from the history it lost (FS-KNOW-2, CheckToken).
	Mark string
}

// IsZero reports whether t is the zero Token: no baseline at all.
func (t Token) IsZero() bool { return t == Token{} }

// String returns the token in its opaque form: "v2", the sequence number,
// the history mark ("-" for none) and the store id, base64url-encoded
// without padding, so that it fits an XML attribute and a URL query
// unescaped. The zero Token is "".
func (t Token) String() string {
	if t.IsZero() {
		return ""
	}
	mark := t.Mark
	if mark == "" {
		mark = "-"
	}
	raw := tokenVersion + " " + strconv.FormatInt(t.Seq, 10) + " " + mark + " " + t.Store
	return base64.RawURLEncoding.EncodeToString([]byte(raw))
}

// TokenAt returns the token of sequence number seq of the store with id
// storeID that r reads, with its history mark. seq must not be above
// r.LastSeq.
func TokenAt(ctx context.Context, r store.ChangeReader, storeID string, seq int64) (Token, error) {
	mark, ok, err := r.HistoryMark(ctx, seq)
	if err != nil {
		return Token{}, fmt.Errorf("token of sequence %d: %w", seq, err)
	}
	if !ok {
		return Token{}, fmt.Errorf("token of sequence %d: the store has no such change", seq)
	}
	return Token{Store: storeID, Seq: seq, Mark: mark}, nil
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
	seqText, rest, ok2 := strings.Cut(rest, " ")
	mark, id, ok3 := strings.Cut(rest, " ")
	if version == "v1" {
		return Token{}, fmt.Errorf("%w %q: a v1 token, without the history mark this version checks", ErrBadToken, s)
	}
	if !ok1 || !ok2 || !ok3 || version != tokenVersion {
		return Token{}, fmt.Errorf("%w %q: not a %s token of this producer", ErrBadToken, s, tokenVersion)
	}
	if mark == "-" {
		mark = ""
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
	return Token{Store: id, Seq: seq, Mark: mark}, nil
}
