package main

import (
	"bytes"
	"context"
	"fmt"
	"path/filepath"
	"runtime"
	"runtime/metrics"
	"sync"
	"testing"
	"time"
)

// BenchmarkVerifyStores runs verify on two SQLite stores of 10k and of
// 100k items that differ in a few (streamSides), reporting the peak live
// heap during a run (peak-live-B, the largest heap left by a collection,
// sampled every millisecond): it must be about the same for both sizes.
func BenchmarkVerifyStores(b *testing.B) {
	for _, n := range []int{10_000, 100_000} {
		b.Run(fmt.Sprint("items=", n), func(b *testing.B) {
			dir := b.TempDir()
			a, bb := streamSides(b, n)
			da, db := filepath.Join(dir, "a.db"), filepath.Join(dir, "b.db")
			putItems(b, "sqlite:"+da, a)
			putItems(b, "sqlite:"+db, bb)
			a, bb = nil, nil
			runtime.GC()
			var peak uint64
			for b.Loop() {
				stop := sampleLiveHeap(&peak)
				var out, errb bytes.Buffer
				m := &Main{Stdout: &out, Stderr: &errb, Getenv: func(string) string { return "" }, Now: time.Now}
				code := m.Report(m.Run(context.Background(), []string{"verify", da, db}))
				stop()
				if code != exitProblem {
					b.Fatalf("exit %d\n%s", code, errb.String())
				}
			}
			b.ReportMetric(float64(peak), "peak-live-B")
		})
	}
}

// sampleLiveHeap raises *peak to the live heap the runtime reports (as of
// its latest collection) every millisecond until stop is called.
func sampleLiveHeap(peak *uint64) (stop func()) {
	done := make(chan struct{})
	var wg sync.WaitGroup
	wg.Add(1)
	s := []metrics.Sample{{Name: "/gc/heap/live:bytes"}}
	read := func() {
		metrics.Read(s)
		*peak = max(*peak, s[0].Value.Uint64())
	}
	go func() {
		defer wg.Done()
		t := time.NewTicker(time.Millisecond)
		defer t.Stop()
		for {
			select {
			case <-done:
				return
			case <-t.C:
				read()
			}
		}
	}()
	return func() {
		close(done)
		wg.Wait()
		read()
	}
}
