// Package docs holds the project's documents; its test checks that every
// rule ID the code cites is defined in RULES.md.
package docs

import (
	"bufio"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"testing"
)

var (
	// A definition is a list item (or heading) that starts with the ID,
	// bold or not: "- **FS-MERGE-3** [S] ...", "- **A-4** ...".
	definition = regexp.MustCompile(`^(?:\s*[-*]\s*\**|#+\s*)((?:FS-[A-Z]+-|A-|E)[0-9]+)\b`)

	// Citations: "FS-MERGE-3", ranges "FS-MERGE-1..11" and "FS-MERGE-1..-11",
	// pairs "FS-MERGE-3/4", families "FS-MERGE", readings "A-17".
	ruleCite   = regexp.MustCompile(`\bFS-([A-Z]+)(?:-([0-9]+)(?:(\.\.-?|/)([0-9]+))?)?\b`)
	ambigCite  = regexp.MustCompile(`\bA-([0-9]+)\b`)
	moduleRoot = ".."
)

// rulesDefined reads RULES.md and returns its definitions; it fails the
// test on an ID defined twice.
func rulesDefined(t *testing.T) map[string]bool {
	t.Helper()
	f, err := os.Open("RULES.md")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	defined := map[string]bool{}
	sc := bufio.NewScanner(f)
	for line := 1; sc.Scan(); line++ {
		m := definition.FindStringSubmatch(sc.Text())
		if m == nil {
			continue
		}
		if defined[m[1]] {
			t.Errorf("RULES.md:%d: %s is defined twice", line, m[1])
		}
		defined[m[1]] = true
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	return defined
}

// TestRuleIDsAreDefined checks that every rule ID cited in the repository's
// Go files and Markdown documents (FS-*-N, a range FS-*-N..M, a family
// FS-*, a reading A-N) is defined in RULES.md, so that a reader of a
// comment, a test name or an error message can look it up.
func TestRuleIDsAreDefined(t *testing.T) {
	defined := rulesDefined(t)
	families := map[string]bool{}
	for id := range defined {
		if strings.HasPrefix(id, "FS-") {
			families[id[3:strings.LastIndex(id, "-")]] = true
		}
	}
	if len(defined) < 100 {
		t.Fatalf("RULES.md defines only %d IDs; is the definition pattern still right?", len(defined))
	}

	missing := map[string][]string{} // ID -> where it is cited
	cite := func(id, where string) {
		if !defined[id] {
			missing[id] = append(missing[id], where)
		}
	}
	files := 0
	err := filepath.WalkDir(moduleRoot, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() {
			if name := d.Name(); path != moduleRoot && (strings.HasPrefix(name, ".") || name == "testdata") {
				return filepath.SkipDir
			}
			return nil
		}
		if ext := filepath.Ext(path); ext != ".go" && ext != ".md" {
			return nil
		}
		files++
		data, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(moduleRoot, path)
		for n, line := range strings.Split(string(data), "\n") {
			where := rel + ":" + strconv.Itoa(n+1)
			for _, m := range ruleCite.FindAllStringSubmatch(line, -1) {
				family, first, sep, last := m[1], m[2], m[3], m[4]
				switch {
				case first == "":
					if !families[family] {
						missing["FS-"+family] = append(missing["FS-"+family], where)
					}
				case sep == "/":
					cite("FS-"+family+"-"+first, where)
					cite("FS-"+family+"-"+last, where)
				case sep != "":
					a, _ := strconv.Atoi(first)
					b, _ := strconv.Atoi(last)
					for i := a; i <= b; i++ {
						cite("FS-"+family+"-"+strconv.Itoa(i), where)
					}
				default:
					cite("FS-"+family+"-"+first, where)
				}
			}
			for _, m := range ambigCite.FindAllStringSubmatch(line, -1) {
				cite("A-"+m[1], where)
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if files < 50 {
		t.Fatalf("read only %d files under %s; is the walk still right?", files, moduleRoot)
	}
	ids := make([]string, 0, len(missing))
	for id := range missing {
		ids = append(ids, id)
	}
	sort.Strings(ids)
	for _, id := range ids {
		where := missing[id]
		if len(where) > 3 {
			where = append(where[:3:3], "…")
		}
		t.Errorf("%s is cited but not defined in docs/RULES.md (%s)", id, strings.Join(where, ", "))
	}
}

// TestNoPrivateSpecReference checks that nothing points readers at a
// statement of the spec that is not in the repository.
func TestNoPrivateSpecReference(t *testing.T) {
	err := filepath.WalkDir(moduleRoot, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() {
			if path != moduleRoot && strings.HasPrefix(d.Name(), ".") {
				return filepath.SkipDir
			}
			return nil
		}
		if ext := filepath.Ext(path); ext != ".go" && ext != ".md" && ext != ".sh" {
			return nil
		}
		data, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		if i := strings.Index(string(data), "FEEDSYNC"+".md"); i >= 0 {
			line := 1 + strings.Count(string(data[:i]), "\n")
			t.Errorf("%s:%d cites FEEDSYNC"+".md, which is not in the repository: cite docs/RULES.md", path, line)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}
