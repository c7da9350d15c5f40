package rueidiskv_test

import (
	"testing"

	"github.com/redis/rueidis"

	"github.com/cledar/storekit/backends/rueidiskv"
	"github.com/cledar/storekit/conformance"
	"github.com/cledar/storekit/kv"
)

// TestConformanceCached runs the suite over a real Redis with every
// capability and the client-side cache, through New over a client built
// with the store's Cache.
func TestConformanceCached(t *testing.T) {
	srv := realRedis(t)
	conformance.Run(t, func(t *testing.T) kv.Store {
		cache := rueidiskv.NewCache(0)
		c := newClient(t, rueidis.ClientOption{InitAddress: []string{srv.Addr()}, NewCacheStoreFn: cache.NewStore})
		return rueidiskv.New(c, &rueidiskv.Options{Cache: cache})
	})
}

// TestConformanceUncached runs the suite over a real Redis with caching
// off: every read goes to the server.
func TestConformanceUncached(t *testing.T) {
	srv := realRedis(t)
	conformance.Run(t, func(t *testing.T) kv.Store {
		return openStore(t, srv.Addr(), &rueidiskv.Options{DisableCache: true})
	})
}
