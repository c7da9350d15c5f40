package benchmarks

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"strconv"
	"testing"
	"time"

	"github.com/cledar/storekit/backends/goredis"
	"github.com/cledar/storekit/backends/memory"
	"github.com/cledar/storekit/backends/rueidiskv"
	"github.com/cledar/storekit/internal/parbench"
	"github.com/cledar/storekit/kv"
	"github.com/cledar/storekit/lock"
)

// lockTTL is the lease of every lock of BenchmarkLock: long enough never to
// expire during a cycle.
const lockTTL = 10 * time.Second

// A lockImpl is one implementation of BenchmarkLock: a store, and how to
// take and release a lock at a key of it.
type lockImpl struct {
	name string
	new  func(b *testing.B) kv.Store
	// cycler returns a function that takes the lock at key and releases it.
	cycler func(b *testing.B, s kv.Store, key string) func(ctx context.Context) error
}

// BenchmarkLock takes a lock and releases it, in a loop, at 1, 8 and 64
// goroutines, each with a lock key of its own, so that it measures the cost
// of a cycle, not contention: package lock over each store, and a raw lock
// with a fencing token (SET NX PX, INCR, then EVALSHA of a
// compare-and-delete script) on each raw client. See the package
// documentation.
func BenchmarkLock(b *testing.B) {
	addr := newPlainServer(b)
	impls := []lockImpl{
		{name: "goredis-raw", cycler: rawLock, new: func(b *testing.B) kv.Store {
			return rawGoredis{newGoredisClient(b, addr)}
		}},
		{name: "goredis", cycler: packageLock, new: func(b *testing.B) kv.Store {
			return goredis.New(newGoredisClient(b, addr), nil)
		}},
		{name: "rueidis-raw", cycler: rawLock, new: func(b *testing.B) kv.Store {
			return rawRueidis{newRueidisClient(b, addr, uncached)}
		}},
		{name: "rueidiskv-nocache", cycler: packageLock, new: func(b *testing.B) kv.Store {
			return rueidiskv.New(newRueidisClient(b, addr, uncached), &rueidiskv.Options{DisableCache: true})
		}},
		{name: "rueidiskv", cycler: packageLock, new: func(b *testing.B) kv.Store {
			return newCachedStore(b, addr, rueidiskv.DefaultCacheSize, time.Hour)
		}},
		{name: "memory", cycler: packageLock, new: func(*testing.B) kv.Store { return memory.New(nil) }},
	}
	stores := make([]kv.Store, len(impls))
	for i, impl := range impls {
		stores[i] = impl.new(b)
		b.Cleanup(func() { _ = stores[i].Close() })
	}
	prefix := randomPrefix()
	for _, par := range []int{1, 8, 64} {
		b.Run("par="+strconv.Itoa(par), func(b *testing.B) {
			ctx := context.Background()
			entrants := make([]parbench.Entrant, len(impls))
			for i, impl := range impls {
				cycles := make([]func(context.Context) error, par)
				for g := range cycles {
					key := fmt.Sprintf("%slock:%s:%d", prefix, impl.name, g)
					cycles[g] = impl.cycler(b, stores[i], key)
					b.Cleanup(func() { deleteLock(stores[i], key) })
				}
				entrants[i] = parbench.Entrant{Name: impl.name, Call: func(g, _ int) error { return cycles[g](ctx) }}
			}
			parbench.SideBySide(b, par, 0, entrants)
		})
	}
}

// packageLock cycles a lock of package lock over s.
func packageLock(b *testing.B, s kv.Store, key string) func(ctx context.Context) error {
	l, err := lock.New(s, key, &lock.Options{TTL: lockTTL})
	if err != nil {
		b.Fatalf("lock.New(%T, %q): %v", s, key, err)
	}
	return func(ctx context.Context) error {
		lease, err := l.TryLock(ctx)
		if err == nil {
			err = lease.Release(ctx)
		}
		return err
	}
}

// errRawLock is the error of a raw lock that is held by another holder, or
// lost before its release: with a key per goroutine, neither happens.
var errRawLock = errors.New("raw lock: held by another, or lost")

// rawLock cycles a raw lock with a fencing token on s, a raw client, doing
// what package lock does on its usual path: SET key token NX PX, with a
// random token, INCR of the fencing counter, then the compare-and-delete
// script.
func rawLock(b *testing.B, s kv.Store, key string) func(ctx context.Context) error {
	type rawClient interface {
		kv.Conditional
		kv.Counter
	}
	c, ok := s.(rawClient)
	if !ok {
		b.Fatalf("a raw lock needs a raw client with conditional writes and counters; %T has none", s)
	}
	fence := key + ":fence"
	return func(ctx context.Context) error {
		token := []byte(rand.Text())
		ok, err := c.SetIfAbsent(ctx, key, token, lockTTL)
		if err == nil && ok {
			_, err = c.Incr(ctx, fence, 1)
		}
		if err == nil && ok {
			ok, err = c.CompareAndDelete(ctx, key, token)
		}
		if err == nil && !ok {
			err = errRawLock
		}
		return err
	}
}

// deleteLock deletes the keys a lock at key may leave: the key, and its
// fencing counter.
func deleteLock(s kv.Store, key string) {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	_, _ = s.Delete(ctx, key)
	_, _ = s.Delete(ctx, key+":fence")
}
