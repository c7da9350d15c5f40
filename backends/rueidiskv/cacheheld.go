package rueidiskv

import "sync/atomic"

// heldCounts are a shard's counts of its keys by a slot of their hash: a
// byte a slot, four slots to a word, so that the counts a bulk write reads
// stay in the processor's cache. A write reads a slot without the shard's
// lock; counts change only under it. A count that reaches 255 stays there
// (a slot that may hold a key is always safe to report so) until the
// shard's entries are dropped and the counts made again.
type heldCounts struct {
	words []atomic.Uint32
	mask  uint32 // slots - 1
}

// newHeldCounts returns zero counts of slots slots, a power of two of at
// least 4.
func newHeldCounts(slots int) heldCounts {
	return heldCounts{words: make([]atomic.Uint32, slots/4), mask: uint32(slots - 1)}
}

// cost is what the counts cost the heap.
func (c *heldCounts) cost() int64 {
	return int64(allocSize(len(c.words) * 4))
}

// slot returns the slot of a key of hash h (whose remainder modulo
// cacheShards picked the shard).
func (c *heldCounts) slot(h uint64) uint32 { return uint32(h/cacheShards) & c.mask }

// load returns the count of slot s.
func (c *heldCounts) load(s uint32) uint8 {
	return uint8(c.words[s/4].Load() >> (8 * (s % 4)))
}

// add adds delta, 1 or -1, to the count of slot s, unless it is 255. Under
// the shard's lock.
func (c *heldCounts) add(s uint32, delta int) {
	w := &c.words[s/4]
	old := w.Load()
	shift := 8 * (s % 4)
	n := uint8(old >> shift)
	if n == 255 || n == 0 && delta < 0 {
		return
	}
	n = uint8(int(n) + delta)
	w.Store(old&^(0xff<<shift) | uint32(n)<<shift)
}

// reset sets every count to zero. Under the shard's lock.
func (c *heldCounts) reset() {
	for i := range c.words {
		c.words[i].Store(0)
	}
}
