package benchmarks

import (
	"context"
	"os"
	"testing"

	"github.com/redis/go-redis/v9"

	"github.com/cledar/storekit/internal/redistest"
)

// The servers of the benchmarks of the data path (BenchmarkStores,
// BenchmarkLock, BenchmarkTyped, BenchmarkCluster) are set as Redis ships:
// without the keyspace notifications internal/redistest turns on for the
// watches of the tests, which cost the server two published events for
// every key written. The config store's benchmarks watch, and keep them.

// newPlainServer returns the address of a redis-server of
// internal/redistest with keyspace notifications off. A server named by
// STOREKIT_REDIS_ADDR is used as it is.
func newPlainServer(tb testing.TB) string {
	s := redistest.New(tb)
	if s.Owned() {
		unnotify(s)
	}
	return s.Addr()
}

// newPlainCluster starts a cluster of masters with keyspace notifications
// off and returns its addresses.
func newPlainCluster(tb testing.TB, masters int) []string {
	cl := redistest.StartCluster(tb, masters)
	for _, s := range cl.All() {
		unnotify(s)
	}
	return cl.Addrs()
}

func unnotify(s *redistest.Server) {
	s.MustDo("CONFIG", "SET", "notify-keyspace-events", "")
}

// TestPlainServers checks that the data path's servers, the one and the
// cluster's masters, have keyspace notifications off.
func TestPlainServers(t *testing.T) {
	ctx := context.Background()
	check := func(t *testing.T, addr string) {
		c := redis.NewClient(&redis.Options{Addr: addr})
		defer c.Close()
		notify, err := c.ConfigGet(ctx, "notify-keyspace-events").Result()
		if err != nil {
			t.Fatal(err)
		}
		if got := notify["notify-keyspace-events"]; got != "" {
			t.Errorf("%s: notify-keyspace-events = %q, want \"\" (off, as Redis ships)", addr, got)
		}
	}
	t.Run("server", func(t *testing.T) {
		if os.Getenv(redistest.EnvAddr) != "" {
			t.Skipf("SKIPPED: %s names a server of its own, used as it is", redistest.EnvAddr)
		}
		check(t, newPlainServer(t))
	})
	t.Run("cluster", func(t *testing.T) {
		for _, addr := range newPlainCluster(t, clusterMasters) {
			check(t, addr)
		}
	})
}
