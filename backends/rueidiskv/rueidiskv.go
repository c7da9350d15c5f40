package rueidiskv

import (
	"context"
	"strings"
	"sync/atomic"
	"time"

	"github.com/redis/rueidis"
	"go.uber.org/zap"

	"github.com/cledar/storekit/backends/redisconf"
	"github.com/cledar/storekit/internal/rediskv"
	"github.com/cledar/storekit/metrics"
)

// A Store has every capability of package kv (rediskv.Capabilities lists
// them).
var _ rediskv.Capabilities = (*Store)(nil)

// Defaults of [Options].
const (
	// DefaultScanCount is the COUNT hint of each SCAN call when
	// Options.ScanCount is zero.
	DefaultScanCount = rediskv.DefaultScanCount
	// DefaultCacheTTL is the longest a read stays cached when
	// [Options.CacheTTL] is zero.
	DefaultCacheTTL = time.Minute
)

// Options configure a [Store]. The zero value, like a nil *Options, gives the
// defaults.
type Options struct {
	// Options are the settings every Redis backend has: Logger (which also
	// hears of a Cache that its client does not report to), CloseClient
	// ([Open] and [Dial] always close the client they made), ScanCount,
	// EnableKeyspaceEvents, WatchBuffer and TopologyInterval. It ignores
	// SeparatePipelines, which is package goredis's.
	redisconf.Options

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
}

// A Store is a [kv.Store] over a rueidis client, with every optional
// capability of package kv and a client-side cache: its methods Get,
// GetMulti (both through the cache), Set, Delete, Scan, SetWithTTL, TTL,
// Watch, Append, Latest, LatestMulti, At, History, Prune, SetIfAbsent, CompareAndSwap,
// CompareAndDelete, Incr, Expire, Persist, GetWithTTL (from the server),
// SetMulti, DeleteMulti, AppendIf and Close implement them as the package
// documentation says (the kv interfaces document what each does), and Ping
// checks the server. It is safe for concurrent use. Create it with
// [New], [Open] or [Dial].
type Store struct {
	*redisStore
	a        *adapter
	log      *zap.Logger
	cacheTTL time.Duration
	cache    *Cache // nil: reads go to the server

	refusedWarned atomic.Bool // the warning of trackedReadRefused was logged
}

// redisStore is the Redis logic that both Redis backends share.
type redisStore = rediskv.Store

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
	s := &Store{log: o.Log(), cacheTTL: o.CacheTTL}
	if s.cacheTTL <= 0 {
		s.cacheTTL = DefaultCacheTTL
	}
	if !o.DisableCache {
		s.cache = o.Cache
		if s.cache == nil {
			s.log.Info("rueidiskv: no Cache in the options, so reads go to the server; " +
				"to cache, build the client from a Cache's ClientOption and pass the Cache, or use Open")
		}
	}
	s.a = &adapter{c: redialClient{client}, cluster: client.Mode() == rueidis.ClientModeCluster, log: s.log}
	s.redisStore = rediskv.New(s.a, "rueidiskv", o.Options, rediskv.Hooks{
		Wrote:   s.wrote,
		Changed: s.wrote,
		Missed:  s.missedChanges,
	})
	return s
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
	d := rediskv.NewDialing(o.Log(), "rueidiskv", strings.Join(opt.InitAddress, ","), opt.SelectDB, opt.Username, opt.Password)
	fail := func(err error) (*Store, error) { return nil, d.Failed(ctx, classify(ctx, err), err) }
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
	d.Made(zap.Bool("cache", o.Cache != nil))
	if err := client.Do(ctx, client.B().Ping().Build()).Error(); err != nil {
		client.Close()
		return fail(err)
	}
	d.Pinged()
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

// Get implements [kv.Store]. With caching on it reads through the cache
// (see the package documentation). A key holding a history (a list) or
// another Redis type yields an error wrapping kv.ErrWrongType.
func (s *Store) Get(ctx context.Context, key string) (_ []byte, err error) {
	if s.cache == nil {
		return s.redisStore.Get(ctx, key)
	}
	defer rediskv.Counters(s.redisStore).Done(metrics.OpGet, &err)
	if err := rediskv.Check(ctx, s.redisStore); err != nil {
		return nil, rediskv.Fail(s.redisStore, "get", key, err)
	}
	return s.cachedGet(ctx, key)
}
