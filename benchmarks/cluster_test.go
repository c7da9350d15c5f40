package benchmarks

// BenchmarkCluster: storekit's bulk reads and writes on a 3-master Redis
// Cluster against what a user of the raw clients would write by hand.

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
	"github.com/redis/rueidis"
	"golang.org/x/sync/errgroup"

	"github.com/cledar/storekit/backends/goredis"
	"github.com/cledar/storekit/backends/rueidiskv"
	"github.com/cledar/storekit/internal/parbench"
	"github.com/cledar/storekit/kv"
)

// The workload of BenchmarkCluster: clusterKeys keys of clusterValueSize
// bytes per implementation, read, written and deleted clusterMulti at a
// time. The keys carry no hash tag, so the clusterMulti keys of a call
// fall in about as many hash slots, spread over every master.
const (
	clusterMasters   = 3
	clusterKeys      = 10000
	clusterMulti     = 100
	clusterValueSize = 64
)

// A clusterImpl is one implementation of BenchmarkCluster's bulk
// operations. Each returns an error unless it did all it was asked: read
// every key (all exist), wrote or deleted every key.
type clusterImpl struct {
	name      string
	getMulti  func(ctx context.Context, keys []string) error
	setMulti  func(ctx context.Context, keys []string, value []byte) error
	delMulti  func(ctx context.Context, keys []string) error
	warm      func(ctx context.Context, key string) error // a read, nil if not cached
	cacheInfo func() string
}

// BenchmarkCluster runs, on a 3-master cluster that redistest starts, bulk
// reads, writes and deletes of 100 keys spread over about 100 hash slots:
// GetMulti100, SetMulti100 and DeleteMulti100 at 1, 8 and 64 goroutines,
// named for benchstat's -col /impl, such as
// BenchmarkCluster/GetMulti100/par=8/impl=goredis. See the package
// documentation.
func BenchmarkCluster(b *testing.B) {
	addrs := newPlainCluster(b, clusterMasters)
	ctx := context.Background()
	impls := []clusterImpl{
		storeImpl("goredis", goredis.New(newGoredisCluster(b, addrs), nil)),
		// The same with every call in a pipeline of its own: what sharing
		// them brings.
		storeImpl("goredis-separate", goredis.New(newGoredisCluster(b, addrs), &goredis.Options{SeparatePipelines: true})),
		storeImpl("rueidiskv-nocache", rueidiskv.New(newRueidisCluster(b, addrs, uncached), &rueidiskv.Options{DisableCache: true})),
		cachedClusterImpl(b, addrs),
		rueidisHelperImpl(newRueidisCluster(b, addrs, uncached)),
		goredisPipeImpl(newGoredisCluster(b, addrs)),
		goredisAutoPipeImpl(b, newGoredisCluster(b, addrs)),
	}
	value := make([]byte, clusterValueSize)
	for i := range value {
		value[i] = 'a' + byte(i%26)
	}
	// Each implementation has keys of its own: keys[i] to read and write,
	// dels[i] to delete (written once; later passes delete missing keys,
	// which costs the server about the same). They are written in blocks of
	// one call's keys, block j of every implementation before block j+1 of
	// any, so that the masters lay out every implementation's keys alike
	// (see conformance.Compare).
	keys := make([][]string, len(impls))
	dels := make([][]string, len(impls))
	all := make([][]string, len(impls))
	prefix := randomPrefix()
	for i, impl := range impls {
		keys[i] = make([]string, clusterKeys)
		dels[i] = make([]string, clusterKeys)
		for j := range clusterKeys {
			keys[i][j] = fmt.Sprintf("%s%s:k:%d", prefix, impl.name, j)
			dels[i][j] = fmt.Sprintf("%s%s:d:%d", prefix, impl.name, j)
		}
		all[i] = append(append([]string(nil), keys[i]...), dels[i]...)
		b.Cleanup(func() {
			for lo := 0; lo < len(all[i]); lo += clusterMulti {
				_ = impl.delMulti(ctx, all[i][lo:lo+clusterMulti])
			}
			if impl.cacheInfo != nil {
				b.Logf("%s: %s", impl.name, impl.cacheInfo())
			}
		})
	}
	err := inParallel(2*clusterKeys/clusterMulti, func(j int) error {
		for i, impl := range impls {
			if err := impl.setMulti(ctx, all[i][j*clusterMulti:(j+1)*clusterMulti], value); err != nil {
				return fmt.Errorf("%s: writing keys %q to %q: %w", impl.name, all[i][j*clusterMulti], all[i][(j+1)*clusterMulti-1], err)
			}
		}
		return nil
	})
	if err != nil {
		b.Fatal(err)
	}
	for i, impl := range impls {
		if impl.warm != nil {
			if err := inParallel(clusterKeys, func(j int) error { return impl.warm(ctx, keys[i][j]) }); err != nil {
				b.Fatalf("%s: reading %d keys: %v", impl.name, clusterKeys, err)
			}
		}
	}
	ops := []struct {
		name string
		call func(impl clusterImpl, i, lo int) error
	}{
		{"GetMulti100", func(impl clusterImpl, i, lo int) error { return impl.getMulti(ctx, keys[i][lo:lo+clusterMulti]) }},
		{"SetMulti100", func(impl clusterImpl, i, lo int) error {
			return impl.setMulti(ctx, keys[i][lo:lo+clusterMulti], value)
		}},
		{"DeleteMulti100", func(impl clusterImpl, i, lo int) error { return impl.delMulti(ctx, dels[i][lo:lo+clusterMulti]) }},
	}
	for _, op := range ops {
		for _, par := range pars {
			b.Run(fmt.Sprintf("%s/par=%d", op.name, par), func(b *testing.B) {
				entrants := make([]parbench.Entrant, len(impls))
				for i, impl := range impls {
					entrants[i] = spread(impl.name, func(call int) error {
						lo := call % (clusterKeys / clusterMulti) * clusterMulti
						if err := op.call(impl, i, lo); err != nil {
							return fmt.Errorf("%s of keys %q to %q: %w", op.name, keys[i][lo], keys[i][lo+clusterMulti-1], err)
						}
						return nil
					})
				}
				parbench.SideBySide(b, par, clusterMulti, entrants)
			})
		}
	}
}

// pars are the goroutine counts of the benchmarks of this file.
var pars = []int{1, 8, 64}

// inParallel runs f(0) to f(n-1) from a few goroutines and returns the
// first error.
func inParallel(n int, f func(i int) error) error {
	var g errgroup.Group
	g.SetLimit(32)
	for i := range n {
		g.Go(func() error { return f(i) })
	}
	return g.Wait()
}

// newGoredisCluster returns a go-redis cluster client of addrs with the
// default options, closed when b ends.
func newGoredisCluster(b *testing.B, addrs []string) *redis.ClusterClient {
	c := redis.NewClusterClient(&redis.ClusterOptions{Addrs: addrs})
	b.Cleanup(func() { _ = c.Close() })
	return c
}

// newRueidisCluster returns a rueidis client of the cluster of addrs with
// the options opt, closed when b ends.
func newRueidisCluster(b *testing.B, addrs []string, opt rueidis.ClientOption) rueidis.Client {
	b.Helper()
	opt.InitAddress = addrs
	c, err := rueidis.NewClient(opt)
	if err != nil {
		b.Fatalf("rueidis.NewClient(%v): %v", addrs, err)
	}
	b.Cleanup(c.Close)
	return c
}

// storeImpl is a store's GetMulti, SetMulti and DeleteMulti.
func storeImpl(name string, s interface {
	kv.Store
	kv.MultiGetter
	kv.BulkWriter
}) clusterImpl {
	return clusterImpl{
		name: name,
		getMulti: func(ctx context.Context, keys []string) error {
			vals, err := s.GetMulti(ctx, keys)
			if err == nil && (len(vals) != len(keys) || !vals[0].Found || !vals[len(vals)-1].Found) {
				err = errMissing
			}
			return err
		},
		setMulti: func(ctx context.Context, keys []string, value []byte) error {
			items := make([]kv.Item, len(keys))
			for i, k := range keys {
				items[i] = kv.Item{Key: k, Value: value}
			}
			return s.SetMulti(ctx, items)
		},
		delMulti: func(ctx context.Context, keys []string) error {
			_, err := s.DeleteMulti(ctx, keys)
			return err
		},
	}
}

// cachedClusterImpl is rueidiskv reading through a cache of the default
// size, warm.
func cachedClusterImpl(b *testing.B, addrs []string) clusterImpl {
	cache := rueidiskv.NewCache(rueidiskv.DefaultCacheSize)
	s := rueidiskv.New(newRueidisCluster(b, addrs, cache.ClientOption(rueidis.ClientOption{})),
		&rueidiskv.Options{Cache: cache, CacheTTL: time.Hour})
	impl := storeImpl("rueidiskv", s)
	impl.warm = func(ctx context.Context, key string) error {
		_, err := s.Get(ctx, key)
		return err
	}
	impl.cacheInfo = func() string { return fmt.Sprintf("cache %+v", s.Stats()) }
	return impl
}

// rueidisHelperImpl is the raw rueidis client through its helpers
// rueidis.MGet, MSet and MDel, which group the keys by slot and send the
// groups to their nodes at once.
func rueidisHelperImpl(c rueidis.Client) clusterImpl {
	return clusterImpl{
		name: "rueidis-helper",
		getMulti: func(ctx context.Context, keys []string) error {
			res, err := rueidis.MGet(c, ctx, keys)
			if err != nil {
				return err
			}
			if len(res) != len(keys) {
				return errMissing
			}
			for _, m := range res {
				if m.IsNil() {
					return errMissing
				}
			}
			return nil
		},
		setMulti: func(ctx context.Context, keys []string, value []byte) error {
			kvs := make(map[string]string, len(keys))
			for _, k := range keys {
				kvs[k] = rueidis.BinaryString(value)
			}
			return firstErr(rueidis.MSet(c, ctx, kvs))
		},
		delMulti: func(ctx context.Context, keys []string) error { return firstErr(rueidis.MDel(c, ctx, keys)) },
	}
}

// firstErr returns an error of errs, nil if there is none.
func firstErr(errs map[string]error) error {
	for _, err := range errs {
		if err != nil {
			return err
		}
	}
	return nil
}

// goredisPipeImpl is the raw go-redis cluster client sending a pipeline of
// one GET, SET or DEL per key, which it splits by node.
func goredisPipeImpl(c *redis.ClusterClient) clusterImpl {
	return clusterImpl{
		name: "goredis-pipe",
		getMulti: func(ctx context.Context, keys []string) error {
			cmds, err := c.Pipelined(ctx, func(p redis.Pipeliner) error {
				for _, k := range keys {
					p.Get(ctx, k)
				}
				return nil
			})
			if errors.Is(err, redis.Nil) {
				return errMissing
			}
			if err == nil && len(cmds) != len(keys) {
				err = errMissing
			}
			return err
		},
		setMulti: func(ctx context.Context, keys []string, value []byte) error {
			_, err := c.Pipelined(ctx, func(p redis.Pipeliner) error {
				for _, k := range keys {
					p.Set(ctx, k, value, 0)
				}
				return nil
			})
			return err
		},
		delMulti: func(ctx context.Context, keys []string) error {
			_, err := c.Pipelined(ctx, func(p redis.Pipeliner) error {
				for _, k := range keys {
					p.Del(ctx, k)
				}
				return nil
			})
			return err
		},
	}
}

// goredisAutoPipeImpl is the raw go-redis cluster client through its
// autopipeliner (ClusterClient.AsyncAutoPipeline, experimental since
// go-redis v9.22, default options), which batches the commands of
// concurrent callers by node as rueidis does: one GET, SET or DEL per key,
// all submitted, then waited for.
func goredisAutoPipeImpl(b *testing.B, c *redis.ClusterClient) clusterImpl {
	ap, err := c.AsyncAutoPipeline()
	if err != nil {
		b.Fatalf("AsyncAutoPipeline: %v", err)
	}
	// each submits the command cmd(k) of every key, then waits for them all.
	each := func(ctx context.Context, keys []string, cmd func(k string) redis.Cmder) error {
		futures := make([]redis.AutoFuture, len(keys))
		for i, k := range keys {
			futures[i] = ap.Submit(ctx, cmd(k))
		}
		var first error
		for _, f := range futures {
			if err := f.Wait(); err != nil && first == nil {
				first = err
			}
		}
		if errors.Is(first, redis.Nil) {
			return errMissing
		}
		return first
	}
	return clusterImpl{
		name: "goredis-autopipe",
		getMulti: func(ctx context.Context, keys []string) error {
			return each(ctx, keys, func(k string) redis.Cmder { return redis.NewStringCmd(ctx, "get", k) })
		},
		setMulti: func(ctx context.Context, keys []string, value []byte) error {
			return each(ctx, keys, func(k string) redis.Cmder { return redis.NewStatusCmd(ctx, "set", k, value) })
		},
		delMulti: func(ctx context.Context, keys []string) error {
			return each(ctx, keys, func(k string) redis.Cmder { return redis.NewIntCmd(ctx, "del", k) })
		},
	}
}
