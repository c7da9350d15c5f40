package goredis_test

import (
	"context"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/redis/go-redis/v9"

	"github.com/cledar/storekit/backends/goredis"
	"github.com/cledar/storekit/conformance"
	"github.com/cledar/storekit/internal/backendtest"
	"github.com/cledar/storekit/internal/redistest"
	"github.com/cledar/storekit/kv"
)

// TestCluster runs on a three-master Redis Cluster: the conformance suite
// (bulk reads span slots, Scan and Watch span masters), plus checks of how
// the store spreads its work.
func TestCluster(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a Redis Cluster")
	}
	cl := redistest.StartCluster(t, 3)
	newCluster := func(t *testing.T) *redis.ClusterClient {
		c := redis.NewClusterClient(&redis.ClusterOptions{Addrs: cl.Addrs()})
		t.Cleanup(func() { _ = c.Close() })
		return c
	}

	t.Run("Conformance", func(t *testing.T) {
		conformance.Run(t, func(t *testing.T) kv.Store {
			return goredis.New(newCluster(t), nil)
		})
	})

	t.Run("GetMultiOneMGETPerSlot", func(t *testing.T) {
		c := newCluster(t)
		counter := &mgetCounter{}
		c.AddHook(counter)
		s := goredis.New(c, nil)
		defer s.Close()
		ctx := testContext(t)
		keys := []string{"{a}1", "{b}1", "{a}2", "{c}1", "{b}2", "{a}1", "{missing}"}
		for _, k := range keys[:6] {
			if err := s.Set(ctx, k, []byte(k)); err != nil {
				t.Fatal(err)
			}
		}
		vals, err := s.GetMulti(ctx, keys)
		if err != nil {
			t.Fatal(err)
		}
		for i, k := range keys {
			want := kv.Value{Data: []byte(k), Found: k != "{missing}"}
			if vals[i].Found != want.Found || (want.Found && string(vals[i].Data) != k) {
				t.Errorf("GetMulti[%d] (%q) = %+v, want %q", i, k, vals[i], k)
			}
		}
		if got := counter.mgets(); got != 4 {
			t.Errorf("GetMulti of 4 slots sent %d MGETs, want 4", got)
		}
	})

	t.Run("WatchEveryMaster", func(t *testing.T) {
		s := goredis.New(newCluster(t), nil)
		defer s.Close()
		ctx := testContext(t)
		ch := backendtest.StartWatch(ctx, t, s, "wm:*")
		for _, k := range backendtest.KeyPerMaster(len(cl.Servers), "wm:") {
			backendtest.SetAndSee(ctx, t, s, ch, k)
		}
	})

	t.Run("ScanEveryMaster", func(t *testing.T) {
		s := goredis.New(newCluster(t), &goredis.Options{ScanCount: 1})
		defer s.Close()
		ctx := testContext(t)
		keys := backendtest.KeyPerMaster(len(cl.Servers), "sm:")
		for _, k := range keys {
			if err := s.Set(ctx, k, nil); err != nil {
				t.Fatal(err)
			}
		}
		got, err := kv.Keys(ctx, s, "sm:*")
		if err != nil || strings.Join(got, ",") != strings.Join(slices.Sorted(slices.Values(keys)), ",") {
			t.Errorf("Keys(sm:*) = %q, %v; want %q", got, err, keys)
		}
	})
}

// mgetCounter is a go-redis hook that counts MGET commands.
type mgetCounter struct {
	mu sync.Mutex
	n  int
}

func (h *mgetCounter) mgets() int {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.n
}

func (h *mgetCounter) DialHook(next redis.DialHook) redis.DialHook { return next }

func (h *mgetCounter) ProcessHook(next redis.ProcessHook) redis.ProcessHook {
	return func(ctx context.Context, cmd redis.Cmder) error {
		if cmd.Name() == "mget" {
			h.mu.Lock()
			h.n++
			h.mu.Unlock()
		}
		return next(ctx, cmd)
	}
}

func (h *mgetCounter) ProcessPipelineHook(next redis.ProcessPipelineHook) redis.ProcessPipelineHook {
	return func(ctx context.Context, cmds []redis.Cmder) error {
		for _, cmd := range cmds {
			if cmd.Name() == "mget" {
				h.mu.Lock()
				h.n++
				h.mu.Unlock()
			}
		}
		return next(ctx, cmds)
	}
}

// TestFailover fails over a cluster master and a Sentinel master, by a kill
// and gracefully, under load: calls keep their deadlines, the store serves
// every key again, and the watch follows the new master.
func TestFailover(t *testing.T) {
	backendtest.RunFailover(t, backendtest.FailoverBackend{
		NewCluster: func(t *testing.T, addrs []string) kv.Store {
			s := goredis.New(redis.NewClusterClient(&redis.ClusterOptions{Addrs: addrs, ContextTimeoutEnabled: true}),
				&goredis.Options{CloseClient: true, TopologyInterval: backendtest.FailoverInterval})
			t.Cleanup(func() { _ = s.Close() })
			return s
		},
		NewSentinel: func(t *testing.T, master string, addrs []string) kv.Store {
			s := goredis.New(redis.NewFailoverClient(&redis.FailoverOptions{MasterName: master, SentinelAddrs: addrs,
				ContextTimeoutEnabled: true}), &goredis.Options{CloseClient: true, TopologyInterval: backendtest.FailoverInterval})
			t.Cleanup(func() { _ = s.Close() })
			return s
		},
	})
}
