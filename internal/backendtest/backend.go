package backendtest

import (
	"context"
	"testing"
	"time"

	"github.com/alicebob/miniredis/v2"

	"github.com/cledar/storekit/backends/redisconf"
	"github.com/cledar/storekit/conformance"
	"github.com/cledar/storekit/internal/redistest"
	"github.com/cledar/storekit/kv"
)

// Options are the store options a test asks a [Backend] for: those every
// Redis backend has.
type Options = redisconf.Options

// A Backend makes the stores under test of a Redis backend, and says how its
// client library reports errors.
type Backend struct {
	// Name is the backend's name, which starts the texts of its errors.
	Name string
	// New returns a store, implementing every kv interface a Redis backend
	// has, over a new client of the Redis server at addr; the test's
	// cleanup closes it.
	New func(t *testing.T, addr string, o Options) kv.Store
	// NewOnMiniredis is New for a miniredis server, which has no CONFIG
	// command and no client-side caching.
	NewOnMiniredis func(t *testing.T, m *miniredis.Miniredis, o Options) kv.Store
	// Dial is the backend's Dial, with default options.
	Dial func(ctx context.Context, cfg redisconf.Config) (kv.Store, error)
	// ReplyError returns the text of the client library's own error for an
	// error reply in err's chain, and whether there is one.
	ReplyError func(err error) (string, bool)
}

// Timings of the tests: hang bounds, not timing assertions.
const (
	testTimeout = 60 * time.Second
	eventBound  = 15 * time.Second
	retryBound  = 10 * time.Second
)

// Dialer adapts a backend's Dial to [Backend.Dial]: it dials with default
// options, and returns a nil store with an error.
func Dialer[S kv.Store, O any](dial func(context.Context, redisconf.Config, *O) (S, error)) func(context.Context, redisconf.Config) (kv.Store, error) {
	return func(ctx context.Context, cfg redisconf.Config) (kv.Store, error) {
		s, err := dial(ctx, cfg, nil)
		if err != nil {
			return nil, err
		}
		return s, nil
	}
}

// RunConformance runs the conformance suite over the stores newStore makes
// over clients of a real Redis server at addr (see redistest.New).
func RunConformance(t *testing.T, newStore func(t *testing.T, addr string) kv.Store) {
	srv := redistest.New(t)
	conformance.Run(t, func(t *testing.T) kv.Store { return newStore(t, srv.Addr()) })
}
