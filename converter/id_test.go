package converter_test

import (
	"errors"
	"math"
	"testing"
	"time"

	"github.com/feedsync/go-feedsync/converter"
	"github.com/feedsync/go-feedsync/feedsync"
)

// TestIDsString checks string keys: sync ids valid and normalised
// (FS-TYPE-5), one to one, equal to Map.SyncID, and AppID their inverse.
func TestIDsString(t *testing.T) {
	tests := []struct{ key, want string }{
		{"task-1", "task-1"},
		{"urn:uuid:1b4e28ba-2fa1-4d2e-883f-0016d3cca427", "urn:uuid:1b4e28ba-2fa1-4d2e-883f-0016d3cca427"},
		{"()+,-.:=@;$_!*'", "()+,-.:=@;$_!*'"},
		{"a b", "a%20b"},
		{" leading and trailing ", "%20leading%20and%20trailing%20"},
		{"a/b", "a%2Fb"},
		{"http://example.com/a?b=1#c", "http:%2F%2Fexample.com%2Fa%3Fb=1%23c"},
		{"100%", "100%25"},
		{"a%2Fb", "a%252Fb"},
		{"%", "%25"},
		{"café", "caf%C3%A9"},
		{"日本", "%E6%97%A5%E6%9C%AC"},
		{"🎉", "%F0%9F%8E%89"},
		{"tab\tnl\n", "tab%09nl%0A"},
		{"\x00\xff", "%00%FF"}, // not UTF-8: bytes are kept as they are
		{"<&>\"", "%3C%26%3E%22"},
	}
	var ids converter.IDs[string]
	var m converter.Map
	seen := map[string]string{}
	for _, tc := range tests {
		t.Run(tc.key, func(t *testing.T) {
			got, err := ids.SyncID(tc.key)
			if err != nil {
				t.Fatalf("SyncID(%q): %v", tc.key, err)
			}
			if got != tc.want {
				t.Errorf("SyncID(%q) = %q, want %q", tc.key, got, tc.want)
			}
			if !feedsync.ValidID(got) || feedsync.NormalizeID(got) != got {
				t.Errorf("SyncID(%q) = %q is not a normalised sync id", tc.key, got)
			}
			if other, ok := seen[got]; ok {
				t.Errorf("SyncID(%q) = SyncID(%q) = %q", tc.key, other, got)
			}
			seen[got] = tc.key
			if mm := m.SyncID(tc.key); mm != got {
				t.Errorf("Map.SyncID(%q) = %q, IDs gives %q", tc.key, mm, got)
			}
			back, err := ids.AppID(got)
			if err != nil || back != tc.key {
				t.Errorf("AppID(%q) = %q, %v; want %q", got, back, err, tc.key)
			}
		})
	}
	if _, err := ids.SyncID(""); !errors.Is(err, converter.ErrID) {
		t.Errorf("SyncID(\"\"): got %v, want ErrID", err)
	}
}

// TestIDsAppIDRefuses checks that AppID refuses every id SyncID does not
// produce, so that reading a key and writing it back never changes an id
// (FS-SYNC-2), and accepts lower-case escape digits (RFC 2141 equality).
func TestIDsAppIDRefuses(t *testing.T) {
	var ids converter.IDs[string]
	for _, id := range []string{
		"",       // no key
		"a b",    // outside the NSS
		"a/b",    // outside the NSS
		"%41",    // "A" needs no escape
		"a%2",    // malformed
		"a%zz",   // malformed
		"a%",     // malformed
		"%2%41",  // malformed
		"café",   // outside the NSS
		"a%2D-b", // "-" needs no escape
	} {
		if k, err := ids.AppID(id); !errors.Is(err, converter.ErrID) {
			t.Errorf("AppID(%q) = %q, %v; want ErrID", id, k, err)
		}
	}
	got, err := ids.AppID("a%2fb%c3%a9")
	if err != nil || got != "a/bé" {
		t.Errorf("AppID with lower-case escapes = %q, %v; want %q", got, err, "a/bé")
	}
}

// TestIDsIntegers checks integer keys: decimal sync ids, round trips at
// the edges of each type, and refusal of every other spelling.
func TestIDsIntegers(t *testing.T) {
	checkInt(t, converter.IDs[int]{}, []int{0, 1, -1, 42, math.MaxInt, math.MinInt})
	checkInt(t, converter.IDs[int8]{}, []int8{0, math.MaxInt8, math.MinInt8})
	checkInt(t, converter.IDs[int64]{}, []int64{7, math.MaxInt64, math.MinInt64})
	checkInt(t, converter.IDs[uint64]{}, []uint64{0, 9, math.MaxUint64})
	checkInt(t, converter.IDs[uint16]{}, []uint16{0, math.MaxUint16})
	type taskID int32
	checkInt(t, converter.IDs[taskID]{}, []taskID{-5, math.MaxInt32})

	if got, _ := (converter.IDs[int]{}).SyncID(-42); got != "-42" {
		t.Errorf("SyncID(-42) = %q, want -42", got)
	}
	refuse := map[string]func(string) error{
		"int":    func(s string) error { _, err := converter.IDs[int]{}.AppID(s); return err },
		"int8":   func(s string) error { _, err := converter.IDs[int8]{}.AppID(s); return err },
		"uint":   func(s string) error { _, err := converter.IDs[uint]{}.AppID(s); return err },
		"uint16": func(s string) error { _, err := converter.IDs[uint16]{}.AppID(s); return err },
	}
	for _, tc := range []struct{ typ, id string }{
		{"int", ""}, {"int", "+5"}, {"int", "05"}, {"int", "-0"}, {"int", "1e3"}, {"int", "0x10"},
		{"int", "1_000"}, {"int", " 1"}, {"int", "99999999999999999999"}, {"int", "a"},
		{"int8", "128"}, {"int8", "-129"},
		{"uint", "-1"}, {"uint", "+1"}, {"uint16", "65536"}, {"uint16", "007"},
	} {
		if err := refuse[tc.typ](tc.id); !errors.Is(err, converter.ErrID) {
			t.Errorf("IDs[%s].AppID(%q): got %v, want ErrID", tc.typ, tc.id, err)
		}
	}
}

func checkInt[K converter.Key](t *testing.T, ids converter.IDs[K], keys []K) {
	t.Helper()
	for _, k := range keys {
		id, err := ids.SyncID(k)
		if err != nil {
			t.Errorf("SyncID(%v): %v", k, err)
			continue
		}
		if !feedsync.ValidID(id) {
			t.Errorf("SyncID(%v) = %q is not a valid sync id", k, id)
		}
		back, err := ids.AppID(id)
		if err != nil || back != k {
			t.Errorf("AppID(%q) = %v, %v; want %v", id, back, err, k)
		}
	}
}

// TestIDsUUID checks 16-byte keys: the canonical lower-case UUID form, as
// feedsync.NewID writes it, and nothing else.
func TestIDsUUID(t *testing.T) {
	type uuid [16]byte
	var ids converter.IDs[uuid]
	u := uuid{0x1b, 0x4e, 0x28, 0xba, 0x2f, 0xa1, 0x4d, 0x2e, 0x88, 0x3f, 0x00, 0x16, 0xd3, 0xcc, 0xa4, 0x27}
	id, err := ids.SyncID(u)
	if err != nil || id != "1b4e28ba-2fa1-4d2e-883f-0016d3cca427" {
		t.Errorf("SyncID = %q, %v", id, err)
	}
	for _, k := range []uuid{u, {}, {0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff}} {
		id, err := ids.SyncID(k)
		if err != nil {
			t.Fatalf("SyncID(%x): %v", k, err)
		}
		if back, err := ids.AppID(id); err != nil || back != k {
			t.Errorf("AppID(%q) = %x, %v; want %x", id, back, err, k)
		}
	}
	fresh := feedsync.NewID()
	k, err := ids.AppID(fresh)
	if err != nil {
		t.Fatalf("AppID(NewID() = %q): %v", fresh, err)
	}
	if again, _ := ids.SyncID(k); again != fresh {
		t.Errorf("SyncID(AppID(%q)) = %q", fresh, again)
	}
	for _, bad := range []string{
		"1B4E28BA-2FA1-4D2E-883F-0016D3CCA427", // upper case: another sync id
		"1b4e28ba2fa14d2e883f0016d3cca427",
		"urn:uuid:1b4e28ba-2fa1-4d2e-883f-0016d3cca427",
		"{1b4e28ba-2fa1-4d2e-883f-0016d3cca427}",
		"1b4e28ba-2fa1-4d2e-883f-0016d3cca42",
		"1b4e28ba-2fa1-4d2e-883f-0016d3cca42g",
		"1b4e28ba+2fa1-4d2e-883f-0016d3cca427",
		"",
	} {
		if k, err := ids.AppID(bad); !errors.Is(err, converter.ErrID) {
			t.Errorf("AppID(%q) = %x, %v; want ErrID", bad, k, err)
		}
	}
}

// TestIDsEndpoints checks endpoint names ⇄ by values (FS-TYPE-6,
// FS-BY-1): valid by values, one to one, and the reserved anonymous
// names.
func TestIDsEndpoints(t *testing.T) {
	var ids converter.IDs[string]
	for _, tc := range []struct{ endpoint, by string }{
		{"laptop", "laptop"},
		{"EP1", "EP1"},
		{"ann@example.org/phone", "ann@example.org%2Fphone"},
		{"Ann's tablet", "Ann's%20tablet"},
		{"ünï", "%C3%BCn%C3%AF"},
		{"anonymous", "anonymous"},
		{"anonymous-2", "anonymous-2"},
	} {
		by, err := ids.ByFromEndpoint(tc.endpoint)
		if err != nil || by != tc.by {
			t.Errorf("ByFromEndpoint(%q) = %q, %v; want %q", tc.endpoint, by, err, tc.by)
			continue
		}
		if !feedsync.ValidBy(by) {
			t.Errorf("ByFromEndpoint(%q) = %q is not a valid by", tc.endpoint, by)
		}
		if err := (feedsync.Stamp{By: by}).Valid(); err != nil {
			t.Errorf("Stamp{By: %q}: %v", by, err)
		}
		back, err := ids.EndpointFromBy(by)
		if err != nil || back != tc.endpoint {
			t.Errorf("EndpointFromBy(%q) = %q, %v; want %q", by, back, err, tc.endpoint)
		}
	}
	for _, endpoint := range []string{"", "anonymous/x", converter.AnonymousPrefix} {
		if by, err := ids.ByFromEndpoint(endpoint); !errors.Is(err, converter.ErrID) {
			t.Errorf("ByFromEndpoint(%q) = %q, %v; want ErrID", endpoint, by, err)
		}
	}
	for _, by := range []string{
		"",                     // anonymous: not a by
		"EP 1",                 // a reader accepts it (FS-TYPE-6); ByFromEndpoint never writes it
		"a/b",                  // Abdera admits it; not ours
		"%41",                  // not canonical
		"anonymous%2Fx",        // reserved
		"anonymous%2F2009%2F1", // reserved
	} {
		if e, err := ids.EndpointFromBy(by); !errors.Is(err, converter.ErrID) {
			t.Errorf("EndpointFromBy(%q) = %q, %v; want ErrID", by, e, err)
		}
	}
}

// TestIDsAnonymousEndpoint checks the names of anonymous history entries
// (FS-HIST-4, S10): stable, distinct for distinct (when, sequence), the
// same for the same instant however written, never a name EndpointFromBy
// gives.
func TestIDsAnonymousEndpoint(t *testing.T) {
	var ids converter.IDs[int]
	at := time.Date(2009, 3, 5, 10, 0, 0, 0, time.UTC)
	h := feedsync.History{Sequence: 2, When: at}
	if got, want := ids.AnonymousEndpoint(h), "anonymous/2009-03-05T10:00:00Z/2"; got != want {
		t.Errorf("AnonymousEndpoint = %q, want %q", got, want)
	}
	same := []feedsync.History{
		{Sequence: 2, When: at.In(time.FixedZone("", 3600))},
		{Sequence: 2, When: at.Add(400 * time.Millisecond)},
		{Sequence: 2, When: at, By: "ignored"},
	}
	for _, s := range same {
		if got, want := ids.AnonymousEndpoint(s), ids.AnonymousEndpoint(h); got != want {
			t.Errorf("AnonymousEndpoint(%v) = %q, want %q (same instant, same sequence)", s, got, want)
		}
	}

	seen := map[string]feedsync.History{}
	for _, when := range []time.Time{{}, at, at.Add(time.Second), at.Add(time.Hour), at.AddDate(1, 0, 0)} {
		for _, seq := range []int64{1, 2, 10, 12, 21, feedsync.MaxInt} {
			h := feedsync.History{Sequence: seq, When: when}
			name := ids.AnonymousEndpoint(h)
			if prev, ok := seen[name]; ok {
				t.Errorf("AnonymousEndpoint(%v) = AnonymousEndpoint(%v) = %q", h, prev, name)
			}
			seen[name] = h
			if name != ids.AnonymousEndpoint(h) {
				t.Errorf("AnonymousEndpoint(%v) is not stable", h)
			}
			if _, err := ids.ByFromEndpoint(name); !errors.Is(err, converter.ErrID) {
				t.Errorf("ByFromEndpoint(%q) accepted an anonymous name", name)
			}
			got, err := ids.Endpoint(h)
			if err != nil || got != name {
				t.Errorf("Endpoint(%v) = %q, %v; want %q", h, got, err, name)
			}
		}
	}

	named := feedsync.History{Sequence: 3, When: at, By: "ann@example.org%2Fphone"}
	if got, err := ids.Endpoint(named); err != nil || got != "ann@example.org/phone" {
		t.Errorf("Endpoint(named) = %q, %v", got, err)
	}
}

// FuzzIDsString checks, for any string, that SyncID gives a normalised
// valid sync id that AppID reads back, and that whatever AppID accepts
// SyncID writes back the same (up to the case of escape digits).
func FuzzIDsString(f *testing.F) {
	for _, s := range []string{"task-1", "a b", "100%", "a%2Fb", "café", "%41", "a%2fb", ""} {
		f.Add(s)
	}
	var ids converter.IDs[string]
	f.Fuzz(func(t *testing.T, s string) {
		if id, err := ids.SyncID(s); err == nil {
			if !feedsync.ValidID(id) || feedsync.NormalizeID(id) != id {
				t.Fatalf("SyncID(%q) = %q is not a normalised sync id", s, id)
			}
			if back, err := ids.AppID(id); err != nil || back != s {
				t.Fatalf("AppID(SyncID(%q)) = %q, %v", s, back, err)
			}
		} else if s != "" {
			t.Fatalf("SyncID(%q): %v", s, err)
		}
		if k, err := ids.AppID(s); err == nil {
			if id, _ := ids.SyncID(k); id != feedsync.NormalizeID(s) {
				t.Fatalf("SyncID(AppID(%q)) = %q", s, id)
			}
		}
	})
}
