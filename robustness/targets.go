package robustness

import (
	"context"
	"net"
	"strconv"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/cledar/storekit/backends/goredis"
	"github.com/cledar/storekit/backends/memory"
	"github.com/cledar/storekit/backends/postgres"
	"github.com/cledar/storekit/backends/postgres/pgtest"
	"github.com/cledar/storekit/backends/redisconf"
	"github.com/cledar/storekit/backends/rueidiskv"
	"github.com/cledar/storekit/internal/redistest"
	"github.com/cledar/storekit/kv"
)

// A Target is one backend, in one deployment, that the checks run against.
type Target struct {
	// Name identifies the target in test names and failure reports:
	// memory, goredis, rueidiskv, rueidiskv-nocache (each followed by
	// "/cluster" on a Redis Cluster), goredis/miniredis,
	// rueidiskv-nocache/miniredis, postgres.
	Name string
	// New returns a new store on the target; tb's cleanup closes it. Two
	// stores of one New share their data (they are two clients of one
	// server), except on memory, where New returns the same store.
	New func(tb testing.TB) kv.Store
	// Cluster reports a Redis Cluster, where a bulk call is atomic per slot
	// only.
	Cluster bool
	// Advance, when set, moves the server's clock on by a duration: time
	// passes on the server only when Advance is called (miniredis), so a
	// check passes time with Advance instead of sleeping, and compares
	// TTLs exactly.
	Advance func(time.Duration)
	// NoNotifications reports a server that sends no keyspace
	// notifications (miniredis): a watch on it opens and reports nothing,
	// so the checks do not watch it.
	NoNotifications bool
	// AddCounter, when set, is how the server's INCRBY adds to a value
	// where it departs from Redis's (kv.AddCounter): the checks expect
	// it of the target (miniredis, see miniredisAddCounter).
	AddCounter func(value []byte, delta int64) (int64, error)
}

// Targets returns the targets of the checks: memory; goredis, rueidiskv
// with its client-side cache and rueidiskv without it, each on a
// redis-server of its own and on a local Redis Cluster of three masters
// (both started for tb); goredis and rueidiskv without its cache, each on
// a miniredis server of its own (see miniredisTargets); and postgres, in a
// schema of its own. Where
// redis-server or a PostgreSQL server cannot be found, tb is skipped, or
// fails when STOREKIT_REQUIRE_REDIS or STOREKIT_REQUIRE_POSTGRES asks for
// one (see packages redistest and pgtest).
func Targets(tb testing.TB) []Target {
	tb.Helper()
	mem := memory.New(nil)
	tb.Cleanup(func() { mem.Close() })
	targets := []Target{{Name: "memory", New: func(testing.TB) kv.Store { return mem }}}

	srv := redistest.Start(tb, nil)
	cl := redistest.StartCluster(tb, 3)
	for _, dep := range []struct {
		suffix  string
		cfg     redisconf.Config
		cluster bool
	}{
		{"", hostPort(tb, srv.Addr()), false},
		{"/cluster", redisconf.Config{ClusterAddrs: cl.Addrs()}, true},
	} {
		for _, k := range redisKinds {
			targets = append(targets, Target{Name: k.name + dep.suffix, Cluster: dep.cluster, New: func(tb testing.TB) kv.Store {
				return opened(tb, func(ctx context.Context) (kv.Store, error) { return k.open(ctx, dep.cfg) })
			}})
		}
	}

	targets = append(targets, miniredisTargets(tb)...)

	pool, schema := pgtest.Pool(tb, "")
	targets = append(targets, Target{Name: "postgres", New: func(tb testing.TB) kv.Store {
		return postgresStore(tb, pool, schema)
	}})
	return targets
}

// A redisKind is one of the Redis stores the checks run, opened on any
// deployment.
type redisKind struct {
	name string
	open func(ctx context.Context, cfg redisconf.Config) (kv.Store, error)
	// resends is set for a store whose client re-sends a call when its
	// connection breaks (go-redis), cached for one that reads through a
	// client-side cache.
	resends, cached bool
}

// redisKinds are goredis, rueidiskv with its client-side cache and
// rueidiskv without it.
var redisKinds = []redisKind{
	{name: "goredis", resends: true, open: func(ctx context.Context, cfg redisconf.Config) (kv.Store, error) {
		return goredis.Dial(ctx, cfg, nil)
	}},
	{name: "rueidiskv", cached: true, open: func(ctx context.Context, cfg redisconf.Config) (kv.Store, error) {
		return rueidiskv.Dial(ctx, cfg, nil)
	}},
	{name: "rueidiskv-nocache", open: func(ctx context.Context, cfg redisconf.Config) (kv.Store, error) {
		return rueidiskv.Dial(ctx, cfg, &rueidiskv.Options{DisableCache: true})
	}},
}

// postgresStore returns a new postgres store on pool, in schema (its table
// created on first use, expired rows swept every 100 ms), closed when tb
// ends.
func postgresStore(tb testing.TB, pool *pgxpool.Pool, schema string) kv.Store {
	tb.Helper()
	s, err := postgres.New(pool, &postgres.Options{Schema: schema, CreateSchema: true, SweepInterval: 100 * time.Millisecond})
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { s.Close() })
	return s
}

// hostPort returns the Config of the one server at addr.
func hostPort(tb testing.TB, addr string) redisconf.Config {
	tb.Helper()
	host, port, err := net.SplitHostPort(addr)
	if err != nil {
		tb.Fatal(err)
	}
	n, err := strconv.Atoi(port)
	if err != nil {
		tb.Fatal(err)
	}
	return redisconf.Config{Host: host, Port: n}
}

// opened returns the store open makes, failing tb if it fails, and closes
// it when tb ends.
func opened(tb testing.TB, open func(context.Context) (kv.Store, error)) kv.Store {
	tb.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	s, err := open(ctx)
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { s.Close() })
	return s
}
