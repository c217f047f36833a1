package plainfeed

import (
	"crypto/sha256"
	"encoding/hex"
	"strings"
	"time"

	"github.com/feedsync/go-feedsync/feedsync"
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
// the content; a guid or link is trimmed of surrounding white space and
// given FS-TYPE-5 syntax by feedsync.EscapeID.
func pickID(guid, link string, hash func() string) (string, IDSource) {
	if id := feedsync.EscapeID(strings.TrimSpace(guid)); id != "" {
		return id, FromGUID
	}
	if id := feedsync.EscapeID(strings.TrimSpace(link)); id != "" {
		return id, FromLink
	}
	return hash(), FromHash
}
