package rueidiskv_test

import (
	"errors"
	"fmt"
	"runtime"
	"strconv"
	"testing"

	"github.com/redis/rueidis"
	"go.uber.org/zap"
	"go.uber.org/zap/zaptest/observer"

	"github.com/cledar/storekit/backends/redisconf"
	"github.com/cledar/storekit/backends/rueidiskv"
	"github.com/cledar/storekit/internal/backendtest"
	"github.com/cledar/storekit/internal/redistest"
	"github.com/cledar/storekit/kv"
)

// TestStats: hits, misses, invalidations and flushes are counted.
func TestStats(t *testing.T) {
	srv := redistest.Start(t, nil)
	s := openStore(t, srv.Addr(), nil)
	ctx := testContext(t)
	get := func(want string) {
		t.Helper()
		v, err := s.Get(ctx, "k")
		if want == "" {
			if !errors.Is(err, kv.ErrNotFound) {
				t.Fatalf("Get = %q, %v; want kv.ErrNotFound", v, err)
			}
			return
		}
		if err != nil || string(v) != want {
			t.Fatalf("Get = %q, %v; want %q", v, err, want)
		}
	}
	get("") // a miss, and a missing key is cached too
	get("")
	if st := s.Stats(); st.Misses != 1 || st.Hits != 1 || st.Entries != 1 || st.Bytes <= 0 {
		t.Errorf("after a miss and a hit: %+v", st)
	}
	srv.MustDo("SET", "k", "v1")
	backendtest.Eventually(t, "the invalidation", func() error {
		if st := s.Stats(); st.Invalidations == 0 {
			return fmt.Errorf("no invalidation counted: %+v", st)
		}
		return nil
	})
	get("v1")
	srv.MustDo("FLUSHALL")
	backendtest.Eventually(t, "the flush", func() error {
		if st := s.Stats(); st.Flushes == 0 || st.Entries != 0 {
			return fmt.Errorf("FLUSHALL not counted: %+v", st)
		}
		return nil
	})
	get("")
	srv.MustDo("CLIENT", "KILL", "TYPE", "normal")
	backendtest.Eventually(t, "the flush of the lost connection", func() error {
		if st := s.Stats(); st.Flushes < 2 || st.Entries != 0 {
			return fmt.Errorf("the lost connection did not flush: %+v", st)
		}
		return nil
	})
	t.Logf("%+v", s.Stats())
}

// TestNewCaching: New caches through a Cache installed in the client
// (with ClientOption, or with NewStore alone), and reads from the server
// otherwise: with no Cache, and, with a warning, with a Cache the client
// does not report to.
func TestNewCaching(t *testing.T) {
	srv := realRedis(t)
	ctx := testContext(t)
	key := "newcaching:" + t.Name()
	setup := openStore(t, srv.Addr(), &rueidiskv.Options{DisableCache: true})
	if err := setup.Set(ctx, key, []byte("v")); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _, _ = setup.Delete(ctx, key) })
	base := rueidis.ClientOption{InitAddress: []string{srv.Addr()}}

	readTwice := func(t *testing.T, s *rueidiskv.Store) rueidiskv.CacheStats {
		t.Helper()
		for range 2 {
			if v, err := s.Get(ctx, key); err != nil || string(v) != "v" {
				t.Fatalf("Get = %q, %v", v, err)
			}
			if vals, err := s.GetMulti(ctx, []string{key}); err != nil || string(vals[0].Data) != "v" {
				t.Fatalf("GetMulti = %v, %v", vals, err)
			}
		}
		return s.Stats()
	}

	t.Run("ClientOption", func(t *testing.T) {
		cache := rueidiskv.NewCache(1 << 20)
		s := rueidiskv.New(newClient(t, cache.ClientOption(base)), &rueidiskv.Options{Cache: cache})
		defer s.Close()
		if st := readTwice(t, s); st.Hits != 3 || st.Misses != 1 {
			t.Errorf("stats = %+v, want 3 hits and 1 miss", st)
		}
	})
	t.Run("NewStore", func(t *testing.T) {
		cache := rueidiskv.NewCache(1 << 20)
		opt := base
		opt.NewCacheStoreFn = cache.NewStore
		s := rueidiskv.New(newClient(t, opt), &rueidiskv.Options{Cache: cache})
		defer s.Close()
		if st := readTwice(t, s); st.Hits != 3 || st.Misses != 1 {
			t.Errorf("stats = %+v, want 3 hits and 1 miss", st)
		}
	})
	t.Run("NoCache", func(t *testing.T) {
		s := rueidiskv.New(newClient(t, base), nil)
		defer s.Close()
		if st := readTwice(t, s); st != (rueidiskv.CacheStats{}) {
			t.Errorf("stats = %+v, want none", st)
		}
	})
	t.Run("NotInstalled", func(t *testing.T) {
		core, logs := observer.New(zap.WarnLevel)
		s := rueidiskv.New(newClient(t, base), &rueidiskv.Options{Options: redisconf.Options{Logger: zap.New(core)}, Cache: rueidiskv.NewCache(0)})
		defer s.Close()
		if st := readTwice(t, s); st.Entries != 0 || st.Hits != 0 {
			t.Errorf("stats = %+v, want nothing cached", st)
		}
		if n := logs.FilterMessageSnippet("does not report to the store's Cache").Len(); n != 1 {
			t.Errorf("%d warnings about the Cache, want 1: %v", n, logs.All())
		}
	})
	t.Run("DisableCache", func(t *testing.T) {
		cache := rueidiskv.NewCache(1 << 20)
		s := rueidiskv.New(newClient(t, cache.ClientOption(base)), &rueidiskv.Options{Cache: cache, DisableCache: true})
		defer s.Close()
		if st := readTwice(t, s); st != (rueidiskv.CacheStats{}) {
			t.Errorf("stats = %+v, want none", st)
		}
	})
}

// TestCacheSize: the cache holds no more than its size, however much is
// read through it.
func TestCacheSize(t *testing.T) {
	srv := realRedis(t)
	const size, valueSize, keys = 256 << 10, 1 << 10, 1000
	s := openStore(t, srv.Addr(), &rueidiskv.Options{CacheSize: size})
	ctx := testContext(t)
	prefix := "cachesize:" + t.Name() + ":"
	value := make([]byte, valueSize)
	for i := range keys {
		if err := s.Set(ctx, prefix+strconv.Itoa(i), value); err != nil {
			t.Fatal(err)
		}
	}
	t.Cleanup(func() {
		for i := range keys {
			_, _ = s.Delete(ctx, prefix+strconv.Itoa(i))
		}
	})
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	for range 2 {
		for i := range keys {
			if v, err := s.Get(ctx, prefix+strconv.Itoa(i)); err != nil || len(v) != valueSize {
				t.Fatalf("Get = %d bytes, %v", len(v), err)
			}
		}
	}
	runtime.GC()
	runtime.ReadMemStats(&after)
	st := s.Stats()
	t.Logf("%d KiB read twice through a %d KiB cache: %d entries, %d bytes counted; Go heap grew by %d KiB",
		keys*valueSize>>10, size>>10, st.Entries, st.Bytes, (int64(after.HeapAlloc)-int64(before.HeapAlloc))>>10)
	if st.Bytes > size || st.Entries == 0 || st.Entries >= keys {
		t.Errorf("stats = %+v, want at most %d bytes and some entries evicted", st, size)
	}
}
