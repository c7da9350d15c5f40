package rueidiskv_test

import (
	"testing"

	"github.com/cledar/storekit/backends/rueidiskv"
	"github.com/cledar/storekit/internal/backendtest"
	"github.com/cledar/storekit/kv"
)

// TestLock runs package lock's tests over a real Redis, with the
// client-side cache and without: exclusion with growing fences, expiry, and
// a Lock that honours its context.
func TestLock(t *testing.T) {
	t.Run("Cached", func(t *testing.T) {
		backendtest.RunLock(t, func(t *testing.T, addr string) kv.Store { return openStore(t, addr, nil) })
	})
	t.Run("Uncached", func(t *testing.T) {
		backendtest.RunLock(t, func(t *testing.T, addr string) kv.Store {
			return openStore(t, addr, &rueidiskv.Options{DisableCache: true})
		})
	})
}
