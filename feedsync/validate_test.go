package feedsync

import (
	"errors"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

func TestCheckSync(t *testing.T) {
	ok := func() *Sync {
		return rsync("c-1", 2, rh(2, "2009-04-01T10:00:00Z", "b"), rh(1, "2009-04-01T09:00:00Z", "a"))
	}
	copyOf := func(s *Sync) *Item { return ritem(RSS, "copy", s) }
	tests := []struct {
		name       string
		sync       func() *Sync
		errs, warn []string // substrings, one per expected problem, in order
	}{
		{"valid", ok, nil, nil},
		{"nil", func() *Sync { return nil }, []string{"no sx:sync"}, nil},
		{"FS-SYNC-2 id missing", func() *Sync { s := ok(); s.ID = ""; return s },
			[]string{"id is missing (FS-SYNC-2)"}, nil},
		{"FS-TYPE-5 id invalid", func() *Sync { s := ok(); s.ID = "a b"; return s },
			[]string{`id "a b" is not a URN NSS`}, nil},
		{"FS-TYPE-5 id with lower-case escape", func() *Sync { s := ok(); s.ID = "a%2fb"; return s },
			nil, []string{`id "a%2fb" has lower-case %-escapes; it is compared as "a%2Fb"`}},
		{"FS-SYNC-3 FS-TYPE-2 updates below 1", func() *Sync { s := ok(); s.Updates = 0; return s },
			[]string{"updates 0 is outside 1..2147483647"}, nil},
		{"FS-TYPE-2 updates above MaxInt", func() *Sync {
			s := ok()
			s.Updates = MaxInt + 1
			return s
		}, []string{"updates 2147483648 is outside 1..2147483647"}, []string{"topmost sequence 2 differs from updates 2147483648"}},
		{"FS-ROBUST-1 FS-SYNC-6 no history", func() *Sync { s := ok(); s.History = nil; return s },
			[]string{"no sx:history entry"}, nil},
		{"FS-ROBUST-1 FS-HIST-4 entry with neither when nor by", func() *Sync {
			s := ok()
			s.History[1] = History{Sequence: 1}
			return s
		}, []string{"history entry 2: neither when nor by"}, nil},
		{"FS-HIST-2 FS-TYPE-2 sequence below 1", func() *Sync {
			s := ok()
			s.History[1].Sequence = 0
			return s
		}, []string{"history entry 2: sequence 0 is outside 1..2147483647"}, nil},
		{"FS-HIST-2 sequence above updates", func() *Sync {
			s := ok()
			s.History[1].Sequence = 3
			return s
		}, []string{"history entry 2: sequence 3 is above updates 2"}, nil},
		{"FS-ROBUST-2 topmost sequence above updates is a warning", func() *Sync {
			s := ok()
			s.History[0].Sequence = 4
			return s
		}, nil, []string{"topmost sequence 4 differs from updates 2 (FS-SYNC-7, FS-ROBUST-2)"}},
		{"FS-ROBUST-2 FS-SYNC-7 topmost sequence differs from updates", func() *Sync {
			s := ok()
			s.Updates = 5
			return s
		}, nil, []string{"topmost sequence 2 differs from updates 5 (FS-SYNC-7, FS-ROBUST-2)"}},
		{"FS-CONFLICTS-1 copy with another id", func() *Sync {
			s := ok()
			c := ok()
			c.ID = "other"
			c.History[0].By = "c"
			s.Conflicts = []*Item{copyOf(c)}
			return s
		}, []string{`conflict copy 1: id "other" differs from the item's id "c-1"`}, nil},
		{"FS-CONFLICTS-1 copy without sx:sync", func() *Sync {
			s := ok()
			s.Conflicts = []*Item{NewItem(RSS, nil)}
			return s
		}, []string{"conflict copy 1: no sx:sync"}, nil},
		{"conflict copy's own metadata", func() *Sync {
			s := ok()
			s.Conflicts = []*Item{copyOf(rsync("c-1", 2, rh(2, "", ""), rh(1, "2009-04-01T09:00:00Z", "a")))}
			return s
		}, []string{"conflict copy 1: history entry 1: neither when nor by"}, nil},
		{"FS-CONFLICTS-2 nested conflicts", func() *Sync {
			s := ok()
			c := rsync("c-1", 2, rh(2, "2009-04-01T10:00:00Z", "c"), rh(1, "2009-04-01T09:00:00Z", "a"))
			c.Conflicts = []*Item{copyOf(rsync("c-1", 2, rh(2, "2009-04-01T10:00:00Z", "d"), rh(1, "2009-04-01T09:00:00Z", "a")))}
			s.Conflicts = []*Item{copyOf(c)}
			return s
		}, nil, []string{"conflict copy 1: holds 1 nested conflict copies"}},
		{"FS-SYNC-5 FS-MERGE-11 noconflicts with conflicts", func() *Sync {
			s := ok()
			s.NoConflicts = true
			c := rsync("c-1", 2, rh(2, "2009-04-01T10:00:00Z", "c"), rh(1, "2009-04-01T09:00:00Z", "a"))
			c.NoConflicts = true
			s.Conflicts = []*Item{copyOf(c)}
			return s
		}, []string{`noconflicts="true" but the item holds 1 conflict copies`}, nil},
		{"FS-NOCONF-3 versions disagree on noconflicts", func() *Sync {
			s := ok()
			c := rsync("c-1", 2, rh(2, "2009-04-01T10:00:00Z", "c"), rh(1, "2009-04-01T09:00:00Z", "a"))
			c.NoConflicts = true
			s.Conflicts = []*Item{copyOf(c)}
			return s
		}, nil, []string{"conflict copy 1: noconflicts=true but the item has noconflicts=false (FS-NOCONF-3"}},
		{"FS-UPDATE-4 copy subsumed by its item", func() *Sync {
			s := ok()
			s.Conflicts = []*Item{copyOf(rsync("c-1", 1, rh(1, "2009-04-01T09:00:00Z", "a")))}
			return s
		}, nil, []string{"conflict copy 1: version 1@a is subsumed by the item holding it"}},
		{"FS-CONFLICT-4 same version twice", func() *Sync {
			s := ok()
			c := rsync("c-1", 2, rh(2, "2009-04-01T10:00:00Z", "c"), rh(1, "2009-04-01T09:00:00Z", "a"))
			s.Conflicts = []*Item{copyOf(c), copyOf(c.Clone())}
			return s
		}, nil, []string{"conflict copy 2: same version as conflict copy 1"}},
		{"several problems at once", func() *Sync {
			return &Sync{ID: "", Updates: 0, History: []History{{Sequence: 0}}}
		}, []string{"id is missing", "updates 0", "history entry 1: neither when nor by", "history entry 1: sequence 0"}, nil},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			errs, warns := CheckSync(tc.sync())
			match := func(kind string, got []error, want []string) {
				t.Helper()
				if len(got) != len(want) {
					t.Errorf("%s: got %d %v, want %d %q", kind, len(got), got, len(want), want)
					return
				}
				for i, e := range got {
					if !strings.Contains(e.Error(), want[i]) {
						t.Errorf("%s %d: %q does not contain %q", kind, i, e, want[i])
					}
				}
			}
			match("errors", errs, tc.errs)
			match("warnings", warns, tc.warn)
			for _, e := range errs {
				if tc.sync() != nil && !errors.Is(e, ErrInvalidSync) {
					t.Errorf("error %v does not wrap ErrInvalidSync", e)
				}
			}
		})
	}
}

// Everything the rules produce passes CheckSync without warnings.
func TestCheckSyncOnRuleResults(t *testing.T) {
	_, laptop, tablet := e5(t)
	m, _ := MergeItem(laptop, tablet)
	e6 := mustItem(t)(ResolveKeep(m, 1, Stamp{By: "tablet", When: rt("2009-04-02T12:00:00Z")}))
	for _, it := range []*Item{laptop, tablet, m, e6, Purge(e6)} {
		if errs, warns := CheckSync(it.Sync); len(errs)+len(warns) > 0 {
			t.Errorf("%s: %v %v", describe(t, it), errs, warns)
		}
	}
}

// FS-ROBUST-3, FS-SYNC-2: duplicate ids in one feed.
func TestIDSetFSROBUST3(t *testing.T) {
	// FS-ROBUST-3: the second "b" makes the feed invalid; the error says
	// where both are.
	mk := func(id string, line int) *Item {
		it := ritem(RSS, id, rsync(id, 1, rh(1, "", "a")))
		it.line = line
		return it
	}
	var set IDSet
	for _, it := range []*Item{mk("a", 3), mk("b", 7), NewItem(RSS, nil), mk("c%2f", 9)} {
		if err := set.Add(it); err != nil {
			t.Fatalf("Add(%s): %v", it.ID(), err)
		}
	}
	err := set.Add(mk("b", 12))
	var ie *ItemError
	if !errors.Is(err, ErrDuplicateID) || !errors.As(err, &ie) {
		t.Fatalf("err = %v, want ErrDuplicateID in an *ItemError", err)
	}
	if ie.ID != "b" || ie.Line != 12 || !strings.Contains(err.Error(), "line 7") {
		t.Errorf("error %q must name id b, line 12 and the first line 7", err)
	}
	// FS-TYPE-5: ids equal after normalising %-escapes are the same id.
	if err := set.Add(mk("c%2F", 20)); !errors.Is(err, ErrDuplicateID) {
		t.Errorf("c%%2F after c%%2f: err = %v", err)
	}
	if set.Len() != 3 {
		t.Errorf("Len = %d, want 3", set.Len())
	}
}

func TestIDs(t *testing.T) {
	t.Run("FS-TYPE-5 ValidID", func(t *testing.T) {
		for id, want := range map[string]bool{
			"stamps-1": true, "urn:uuid:5b0e0000": true, "()+,-.:=@;$_!*'": true,
			"a%2Fb": true, "a%2fb": true, "%41": true,
			"": false, "a b": false, "a/b": false, "a?b": false, "a#b": false,
			"%": false, "%4": false, "a%zz": false, "é": false, "a\x00": false,
		} {
			if got := ValidID(id); got != want {
				t.Errorf("ValidID(%q) = %v, want %v", id, got, want)
			}
		}
	})
	t.Run("FS-TYPE-5 NormalizeID", func(t *testing.T) {
		for in, want := range map[string]string{
			"abc":       "abc",
			"a%2fb%3a":  "a%2Fb%3A",
			"%aa%bB":    "%AA%BB",
			"a%zz%2f":   "a%zz%2F", // malformed escapes are left alone
			"%2":        "%2",
			"Ab%2F":     "Ab%2F", // letters outside escapes keep their case
			"x%e9%C3%a": "x%E9%C3%a",
		} {
			if got := NormalizeID(in); got != want {
				t.Errorf("NormalizeID(%q) = %q, want %q", in, got, want)
			}
		}
	})
	t.Run("FS-CREATE-1 NewID", func(t *testing.T) {
		re := regexp.MustCompile(`^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$`)
		seen := map[string]bool{}
		for i := 0; i < 1000; i++ {
			id := NewID()
			if !re.MatchString(id) || !ValidID(id) || NormalizeID(id) != id {
				t.Fatalf("NewID() = %q is not a lower-case v4 UUID and valid NSS", id)
			}
			if seen[id] {
				t.Fatalf("NewID repeated %q", id)
			}
			seen[id] = true
		}
	})
	t.Run("FS-TYPE-6 ValidBy", func(t *testing.T) {
		for by, want := range map[string]bool{
			"laptop": true, "EP1": true, "user@device": true, "convert.js": true,
			"": false, "my laptop": false, "a/b": false, "ünï": false,
		} {
			if got := ValidBy(by); got != want {
				t.Errorf("ValidBy(%q) = %v, want %v", by, got, want)
			}
		}
	})
}

func TestStampValid(t *testing.T) {
	now := time.Date(2009, 4, 1, 9, 0, 0, 0, time.UTC)
	tests := []struct {
		name string
		s    Stamp
		ok   bool
	}{
		{"FS-HIST-4 both", Stamp{By: "laptop", When: now}, true},
		{"FS-HIST-4 by only", Stamp{By: "laptop"}, true},
		{"FS-HIST-4 when only (anonymous)", Stamp{When: now}, true},
		{"FS-HIST-4 neither", Stamp{}, false},
		{"FS-TYPE-6 by outside NSS", Stamp{By: "my laptop", When: now}, false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			err := tc.s.Valid()
			if (err == nil) != tc.ok {
				t.Errorf("Valid() = %v, want ok=%v", err, tc.ok)
			}
			if err != nil && !errors.Is(err, ErrBadStamp) {
				t.Errorf("error %v does not wrap ErrBadStamp", err)
			}
		})
	}
	// FS-TYPE-6: readers accept any non-empty by; only generation is
	// restricted, so the rules still compare a foreign by as read.
	foreign := ritem(RSS, "x", rsync("f", 1, rh(1, "", "some host/with space")))
	if errs, _ := CheckSync(foreign.Sync); len(errs) != 0 {
		t.Errorf("foreign by rejected: %v", errs)
	}
	if d := cmp.Diff(true, SubsumedBy(foreign.Sync, foreign.Sync)); d != "" {
		t.Error(d)
	}
}
