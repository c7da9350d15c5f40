package rueidiskv_test

import (
	"testing"

	"github.com/redis/rueidis"

	"github.com/cledar/storekit/backends/rueidiskv"
	"github.com/cledar/storekit/internal/backendtest"
	"github.com/cledar/storekit/kv"
)

// TestConformanceCached runs the suite over a real Redis with every
// capability and the client-side cache, through New over a client built
// with the store's Cache.
func TestConformanceCached(t *testing.T) {
	backendtest.RunConformance(t, func(t *testing.T, addr string) kv.Store {
		cache := rueidiskv.NewCache(0)
		c := newClient(t, rueidis.ClientOption{InitAddress: []string{addr}, NewCacheStoreFn: cache.NewStore})
		return rueidiskv.New(c, &rueidiskv.Options{Cache: cache})
	})
}

// TestConformanceUncached runs the suite over a real Redis with caching
// off: every read goes to the server.
func TestConformanceUncached(t *testing.T) {
	backendtest.RunConformance(t, func(t *testing.T, addr string) kv.Store {
		return openStore(t, addr, &rueidiskv.Options{DisableCache: true})
	})
}
