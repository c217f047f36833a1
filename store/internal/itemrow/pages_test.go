package itemrow

import (
	"errors"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// Pages reads each batch after the last value yielded, stops on a batch
// that says there is no more, and yields next's error last.
func TestPages(t *testing.T) {
	data := []int64{1, 2, 3, 5, 8, 13, 21}
	var asked []int64
	next := func(after int64) ([]int64, bool, error) {
		asked = append(asked, after)
		var b []int64
		for _, v := range data {
			if v > after && len(b) < 3 {
				b = append(b, v)
			}
		}
		return b, len(b) == 3, nil
	}
	var got []int64
	for v, err := range Pages(0, next, func(v int64) int64 { return v }) {
		if err != nil {
			t.Fatal(err)
		}
		got = append(got, v)
	}
	if d := cmp.Diff(data, got); d != "" {
		t.Errorf("values (-want +got):\n%s", d)
	}
	if d := cmp.Diff([]int64{0, 3, 13}, asked); d != "" {
		t.Errorf("cursors (-want +got):\n%s", d)
	}

	// Stopping the loop reads no further batch.
	asked = nil
	for v := range Pages(0, next, func(v int64) int64 { return v }) {
		if v == 2 {
			break
		}
	}
	if len(asked) != 1 {
		t.Errorf("read %d batches after the loop stopped in the first", len(asked))
	}

	// An error from next is yielded and ends the iteration.
	boom := errors.New("boom")
	calls := 0
	failing := func(after int64) ([]int64, bool, error) {
		calls++
		if calls == 2 {
			return nil, false, boom
		}
		return []int64{after + 1}, true, nil
	}
	var vals []int64
	var last error
	for v, err := range Pages(0, failing, func(v int64) int64 { return v }) {
		if err != nil {
			last = err
			continue
		}
		vals = append(vals, v)
	}
	if !errors.Is(last, boom) || len(vals) != 1 {
		t.Errorf("values %v, error %v; want [1] and boom", vals, last)
	}
}
