package producer_test

import (
	"bytes"
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/beevik/etree"
	"github.com/google/go-cmp/cmp"

	"github.com/feedsync/go-feedsync/feedsync"
	"github.com/feedsync/go-feedsync/internal/feedtest"
	"github.com/feedsync/go-feedsync/producer"
	"github.com/feedsync/go-feedsync/store"
	"github.com/feedsync/go-feedsync/store/sqlite"
)

// Store helpers shared with the other packages that drive stores.
var (
	put     = feedtest.Put
	withTx  = feedtest.WithTx
	lastSeq = feedtest.LastSeq
)

var day = time.Date(2009, 4, 2, 0, 0, 0, 0, time.UTC)

func stamp(by string, minute int) feedsync.Stamp {
	return feedsync.Stamp{By: by, When: day.Add(time.Duration(minute) * time.Minute)}
}

// entry returns an Atom <entry> payload that declares its namespace, so that
// its digest survives a trip through a feed or a store.
func entry(title string) *etree.Element {
	e := etree.NewElement("entry")
	e.CreateAttr("xmlns", feedsync.AtomNamespace)
	e.CreateElement("title").SetText(title)
	e.CreateElement("content").SetText(title + " content")
	e.CreateElement("updated").SetText(day.Format(time.RFC3339))
	return e
}

// must returns it, or panics on err: the rules fail only on a broken test.
func must(it *feedsync.Item, err error) *feedsync.Item {
	if err != nil {
		panic(err)
	}
	return it
}

func create(t testing.TB, id, by string, minute int) *feedsync.Item {
	t.Helper()
	return must(feedsync.Create(feedsync.Atom, entry(id+" by "+by), id, stamp(by, minute), false))
}

func update(t testing.TB, it *feedsync.Item, by string, minute int) *feedsync.Item {
	t.Helper()
	return must(feedsync.Update(it, entry(fmt.Sprintf("%s by %s at %d", it.ID(), by, minute)), stamp(by, minute)))
}

// conflicted returns an item holding a conflict (docs/RULES.md E5).
func conflicted(t testing.TB, id string) *feedsync.Item {
	t.Helper()
	base := create(t, id, "phone", 0)
	m, o := feedsync.MergeItem(update(t, base, "laptop", 10), update(t, base, "tablet", 11))
	if o != feedsync.Conflict {
		t.Fatalf("merge gave %v, want conflict", o)
	}
	return m
}

// stores returns the stores the tests run against: memory and SQLite.
func stores(t *testing.T) map[string]func(t *testing.T) store.Store {
	return map[string]func(t *testing.T) store.Store{
		"memory": func(t *testing.T) store.Store {
			s := store.NewMemory()
			t.Cleanup(func() { s.Close() })
			return s
		},
		"sqlite": func(t *testing.T) store.Store {
			s, err := sqlite.Open(t.Context(), filepath.Join(t.TempDir(), "store.db"), sqlite.Options{})
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { s.Close() })
			return s
		},
	}
}

// feed is what a test looks at in a produced feed.
type feed struct {
	Format  feedsync.Format
	Sharing *feedsync.Sharing
	IDs     []string
	Items   []*feedsync.Item
}

func read(t testing.TB, b []byte) feed {
	t.Helper()
	h, items, err := feedsync.ReadAll(bytes.NewReader(b))
	if err != nil {
		t.Fatalf("read produced feed: %v\n%s", err, b)
	}
	f := feed{Format: h.Format, Sharing: h.Sharing, Items: items}
	for _, it := range items {
		f.IDs = append(f.IDs, it.ID())
	}
	return f
}

func full(t testing.TB, st store.Store, opts producer.Options) (producer.Token, feed) {
	t.Helper()
	var buf bytes.Buffer
	var tok producer.Token
	withTx(t, st, false, func(tx store.Tx) {
		var err error
		if tok, err = producer.Full(context.Background(), tx, st.ID(), &buf, opts); err != nil {
			t.Fatal(err)
		}
	})
	return tok, read(t, buf.Bytes())
}

func incremental(t testing.TB, st store.Store, since producer.Token, opts producer.Options) (producer.Token, feed) {
	t.Helper()
	var buf bytes.Buffer
	var tok producer.Token
	withTx(t, st, false, func(tx store.Tx) {
		var err error
		if tok, err = producer.Incremental(context.Background(), tx, since, &buf, opts); err != nil {
			t.Fatal(err)
		}
	})
	return tok, read(t, buf.Bytes())
}

// TestFull checks the complete feed (FS-FEED-1): every item, tombstones and
// conflicts included, in the store's format unless Options say otherwise,
// with since/until tokens (FS-SHARING-2) and no related link.
func TestFull(t *testing.T) {
	for name, open := range stores(t) {
		t.Run(name, func(t *testing.T) {
			st := open(t)
			gone := must(feedsync.Delete(create(t, "gone-1", "laptop", 1), stamp("phone", 2)))
			put(t, st, create(t, "a-1", "laptop", 1), gone, conflicted(t, "fence-1"))
			put(t, st, update(t, create(t, "a-2", "laptop", 1), "phone", 3))

			tok, f := full(t, st, producer.Options{CompleteURL: "http://example.com/full"})
			want := tokenAt(t, st, lastSeq(t, st))
			if tok != want {
				t.Errorf("token = %+v, want %+v", tok, want)
			}
			if diff := cmp.Diff([]string{"a-1", "gone-1", "fence-1", "a-2"}, f.IDs); diff != "" {
				t.Errorf("items (-want +got):\n%s", diff)
			}
			if f.Format != feedsync.RSS {
				t.Errorf("format = %v, want rss (the default for a store without feed info)", f.Format)
			}
			if !f.Items[1].Sync.Deleted {
				t.Errorf("tombstone gone-1 came out live")
			}
			if n := len(f.Items[2].Sync.Conflicts); n != 1 {
				t.Errorf("fence-1 has %d conflict copies, want 1", n)
			}
			wantSharing := &feedsync.Sharing{Since: producer.Token{Store: st.ID()}.String(), Until: tok.String()}
			if diff := cmp.Diff(wantSharing, f.Sharing); diff != "" {
				t.Errorf("sx:sharing (-want +got):\n%s", diff)
			}

			// The store's format, then Options.Format over it (FS-FEED-9).
			withTx(t, st, true, func(tx store.Tx) {
				if err := tx.SetFeedInfo(context.Background(), feedsync.FeedInfo{Title: "Tasks"}, feedsync.Atom); err != nil {
					t.Fatal(err)
				}
			})
			if _, f := full(t, st, producer.Options{}); f.Format != feedsync.Atom {
				t.Errorf("format = %v, want the store's atom", f.Format)
			}
			if _, f := full(t, st, producer.Options{Format: feedsync.RSS}); f.Format != feedsync.RSS {
				t.Errorf("format = %v, want rss from Options", f.Format)
			}
		})
	}
}

// TestIncremental checks the partial feed (FS-FEED-1, FS-FEED-2, FS-FEED-4,
// FS-FEED-6, FS-RELATED-2): the items
// changed after the token, in change order, with since = the token,
// until = the new token, and the complete feed's link.
func TestIncremental(t *testing.T) {
	for name, open := range stores(t) {
		t.Run(name, func(t *testing.T) {
			st := open(t)
			a1, a2 := create(t, "a-1", "laptop", 1), create(t, "a-2", "laptop", 1)
			put(t, st, a1, a2, create(t, "a-3", "laptop", 1))
			t1, _ := full(t, st, producer.Options{})

			gone := must(feedsync.Delete(a1, stamp("laptop", 5)))
			put(t, st, update(t, a2, "laptop", 4), create(t, "a-4", "laptop", 4), gone)
			opts := producer.Options{CompleteURL: "https://example.com/tasks/full", Expires: day.Add(time.Hour)}
			t2, f := incremental(t, st, t1, opts)
			if diff := cmp.Diff([]string{"a-2", "a-4", "a-1"}, f.IDs); diff != "" {
				t.Errorf("items (-want +got):\n%s", diff)
			}
			if want := tokenAt(t, st, lastSeq(t, st)); t2 != want {
				t.Errorf("token = %+v, want %+v", t2, want)
			}
			want := &feedsync.Sharing{
				Since: t1.String(), Until: t2.String(), Expires: day.Add(time.Hour),
				Related: []feedsync.Related{{Link: "https://example.com/tasks/full", Type: feedsync.RelatedComplete}},
			}
			if diff := cmp.Diff(want, f.Sharing); diff != "" {
				t.Errorf("sx:sharing (-want +got):\n%s", diff)
			}
			if !f.Items[2].Sync.Deleted {
				t.Error("the deletion of a-1 did not travel as a tombstone (FS-FEED-3)")
			}

			// Nothing changed since t2: an empty feed, since = until.
			t3, f := incremental(t, st, t2, producer.Options{})
			if len(f.IDs) != 0 || t3 != t2 {
				t.Errorf("feed after the latest token: items %v, token %+v; want none, %+v", f.IDs, t3, t2)
			}
			if f.Sharing == nil || f.Sharing.Since != t2.String() || f.Sharing.Until != t2.String() || len(f.Sharing.Related) != 0 {
				t.Errorf("sx:sharing = %+v, want since = until = %q and no related link", f.Sharing, t2)
			}
		})
	}
}

func TestTokenRoundTrip(t *testing.T) {
	for _, tok := range []producer.Token{
		{Store: "1b4e28ba-2fa1-4d2e-883f-0016d3cca427", Seq: 0},
		{Store: "1b4e28ba-2fa1-4d2e-883f-0016d3cca427", Seq: 1, Mark: "7f1c4dea-7d51-4235-aa67-f53bfeee22c9"},
		{Store: "s", Seq: 1<<63 - 1},
	} {
		s := tok.String()
		if strings.ContainsAny(s, "+/=&?# ") {
			t.Errorf("token %q needs escaping in a URL", s)
		}
		got, err := producer.ParseToken(s, tok.Store)
		if err != nil {
			t.Fatalf("ParseToken(%q): %v", s, err)
		}
		if got != tok {
			t.Errorf("ParseToken(%q) = %+v, want %+v", s, got, tok)
		}
	}
	if s := (producer.Token{}).String(); s != "" {
		t.Errorf("zero token = %q, want empty", s)
	}
}

func TestParseTokenRejects(t *testing.T) {
	const id = "store-a"
	enc := func(s string) string { return base64.RawURLEncoding.EncodeToString([]byte(s)) }
	for _, tc := range []struct{ name, token, says string }{
		{"foreign store", producer.Token{Store: "store-b", Seq: 3}.String(), `minted by store "store-b"`},
		{"not base64", "!!", "not base64url"},
		{"padded base64", base64.URLEncoding.EncodeToString([]byte("v2 30 m store-ab")), "not base64url"},
		{"other version", enc("v3 3 m store-a"), "not a v2 token"},
		{"v1", enc("v1 3 store-a"), "without the history mark"},
		{"no store", enc("v2 3 m"), "not a v2 token"},
		{"empty store", enc("v2 3 m "), "no store id"},
		{"negative seq", enc("v2 -3 m store-a"), "bad sequence number"},
		{"leading zero", enc("v2 03 m store-a"), "bad sequence number"},
		{"not a number", enc("v2 x m store-a"), "bad sequence number"},
		{"a date", "2009-04-02T10:00:00Z", "not base64url"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := producer.ParseToken(tc.token, id)
			if !errors.Is(err, producer.ErrBadToken) {
				t.Fatalf("ParseToken(%q) = %v, want ErrBadToken", tc.token, err)
			}
			if !strings.Contains(err.Error(), tc.says) {
				t.Errorf("error %q does not say %q", err, tc.says)
			}
		})
	}
}

// tokenAt returns the token of seq in st, with its history mark.
func tokenAt(t *testing.T, st store.Store, seq int64) producer.Token {
	t.Helper()
	var tok producer.Token
	withTx(t, st, false, func(tx store.Tx) {
		var err error
		if tok, err = producer.TokenAt(context.Background(), tx, st.ID(), seq); err != nil {
			t.Fatal(err)
		}
	})
	return tok
}

// TestProduce checks which feed a request gets: a new subscriber and any
// token that cannot be used get the complete feed (FS-FEED-4), a good token
// the partial one.
func TestProduce(t *testing.T) {
	ctx := context.Background()
	st := store.NewMemory()
	other := store.NewMemory()
	put(t, st, create(t, "a-1", "laptop", 1), create(t, "a-2", "laptop", 1))
	mid := tokenAt(t, st, 1)
	end := tokenAt(t, st, 2)
	for _, tc := range []struct {
		name      string
		since     string
		wantFull  bool
		wantItems []string
		reason    string
	}{
		{"new subscriber", "", true, []string{"a-1", "a-2"}, ""},
		{"good token", mid.String(), false, []string{"a-2"}, ""},
		{"foreign token", producer.Token{Store: other.ID(), Seq: 1}.String(), true, []string{"a-1", "a-2"}, "minted by store"},
		{"token ahead of the store", producer.Token{Store: st.ID(), Seq: 99}.String(), true, []string{"a-1", "a-2"}, "ahead of the store's latest change"},
		{"garbage", "garbage", true, []string{"a-1", "a-2"}, "not a v2 token"},
		{"v1 token", base64.RawURLEncoding.EncodeToString([]byte("v1 1 " + st.ID())), true, []string{"a-1", "a-2"}, "without the history mark"},
		{"token of a lost history", producer.Token{Store: st.ID(), Seq: 1, Mark: "lost"}.String(), true, []string{"a-1", "a-2"}, "not the one the token was made from"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var buf bytes.Buffer
			res, err := producer.Produce(ctx, st, tc.since, &buf, producer.Options{})
			if err != nil {
				t.Fatal(err)
			}
			f := read(t, buf.Bytes())
			if diff := cmp.Diff(tc.wantItems, f.IDs); diff != "" {
				t.Errorf("items (-want +got):\n%s", diff)
			}
			if res.Full != tc.wantFull || res.Items != len(tc.wantItems) || res.Token != end {
				t.Errorf("result = %+v, want full %v, %d items, token seq 2", res, tc.wantFull, len(tc.wantItems))
			}
			switch {
			case tc.reason == "" && res.Reason != nil:
				t.Errorf("reason = %v, want none", res.Reason)
			case tc.reason != "" && (!errors.Is(res.Reason, producer.ErrBadToken) || !strings.Contains(res.Reason.Error(), tc.reason)):
				t.Errorf("reason = %v, want ErrBadToken saying %q", res.Reason, tc.reason)
			}
		})
	}
}

// TestIncrementalRejectsTokenAhead checks that a token the store never
// handed out fails before anything is written.
func TestIncrementalRejectsTokenAhead(t *testing.T) {
	st := store.NewMemory()
	put(t, st, create(t, "a-1", "laptop", 1))
	var buf bytes.Buffer
	withTx(t, st, false, func(tx store.Tx) {
		_, err := producer.Incremental(context.Background(), tx, producer.Token{Store: st.ID(), Seq: 2}, &buf, producer.Options{})
		if !errors.Is(err, producer.ErrBadToken) {
			t.Errorf("error = %v, want ErrBadToken", err)
		}
	})
	if buf.Len() != 0 {
		t.Errorf("wrote %d bytes before rejecting the token", buf.Len())
	}
}

// TestEchoSuppression checks that an incremental feed for a peer leaves out
// the items whose current version the peer holds, and only those; a
// complete feed leaves out nothing.
func TestEchoSuppression(t *testing.T) {
	ctx := context.Background()
	for name, open := range stores(t) {
		t.Run(name, func(t *testing.T) {
			st := open(t)
			held := create(t, "held", "laptop", 1)
			older := create(t, "older", "laptop", 1)
			newer := update(t, older, "laptop", 2)
			fence := conflicted(t, "fence-1")
			// The same winner without its conflict set: the peer lacks the
			// conflict (FS-MERGE-16), so the item must go out.
			bare := store.VersionOf(fence)
			bare.Conflicts = ""
			put(t, st, held, newer, fence, create(t, "unknown", "laptop", 1))
			withTx(t, st, true, func(tx store.Tx) {
				for _, pv := range []struct {
					id string
					v  store.Version
				}{
					{"held", store.VersionOf(held)},
					{"older", store.VersionOf(older)},
					{"fence-1", bare},
				} {
					if err := tx.SetPeerVersion(ctx, "phone", pv.id, pv.v); err != nil {
						t.Fatal(err)
					}
				}
				// Another peer's knowledge does not count for phone.
				if err := tx.SetPeerVersion(ctx, "tablet", "unknown", store.VersionOf(create(t, "unknown", "laptop", 1))); err != nil {
					t.Fatal(err)
				}
			})
			start := producer.Token{Store: st.ID()}
			_, f := incremental(t, st, start, producer.Options{Peer: "phone"})
			if diff := cmp.Diff([]string{"older", "fence-1", "unknown"}, f.IDs); diff != "" {
				t.Errorf("items for phone (-want +got):\n%s", diff)
			}
			_, f = incremental(t, st, start, producer.Options{})
			if diff := cmp.Diff([]string{"held", "older", "fence-1", "unknown"}, f.IDs); diff != "" {
				t.Errorf("items for nobody (-want +got):\n%s", diff)
			}
			_, f = full(t, st, producer.Options{Peer: "phone"})
			if len(f.IDs) != 4 {
				t.Errorf("complete feed for phone holds %v, want all 4 items", f.IDs)
			}
		})
	}
}

func TestAcknowledge(t *testing.T) {
	ctx := context.Background()
	st := store.NewMemory()
	put(t, st, create(t, "a-1", "laptop", 1), create(t, "a-2", "laptop", 1), create(t, "a-3", "laptop", 1))
	peerSeq := func() int64 {
		var n int64
		withTx(t, st, false, func(tx store.Tx) {
			var err error
			if n, err = tx.PeerSeq(ctx, "phone"); err != nil {
				t.Fatal(err)
			}
		})
		return n
	}
	for _, tc := range []struct {
		seq     int64
		want    int64
		wantErr bool
	}{
		{2, 2, false},
		{1, 2, false}, // never moves back
		{3, 3, false},
		{4, 3, true}, // ahead of the store
	} {
		err := producer.Acknowledge(ctx, st, "phone", producer.Token{Store: st.ID(), Seq: tc.seq})
		if (err != nil) != tc.wantErr || (err != nil && !errors.Is(err, producer.ErrBadToken)) {
			t.Errorf("Acknowledge(%d) = %v, want error %v", tc.seq, err, tc.wantErr)
		}
		if got := peerSeq(); got != tc.want {
			t.Errorf("after Acknowledge(%d): PeerSeq = %d, want %d", tc.seq, got, tc.want)
		}
	}
	if err := producer.Acknowledge(ctx, st, "phone", producer.Token{Store: "other", Seq: 1}); !errors.Is(err, producer.ErrBadToken) {
		t.Errorf("Acknowledge of a foreign token = %v, want ErrBadToken", err)
	}
}

// A store that hands out standalone XML (store.XMLReader, SQLite) gets
// the same feeds, byte for byte, as when its items are decoded and
// written, in either format, complete and partial with echo suppression.
func TestXMLReaderFeedsMatchItemFeeds(t *testing.T) {
	st := stores(t)["sqlite"](t)
	rss := must(feedsync.Create(feedsync.RSS, etree.NewElement("item"), "rss-1", stamp("laptop", 1), false))
	a, b := create(t, "a", "laptop", 2), create(t, "b", "phone", 3)
	put(t, st, a, b, conflicted(t, "c"), rss)
	put(t, st, update(t, b, "tablet", 20))
	withTx(t, st, true, func(tx store.Tx) {
		if err := tx.SetPeerVersion(context.Background(), "phone", "a", store.VersionOf(a)); err != nil {
			t.Fatal(err)
		}
	})
	// itemsOnly hides ChangesXML: the producer decodes every item.
	type itemsOnly struct{ store.Tx }
	produce := func(xml bool, f feedsync.Format, since int64) string {
		var buf bytes.Buffer
		withTx(t, st, false, func(tx store.Tx) {
			if _, ok := tx.(store.XMLReader); !ok {
				t.Fatal("SQLite transactions do not implement store.XMLReader")
			}
			var r store.Reader = itemsOnly{tx}
			if xml {
				r = tx
			}
			opts := producer.Options{Format: f, Peer: "phone", CompleteURL: "https://example.org/feed"}
			var err error
			if since < 0 {
				_, err = producer.Full(context.Background(), r, st.ID(), &buf, opts)
			} else {
				var tok producer.Token
				if tok, err = producer.TokenAt(context.Background(), tx, st.ID(), since); err == nil {
					_, err = producer.Incremental(context.Background(), r, tok, &buf, opts)
				}
			}
			if err != nil {
				t.Fatal(err)
			}
		})
		return buf.String()
	}
	for _, f := range []feedsync.Format{feedsync.RSS, feedsync.Atom} {
		for _, since := range []int64{-1, 0, 2} {
			// The Atom feed's own <updated> is the time it was written:
			// the two feeds may be a second apart.
			want, got := feedUpdated(produce(false, f, since)), feedUpdated(produce(true, f, since))
			if got != want {
				t.Errorf("%v feed after %d: from XML\n%s\nfrom items\n%s", f, since, got, want)
			}
			if !strings.Contains(got, `id="c"`) || !strings.Contains(got, `id="rss-1"`) {
				t.Errorf("%v feed after %d lacks items:\n%s", f, since, got)
			}
		}
	}
}

// feedUpdated blanks the text of the first <updated> before the first
// entry: the Atom feed's own, stamped with the time of writing.
func feedUpdated(feed string) string {
	head, rest, ok := strings.Cut(feed, "<entry")
	if !ok {
		head, rest = feed, ""
	}
	i := strings.Index(head, "<updated>")
	j := strings.Index(head, "</updated>")
	if i < 0 || j < i {
		return feed
	}
	if ok {
		rest = "<entry" + rest
	}
	return head[:i] + "<updated>…" + head[j:] + rest
}

// TestTokenBelowForgottenHorizon: once a store has forgotten a tombstone,
// a token from before it gets no partial feed (FS-RETAIN-2): Produce falls
// back to the complete feed with a reason wrapping ErrForgotten, and
// CheckToken refuses it; a token at or after the tombstone's change still
// works (its holder saw the deletion).
func TestTokenBelowForgottenHorizon(t *testing.T) {
	ctx := context.Background()
	st := store.NewMemory()
	gone := must(feedsync.Delete(create(t, "gone-1", "laptop", 1), stamp("phone", 2)))
	put(t, st, create(t, "a-1", "laptop", 1))
	put(t, st, gone)
	put(t, st, create(t, "a-2", "laptop", 3))
	t0 := time.Now()
	for _, at := range []time.Time{t0, t0.Add(2 * time.Hour)} {
		if _, err := store.Compact(ctx, st, store.CompactOptions{Retain: time.Hour, Now: func() time.Time { return at }}); err != nil {
			t.Fatal(err)
		}
	}
	for _, tc := range []struct {
		seq       int64
		forgotten bool
	}{{0, false}, {1, true}, {2, false}, {3, false}} {
		tok := tokenAt(t, st, tc.seq)
		var buf bytes.Buffer
		res, err := producer.Produce(ctx, st, tok.String(), &buf, producer.Options{})
		if err != nil {
			t.Fatal(err)
		}
		if tc.seq == 0 {
			continue // the zero token is a new subscriber's: the complete feed, no reason
		}
		if got := errors.Is(res.Reason, producer.ErrForgotten); got != tc.forgotten || res.Full != tc.forgotten {
			t.Errorf("token at %d: full %v, reason %v; want forgotten %v", tc.seq, res.Full, res.Reason, tc.forgotten)
		}
		if tc.forgotten && !errors.Is(res.Reason, producer.ErrBadToken) {
			t.Errorf("token at %d: reason %v does not wrap ErrBadToken", tc.seq, res.Reason)
		}
		withTx(t, st, false, func(tx store.Tx) {
			if _, err := producer.CheckToken(ctx, tx, tok); errors.Is(err, producer.ErrForgotten) != tc.forgotten {
				t.Errorf("CheckToken at %d = %v, want forgotten %v", tc.seq, err, tc.forgotten)
			}
		})
	}
}
