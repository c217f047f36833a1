package main

import (
	"bytes"
	"context"
	"fmt"
	"math/rand/v2"
	"os"
	"runtime"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/feedsync/go-feedsync/feedsync"
	"github.com/feedsync/go-feedsync/internal/spill"
	"github.com/feedsync/go-feedsync/producer"
	"github.com/feedsync/go-feedsync/store"
	"github.com/feedsync/go-feedsync/store/open"
)

// smallRuns makes verify (producer.DiffSources) sort on disk in runs of n
// entries, merged fanIn at a time, until the test ends.
func smallRuns(t testing.TB, n, fanIn int) {
	t.Cleanup(spill.SetSizes(n, fanIn))
}

// TestVerifyOnDisk runs the verify tests again with runs of two entries
// merged two at a time: every side then goes through the spill files and
// merge passes, and must give the same output and exit codes as in
// memory, duplicate ids in a feed included.
func TestVerifyOnDisk(t *testing.T) {
	smallRuns(t, 2, 2)
	t.Run("Verify", TestVerify)
	t.Run("VerifyJSON", TestVerifyJSON)
	t.Run("VerifyStores", TestVerifyStores)
	t.Run("VerifyErrors", TestVerifyErrors)
}

var streamDay = limitsDay

// streamSides returns the items of two endpoints that share n items
// ("item-000000" …) and differ at the very start and end of the sync id
// order and in between: an item only a has before every shared id
// ("aaa-only"), one only b has after them ("zzz-only"), the first and
// last shared items updated on one side, one deleted on b, one with a
// conflict on a, and one whose content b changed without an update
// (FS-UPDATE-6).
func streamSides(t testing.TB, n int) (a, b []*feedsync.Item) {
	t.Helper()
	must := func(it *feedsync.Item, err error) *feedsync.Item {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
		return it
	}
	stamp := func(by string) feedsync.Stamp { return feedsync.Stamp{By: by, When: streamDay} }
	for i := range n {
		it := must(feedsync.Create(feedsync.RSS, titled(fmt.Sprint("task ", i)), fmt.Sprintf("item-%06d", i), stamp("origin"), false))
		a, b = append(a, it), append(b, it)
	}
	a = append(a, must(feedsync.Create(feedsync.RSS, titled("only a"), "aaa-only", stamp("a"), false)))
	b = append(b, must(feedsync.Create(feedsync.RSS, titled("only b"), "zzz-only", stamp("b"), false)))
	b[0] = must(feedsync.Update(b[0], titled("first, by b"), stamp("b")))
	a[n-1] = must(feedsync.Update(a[n-1], titled("last, by a"), stamp("a")))
	if n > 4 {
		b[n/2] = must(feedsync.Delete(b[n/2], stamp("b")))
		// a holds a conflict on item n/3: its winner and a concurrent
		// version, as a merge of the two leaves them (FS-MERGE-14).
		x := must(feedsync.Update(a[n/3], titled("x"), stamp("x")))
		y := must(feedsync.Update(a[n/3], titled("y"), stamp("y")))
		a[n/3], _ = feedsync.MergeItem(x, y)
		// The same version as a's, with other content.
		b[n/4] = must(feedsync.Create(feedsync.RSS, titled("edited without an update"), b[n/4].ID(), stamp("origin"), false))
	}
	return a, b
}

// putItems stores items in a new store at dsn.
func putItems(t testing.TB, dsn string, items []*feedsync.Item) {
	t.Helper()
	ctx := context.Background()
	st, err := open.Open(ctx, dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	tx, err := st.Begin(ctx, true)
	if err != nil {
		t.Fatal(err)
	}
	defer tx.Rollback()
	for _, it := range items {
		if _, err := tx.Put(ctx, it); err != nil {
			t.Fatal(err)
		}
	}
	if err := tx.Commit(); err != nil {
		t.Fatal(err)
	}
}

// shuffled returns items in a random order of their own, as a feed may
// hold them.
func shuffled(items []*feedsync.Item) []*feedsync.Item {
	out := append([]*feedsync.Item(nil), items...)
	r := rand.New(rand.NewPCG(1, 2))
	r.Shuffle(len(out), func(i, j int) { out[i], out[j] = out[j], out[i] })
	return out
}

// wantVerify is what verify must print for two item sets, from the
// in-memory manifests and producer.Diff: the comparison verify made
// before it streamed.
func wantVerify(t testing.TB, a, b []*feedsync.Item, na, nb string) (stdout string, diffs int) {
	t.Helper()
	ma, mb := itemsManifest(t, a), itemsManifest(t, b)
	ds := producer.Diff(ma, mb)
	if len(ds) == 0 {
		return fmt.Sprintf("same: %d items\n", len(ma)), 0
	}
	var s strings.Builder
	for _, d := range ds {
		fmt.Fprintln(&s, describeDifference(d, na, nb))
	}
	return s.String(), len(ds)
}

func itemsManifest(t testing.TB, items []*feedsync.Item) producer.Manifest {
	t.Helper()
	st := store.NewMemory()
	ctx := context.Background()
	tx, err := st.Begin(ctx, true)
	if err != nil {
		t.Fatal(err)
	}
	defer tx.Rollback()
	for _, it := range items {
		if _, err := tx.Put(ctx, it); err != nil {
			t.Fatal(err)
		}
	}
	m, err := producer.ManifestOf(ctx, tx)
	if err != nil {
		t.Fatal(err)
	}
	return m
}

// TestVerifyStreams compares stores and feeds of a few hundred items that
// differ at the first and last ids, in between, and on one side only,
// with runs small enough that each side is sorted on disk in several
// merge passes, and in memory: the output is what producer.Diff of the
// two whole manifests gives, in id order, whatever order the feeds hold
// their items in.
func TestVerifyStreams(t *testing.T) {
	const n = 300
	a, b := streamSides(t, n)
	h := newHarness(t)
	putItems(t, "sqlite:"+h.path("a.db"), a)
	putItems(t, "sqlite:"+h.path("b.db"), b)
	writeItems(t, h, "a.xml", shuffled(a)...)
	writeItems(t, h, "b.xml", shuffled(b)...)
	writeItems(t, h, "a-copy.xml", a...)
	pairs := [][2]string{
		{"a.db", "b.db"},
		{"a.xml", "b.xml"},
		{"a.db", "b.xml"},
		{"b.xml", "a.db"},
		{"a.xml", "a.db"},
		{"a.xml", "a-copy.xml"},
	}
	sides := map[string][]*feedsync.Item{"a.db": a, "b.db": b, "a.xml": a, "b.xml": b, "a-copy.xml": a}
	if os.Getenv("FEEDSYNC_TEST_POSTGRES") != "" {
		pg := testPostgres(t)
		putItems(t, pg, b)
		sides[pg] = b
		pairs = append(pairs, [2]string{"a.db", pg}, [2]string{pg, "b.xml"})
	}
	for _, runs := range []struct {
		name      string
		n, fanIn  int
		wantSpill bool
	}{
		{"memory", spill.RunEntries, spill.FanIn, false},
		{"disk", 7, 3, true},
	} {
		t.Run(runs.name, func(t *testing.T) {
			smallRuns(t, runs.n, runs.fanIn)
			for _, p := range pairs {
				t.Run(endpointLabel(p[0])+" "+endpointLabel(p[1]), func(t *testing.T) {
					ia, ib := sides[p[0]], sides[p[1]]
					na, nb := endpointLabel(p[0]), endpointLabel(p[1])
					want, diffs := wantVerify(t, ia, ib, na, nb)
					r := h.run("", "verify", p[0], p[1])
					if diff := cmp.Diff(want, r.stdout); diff != "" {
						t.Errorf("stdout (-want +got):\n%s", diff)
					}
					wantCode := exitOK
					if diffs > 0 {
						wantCode = exitProblem
						msg := fmt.Sprintf("feedsync verify: %d items differ between %s (%d items) and %s (%d items)\n", diffs, na, len(ia), nb, len(ib))
						if r.stderr != msg {
							t.Errorf("stderr %q, want %q", r.stderr, msg)
						}
					}
					if r.code != wantCode {
						t.Errorf("exit %d, want %d\n%s", r.code, wantCode, r.stderr)
					}
				})
			}
		})
	}
	// What the differences must include, so that the comparison with
	// producer.Diff is not a comparison of two empty outputs.
	r := h.run("", "verify", "a.db", "b.db")
	for _, want := range []string{
		`"aaa-only": only in a.db`,
		`"item-000000": different winner: a.db has updates 1, top 1@origin; b.db has updates 2, top 2@b`,
		fmt.Sprintf(`"item-%06d": different payload of the same version`, n/4),
		fmt.Sprintf(`"item-%06d": different winner, different conflicts: a.db has updates 2, top 2@y, 1 conflict`, n/3),
		fmt.Sprintf(`"item-%06d": different winner, different deleted flag`, n/2),
		fmt.Sprintf(`"item-%06d": different winner: a.db has updates 2, top 2@a; b.db has updates 1, top 1@origin`, n-1),
		`"zzz-only": only in b.db`,
	} {
		if !strings.Contains(r.stdout, want) {
			t.Errorf("verify a.db b.db does not say %q:\n%s", want, r.stdout)
		}
	}
	if lines := strings.Split(strings.TrimSuffix(r.stdout, "\n"), "\n"); !strings.HasPrefix(lines[0], `"aaa-only"`) || !strings.HasPrefix(lines[len(lines)-1], `"zzz-only"`) {
		t.Errorf("differences not in id order:\n%s", r.stdout)
	}
}

// TestVerifyJSONStreamed checks that the JSON verify prints a difference
// at a time is the JSON of the whole report, with many differences kept
// in a spill file.
func TestVerifyJSONStreamed(t *testing.T) {
	a, b := streamSides(t, 200)
	// Every shared item differs: b's are all updated.
	for i := range 200 {
		u, err := feedsync.Update(b[i], titled("changed"), feedsync.Stamp{By: "b", When: streamDay})
		if err != nil {
			t.Fatal(err)
		}
		b[i] = u
	}
	h := newHarness(t)
	writeItems(t, h, "a.xml", a...)
	writeItems(t, h, "b.xml", shuffled(b)...)
	smallRuns(t, 16, 4)
	r := h.run("", "verify", "a.xml", "b.xml", "--json")
	if r.code != exitProblem {
		t.Fatalf("exit %d, want 1\n%s", r.code, r.stderr)
	}
	rep := verifyReport{A: "a.xml", B: "b.xml", ItemsA: len(a), ItemsB: len(b), Differences: []verifyDifference{}}
	for _, d := range producer.Diff(itemsManifest(t, a), itemsManifest(t, b)) {
		rep.Differences = append(rep.Differences, differenceJSON(d))
	}
	var want bytes.Buffer
	m := &Main{Stdout: &want}
	if err := m.printJSON(rep); err != nil {
		t.Fatal(err)
	}
	if len(rep.Differences) < 200 {
		t.Fatalf("%d differences, want every shared item", len(rep.Differences))
	}
	if diff := cmp.Diff(want.String(), r.stdout); diff != "" {
		t.Errorf("JSON (-want +got):\n%s", diff)
	}
}

// TestOutputSpill checks that output past outputMemory goes to a file and
// comes back whole and in order.
func TestOutputSpill(t *testing.T) {
	o := &outputSpill{dir: t.TempDir()}
	defer o.close()
	var want bytes.Buffer
	line := strings.Repeat("x", 8000) + "\n"
	for i := 0; want.Len() < outputMemory+outputMemory/2; i++ {
		fmt.Fprintf(&want, "%d %s", i, line)
		if _, err := fmt.Fprintf(o, "%d %s", i, line); err != nil {
			t.Fatal(err)
		}
	}
	if o.f == nil {
		t.Fatal("nothing spilled to a file")
	}
	var got bytes.Buffer
	if _, err := o.WriteTo(&got); err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got.Bytes(), want.Bytes()) {
		t.Errorf("got %d bytes back, want %d", got.Len(), want.Len())
	}
}

// TestVerifyDuplicates checks that a feed with ids used twice fails as
// producer.FeedManifest fails it: at the first item, in document order,
// whose id came before, whatever the sort order of the ids, and with an
// invalid item only when no duplicate precedes it.
func TestVerifyDuplicates(t *testing.T) {
	item := func(id, by string) string {
		return fmt.Sprintf(`<item><title>%s</title><sx:sync id="%s" updates="1"><sx:history sequence="1" by="%s"/></sx:sync></item>`+"\n", id, id, by)
	}
	const invalid = `<item><sx:sync id="nohist" updates="1"></sx:sync></item>` + "\n"
	doc := func(items ...string) string {
		return `<rss version="2.0" xmlns:sx="http://feedsync.org/2007/feedsync"><channel>` + "\n" + strings.Join(items, "") + "</channel></rss>\n"
	}
	tests := map[string]string{
		// z's second comes before a's second: z is reported.
		"later-id-first":   doc(item("a", "x"), item("z", "x"), item("m", "x"), item("z", "y"), item("a", "y"), item("a", "z")),
		"three-of-one":     doc(item("b", "x"), item("b", "y"), item("b", "z")),
		"dup-then-invalid": doc(item("c", "x"), item("c", "y"), invalid),
		"invalid-then-dup": doc(item("c", "x"), invalid, item("c", "y")),
	}
	h := newHarness(t)
	h.write("ok.xml", doc(item("a", "x")))
	for _, runs := range []int{spill.RunEntries, 1, 2} {
		for name, d := range tests {
			t.Run(fmt.Sprint(name, "/runs-of-", runs), func(t *testing.T) {
				smallRuns(t, runs, 2)
				h.write(name+".xml", d)
				_, merr := producer.FeedManifest(feedsync.NewReader(strings.NewReader(d)))
				if merr == nil {
					t.Fatal("FeedManifest accepts the feed")
				}
				want := cleanMsg("feedsync verify: " + name + ".xml: " + strings.TrimPrefix(merr.Error(), "manifest: "))
				r := h.run("", "verify", "ok.xml", name+".xml")
				if r.code != exitUsage {
					t.Errorf("exit %d, want %d", r.code, exitUsage)
				}
				if got := strings.SplitN(r.stderr, "\n", 2)[0]; got != want {
					t.Errorf("stderr\n%s\nwant\n%s", got, want)
				}
			})
		}
	}
}

// TestVerifyMemoryFlat checks that what verify holds while comparing two
// stores does not grow with their items: the peak live heap (measured
// after a collection every 256 entries verify takes in, merges or
// compares) over two stores of 3200 items is within 512 KiB of that over
// two of 400. Two whole manifests of 3200 items take some 1.5 MB more than
// of 400.
func TestVerifyMemoryFlat(t *testing.T) {
	if testing.Short() {
		t.Skip("builds stores of 3200 items")
	}
	h := newHarness(t)
	smallRuns(t, 128, 8)
	stores := func(n int) (da, db string) {
		a, b := streamSides(t, n)
		da, db = fmt.Sprintf("a%d.db", n), fmt.Sprintf("b%d.db", n)
		putItems(t, "sqlite:"+h.path(da), a)
		putItems(t, "sqlite:"+h.path(db), b)
		return da, db
	}
	small, large := 400, 3200
	sa, sb := stores(small)
	la, lb := stores(large)
	// A first run, unmeasured, makes what every run shares (the
	// drivers' caches, the flag sets).
	h.run("", "verify", sa, sb)
	peak := func(n int, da, db string) uint64 {
		var ms runtime.MemStats
		runtime.GC()
		runtime.ReadMemStats(&ms)
		base, top := ms.HeapAlloc, ms.HeapAlloc
		probes := 0
		spill.Probe = func() {
			probes++
			runtime.GC()
			runtime.ReadMemStats(&ms)
			top = max(top, ms.HeapAlloc)
		}
		defer func() { spill.Probe = nil }()
		r := h.run("", "verify", da, db)
		if r.code != exitProblem || strings.Count(r.stdout, "\n") != 7 {
			t.Fatalf("verify of %d items: exit %d\n%s%s", n, r.code, r.stdout, r.stderr)
		}
		if probes < 3*n/256 {
			t.Fatalf("verify of %d items probed its memory %d times, want at least %d", n, probes, 3*n/256)
		}
		t.Logf("%d items: peak live heap %d KiB above the %d KiB before", n, (top-base)>>10, base>>10)
		return top - base
	}
	ps, pl := peak(small, sa, sb), peak(large, la, lb)
	if pl > ps+512<<10 {
		t.Errorf("peak live heap grew by %d KiB from %d items to %d (%d KiB to %d KiB), want at most 512 KiB", (int64(pl)-int64(ps))>>10, small, large, ps>>10, pl>>10)
	}
}
