// Package goredis is a storekit backend over a go-redis v9 client
// (github.com/redis/go-redis/v9): a [kv.Store] with every optional
// capability of package kv.
//
//	client := redis.NewClient(&redis.Options{Addr: "localhost:6379", ContextTimeoutEnabled: true})
//	store := goredis.New(client, nil) // the caller keeps owning client
//	defer store.Close()
//
// [New] takes any redis.UniversalClient: a *redis.Client (standalone, or a
// sentinel failover client), a *redis.ClusterClient or a *redis.Ring. [Dial]
// builds the client a [Config] describes (one server from a host, port,
// database and password, a cluster from its seeds, or a Sentinel
// deployment), and [DialURL] the one a URL such as
// redis://user:password@host:6379/0 describes (see package redisconf); both
// check it with PING and return a store that owns it.
//
// # Capabilities
//
//	kv.Store                 GET, SET, DEL
//	kv.MultiGetter           one MGET; one MGET per hash slot on a cluster; pipelined GETs on a ring
//	kv.Scanner               SCAN MATCH pattern COUNT Options.ScanCount, on every master or shard
//	kv.Expirer               SET PX (ttl rounded up to a millisecond), PTTL
//	kv.Watcher               PSUBSCRIBE __keyspace@<db>__:<pattern> (keyspace notifications)
//	kv.Historian             a list per key, RPUSH, newest last; Lua scripts for Append and Latest
//	kv.MultiLatest           a Lua script of up to 256 latest-reads per call, per hash slot on a cluster, pipelined
//	kv.Pruner                LSET index "" on old entries, in a Lua script (one OpSet per entry emptied)
//	kv.Conditional           SET NX [PX]; Lua scripts for CompareAndSwap (GET, compare, SET KEEPTTL or PX) and CompareAndDelete
//	kv.Counter               INCRBY (keeps the expiry)
//	kv.ExpiryChanger         PEXPIRE; Persist and GetWithTTL (GET and PTTL at once) as Lua scripts
//	kv.BulkWriter            MSET, or a Lua script of SET [PX] when a TTL is given, and DEL: see "Bulk writes"
//	kv.ConditionalHistorian  Append's Lua script, given the version expected (LLEN; 1 for a plain value)
//
// The history layout is the one of the Python config store this library
// grew from: a list, oldest entry first, where a plain string key counts as
// a history of one entry and Append converts it (GET, DEL, RPUSH old new, in
// one script) so both can share keys.
//
// Every method checks, before it sends anything, that the store is open and
// the context is not done, so a call with a cancelled context writes
// nothing. Get, Set and Delete add no work beyond that to go-redis's own.
//
// Every call returns by its context's deadline only if the client was built
// with ContextTimeoutEnabled: without it, go-redis waits for a paused or
// unreachable server until its own ReadTimeout and WriteTimeout (seconds by
// default), whatever the deadline. Dial sets it; build your own clients with
// it, as [New] warns when it is off:
//
//	client := redis.NewClient(&redis.Options{Addr: "localhost:6379", ContextTimeoutEnabled: true})
//
// # Bulk writes
//
// SetMulti and DeleteMulti write each group of keys in one atomic command
// (SetMulti: MSET, or a Lua script of SET and SET PX when an item of the
// group has a TTL; DeleteMulti: DEL). On one server (standalone, or
// Sentinel's master) the group is every key of the call: all of it takes
// effect at once, or none of it. On a cluster there is one group per hash
// slot, and all groups are sent at once, pipelined, so every master gets its
// groups in one round trip and the masters work in parallel; each slot's
// keys change atomically, but the slots do not change together. On a
// *redis.Ring each key is its own group (a pipeline of SET or DEL), since a
// ring spreads keys by itself.
//
// A key given twice is written once (SetMulti: the last item wins). When
// every group fails, the error is the first group's and nothing was written
// (on a lost reply the outcome is unknown, as for Set). When some groups
// fail and others succeed, the error is a [*kv.BulkError]: its Done marks
// the items (or keys) of the groups that succeeded, its Err is the first
// group's error (with its kv sentinel, such as kv.ErrPermission for an ACL
// denial of a key), and DeleteMulti's count is of the keys that the
// successful groups removed.
//
// # Shared pipelines
//
// On a cluster, a bulk call over several hash slots (GetMulti, SetMulti,
// DeleteMulti, LatestMulti, and the config store's re-reads) sends its
// commands in a go-redis pipeline, which go-redis splits by node, taking a
// connection of each node's pool for it. When many calls run at once, those
// pipelines cost more than their commands: so a store keeps at most
// GOMAXPROCS pipelines (four at least) in flight, each call in one of its
// own while fewer are, and the calls that arrive while that many are in
// flight wait and go out together, as soon as one in flight ends, in one
// pipeline of 4096 commands at most (a call of more goes alone). A lone
// call waits for nothing. Each call still gets its own replies and errors,
// and returns by its own context's deadline, or when its context is
// cancelled: a call that has not gone out yet then sends nothing; one whose
// pipeline has gone out may still take effect, as any call cut short on the
// network (see "Unknown outcomes" in package kv).
//
// Two things follow. A pipeline hook of the client (go-redis's AddHook, as
// tracing instruments use) may see one pipeline holding several calls'
// commands, run under the values of the first call's context, without its
// cancellation, and with the latest deadline of the calls (none if one has
// none). And the store copies the values of a SetMulti whose context can
// end (one with a Done channel), since its commands may go out after it
// returned. Set Options.SeparatePipelines to send every call in a pipeline
// of its own.
//
// # Options
//
// [Options] is redisconf.Options, the settings every Redis backend has: the
// logger (zap; values and passwords are never logged; [RouteClientLogs]
// sends go-redis's own messages to a zap logger too), whether Close closes
// the client (CloseClient; off by default, since the caller owns the
// client), the SCAN COUNT hint (ScanCount, default 1000), whether Watch may
// turn keyspace notifications on (EnableKeyspaceEvents), the number of
// events a watch buffers for a slow consumer (WatchBuffer, default 1024),
// how often a watch reads the topology to follow a failover
// (TopologyInterval, default one second), and whether each bulk call on a
// cluster has a pipeline of its own (SeparatePipelines, see "Shared
// pipelines"). New copies the options; a nil *Options means the defaults.
//
// # Errors
//
// Errors wrap both a kv sentinel (or the context's error) and go-redis's own
// error, so [errors.Is] and [errors.As] both work; their text starts with
// "goredis: " and the operation and key, and never holds a value or a
// password.
//
//	redis.Nil                                           kv.ErrNotFound
//	dial failure, EOF, connection reset or refused,     kv.ErrUnavailable
//	broken pipe, network timeout, pool timeout,
//	closed client
//	error replies LOADING, BUSY, MASTERDOWN,            kv.ErrUnavailable
//	CLUSTERDOWN, TRYAGAIN, READONLY, NOREPLICAS,
//	"max number of clients reached"
//	error replies NOPERM (an ACL denial), NOAUTH,       kv.ErrPermission
//	WRONGPASS
//	error reply OOM (maxmemory reached)                 kv.ErrFull
//	error reply WRONGTYPE                               kv.ErrWrongType
//	the caller's context ended                          context.Canceled or context.DeadlineExceeded
//	any other error reply                               an operation error: only the redis.Error
//	after Close                                         kv.ErrClosed
//
// [kv.Retryable] is true for kv.ErrUnavailable and kv.ErrFull only. A Dial
// that the server refuses says what to do: a user whose ACL lacks PING is
// told the ACL SETUSER that grants it, a refused password to check the
// credentials. Keys are quoted in error texts with [kv.QuoteKey], which cuts
// a long key.
//
// go-redis retries a failed command (3 times by default, each with up to 5
// dial attempts), so a call against a server that is down fails with
// kv.ErrUnavailable after the client's retry budget, about 1.7 s with the
// default options. If the context's deadline comes first, the error wraps the
// context's error instead. Configure MaxRetries and DialerRetries on the
// client to fail faster. A command re-sent after its connection broke may
// have run on the server already, so that a write takes effect twice (see
// "Unknown outcomes" in package kv); MaxRetries -1 sends each command once.
//
// # Keyspace notifications
//
// Watch needs the server to publish keyspace notifications for the classes
// K (keyspace channels), g (del, expire, rename), $ (strings), l (lists, for
// histories) and x (expiries); "KEA" covers them all:
//
//	CONFIG SET notify-keyspace-events KEA
//
// (or notify-keyspace-events KEA in redis.conf, since CONFIG SET does not
// survive a restart). Watch reads the setting with CONFIG GET before it
// subscribes and fails with an error wrapping [kv.ErrNotSupported] and a
// [*NotifyConfigError] that names the missing classes and the fix. With [Options.EnableKeyspaceEvents]
// it adds the missing classes itself with CONFIG SET. It never changes the
// server's configuration otherwise.
//
// Managed services often refuse CONFIG. When CONFIG GET is refused, Watch
// logs a warning and proceeds on the assumption that notifications are on: it
// cannot tell. Make sure the service's own setting enables KEA.
//
// Keyspace notifications are pub/sub messages, lost while the subscriber is
// disconnected. go-redis reconnects and resubscribes by itself; each time it
// does, the watch checks the setting again (re-enabling it if allowed) and
// sends an OpResync, with Err set if the classes are now missing; it then
// checks again every few seconds and sends a plain OpResync once they are
// back. A consumer that re-reads what it holds on every OpResync misses
// nothing for good.
//
// # Cluster and ring
//
// Nothing assumes a single server. On a *redis.ClusterClient, GetMulti groups
// keys by hash slot (CRC16 with {hashtag} rules) and sends one MGET per slot,
// 16 at a time, never a CROSSSLOT request; Scan runs a SCAN iteration on
// every master in turn; and Watch subscribes on every master, since each node
// publishes the notifications of its own keys only. On a *redis.Ring the
// same holds for every shard, and GetMulti pipelines GETs, which the ring
// splits by shard.
//
// A Scan covers the masters (or shards) the client knows when it is
// called; keys that migrate between masters during a Scan may be missed or
// yielded twice. A watch follows the topology: every
// [Options.TopologyInterval] (a second by default) it asks the cluster
// client to read the topology again (ReloadState) and compares the masters;
// a master it does not watch yet (a replica promoted by a failover, a new
// master) gets a subscription, one that is gone loses it, and an OpResync
// follows once the new subscription is live. On a Sentinel failover client
// the master is known by the run_id that INFO server reports through the
// client, which changes with a failover, graceful or not; the watch then
// subscribes again through the client, which reaches the new master. A
// watch thus resyncs within about a TopologyInterval of the new master
// serving (measured on a 2-core machine: 0.1 to 0.7 s with a 100 ms
// interval), without waiting for the old master to drop its subscribers.
// When the master was killed, go-redis may already have moved the old
// subscription to the new master by itself, with an OpResync of its own: a
// consumer then gets two OpResync events a few milliseconds apart, and must
// re-read on each, since changes made between them were reported by the
// second alone.
// A user whose ACL forbids INFO (or CLUSTER SLOTS on a cluster) gets no
// such following: the watch then resyncs only when the old connection
// drops.
//
// go-redis reloads a cluster's topology by itself only on a MOVED or
// READONLY reply, or once the topology it holds is some seconds old, so
// writes to a master that died kept going to the dead node for tens of
// seconds after its replica took over. The store therefore asks a cluster
// client to reload its topology (in the background, one reload at a time)
// whenever a call fails because a node could not be reached in time; the
// data path then recovers as soon as the new master serves (measured on a
// 2-core machine: every key written again 0.1 to 0.7 s after the cluster
// reported ok). A failover client switches when the sentinels announce the
// new master.
//
// A client of another type (such as a *redis.AutoPipeliner) is taken as one
// server on database 0.
package goredis
