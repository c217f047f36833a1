package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// TestJSONSummaries checks that every command that ends with a summary
// prints it with --json as one JSON object on standard output, with the
// counts the text gives, and nothing on standard error; and that --json
// is refused where the feed itself would go to standard output.
func TestJSONSummaries(t *testing.T) {
	h := newHarness(t)
	h.copyFixture("e5/laptop.xml", "laptop.xml")
	h.copyFixture("e5/tablet.xml", "tablet.xml")
	plain, err := os.ReadFile(filepath.Join("..", "..", "testdata", "feeds", "plain", "rss091.xml"))
	if err != nil {
		t.Fatal(err)
	}
	h.write("plain.xml", string(plain))
	h.write("tasks.jsonl", `{"id":"a","title":"A"}`+"\n"+`{"id":"b","title":"B"}`+"\n")

	tests := []struct {
		args []string
		code int
		want map[string]any // fields of the object, a subset
	}{
		{[]string{"merge", "laptop.xml", "tablet.xml", "-o", "out.xml"}, 0,
			map[string]any{"output": "out.xml", "new": 1.0, "conflicts": 1.0, "rejected": 0.0}},
		{[]string{"merge", "laptop.xml", "tablet.xml", "-o", "out.xml", "--fail-on-conflicts"}, exitProblem,
			map[string]any{"conflicts": 1.0, "new": 1.0}},
		{[]string{"merge", "--store", "sqlite:s.db", "laptop.xml"}, 0,
			map[string]any{"output": "sqlite:s.db", "new": 2.0}},
		{[]string{"produce", "--store", "sqlite:s.db", "-o", "store.xml"}, 0,
			map[string]any{"output": "store.xml", "store": "sqlite:s.db", "complete": true, "items": 2.0}},
		{[]string{"produce", "tasks.jsonl", "--by", "laptop", "-o", "tasks.xml"}, 0,
			map[string]any{"output": "tasks.xml", "created": 2.0}},
		{[]string{"convert", "plain.xml", "--by", "laptop", "-o", "converted.xml"}, 0,
			map[string]any{"output": "converted.xml"}},
		{[]string{"export", "laptop.xml", "--format", "atom", "-o", "plain-out.xml"}, 0,
			map[string]any{"output": "plain-out.xml", "exported": 2.0}},
		{[]string{"validate", "laptop.xml"}, 0,
			map[string]any{"file": "laptop.xml", "ok": true, "synchronized": 2.0}},
		{[]string{"verify", "laptop.xml", "laptop.xml"}, 0,
			map[string]any{"same": true}},
		{[]string{"version"}, 0,
			map[string]any{}},
	}
	for _, tc := range tests {
		t.Run(strings.Join(tc.args, " "), func(t *testing.T) {
			r := h.run("", append(tc.args, "--json")...)
			if r.code != tc.code {
				t.Fatalf("exit %d, want %d\nstderr:\n%s", r.code, tc.code, r.stderr)
			}
			if tc.code == 0 && r.stderr != "" {
				t.Errorf("stderr is not empty:\n%s", r.stderr)
			}
			if strings.Count(strings.TrimSpace(r.stdout), "\n") != 0 {
				t.Errorf("not one line of JSON:\n%s", r.stdout)
			}
			var got map[string]any
			if err := json.Unmarshal([]byte(r.stdout), &got); err != nil {
				t.Fatalf("stdout is not a JSON object: %v\n%s", err, r.stdout)
			}
			for k, v := range tc.want {
				if got[k] != v {
					t.Errorf("%s = %v, want %v\n%s", k, got[k], v, r.stdout)
				}
			}
		})
	}

	// sync: a feed file with a server; the first round pushes laptop's
	// items and pulls nothing new.
	srv, _ := newFeedServer(t)
	r := h.ok("", "sync", srv.URL, "--feed", "laptop.xml", "--by", "laptop", "--json")
	var s syncJSON
	if err := json.Unmarshal([]byte(r.stdout), &s); err != nil || r.stderr != "" {
		t.Fatalf("sync --json: %v\nstdout:\n%s\nstderr:\n%s", err, r.stdout, r.stderr)
	}
	if s.Push == nil || s.Push.Output != "server" || s.Push.New != 2 || s.Pull == nil || s.Pull.Output != "laptop.xml" {
		t.Errorf("sync --json: %+v\n%s", s, r.stdout)
	}

	for _, args := range [][]string{
		{"merge", "laptop.xml", "tablet.xml", "--json"},
		{"produce", "tasks.jsonl", "--by", "laptop", "--json"},
		{"convert", "plain.xml", "--by", "laptop", "--json", "-o", "-"},
		{"export", "laptop.xml", "--json"},
	} {
		h.fails(exitUsage, []string{"--json needs -o OUT"}, args...)
	}
}

// TestVersion checks feedsync version and feedsync --version.
func TestVersion(t *testing.T) {
	h := newHarness(t)
	a := h.ok("", "version")
	b := h.ok("", "--version")
	if !strings.HasPrefix(a.stdout, "feedsync ") || a.stdout != b.stdout {
		t.Errorf("version: %q, --version: %q", a.stdout, b.stdout)
	}
	var v buildInfo
	if err := json.Unmarshal([]byte(h.ok("", "version", "--json").stdout), &v); err != nil {
		t.Fatal(err)
	}
	if v.Version == "" || !strings.HasPrefix(v.Go, "go") || !strings.Contains(a.stdout, v.Version) {
		t.Errorf("version --json: %+v; text: %q", v, a.stdout)
	}
}

// TestEditJSON checks create, update, delete and resolve with --json: one
// JSON object on standard output naming the item, what was done and the
// item's state after it (FS-CREATE-1, FS-UPDATE-5, FS-UPDATE-6,
// FS-DELETE-1, FS-RESOLVE-2), nothing on standard error, on a feed file and
// on a store; and --json refused where the feed itself would go to
// standard output.
func TestEditJSON(t *testing.T) {
	h := e5Merged(t)
	zero := 0
	one := 1
	tests := []struct {
		args []string
		want editJSON
	}{
		{[]string{"create", "tasks.xml", "--id", "a", "--set", "title=A"},
			editJSON{Output: "tasks.xml", ID: "a", Action: "created", Updates: 1}},
		{[]string{"update", "tasks.xml", "--id", "a", "--fields", `{"done":true}`, "-o", "tasks2.xml"},
			editJSON{Output: "tasks2.xml", ID: "a", Action: "updated", Updates: 2}},
		{[]string{"update", "tasks.xml", "--id", "a", "--set", "title=A"},
			editJSON{Output: "tasks.xml", ID: "a", Action: "unchanged", Updates: 1}},
		{[]string{"delete", "tasks.xml", "--id", "a"},
			editJSON{Output: "tasks.xml", ID: "a", Action: "deleted", Updates: 2, Deleted: true}},
		{[]string{"update", "tasks.xml", "--id", "a", "--set", "title=B"},
			editJSON{Output: "tasks.xml", ID: "a", Action: "undeleted", Updates: 3}},
		{[]string{"resolve", "merged.xml", "--id", "fence-1", "--keep", "1", "-o", "resolved.xml"},
			editJSON{Output: "resolved.xml", ID: "fence-1", Action: "resolved", Updates: 4, Kept: &one, KeptBy: "laptop"}},
		{[]string{"resolve", "merged.xml", "--id", "fence-1", "--keep-from", "tablet"},
			editJSON{Output: "merged.xml", ID: "fence-1", Action: "resolved", Updates: 4, Kept: &zero, KeptBy: "tablet"}},
		{[]string{"create", "--store", "sqlite:s.db", "--id", "s", "--set", "title=S"},
			editJSON{Output: "sqlite:s.db", ID: "s", Action: "created", Updates: 1}},
		{[]string{"delete", "--store", "sqlite:s.db", "--id", "s"},
			editJSON{Output: "sqlite:s.db", ID: "s", Action: "deleted", Updates: 2, Deleted: true}},
	}
	for _, tc := range tests {
		r := h.ok("", append(tc.args, "--by", "phone", "--json")...)
		if r.stderr != "" {
			t.Errorf("%s: stderr is not empty:\n%s", tc.args, r.stderr)
		}
		if strings.Count(strings.TrimSpace(r.stdout), "\n") != 0 {
			t.Errorf("%s: not one line of JSON:\n%s", tc.args, r.stdout)
		}
		var got editJSON
		dec := json.NewDecoder(strings.NewReader(r.stdout))
		dec.DisallowUnknownFields()
		if err := dec.Decode(&got); err != nil {
			t.Fatalf("%s: stdout is not an edit summary: %v\n%s", tc.args, err, r.stdout)
		}
		if diff := cmp.Diff(tc.want, got); diff != "" {
			t.Errorf("%s (-want +got):\n%s", tc.args, diff)
		}
	}
	// Without --json the same edit says it in text on standard error.
	if r := h.ok("", "update", "tasks.xml", "--id", "a", "--set", "title=C", "--by", "phone"); r.stdout != "" || !strings.Contains(r.stderr, `updated "a" (updates 4)`) {
		t.Errorf("update without --json: stdout %q, stderr %q", r.stdout, r.stderr)
	}

	for _, args := range [][]string{
		{"create", "tasks.xml", "--set", "title=X", "-o", "-"},
		{"update", "tasks.xml", "--id", "a", "--set", "title=X", "-o", "-"},
		{"delete", "tasks.xml", "--id", "a", "-o", "-"},
		{"resolve", "merged.xml", "--id", "fence-1", "--keep", "0", "-o", "-"},
	} {
		h.fails(exitUsage, []string{"--json cannot be used with -o -"}, append(args, "--by", "phone", "--json")...)
	}
	// The fields object is given with --fields; --json takes no value.
	h.fails(exitUsage, []string{"--fields OBJECT"}, "update", "tasks.xml", "--id", "a", "--by", "phone", "--json", `{"done":false}`)
	h.fails(exitUsage, []string{"--fields OBJECT"}, "create", "tasks.xml", "--by", "phone", "--json", `{"done":false}`)
}

// TestJSONFieldsDocumented checks that the help of every command with
// --json names each field of the object it prints, quoted as it appears
// in the JSON: the names are part of the command's interface.
func TestJSONFieldsDocumented(t *testing.T) {
	summaries := map[string][]any{
		"merge":    {mergeJSON{}},
		"produce":  {refreshJSON{}, storeFeedJSON{}},
		"convert":  {refreshJSON{}},
		"export":   {exportJSON{}},
		"validate": {validateJSON{}, validateProblem{}},
		"verify":   {verifyReport{}, verifyDifference{}, verifyEntry{}},
		"sync":     {syncJSON{}},
		"compact":  {compactJSON{}, oversizedJSON{}},
		"version":  {buildInfo{}},
		"create":   {editJSON{}},
		"update":   {editJSON{}},
		"delete":   {editJSON{}},
		"resolve":  {editJSON{}},
	}
	for _, c := range commands {
		if c.new(&Main{}).flags().Lookup("json") == nil {
			continue
		}
		if c.name == "show" || c.name == "conflicts" {
			continue // listings, not summaries: their help describes the items
		}
		types, ok := summaries[c.name]
		if !ok {
			t.Errorf("%s has --json: add its summary type here", c.name)
			continue
		}
		var help strings.Builder
		c.new(&Main{Stdout: &help}).Usage()
		for _, v := range types {
			rt := reflect.TypeOf(v)
			for i := range rt.NumField() {
				name, _, _ := strings.Cut(rt.Field(i).Tag.Get("json"), ",")
				if c.name != "resolve" && strings.HasPrefix(name, "kept") {
					continue // editJSON's resolve-only fields
				}
				if !strings.Contains(help.String(), `"`+name+`"`) {
					t.Errorf("help %s does not name the JSON field %q of %s", c.name, name, rt.Name())
				}
			}
		}
	}
}
