package goredis_test

import (
	"fmt"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/cledar/storekit/backends/goredis"
	"github.com/cledar/storekit/internal/backendtest"
	"github.com/cledar/storekit/internal/redistest"
	"github.com/cledar/storekit/kv"
)

// TestAtomic runs the tests of the conditional writes, counters, expiry
// changes, bulk writes and conditional appends, on one server and on a
// cluster.
func TestAtomic(t *testing.T) {
	backendtest.RunAtomic(t, backendtest.AtomicBackend{
		New: func(t *testing.T, addr, user, password string) kv.Store {
			s := goredis.New(redis.NewClient(&redis.Options{Addr: addr, Username: user, Password: password,
				ContextTimeoutEnabled: true}), &goredis.Options{CloseClient: true})
			t.Cleanup(func() { _ = s.Close() })
			return s
		},
		NewCluster: func(t *testing.T, addrs []string, user, password string) kv.Store {
			s := goredis.New(redis.NewClusterClient(&redis.ClusterOptions{Addrs: addrs, Username: user, Password: password,
				ContextTimeoutEnabled: true}), &goredis.Options{CloseClient: true})
			t.Cleanup(func() { _ = s.Close() })
			return s
		},
	})
}

// TestBulkWriteRing: on a ring of two servers SetMulti and DeleteMulti
// write key by key, on the shard of each key, and reach every key.
func TestBulkWriteRing(t *testing.T) {
	a, b := redistest.Start(t, nil), redistest.Start(t, nil)
	s := goredis.New(redis.NewRing(&redis.RingOptions{Addrs: map[string]string{"a": a.Addr(), "b": b.Addr()},
		NewClient: func(opt *redis.Options) *redis.Client {
			opt.ContextTimeoutEnabled = true
			return redis.NewClient(opt)
		}}), &goredis.Options{CloseClient: true})
	t.Cleanup(func() { _ = s.Close() })
	ctx := testContext(t)
	items := make([]kv.Item, 50)
	keys := make([]string, len(items))
	for i := range items {
		keys[i] = fmt.Sprintf("ring:%d", i)
		items[i] = kv.Item{Key: keys[i], Value: []byte(keys[i])}
		if i%2 == 0 {
			items[i].TTL = time.Hour
		}
	}
	if err := s.SetMulti(ctx, items); err != nil {
		t.Fatal(err)
	}
	var onA, onB int64
	for _, k := range keys {
		if v, err := s.Get(ctx, k); err != nil || string(v) != k {
			t.Errorf("Get(%q) = %q, %v", k, v, err)
		}
		onA += a.MustDo("EXISTS", k).(int64)
		onB += b.MustDo("EXISTS", k).(int64)
	}
	if onA == 0 || onB == 0 || onA+onB != int64(len(keys)) {
		t.Errorf("%d keys on shard a and %d on shard b, want %d in all, on both", onA, onB, len(keys))
	}
	if ttl, err := s.TTL(ctx, keys[0]); err != nil || ttl <= 0 || ttl > time.Hour {
		t.Errorf("TTL(%q) = %v, %v", keys[0], ttl, err)
	}
	if n, err := s.DeleteMulti(ctx, append(keys, keys[0], "ring:missing")); n != len(keys) || err != nil {
		t.Errorf("DeleteMulti = %d, %v; want %d", n, err, len(keys))
	}
	if n := a.MustDo("DBSIZE").(int64) + b.MustDo("DBSIZE").(int64); n != 0 {
		t.Errorf("%d keys left after DeleteMulti", n)
	}
}
