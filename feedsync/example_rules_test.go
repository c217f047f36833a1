package feedsync_test

import (
	"fmt"
	"time"

	"github.com/beevik/etree"
	"github.com/feedsync/go-feedsync/feedsync"
)

// entry returns an Atom <entry> payload with a title.
func entry(title string) *etree.Element {
	e := etree.NewElement("entry")
	e.CreateElement("title").SetText(title)
	return e
}

// show prints an item's metadata and its conflict copies.
func show(it *feedsync.Item) {
	s := it.Sync
	fmt.Printf("updates=%d deleted=%v history=%v\n", s.Updates, s.Deleted, s.History)
	for _, c := range s.Conflicts {
		fmt.Printf("  conflict: updates=%d history=%v\n", c.Sync.Updates, c.Sync.History)
	}
}

func at(hhmm string) time.Time {
	t, err := time.Parse("2006-01-02T15:04", "2009-04-02T"+hhmm)
	if err != nil {
		panic(err)
	}
	return t
}

// Create an item, then change it on another endpoint (docs/RULES.md E1, E2).
func ExampleCreate() {
	it, err := feedsync.Create(feedsync.Atom, entry("Buy stamps"), "stamps-1",
		feedsync.Stamp{By: "laptop", When: at("09:00")}, false)
	if err != nil {
		panic(err)
	}
	show(it)
	it, err = feedsync.Update(it, entry("Buy stamps and postcards"),
		feedsync.Stamp{By: "phone", When: at("10:15")})
	if err != nil {
		panic(err)
	}
	show(it)
	// Output:
	// updates=1 deleted=false history=[1@laptop]
	// updates=2 deleted=false history=[2@phone 1@laptop]
}

// Two endpoints edit the same version concurrently; merging keeps the
// FS-WIN winner and the loser as a conflict copy, on both sides (E5).
func ExampleMergeItem() {
	base, _ := feedsync.Create(feedsync.Atom, entry("Fence repair"), "fence-1",
		feedsync.Stamp{By: "phone", When: at("08:00")}, false)
	laptop, _ := feedsync.Update(base, entry("Buy 4 posts and wire"), feedsync.Stamp{By: "laptop", When: at("11:00")})
	tablet, _ := feedsync.Update(base, entry("Buy 6 posts"), feedsync.Stamp{By: "tablet", When: at("11:05")})

	merged, outcome := feedsync.MergeItem(laptop, tablet)
	fmt.Println(outcome)
	show(merged)

	// Merging the same incoming item again changes nothing.
	again, outcome := feedsync.MergeItem(merged, tablet)
	fmt.Println(outcome, again == merged)
	// Output:
	// conflict
	// updates=2 deleted=false history=[2@tablet 1@phone]
	//   conflict: updates=2 history=[2@laptop 1@phone]
	// unchanged true
}

// Resolving folds the conflict copy's history into the item, so every
// endpoint that merges the resolution drops the old versions (E6, E7).
func ExampleResolve() {
	base, _ := feedsync.Create(feedsync.Atom, entry("Fence repair"), "fence-1",
		feedsync.Stamp{By: "phone", When: at("08:00")}, false)
	laptop, _ := feedsync.Update(base, entry("Buy 4 posts and wire"), feedsync.Stamp{By: "laptop", When: at("11:00")})
	tablet, _ := feedsync.Update(base, entry("Buy 6 posts"), feedsync.Stamp{By: "tablet", When: at("11:05")})
	onTablet, _ := feedsync.MergeItem(tablet, laptop)
	onLaptop, _ := feedsync.MergeItem(laptop, tablet)

	resolved, err := feedsync.Resolve(onTablet, entry("Buy 6 posts and wire"),
		feedsync.Stamp{By: "tablet", When: at("12:00")}, nil)
	if err != nil {
		panic(err)
	}
	show(resolved)

	final, outcome := feedsync.MergeItem(onLaptop, resolved)
	fmt.Println(outcome, final == resolved)
	// Output:
	// updates=3 deleted=false history=[3@tablet 2@laptop 2@tablet 1@phone]
	// updated true
}

// Winner picking on equal updates and an equal when falls through to the
// endpoint identifiers, compared as bytes (FS-WIN-3, FS-BY-3).
func ExampleBeats() {
	v := func(by string) *feedsync.Sync {
		return &feedsync.Sync{ID: "x", Updates: 2, History: []feedsync.History{{Sequence: 2, When: at("10:00"), By: by}}}
	}
	fmt.Println(feedsync.Beats(v("EP2"), v("EP1")), feedsync.Beats(v("EP1"), v("EP2")))
	// Output:
	// true false
}

// CheckSync lists every problem of an item's metadata; errors make it
// unusable for a merge, warnings do not.
func ExampleCheckSync() {
	s := &feedsync.Sync{ID: "bad id", Updates: 3, History: []feedsync.History{
		{Sequence: 2, By: "laptop"},
		{Sequence: 1},
	}}
	errs, warnings := feedsync.CheckSync(s)
	for _, e := range errs {
		fmt.Println("error:", e)
	}
	for _, w := range warnings {
		fmt.Println("warning:", w)
	}
	// Output:
	// error: feedsync: invalid sx:sync: id "bad id" is not a URN NSS: letters, digits, ()+,-.:=@;$_!*' and %HH only (FS-TYPE-5)
	// error: feedsync: invalid sx:sync: history entry 2: neither when nor by (FS-HIST-4, FS-ROBUST-1)
	// warning: feedsync: topmost sequence 2 differs from updates 3 (FS-SYNC-7, FS-ROBUST-2)
}

// A hub that wants no conflicts applies an automatic policy after each
// merge; the result is a resolution every endpoint accepts.
func ExampleConflictPolicy() {
	base, _ := feedsync.Create(feedsync.Atom, entry("Fence repair"), "fence-1",
		feedsync.Stamp{By: "phone", When: at("08:00")}, false)
	local, _ := feedsync.Update(base, entry("Buy 4 posts and wire"), feedsync.Stamp{By: "laptop", When: at("11:00")})
	incoming, _ := feedsync.Update(base, entry("Buy 6 posts"), feedsync.Stamp{By: "tablet", When: at("11:05")})

	merged, outcome := feedsync.MergeItem(local, incoming)
	if outcome == feedsync.Conflict {
		var err error
		merged, err = feedsync.EndpointWins("laptop").Apply(merged, local, incoming,
			feedsync.Stamp{By: "hub", When: at("12:00")})
		if err != nil {
			panic(err)
		}
	}
	p, _ := merged.Payload()
	fmt.Println(p.SelectElement("title").Text())
	show(merged)
	// Output:
	// Buy 4 posts and wire
	// updates=3 deleted=false history=[3@hub 2@laptop 2@tablet 1@phone]
}

// Sparse purging keeps the highest sequence per endpoint and the topmost
// entry; subsumption results do not change (FS-PURGE).
func ExamplePurge() {
	it, _ := feedsync.Create(feedsync.RSS, nil, "p-1", feedsync.Stamp{By: "a", When: at("08:00")}, false)
	for i, by := range []string{"b", "a", "b", "a"} {
		it, _ = feedsync.Update(it, nil, feedsync.Stamp{By: by, When: at(fmt.Sprintf("09:%02d", i))})
	}
	fmt.Println(it.Sync.History)
	fmt.Println(feedsync.Purge(it).Sync.History)
	// Output:
	// [5@a 4@b 3@a 2@b 1@a]
	// [5@a 4@b]
}

func ExampleEscapeID() {
	fmt.Println(feedsync.EscapeID("https://example.com/posts?id=7"))
	fmt.Println(feedsync.EscapeID("tag:example.com,2009:post-7"))
	key, _ := feedsync.UnescapeID("https:%2F%2Fexample.com%2Fposts%3Fid=7")
	fmt.Println(key)
	// Output:
	// https:%2F%2Fexample.com%2Fposts%3Fid=7
	// tag:example.com,2009:post-7
	// https://example.com/posts?id=7
}
