package goredis_test

import (
	"context"
	"iter"
	"strings"
	"testing"
	"time"

	"github.com/alicebob/miniredis/v2"
	"github.com/redis/go-redis/v9"

	"github.com/cledar/storekit/backends/goredis"
	"github.com/cledar/storekit/internal/backendtest"
	"github.com/cledar/storekit/internal/rediskv"
	"github.com/cledar/storekit/kv"
)

// testTimeout bounds every test's context: a generous hang bound, not a
// timing assertion.
const testTimeout = 30 * time.Second

func testContext(t *testing.T) context.Context {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), testTimeout)
	t.Cleanup(cancel)
	return ctx
}

// newClient returns a client for addr that the test closes at its end.
func newClient(t *testing.T, opts *redis.Options) *redis.Client {
	t.Helper()
	c := redis.NewClient(opts)
	t.Cleanup(func() { _ = c.Close() })
	return c
}

// newStore returns a store over a new client of addr; the store owns the
// client and the test closes the store at its end.
func newStore(t *testing.T, addr string, opts *goredis.Options) *goredis.Store {
	t.Helper()
	o := goredis.Options{}
	if opts != nil {
		o = *opts
	}
	o.CloseClient = true
	s := goredis.New(redis.NewClient(&redis.Options{Addr: addr, ContextTimeoutEnabled: true}), &o)
	t.Cleanup(func() { _ = s.Close() })
	return s
}

// startMiniredis starts a miniredis whose clock follows real time: miniredis
// only expires keys when told to, and the conformance suite waits on the
// wall clock. A goroutine fast-forwards it every few milliseconds (its
// ClockTTL option does the same on every command, which makes a command
// cost O(keys) and the suite's 10,000-key cases crawl).
func startMiniredis(t *testing.T) *miniredis.Miniredis {
	t.Helper()
	m := miniredis.RunT(t)
	stop, done := make(chan struct{}), make(chan struct{})
	go func() {
		defer close(done)
		tick := time.NewTicker(10 * time.Millisecond)
		defer tick.Stop()
		last := time.Now()
		for {
			select {
			case <-stop:
				return
			case now := <-tick.C:
				m.FastForward(now.Sub(last))
				last = now
			}
		}
	}()
	t.Cleanup(func() { close(stop); <-done }) // runs before miniredis closes
	return m
}

// fastFail returns client options for addr that do not retry, so that calls
// against a stopped server fail in milliseconds instead of after go-redis's
// default dial retries (about 1.7 s per call).
func fastFail(addr string) *redis.Options {
	return &redis.Options{Addr: addr, MaxRetries: -1, DialerRetries: 1, ContextTimeoutEnabled: true}
}

// miniStore adapts a store over miniredis for the conformance suite:
//
//   - it hides Watcher: miniredis sends no keyspace notifications;
//   - its Scan sends miniredis only the literal prefix of the pattern
//     followed by '*' and filters the keys with kv.Match: miniredis
//     translates glob patterns to regular expressions, which differs from
//     Redis (a reversed range such as "[e-a]" even panics its server
//     goroutine and kills the test binary). Real Redis runs the suite with
//     server-side MATCH.
type miniStore struct {
	kv.Store
	kv.MultiGetter
	kv.Expirer
	kv.Historian
	kv.Pruner
	sc kv.Scanner
}

func newMiniStore(s *goredis.Store) kv.Store { return miniStore{s, s, s, s, s, s} }

// Scan implements kv.Scanner.
func (m miniStore) Scan(ctx context.Context, pattern string) iter.Seq2[string, error] {
	prefix := pattern
	if i := strings.IndexAny(pattern, `*?[\`); i >= 0 {
		prefix = pattern[:i]
	}
	return func(yield func(string, error) bool) {
		for k, err := range m.sc.Scan(ctx, prefix+"*") {
			if err != nil {
				yield("", err)
				return
			}
			if kv.Match(pattern, k) && !yield(k, nil) {
				return
			}
		}
	}
}

// backend makes the stores of the tests that the Redis backends share.
var backend = backendtest.Backend{
	Name: "goredis",
	New: func(t *testing.T, addr string, o goredis.Options) kv.Store {
		return newStore(t, addr, &o)
	},
	NewOnMiniredis: func(t *testing.T, m *miniredis.Miniredis, o goredis.Options) kv.Store {
		return newStore(t, m.Addr(), &o)
	},
	Dial:       backendtest.Dialer(goredis.Dial),
	ReplyError: rediskv.ReplyText[redis.Error],
}
