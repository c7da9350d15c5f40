package rueidiskv

import (
	"context"

	"github.com/cledar/storekit/internal/rediskv"
	"github.com/cledar/storekit/metrics"
)

// Decoded values kept beside the cached bytes: GetDecoded, which package
// codec's typed Store calls (it finds the method by its signature), so that
// a cache hit costs it no decoding.

// decodedOverhead is what a kept decoded value costs beyond the size its
// decoder reports: the decoded record.
const decodedOverhead = 48

// A decoded is a value decoded from the bytes of a cache entry, and the tag
// of its decoding. It is never changed once kept; it goes with its entry.
type decoded struct {
	tag  any
	v    any
	size int64 // counted in the entry's size
}

// GetDecoded reads key as [Store.Get] does and returns what decode returns
// for its bytes, keeping that value beside the bytes in the cache: a later
// call with the same tag, while the bytes are cached, returns the kept value
// without calling decode. tag names the decoding (comparable; package codec
// gives the type and options of its decoder); an entry keeps the value of
// one tag at a time. The value is dropped with the bytes, whenever they are
// (a write, an invalidation, an eviction, a flush), so it is never a value
// the bytes in the cache would not give. It is counted in the cache's size
// as the size decode reports plus a small overhead; a value that does not
// fit is not kept. decode must not keep or change its argument, and the
// value it returns is shared by every call that gets it: it must be one
// nobody changes.
//
// A missing key, or any other failure of Get, is Get's error; an error of
// decode is returned as it is, and nothing is kept. Without a cache,
// GetDecoded is Get and decode.
func (s *Store) GetDecoded(ctx context.Context, key string, tag any, decode func([]byte) (any, int, error)) (any, error) {
	if s.cache != nil {
		if err := rediskv.Check(ctx, s.redisStore); err != nil {
			return nil, rediskv.Counters(s.redisStore).Count(metrics.OpGet, rediskv.Fail(s.redisStore, "get", key, err))
		}
		sh := s.cache.shard(key)
		if v, ok := sh.lookupDecoded(key, monoNow(), tag); ok {
			sh.hits.Add(1)
			rediskv.Counters(s.redisStore).Count(metrics.OpGet, nil)
			return v, nil
		}
	}
	data, err := s.Get(ctx, key)
	if err != nil {
		return nil, err
	}
	v, size, err := decode(data)
	if err != nil {
		return nil, err
	}
	if s.cache != nil {
		s.cache.shard(key).keepDecoded(key, data, tag, v, size)
	}
	return v, nil
}

// lookupDecoded returns the value decoded for tag that key's entry holds,
// if the entry is fresh at now.
func (sh *shard) lookupDecoded(key string, now int64, tag any) (v any, ok bool) {
	sh.mu.RLock()
	if e := sh.entries[key]; e != nil && e.exp > now {
		if d := e.dec; d != nil && d.tag == tag {
			v, ok = d.v, true
			if !e.ref.Load() {
				e.ref.Store(true)
			}
		}
	}
	sh.mu.RUnlock()
	return v, ok
}

// keepDecoded keeps v, decoded for tag from data and holding size bytes, on
// key's entry if the entry holds data: only there is it the value of the
// entry's bytes. It replaces a value of another tag, and evicts entries if
// the shard no longer fits its bytes.
func (sh *shard) keepDecoded(key string, data []byte, tag, v any, size int) {
	sh.mu.Lock()
	defer sh.mu.Unlock()
	e := sh.entries[key]
	if e == nil || e.st != stateValue || e.val != string(data) {
		return
	}
	if e.dec != nil {
		if e.dec.tag == tag {
			return // a concurrent call kept it
		}
		e.size -= e.dec.size
		sh.bytes -= e.dec.size
		e.dec = nil
	}
	d := &decoded{tag: tag, v: v, size: int64(max(size, 0)) + decodedOverhead}
	if e.size+d.size > sh.max {
		return
	}
	e.dec = d
	e.size += d.size
	sh.bytes += d.size
	sh.evict(e)
}
