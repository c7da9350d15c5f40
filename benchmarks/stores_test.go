package benchmarks

import (
	"context"
	"errors"
	"slices"
	"sync"
	"testing"

	"github.com/redis/go-redis/v9"

	"github.com/cledar/storekit/backends/goredis"
	"github.com/cledar/storekit/backends/memory"
	"github.com/cledar/storekit/conformance"
	"github.com/cledar/storekit/kv"
)

// benchOps are the benchmarks of conformance.Compare that the targets need.
var benchOps = []string{"Get", "GetMulti100", "Set"}

// writeOps are the benchmarks of the conditional, counter and bulk writes
// (targets A1 to A5), and allOps the stores' benchmarks: both.
var (
	writeOps = []string{"CompareAndSwap", "Incr", "SetMulti100"}
	allOps   = slices.Concat(benchOps, writeOps)
)

// pipeOps are the benchmarks of the raw clients that write with a pipeline.
var pipeOps = []string{"SetMulti100"}

// localPars adds 2 goroutines for the in-process stores (target P10).
var localPars = []int{1, 2, 8, 64}

// BenchmarkStores runs every implementation side by side on one
// redis-server; see the package documentation.
func BenchmarkStores(b *testing.B) {
	addr := newPlainServer(b)
	conformance.Compare(b, slices.Concat(
		goredisContenders(addr),
		rueidisContenders(addr),
		localContenders(),
	)...)
	b.Run("CacheMemory/impl=rueidiskv", func(b *testing.B) { benchCacheMemory(b, addr) })
}

// goredisContenders are the raw go-redis client, alone and writing with a
// pipeline, and the goredis store, each over a client with go-redis's
// default options.
func goredisContenders(addr string) []conformance.Contender {
	return []conformance.Contender{
		{Name: "goredis-raw", Ops: allOps, New: func(b *testing.B) kv.Store {
			return rawGoredis{newGoredisClient(b, addr)}
		}},
		{Name: "goredis-pipe", Ops: pipeOps, New: func(b *testing.B) kv.Store {
			return rawGoredisPipe{rawGoredis{newGoredisClient(b, addr)}}
		}},
		{Name: "goredis", Ops: allOps, New: func(b *testing.B) kv.Store {
			return goredis.New(newGoredisClient(b, addr), nil)
		}},
	}
}

// newGoredisClient returns a go-redis client of addr with the default
// options, closed when tb ends.
func newGoredisClient(tb testing.TB, addr string) *redis.Client {
	c := redis.NewClient(&redis.Options{Addr: addr})
	tb.Cleanup(func() { _ = c.Close() })
	return c
}

func localContenders() []conformance.Contender {
	return []conformance.Contender{
		{Name: "syncmap", Ops: benchOps, Pars: localPars, New: func(*testing.B) kv.Store { return &syncMap{} }},
		{Name: "memory", Ops: allOps, Pars: localPars, New: func(*testing.B) kv.Store { return memory.New(nil) }},
	}
}

// errMissing is the error of a raw GetMulti when a key is missing: the
// benchmarks read only keys that exist.
var errMissing = errors.New("raw GetMulti: a key is missing")

// allFound is what a raw GetMulti returns: it checks that every key was
// found but builds no results, to measure the client alone.
var allFound = func() []kv.Value {
	vals := make([]kv.Value, 1000)
	for i := range vals {
		vals[i].Found = true
	}
	return vals
}()

// rawGoredis is a go-redis client behind the kv.Store methods that the
// benchmarks call.
type rawGoredis struct{ c *redis.Client }

func (r rawGoredis) Get(ctx context.Context, key string) ([]byte, error) {
	v, err := r.c.Get(ctx, key).Bytes()
	if err == redis.Nil {
		return nil, kv.ErrNotFound
	}
	return v, err
}

func (r rawGoredis) Set(ctx context.Context, key string, value []byte) error {
	return r.c.Set(ctx, key, value, 0).Err()
}

func (r rawGoredis) Delete(ctx context.Context, key string) (bool, error) {
	n, err := r.c.Del(ctx, key).Result()
	return n > 0, err
}

func (r rawGoredis) GetMulti(ctx context.Context, keys []string) ([]kv.Value, error) {
	res, err := r.c.MGet(ctx, keys...).Result()
	if err != nil {
		return nil, err
	}
	if len(res) != len(keys) || slices.Contains(res, nil) {
		return nil, errMissing
	}
	return allFound[:len(keys)], nil
}

func (r rawGoredis) Close() error { return nil }

// syncMap is a bare sync.Map behind the kv.Store methods that the
// benchmarks call: values are neither copied nor expired.
type syncMap struct{ m sync.Map }

func (s *syncMap) Get(_ context.Context, key string) ([]byte, error) {
	v, ok := s.m.Load(key)
	if !ok {
		return nil, kv.ErrNotFound
	}
	return v.([]byte), nil
}

func (s *syncMap) Set(_ context.Context, key string, value []byte) error {
	s.m.Store(key, value)
	return nil
}

func (s *syncMap) Delete(_ context.Context, key string) (bool, error) {
	_, ok := s.m.LoadAndDelete(key)
	return ok, nil
}

func (s *syncMap) Close() error { return nil }

// Compile-time checks of the adapters.
var (
	_ kv.MultiGetter = rawGoredis{}
	_ kv.Store       = (*syncMap)(nil)
)
