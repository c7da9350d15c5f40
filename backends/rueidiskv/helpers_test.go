package rueidiskv_test

import (
	"context"
	"testing"
	"time"

	"github.com/redis/rueidis"

	"github.com/cledar/storekit/backends/rueidiskv"
	"github.com/cledar/storekit/internal/redistest"
)

// testTimeout bounds every test's context: a generous hang bound, not a
// timing assertion.
const testTimeout = 30 * time.Second

func testContext(t testing.TB) context.Context {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), testTimeout)
	t.Cleanup(cancel)
	return ctx
}

// realRedis returns a real Redis server for the test, or skips it (see
// package redistest).
func realRedis(t testing.TB) *redistest.Server {
	t.Helper()
	return redistest.New(t)
}

// openStore returns a store over a new client of addr, made by Open with
// its cache unless opts says otherwise; the test closes it at its end.
func openStore(t testing.TB, addr string, opts *rueidiskv.Options) *rueidiskv.Store {
	t.Helper()
	return openStoreWith(t, rueidis.ClientOption{InitAddress: []string{addr}}, opts)
}

func openStoreWith(t testing.TB, opt rueidis.ClientOption, opts *rueidiskv.Options) *rueidiskv.Store {
	t.Helper()
	s, err := rueidiskv.Open(testContext(t), opt, opts)
	if err != nil {
		t.Fatalf("Open(%v): %v", opt.InitAddress, err)
	}
	t.Cleanup(func() { _ = s.Close() })
	return s
}

// newClient returns a rueidis client that the test closes at its end.
func newClient(t testing.TB, opt rueidis.ClientOption) rueidis.Client {
	t.Helper()
	c, err := rueidis.NewClient(opt)
	if err != nil {
		t.Fatalf("rueidis.NewClient(%v): %v", opt.InitAddress, err)
	}
	t.Cleanup(c.Close)
	return c
}
