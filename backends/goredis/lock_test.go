package goredis_test

import (
	"testing"

	"github.com/cledar/storekit/internal/backendtest"
	"github.com/cledar/storekit/kv"
)

// TestLock runs package lock's tests over a real Redis: exclusion with
// growing fences, expiry, and a Lock that honours its context.
func TestLock(t *testing.T) {
	backendtest.RunLock(t, func(t *testing.T, addr string) kv.Store { return newStore(t, addr, nil) })
}
