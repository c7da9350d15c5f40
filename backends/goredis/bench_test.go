package goredis_test

import (
	"context"
	"fmt"
	"strconv"
	"testing"

	"github.com/redis/go-redis/v9"

	"github.com/cledar/storekit/backends/goredis"
	"github.com/cledar/storekit/internal/backendtest"
	"github.com/cledar/storekit/internal/redistest"
)

// BenchmarkOverhead compares the store's Get and Set with the same calls
// made on the raw go-redis client it wraps, at 1, 8 and 64 goroutines, over
// 10,000 keys with 64-byte values (targets P1/P2: the store reaches at least
// 0.90x the raw throughput, with at most 2 extra allocations per op).
// Compare the raw and store lines of one run, for example with benchstat.
// GetMulti/100 reads 100 keys per op (target P6: at least 10x the keys/s of
// single GETs).
func BenchmarkOverhead(b *testing.B) {
	srv := redistest.New(b)
	client := redis.NewClient(&redis.Options{Addr: srv.Addr()})
	defer client.Close()
	store := goredis.New(client, nil)
	defer store.Close()
	ctx := context.Background()

	const nkeys = 10000
	value := make([]byte, 64)
	keys := make([]string, nkeys)
	for i := range keys {
		keys[i] = "bench:overhead:" + strconv.Itoa(i)
		if err := client.Set(ctx, keys[i], value, 0).Err(); err != nil {
			b.Fatal(err)
		}
	}
	defer client.Del(ctx, keys...)

	ops := []struct {
		name string
		op   func(i int) error
	}{
		{"Get/raw", func(i int) error { _, err := client.Get(ctx, keys[i%nkeys]).Bytes(); return err }},
		{"Get/store", func(i int) error { _, err := store.Get(ctx, keys[i%nkeys]); return err }},
		{"Set/raw", func(i int) error { return client.Set(ctx, keys[i%nkeys], value, 0).Err() }},
		{"Set/store", func(i int) error { return store.Set(ctx, keys[i%nkeys], value) }},
		{"GetMulti100/store", func(i int) error {
			lo := (i * 100) % (nkeys - 100)
			_, err := store.GetMulti(ctx, keys[lo:lo+100])
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
