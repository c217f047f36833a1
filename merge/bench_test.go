package merge

import (
	"bufio"
	"bytes"
	"context"
	"encoding/xml"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"runtime"
	"runtime/metrics"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/beevik/etree"

	"github.com/feedsync/go-feedsync/feedsync"
)

// The benchmarks run on generated feeds of 1k, 10k and 100k items written to
// temporary files (never committed): RSS items with a ~500-byte payload,
// three history entries, and a conflict copy on 1% of them. The incoming
// feed changes half of the items; 1% of those were also changed locally, so
// they conflict.
//
//	go test -run '^$' -bench . -benchmem -count 6 ./merge/ > /tmp/bench.txt
//	~/go/bin/benchstat /tmp/bench.txt
//
// Besides time and B/op, each benchmark reports items/s, the process's CPU
// time per operation (cpu-ns/op, steadier than ns/op on a busy machine),
// allocated bytes per item (alloc-B/item, which stays flat across sizes
// when the work streams) and the peak live heap seen by the garbage
// collector during the run (peak-live-MB): for Floor it stays flat with the
// item count; for Merge it grows only with the id index.

var benchSizes = []int{1_000, 10_000, 100_000}

// benchFeeds are the generated files, made once per size and process.
var benchFeeds struct {
	sync.Mutex
	dir   string
	files map[int][2]string // local, incoming
}

// benchFiles returns the local and incoming feeds of n items.
func benchFiles(b *testing.B, n int) (local, incoming string) {
	b.Helper()
	benchFeeds.Lock()
	defer benchFeeds.Unlock()
	if f, ok := benchFeeds.files[n]; ok {
		return f[0], f[1]
	}
	if benchFeeds.dir == "" {
		dir, err := os.MkdirTemp("", "feedsync-bench-*")
		if err != nil {
			b.Fatal(err)
		}
		benchFeeds.dir = dir
		benchFeeds.files = map[int][2]string{}
	}
	local = filepath.Join(benchFeeds.dir, fmt.Sprintf("local-%d.xml", n))
	incoming = filepath.Join(benchFeeds.dir, fmt.Sprintf("incoming-%d.xml", n))
	if err := writeBenchFeed(local, n, false); err != nil {
		b.Fatal(err)
	}
	if err := writeBenchFeed(incoming, n, true); err != nil {
		b.Fatal(err)
	}
	benchFeeds.files[n] = [2]string{local, incoming}
	return local, incoming
}

// TestMain removes the generated benchmark feeds.
func TestMain(m *testing.M) {
	code := m.Run()
	if benchFeeds.dir != "" {
		os.RemoveAll(benchFeeds.dir)
	}
	os.Exit(code)
}

const benchText = "Pick up the parcel from the post office on the corner before it closes; " +
	"bring the blue card and some identification. If the queue is long, try the machine " +
	"at the back, which takes cards. Also buy stamps: ten first-class, five postcards, " +
	"two airmail. Ask whether the parcel can be forwarded to the office next time, and " +
	"check the opening hours for the holidays, which change every year. "

// writeBenchFeed writes a feed of n items. The incoming variant updates
// every second item as endpoint "phone"; the local variant updates every
// 200th item as "laptop", so items changed on both sides conflict (1%).
func writeBenchFeed(name string, n int, incoming bool) error {
	f, err := os.Create(name)
	if err != nil {
		return err
	}
	w := bufio.NewWriterSize(f, 1<<20)
	title := "laptop"
	if incoming {
		title = "phone"
	}
	fmt.Fprintf(w, `<?xml version="1.0" encoding="UTF-8"?>
<rss version="2.0" xmlns:sx="http://feedsync.org/2007/feedsync" xmlns:dc="http://purl.org/dc/elements/1.1/">
  <channel>
    <title>Tasks (%s)</title>
    <link>https://%s.example.org/</link>
    <description>Generated for benchmarks</description>
`, title, title)
	base := time.Date(2009, 4, 1, 9, 0, 0, 0, time.UTC)
	for i := 0; i < n; i++ {
		updates := 3
		hist := []string{
			fmt.Sprintf(`<sx:history sequence="3" when="%s" by="tablet"/>`, feedsync.FormatTime(base.Add(time.Duration(i)*time.Second+2*time.Hour))),
			fmt.Sprintf(`<sx:history sequence="2" when="%s" by="phone"/>`, feedsync.FormatTime(base.Add(time.Duration(i)*time.Second+time.Hour))),
			fmt.Sprintf(`<sx:history sequence="1" when="%s" by="laptop"/>`, feedsync.FormatTime(base.Add(time.Duration(i)*time.Second))),
		}
		desc := benchText
		switch {
		case incoming && i%2 == 0:
			updates = 4
			hist = append([]string{fmt.Sprintf(`<sx:history sequence="4" when="%s" by="phone"/>`, feedsync.FormatTime(base.Add(time.Duration(i)*time.Second+3*time.Hour)))}, hist...)
			desc = "Changed on the phone. " + benchText
		case !incoming && i%200 == 0:
			updates = 4
			hist = append([]string{fmt.Sprintf(`<sx:history sequence="4" when="%s" by="laptop"/>`, feedsync.FormatTime(base.Add(time.Duration(i)*time.Second+3*time.Hour)))}, hist...)
			desc = "Changed on the laptop. " + benchText
		}
		fmt.Fprintf(w, `    <item>
      <title>Task %d: parcel and stamps</title>
      <description>%s</description>
      <guid isPermaLink="false">urn:uuid:00000000-0000-4000-8000-%012d</guid>
      <dc:creator>Ann</dc:creator>
      <category>errands</category>
      <sx:sync id="task-%d" updates="%d">
        %s
`, i, desc, i, i, updates, strings.Join(hist, "\n        "))
		if i%100 == 50 {
			// 1% of the items carry a conflict copy from an earlier merge.
			fmt.Fprintf(w, `        <sx:conflicts>
          <item>
            <title>Task %d: parcel</title>
            <description>%s</description>
            <sx:sync id="task-%d" updates="3">
              <sx:history sequence="3" when="%s" by="desktop"/>
              <sx:history sequence="2" when="%s" by="phone"/>
              <sx:history sequence="1" when="%s" by="laptop"/>
            </sx:sync>
          </item>
        </sx:conflicts>
`, i, benchText[:200], i, feedsync.FormatTime(base.Add(time.Duration(i)*time.Second+90*time.Minute)),
				feedsync.FormatTime(base.Add(time.Duration(i)*time.Second+time.Hour)), feedsync.FormatTime(base.Add(time.Duration(i)*time.Second)))
		}
		w.WriteString("      </sx:sync>\n    </item>\n")
	}
	w.WriteString("  </channel>\n</rss>\n")
	if err := w.Flush(); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}

// cpuTime returns the user and system CPU time the process has used.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// heapSampler records the peak live heap the garbage collector reports
// while a benchmark runs. Reading runtime/metrics does not stop the world.
type heapSampler struct {
	stop chan struct{}
	done chan struct{}
	peak uint64
}

func startHeapSampler() *heapSampler {
	runtime.GC()
	s := &heapSampler{stop: make(chan struct{}), done: make(chan struct{})}
	sample := []metrics.Sample{{Name: "/gc/heap/live:bytes"}}
	read := func() {
		metrics.Read(sample)
		if v := sample[0].Value; v.Kind() == metrics.KindUint64 && v.Uint64() > s.peak {
			s.peak = v.Uint64()
		}
	}
	go func() {
		defer close(s.done)
		t := time.NewTicker(2 * time.Millisecond)
		defer t.Stop()
		for {
			read()
			select {
			case <-s.stop:
				read()
				return
			case <-t.C:
			}
		}
	}()
	return s
}

func (s *heapSampler) finish() uint64 {
	close(s.stop)
	<-s.done
	return s.peak
}

// run times fn over items items per iteration and reports the metrics.
func benchRun(b *testing.B, items int, fn func() error) {
	b.ReportAllocs()
	var before, after runtime.MemStats
	hs := startHeapSampler()
	runtime.ReadMemStats(&before)
	cpu0 := cpuTime()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if err := fn(); err != nil {
			b.Fatal(err)
		}
	}
	b.StopTimer()
	cpu := cpuTime() - cpu0
	runtime.ReadMemStats(&after)
	peak := hs.finish()
	total := float64(items) * float64(b.N)
	b.ReportMetric(total/b.Elapsed().Seconds(), "items/s")
	// CPU time of the whole process (user and system, GC included) per
	// operation: unlike ns/op it hardly moves when other programs compete
	// for the machine, so ratios between benchmarks stay meaningful.
	b.ReportMetric(float64(cpu.Nanoseconds())/float64(b.N), "cpu-ns/op")
	b.ReportMetric(float64(after.TotalAlloc-before.TotalAlloc)/total, "alloc-B/item")
	b.ReportMetric(float64(peak)/(1<<20), "peak-live-MB")
}

func readAllItems(name string) (n int, err error) {
	f, err := os.Open(name)
	if err != nil {
		return 0, err
	}
	defer f.Close()
	r := feedsync.NewReader(f)
	for {
		_, err := r.Next()
		if err == io.EOF {
			return n, nil
		}
		if err != nil {
			return n, err
		}
		n++
	}
}

// BenchmarkRead streams the local feed with feedsync.Reader.
func BenchmarkRead(b *testing.B) {
	for _, n := range benchSizes {
		b.Run(fmt.Sprintf("items=%d", n), func(b *testing.B) {
			local, _ := benchFiles(b, n)
			benchRun(b, n, func() error {
				got, err := readAllItems(local)
				if err == nil && got != n {
					err = fmt.Errorf("read %d items, want %d", got, n)
				}
				return err
			})
		})
	}
}

// BenchmarkWrite writes the local feed's items, read beforehand, with
// feedsync.Writer.
func BenchmarkWrite(b *testing.B) {
	for _, n := range benchSizes {
		b.Run(fmt.Sprintf("items=%d", n), func(b *testing.B) {
			local, _ := benchFiles(b, n)
			f, err := os.Open(local)
			if err != nil {
				b.Fatal(err)
			}
			h, items, err := feedsync.ReadAll(f)
			f.Close()
			if err != nil {
				b.Fatal(err)
			}
			benchRun(b, n, func() error {
				w := feedsync.NewWriter(io.Discard, h)
				for _, it := range items {
					if err := w.WriteItem(it); err != nil {
						return err
					}
				}
				return w.Close()
			})
		})
	}
}

// BenchmarkMerge merges the incoming feed into the local feed with Feeds:
// half the items changed, 1% of those in conflict.
func BenchmarkMerge(b *testing.B) {
	for _, n := range benchSizes {
		b.Run(fmt.Sprintf("items=%d", n), func(b *testing.B) {
			local, incoming := benchFiles(b, n)
			tmp := b.TempDir()
			benchRun(b, n, func() error {
				lf, err := os.Open(local)
				if err != nil {
					return err
				}
				defer lf.Close()
				inf, err := os.Open(incoming)
				if err != nil {
					return err
				}
				defer inf.Close()
				sum, err := Feeds(context.Background(), lf, inf, io.Discard, Options{TempDir: tmp})
				if err == nil && sum.Updated+sum.Conflicts+sum.Unchanged != n {
					err = fmt.Errorf("summary %v does not account for %d items", sum, n)
				}
				return err
			})
		})
	}
}

// BenchmarkFloor is the least any streaming merge of two files must do: read
// both feeds with feedsync.Reader and write the local items with
// feedsync.Writer. BenchmarkMerge is measured against it.
func BenchmarkFloor(b *testing.B) {
	for _, n := range benchSizes {
		b.Run(fmt.Sprintf("items=%d", n), func(b *testing.B) {
			local, incoming := benchFiles(b, n)
			benchRun(b, n, func() error {
				if _, err := readAllItems(incoming); err != nil {
					return err
				}
				f, err := os.Open(local)
				if err != nil {
					return err
				}
				defer f.Close()
				r := feedsync.NewReader(f)
				h, err := r.Header()
				if err != nil {
					return err
				}
				w := feedsync.NewWriter(io.Discard, h)
				for {
					it, err := r.Next()
					if err == io.EOF {
						break
					}
					if err != nil {
						return err
					}
					if err := w.WriteItem(it); err != nil {
						return err
					}
				}
				return w.Close()
			})
		})
	}
}

// BenchmarkFloorEncodingXML is the floor of BenchmarkFloor written with the
// standard library alone: read both feeds token by token with encoding/xml's
// RawToken and write the local feed's tokens back with an xml.Encoder. It is
// what any merge of two files built on encoding/xml must at least spend, and
// the bar the merge of two 100k-item feeds is held to (bench/pouchdb);
// BenchmarkFloor, on feedsync's own tokenizer, is the stricter one.
func BenchmarkFloorEncodingXML(b *testing.B) {
	for _, n := range benchSizes {
		b.Run(fmt.Sprintf("items=%d", n), func(b *testing.B) {
			local, incoming := benchFiles(b, n)
			benchRun(b, n, func() error {
				if err := copyTokens(incoming, nil); err != nil {
					return err
				}
				return copyTokens(local, xml.NewEncoder(io.Discard))
			})
		})
	}
}

// copyTokens reads the file name with encoding/xml's RawToken and, when enc
// is not nil, writes every token to enc.
func copyTokens(name string, enc *xml.Encoder) error {
	f, err := os.Open(name)
	if err != nil {
		return err
	}
	defer f.Close()
	d := xml.NewDecoder(bufio.NewReaderSize(f, 64<<10))
	for {
		tok, err := d.RawToken()
		if err == io.EOF {
			break
		}
		if err != nil {
			return fmt.Errorf("%s: %w", name, err)
		}
		if enc == nil {
			continue
		}
		if err := enc.EncodeToken(tok); err != nil {
			return fmt.Errorf("%s: %w", name, err)
		}
	}
	if enc != nil {
		return enc.Flush()
	}
	return nil
}

// BenchmarkMergeLimitCheck measures what checking every changed result
// against the reader's limits costs (FS-ROBUST-6): the merge of
// BenchmarkMerge at 10,000 items, and the merge of one new version into
// an item with 500 conflict copies (the check sizes every copy), each
// with the check and without it.
func BenchmarkMergeLimitCheck(b *testing.B) {
	local, incoming := benchFiles(b, 10_000)
	tmp := b.TempDir()
	copies := benchCopies(b, 500)
	for _, check := range []bool{true, false} {
		b.Run(fmt.Sprintf("feeds/items=10000/check=%v", check), func(b *testing.B) {
			checkResults = check
			defer func() { checkResults = true }()
			benchRun(b, 10_000, func() error {
				lf, err := os.Open(local)
				if err != nil {
					return err
				}
				defer lf.Close()
				inf, err := os.Open(incoming)
				if err != nil {
					return err
				}
				defer inf.Close()
				_, err = Feeds(context.Background(), lf, inf, io.Discard, Options{TempDir: tmp})
				return err
			})
		})
		b.Run(fmt.Sprintf("item/copies=500/check=%v", check), func(b *testing.B) {
			checkResults = check
			defer func() { checkResults = true }()
			m := &merger{}
			b.ReportAllocs()
			for b.Loop() {
				res, o, err := m.step(copies[0], nil, copies[1], feedsync.FormatUnknown)
				if err != nil || o != feedsync.Conflict || len(res.Sync.Conflicts) != 501 {
					b.Fatalf("step: %v %v", o, err)
				}
			}
		})
	}
}

// benchCopies returns an item with n conflict copies, read from a feed as
// a store or file gives it, and a new concurrent version of it.
func benchCopies(b *testing.B, n int) [2]*feedsync.Item {
	b.Helper()
	day := time.Date(2026, 1, 5, 9, 0, 0, 0, time.UTC)
	payload := func(s string) *etree.Element {
		e := etree.NewElement("item")
		e.CreateElement("title").SetText(s)
		e.CreateElement("description").SetText(strings.Repeat(s+" ", 100))
		return e
	}
	base, err := feedsync.Create(feedsync.RSS, payload("base"), "big-1", feedsync.Stamp{By: "origin", When: day}, false)
	if err != nil {
		b.Fatal(err)
	}
	var out [2]*feedsync.Item
	w := base
	for i := range n + 2 {
		v, err := feedsync.Update(base, payload(fmt.Sprint("v", i)), feedsync.Stamp{By: fmt.Sprintf("peer%d", i), When: day})
		if err != nil {
			b.Fatal(err)
		}
		if i == n+1 {
			out[1] = v
			break
		}
		if i == 0 {
			w = v
			continue
		}
		w, _ = feedsync.MergeItem(w, v)
	}
	var buf bytes.Buffer
	if err := feedsync.WriteAll(&buf, feedsync.NewHeader(feedsync.RSS, feedsync.FeedInfo{Title: "t"}), []*feedsync.Item{w}); err != nil {
		b.Fatal(err)
	}
	r := feedsync.NewReader(&buf)
	it, err := r.Next()
	if err != nil {
		b.Fatal(err)
	}
	if len(it.Sync.Conflicts) != n {
		b.Fatalf("%d copies, want %d", len(it.Sync.Conflicts), n)
	}
	out[0] = it
	return out
}
