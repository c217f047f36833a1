package producer_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/feedsync/go-feedsync/feedsync"
	"github.com/feedsync/go-feedsync/internal/spill"
	"github.com/feedsync/go-feedsync/producer"
	"github.com/feedsync/go-feedsync/store"
)

// diffSides returns two item sets of n shared items that differ in every
// way Diff names: items on one side only (before and after every shared
// id), other winners, a tombstone, a conflict, and another payload under
// the same version.
func diffSides(t testing.TB, n int) (a, b []*feedsync.Item) {
	for i := range n {
		it := create(t, fmt.Sprintf("item-%04d", i), "origin", 1)
		a, b = append(a, it), append(b, it)
	}
	a = append(a, create(t, "aaa-only", "laptop", 2))
	b = append(b, create(t, "zzz-only", "phone", 2))
	b[0] = update(t, b[0], "phone", 3)
	a[n-1] = update(t, a[n-1], "laptop", 3)
	b[n/2] = must(feedsync.Delete(b[n/2], stamp("phone", 4)))
	a[n/3] = conflicted(t, a[n/3].ID())
	b[n/4] = must(feedsync.Create(feedsync.Atom, entry("edited without an update"), b[n/4].ID(), stamp("origin", 1), false))
	return a, b
}

// feedOf returns a feed of items, produced from a store they were put
// into in an order of their own.
func feedOf(t testing.TB, items []*feedsync.Item) []byte {
	t.Helper()
	items = append([]*feedsync.Item(nil), items...)
	rand.New(rand.NewPCG(1, 2)).Shuffle(len(items), func(i, j int) { items[i], items[j] = items[j], items[i] })
	var buf bytes.Buffer
	if _, err := producer.Produce(context.Background(), storeOf(t, items), "", &buf, producer.Options{Format: feedsync.Atom}); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

func storeOf(t testing.TB, items []*feedsync.Item) store.Store {
	st := store.NewMemory()
	put(t, st, items...)
	return st
}

// diffSources returns what DiffSources reports, and its totals.
func diffSources(t testing.TB, a, b producer.Source, opts producer.DiffOptions) ([]producer.Difference, producer.DiffTotals) {
	t.Helper()
	var got []producer.Difference
	tot, err := producer.DiffSources(context.Background(), a, b, opts, func(d producer.Difference) error {
		got = append(got, d)
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return got, tot
}

// TestDiffSources checks that DiffSources reports what Diff returns for
// the two whole manifests, in sync id order, for stores, transactions and
// feeds holding their items in any order, sorted in memory and on disk in
// several merge passes.
func TestDiffSources(t *testing.T) {
	const n = 60
	a, b := diffSides(t, n)
	want := producer.Diff(manifest(t, a...), manifest(t, b...))
	if len(want) != 7 {
		t.Fatalf("Diff finds %d differences, want 7: %v", len(want), want)
	}
	sa, sb := storeOf(t, a), storeOf(t, b)
	fa, fb := feedOf(t, a), feedOf(t, b)
	tx, err := sa.Begin(context.Background(), false)
	if err != nil {
		t.Fatal(err)
	}
	defer tx.Rollback()
	sources := map[string]func() (producer.Source, producer.Source){
		"stores": func() (producer.Source, producer.Source) {
			return producer.StoreSource(sa), producer.StoreSource(sb)
		},
		"feeds": func() (producer.Source, producer.Source) {
			return producer.FeedSource(feedsync.NewReader(bytes.NewReader(fa))), producer.FeedSource(feedsync.NewReader(bytes.NewReader(fb)))
		},
		"transaction-feed": func() (producer.Source, producer.Source) {
			return producer.ItemSource(tx), producer.FeedSource(feedsync.NewReader(bytes.NewReader(fb)))
		},
	}
	for _, runs := range []struct {
		name     string
		n, fanIn int
	}{{"memory", spill.RunEntries, spill.FanIn}, {"disk", 2, 2}, {"disk-7", 7, 3}} {
		for name, src := range sources {
			t.Run(runs.name+"/"+name, func(t *testing.T) {
				t.Cleanup(spill.SetSizes(runs.n, runs.fanIn))
				srcA, srcB := src()
				got, tot := diffSources(t, srcA, srcB, producer.DiffOptions{TempDir: t.TempDir()})
				if diff := cmp.Diff(want, got); diff != "" {
					t.Errorf("differences (-want +got):\n%s", diff)
				}
				if wantTot := (producer.DiffTotals{A: len(a), B: len(b), Differences: len(want)}); tot != wantTot {
					t.Errorf("totals %+v, want %+v", tot, wantTot)
				}
			})
		}
	}
}

// TestDiffSourcesFeedErrors checks that a feed with an id used twice, or
// an invalid item, fails DiffSources as it fails FeedManifest, naming the
// source: at the first item, in document order, whose id came before,
// whatever the sort order of the ids, and at an invalid item only when no
// duplicate precedes it.
func TestDiffSourcesFeedErrors(t *testing.T) {
	// doc returns an RSS feed of an item per id, each version made by a
	// new endpoint; "!" is an item whose sx:sync lacks its history.
	doc := func(ids ...string) string {
		var b strings.Builder
		b.WriteString(`<rss version="2.0" xmlns:sx="http://feedsync.org/2007/feedsync"><channel>` + "\n")
		for n, id := range ids {
			if id == "!" {
				b.WriteString(`<item><sx:sync id="nohist" updates="1"></sx:sync></item>` + "\n")
				continue
			}
			fmt.Fprintf(&b, `<item><title>%s</title><sx:sync id="%s" updates="1"><sx:history sequence="1" by="e%d"/></sx:sync></item>`+"\n", id, id, n)
		}
		b.WriteString("</channel></rss>\n")
		return b.String()
	}
	tests := map[string]struct {
		doc  string
		want error
	}{
		// z's second comes before a's second: z is reported.
		"later-id-first":   {doc("a", "z", "m", "z", "a"), feedsync.ErrDuplicateID},
		"three-of-one":     {doc("b", "b", "b"), feedsync.ErrDuplicateID},
		"dup-then-invalid": {doc("c", "c", "!"), feedsync.ErrDuplicateID},
		"invalid-then-dup": {doc("c", "!", "c"), feedsync.ErrInvalidSync},
	}
	ok := producer.StoreSource(storeOf(t, nil))
	for _, runs := range []int{spill.RunEntries, 1, 2} {
		for name, tc := range tests {
			t.Run(fmt.Sprint(name, "/runs-of-", runs), func(t *testing.T) {
				t.Cleanup(spill.SetSizes(runs, 2))
				_, want := producer.FeedManifest(feedsync.NewReader(strings.NewReader(tc.doc)))
				if !errors.Is(want, tc.want) {
					t.Fatalf("FeedManifest = %v, want %v", want, tc.want)
				}
				_, err := producer.DiffSources(context.Background(), ok, producer.FeedSource(feedsync.NewReader(strings.NewReader(tc.doc))), producer.DiffOptions{}, func(producer.Difference) error {
					t.Error("a difference reported from a failed source")
					return nil
				})
				var se *producer.SourceError
				if !errors.As(err, &se) || se.Source != "b" {
					t.Fatalf("DiffSources = %v, want a *SourceError of source b", err)
				}
				if se.Err.Error() != want.Error() {
					t.Errorf("DiffSources fails with\n%v\nFeedManifest with\n%v", se.Err, want)
				}
			})
		}
	}
}

// TestDiffSourcesStops checks that an error from report stops the
// comparison at once and comes back as it is, that a zero Source is
// rejected, and that TempDir is where a sort on disk goes.
func TestDiffSourcesStops(t *testing.T) {
	a, b := diffSides(t, 20)
	sa, sb := producer.StoreSource(storeOf(t, a)), producer.StoreSource(storeOf(t, b))
	stop := errors.New("stop")
	calls := 0
	_, err := producer.DiffSources(context.Background(), sa, sb, producer.DiffOptions{}, func(producer.Difference) error {
		calls++
		return stop
	})
	if err != stop || calls != 1 {
		t.Errorf("DiffSources = %v after %d calls, want %v after 1", err, calls, stop)
	}

	var se *producer.SourceError
	if _, err := producer.DiffSources(context.Background(), sa, producer.Source{}, producer.DiffOptions{}, nil); !errors.As(err, &se) || se.Source != "b" {
		t.Errorf("DiffSources of a zero source = %v, want a *SourceError of source b", err)
	}

	t.Cleanup(spill.SetSizes(2, 2))
	missing := filepath.Join(t.TempDir(), "missing")
	if _, err := producer.DiffSources(context.Background(), sa, sb, producer.DiffOptions{TempDir: missing}, nil); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("DiffSources sorting in a missing TempDir = %v, want %v", err, os.ErrNotExist)
	}
	dir := t.TempDir()
	if got, _ := diffSources(t, sa, sb, producer.DiffOptions{TempDir: dir}); len(got) != 7 {
		t.Errorf("%d differences, want 7", len(got))
	}
	if left, err := os.ReadDir(dir); err != nil || len(left) != 0 {
		t.Errorf("TempDir holds %v after DiffSources (%v), want nothing", left, err)
	}
}

// TestDiffSourcesCancel checks that a cancelled context stops the
// comparison with the context's error.
func TestDiffSourcesCancel(t *testing.T) {
	a, b := diffSides(t, 20)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	_, err := producer.DiffSources(ctx, producer.FeedSource(feedsync.NewReader(bytes.NewReader(feedOf(t, a)))), producer.FeedSource(feedsync.NewReader(bytes.NewReader(feedOf(t, b)))), producer.DiffOptions{}, func(producer.Difference) error {
		t.Error("a difference reported after cancellation")
		return nil
	})
	if !errors.Is(err, context.Canceled) {
		t.Errorf("DiffSources = %v, want %v", err, context.Canceled)
	}
}
