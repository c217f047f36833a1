package consumer

import (
	"strconv"
	"testing"
)

// The filter of a Fresh holds every id added (no false negatives, which
// would skip a lookup that finds an item) and few it was not given, as it
// grows past the size of its first filter.
func TestFreshFilter(t *testing.T) {
	var f Fresh
	const n = 3 * bloomFirst
	for i := range n {
		f.add("item-" + strconv.Itoa(i))
	}
	for i := range n {
		if !f.mayHold("item-" + strconv.Itoa(i)) {
			t.Fatalf("item-%d added, not held", i)
		}
	}
	fp := 0
	for i := range n {
		if f.mayHold("other-" + strconv.Itoa(i)) {
			fp++
		}
	}
	if fp > n/50 {
		t.Errorf("%d of %d ids never added are held, want at most 2%%", fp, n)
	}
	if len(f.sets) != 2 {
		t.Errorf("%d filters for %d ids, want 2", len(f.sets), n)
	}
}
