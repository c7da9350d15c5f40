package rueidiskv

import (
	"strconv"
	"strings"
	"testing"
	"time"
)

// cacheValue caches key with value through the cache's state machine, as a
// confirmed fetch does.
func cacheValue(t *testing.T, c *Cache, key, value string) {
	t.Helper()
	sh := c.shard(key)
	_, _, f, own := sh.begin(key, monoNow(), true)
	if f == nil || !own {
		t.Fatalf("begin(%q): hit or shared fetch, want a fetch of its own", key)
	}
	c.confirm(key)
	sh.finish(key, f, value, stateValue, monoNow()+int64(time.Hour), nil)
}

// decodedOf returns the value decoded for tag that the cache keeps for key.
func decodedOf(c *Cache, key string, tag any) (any, bool) {
	return c.shard(key).lookupDecoded(key, monoNow(), tag)
}

// TestCacheDecoded: a decoded value is kept on the entry of the bytes it was
// decoded from, for one tag, counted in the cache's bytes, and dropped with
// the entry: on an invalidation, a new value, a flush, an eviction.
func TestCacheDecoded(t *testing.T) {
	c := NewCache(1 << 20)
	tagA, tagB := new(int), new(int)
	keep := func(key, data string, tag any, v any) {
		c.shard(key).keepDecoded(key, []byte(data), tag, v, 100)
	}

	cacheValue(t, c, "k", "one")
	before := c.Stats().Bytes
	keep("k", "one", tagA, "decoded one")
	if v, ok := decodedOf(c, "k", tagA); !ok || v != "decoded one" {
		t.Fatalf("decoded value = %v, %v; want the value kept", v, ok)
	}
	if _, ok := decodedOf(c, "k", tagB); ok {
		t.Error("a value decoded for one tag is served for another")
	}
	if got, want := c.Stats().Bytes-before, int64(100+decodedOverhead); got != want {
		t.Errorf("keeping a decoded value grew the cache by %d bytes, want %d", got, want)
	}
	// Another tag replaces it, and its size.
	keep("k", "one", tagB, "decoded by B")
	if _, ok := decodedOf(c, "k", tagA); ok {
		t.Error("the value of the first tag is still served after another tag's")
	}
	if v, ok := decodedOf(c, "k", tagB); !ok || v != "decoded by B" {
		t.Errorf("decoded value for the second tag = %v, %v", v, ok)
	}
	if got, want := c.Stats().Bytes-before, int64(100+decodedOverhead); got != want {
		t.Errorf("replacing a decoded value grew the cache by %d bytes, want %d", got, want)
	}

	// A value decoded from other bytes than the entry's is not kept.
	keep("k", "old", tagA, "decoded old")
	if _, ok := decodedOf(c, "k", tagA); ok {
		t.Error("a value decoded from bytes the entry does not hold was kept")
	}
	keep("missing", "x", tagA, "decoded x")
	if _, ok := decodedOf(c, "missing", tagA); ok {
		t.Error("a value was kept for a key that is not cached")
	}

	// Dropped with the entry.
	c.invalidate("k")
	if _, ok := decodedOf(c, "k", tagB); ok {
		t.Error("a decoded value is served after its key was invalidated")
	}
	cacheValue(t, c, "k", "two")
	if _, ok := decodedOf(c, "k", tagB); ok {
		t.Error("the new bytes of a key came with the old decoded value")
	}
	keep("k", "two", tagA, "decoded two")
	c.flush()
	if _, ok := decodedOf(c, "k", tagA); ok {
		t.Error("a decoded value is served after a flush")
	}
	if st := c.Stats(); st.Bytes != 0 || st.Entries != 0 {
		t.Errorf("after a flush: %d entries, %d bytes; want none", st.Entries, st.Bytes)
	}
}

// TestCacheDecodedBounded: decoded values count against the cache's size,
// which the cache keeps to by evicting, and one too large is not kept.
func TestCacheDecodedBounded(t *testing.T) {
	const size = 64 << 10
	c := NewCache(size)
	tag := new(int)
	for i := range 2000 {
		key := "k" + strconv.Itoa(i)
		cacheValue(t, c, key, "v")
		c.shard(key).keepDecoded(key, []byte("v"), tag, i, 200)
		if st := c.Stats(); st.Bytes > size {
			t.Fatalf("after %d keys: the cache counts %d bytes, over its size %d", i+1, st.Bytes, size)
		}
	}
	st := c.Stats()
	if st.Entries == 0 || st.Entries >= 2000 {
		t.Fatalf("%d entries after 2000 keys of about 460 bytes in %d bytes, want evictions", st.Entries, size)
	}
	for i := range c.shards {
		checkShard(t, &c.shards[i]) // entries' sizes, decoded values included, chunks and slabs
	}

	cacheValue(t, c, "big", "v")
	c.shard("big").keepDecoded("big", []byte("v"), tag, "big", size)
	if _, ok := decodedOf(c, "big", tag); ok {
		t.Error("a decoded value larger than a shard was kept")
	}
}

// TestCacheDecodedSecondChance: an entry read since it last went round is
// moved, not evicted, when the shard is full, and its decoded value moves
// with it.
func TestCacheDecodedSecondChance(t *testing.T) {
	c := NewCache(1 << 20)
	tag := new(int)
	sh := c.shard("k")
	cacheValue(t, c, "k", "one")
	sh.keepDecoded("k", []byte("one"), tag, 1, 100)
	if _, _, ok := sh.lookup("k", monoNow(), true); !ok { // read: a second chance
		t.Fatal("k is not cached")
	}
	value := strings.Repeat("x", 1000)
	first, moved := "", false
	for i := 0; !moved && i < 100000; i++ {
		key := "fill" + strconv.Itoa(i)
		if c.shard(key) != sh {
			continue
		}
		if first == "" {
			first = key
		}
		cacheValue(t, c, key, value)
		sh.mu.RLock()
		moved = sh.entries[first] == nil // evicted after k, which came first
		sh.mu.RUnlock()
	}
	if !moved {
		t.Fatal("the shard never evicted past k")
	}
	if v, ok := decodedOf(c, "k", tag); !ok || v != 1 {
		t.Errorf("after k's second chance its decoded value is %v, %v; want 1, true", v, ok)
	}
	checkShard(t, sh)
}
