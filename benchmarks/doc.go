// Package benchmarks measures storekit's stores side by side with the raw
// Redis clients they wrap, in one run on one redis-server, to check the
// performance targets of the design that compare figures of one run (P1 to
// P3, P6, P8 to P10 and P13), the config store's propagation (P12), and
// the conditional, counter and bulk writes and the lock (A1 to A6); and the
// PostgreSQL store side by side with pgx running the same statements (PG).
//
// The package has no code of its own, only benchmarks (in _test.go files),
// and it is a module of its own, github.com/cledar/storekit/benchmarks
// (benchmarks/go.mod, with a replace of storekit by the directory above),
// so nothing here ships to users and what only the benchmarks need (the
// peers they measure storekit against) stays out of storekit's go.mod.
// Run them with make bench, which runs them all a few times at
// GOMAXPROCS=2, saves the output in bench/latest.txt, and prints benchstat
// tables by implementation and the table of targets computed by
// ./benchmarks/ratios; make test runs this module's tests (among them
// TestConfigThroughput) too. By hand, from the benchmarks directory:
//
//	go test -run '^$' -bench . -benchmem -cpu 2 . | tee ../bench/latest.txt
//	go run ./ratios ../bench/latest.txt
//
// Every benchmark that puts implementations side by side (BenchmarkStores,
// BenchmarkLock, BenchmarkTyped, BenchmarkCluster, BenchmarkPostgres)
// measures them in turns: for each operation and goroutine count, the
// implementations that -bench selects take turns of 100 ms, in an order
// that rotates every round, until each has run for -benchtime (see
// [conformance.Compare]). Whatever else the machine does then slows them
// alike, within a fraction of a second; figures that swing by 10–20 % from
// one pass to the next on a shared 2-core machine keep their ratios. Each
// implementation's sub-benchmark reports what its turns measured: their
// calls as its iterations, their time a call, and what the process
// allocated during them a call. With -count N (or several -cpu), the turns
// are measured anew for each of the N results.
//
// BenchmarkStores starts one redis-server through internal/redistest (or
// uses STOREKIT_REDIS_ADDR), set as Redis ships: keyspace notifications,
// which the harness turns on for the tests' watches, off (as on the
// servers of BenchmarkLock, BenchmarkTyped and BenchmarkCluster; the
// config store's benchmarks watch, and keep them). It runs
// [conformance.Compare] over these implementations, each with a client and
// keys of its own:
//
//	goredis-raw        a go-redis client (default options), called directly
//	goredis-pipe       the same, writing SetMulti100 as a pipeline of 100 SETs
//	goredis            backends/goredis over such a client
//	rueidis-raw        a rueidis client (default options, auto-pipelining, no
//	                   client tracking), called directly
//	rueidis-pipe       the same, writing SetMulti100 as one DoMulti of 100 SETs
//	rueidis-twin       rueidis-raw again, Get and GetMulti100 only: the ratio
//	                   of two equals (target N1) shows how far this run's
//	                   ratios stray from 1.00 without a cause
//	rueidiskv-nocache  backends/rueidiskv with DisableCache, over such a client
//	rueidiskv          backends/rueidiskv reading through a rueidiskv.Cache of the
//	                   default size, warm: every read hits
//	rueidiskv-miss     the same with a 1 µs CacheTTL: every read misses (Get only)
//	syncmap            a bare sync.Map: no copy, no expiry (the floor)
//	memory             backends/memory
//
// The rueidiskv clients are built as rueidiskv.Open builds them. The
// sub-benchmarks are Get, GetMulti100 and Set, and the writes
// CompareAndSwap, Incr and SetMulti100 (not for syncmap; the pipe
// contenders run SetMulti100 only), at 1, 8 and 64 goroutines (plus 2 for
// syncmap and memory), named for benchstat's -col /impl, for example
// BenchmarkStores/Get/par=8/impl=goredis-raw; see [conformance.Bench] for
// what each does. The raw clients are wrapped in a thin kv.Store so that
// the same code drives every implementation; their Get returns the value's
// bytes, as a store's must, and their GetMulti sends one MGET and checks
// that every key was found, without building results. Their writes are
// what a user would write by hand: CompareAndSwap runs a check-and-set Lua
// script (GET, compare, SET KEEPTTL) with EVALSHA, as the Redis stores do,
// through redis.Script.Run and rueidis.Lua.Exec; Incr sends INCRBY; and
// SetMulti sends one MSET. The memory backend runs the writes too, as the
// floor. With -v, the counters of each rueidiskv cache
// are logged at the end, to show that the reads hit or missed as intended.
//
// BenchmarkStores/CacheMemory/impl=rueidiskv (target P13) reads 48 MiB of
// distinct 1 KiB values through a store whose rueidiskv.Cache holds at most
// 16 MiB, once per iteration from 64 goroutines, and reports how much the Go
// heap in use (HeapInuse after a collection) grew from just before the first
// read: heap-MiB, and ratio-to-cache-size, its ratio to the 16 MiB. It also
// reports live-MiB, the growth of the live heap (HeapAlloc), and
// cached-MiB, what the cache counts itself as holding; heap-MiB above
// live-MiB is fragmentation left by evictions.
//
// BenchmarkLock takes a lock and releases it, over and over, at 1, 8 and
// 64 goroutines, each with a lock key of its own, so that it measures the
// cost of a cycle, not contention: package lock's TryLock and Release over
// goredis, rueidiskv-nocache, rueidiskv and memory, and, on goredis-raw and
// rueidis-raw, a raw lock with a fencing token, the commands package lock
// sends on its usual path: SET key token NX PX with a random token, INCR of
// the fencing counter, then EVALSHA of a compare-and-delete script. It is named like BenchmarkStores,
// for example BenchmarkLock/par=8/impl=goredis.
//
// The targets of the writes, for goredis, rueidiskv-nocache and rueidiskv
// (A1 goredis, A2 the rueidiskv stores) at 1, 8 and 64 goroutines:
//
//	A1, A2  CompareAndSwap ≥ 0.90× the raw client's script
//	A3      SetMulti100 ≥ 0.90× the better of the raw MSET and the raw pipeline
//	A4      SetMulti100 keys/s ≥ 10× Set ops/s: one call of 100 keys costs at
//	        most a tenth of 100 Sets (goredis and rueidiskv-nocache)
//	A5      Incr ≥ 0.90× the raw INCRBY
//	A6      a lock's acquire and release ≥ 0.90× the raw lock's
//
// BenchmarkTyped (target T1) reads a small struct of three fields
// ({ID int64; Name string; Score float64}) by key through a warm local
// cache, every read a hit, at 1, 8 and 64 goroutines: codec-rueidiskv is a
// codec.Store with its default JSON codec over a rueidiskv store with a
// rueidiskv.Cache of the default size; goredis-cache is go-redis/cache
// (github.com/go-redis/cache/v9, msgpack) with its local TinyLFU cache over
// a go-redis client. Only storekit's cache is invalidated when another
// client writes. Named BenchmarkTyped/par=8/impl=goredis-cache and so on.
//
// BenchmarkCluster (targets C1 to C3) starts a 3-master Redis Cluster
// through internal/redistest and runs bulk operations of 100 keys without
// hash tags, so spread over about 100 slots and every master: GetMulti100
// (every key exists), SetMulti100 (64-byte values, no TTL) and
// DeleteMulti100 (keys written once, so that after the first pass over
// them the DELs find nothing, which costs the server about the same), at
// 1, 8 and 64 goroutines, each implementation over a client and keys of
// its own:
//
//	goredis            backends/goredis over a go-redis ClusterClient
//	goredis-separate   the same with SeparatePipelines: a pipeline a call
//	                   instead of pipelines that concurrent calls share
//	rueidiskv-nocache  backends/rueidiskv with DisableCache
//	rueidiskv          backends/rueidiskv with a warm rueidiskv.Cache
//	rueidis-helper     rueidis.MGet, rueidis.MSet and rueidis.MDel, which
//	                   group the keys by slot and send every group at once
//	goredis-pipe       a go-redis ClusterClient pipeline of one GET, SET or
//	                   DEL per key
//	goredis-autopipe   the same commands through go-redis's autopipeliner
//	                   (ClusterClient.AsyncAutoPipeline, experimental),
//	                   which batches concurrent callers' commands by node
//
// for example BenchmarkCluster/GetMulti100/par=8/impl=goredis; each also
// reports keys/s. The targets: every store at least as fast as the better
// of the two anchors (rueidis-helper and goredis-pipe), and the cached read
// at least twice as fast; goredis against goredis-pipe, goredis-separate
// and goredis-autopipe are rows for information. Target
// M1 reads BenchmarkStores: GetMulti100 of goredis and rueidiskv-nocache
// at least 0.95 of the raw client's MGET.
//
// BenchmarkPostgres (target PG) runs [conformance.Compare]'s Get,
// GetMulti100 and Set at 1, 8 and 64 goroutines over two implementations
// on the PostgreSQL server of backends/postgres/pgtest (STOREKIT_POSTGRES_URL,
// or a local one on 127.0.0.1:5432; without one the benchmark is skipped,
// unless STOREKIT_REQUIRE_POSTGRES=1), each over a pool of its own (pgxpool's
// default size) and a table of its own in a schema of its own, dropped at
// the end:
//
//	pgx-raw   a pgxpool.Pool running the statements backends/postgres runs
//	          (reproduced here, since they are unexported) on a table that
//	          Store.CreateSchema made, with the same trigger
//	postgres  backends/postgres
//
// named like BenchmarkStores, for example
// BenchmarkPostgres/Get/par=8/impl=postgres. The raw GetMulti scans every
// row's key and value and checks the count, without building results. The
// target: the store at least 0.90 of pgx-raw's ops/s in each. Every write
// of both fires the table's trigger, a NOTIFY per row.
//
// BenchmarkConfigPropagation (target P12) measures, for a configstore.Store
// over memory, goredis, rueidiskv and postgres, the time from another
// client's write of a new version (RPUSH on a connection of its own on
// Redis, Append through a second store over a pool of its own on
// PostgreSQL) to the watcher's callback receiving it, one write at a time,
// and reports p50-ms and p99-ms.
// TestConfigThroughput, which runs with the other tests, has another client
// write 5,000 changes per second for 10 s over 20 keys and fails if any
// key's cached state, Fetch or last watcher event differs from the server's
// once the writes stop; it logs the achieved rate and the time to converge
// ("P12 throughput").
package benchmarks
