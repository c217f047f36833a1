package feedsync

import (
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"strings"
	"time"
)

// Stamp says who made a local change and when: the by and when of the
// history entry that Create, Update, Delete and Resolve write (FS-CREATE-2,
// FS-UPDATE-2).
//
// Both fields are recommended. An empty By writes an anonymous entry, which
// FS-CONFLICT-6 discourages: anonymous edits with the same when and sequence
// cannot be told apart.
type Stamp struct {
	// By is this endpoint's identifier (FS-BY-1). It must be unique to the
	// endpoint and stable; it is written only if it is in the NSS character
	// set (FS-TYPE-6, see ValidBy). Empty means no by attribute.
	By string
	// When is the time of the change by this endpoint's clock. It is stored
	// in UTC to whole seconds (FS-TYPE-4). The zero Time means no when
	// attribute.
	When time.Time
}

// Valid reports whether s can stamp a history entry: at least one of By and
// When must be set (FS-HIST-4, FS-UPDATE-2), and a By must be a valid
// endpoint identifier, since this package only ever generates identifiers
// from the NSS character set (FS-TYPE-6), and a When must fall in the
// years 0001 to 9999 in UTC (FS-TYPE-4). The error wraps ErrBadStamp.
func (s Stamp) Valid() error {
	if s.By == "" && s.When.IsZero() {
		return fmt.Errorf("%w: neither by nor when is set (FS-HIST-4)", ErrBadStamp)
	}
	if s.By != "" && !ValidBy(s.By) {
		return fmt.Errorf("%w: by %q is not in the URN NSS character set (FS-TYPE-6)", ErrBadStamp, s.By)
	}
	if !s.When.IsZero() {
		if err := checkTimeRange(Normalize(s.When)); err != nil {
			return fmt.Errorf("%w: when %w (FS-TYPE-4)", ErrBadStamp, err)
		}
	}
	return nil
}

// entry returns the history entry s writes for an update to sequence seq.
func (s Stamp) entry(seq int64) History {
	return History{Sequence: seq, When: Normalize(s.When), By: s.By}
}

// NewID returns a fresh item id: a random (version 4) UUID in lower case,
// for example "1b4e28ba-2fa1-4d2e-883f-0016d3cca427". It consists of hex
// digits and hyphens only, so it is a valid NSS (FS-TYPE-5) and globally
// unique as FS-CREATE-1 asks. The randomness comes from crypto/rand.
func NewID() string {
	var u [16]byte
	// crypto/rand.Read never returns an error since Go 1.24 (it crashes the
	// program instead), so there is nothing to handle.
	_, _ = rand.Read(u[:])
	u[6] = u[6]&0x0f | 0x40 // version 4
	u[8] = u[8]&0x3f | 0x80 // RFC 4122 variant
	var b [36]byte
	hex.Encode(b[0:8], u[0:4])
	b[8] = '-'
	hex.Encode(b[9:13], u[4:6])
	b[13] = '-'
	hex.Encode(b[14:18], u[6:8])
	b[18] = '-'
	hex.Encode(b[19:23], u[8:10])
	b[23] = '-'
	hex.Encode(b[24:36], u[10:16])
	return string(b[:])
}

// nssOther reports whether c is one of the non-alphanumeric characters an
// RFC 2141 NSS may hold literally (FS-TYPE-5).
func nssOther(c byte) bool {
	return strings.IndexByte("()+,-.:=@;$_!*'", c) >= 0
}

func isAlnum(c byte) bool {
	return 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9'
}

func isHex(c byte) bool {
	return '0' <= c && c <= '9' || 'a' <= c && c <= 'f' || 'A' <= c && c <= 'F'
}

// ValidID reports whether id is a valid sync id (FS-TYPE-5): a non-empty URN
// Namespace Specific String (RFC 2141) made of ASCII letters and digits, the
// characters ( ) + , - . : = @ ; $ _ ! * ' and %-escapes of two hex digits.
func ValidID(id string) bool {
	if id == "" {
		return false
	}
	for i := 0; i < len(id); i++ {
		c := id[i]
		switch {
		case isAlnum(c) || nssOther(c):
		case c == '%' && i+2 < len(id) && isHex(id[i+1]) && isHex(id[i+2]):
			i += 2
		default:
			return false
		}
	}
	return true
}

// EscapeID maps any string to a valid sync id (FS-TYPE-5), the one escaping
// of ids that the converters and the command line share: ASCII letters and
// digits and the characters ( ) + , - . : = @ ; $ _ ! * ' stand for
// themselves; every other byte of s, '%' included, becomes a %-escape with
// upper-case hex digits, the form NormalizeID compares in. Escaping '%' too
// makes the mapping one to one: "a b" and "a%20b" give different ids, and
// UnescapeID undoes it. A string that is already a valid id without '%' is
// returned as is. The empty string gives "", which is not a valid id.
//
//	EscapeID("http://example.com/a?b=1") == "http:%2F%2Fexample.com%2Fa%3Fb=1"
func EscapeID(s string) string {
	const hexDigits = "0123456789ABCDEF"
	i := 0
	for i < len(s) && nssChar(s[i]) {
		i++
	}
	if i == len(s) {
		return s
	}
	var b strings.Builder
	b.Grow(len(s) + 8)
	b.WriteString(s[:i])
	for ; i < len(s); i++ {
		c := s[i]
		if nssChar(c) {
			b.WriteByte(c)
			continue
		}
		b.WriteByte('%')
		b.WriteByte(hexDigits[c>>4])
		b.WriteByte(hexDigits[c&15])
	}
	return b.String()
}

// UnescapeID returns the string whose EscapeID is id. It refuses what
// EscapeID never writes, so that two strings never claim one id
// (FS-SYNC-2): an empty id, bytes outside the NSS character set, malformed
// escapes and escapes of characters that need none. Escape hex digits may be
// in either case (FS-TYPE-5 compares them case-insensitively).
func UnescapeID(id string) (string, error) {
	if id == "" {
		return "", errors.New("feedsync: empty id")
	}
	if strings.IndexByte(id, '%') < 0 {
		for i := 0; i < len(id); i++ {
			if !nssChar(id[i]) {
				return "", fmt.Errorf("feedsync: id %q: byte %q at %d is outside the URN NSS character set (FS-TYPE-5)", id, id[i], i)
			}
		}
		return id, nil
	}
	var b strings.Builder
	b.Grow(len(id))
	for i := 0; i < len(id); i++ {
		c := id[i]
		switch {
		case c == '%':
			if i+2 >= len(id) || !isHex(id[i+1]) || !isHex(id[i+2]) {
				return "", fmt.Errorf("feedsync: id %q: malformed %%-escape at byte %d", id, i)
			}
			d := unhex(id[i+1])<<4 | unhex(id[i+2])
			if nssChar(d) {
				return "", fmt.Errorf("feedsync: id %q: %%-escape of %q at byte %d, which needs none", id, d, i)
			}
			b.WriteByte(d)
			i += 2
		case nssChar(c):
			b.WriteByte(c)
		default:
			return "", fmt.Errorf("feedsync: id %q: byte %q at %d is outside the URN NSS character set (FS-TYPE-5)", id, c, i)
		}
	}
	return b.String(), nil
}

// nssChar reports whether c stands for itself in a sync id.
func nssChar(c byte) bool { return isAlnum(c) || nssOther(c) }

func unhex(c byte) byte {
	switch {
	case c <= '9':
		return c - '0'
	case c <= 'F':
		return c - 'A' + 10
	}
	return c - 'a' + 10
}

// NormalizeID returns id with the hex digits of every %-escape in upper
// case. RFC 2141 compares those digits case-insensitively and everything
// else exactly; FS-TYPE-5 [R] normalises once, when an id is read, so that
// ids can then be compared as bytes. Anything that is not a well-formed
// escape is left alone. An id without '%' is returned as is.
func NormalizeID(id string) string {
	i := strings.IndexByte(id, '%')
	if i < 0 {
		return id
	}
	var b []byte
	for ; i < len(id); i++ {
		if id[i] != '%' || i+2 >= len(id) || !isHex(id[i+1]) || !isHex(id[i+2]) {
			continue
		}
		for j := i + 1; j <= i+2; j++ {
			if c := id[j]; 'a' <= c && c <= 'f' {
				if b == nil {
					b = []byte(id)
				}
				b[j] = c - 'a' + 'A'
			}
		}
		i += 2
	}
	if b == nil {
		return id
	}
	return string(b)
}

// ValidBy reports whether by may be generated as an endpoint identifier
// (FS-TYPE-6): it must satisfy the same NSS syntax as an id (ValidID).
// Readers accept any non-empty by, so that no data is dropped because of its
// syntax; only what this package writes for its own endpoint is held to the
// rule. (Apache Abdera also admits / ? #; we do not generate them.)
func ValidBy(by string) bool { return ValidID(by) }

// normBy returns the form of a by value used for comparisons: FS-BY-3 makes
// by equality the FS-TYPE-5 equality, so %-escapes compare
// case-insensitively. The reader already normalises ids; by values built in
// code may not be, and the common case (no '%') costs nothing.
func normBy(by string) string { return NormalizeID(by) }

// sameBy reports whether two by values name the same endpoint (FS-BY-3).
func sameBy(a, b string) bool {
	return a == b || normBy(a) == normBy(b)
}
