package feedsync

import (
	"fmt"
	"slices"
	"time"

	"github.com/beevik/etree"
)

// Namespace is the FeedSync 1.0 namespace URI (FS-NS-1). Elements are matched
// on this URI, never on the prefix a document happens to bind to it.
const Namespace = "http://feedsync.org/2007/feedsync"

// LegacyNamespace is the SSE 0.93 namespace. The reader accepts it as an alias
// of Namespace; writers always emit Namespace.
const LegacyNamespace = "http://www.microsoft.com/schemas/sse"

// Namespace URIs of the two feed formats.
const (
	AtomNamespace = "http://www.w3.org/2005/Atom"
)

// MaxInt is the largest value accepted for updates and sequence (FS-TYPE-2):
// the Sync Framework keeps them in 32-bit integers.
const MaxInt = 1<<31 - 1

// Format is the syndication format a feed or item is written in.
type Format uint8

const (
	// FormatUnknown is the zero Format; readers set a real one.
	FormatUnknown Format = iota
	// RSS is RSS 2.0: items are <item> children of <channel>.
	RSS
	// Atom is Atom 1.0: items are <entry> children of <feed>.
	Atom
)

// String returns "rss", "atom" or "unknown".
func (f Format) String() string {
	switch f {
	case RSS:
		return "rss"
	case Atom:
		return "atom"
	}
	return "unknown"
}

// MarshalText returns "rss" or "atom", and nothing for FormatUnknown, so
// that a Format reads as its name in JSON, XML attributes and flags.
func (f Format) MarshalText() ([]byte, error) {
	switch f {
	case FormatUnknown:
		return nil, nil
	case RSS, Atom:
		return []byte(f.String()), nil
	}
	return nil, fmt.Errorf("feedsync: marshal Format(%d): not a format", uint8(f))
}

// UnmarshalText sets f from a name ParseFormat accepts; empty text is
// FormatUnknown, as MarshalText writes it.
func (f *Format) UnmarshalText(b []byte) error {
	if len(b) == 0 {
		*f = FormatUnknown
		return nil
	}
	v, err := ParseFormat(string(b))
	if err != nil {
		return err
	}
	*f = v
	return nil
}

// ParseFormat maps "rss" or "atom" to a Format.
func ParseFormat(s string) (Format, error) {
	switch s {
	case "rss", "RSS":
		return RSS, nil
	case "atom", "Atom", "ATOM":
		return Atom, nil
	}
	return FormatUnknown, fmt.Errorf("feedsync: unknown format %q (want rss or atom)", s)
}

// History is one sx:history entry: the record of one update (FS-HIST).
//
// An entry with an empty By is anonymous; its identity is the pair
// (When, Sequence) (FS-HIST-4, FS-SUBSUME-1).
type History struct {
	// Sequence is the value updates took when this update was made (FS-HIST-2).
	Sequence int64
	// When is the modifying endpoint's clock at the update, in UTC and whole
	// seconds (FS-TYPE-4). The zero Time means the attribute is absent.
	When time.Time
	// By is the endpoint identifier (FS-BY-1). Empty means absent.
	By string
	// Extra holds attributes this package does not know, kept for round
	// trips (FS-NS-5). The algorithms ignore them.
	Extra []etree.Attr
}

// HasWhen reports whether the entry carries a when attribute.
func (h History) HasWhen() bool { return !h.When.IsZero() }

// Anonymous reports whether the entry has no by attribute.
func (h History) Anonymous() bool { return h.By == "" }

// String formats the entry as "sequence@by" or "sequence@when" for messages.
func (h History) String() string {
	if h.By != "" {
		return fmt.Sprintf("%d@%s", h.Sequence, h.By)
	}
	return fmt.Sprintf("%d@%s", h.Sequence, FormatTime(h.When))
}

// Sync is the sx:sync element of an item: the item's version metadata.
type Sync struct {
	// ID identifies the item in every feed that carries it (FS-SYNC-2).
	ID string
	// Updates counts the updates the item has undergone, creation included
	// (FS-SYNC-3).
	Updates int64
	// Deleted marks a tombstone (FS-SYNC-4).
	Deleted bool
	// NoConflicts forbids keeping conflict copies (FS-SYNC-5, FS-NOCONF).
	NoConflicts bool
	// History lists the updates, most recent first (FS-HIST-1). Its order is
	// kept exactly as read; it is never re-sorted.
	History []History
	// Conflicts are the losing versions kept by merges (FS-CONFLICTS-1). Each
	// has its own Sync with the same ID and no Conflicts of its own.
	Conflicts []*Item

	// ExtraAttrs and ExtraElements hold what this package does not know on
	// sx:sync (a misspelled noconflict attribute, say), kept for round trips
	// (FS-NS-5).
	ExtraAttrs    []etree.Attr
	ExtraElements []*etree.Element
}

// Top returns the topmost (most recent) history entry, or the zero History
// when there is none.
func (s *Sync) Top() History {
	if s == nil || len(s.History) == 0 {
		return History{}
	}
	return s.History[0]
}

// Clone returns a copy of s whose slices may be changed without touching s.
// Conflict items themselves are shared: items are treated as immutable values.
func (s *Sync) Clone() *Sync {
	if s == nil {
		return nil
	}
	c := *s
	c.History = cloneHistory(s.History)
	if s.Conflicts != nil {
		c.Conflicts = append([]*Item(nil), s.Conflicts...)
	}
	if s.ExtraAttrs != nil {
		c.ExtraAttrs = append([]etree.Attr(nil), s.ExtraAttrs...)
	}
	if s.ExtraElements != nil {
		c.ExtraElements = append([]*etree.Element(nil), s.ExtraElements...)
	}
	return &c
}

func cloneHistory(h []History) []History {
	if h == nil {
		return nil
	}
	out := make([]History, len(h))
	for i, e := range h {
		out[i] = e
		if e.Extra != nil {
			out[i].Extra = append([]etree.Attr(nil), e.Extra...)
		}
	}
	return out
}

// sameEntry reports whether two entries record the same update: equal
// sequence, by and when. Extra attributes are not part of an entry's identity.
func sameEntry(a, b History) bool {
	return a.Sequence == b.Sequence && a.By == b.By && a.When.Equal(b.When)
}

// SameVersion reports whether s and o describe the same version: the same id,
// updates, flags and history (entry by entry). Conflicts are not compared.
func (s *Sync) SameVersion(o *Sync) bool {
	if s == nil || o == nil {
		return s == o
	}
	if s.ID != o.ID || s.Updates != o.Updates || s.Deleted != o.Deleted ||
		s.NoConflicts != o.NoConflicts || len(s.History) != len(o.History) {
		return false
	}
	for i := range s.History {
		if !sameEntry(s.History[i], o.History[i]) {
			return false
		}
	}
	return true
}

// Sharing is the feed-level sx:sharing element (FS-SHARING).
type Sharing struct {
	// Since and Until bound the items a partial feed covers. They are opaque
	// strings unless both parse as date-times (FS-SHARING-2, §17 A-12).
	Since, Until string
	// Expires is the publisher's hint to poll again before then; zero when
	// absent (FS-SHARING-3).
	Expires time.Time
	// Related lists sx:related links (FS-SHARING-4).
	Related []Related
	// ExtraAttrs holds unknown attributes, kept for round trips (FS-NS-5).
	ExtraAttrs []etree.Attr
}

// clone returns a copy of s that shares no slice with it.
func (s *Sharing) clone() *Sharing {
	if s == nil {
		return nil
	}
	c := *s
	c.Related = slices.Clone(s.Related)
	c.ExtraAttrs = slices.Clone(s.ExtraAttrs)
	return &c
}

// equal reports whether s and o describe the same sx:sharing.
func (s *Sharing) equal(o *Sharing) bool {
	if s == nil || o == nil {
		return s == o
	}
	return s.Since == o.Since && s.Until == o.Until && s.Expires.Equal(o.Expires) &&
		slices.Equal(s.Related, o.Related) &&
		slices.EqualFunc(s.ExtraAttrs, o.ExtraAttrs, func(a, b etree.Attr) bool {
			return a.Space == b.Space && a.Key == b.Key && a.Value == b.Value
		})
}

// Window returns Since and Until as instants when both parse as date-times
// (FS-SHARING-2); ok is false when they are absent or opaque tokens.
func (s *Sharing) Window() (since, until time.Time, ok bool) {
	if s == nil || s.Since == "" || s.Until == "" {
		return time.Time{}, time.Time{}, false
	}
	a, err1 := ParseTime(s.Since)
	b, err2 := ParseTime(s.Until)
	if err1 != nil || err2 != nil {
		return time.Time{}, time.Time{}, false
	}
	return a, b, true
}

// Related is one sx:related link (FS-RELATED).
type Related struct {
	// Link is the absolute URI of the related feed (FS-RELATED-1).
	Link string
	// Type is "complete" or "aggregated" (FS-RELATED-2).
	Type string
	// Title is an optional human-readable name (FS-RELATED-3).
	Title string
}

// Related feed types (FS-RELATED-2).
const (
	RelatedComplete   = "complete"
	RelatedAggregated = "aggregated"
)

// ParseTime parses an RFC 3339 date-time as FS-TYPE-4 asks readers to: any
// offset and fraction is accepted, then the value is converted to UTC and the
// fraction dropped, so instants compare exactly (FS-ROBUST-5).
//
// A value outside the years 0001 to 9999 once in UTC is refused
// (9999-12-31T23:59:59-14:00 is in year 10000): it could not be written
// back in the canonical form, and every reader would refuse the item. So
// is 0001-01-01T00:00:00Z, the zero time, which means "no when" here.
func ParseTime(s string) (time.Time, error) {
	t, err := time.Parse(time.RFC3339Nano, s)
	if err != nil {
		return time.Time{}, fmt.Errorf("not an RFC 3339 date-time: %q", s)
	}
	t = t.UTC().Truncate(time.Second)
	if err := checkTimeRange(t); err != nil {
		return time.Time{}, fmt.Errorf("%q: %w", s, err)
	}
	return t, nil
}

// checkTimeRange refuses a UTC time FormatTime cannot write canonically.
func checkTimeRange(t time.Time) error {
	if y := t.UTC().Year(); y < 1 || y > 9999 || t.IsZero() {
		return fmt.Errorf("%s in UTC is outside 0001-01-01T00:00:01Z..9999-12-31T23:59:59Z", t.UTC().Format("2006-01-02T15:04:05Z07:00"))
	}
	return nil
}

// FormatTime writes the canonical FeedSync form: UTC, whole seconds, "Z"
// (FS-TYPE-4).
func FormatTime(t time.Time) string {
	return t.UTC().Truncate(time.Second).Format("2006-01-02T15:04:05Z")
}

// Normalize returns t as FeedSync stores it: UTC, whole seconds.
func Normalize(t time.Time) time.Time {
	if t.IsZero() {
		return t
	}
	return t.UTC().Truncate(time.Second)
}
