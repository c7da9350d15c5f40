package benchmarks

// BenchmarkTyped: a typed read of a small struct through a local cache,
// storekit's against go-redis/cache's.

import (
	"context"
	"fmt"
	"strconv"
	"testing"
	"time"

	"github.com/go-redis/cache/v9"

	"github.com/cledar/storekit/backends/rueidiskv"
	"github.com/cledar/storekit/codec"
	"github.com/cledar/storekit/internal/parbench"
)

// typedValue is the value of BenchmarkTyped: a small struct of three
// fields.
type typedValue struct {
	ID    int64   `json:"id"`
	Name  string  `json:"name"`
	Score float64 `json:"score"`
}

// typedKeys is how many keys BenchmarkTyped reads, round robin: few enough
// that every local cache holds them all.
const typedKeys = 1000

// BenchmarkTyped reads a typedValue by key, at 1, 8 and 64 goroutines, from
// warm local caches (every read hits): impl=codec-rueidiskv is a
// codec.Store with the default JSON codec over a rueidiskv store reading
// through a rueidiskv.Cache of the default size, and impl=goredis-cache is
// go-redis/cache (msgpack) with its local TinyLFU cache over a go-redis
// client. go-redis/cache's local cache never learns of another client's
// writes; storekit's is invalidated by the server. Named for benchstat's
// -col /impl, such as BenchmarkTyped/par=8/impl=goredis-cache.
func BenchmarkTyped(b *testing.B) {
	addr := newPlainServer(b)
	ctx := context.Background()
	prefix := randomPrefix()
	// Each implementation has keys of its own; the values are made before
	// the reads, so that the reads measure the implementations alone.
	wants := make([]typedValue, typedKeys)
	skKeys, gcKeys := make([]string, typedKeys), make([]string, typedKeys)
	for i := range wants {
		wants[i] = typedValue{ID: int64(i), Name: "name-" + strconv.Itoa(i), Score: float64(i) + 0.5}
		skKeys[i] = prefix + "typed:sk:" + strconv.Itoa(i)
		gcKeys[i] = prefix + "typed:gc:" + strconv.Itoa(i)
	}

	kvs := newCachedStore(b, addr, rueidiskv.DefaultCacheSize, time.Hour)
	b.Cleanup(func() { _ = kvs.Close() })
	typed := codec.New[typedValue](kvs, nil)

	rc := newGoredisClient(b, addr)
	gc := cache.New(&cache.Options{Redis: rc, LocalCache: cache.NewTinyLFU(10*typedKeys, time.Hour)})

	impls := []struct {
		name string
		set  func(i int) error
		get  func(i int) (typedValue, error)
	}{
		{"codec-rueidiskv",
			func(i int) error { return typed.Set(ctx, skKeys[i], wants[i]) },
			func(i int) (typedValue, error) {
				v, ok, err := typed.Get(ctx, skKeys[i])
				if err == nil && !ok {
					err = fmt.Errorf("key %q not found", skKeys[i])
				}
				return v, err
			}},
		{"goredis-cache",
			func(i int) error {
				return gc.Set(&cache.Item{Ctx: ctx, Key: gcKeys[i], Value: wants[i], TTL: time.Hour})
			},
			func(i int) (typedValue, error) {
				var v typedValue
				err := gc.Get(ctx, gcKeys[i], &v)
				return v, err
			}},
	}
	for _, impl := range impls {
		err := inParallel(typedKeys, func(i int) error {
			if err := impl.set(i); err != nil {
				return err
			}
			_, err := impl.get(i) // warm the local cache
			return err
		})
		if err != nil {
			b.Fatalf("%s: writing %d values: %v", impl.name, typedKeys, err)
		}
	}
	b.Cleanup(func() {
		_, _ = kvs.DeleteMulti(ctx, skKeys)
		_, _ = kvs.DeleteMulti(ctx, gcKeys)
	})
	for _, par := range pars {
		b.Run("par="+strconv.Itoa(par), func(b *testing.B) {
			entrants := make([]parbench.Entrant, len(impls))
			for k, impl := range impls {
				entrants[k] = spread(impl.name, func(call int) error {
					i := call % typedKeys
					v, err := impl.get(i)
					if err == nil && v != wants[i] {
						err = fmt.Errorf("got %+v, want %+v", v, wants[i])
					}
					if err != nil {
						return fmt.Errorf("read %d: %w", i, err)
					}
					return nil
				})
			}
			parbench.SideBySide(b, par, 0, entrants)
		})
	}
}
