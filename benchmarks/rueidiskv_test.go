package benchmarks

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"runtime"
	"strconv"
	"testing"
	"time"

	"github.com/redis/rueidis"
	"golang.org/x/sync/errgroup"

	"github.com/cledar/storekit/backends/rueidiskv"
	"github.com/cledar/storekit/conformance"
	"github.com/cledar/storekit/kv"
)

// rueidiskvContenders are the rueidiskv stores, each over a client of its
// own, built as rueidiskv.Open builds them: rueidis's default options, and
// either no client-side caching or a rueidiskv.Cache of the default size.
func rueidiskvContenders(addr string) []conformance.Contender {
	cached := func(ttl time.Duration) func(b *testing.B) kv.Store {
		return func(b *testing.B) kv.Store { return newCachedStore(b, addr, rueidiskv.DefaultCacheSize, ttl) }
	}
	return []conformance.Contender{
		{Name: "rueidiskv-nocache", Ops: allOps, New: func(b *testing.B) kv.Store {
			return rueidiskv.New(newRueidisClient(b, addr, uncached), &rueidiskv.Options{DisableCache: true})
		}},
		{Name: "rueidiskv", Ops: allOps, New: cached(time.Hour)},
		// Entries expire at once: every read misses (target P9).
		{Name: "rueidiskv-miss", Ops: []string{"Get"}, New: cached(time.Microsecond)},
	}
}

// newCachedStore returns a store whose reads go through a cache of size
// bytes, with entries living at most ttl. When b ends it logs the cache's
// counters, to show how the reads went.
func newCachedStore(b *testing.B, addr string, size int, ttl time.Duration) *rueidiskv.Store {
	cache := rueidiskv.NewCache(size)
	client := newRueidisClient(b, addr, cache.ClientOption(rueidis.ClientOption{}))
	s := rueidiskv.New(client, &rueidiskv.Options{Cache: cache, CacheTTL: ttl})
	b.Cleanup(func() { b.Logf("rueidiskv cache of %d MiB, TTL %v: %+v", size/mib, ttl, s.Stats()) })
	return s
}

// The client-side cache of target P13, filled three times over with 1 KiB
// values.
const (
	cacheSize      = 16 << 20
	cacheValueSize = 1 << 10
	cacheKeys      = 3 * cacheSize / cacheValueSize
	cacheReaders   = 64
	cacheBatch     = 1000 // keys per pipelined write or delete
	mib            = 1 << 20
)

// benchCacheMemory writes cacheKeys distinct values, then reads them all
// through a cached store, from cacheReaders goroutines, once per iteration.
// It reports the growth of the Go heap in use, measured after a collection,
// from just before the first read to after the last.
func benchCacheMemory(b *testing.B, addr string) {
	ctx := context.Background()
	s := newCachedStore(b, addr, cacheSize, time.Hour)
	b.Cleanup(func() { _ = s.Close() })
	client := s.Client()

	keys := make([]string, cacheKeys)
	prefix := randomPrefix()
	for i := range keys {
		keys[i] = prefix + strconv.Itoa(i)
	}
	b.Cleanup(func() {
		for lo := 0; lo < len(keys); lo += cacheBatch {
			_ = client.Do(ctx, client.B().Del().Key(keys[lo:min(lo+cacheBatch, len(keys))]...).Build()).Error()
		}
	})
	for lo := 0; lo < len(keys); lo += cacheBatch {
		cmds := make(rueidis.Commands, 0, cacheBatch)
		for i := lo; i < min(lo+cacheBatch, len(keys)); i++ {
			v := make([]byte, cacheValueSize)
			copy(v, keys[i])
			cmds = append(cmds, client.B().Set().Key(keys[i]).Value(rueidis.BinaryString(v)).Build())
		}
		for _, r := range client.DoMulti(ctx, cmds...) {
			if err := r.Error(); err != nil {
				b.Fatalf("writing %d values of %d bytes: %v", len(keys), cacheValueSize, err)
			}
		}
	}
	// Open the client's connections before the baseline, by reading keys
	// that are not there.
	for i := range 64 {
		if _, err := s.Get(ctx, prefix+"absent:"+strconv.Itoa(i)); !errors.Is(err, kv.ErrNotFound) {
			b.Fatalf("Get of a missing key: got err %v, want kv.ErrNotFound", err)
		}
	}

	base := heapStats()
	for b.Loop() {
		if err := readAll(ctx, s, keys); err != nil {
			b.Fatal(err)
		}
	}
	end := heapStats()
	grown := float64(end.HeapInuse) - float64(base.HeapInuse)
	stats := s.Stats()
	if stats.Misses < cacheKeys {
		b.Fatalf("the reads did not go through the cache: %+v", stats)
	}
	b.ReportMetric(grown/mib, "heap-MiB")
	b.ReportMetric(grown/cacheSize, "ratio-to-cache-size")
	b.ReportMetric((float64(end.HeapAlloc)-float64(base.HeapAlloc))/mib, "live-MiB")
	b.ReportMetric(float64(stats.Bytes)/mib, "cached-MiB")
}

// readAll reads every key through s from cacheReaders goroutines.
func readAll(ctx context.Context, s kv.Store, keys []string) error {
	g, ctx := errgroup.WithContext(ctx)
	g.SetLimit(cacheReaders)
	for _, k := range keys {
		g.Go(func() error {
			if v, err := s.Get(ctx, k); err != nil || len(v) != cacheValueSize {
				return fmt.Errorf("Get(%q) through the cache: %d bytes, err %v", k, len(v), err)
			}
			return nil
		})
	}
	return g.Wait()
}

// heapStats returns the memory statistics after a full collection.
func heapStats() *runtime.MemStats {
	runtime.GC()
	runtime.GC()
	var m runtime.MemStats
	runtime.ReadMemStats(&m)
	return &m
}

// randomPrefix returns a random key prefix, such as "bench:0123456789abcdef:".
func randomPrefix() string {
	var r [8]byte
	_, _ = rand.Read(r[:])
	return "bench:" + hex.EncodeToString(r[:]) + ":"
}
