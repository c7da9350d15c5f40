package rueidiskv_test

import (
	"fmt"
	"testing"

	"github.com/redis/rueidis"

	"github.com/cledar/storekit/backends/rueidiskv"
	"github.com/cledar/storekit/internal/backendtest"
	"github.com/cledar/storekit/kv"
)

// TestAtomic runs the tests of the conditional writes, counters, expiry
// changes, bulk writes and conditional appends, on one server and on a
// cluster, with the cache on and off: with it on, a conditional write
// never acts on a cached value, and one that fails drops it.
func TestAtomic(t *testing.T) {
	for _, cached := range []bool{true, false} {
		t.Run(fmt.Sprintf("cached=%v", cached), func(t *testing.T) {
			opts := &rueidiskv.Options{DisableCache: !cached}
			backendtest.RunAtomic(t, backendtest.AtomicBackend{
				New: func(t *testing.T, addr, user, password string) kv.Store {
					return openStoreWith(t, rueidis.ClientOption{InitAddress: []string{addr}, Username: user, Password: password}, opts)
				},
				NewCluster: func(t *testing.T, addrs []string, user, password string) kv.Store {
					return openStoreWith(t, rueidis.ClientOption{InitAddress: addrs, Username: user, Password: password}, opts)
				},
			})
		})
	}
}
