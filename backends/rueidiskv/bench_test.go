package rueidiskv_test

import (
	"context"
	"testing"
	"time"

	"github.com/redis/rueidis"

	"github.com/cledar/storekit/backends/rueidiskv"
	"github.com/cledar/storekit/internal/backendtest"
)

// BenchmarkOverhead compares the store's Get and Set with the same calls
// made on a raw rueidis client with the same options, at 1, 8 and 64
// goroutines, over 10,000 keys with 64-byte values: uncached (target P1/P2:
// at least 0.90x the raw throughput, at most 2 extra allocations per op),
// cached and warm (every read hits: target P8, at least 10x a network GET),
// and cached with a 1 µs TTL (every read misses: target P9, at most 2x a
// plain GET). GetMulti100 reads 100 keys per op. Compare the lines of one
// run, for example with benchstat.
func BenchmarkOverhead(b *testing.B) {
	srv := realRedis(b)
	ctx := context.Background()
	raw := newClient(b, rueidis.ClientOption{InitAddress: []string{srv.Addr()}, DisableCache: true})
	uncached := openStore(b, srv.Addr(), &rueidiskv.Options{DisableCache: true})
	cached := openStore(b, srv.Addr(), &rueidiskv.Options{CacheTTL: time.Hour})
	missing := openStore(b, srv.Addr(), &rueidiskv.Options{CacheTTL: time.Microsecond})
	keys, value := backendtest.BenchKeys(ctx, b, uncached)
	key := func(i int) string { return keys[i%len(keys)] }
	if _, err := cached.GetMulti(ctx, keys); err != nil { // warm the cache
		b.Fatal(err)
	}

	backendtest.RunParallel(b, []backendtest.BenchOp{
		{Name: "Get/raw", Op: func(i int) error {
			_, err := raw.Do(ctx, raw.B().Get().Key(key(i)).Build()).AsBytes()
			return err
		}},
		{Name: "Get/store", Op: func(i int) error { _, err := uncached.Get(ctx, key(i)); return err }},
		{Name: "Get/store-hit", Op: func(i int) error { _, err := cached.Get(ctx, key(i)); return err }},
		{Name: "Get/store-miss", Op: func(i int) error { _, err := missing.Get(ctx, key(i)); return err }},
		{Name: "Set/raw", Op: func(i int) error {
			return raw.Do(ctx, raw.B().Set().Key(key(i)).Value(rueidis.BinaryString(value)).Build()).Error()
		}},
		{Name: "Set/store", Op: func(i int) error { return uncached.Set(ctx, key(i), value) }},
		{Name: "Set/store-cached", Op: func(i int) error { return cached.Set(ctx, key(i), value) }},
		{Name: "GetMulti100/store", Op: backendtest.GetMulti100(ctx, uncached, keys)},
		{Name: "GetMulti100/store-hit", Op: backendtest.GetMulti100(ctx, cached, keys)},
	})
}
