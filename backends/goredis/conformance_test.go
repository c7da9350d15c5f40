package goredis_test

import (
	"testing"

	"github.com/redis/go-redis/v9"

	"github.com/cledar/storekit/backends/goredis"
	"github.com/cledar/storekit/conformance"
	"github.com/cledar/storekit/internal/backendtest"
	"github.com/cledar/storekit/internal/redistest"
	"github.com/cledar/storekit/kv"
)

// TestConformanceMiniredis runs the suite over miniredis, without Watcher
// and with client-side pattern matching (see miniStore). TTLs work:
// startMiniredis drives miniredis's clock from real time.
func TestConformanceMiniredis(t *testing.T) {
	m := startMiniredis(t)
	conformance.Run(t, func(t *testing.T) kv.Store {
		return newMiniStore(newStore(t, m.Addr(), nil))
	})
}

// TestConformanceRedis runs the suite over a real Redis with every
// capability.
func TestConformanceRedis(t *testing.T) {
	backendtest.RunConformance(t, func(t *testing.T, addr string) kv.Store { return newStore(t, addr, nil) })
}

// TestConformanceRing runs the suite over a ring of two Redis servers: bulk
// reads, scans and watches span both shards.
func TestConformanceRing(t *testing.T) {
	if testing.Short() {
		t.Skip("starts two Redis servers")
	}
	a, b := redistest.Start(t, nil), redistest.Start(t, nil)
	conformance.Run(t, func(t *testing.T) kv.Store {
		c := redis.NewRing(&redis.RingOptions{Addrs: map[string]string{"a": a.Addr(), "b": b.Addr()}})
		return goredis.New(c, &goredis.Options{CloseClient: true})
	})
}
