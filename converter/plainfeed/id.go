package plainfeed

import (
	"crypto/sha256"
	"encoding/hex"
	"strings"
	"time"
)

// IDSource says where an entry's sync id came from.
type IDSource uint8

const (
	// FromSync: the item already carried sx:sync; its id is kept
	// (FS-SYNC-2: no later publisher may change it).
	FromSync IDSource = iota
	// FromGUID: the RSS guid, Atom id or JSON Feed id.
	FromGUID
	// FromLink: the item's link, used when it has no guid.
	FromLink
	// FromHash: a hash of the content, used when the item has neither.
	FromHash
)

// String returns "sync", "guid", "link" or "hash".
func (s IDSource) String() string {
	switch s {
	case FromSync:
		return "sync"
	case FromGUID:
		return "guid"
	case FromLink:
		return "link"
	case FromHash:
		return "hash"
	}
	return "unknown"
}

// EscapeID maps any string to a valid sync id (FS-TYPE-5): the syntax of a
// URN Namespace Specific String (RFC 2141). ASCII letters and digits and the
// characters ( ) + , - . : = @ ; $ _ ! * ' stand for themselves; every other
// byte of the UTF-8 string, '%' included, becomes a %-escape with upper-case
// hex digits, the form the core compares in (NormalizeID). Escaping '%' too
// makes the mapping one-to-one: "a b" and "a%20b" give different ids.
//
// Surrounding white space is trimmed first. An empty string gives "".
//
//	EscapeID("http://example.com/a?b=1") == "http:%2F%2Fexample.com%2Fa%3Fb=1"
func EscapeID(s string) string {
	s = strings.TrimSpace(s)
	const hexDigits = "0123456789ABCDEF"
	var b strings.Builder
	b.Grow(len(s))
	for i := 0; i < len(s); i++ {
		c := s[i]
		if isAlnum(c) || strings.IndexByte("()+,-.:=@;$_!*'", c) >= 0 {
			b.WriteByte(c)
			continue
		}
		b.WriteByte('%')
		b.WriteByte(hexDigits[c>>4])
		b.WriteByte(hexDigits[c&15])
	}
	return b.String()
}

func isAlnum(c byte) bool {
	return 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9'
}

// hashID is the id of an item with neither guid nor link: "sha256-" and the
// first 16 bytes (32 hex digits) of the SHA-256 of its title, description,
// content and publication date, each followed by a NUL byte. It stays the
// same while those stay the same; an edit to any of them makes it a new
// item (and, with a previous feed, the old one a deletion). Nothing better
// is possible: such an item has no identity of its own.
func hashID(title, description, content string, published time.Time) string {
	h := sha256.New()
	for _, s := range []string{title, description, content} {
		h.Write([]byte(s))
		h.Write([]byte{0})
	}
	if !published.IsZero() {
		h.Write([]byte(published.UTC().Format(time.RFC3339)))
	}
	h.Write([]byte{0})
	return "sha256-" + hex.EncodeToString(h.Sum(nil)[:16])
}

// pickID chooses an item's sync id: the guid, then the link, then a hash of
// the content (FS-TYPE-5 syntax through EscapeID).
func pickID(guid, link string, hash func() string) (string, IDSource) {
	if id := EscapeID(guid); id != "" {
		return id, FromGUID
	}
	if id := EscapeID(link); id != "" {
		return id, FromLink
	}
	return hash(), FromHash
}
