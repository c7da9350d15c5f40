package robustness

import (
	"context"
	"testing"
	"time"

	"github.com/anishathalye/porcupine"

	"github.com/cledar/storekit/backends/memory"
	"github.com/cledar/storekit/backends/postgres/pgtest"
	"github.com/cledar/storekit/backends/redisconf"
	"github.com/cledar/storekit/internal/redistest"
	"github.com/cledar/storekit/kv"
)

// Settings of the linearizability tests. In soak mode (STOREKIT_SOAK set)
// the clients run longer between faults and there are more of them.
const (
	lockTTL   = 2 * time.Second
	opTimeout = time.Second
	// cacheStale is how long after another client's write a read through
	// rueidiskv's client-side cache may still return the value the write
	// replaced (see TestLinearizable): the bound of reliability target R3
	// (an invalidation is seen within a second of the write).
	cacheStale = time.Second
	// checkTimeout bounds porcupine's search of one history.
	checkTimeout = 30 * time.Second
)

// phase is how long the clients run before, between and after faults.
func phase() time.Duration {
	if soaking() {
		return 5 * time.Second
	}
	return 700 * time.Millisecond
}

// clientsPerBackend is how many clients, each a store of its own, each
// backend runs.
func clientsPerBackend() int {
	if soaking() {
		return 5
	}
	return 3
}

// A backend is one history of a scenario: clients, each a store of its
// own, on keys of their own.
type backend struct {
	name   string
	stores []kv.Store
	// stale is the staleness allowed to each client's Gets (see
	// CheckOptions.Stale).
	stale time.Duration
	// resend is set for a backend whose client re-sends a call when its
	// connection breaks (see CheckOptions.Resend).
	resend bool
}

// redisBackends returns goredis, rueidiskv with its client-side cache
// and rueidiskv without it, each with n clients on the deployment cfg
// describes.
func redisBackends(t *testing.T, cfg redisconf.Config, n int) []backend {
	t.Helper()
	var bs []backend
	for _, k := range redisKinds {
		b := backend{name: k.name, resend: k.resends}
		if k.cached {
			b.stale = cacheStale
		}
		for range n {
			b.stores = append(b.stores, opened(t, func(ctx context.Context) (kv.Store, error) { return k.open(ctx, cfg) }))
		}
		bs = append(bs, b)
	}
	return bs
}

// runScenario runs the workload of every backend at once, each on keys of
// its own, for a phase, then each fault in turn followed by a phase, then
// checks each backend's history and fails t on a violation.
func runScenario(t *testing.T, seed uint64, bs []backend, faults func(hs []*History)) {
	t.Helper()
	root := NewHistory()
	hs := make([]*History, len(bs))
	stop := make(chan struct{})
	done := make(chan error, len(bs))
	for i, b := range bs {
		hs[i] = root.Sibling()
		w := Workload{
			Prefix:    "lin:" + t.Name() + ":" + b.name + ":",
			Registers: 3, Counters: 1,
			LockTTL: lockTTL, OpTimeout: opTimeout,
			Pause: 2 * time.Millisecond,
			Seed:  seed + uint64(i),
		}
		go func() { done <- w.Run(hs[i], 0, b.stores, stop) }()
	}
	time.Sleep(phase())
	if faults != nil {
		faults(hs)
	}
	// After a lossy fault the check leaves out lossySettle's calls: the
	// last phase runs past them, so that calls after the failover are
	// checked too.
	time.Sleep(lossySettle + phase())
	close(stop)
	for range bs {
		if err := <-done; err != nil {
			t.Error(err)
		}
	}
	for i, b := range bs {
		stale := make(map[int]time.Duration)
		for c := range b.stores {
			stale[c] = b.stale
		}
		started := time.Now()
		res := Check(hs[i], CheckOptions{LockTTL: lockTTL, Stale: stale, Resend: b.resend, Timeout: checkTimeout})
		t.Logf("%s: %v (faults: %s; checked in %v)", b.name, res, faultNames(hs[i]), time.Since(started).Round(time.Millisecond))
		if res.Result == porcupine.Unknown {
			t.Logf("%s: porcupine could not decide within %v: no violation found, none ruled out", b.name, checkTimeout)
		}
		if res.Failed() {
			t.Errorf("%s: the history is not linearizable: %v\n%s", b.name, res, res.Explanation)
		}
	}
}

// faultNames lists the faults of h for the log.
func faultNames(h *History) string {
	s := ""
	for _, f := range h.Faults() {
		if s != "" {
			s += ", "
		}
		s += f.Name
		if f.Lossy {
			s += " (may lose writes)"
		}
	}
	if s == "" {
		return "none"
	}
	return s
}

// TestLinearizable records histories of concurrent clients of every
// backend while faults are injected, and checks that each is linearizable
// against Model, as kv's documentation on faults and failovers promises:
//
//   - memory: concurrency alone;
//   - a redis-server with appendfsync always, behind a proxy: connections
//     cut, black-holed for a while, the server paused (SIGSTOP) and killed
//     and restarted; no acknowledged write may be lost;
//   - a redis-server without persistence killed and restarted empty, which
//     loses every write: the check lets every key go back once;
//   - a Redis Cluster: a master killed and replaced by its replica, which
//     may lose acknowledged writes: the check lets every key go back to an
//     earlier value once, during the failover, and leaves out the calls
//     that overlap it; a graceful failover (CLUSTER FAILOVER), checked the
//     same way, since histories across one were seen to lose writes too
//     (see kv's documentation);
//   - Redis Sentinel: a SENTINEL FAILOVER, which may lose writes too;
//   - postgres: the store's server connections ended with
//     pg_terminate_backend.
//
// goredis's client re-sends a command whose connection broke, which the
// server may have run already: its calls that overlap a fault are of
// unknown outcome, and a write among them may take effect twice (see
// CheckOptions.Resend). Reads through rueidiskv's client-side cache are
// linearizable with the writes of their own store only; another store's writes reach them when
// the invalidation arrives, so their Gets may return a value replaced up
// to cacheStale before they started, never one that their own store's
// write, returned before they started, replaced.
func TestLinearizable(t *testing.T) {
	seed := runSeed(t)
	t.Logf("seed %d (%s=%d reproduces the clients' choices)", seed, envSeed, seed)
	n := clientsPerBackend()

	t.Run("memory", func(t *testing.T) {
		s := memory.New(nil)
		t.Cleanup(func() { s.Close() })
		stores := make([]kv.Store, n+1)
		for i := range stores {
			stores[i] = s
		}
		runScenario(t, seed, []backend{{name: "memory", stores: stores}}, nil)
	})

	t.Run("redis", func(t *testing.T) {
		srv := redistest.Start(t, &redistest.Options{Args: []string{"--appendonly", "yes", "--appendfsync", "always"}})
		proxy := redistest.StartProxy(t, srv.Addr())
		runScenario(t, seed, redisBackends(t, hostPort(t, proxy.Addr()), n), func(hs []*History) {
			Inject(hs, "connections cut", false, proxy.CutAll)
			time.Sleep(phase())
			Inject(hs, "network black hole", false, func() {
				proxy.Blackhole()
				time.Sleep(1500 * time.Millisecond)
				proxy.Restore()
			})
			time.Sleep(phase())
			Inject(hs, "server paused", false, func() { Pause(t, srv, 1500*time.Millisecond) })
			time.Sleep(phase())
			Inject(hs, "server killed and restarted", false, func() {
				srv.Kill()
				srv.Restart()
			})
		})
	})

	t.Run("redis-no-persistence", func(t *testing.T) {
		srv := redistest.Start(t, nil)
		runScenario(t, seed, redisBackends(t, hostPort(t, srv.Addr()), n), func(hs []*History) {
			Inject(hs, "server killed and restarted empty", true, func() {
				srv.Kill()
				srv.Restart()
			})
		})
	})

	t.Run("cluster", func(t *testing.T) {
		cl := redistest.StartClusterWith(t, &redistest.ClusterOptions{Masters: 3, Replicas: 1, NodeTimeout: 2 * time.Second})
		bs := redisBackends(t, redisconf.Config{ClusterAddrs: cl.Addrs()}, n)
		key := "lin:" + t.Name() + ":goredis:r0"
		runScenario(t, seed, bs, func(hs []*History) {
			Inject(hs, "graceful failover", true, func() { cl.Failover(cl.ReplicasOf(cl.MasterOf(key))[0]) })
			time.Sleep(lossySettle + phase())
			Inject(hs, "master killed, replica promoted", true, func() { cl.KillMaster(cl.MasterOf(key)) })
		})
	})

	t.Run("sentinel", func(t *testing.T) {
		sn := redistest.StartSentinel(t, nil)
		cfg := redisconf.Config{MasterName: sn.MasterName(), SentinelAddrs: sn.SentinelAddrs()}
		runScenario(t, seed, redisBackends(t, cfg, n), func(hs []*History) {
			Inject(hs, "sentinel failover", true, func() {
				sn.Failover()
				sn.Settle()
			})
		})
	})

	t.Run("postgres", func(t *testing.T) {
		app := pgtest.Name("storekit-linear-")
		pool, schema := pgtest.Pool(t, app)
		stores := make([]kv.Store, n)
		for i := range stores {
			stores[i] = postgresStore(t, pool, schema)
		}
		runScenario(t, seed, []backend{{name: "postgres", stores: stores}}, func(hs []*History) {
			for i := range 3 {
				if i > 0 {
					time.Sleep(phase() / 2)
				}
				Inject(hs, "connections terminated", false, func() {
					t.Logf("pg_terminate_backend ended %d connections", TerminateBackends(t, pool, app))
				})
			}
		})
	})
}
