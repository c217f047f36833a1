package converter

import (
	"encoding/hex"
	"fmt"
	"reflect"
	"strconv"
	"strings"

	"github.com/feedsync/go-feedsync/feedsync"
)

// IDConverter maps an application's identities to FeedSync's, in the manner
// of Microsoft Sync Framework 2.0's FeedIdConverter: item keys of type K
// to sync ids (sx:sync/@id, FS-TYPE-5) and back, endpoint names to by
// values (sx:history/@by, FS-TYPE-6, FS-BY-1) and back, and a stable
// endpoint name for history entries that have no by (FS-HIST-4).
//
// Both mappings must be one to one, and their inverses must refuse what the
// forward direction never produces: an application that read a key from an
// id and wrote the key back under another id would publish the item twice
// (FS-SYNC-2: no publisher may change an id), and an endpoint name shared
// by two by values would merge two endpoints' knowledge (FS-BY-1).
type IDConverter[K any] interface {
	// SyncID returns the sync id of an item key.
	SyncID(key K) (string, error)
	// AppID returns the item key a sync id stands for.
	AppID(syncID string) (K, error)
	// ByFromEndpoint returns the by value an endpoint writes.
	ByFromEndpoint(endpoint string) (string, error)
	// EndpointFromBy returns the endpoint a by value names.
	EndpointFromBy(by string) (string, error)
	// AnonymousEndpoint returns the endpoint name standing for an entry
	// without by, derived from its when and sequence.
	AnonymousEndpoint(h feedsync.History) string
}

var (
	_ IDConverter[string]   = IDs[string]{}
	_ IDConverter[int64]    = IDs[int64]{}
	_ IDConverter[[16]byte] = IDs[[16]byte]{}
)

// Key is the set of item key types IDs converts: strings, integers, and
// 16-byte arrays holding UUIDs (such as github.com/google/uuid.UUID), and
// types defined on them.
type Key interface {
	~string |
		~int | ~int8 | ~int16 | ~int32 | ~int64 |
		~uint | ~uint8 | ~uint16 | ~uint32 | ~uint64 |
		~[16]byte
}

// AnonymousPrefix starts every endpoint name AnonymousEndpoint returns. IDs
// reserves it: ByFromEndpoint refuses endpoint names that start with it, and
// EndpointFromBy refuses by values that would decode to one, so an
// anonymous entry never shares an endpoint name with a named one.
const AnonymousPrefix = "anonymous/"

// IDs is the default IDConverter. The zero value is ready to use; K is the
// type of the application's item keys. It is a generic type rather than one
// taking any so that AppID can return the key type (Go methods cannot have
// type parameters of their own) and a wrong key type is a compile error.
//
// Item keys become sync ids as follows:
//
//   - a string: its bytes, with every byte outside the URN NSS character
//     set (RFC 2141: ASCII letters and digits and ( ) + , - . : = @ ; $ _
//     ! * ') and '%' itself written as %HH with upper-case hex digits.
//     "task 7" gives "task%207", "a/b" gives "a%2Fb", "100%" gives "100%25",
//     "café" gives "caf%C3%A9". Escaping '%' makes the mapping one to one,
//     and it equals Map.SyncID on every non-empty key. The empty string has
//     no sync id.
//   - an integer: its decimal form, "-" for negative numbers ("42", "-7").
//   - a [16]byte: the UUID in the canonical lower-case form
//     "1b4e28ba-2fa1-4d2e-883f-0016d3cca427", as feedsync.NewID writes.
//
// AppID is the exact inverse. It refuses (ErrID) every id SyncID does not
// produce for K: characters outside the NSS set, escapes of characters that
// need none ("%41" for "A"), malformed escapes, integers with a sign "+",
// leading zeros or out of K's range, UUIDs in upper case or another layout.
// Only the case of escape hex digits is free ("a%2fb" reads as "a/b"):
// RFC 2141 makes those ids equal, and feedsync normalises them when it
// reads them (FS-TYPE-5, feedsync.NormalizeID). Ids made by other
// applications that AppID refuses stay valid sync ids; such an application
// keys its items with IDs[string]-compatible strings or keeps the sync id.
//
// Endpoint names become by values by the string rule above, and back; the
// same strictness applies. Names starting with AnonymousPrefix are
// reserved.
type IDs[K Key] struct{}

// SyncID returns the sync id of key (FS-TYPE-5). It fails with ErrID for the
// empty string.
func (IDs[K]) SyncID(key K) (string, error) {
	v := reflect.ValueOf(key)
	switch v.Kind() {
	case reflect.String:
		if v.Len() == 0 {
			return "", fmt.Errorf("%w: empty key has no sync id", ErrID)
		}
		return feedsync.EscapeID(v.String()), nil
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		return strconv.FormatInt(v.Int(), 10), nil
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		return strconv.FormatUint(v.Uint(), 10), nil
	case reflect.Array:
		var u [16]byte
		for i := range u {
			u[i] = byte(v.Index(i).Uint())
		}
		return formatUUID(u), nil
	}
	panic("unreachable: Key admits no other kind")
}

// AppID returns the key whose sync id is syncID, refusing with ErrID every
// id SyncID would not have produced (see IDs).
func (IDs[K]) AppID(syncID string) (K, error) {
	var key K
	v := reflect.ValueOf(&key).Elem()
	fail := func(why string) (K, error) {
		var zero K
		return zero, fmt.Errorf("%w: sync id %q as %v key: %s", ErrID, syncID, v.Type(), why)
	}
	switch v.Kind() {
	case reflect.String:
		s, err := feedsync.UnescapeID(syncID)
		if err != nil {
			return fail(unescapeReason(syncID, err))
		}
		v.SetString(s)
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		n, err := strconv.ParseInt(syncID, 10, v.Type().Bits())
		if err != nil {
			return fail(errText(err))
		}
		if strconv.FormatInt(n, 10) != syncID {
			return fail("not in canonical decimal form")
		}
		v.SetInt(n)
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		n, err := strconv.ParseUint(syncID, 10, v.Type().Bits())
		if err != nil {
			return fail(errText(err))
		}
		if strconv.FormatUint(n, 10) != syncID {
			return fail("not in canonical decimal form")
		}
		v.SetUint(n)
	case reflect.Array:
		u, ok := parseUUID(syncID)
		if !ok {
			return fail("not a lower-case UUID xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx")
		}
		for i, b := range u {
			v.Index(i).SetUint(uint64(b))
		}
	}
	return key, nil
}

// errText returns the reason of a strconv error without its function and
// input, which the caller's message already gives.
func errText(err error) string {
	if ne, ok := err.(*strconv.NumError); ok {
		return ne.Err.Error()
	}
	return err.Error()
}

// ByFromEndpoint returns the by value of the endpoint named endpoint
// (FS-BY-1): the name, escaped as a string key is (so it is always a valid
// by, FS-TYPE-6). It fails with ErrID for an empty name and for a name
// starting with AnonymousPrefix.
func (IDs[K]) ByFromEndpoint(endpoint string) (string, error) {
	if endpoint == "" {
		return "", fmt.Errorf("%w: empty endpoint name has no by value", ErrID)
	}
	if strings.HasPrefix(endpoint, AnonymousPrefix) {
		return "", fmt.Errorf("%w: endpoint name %q: the prefix %q is reserved for anonymous history entries",
			ErrID, endpoint, AnonymousPrefix)
	}
	return feedsync.EscapeID(endpoint), nil
}

// EndpointFromBy returns the endpoint named by a by value, the inverse of
// ByFromEndpoint. A by value it does not produce (readers accept any
// non-empty by, FS-TYPE-6, so feeds may carry some) gives ErrID; it is
// still a valid by for the sync rules, which compare by values as they are.
func (IDs[K]) EndpointFromBy(by string) (string, error) {
	if by == "" {
		return "", fmt.Errorf("%w: empty by value (an anonymous entry: use AnonymousEndpoint)", ErrID)
	}
	s, err := feedsync.UnescapeID(by)
	if err != nil {
		return "", fmt.Errorf("%w: by %q: %s", ErrID, by, unescapeReason(by, err))
	}
	if strings.HasPrefix(s, AnonymousPrefix) {
		return "", fmt.Errorf("%w: by %q names a reserved anonymous endpoint", ErrID, by)
	}
	return s, nil
}

// AnonymousEndpoint returns the endpoint name that stands for the author of
// an anonymous history entry (one without by): AnonymousPrefix, the entry's
// when in the canonical form of FS-TYPE-4, "/", and its sequence, for
// example "anonymous/2009-03-05T10:00:00Z/2".
//
// FS-HIST-4 makes (when, sequence) the identity of an anonymous entry, and
// the Sync Framework derives a replica id from the same pair
// (FeedIdConverter.GenerateAnonymousReplicaId). The name
// is stable (the same instant written with another offset or a fraction of
// a second gives the same name, as FS-SUBSUME-1 compares instants),
// distinct for distinct pairs, and never equal to a name EndpointFromBy
// returns. h.By is not looked at; an entry without when (invalid by
// FS-HIST-4) gets an empty when part.
func (IDs[K]) AnonymousEndpoint(h feedsync.History) string {
	when := ""
	if h.HasWhen() {
		when = feedsync.FormatTime(h.When)
	}
	return AnonymousPrefix + when + "/" + strconv.FormatInt(h.Sequence, 10)
}

// Endpoint returns the endpoint name of the author of h: EndpointFromBy of
// its by, or AnonymousEndpoint for an anonymous entry.
func (ids IDs[K]) Endpoint(h feedsync.History) (string, error) {
	if h.Anonymous() {
		return ids.AnonymousEndpoint(h), nil
	}
	return ids.EndpointFromBy(h.By)
}

// unescapeReason is why feedsync.UnescapeID refused id, without the id,
// which the caller's message already gives.
func unescapeReason(id string, err error) string {
	return strings.TrimPrefix(err.Error(), fmt.Sprintf("feedsync: id %q: ", id))
}

func formatUUID(u [16]byte) string {
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

// parseUUID reads exactly what formatUUID writes.
func parseUUID(s string) ([16]byte, bool) {
	var u [16]byte
	if len(s) != 36 || s[8] != '-' || s[13] != '-' || s[18] != '-' || s[23] != '-' {
		return u, false
	}
	h := s[0:8] + s[9:13] + s[14:18] + s[19:23] + s[24:36]
	if strings.ToLower(h) != h {
		return u, false
	}
	if _, err := hex.Decode(u[:], []byte(h)); err != nil {
		return u, false
	}
	return u, true
}
