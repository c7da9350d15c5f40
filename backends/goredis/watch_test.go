package goredis_test

import (
	"testing"

	"github.com/alicebob/miniredis/v2"

	"github.com/cledar/storekit/backends/goredis"
	"github.com/cledar/storekit/internal/backendtest"
	"github.com/cledar/storekit/kv"
)

// TestWatch runs the watch tests the Redis backends share: a killed
// subscription, a restart, notifications off, turned on, lost and not
// readable, the match rules, and the end of a watch.
func TestWatch(t *testing.T) {
	backendtest.RunWatch(t, backendtest.Backend{
		New: func(t *testing.T, addr string, o backendtest.Options) kv.Store {
			return newStore(t, addr, storeOptions(o))
		},
		NewOnMiniredis: func(t *testing.T, m *miniredis.Miniredis, o backendtest.Options) kv.Store {
			return newStore(t, m.Addr(), storeOptions(o))
		},
	})
}

func storeOptions(o backendtest.Options) *goredis.Options {
	return &goredis.Options{EnableKeyspaceEvents: o.EnableKeyspaceEvents, Logger: o.Logger}
}
