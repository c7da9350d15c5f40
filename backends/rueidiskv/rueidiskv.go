package rueidiskv

import (
	"context"
	"iter"
	"strings"
	"sync/atomic"
	"time"

	"github.com/redis/rueidis"
	"go.uber.org/zap"

	"github.com/cledar/storekit/backends/redisconf"
	"github.com/cledar/storekit/internal/rediskv"
	"github.com/cledar/storekit/kv"
)

// Compile-time checks of the capabilities a Store has.
var (
	_ kv.Store       = (*Store)(nil)
	_ kv.MultiGetter = (*Store)(nil)
	_ kv.Scanner     = (*Store)(nil)
	_ kv.Expirer     = (*Store)(nil)
	_ kv.Watcher     = (*Store)(nil)
	_ kv.Historian   = (*Store)(nil)
	_ kv.Pruner      = (*Store)(nil)
)

// Defaults of [Options].
const (
	// DefaultScanCount is the COUNT hint of each SCAN call when
	// [Options.ScanCount] is zero.
	DefaultScanCount = rediskv.DefaultScanCount
	// DefaultCacheTTL is the longest a read stays cached when
	// [Options.CacheTTL] is zero.
	DefaultCacheTTL = time.Minute
)

// Options configure a [Store]. The zero value, like a nil *Options, gives the
// defaults.
type Options struct {
	// Logger receives warnings (such as a server whose CONFIG command is
	// unavailable, or a Cache that its client does not report to) and
	// informational messages (watch resubscriptions). The store never logs
	// values or passwords; it may log patterns and server addresses.
	// Defaults to a no-op logger.
	Logger *zap.Logger

	// CloseClient makes Close close the client given to [New]. By default a
	// caller's client stays open: the caller owns it. [Open] and [Dial]
	// always close the client they made.
	CloseClient bool

	// Cache is the client-side cache for [New]: the cache installed in the
	// client (see [Cache.ClientOption]). When it is nil, a store made by
	// New reads from the server: rueidis's own per-connection cache cannot
	// give read-your-own-writes, so the store does not use it. [Open] and
	// [Dial] ignore Cache and make one of CacheSize.
	Cache *Cache

	// CacheSize is the size in bytes of the cache that [Open] and [Dial]
	// make, for all the client's connections together. Defaults to
	// DefaultCacheSize (64 MiB).
	CacheSize int

	// CacheTTL is the longest a read stays cached. A key with a shorter
	// time to live on the server leaves the cache before it expires there.
	// Defaults to DefaultCacheTTL (one minute).
	CacheTTL time.Duration

	// DisableCache makes every read go to the server. [Open] and [Dial]
	// then build a client without client-side caching (no CLIENT
	// TRACKING), which servers without it, such as miniredis, need.
	DisableCache bool

	// ScanCount is the COUNT hint sent with every SCAN, the number of keys
	// the server looks at per call. Defaults to DefaultScanCount (1000).
	ScanCount int

	// EnableKeyspaceEvents lets Watch turn on the notify-keyspace-events
	// classes it needs (CONFIG SET, adding the missing classes to the current
	// setting) instead of failing when they are off, on every
	// (re)subscription. Off by default: the store never changes the server's
	// configuration unless told to.
	EnableKeyspaceEvents bool

	// WatchBuffer is the number of events a watch holds for a slow consumer
	// before it drops them and sends one OpResync instead. Defaults to 1024.
	WatchBuffer int

	// TopologyInterval is how often a watch reads which servers hold the
	// keys (the masters of a cluster, a Sentinel's master), to follow a
	// failover to the new master. Defaults to one second.
	TopologyInterval time.Duration
}

// A Store is a [kv.Store] over a rueidis client, with every optional
// capability of package kv and a client-side cache. It is safe for
// concurrent use. Create it with [New], [Open] or [Dial].
type Store struct {
	a           *adapter
	r           *rediskv.Store
	log         *zap.Logger
	cacheTTL    time.Duration
	cache       *Cache // nil: reads go to the server
	closeClient bool

	refusedWarned atomic.Bool // the warning of trackedReadRefused was logged
}

// New returns a store over client, which may be a standalone, sentinel or
// cluster client. opts may be nil; New keeps a copy of it. Unless
// opts.CloseClient is set, Close leaves client open.
//
// Reads are cached only when opts.Cache is the [Cache] installed in client
// (see Cache) and opts.DisableCache is not set; otherwise every read goes to
// the server. The Cache's size, not the client's CacheSizeEachConn, bounds
// the store's cache. A client built without a Cache keeps rueidis's own
// per-connection cache for its own DoCache calls, which the store never
// makes; if your code makes them, set CacheSizeEachConn yourself, since
// rueidis's default is 128 MiB on each connection (4 by default).
func New(client rueidis.Client, opts *Options) *Store {
	var o Options
	if opts != nil {
		o = *opts
	}
	log := o.Logger
	if log == nil {
		log = zap.NewNop()
	}
	s := &Store{log: log, cacheTTL: o.CacheTTL, closeClient: o.CloseClient}
	if s.cacheTTL <= 0 {
		s.cacheTTL = DefaultCacheTTL
	}
	if !o.DisableCache {
		s.cache = o.Cache
		if s.cache == nil {
			log.Info("rueidiskv: no Cache in the options, so reads go to the server; " +
				"to cache, build the client from a Cache's ClientOption and pass the Cache, or use Open")
		}
	}
	s.a = &adapter{c: redialClient{client}, cluster: client.Mode() == rueidis.ClientModeCluster, log: log}
	s.r = rediskv.New(s.a, rediskv.Options{
		Backend:              "rueidiskv",
		Log:                  log,
		ScanCount:            o.ScanCount,
		EnableKeyspaceEvents: o.EnableKeyspaceEvents,
		WatchBuffer:          o.WatchBuffer,
		TopologyInterval:     o.TopologyInterval,
		Wrote:                s.wrote,
		Changed:              s.wrote,
		Missed:               s.missedChanges,
	})
	return s
}

// Config says how [Dial] reaches a Redis server: host, port, database, ACL
// user, password and TLS. See package redisconf.
type Config = redisconf.Config

// Dial builds a rueidis client for the one server cfg names (never a
// cluster client: use [Open] for a cluster) and returns a store over it, as
// [Open] does.
func Dial(ctx context.Context, cfg Config, opts *Options) (*Store, error) {
	return Open(ctx, rueidis.ClientOption{
		InitAddress:       []string{cfg.Addr()},
		SelectDB:          cfg.DB,
		Username:          cfg.Username,
		Password:          cfg.Password,
		TLSConfig:         cfg.TLS,
		ForceSingleClient: true,
	}, opts)
}

// Open builds a rueidis client from opt (standalone, sentinel or cluster,
// as rueidis decides from opt), checks with PING that the server answers and
// accepts the credentials, and returns a store that owns the client (Close
// closes it; opts.CloseClient is ignored). opts may be nil.
//
// Unless opts.DisableCache is set, Open makes a [Cache] of opts.CacheSize
// bytes and installs it in the client with [Cache.ClientOption] (so
// opt.CacheSizeEachConn does not apply); otherwise it sets
// opt.DisableCache, and the client does no CLIENT TRACKING.
// When opt.RetryDelay is nil, Open sets one that gives up after a few
// quick retries, so that a read against a server that is down fails with
// kv.ErrUnavailable within a fraction of a second instead of retrying until
// its context ends, as rueidis does by default.
//
// If the server cannot be used Open fails at once, with an error that
// starts with "rueidiskv: could not initialize Redis client" and wraps
// [kv.ErrUnavailable] and the client's error; it never holds the password.
// ctx bounds the TCP connection and the PING; the handshake in between is
// bounded by opt.Dialer.Timeout (rueidis's default is 5 s).
func Open(ctx context.Context, opt rueidis.ClientOption, opts *Options) (*Store, error) {
	var o Options
	if opts != nil {
		o = *opts
	}
	o.CloseClient = true
	log := o.Logger
	if log == nil {
		log = zap.NewNop()
	}
	addr := strings.Join(opt.InitAddress, ",")
	fail := func(err error) (*Store, error) {
		log.Warn("rueidiskv: could not initialize Redis client", zap.String("addr", addr), zap.Int("db", opt.SelectDB),
			zap.String("error", rediskv.Redact(err.Error(), opt.Password)))
		return nil, rediskv.InitError(ctx, "rueidiskv", classify(ctx, err), err, opt.Username, opt.Password)
	}
	if err := ctx.Err(); err != nil {
		return fail(err)
	}
	o.Cache = nil
	if o.DisableCache {
		opt.DisableCache = true
	} else {
		o.Cache = NewCache(o.CacheSize)
		opt = o.Cache.ClientOption(opt)
	}
	if opt.RetryDelay == nil {
		opt.RetryDelay = retryDelay
	}
	if d, ok := ctx.Deadline(); ok {
		// ctx bounds the first connection only: rueidis keeps dialing
		// with opt for reconnects.
		opt.DialCtxFn = firstDialBy(d, opt)
	}
	opt.DialCtxFn = markAbandoned(dialerOf(opt))
	client, err := rueidis.NewClient(opt)
	if err != nil {
		return fail(err)
	}
	log.Info("rueidiskv: Redis client initialized", zap.String("addr", addr), zap.Int("db", opt.SelectDB),
		zap.Bool("cache", o.Cache != nil))
	if err := client.Do(ctx, client.B().Ping().Build()).Error(); err != nil {
		client.Close()
		return fail(err)
	}
	log.Info("rueidiskv: Redis client pinged successfully", zap.String("addr", addr))
	s := New(client, &o)
	s.a.db, s.a.dbKnown = opt.SelectDB, true
	return s, nil
}

// Retries of the clients that Open makes.
const (
	retryAttempts = 4
	retryBase     = 10 * time.Millisecond
)

// retryDelay is the RetryDelay of the clients that Open makes: a read
// (rueidis retries only read-only commands) is retried after 10, 20, 40 and
// 80 ms, then fails.
func retryDelay(attempts int, _ rueidis.Completed, _ error) time.Duration {
	if attempts > retryAttempts {
		return -1
	}
	return retryBase << (attempts - 1)
}

// Client returns the client the store uses.
func (s *Store) Client() rueidis.Client { return s.a.c.Client }

// Stats returns the counters of the store's cache (shared by every store
// that uses the same [Cache]), or zero counters when reads are not cached.
func (s *Store) Stats() CacheStats {
	if s.cache == nil {
		return CacheStats{}
	}
	return s.cache.Stats()
}

// wrote drops what the cache holds for key after a write of key returned,
// or when a watch hears that key changed: a read that starts now does not
// see a value the change replaced. A watch's notification can come before
// the write's own reply and before the server's invalidation, so the watch
// drops the key before its consumer hears of the change.
func (s *Store) wrote(key string) {
	if s.cache != nil {
		s.cache.invalidate(key)
	}
}

// missedChanges empties the cache when a watch may have missed changes (it
// subscribed again): the consumer re-reads on the OpResync that follows, and
// must not be served an entry whose invalidation is still on its way.
func (s *Store) missedChanges() {
	if s.cache != nil {
		s.cache.flush()
	}
}

// Ping checks with PING that the server answers and accepts the client's
// credentials; on a cluster the client decides which node it asks.
func (s *Store) Ping(ctx context.Context) error { return s.r.Ping(ctx) }

// Get implements [kv.Store]. With caching on it reads through the cache
// (see the package documentation). A key holding a history (a list) or
// another Redis type yields an error wrapping kv.ErrWrongType.
func (s *Store) Get(ctx context.Context, key string) ([]byte, error) {
	if s.cache == nil {
		return s.r.Get(ctx, key)
	}
	if err := s.r.Check(ctx); err != nil {
		return nil, s.r.Fail("get", key, err)
	}
	return s.cachedGet(ctx, key)
}

// Set implements [kv.Store] with SET, which replaces any value, history or
// other type at key and removes its expiry; the key leaves the cache.
func (s *Store) Set(ctx context.Context, key string, value []byte) error {
	return s.r.Set(ctx, key, value)
}

// Delete implements [kv.Store] with DEL; the key leaves the cache.
func (s *Store) Delete(ctx context.Context, key string) (bool, error) { return s.r.Delete(ctx, key) }

// Scan implements [kv.Scanner] with SCAN MATCH pattern COUNT
// [Options.ScanCount], on every master of a cluster one after the other.
// The server never yields expired keys; the cache is not used.
func (s *Store) Scan(ctx context.Context, pattern string) iter.Seq2[string, error] {
	return s.r.Scan(ctx, pattern)
}

// SetWithTTL implements [kv.Expirer] with SET PX (ttl rounded up to a whole
// millisecond); the key leaves the cache.
func (s *Store) SetWithTTL(ctx context.Context, key string, value []byte, ttl time.Duration) error {
	return s.r.SetWithTTL(ctx, key, value, ttl)
}

// TTL implements [kv.Expirer] with PTTL, read from the server, not the
// cache. A key with less than a millisecond left reports one millisecond.
func (s *Store) TTL(ctx context.Context, key string) (time.Duration, error) { return s.r.TTL(ctx, key) }

// Append implements [kv.Historian] with the Lua script that RPUSHes value,
// converting a plain value into version 1 first (OpDelete, then OpAppend);
// the key leaves the cache.
func (s *Store) Append(ctx context.Context, key string, value []byte) (int64, error) {
	return s.r.Append(ctx, key, value)
}

// Latest implements [kv.Historian] with a Lua script, run on the server:
// the length and the last entry, read atomically; a plain value is version
// 1.
func (s *Store) Latest(ctx context.Context, key string) ([]byte, int64, error) {
	return s.r.Latest(ctx, key)
}

// At implements [kv.Historian] with LINDEX on the server; a plain value is
// version 1 and has no later versions.
func (s *Store) At(ctx context.Context, key string, version int64) ([]byte, error) {
	return s.r.At(ctx, key, version)
}

// History implements [kv.Historian] with LRANGE 0 -1 on the server; a plain
// value is a history of one entry.
func (s *Store) History(ctx context.Context, key string) ([][]byte, error) {
	return s.r.History(ctx, key)
}

// Prune implements [kv.Pruner] with the Lua script that empties old entries
// (LSET index "", one OpSet each) down to the first one already empty,
// never the newest; the key leaves the cache.
func (s *Store) Prune(ctx context.Context, key string, before int64) (int, error) {
	return s.r.Prune(ctx, key, before)
}

// Close implements [kv.Store]. It ends every watch and waits for their
// goroutines, then closes the client if the store owns it. It is idempotent.
func (s *Store) Close() error { return s.r.Close(s.closeClient) }
