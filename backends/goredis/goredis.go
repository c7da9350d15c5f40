package goredis

import (
	"context"

	"github.com/redis/go-redis/v9"

	"github.com/cledar/storekit/backends/redisconf"
	"github.com/cledar/storekit/internal/rediskv"
	"github.com/cledar/storekit/metrics"
)

// A Store has every capability of package kv (rediskv.Capabilities lists
// them).
var _ rediskv.Capabilities = (*Store)(nil)

// DefaultScanCount is the COUNT hint of each SCAN call when
// Options.ScanCount is zero.
const DefaultScanCount = rediskv.DefaultScanCount

// Options configure a [Store]: the settings every Redis backend has, from
// package redisconf (Logger, CloseClient, ScanCount, EnableKeyspaceEvents,
// WatchBuffer, TopologyInterval), and SeparatePipelines, which only this
// package reads (see "Shared pipelines" in the package documentation). The
// zero value, like a nil *Options, gives the defaults. go-redis's own
// messages go to its process-wide logger (standard error by default); send
// them to Logger too with [RouteClientLogs].
type Options = redisconf.Options

// A Store is a [kv.Store] over a go-redis client, with every optional
// capability of package kv: its methods Get, Set, Delete, GetMulti, Scan,
// SetWithTTL, TTL, Watch, Append, Latest, LatestMulti, At, History, Prune,
// SetIfAbsent, CompareAndSwap, CompareAndDelete, Incr, Expire, Persist,
// GetWithTTL, SetMulti, DeleteMulti, AppendIf and Close implement them as
// the package documentation says (the kv interfaces document what each
// does), and Ping checks the server. It is safe for
// concurrent use. Create it with [New] or [Dial].
type Store struct {
	*redisStore
	a *adapter // the client, and the pipelines the bulk calls share
}

// redisStore is the Redis logic that both Redis backends share.
type redisStore = rediskv.Store

// New returns a store over client, which may be a *redis.Client (standalone
// or sentinel failover), a *redis.ClusterClient or a *redis.Ring. opts may be
// nil; New keeps a copy of it. Unless opts.CloseClient is set, Close leaves
// client open.
//
// Build client with ContextTimeoutEnabled set in its options: without it,
// go-redis bounds a call's network reads and writes by its ReadTimeout and
// WriteTimeout instead of the call's context, so a call against a paused or
// unreachable server runs past its deadline. New logs a warning for such a
// client.
func New(client redis.UniversalClient, opts *Options) *Store {
	var o Options
	if opts != nil {
		o = *opts
	}
	var h rediskv.Hooks
	a := &adapter{c: client}
	if cc, ok := client.(*redis.ClusterClient); ok {
		if !o.SeparatePipelines {
			a.pipes = newPipelines(cc, defaultPipelines())
		}
		// go-redis reloads a cluster's topology by itself only on a MOVED
		// or READONLY reply, or once the topology it holds is some seconds
		// old: writes to a master that died would keep going to the dead
		// node. The reload runs in the background, one at a time.
		h.Unreachable = func() { cc.ReloadState(context.Background()) }
		// A watch reads the topology the client holds: have it read anew.
		h.Topology = cc.ReloadState
	}
	if !honoursDeadlines(client) {
		o.Log().Warn("goredis: the client was built without ContextTimeoutEnabled, so a call may run past its " +
			"context's deadline, up to the client's ReadTimeout and WriteTimeout (seconds by default): " +
			"set ContextTimeoutEnabled in the client's options")
	}
	return &Store{redisStore: rediskv.New(a, "goredis", o, h), a: a}
}

// honoursDeadlines reports whether client bounds its network reads and
// writes by a call's context (ContextTimeoutEnabled). A client of a type
// this package does not know is assumed to.
func honoursDeadlines(client redis.UniversalClient) bool {
	switch c := client.(type) {
	case *redis.Client:
		return c.Options().ContextTimeoutEnabled
	case *redis.ClusterClient:
		return c.Options().ContextTimeoutEnabled
	case *redis.Ring:
		return c.Options().ContextTimeoutEnabled
	}
	return true
}

// Client returns the client the store uses.
func (s *Store) Client() redis.UniversalClient { return s.a.c }

// Metrics implements [metrics.Source]: the store's operations, their
// failures by kind, and its watches' events.
func (s *Store) Metrics() metrics.Snapshot { return s.redisStore.Metrics() }
