package rueidiskv_test

import (
	"context"
	"fmt"
	"strconv"
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

	const nkeys = 10000
	value := make([]byte, 64)
	keys := make([]string, nkeys)
	for i := range keys {
		keys[i] = "bench:overhead:" + strconv.Itoa(i)
		if err := uncached.Set(ctx, keys[i], value); err != nil {
			b.Fatal(err)
		}
	}
	b.Cleanup(func() {
		for _, k := range keys {
			_, _ = uncached.Delete(ctx, k)
		}
	})
	if _, err := cached.GetMulti(ctx, keys); err != nil { // warm the cache
		b.Fatal(err)
	}

	ops := []struct {
		name string
		op   func(i int) error
	}{
		{"Get/raw", func(i int) error {
			_, err := raw.Do(ctx, raw.B().Get().Key(keys[i%nkeys]).Build()).AsBytes()
			return err
		}},
		{"Get/store", func(i int) error { _, err := uncached.Get(ctx, keys[i%nkeys]); return err }},
		{"Get/store-hit", func(i int) error { _, err := cached.Get(ctx, keys[i%nkeys]); return err }},
		{"Get/store-miss", func(i int) error { _, err := missing.Get(ctx, keys[i%nkeys]); return err }},
		{"Set/raw", func(i int) error {
			return raw.Do(ctx, raw.B().Set().Key(keys[i%nkeys]).Value(rueidis.BinaryString(value)).Build()).Error()
		}},
		{"Set/store", func(i int) error { return uncached.Set(ctx, keys[i%nkeys], value) }},
		{"Set/store-cached", func(i int) error { return cached.Set(ctx, keys[i%nkeys], value) }},
		{"GetMulti100/store", func(i int) error {
			lo := (i * 100) % (nkeys - 100)
			_, err := uncached.GetMulti(ctx, keys[lo:lo+100])
			return err
		}},
		{"GetMulti100/store-hit", func(i int) error {
			lo := (i * 100) % (nkeys - 100)
			_, err := cached.GetMulti(ctx, keys[lo:lo+100])
			return err
		}},
	}
	for _, par := range []int{1, 8, 64} {
		for _, o := range ops {
			b.Run(fmt.Sprintf("%s/par=%d", o.name, par), func(b *testing.B) {
				backendtest.Parallel(b, par, o.op)
			})
		}
	}
}
