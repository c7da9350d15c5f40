package configstore_test

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
	"github.com/redis/rueidis"

	"github.com/cledar/storekit/backends/goredis"
	"github.com/cledar/storekit/backends/redisconf"
	"github.com/cledar/storekit/backends/rueidiskv"
	"github.com/cledar/storekit/configstore"
	"github.com/cledar/storekit/internal/backendtest"
	"github.com/cledar/storekit/internal/redistest"
	"github.com/cledar/storekit/kv"
)

// A failoverKind opens stores of one Redis backend over a cluster and over
// a Sentinel deployment.
type failoverKind struct {
	name     string
	cluster  func(t *testing.T, addrs []string) kv.Store
	sentinel func(t *testing.T, master string, addrs []string) kv.Store
}

var failoverKinds = []failoverKind{
	{
		name: "goredis",
		cluster: func(t *testing.T, addrs []string) kv.Store {
			return closeAtEnd(t, goredis.New(redis.NewClusterClient(&redis.ClusterOptions{Addrs: addrs, ContextTimeoutEnabled: true}),
				&goredis.Options{CloseClient: true, TopologyInterval: backendtest.FailoverInterval}))
		},
		sentinel: func(t *testing.T, master string, addrs []string) kv.Store {
			c := redis.NewFailoverClient(&redis.FailoverOptions{MasterName: master, SentinelAddrs: addrs, ContextTimeoutEnabled: true})
			return closeAtEnd(t, goredis.New(c, &goredis.Options{CloseClient: true, TopologyInterval: backendtest.FailoverInterval}))
		},
	},
	{
		name: "rueidis",
		cluster: func(t *testing.T, addrs []string) kv.Store {
			return openRueidis(t, rueidis.ClientOption{InitAddress: addrs})
		},
		sentinel: func(t *testing.T, master string, addrs []string) kv.Store {
			return openRueidis(t, rueidis.ClientOption{InitAddress: addrs, Sentinel: rueidis.SentinelOption{MasterSet: master}})
		},
	},
}

func closeAtEnd(t *testing.T, s kv.Store) kv.Store {
	t.Cleanup(func() { _ = s.Close() })
	return s
}

// openRueidis returns a rueidiskv store, with its cache, made by Open.
func openRueidis(t *testing.T, opt rueidis.ClientOption) kv.Store {
	t.Helper()
	s, err := rueidiskv.Open(backendtest.Context(t), opt, &rueidiskv.Options{Options: redisconf.Options{TopologyInterval: backendtest.FailoverInterval}})
	if err != nil {
		t.Fatalf("rueidiskv.Open(%v): %v", opt.InitAddress, err)
	}
	return closeAtEnd(t, s)
}

// TestRedisFailover (R17): a config store whose keys are updated without
// pause by another client converges, every watcher and Fetch at each key's
// final version, after a cluster master is killed and after a Sentinel
// failover, on both Redis backends.
func TestRedisFailover(t *testing.T) {
	for _, kind := range failoverKinds {
		t.Run(kind.name, func(t *testing.T) {
			t.Run("ClusterKill", func(t *testing.T) {
				cl := redistest.StartClusterWith(t, &redistest.ClusterOptions{Masters: 3, Replicas: 1, NodeTimeout: 2 * time.Second})
				reader, writer := kind.cluster(t, cl.Addrs()), kind.cluster(t, cl.Addrs())
				testFailover(t, reader, writer, func(key string) { cl.KillMaster(cl.MasterOf(key)) })
			})
			t.Run("SentinelGraceful", func(t *testing.T) {
				sn := redistest.StartSentinel(t, nil)
				reader := kind.sentinel(t, sn.MasterName(), sn.SentinelAddrs())
				writer := kind.sentinel(t, sn.MasterName(), sn.SentinelAddrs())
				testFailover(t, reader, writer, func(string) { sn.Failover() })
			})
		})
	}
}

// testFailover watches keys through a config store over reader while a
// config store over writer updates them in turn; runs fault (given a key
// of the test, whose master it may fail); stops the writer once every key
// took a write after the fault; and waits until every watcher and Fetch
// report each key's latest version, as the writer's store reads it.
func testFailover(t *testing.T, reader, writer kv.Store, fault func(key string)) {
	const (
		prefix = "r17:"
		nKeys  = 12
	)
	c := open(t, reader, &configstore.Options[Conf]{Prefix: prefix})
	w := open(t, writer, &configstore.Options[Conf]{Prefix: prefix})
	ctx := backendtest.Context(t)
	keys := make([]string, nKeys)
	recs := make([]*recorder, nKeys)
	for i := range keys {
		keys[i] = fmt.Sprintf("k%02d", i)
		if _, err := w.Update(ctx, keys[i], conf(0)); err != nil {
			t.Fatal(err)
		}
		recs[i] = newRecorder()
		watch(t, c, keys[i], recs[i])
	}

	var (
		mu      sync.Mutex
		written = make(map[string]time.Time) // key -> its last acknowledged update
		stop    = make(chan struct{})
		wg      sync.WaitGroup
	)
	wg.Go(func() {
		for i := 1; ; i++ {
			select {
			case <-stop:
				return
			default:
			}
			k := keys[i%nKeys]
			uctx, cancel := context.WithTimeout(ctx, time.Second)
			_, err := w.Update(uctx, k, conf(i))
			cancel()
			if err == nil {
				mu.Lock()
				written[k] = time.Now()
				mu.Unlock()
			}
		}
	})
	time.Sleep(300 * time.Millisecond)
	fault(prefix + keys[0])
	served := time.Now()
	backendtest.Eventually(t, "every key updated after the failover", func() error {
		mu.Lock()
		defer mu.Unlock()
		for _, k := range keys {
			if !written[k].After(served) {
				return fmt.Errorf("%s not updated since the failover", k)
			}
		}
		return nil
	})
	close(stop)
	wg.Wait()
	stopped := time.Now()

	converged := func() error {
		for i, k := range keys {
			version, err := w.Version(ctx, k)
			if err != nil {
				return err
			}
			entry, err := w.At(ctx, k, version)
			if err != nil {
				return err
			}
			ev, ok := recs[i].last()
			if !ok || ev.Kind != configstore.Updated || ev.Version != version || ev.Value.Index != entry.Index {
				return fmt.Errorf("watcher of %s: last event %+v, want version %d index %d", k, ev, version, entry.Index)
			}
			if err := fetchIs(c, k, version, entry.Index)(); err != nil {
				return fmt.Errorf("%s: %w", k, err)
			}
		}
		return nil
	}
	waitConverged(t, converged)
	t.Logf("converged %v after the last write (writes resumed on every key %v after the new master served)",
		time.Since(stopped).Round(time.Millisecond), stopped.Sub(served).Round(time.Millisecond))
}
