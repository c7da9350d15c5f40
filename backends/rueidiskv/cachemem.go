package rueidiskv

import (
	"runtime/metrics"
	"slices"
	"strings"
	"unsafe"
)

// What a cache entry costs the Go heap, so that a Cache counts its entries
// at what they really hold.

// mapSlotBytes is what an entry costs its shard's map (map[string]*entry):
// a slot of a key and a pointer, its control byte, and the slack of a table
// that grows by doubling and keeps deleted slots until it is rehashed.
// Measured on Go 1.26 (the heap held by a map, divided by its length): 35
// to 61 bytes at lengths from 100 to 200,000, and at most 73 while keys
// come and go first-in first-out at a constant length, as in a full cache.
const mapSlotBytes = 80

// entryOverhead is what an entry costs beyond its key and value bytes and
// its share of a slab: its map slot.
const entryOverhead = mapSlotBytes

// entrySize is the most an entry of a key of klen bytes and a value of
// vlen bytes counts, beyond its slab: entryOverhead, and an allocation of
// their own (see pack), rounded up to its size class. An entry whose bytes
// are in a chunk counts entryOverhead, and the chunk is counted as a whole.
func entrySize(klen, vlen int) int64 {
	return int64(allocSize(klen+vlen)) + entryOverhead
}

// A chunk holds the keys and values of entries of one shard, written one
// after another and never overwritten; it is freed (by the garbage
// collector) once no entry and no reader holds a string of it.
//
// Chunks are what keeps the heap close to what the cache counts. Were each
// value an allocation of its own, the garbage collector would place it in
// a span of its size class among other allocations of every age: the
// entries evicted since the last collection, the copies handed to readers.
// Evictions then leave spans partly used, never freed, and the heap in use
// grew to 1.4 times the cache's size in a benchmark that filled it three
// times. Entries are evicted in the order they were written to chunks
// (CLOCK order; an entry given a second chance is moved to the current
// chunk), so a chunk empties as a whole, and is counted, whole, until it
// does.
type chunk struct {
	buf  []byte // the bytes written so far; cap is the shard's chunkSize
	live int    // entries whose key and value are in buf
}

// Chunk sizes.
const (
	// maxChunkSize is the size of a chunk of a large shard: 32 KiB, the
	// largest allocation with a size class (a span of its own).
	maxChunkSize = maxSmallSize
	// minChunkSize is the smallest chunk worth having: smaller shards give
	// every entry its own allocation.
	minChunkSize = 1 << 10
)

// chunkSizeFor returns the chunk size of a shard of max bytes: the largest
// power of two up to maxChunkSize that is at most a sixteenth of the
// shard, so that the part of the current chunk not yet written costs the
// shard at most that; or 0, for no chunks.
func chunkSizeFor(max int64) int {
	size := maxChunkSize
	for size > minChunkSize && int64(size) > max/16 {
		size /= 2
	}
	if int64(size) > max/16 {
		return 0
	}
	return size
}

// chunkCost is what a chunk of size bytes costs the heap: its bytes and the
// chunk itself.
func chunkCost(size int) int64 {
	return int64(size + allocSize(int(unsafe.Sizeof(chunk{}))))
}

// add writes key and val at the end of ch, which must have room for them
// (at least one byte), and returns them as strings of ch's bytes.
func (ch *chunk) add(key, val string) (k, v string) {
	off := len(ch.buf)
	ch.buf = append(ch.buf, key...)
	ch.buf = append(ch.buf, val...)
	ch.live++
	s := unsafe.String(&ch.buf[off], len(key)+len(val))
	return s[:len(key)], s[len(key):]
}

// pack copies key and val into one allocation, for an entry too large for
// a chunk, and returns them as two strings that share it: the entry holds
// no other copy of either (not the reply's string, nor the caller's key),
// so one allocation, counted by entrySize, is all its bytes cost.
func pack(key, val string) (k, v string) {
	var b strings.Builder
	b.Grow(len(key) + len(val))
	b.WriteString(key)
	b.WriteString(val)
	s := b.String()
	return s[:len(key)], s[len(key):]
}

// A slab holds entries of one shard, taken one after another. Like chunks,
// slabs keep the heap close to what the cache counts: an entry allocated
// on its own sits in a span of small objects that are mostly short-lived
// (a reply's parts, a fetch's record), and evictions left such spans a
// fifth used. A slab is counted whole until none of its entries is in use
// and no entry will be taken from it; entries given a second chance move
// to the current slab.
type slab struct {
	entries []entry
	used    int // entries taken
	live    int // entries in use
}

// maxSlabBytes is the size of the slab of a large shard, as for chunks.
const maxSlabBytes = maxChunkSize

// slabLenFor returns the number of entries of a slab of a shard of max
// bytes: as many as fit in maxSlabBytes or a sixteenth of the shard,
// whichever is less, and at least one.
func slabLenFor(shardMax int64) int {
	return int(max(1, min(maxSlabBytes, shardMax/16)/int64(unsafe.Sizeof(entry{}))))
}

// slabCost is what a slab of n entries costs the heap: its entries,
// rounded up to their allocation's size class, and the slab itself.
func slabCost(n int) int64 {
	return int64(allocSize(n*int(unsafe.Sizeof(entry{}))) + allocSize(int(unsafe.Sizeof(slab{}))))
}

// Allocation sizes of the Go runtime.
const (
	// maxSmallSize is the largest allocation that is rounded up to a size
	// class; larger ones take whole pages.
	maxSmallSize = 32 << 10
	// pageSize is the runtime's page.
	pageSize = 8 << 10
)

// sizeClasses are the runtime's size classes, ascending, read from the
// runtime's histogram of allocations by size, whose buckets end at the
// classes (nil if the runtime does not report it).
var sizeClasses = func() []int {
	s := []metrics.Sample{{Name: "/gc/heap/allocs-by-size:bytes"}}
	metrics.Read(s)
	if s[0].Value.Kind() != metrics.KindFloat64Histogram {
		return nil
	}
	var classes []int
	for _, b := range s[0].Value.Float64Histogram().Buckets {
		// Bucket i holds the allocations of Buckets[i] to Buckets[i+1]-1
		// bytes, which the runtime rounds up to Buckets[i+1]-1.
		if c := int(b) - 1; c > 0 && b <= maxSmallSize+1 {
			classes = append(classes, c)
		}
	}
	return classes
}()

// heldSlotsFor returns the number of held counts of a shard of size bytes:
// a power of two, about one for each 512 bytes, from 4 to 1<<16.
func heldSlotsFor(size int64) int {
	n := 4
	for n < 1<<16 && int64(n)*2*512 <= size {
		n *= 2
	}
	return n
}

// allocSize returns the bytes the Go heap spends on an allocation of n
// bytes: n rounded up to its size class, or to whole pages when large.
func allocSize(n int) int {
	switch {
	case n <= 0:
		return 0
	case n > maxSmallSize:
		return (n + pageSize - 1) / pageSize * pageSize
	}
	if i, _ := slices.BinarySearch(sizeClasses, n); i < len(sizeClasses) {
		return sizeClasses[i]
	}
	// Unknown classes: they are at most 1/8 apart.
	return n + n/8 + 16
}
