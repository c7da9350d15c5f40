package goredis_test

import (
	"context"
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
	b.Cleanup(func() { _ = client.Close() })
	store := goredis.New(client, nil)
	b.Cleanup(func() { _ = store.Close() })
	ctx := context.Background()
	keys, value := backendtest.BenchKeys(ctx, b, store)
	key := func(i int) string { return keys[i%len(keys)] }

	backendtest.RunParallel(b, []backendtest.BenchOp{
		{Name: "Get/raw", Op: func(i int) error { _, err := client.Get(ctx, key(i)).Bytes(); return err }},
		{Name: "Get/store", Op: func(i int) error { _, err := store.Get(ctx, key(i)); return err }},
		{Name: "Set/raw", Op: func(i int) error { return client.Set(ctx, key(i), value, 0).Err() }},
		{Name: "Set/store", Op: func(i int) error { return store.Set(ctx, key(i), value) }},
		{Name: "GetMulti100/store", Op: backendtest.GetMulti100(ctx, store, keys)},
	})
}
