// Package rueidiskv is a storekit backend over a rueidis client
// (github.com/redis/rueidis): a [kv.Store] with every optional capability of
// package kv, whose reads go through a client-side cache that the server
// keeps coherent (Redis server-assisted client-side caching, RESP3 CLIENT
// TRACKING), with read-your-own-writes.
//
//	store, err := rueidiskv.Dial(ctx, rueidiskv.Config{Host: "localhost", Port: 6379}, nil)
//	if err != nil { ... }
//	defer store.Close() // the store owns the client Dial made
//
// [Dial] builds a client from a [Config]: one server (host, port, database,
// password), a cluster's seeds or a Sentinel deployment; [DialURL] from a
// URL such as redis://user:password@host:6379/0 (see package redisconf);
// [Open] from a full rueidis.ClientOption. They check it with PING, fail
// fast with a clear error, install a [Cache] in the client, and return a
// store that owns it. [New] wraps a client you built; it caches only if you
// built the client with a Cache (see Cache) and pass that cache in
// [Options.Cache].
//
// # Capabilities
//
//	kv.Store                 GET (through the cache), SET, DEL
//	kv.MultiGetter           MGET, at most 1000 keys each, one per hash slot on a cluster; through the cache
//	kv.Scanner               SCAN MATCH pattern COUNT Options.ScanCount, on every master
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
// Everything but the cache behaves exactly as package goredis does: the same
// commands, the same history layout (the Python config store's: a list,
// oldest first, where a plain value counts as version 1), the same watch
// events and resyncs, the same errors. Every method checks, before it sends
// anything, that the store is open and the context is not done, so a call
// with a cancelled context writes nothing.
//
// # Client-side caching
//
// Get and GetMulti read through a [Cache], unless [Options.DisableCache] is
// set. A read the cache cannot answer is sent as rueidis sends DoCache
// misses (CLIENT CACHING YES, MULTI, PTTL, GET or MGET, EXEC), which makes
// the server track the key for the connection: when any client changes the
// key, the server pushes an invalidation and the entry is dropped. The
// store, not rueidis, keeps the entries and shares concurrent fetches:
// rueidis's per-connection cache cannot give the guarantees below.
//
//   - Read-your-own-writes. A Get or GetMulti that starts after a write
//     (Set, SetWithTTL, Delete, Append, or any other call that changes
//     keys) of the same store (or of any store sharing its Cache) returned
//     never sees a value that the write replaced. The server alone does not give this: it sends the
//     invalidation for a write after the write's reply, and on the
//     connection that tracks the key, which may not be the writer's
//     (redis/rueidis#534). So every write, once its reply is in (or it
//     failed), drops the key's entry and marks every fetch of the key then
//     in flight as neither cacheable nor shareable with later reads: a read
//     that starts after the write returned finds no entry, and no fetch to
//     share, that began before the write took effect. Reads pay nothing for
//     this; a write pays one lock of a cache shard.
//   - Conditional writes run on the server, never against the cache: a
//     CompareAndSwap, CompareAndDelete, SetIfAbsent or AppendIf compares
//     with what the server holds. One that did not happen also drops the
//     key, since the caller's view was stale, so the Get of a retry (such
//     as kv.Update's) reads the server's current value. GetWithTTL reads
//     from the server too.
//   - Writes by other clients (or by the client outside the store) are seen
//     once their invalidation arrives: typically within a millisecond on a
//     local network (measured from the write's return to the first read
//     that sees it: p50 0.1 to 0.5 ms, p99 2 to 10 ms on a loaded 2-core
//     machine), never a guaranteed bound.
//   - A lost connection empties the cache: the server stops tracking the
//     keys read over a connection once it is gone. The cache is emptied,
//     and every fetch in flight kept from being cached, as soon as a
//     connection that carried cached reads fails a read or a write, in a
//     client built with [Cache.ClientOption] (as Open and Dial build
//     theirs); again when rueidis reports the connection closed; and when
//     the server invalidates everything (FLUSHALL). A connection killed by
//     the server is thus noticed as soon as the runtime schedules its
//     reading goroutine. A read that races that may still be served the old
//     value, as from any client-side cache: closing that window would take
//     a system call per cache hit. In a back-to-back test (read, CLIENT
//     KILL, another client writes, read) on a 2-core machine that happened
//     to 0 to 3 reads in 1,000, and to about 2 % under heavy load. A
//     half-open connection is only noticed once rueidis's keepalive or
//     ConnWriteTimeout gives up on it (about 10 s by default).
//   - Expiry. An entry lives at most [Options.CacheTTL] (one minute by
//     default) and never outlives its key: the fetch reads the key's PTTL
//     in the same transaction, and the entry leaves the cache no later than
//     the key expires on the server, counting the round trip against it.
//   - Single flight. Concurrent reads of a key that is not cached share one
//     fetch: 64 goroutines reading a cold key cost one GET. A read whose
//     shared fetch is abandoned by its caller (whose context ended) fetches
//     on its own.
//   - Missing keys are cached as missing. A bulk read's "not found" may
//     also mean "holds a history", which only a Get can tell, so a Get
//     does not use an entry made by GetMulti for a missing key.
//   - Memory. The cache holds at most its size ([DefaultCacheSize], 64 MiB,
//     for Open and Dial unless [Options.CacheSize] says otherwise), for all
//     connections together, counted as what its entries cost the Go heap (decoded values, below,
//     included).
//     Keys and values are written one after another into chunks of up to
//     32 KiB, and the entries themselves taken from slabs of up to 32 KiB;
//     a chunk or slab is counted whole from the moment it is started until
//     no entry uses it. A key and value larger than an eighth of a chunk
//     get an allocation of their own, counted at the runtime's size class,
//     and each entry adds 80 bytes for its slot in the cache's map (35 to
//     73 measured). Entries are evicted in CLOCK (second-chance LRU)
//     order, and an entry given a second chance moves to the newest slab
//     and chunk, so both empty as a whole: evictions do not leave the heap
//     in partly used pieces. Reading 48 MiB of distinct 1 KiB values
//     through a 16 MiB cache grows the Go heap in use (after a collection)
//     by 1.01 to 1.02 times the cache's size (package benchmarks, target
//     P13); the copies handed to readers are garbage once they drop them.
//     An entry dropped by an invalidation still counts, as part of its
//     chunk and slab, until their other entries are evicted; a one-byte
//     count per 512 bytes of the size (0.2 % of it) lets a write of a key the
//     cache does not hold skip its lock. A value larger than a sixteenth
//     of the size is not cached. The client's
//     CacheSizeEachConn does not apply.
//   - Decoded values. [Store.GetDecoded] is Get followed by a decoder,
//     whose result the cache keeps beside the bytes it was decoded from, so
//     that a later hit costs no decoding; package codec's typed Store uses
//     it. The decoded value goes with its bytes: every write, invalidation,
//     eviction and flush that drops the bytes drops it, so it obeys all of
//     the above.
//   - Stats. [Store.Stats] reports hits (reads served without a fetch of
//     their own), misses (keys fetched), invalidations (keys the server
//     invalidated), evictions (entries dropped for room) and flushes
//     (times the cache was emptied), plus the entries and bytes held;
//     [Store.Metrics] reports them too, in its Cache section, beside the
//     store's calls and failures (package metrics).
//
// On a cluster, an entry can outlive a resharding that moves its slot
// without changing the key: no invalidation is sent then, and the entry
// lives until its CacheTTL. Keep CacheTTL short if slots move while values
// change.
//
// Caching needs a server with RESP3 and CLIENT TRACKING (Redis 6 or later).
// For others, such as miniredis, set DisableCache: Open and Dial then build
// a client without tracking.
//
// rueidis runs a connection in pipelining mode (a reading and a writing
// goroutine) once a cached read went over it, and in a cheaper synchronous
// mode before; a store with caching on therefore makes every call pay the
// pipelining hand-off, which shows on a single goroutine (about twice the
// latency of a synchronous call on a 2-core machine) and not under
// concurrency.
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
// keys change atomically, but the slots do not change together.
//
// A key given twice is written once (SetMulti: the last item wins). When
// every group fails, the error is the first group's and nothing was written
// (on a lost reply the outcome is unknown, as for Set). When some groups
// fail and others succeed, the error is a [*kv.BulkError]: its Done marks
// the items (or keys) of the groups that succeeded, its Err is the first
// group's error (with its kv sentinel, such as kv.ErrPermission for an ACL
// denial of a key), and DeleteMulti's count is of the keys that the
// successful groups removed. Either way every key of the call is dropped
// from the client-side cache.
//
// # Options
//
// [Options] holds redisconf.Options, the settings every Redis backend has
// (Logger; CloseClient, off by default, since the caller owns the client
// given to New; ScanCount, default 1000; EnableKeyspaceEvents; WatchBuffer,
// default 1024; TopologyInterval, default one second), and the cache's:
// Cache for New, CacheSize for Open and Dial, CacheTTL, DisableCache. New
// copies the options; a nil *Options means the defaults:
//
//	rueidiskv.Open(ctx, opt, &rueidiskv.Options{
//		Options:   redisconf.Options{Logger: logger},
//		CacheSize: 16 << 20,
//	})
//
// # Errors
//
// Errors wrap both a kv sentinel (or the context's error) and rueidis's own
// error, so [errors.Is] and [errors.As] both work; their text starts with
// "rueidiskv: " and the operation and key, and never holds a value or a
// password.
//
//	rueidis.Nil (a nil reply)                           kv.ErrNotFound
//	dial failure, EOF, connection reset or refused,     kv.ErrUnavailable
//	broken pipe, network timeout, closed client
//	(rueidis.ErrClosing), cached read aborted by a
//	lost connection (rueidis.ErrDoCacheAborted)
//	error replies LOADING, BUSY, MASTERDOWN,            kv.ErrUnavailable
//	CLUSTERDOWN, TRYAGAIN, READONLY, NOREPLICAS,
//	"max number of clients reached"
//	error replies NOPERM (an ACL denial), NOAUTH,       kv.ErrPermission
//	WRONGPASS; CLIENT TRACKING refused by the ACL
//	error reply OOM (maxmemory reached)                 kv.ErrFull
//	CLIENT TRACKING unknown to the server               kv.ErrNotSupported (set DisableCache)
//	(rueidis.ErrNoCache)
//	error reply WRONGTYPE                               kv.ErrWrongType
//	the caller's context ended                          context.Canceled or context.DeadlineExceeded
//	any other error reply                               an operation error: only the *rueidis.RedisError
//	after Close                                         kv.ErrClosed
//
// [kv.Retryable] is true for kv.ErrUnavailable and kv.ErrFull only. A Dial
// that the server refuses says what to do: a user whose ACL lacks CLIENT
// TRACKING is told the ACL SETUSER that grants it, or to set DisableCache; a
// refused password to check the credentials. Keys are quoted in error texts
// with [kv.QuoteKey], which cuts a long key.
//
// A tracked read is sent in a transaction (CLIENT CACHING YES, MULTI, PTTL,
// GET, EXEC). A server over its maxmemory refuses to queue commands in a
// transaction, and a user's ACL may forbid MULTI, EXEC or PTTL though it
// allows GET; a read refused so is made again without tracking and is not
// cached, so reads keep working wherever the server serves them (the first
// such refusal is logged).
//
// rueidis retries read-only commands that fail on the network until the
// context ends, by default forever for a context without a deadline. The
// clients Open and Dial make retry four times (10 to 80 ms apart) and then
// fail, so a read against a server that is down fails with kv.ErrUnavailable
// within about 150 ms; set ClientOption.RetryDelay to change that. Writes
// are never retried, so the first write after a server restart may fail
// with kv.ErrUnavailable on a connection the client has not yet found
// closed. rueidis dials lazily, with the context of the call that needs the
// connection, and concurrent calls share that dial. In a store made by Open
// or Dial, a call whose shared dial was ended by another call's deadline is
// made again (it had sent nothing), so it fails only by its own deadline or
// the server's fault; over a client of your own, given to New, it fails
// with kv.ErrUnavailable.
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
// [*NotifyConfigError] that names the missing classes and the fix. With
// [Options.EnableKeyspaceEvents] it adds the missing classes itself with
// CONFIG SET. It never changes the server's configuration otherwise. When
// CONFIG GET is refused (as managed services often do), Watch logs a warning
// and assumes the notifications are on.
//
// Each watch subscribes on a connection of its own (a rueidis dedicated
// client). Notifications are lost while it is disconnected; whenever it
// subscribes again, the watch checks the setting again (re-enabling it if
// allowed) and sends an OpResync, with Err set if the classes are now
// missing; it then checks again every few seconds and sends a plain OpResync
// once they are back. A consumer that re-reads what it holds on every
// OpResync misses nothing for good.
//
// # Cluster
//
// Nothing assumes a single server. On a cluster client, GetMulti groups keys
// by hash slot and sends one MGET per slot, never a CROSSSLOT request (cached
// MGETs run 16 at a time; uncached ones go out in one DoMulti); Scan runs a
// SCAN iteration on every master in turn; and Watch subscribes on every
// master, since each node publishes the notifications of its own keys only.
// A Scan covers the masters the client knows when it is called (rueidis's
// Nodes lists replicas too; the store asks each node its ROLE). A watch
// follows the topology: every [Options.TopologyInterval] (a second by
// default) it reads the masters again (on a cluster, the nodes rueidis knows
// and their ROLE; with a Sentinel, the master rueidis follows); a master it
// does not watch yet (a replica promoted by a failover, graceful or not, a
// new master) gets a subscription, one that is gone loses it, and an
// OpResync follows once the new subscription is live, with the cache
// emptied first. rueidis learns a cluster's new topology when a connection
// closes or a command is redirected, so the watch resyncs soon after the
// data path recovers (measured on a 2-core machine: 0.1 to 0.7 s after the
// new master served, with a 100 ms interval, and within 0.1 s of the data
// path after a kill).
package rueidiskv
