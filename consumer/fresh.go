package consumer

import (
	"hash/maphash"
	"math/bits"
)

// Fresh carries, from one ConsumeTx to the next, the sync ids put into a
// store that was empty when the first of them began: the initial load of
// an endpoint in pages (httpfeed's pull of a complete feed, one
// transaction per page). Without it every page after the first finds the
// store not empty, and asks the store for each incoming id, all of which
// miss (Local.Get); with it, a page asks only for the ids an earlier page
// may have put.
//
// Fresh keeps a Bloom filter of the ids (about ten bits per id: a little
// over a megabyte for a million items, and false positives only cost a
// lookup) and the store's LastSeq after the last ConsumeTx that used it.
// A transaction that begins at another LastSeq (another writer came
// between, or the caller rolled a page back) stops its use for good: Get
// asks the store again. Pass the same Fresh in Options.Fresh to the
// ConsumeTx of each page, on one goroutine at a time. The zero value is
// ready to use.
type Fresh struct {
	seq    int64 // the LastSeq a transaction must begin at
	broken bool
	seeded bool
	seed   maphash.Seed
	sets   []bloom
}

// bloom is one Bloom filter of a scalable set (Fresh.add): a power of two
// of 64-bit words, filled with up to limit ids at bloomK bits each.
type bloom struct {
	words    []uint64
	n, limit int
}

const (
	bloomK        = 7
	bloomFirst    = 1 << 16 // ids of the first filter, doubling after
	bloomBitsPerN = 10
)

// usable reports whether a transaction whose store's LastSeq is last may
// rely on f, and stops f's use for good if not.
func (f *Fresh) usable(last int64) bool {
	if f.broken || last != f.seq {
		f.broken = true
		return false
	}
	return true
}

// done records the store's LastSeq after a ConsumeTx that used f; a
// failed one (err) stops its use.
func (f *Fresh) done(last int64, err error) {
	if err != nil {
		f.broken = true
		return
	}
	f.seq = last
}

func (f *Fresh) hash(id string) (uint64, uint64) {
	if !f.seeded {
		f.seed, f.seeded = maphash.MakeSeed(), true
	}
	h := maphash.String(f.seed, id)
	return h, h>>33 | h<<31 | 1
}

// add puts id in the set.
func (f *Fresh) add(id string) {
	if n := len(f.sets); n == 0 || f.sets[n-1].n >= f.sets[n-1].limit {
		limit := bloomFirst << n
		words := 1 << bits.Len(uint(limit*bloomBitsPerN/64-1)) // a power of two, for the mask
		f.sets = append(f.sets, bloom{words: make([]uint64, words), limit: limit})
	}
	b := &f.sets[len(f.sets)-1]
	h1, h2 := f.hash(id)
	mask := uint64(len(b.words)*64 - 1)
	for i := range uint64(bloomK) {
		bit := (h1 + i*h2) & mask
		b.words[bit/64] |= 1 << (bit % 64)
	}
	b.n++
}

// mayHold reports whether id may be in the set: false means it is not.
func (f *Fresh) mayHold(id string) bool {
	if len(f.sets) == 0 {
		return false
	}
	h1, h2 := f.hash(id)
	for _, b := range f.sets {
		mask := uint64(len(b.words)*64 - 1)
		in := true
		for i := range uint64(bloomK) {
			bit := (h1 + i*h2) & mask
			if b.words[bit/64]&(1<<(bit%64)) == 0 {
				in = false
				break
			}
		}
		if in {
			return true
		}
	}
	return false
}
