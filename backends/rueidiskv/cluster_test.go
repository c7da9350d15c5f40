package rueidiskv_test

import (
	"fmt"
	"testing"
	"time"

	"github.com/redis/rueidis"

	"github.com/cledar/storekit/backends/redisconf"
	"github.com/cledar/storekit/backends/rueidiskv"
	"github.com/cledar/storekit/internal/backendtest"
	"github.com/cledar/storekit/kv"
)

// TestCluster runs on a three-master Redis Cluster: the conformance suite
// with the cache on (bulk reads span slots, Scan and Watch span masters),
// plus checks of how the store spreads its work, cached and uncached, and
// that every master's invalidations reach the cache.
func TestCluster(t *testing.T) {
	cl := backendtest.RunCluster(t,
		backendtest.ClusterVariant{Name: "cached", Cached: true, New: func(t *testing.T, addrs []string, o redisconf.Options) kv.Store {
			return openStoreWith(t, rueidis.ClientOption{InitAddress: addrs}, &rueidiskv.Options{Options: o})
		}},
		backendtest.ClusterVariant{Name: "uncached", New: func(t *testing.T, addrs []string, o redisconf.Options) kv.Store {
			return openStoreWith(t, rueidis.ClientOption{InitAddress: addrs}, &rueidiskv.Options{Options: o, DisableCache: true})
		}})

	t.Run("InvalidationsFromEveryMaster", func(t *testing.T) {
		s := openStoreWith(t, rueidis.ClientOption{InitAddress: cl.Addrs()}, nil)
		ctx := testContext(t)
		keys := backendtest.KeyPerMaster(len(cl.Servers), "inv:")
		for i, k := range keys {
			if err := s.Set(ctx, k, []byte("old")); err != nil {
				t.Fatal(err)
			}
			if _, err := s.Get(ctx, k); err != nil {
				t.Fatal(err)
			}
			cl.Servers[i].MustDo("SET", k, "new")
			backendtest.Eventually(t, "the new value of "+k, func() error {
				v, err := s.Get(ctx, k)
				if err == nil && string(v) != "new" {
					err = fmt.Errorf("Get(%q) = %q", k, v)
				}
				return err
			})
		}
		deadline := time.Now().Add(15 * time.Second)
		for s.Stats().Invalidations < uint64(len(keys)) && time.Now().Before(deadline) {
			time.Sleep(time.Millisecond)
		}
		if st := s.Stats(); st.Invalidations < uint64(len(keys)) {
			t.Errorf("stats = %+v, want an invalidation from each master", st)
		}
	})
}

// TestFailover fails over a cluster master and a Sentinel master, by a kill
// and gracefully, under load, with the cache on: calls keep their
// deadlines, the store serves every key again, and the watch follows the
// new master.
func TestFailover(t *testing.T) {
	backendtest.RunFailover(t, backendtest.FailoverBackend{
		NewCluster: func(t *testing.T, addrs []string) kv.Store {
			return openStoreWith(t, rueidis.ClientOption{InitAddress: addrs},
				&rueidiskv.Options{Options: redisconf.Options{TopologyInterval: backendtest.FailoverInterval}})
		},
		NewSentinel: func(t *testing.T, master string, addrs []string) kv.Store {
			return openStoreWith(t, rueidis.ClientOption{InitAddress: addrs, Sentinel: rueidis.SentinelOption{MasterSet: master}},
				&rueidiskv.Options{Options: redisconf.Options{TopologyInterval: backendtest.FailoverInterval}})
		},
	})
}
