package rueidiskv_test

import (
	"fmt"
	"strconv"
	"testing"

	"github.com/cledar/storekit/backends/rueidiskv"
	"github.com/cledar/storekit/internal/backendtest"
	"github.com/cledar/storekit/kv"
	"github.com/cledar/storekit/metrics"
)

// TestMetrics: the counters the Redis backends share, over a cached store.
func TestMetrics(t *testing.T) { backendtest.RunMetrics(t, backend) }

// TestMetricsUncached: without a cache, every call is counted as with one,
// and the snapshot has no Cache section.
func TestMetricsUncached(t *testing.T) {
	srv := realRedis(t)
	s := openStore(t, srv.Addr(), &rueidiskv.Options{DisableCache: true})
	if s.Metrics().Cache != nil {
		t.Error("an uncached store's snapshot has a Cache section")
	}
	backendtest.CheckCounts(t, s)
}

// TestMetricsCache: a miss, a hit, an invalidation by another client and
// evictions from a small cache move the Cache section by exactly what
// happened, and cached reads count as calls of Get, GetMulti and
// GetDecoded's Get.
func TestMetricsCache(t *testing.T) {
	srv := realRedis(t)
	s := openStore(t, srv.Addr(), nil)
	ctx := testContext(t)
	cache := func() metrics.Cache { return *s.Metrics().Cache }
	if err := s.Set(ctx, "k", []byte("v0")); err != nil {
		t.Fatal(err)
	}
	get := func(what string, hits, misses uint64) {
		t.Helper()
		before := s.Metrics()
		if _, err := s.Get(ctx, "k"); err != nil {
			t.Fatal(err)
		}
		after := s.Metrics()
		backendtest.CheckDelta(t, what, before, after, metrics.OpGet, 0, false)
		if h, m := after.Cache.Hits-before.Cache.Hits, after.Cache.Misses-before.Cache.Misses; h != hits || m != misses {
			t.Errorf("%s: Hits and Misses moved by %d and %d, want %d and %d", what, h, m, hits, misses)
		}
	}
	get("the first Get", 0, 1)
	get("the second Get", 1, 0)

	before := cache()
	srv.MustDo("SET", "k", "v1")
	backendtest.Eventually(t, "the invalidation", func() error {
		if d := cache().Invalidations - before.Invalidations; d != 1 {
			return fmt.Errorf("invalidations moved by %d, want 1", d)
		}
		return nil
	})
	get("the Get after the invalidation", 0, 1)

	snap := s.Metrics()
	decode := func(b []byte) (any, int, error) { return string(b), len(b), nil }
	for range 2 {
		if _, err := s.GetDecoded(ctx, "k", "tag", decode); err != nil {
			t.Fatal(err)
		}
	}
	after := s.Metrics()
	if d := after.Ops[metrics.OpGet] - snap.Ops[metrics.OpGet]; d != 2 {
		t.Errorf("two GetDecoded calls counted %d Gets, want 2", d)
	}
	if d := after.Cache.Hits - snap.Cache.Hits; d != 2 {
		t.Errorf("two cached GetDecoded calls counted %d hits, want 2", d)
	}
	if d := after.Cache.Evictions + after.Cache.Misses - snap.Cache.Evictions - snap.Cache.Misses; d != 0 {
		t.Errorf("two cached GetDecoded calls moved Misses and Evictions by %d", d)
	}
}

// TestMetricsEvictions: reading more distinct keys than a small cache holds
// evicts exactly the entries it no longer has.
func TestMetricsEvictions(t *testing.T) {
	srv := realRedis(t)
	const size, keys = 64 << 10, 500
	s := openStore(t, srv.Addr(), &rueidiskv.Options{CacheSize: size})
	ctx := testContext(t)
	value := make([]byte, 512)
	items := make([]kv.Item, keys)
	names := make([]string, keys)
	for i := range items {
		names[i] = "ev:" + strconv.Itoa(i)
		items[i] = kv.Item{Key: names[i], Value: value}
	}
	if err := s.SetMulti(ctx, items); err != nil {
		t.Fatal(err)
	}
	before := s.Metrics()
	for _, k := range names {
		if _, err := s.Get(ctx, k); err != nil {
			t.Fatal(err)
		}
	}
	after := s.Metrics()
	c := after.Cache
	if d := c.Misses - before.Cache.Misses; d != keys {
		t.Fatalf("%d Gets of distinct keys counted %d misses", keys, d)
	}
	evicted := c.Evictions - before.Cache.Evictions
	if evicted == 0 || evicted != keys-c.Entries {
		t.Errorf("Evictions moved by %d with %d of %d keys cached; want %d", evicted, c.Entries, keys, keys-c.Entries)
	}
	if d := after.Ops[metrics.OpGet] - before.Ops[metrics.OpGet]; d != keys {
		t.Errorf("%d cached Gets counted %d", keys, d)
	}
	if f := after.Failures(metrics.OpGet) - before.Failures(metrics.OpGet); f != 0 {
		t.Errorf("%d cached Gets counted %d failures", keys, f)
	}
}
