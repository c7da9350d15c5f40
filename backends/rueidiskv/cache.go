package rueidiskv

import (
	"hash/maphash"
	"sync"
	"sync/atomic"
	"time"
)

// DefaultCacheSize is the size of the cache that [NewCache] makes when given
// a size of zero or less, and that [Open] and [Dial] make when
// [Options.CacheSize] is zero: 64 MiB for all connections together.
const DefaultCacheSize = 64 << 20

// The cache's layout.
const (
	// cacheShards is the number of independently locked parts of a cache;
	// each holds at most 1/cacheShards of its bytes, so a value larger
	// than that is never cached.
	cacheShards = 16
	// noServerExpiry is the PXAT that the cache's rueidis.CacheStore gives
	// a reply whose key has no server-side expiry: the largest one a
	// rueidis.RedisMessage can hold.
	noServerExpiry int64 = 1<<56 - 1
)

// A Cache is the client-side cache of a [Store]: one cache for all the
// connections of a rueidis client, holding at most a fixed number of bytes.
// It is safe for concurrent use.
//
// [Open] and [Dial] make one and install it in the client they build. To
// cache with [New], over a client of your own, build that client from the
// cache's [Cache.ClientOption] and pass the cache in [Options.Cache]:
//
//	cache := rueidiskv.NewCache(32 << 20)
//	client, err := rueidis.NewClient(cache.ClientOption(rueidis.ClientOption{
//		InitAddress: []string{"localhost:6379"},
//	}))
//	...
//	store := rueidiskv.New(client, &rueidiskv.Options{Cache: cache})
//
// The client then tells the cache about every invalidation the server sends
// and every connection it loses, and the store fills the cache from the
// replies to its tracked reads. The client's CacheSizeEachConn does not
// apply: the cache's size is the bound for all connections together. The
// client's own DoCache calls, outside the store, are not cached.
//
// See the package documentation for the caching semantics.
type Cache struct {
	seed          maphash.Seed
	size          int64
	shards        [cacheShards]shard
	invalidations atomic.Uint64
	flushes       atomic.Uint64
	warned        atomic.Bool // the "not installed" warning was logged
}

// CacheStats are the counters of a [Cache].
type CacheStats struct {
	// Hits counts reads served without a server fetch of their own: from
	// the cache, or by sharing the fetch of a concurrent read of the same
	// key. A bulk read counts once per key.
	Hits uint64
	// Misses counts keys fetched from the server by cached reads.
	Misses uint64
	// Invalidations counts keys the server said had changed.
	Invalidations uint64
	// Evictions counts entries dropped to keep the cache within its size.
	Evictions uint64
	// Flushes counts how often the whole cache was dropped: when a
	// connection that carried cached reads was lost or closed, or when the
	// server invalidated every key (FLUSHALL, FLUSHDB).
	Flushes uint64
	// Entries is the number of keys cached now, expired ones included
	// until they are evicted or fetched again.
	Entries int
	// Bytes is what the cached entries cost the Go heap, as the cache
	// counts it: the chunks that hold their keys and values and the slabs
	// that hold the entries (each counted whole), the keys and values too
	// large for a chunk, a map slot per entry, and the values decoded from
	// them by [Store.GetDecoded]; it stays within the cache's size.
	Bytes int64
}

// NewCache returns an empty cache that holds at most size bytes
// ([DefaultCacheSize] if size is zero or less). Values larger than a
// sixteenth of size (less the cache's bookkeeping, 0.2 %) are never
// cached.
func NewCache(size int) *Cache {
	if size <= 0 {
		size = DefaultCacheSize
	}
	c := &Cache{seed: maphash.MakeSeed(), size: int64(size)}
	for i := range c.shards {
		sh := &c.shards[i]
		sh.seed = c.seed
		share := c.size / cacheShards
		sh.held = newHeldCounts(heldSlotsFor(share))
		sh.max = share - sh.held.cost()
		sh.chunkSize = chunkSizeFor(share)
		sh.slabLen = slabLenFor(share)
		sh.entries = make(map[string]*entry)
		sh.pending = make(map[string]*flight)
	}
	return c
}

// Size returns the most bytes the cache holds.
func (c *Cache) Size() int { return int(c.size) }

// Stats returns the cache's counters.
func (c *Cache) Stats() CacheStats {
	st := CacheStats{Invalidations: c.invalidations.Load(), Flushes: c.flushes.Load()}
	for i := range c.shards {
		sh := &c.shards[i]
		st.Hits += sh.hits.Load()
		st.Misses += sh.misses.Load()
		st.Evictions += sh.evictions.Load()
		sh.mu.RLock()
		st.Entries += len(sh.entries)
		st.Bytes += sh.bytes
		sh.mu.RUnlock()
	}
	return st
}

func (c *Cache) shard(key string) *shard {
	return &c.shards[maphash.String(c.seed, key)%cacheShards]
}

// invalidate drops key's entry and keeps every fetch of key in flight from
// being cached or shared with later reads.
func (c *Cache) invalidate(key string) {
	h := maphash.String(c.seed, key)
	sh := &c.shards[h%cacheShards]
	// Most writes find nothing to drop: they look at the shard's count of
	// the keys that share key's slot, then under the read lock, beside the
	// reads. A fetch that registers after either look sends its read after
	// the write returned, and so reads what it wrote.
	if sh.held.load(sh.held.slot(h)) == 0 {
		return
	}
	sh.mu.RLock()
	f := sh.pending[key]
	stale := sh.entries[key] != nil || (f != nil && !f.poisoned)
	sh.mu.RUnlock()
	if !stale {
		return
	}
	sh.mu.Lock()
	if e := sh.entries[key]; e != nil {
		sh.remove(e)
	}
	if f := sh.pending[key]; f != nil {
		f.poisoned = true
	}
	sh.mu.Unlock()
}

// flush drops every entry and poisons every fetch in flight. A flush that
// finds nothing to drop is not counted.
func (c *Cache) flush() {
	dropped := false
	for i := range c.shards {
		sh := &c.shards[i]
		sh.mu.Lock()
		if len(sh.entries) > 0 {
			dropped = true
			clear(sh.entries)
			sh.head, sh.tail, sh.chunk, sh.slab, sh.bytes = nil, nil, nil, nil, 0
			sh.recount()
		}
		for _, f := range sh.pending {
			if !f.poisoned {
				dropped = true
				f.poisoned = true
			}
		}
		sh.mu.Unlock()
	}
	if dropped {
		c.flushes.Add(1)
	}
}

// confirm records that a connection of the client that reports to c read
// key with tracking on.
func (c *Cache) confirm(key string) {
	sh := c.shard(key)
	sh.mu.RLock()
	if f := sh.pending[key]; f != nil {
		f.confirmed.Store(true)
	}
	sh.mu.RUnlock()
}

// The state of a cached key.
type state uint8

const (
	stateValue   state = iota + 1 // the key holds a plain value
	stateMissing                  // GET found no key
	stateAbsent                   // MGET found no plain value: no key, or another type
)

// usable reports whether a read by Get (single) or GetMulti (!single) can
// use st: Get must tell a missing key from one of another type, which an
// MGET reply does not.
func (st state) usable(single bool) bool { return !single || st != stateAbsent }

// An entry is one cached key. Its key and val share one allocation: a
// chunk of its shard (see chunk), or, for a large one, their own (see
// pack). Their bytes are never written again, so readers may keep them
// after they left the shard's lock; an entry given a second chance is
// moved (key and val then point at a copy in the current chunk: see
// shard.move), always under the shard's write lock. The entry itself is
// in a slab of its shard, and a second chance may move it to another (see
// shard.relocate): nothing keeps a *entry beyond the shard's lock. A field
// added here must be copied in relocate and cleared in free.
type entry struct {
	key   string
	val   string
	chunk *chunk // holds key and val; nil: their own allocation
	slab  *slab  // holds the entry
	exp   int64  // monoNow after which the entry is stale
	// size is what the entry counts in its shard's bytes: entryOverhead,
	// key and val's own allocation if chunk is nil (chunks and slabs are
	// counted as a whole), and dec's size.
	size       int64
	prev, next *entry
	ref        atomic.Bool // read since it last went round the clock
	st         state
	slot       uint32   // the slot of its shard's held that counts it
	dec        *decoded // a value decoded from val (decoded.go), counted in size
}

// A flight is a fetch of one key from the server, which concurrent reads of
// the key share.
type flight struct {
	done  chan struct{} // closed once val, st and err are set
	val   string
	st    state
	err   error
	multi bool   // fetched with MGET: st may be stateAbsent
	slot  uint32 // the slot of the shard's held that counts the key

	poisoned  bool        // guarded by the shard's lock: do not cache, do not share with later reads
	confirmed atomic.Bool // a connection reporting to the cache saw the tracked reply
}

// A shard is an independently locked part of a cache: entries in a CLOCK
// list (insertion order, with a second chance for entries read since they
// last went round), and the fetches in flight.
type shard struct {
	mu         sync.RWMutex
	entries    map[string]*entry
	pending    map[string]*flight
	head, tail *entry
	chunk      *chunk // the chunk new entries are written to
	chunkSize  int    // 0: every entry has its own allocation
	slab       *slab  // the slab new entries are taken from
	slabLen    int    // entries in a slab
	bytes      int64  // entries' sizes plus chunkCost per chunk held
	max        int64
	// held counts the keys of entries and of fetches in flight (a key in
	// both counts twice) by a slot of their hash (see slotOf), so that a
	// write of a key whose slot counts none needs no lock to learn that
	// there is nothing to drop. It is written under mu, and a key's count
	// never passes through zero while the key stays in entries or pending
	// (a change adds before it takes away; a count that reached 255 stays
	// there); flush may, since it poisons every fetch it leaves.
	held      heldCounts
	seed      maphash.Seed // the cache's
	hits      atomic.Uint64
	misses    atomic.Uint64
	evictions atomic.Uint64
	_         [64]byte // keeps neighbouring shards' locks apart
}

// slotOf returns the slot of held that counts key.
func (sh *shard) slotOf(key string) uint32 {
	return sh.held.slot(maphash.String(sh.seed, key))
}

// recount sets held to count the keys of pending alone, after the entries
// were dropped.
func (sh *shard) recount() {
	sh.held.reset()
	for k := range sh.pending {
		sh.held.add(sh.slotOf(k), 1)
	}
}

// lookup returns key's entry if it is fresh at now and usable by a single
// read or not.
func (sh *shard) lookup(key string, now int64, single bool) (val string, st state, ok bool) {
	sh.mu.RLock()
	e := sh.entries[key]
	if e != nil && e.exp > now && e.st.usable(single) {
		val, st, ok = e.val, e.st, true
		if !e.ref.Load() {
			e.ref.Store(true)
		}
	}
	sh.mu.RUnlock()
	return val, st, ok
}

// begin looks key up again under the write lock. It returns the entry's
// value on a hit (f nil); otherwise the fetch of key in flight that the
// read may share (own false), or a new fetch that the caller owns and must
// end with finish (own true). A single read does not share an MGET fetch:
// it takes over and the MGET's reply is not cached.
func (sh *shard) begin(key string, now int64, single bool) (val string, st state, f *flight, own bool) {
	sh.mu.Lock()
	defer sh.mu.Unlock()
	if e := sh.entries[key]; e != nil && e.exp > now && e.st.usable(single) {
		e.ref.Store(true)
		return e.val, e.st, nil, false
	}
	p := sh.pending[key]
	if p != nil && !p.poisoned {
		if !single || !p.multi {
			return "", 0, p, false
		}
		p.poisoned = true // replaced: only the newest fetch of a key may be cached
	}
	f = &flight{done: make(chan struct{}), multi: !single}
	if p != nil {
		f.slot = p.slot // p's count is f's now
	} else {
		f.slot = sh.slotOf(key)
		sh.held.add(f.slot, 1)
	}
	sh.pending[key] = f
	return "", 0, f, true
}

// poison keeps the fetch f, of a key of sh, from being cached or shared
// with later reads.
func (sh *shard) poison(f *flight) {
	sh.mu.Lock()
	f.poisoned = true
	sh.mu.Unlock()
}

// finish ends the fetch f of key with its outcome and wakes the reads that
// share it. The reply is cached, until exp, if it is not an error, no write
// or invalidation of key poisoned f since it began, and the client confirmed
// the read was tracked. finish reports a reply left out for want of that
// confirmation alone.
func (sh *shard) finish(key string, f *flight, val string, st state, exp int64, err error) (unconfirmed bool) {
	sh.mu.Lock()
	if err == nil && !f.poisoned {
		if f.confirmed.Load() {
			if exp > monoNow() {
				sh.insert(key, f.slot, val, st, exp)
			}
		} else {
			unconfirmed = true
		}
	}
	// After the insert: a count that a write reads without the lock must
	// not pass through zero while the key stays held.
	if sh.pending[key] == f {
		delete(sh.pending, key)
		sh.held.add(f.slot, -1)
	}
	sh.mu.Unlock()
	f.val, f.st, f.err = val, st, err
	close(f.done)
	return unconfirmed
}

// insert caches key, whose slot of held is slot, replacing any entry it
// has, and evicts entries until the shard fits its bytes.
func (sh *shard) insert(key string, slot uint32, val string, st state, exp int64) {
	// The new entry is counted before the old one is removed: a count that
	// a write reads without the lock must not pass through zero while the
	// key stays held.
	sh.held.add(slot, 1)
	if old := sh.entries[key]; old != nil {
		sh.remove(old)
	}
	if entrySize(len(key), len(val)) > sh.max {
		sh.held.add(slot, -1)
		return
	}
	e := sh.newEntry()
	e.st, e.exp, e.slot = st, exp, slot
	e.size = entryOverhead + sh.place(e, key, val)
	sh.entries[e.key] = e
	sh.pushBack(e)
	sh.bytes += e.size
	sh.evict(e)
}

// evict drops entries until the shard fits its bytes: from the head of
// the list, with a second chance for the entries read since they last went
// round, but for e, which has just grown or been added. An entry given a
// second chance moves to the back of the list, itself to the current slab
// and its bytes to the current chunk, so that slabs and chunks empty in the
// order they were filled.
func (sh *shard) evict(e *entry) {
	for sh.bytes > sh.max && sh.head != nil {
		v := sh.head
		if v.ref.Load() && v != e {
			sh.unlink(v)
			if v.slab != sh.slab {
				v = sh.relocate(v)
			} else if v.chunk != nil && v.chunk != sh.chunk {
				sh.move(v)
			}
			v.ref.Store(false)
			sh.pushBack(v) // second chance
			continue
		}
		sh.evictions.Add(1)
		sh.remove(v)
	}
}

// place stores key and val for e, and returns what they cost beyond
// entryOverhead: in the current chunk (starting a new one if they do not
// fit, which counts the chunk in the shard's bytes), nothing; in an
// allocation of their own, if they are larger than an eighth of a chunk,
// that allocation's size.
func (sh *shard) place(e *entry, key, val string) int64 {
	n := len(key) + len(val)
	if n == 0 || n > sh.chunkSize/8 {
		e.key, e.val = pack(key, val)
		e.chunk = nil
		return int64(allocSize(n))
	}
	ch := sh.chunk
	if ch == nil || cap(ch.buf)-len(ch.buf) < n {
		if ch != nil && ch.live == 0 {
			sh.bytes -= chunkCost(sh.chunkSize)
		}
		ch = &chunk{buf: make([]byte, 0, sh.chunkSize)}
		sh.chunk = ch
		sh.bytes += chunkCost(sh.chunkSize)
	}
	e.key, e.val = ch.add(key, val)
	e.chunk = ch
	return 0
}

// move rewrites the key and value of e, whose bytes are in a chunk, into
// the current chunk, releasing the chunk that held them. e's size does not
// change: its bytes are in a chunk still.
func (sh *shard) move(e *entry) {
	old := e.chunk
	delete(sh.entries, e.key)
	sh.place(e, e.key, e.val)
	sh.entries[e.key] = e // the map's key is e's new one: it pins no chunk
	sh.release(old)
}

// release ends an entry's use of ch (nil: none), and stops counting ch once
// no entry uses it and no entry will be written to it.
func (sh *shard) release(ch *chunk) {
	if ch == nil {
		return
	}
	ch.live--
	if ch.live == 0 && ch != sh.chunk {
		sh.bytes -= chunkCost(sh.chunkSize)
	}
}

// remove drops e from the shard.
func (sh *shard) remove(e *entry) {
	sh.unlink(e)
	delete(sh.entries, e.key)
	sh.held.add(e.slot, -1)
	sh.bytes -= e.size
	sh.release(e.chunk)
	sh.free(e)
}

// newEntry returns a zero entry of the current slab, starting a new slab
// (counted in the shard's bytes) when it is used up.
func (sh *shard) newEntry() *entry {
	sl := sh.slab
	if sl == nil || sl.used == len(sl.entries) {
		if sl != nil && sl.live == 0 {
			sh.bytes -= slabCost(sh.slabLen)
		}
		sl = &slab{entries: make([]entry, sh.slabLen)}
		sh.slab = sl
		sh.bytes += slabCost(sh.slabLen)
	}
	e := &sl.entries[sl.used]
	sl.used++
	sl.live++
	e.slab = sl
	return e
}

// free ends the use of e, which has left the shard: its slab stops being
// counted once none of its entries is in use and no entry will be taken
// from it. e's strings are cleared, so that its slab, while other entries
// keep it, pins no chunk.
func (sh *shard) free(e *entry) {
	sl := e.slab
	*e = entry{}
	sl.live--
	if sl.live == 0 && sl != sh.slab {
		sh.bytes -= slabCost(sh.slabLen)
	}
}

// relocate copies v, unlinked, to an entry of the current slab (and its
// bytes to the current chunk, if they are in an older one), puts the copy
// in the map in its place, frees v, and returns the copy.
func (sh *shard) relocate(v *entry) *entry {
	n := sh.newEntry()
	n.key, n.val, n.chunk = v.key, v.val, v.chunk
	n.exp, n.size, n.st, n.dec, n.slot = v.exp, v.size, v.st, v.dec, v.slot
	v.chunk = nil // n holds the chunk now
	if n.chunk != nil && n.chunk != sh.chunk {
		sh.move(n)
	} else {
		sh.entries[n.key] = n
	}
	sh.free(v)
	return n
}

func (sh *shard) pushBack(e *entry) {
	e.prev, e.next = sh.tail, nil
	if sh.tail != nil {
		sh.tail.next = e
	} else {
		sh.head = e
	}
	sh.tail = e
}

func (sh *shard) unlink(e *entry) {
	if e.prev != nil {
		e.prev.next = e.next
	} else {
		sh.head = e.next
	}
	if e.next != nil {
		e.next.prev = e.prev
	} else {
		sh.tail = e.prev
	}
	e.prev, e.next = nil, nil
}

// epoch is the origin of monoNow.
var epoch = time.Now()

// monoNow returns the time on the monotonic clock, in nanoseconds since
// epoch.
func monoNow() int64 { return int64(time.Since(epoch)) }

// mono returns t, which must hold a monotonic clock reading, as monoNow
// would have.
func mono(t time.Time) int64 { return int64(t.Sub(epoch)) }
