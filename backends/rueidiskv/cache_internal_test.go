package rueidiskv

import (
	"context"
	"math/rand/v2"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/redis/rueidis"

	"github.com/cledar/storekit/internal/redistest"
)

// fetchOf runs one fetch of key through the cache's state machine, as the
// read paths do: begin, an optional event while the fetch is in flight,
// the client's confirmation, finish. It reports whether the reply was
// cached.
func fetchOf(t *testing.T, c *Cache, key string, during func(), confirm bool) bool {
	t.Helper()
	sh := c.shard(key)
	_, _, f, own := sh.begin(key, monoNow(), true)
	if f == nil || !own {
		t.Fatalf("begin(%q): hit or shared fetch, want a fetch of its own", key)
	}
	if during != nil {
		during()
	}
	if confirm {
		c.confirm(key)
	}
	sh.finish(key, f, "value", stateValue, monoNow()+int64(time.Hour), nil)
	_, _, ok := sh.lookup(key, monoNow(), true)
	return ok
}

func TestCacheFetchStates(t *testing.T) {
	c := NewCache(1 << 20)
	if !fetchOf(t, c, "plain", nil, true) {
		t.Error("a confirmed fetch was not cached")
	}
	if fetchOf(t, c, "unconfirmed", nil, false) {
		t.Error("a fetch the client did not confirm was cached")
	}
	if fetchOf(t, c, "written", func() { c.invalidate("written") }, true) {
		t.Error("a fetch in flight across a write was cached")
	}
	if fetchOf(t, c, "flushed", c.flush, true) {
		t.Error("a fetch in flight across a flush was cached")
	}
	c.invalidate("plain")
	if _, _, ok := c.shard("plain").lookup("plain", monoNow(), true); ok {
		t.Error("an invalidated entry is still served")
	}

	// Sharing: a second read shares the fetch in flight, unless a write
	// poisoned it, and a single read does not share an MGET fetch.
	sh := c.shard("k")
	_, _, f1, own := sh.begin("k", monoNow(), false)
	if !own {
		t.Fatal("first begin does not own its fetch")
	}
	if _, _, f, own := sh.begin("k", monoNow(), false); own || f != f1 {
		t.Error("a bulk read does not share a bulk fetch in flight")
	}
	_, _, f2, own := sh.begin("k", monoNow(), true)
	if !own || f2 == f1 {
		t.Error("a single read shares an MGET fetch")
	}
	c.invalidate("k")
	_, _, f3, own := sh.begin("k", monoNow(), true)
	if !own || f3 == f2 {
		t.Error("a read shares a fetch that began before a write")
	}
	c.confirm("k")
	for _, f := range []*flight{f1, f2, f3} {
		sh.finish("k", f, "v", stateValue, monoNow()+int64(time.Hour), nil)
	}
	if _, _, ok := sh.lookup("k", monoNow(), true); !ok {
		t.Error("the newest fetch of k was not cached")
	}
	if len(sh.pending) != 0 {
		t.Errorf("%d fetches still pending after all finished", len(sh.pending))
	}

	// An MGET's "absent" serves bulk reads only.
	c.shard("a").finish("a", mustBegin(t, c, "a"), "", stateAbsent, monoNow()+int64(time.Hour), nil)
	if _, _, ok := c.shard("a").lookup("a", monoNow(), false); !ok {
		t.Error("an absent entry does not serve a bulk read")
	}
	if _, _, ok := c.shard("a").lookup("a", monoNow(), true); ok {
		t.Error("an absent entry serves Get, which must tell missing from another type")
	}
	// Expired entries are not served.
	sh2 := c.shard("old")
	f := mustBegin(t, c, "old")
	sh2.finish("old", f, "v", stateValue, monoNow()+int64(time.Millisecond), nil)
	if _, _, ok := sh2.lookup("old", monoNow()+int64(2*time.Millisecond), true); ok {
		t.Error("an expired entry is served")
	}
}

func mustBegin(t *testing.T, c *Cache, key string) *flight {
	t.Helper()
	_, _, f, own := c.shard(key).begin(key, monoNow(), false)
	if !own {
		t.Fatalf("begin(%q) does not own its fetch", key)
	}
	c.confirm(key)
	return f
}

func TestCacheEviction(t *testing.T) {
	const size = 64 << 10
	c := NewCache(size)
	value := strings.Repeat("x", 1000)
	hot := "hot"
	hotSh := c.shard(hot)
	hotSh.finish(hot, mustBegin(t, c, hot), value, stateValue, monoNow()+int64(time.Hour), nil)
	for i := range 1000 {
		k := "k" + strconv.Itoa(i)
		c.shard(k).finish(k, mustBegin(t, c, k), value, stateValue, monoNow()+int64(time.Hour), nil)
		hotSh.lookup(hot, monoNow(), true) // read often: it stays
	}
	st := c.Stats()
	if st.Bytes > size || st.Entries == 0 || st.Entries >= 1000 {
		t.Errorf("after caching 1000 values of 1000 bytes in %d bytes: %d entries, %d bytes", size, st.Entries, st.Bytes)
	}
	for i := range c.shards {
		if sh := &c.shards[i]; sh.bytes > sh.max {
			t.Errorf("shard %d holds %d bytes, more than its %d", i, sh.bytes, sh.max)
		}
	}
	if _, _, ok := hotSh.lookup(hot, monoNow(), true); !ok {
		t.Error("an entry read on every insert was evicted")
	}
	// A value larger than a shard is not cached.
	big := strings.Repeat("y", size/cacheShards)
	c.shard("big").finish("big", mustBegin(t, c, "big"), big, stateValue, monoNow()+int64(time.Hour), nil)
	if _, _, ok := c.shard("big").lookup("big", monoNow(), true); ok {
		t.Error("a value larger than a shard was cached")
	}
	if c.Size() != size {
		t.Errorf("Size() = %d, want %d", c.Size(), size)
	}
}

// TestCacheExpiry: an entry lives at most CacheTTL and never beyond the
// key's expiry on the server.
func TestCacheExpiry(t *testing.T) {
	srv := redistest.New(t)
	ctx := context.Background()
	for _, tt := range []struct {
		cacheTTL, serverTTL time.Duration // serverTTL 0: none
		lo, hi              time.Duration // bounds of the entry's life
	}{
		{time.Hour, 0, 59 * time.Minute, time.Hour},
		{time.Hour, 2 * time.Second, time.Second, 2 * time.Second},
		{100 * time.Millisecond, time.Hour, 0, 100 * time.Millisecond},
	} {
		s, err := Open(ctx, rueidis.ClientOption{InitAddress: []string{srv.Addr()}}, &Options{CacheTTL: tt.cacheTTL})
		if err != nil {
			t.Fatal(err)
		}
		if s.a.cluster {
			t.Error("Open of a standalone server made a cluster client")
		}
		key := "expiry:" + strconv.FormatInt(time.Now().UnixNano(), 10)
		if tt.serverTTL > 0 {
			err = s.SetWithTTL(ctx, key, []byte("v"), tt.serverTTL)
		} else {
			err = s.Set(ctx, key, []byte("v"))
		}
		if err != nil {
			t.Fatal(err)
		}
		if _, err := s.Get(ctx, key); err != nil {
			t.Fatal(err)
		}
		sh := s.cache.shard(key)
		sh.mu.RLock()
		e := sh.entries[key]
		sh.mu.RUnlock()
		if e == nil {
			t.Errorf("cacheTTL %v, server TTL %v: the read was not cached", tt.cacheTTL, tt.serverTTL)
		} else if left := time.Duration(e.exp - monoNow()); left <= tt.lo || left > tt.hi {
			t.Errorf("cacheTTL %v, server TTL %v: the entry lives %v more, want within (%v, %v]", tt.cacheTTL, tt.serverTTL, left, tt.lo, tt.hi)
		}
		_, _ = s.Delete(ctx, key)
		_ = s.Close()
	}
}

// checkShard verifies sh's bookkeeping, under its lock: the list and the
// map hold the same entries, each chunk's and slab's count of live entries
// is right, the bytes counted are the entries' sizes plus every chunk and
// slab held (one that an entry uses, and the current one), and they fit
// the shard; held counts every key of the entries and the fetches in
// flight in its slot.
func checkShard(t *testing.T, sh *shard) {
	t.Helper()
	sh.mu.RLock()
	defer sh.mu.RUnlock()
	n, want := 0, int64(0)
	live := make(map[*chunk]int)
	slabs := make(map[*slab]int)
	for e := sh.head; e != nil; e = e.next {
		n++
		if sh.entries[e.key] != e {
			t.Fatalf("entry %q is in the list but not in the map", e.key)
		}
		if e.chunk != nil {
			live[e.chunk]++
		}
		slabs[e.slab]++
		want += e.size
	}
	for sl, k := range slabs {
		if sl.live != k {
			t.Fatalf("a slab counts %d live entries, %d use it", sl.live, k)
		}
		want += slabCost(sh.slabLen)
	}
	if sh.slab != nil && slabs[sh.slab] == 0 {
		want += slabCost(sh.slabLen)
	}
	if n != len(sh.entries) {
		t.Fatalf("%d entries in the list, %d in the map", n, len(sh.entries))
	}
	for ch, k := range live {
		if ch.live != k {
			t.Fatalf("a chunk counts %d live entries, %d use it", ch.live, k)
		}
		want += chunkCost(sh.chunkSize)
	}
	if sh.chunk != nil && live[sh.chunk] == 0 {
		want += chunkCost(sh.chunkSize)
	}
	held := make([]int, sh.held.mask+1)
	for k, e := range sh.entries {
		if s := sh.slotOf(k); e.slot != s {
			t.Fatalf("entry %q records slot %d, its key's is %d", k, e.slot, s)
		}
		held[e.slot]++
	}
	for k := range sh.pending {
		held[sh.slotOf(k)]++
	}
	for i, want := range held {
		// A count that reached 255 stays there; these tests never get near.
		if got := sh.held.load(uint32(i)); int(got) != want && got != 255 {
			t.Fatalf("held slot %d counts %d keys, the entries and fetches in flight come to %d", i, got, want)
		}
	}
	if sh.bytes != want {
		t.Fatalf("the shard counts %d bytes, its entries and chunks come to %d", sh.bytes, want)
	}
	if sh.bytes > sh.max {
		t.Fatalf("the shard holds %d bytes, more than its %d", sh.bytes, sh.max)
	}
}

// TestCacheAccounting: under churn (values of every size, hits that give
// entries a second chance, invalidations, flushes, from several
// goroutines), every shard's count of bytes matches its entries and chunks
// and stays within the shard, and what the cache really holds on the Go
// heap is no more than it counts.
func TestCacheAccounting(t *testing.T) {
	const size = 4 << 20
	c := NewCache(size)
	if cs := c.shards[0].chunkSize; cs != 16<<10 {
		t.Fatalf("chunk size %d for a shard of %d bytes, want 16 KiB", cs, c.shards[0].max)
	}
	// Value sizes: in chunks, on their own, too large for a shard.
	sizes := []int{0, 1, 40, 200, 1000, 1 << 10, 3000, 5000, 20 << 10, 100 << 10, size / cacheShards}
	value := strings.Repeat("v", size/cacheShards)
	const workers, ops = 4, 20000
	var wg sync.WaitGroup
	for w := range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			rnd := rand.New(rand.NewPCG(uint64(w), 1))
			for i := range ops {
				k := "churn:" + strconv.Itoa(rnd.IntN(5000))
				sh := c.shard(k)
				switch r := rnd.IntN(100); {
				case r < 50: // a read, which fills the cache on a miss
					if _, _, ok := sh.lookup(k, monoNow(), true); ok {
						continue
					}
					_, _, f, own := sh.begin(k, monoNow(), true)
					if f == nil || !own {
						continue
					}
					c.confirm(k)
					v := value[:sizes[rnd.IntN(len(sizes))]]
					sh.finish(k, f, v, stateValue, monoNow()+int64(time.Hour), nil)
				case r < 90: // a hit on a key read before: a second chance
					sh.lookup("churn:"+strconv.Itoa(rnd.IntN(500)), monoNow(), true)
				case r < 99:
					c.invalidate(k)
				default:
					if i%50 == 0 {
						c.flush()
					}
				}
				if i%97 == 0 {
					checkShard(t, sh)
				}
			}
		}()
	}
	wg.Wait()
	for i := range c.shards {
		checkShard(t, &c.shards[i])
	}
	// Fill the cache once more with small values, whose entries cost
	// more than their bytes, then see what dropping it frees.
	for i := range 100000 {
		k := "fill:" + strconv.Itoa(i)
		c.shard(k).finish(k, mustBegin(t, c, k), value[:sizes[i%6]], stateValue, monoNow()+int64(time.Hour), nil)
	}
	st := c.Stats()
	held := heapAlloc()
	c = nil
	freed := held - heapAlloc()
	t.Logf("%d entries counted as %d bytes; dropping the cache freed %d bytes (%.3f of what it counts)",
		st.Entries, st.Bytes, freed, float64(freed)/float64(st.Bytes))
	if st.Bytes > size || st.Bytes < size/2 {
		t.Errorf("the full cache counts %d bytes, want from %d to %d", st.Bytes, size/2, size)
	}
	// Slack for the shards and maps of an empty cache, and for what the
	// rest of the process frees meanwhile.
	if slack := int64(256 << 10); freed > st.Bytes+slack {
		t.Errorf("the cache held %d bytes of heap, more than the %d it counts", freed, st.Bytes)
	}
}

// heapAlloc returns the bytes of live heap objects after a collection.
func heapAlloc() int64 {
	runtime.GC()
	runtime.GC()
	var m runtime.MemStats
	runtime.ReadMemStats(&m)
	return int64(m.HeapAlloc)
}

// TestAllocSize: the size classes are the runtime's, read from it.
func TestAllocSize(t *testing.T) {
	if len(sizeClasses) < 60 {
		t.Fatalf("%d size classes read from the runtime: %v", len(sizeClasses), sizeClasses)
	}
	for _, tt := range []struct{ n, want int }{
		{0, 0}, {1, 8}, {8, 8}, {9, 16}, {80, 80}, {81, 96}, {1024, 1024}, {1025, 1152},
		{32 << 10, 32 << 10}, {32<<10 + 1, 40 << 10}, {1 << 20, 1 << 20},
	} {
		if got := allocSize(tt.n); got != tt.want {
			t.Errorf("allocSize(%d) = %d, want %d", tt.n, got, tt.want)
		}
	}
}

// TestCacheInvalidateRace: readers fetch keys through the cache's state
// machine from a model server (a version per key) while writers bump a
// key's version and then invalidate it, as a write that returned does. A
// read that begins after a write's invalidation returned must not see an
// older version: the write's invalidation must find every entry and fetch
// of the key, even one that is being turned from a fetch into an entry or
// replacing an older entry at that moment. Without the cache's lock, the
// invalidation trusts held, whose count of the key must not pass through
// zero meanwhile.
func TestCacheInvalidateRace(t *testing.T) {
	const (
		keys    = 2
		readers = 4
		writers = 2
		reads   = 100000
	)
	c := NewCache(1 << 20)
	var (
		version [keys]atomic.Int64 // the model server's, bumped by a write
		settled [keys]atomic.Int64 // the highest version whose invalidation returned
		stale   atomic.Int64
		stop    atomic.Bool
		wg      sync.WaitGroup
	)
	name := func(k int) string { return "race:" + strconv.Itoa(k) }
	for w := range writers {
		wg.Go(func() {
			r := rand.New(rand.NewPCG(uint64(w), 7))
			for !stop.Load() {
				k := r.IntN(keys)
				v := version[k].Add(1)
				c.invalidate(name(k))
				for s := settled[k].Load(); s < v && !settled[k].CompareAndSwap(s, v); s = settled[k].Load() {
				}
				runtime.Gosched()
			}
		})
	}
	var readersDone sync.WaitGroup
	for g := range readers {
		readersDone.Add(1)
		wg.Go(func() {
			defer readersDone.Done()
			r := rand.New(rand.NewPCG(uint64(g), 9))
			for range reads {
				k := r.IntN(keys)
				key, floor := name(k), settled[k].Load()
				sh := c.shard(key)
				val, _, f, own := sh.begin(key, monoNow(), true)
				switch {
				case f == nil: // a hit
				case own: // the fetch reads the server after it registered
					val = strconv.FormatInt(version[k].Load(), 10)
					c.confirm(key)
					sh.finish(key, f, val, stateValue, monoNow()+int64(time.Hour), nil)
				default:
					<-f.done
					val = f.val
				}
				if got, _ := strconv.ParseInt(val, 10, 64); got < floor {
					stale.Add(1)
				}
			}
		})
	}
	readersDone.Wait()
	stop.Store(true)
	wg.Wait()
	if n := stale.Load(); n > 0 {
		t.Errorf("%d of %d reads returned a version older than one whose invalidation had returned before they began", n, readers*reads)
	}
	for i := range c.shards {
		checkShard(t, &c.shards[i])
	}
}
