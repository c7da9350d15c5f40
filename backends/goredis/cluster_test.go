package goredis_test

import (
	"testing"

	"github.com/redis/go-redis/v9"

	"github.com/cledar/storekit/backends/goredis"
	"github.com/cledar/storekit/internal/backendtest"
	"github.com/cledar/storekit/kv"
)

// TestCluster runs on a three-master Redis Cluster: the conformance suite
// (bulk reads span slots, Scan and Watch span masters), plus checks of how
// the store spreads its work.
func TestCluster(t *testing.T) {
	backendtest.RunCluster(t, backendtest.ClusterVariant{Name: "default",
		New: func(t *testing.T, addrs []string, o goredis.Options) kv.Store {
			o.CloseClient = true
			s := goredis.New(redis.NewClusterClient(&redis.ClusterOptions{Addrs: addrs}), &o)
			t.Cleanup(func() { _ = s.Close() })
			return s
		}})
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
