package rueidiskv

import (
	"sync/atomic"
	"time"

	"github.com/redis/rueidis"
)

// The hook that rueidis calls on each connection's reading goroutine:
// invalidations, lost connections and the confirmation of tracked reads.

// NewStore is a rueidis.NewCacheStoreFn that makes the client report to c.
// [Cache.ClientOption] installs it, and more; set it alone only if the
// client's connections cannot be wrapped. The rueidis.CacheStoreOption is
// ignored: c's size bounds all connections together.
func (c *Cache) NewStore(rueidis.CacheStoreOption) rueidis.CacheStore {
	return &connStore{c: c}
}

// A connStore is the rueidis.CacheStore of one connection of a client that
// reports to a Cache. rueidis calls it on the connection's reading
// goroutine. It never serves a read itself (every DoCache reaches the
// server, and the Store does the caching and the single-flighting): it
// turns the connection's invalidations and its loss into changes of the
// Cache, and confirms the tracked replies the Store waits for.
type connStore struct {
	c    *Cache
	used atomic.Bool // a tracked read went over the connection
}

var _ rueidis.CacheStore = (*connStore)(nil)

// Flight makes rueidis send every read to the server.
func (*connStore) Flight(string, string, time.Duration, time.Time) (rueidis.RedisMessage, rueidis.CacheEntry) {
	return rueidis.RedisMessage{}, nil
}

// Update is called with the reply to a tracked read of key. It confirms the
// read and returns the PXAT that rueidis sets on the reply the caller gets:
// the key's server-side expiry, or noServerExpiry.
func (s *connStore) Update(key, cmd string, val rueidis.RedisMessage) int64 {
	s.used.Store(true)
	if cmd == "GET" {
		s.c.confirm(key)
	}
	if pxat := val.CachePXAT(); pxat > 0 {
		return pxat
	}
	return noServerExpiry
}

// Cancel does nothing: no read waits on the store.
func (*connStore) Cancel(string, string, error) {}

// Delete handles an invalidation: of keys, or of everything when keys is
// nil.
func (s *connStore) Delete(keys []rueidis.RedisMessage) {
	if keys == nil {
		s.c.flush()
		return
	}
	for i := range keys {
		if k, err := keys[i].ToString(); err == nil {
			s.c.invalidations.Add(1)
			s.c.invalidate(k)
		}
	}
}

// Close is called when the connection is lost or closed: the server no
// longer tracks the keys read over it, so the cache drops everything.
func (s *connStore) Close(error) {
	if s.used.Load() {
		s.c.flush()
	}
}
