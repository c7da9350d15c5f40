package rueidiskv

import (
	"context"
	"crypto/tls"
	"fmt"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/redis/rueidis"
	"go.uber.org/zap"

	"github.com/cledar/storekit/internal/redisproto"
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
	DefaultScanCount = 1000
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
	c       redialClient
	log     *zap.Logger
	opts    Options // defaults applied; eventq.New applies WatchBuffer's
	cache   *Cache  // nil: reads go to the server
	cluster bool

	dbMu    sync.Mutex
	db      int  // the database of the client's connections
	dbKnown bool // db was given or read

	refusedWarned atomic.Bool // the warning of trackedReadRefused was logged

	life redisproto.Lifecycle
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
	s := &Store{c: redialClient{client}, cluster: client.Mode() == rueidis.ClientModeCluster}
	s.life.Init()
	if opts != nil {
		s.opts = *opts
	}
	s.log = s.opts.Logger
	if s.log == nil {
		s.log = zap.NewNop()
	}
	if s.opts.ScanCount <= 0 {
		s.opts.ScanCount = DefaultScanCount
	}
	if s.opts.CacheTTL <= 0 {
		s.opts.CacheTTL = DefaultCacheTTL
	}
	if !s.opts.DisableCache {
		s.cache = s.opts.Cache
		if s.cache == nil {
			s.log.Info("rueidiskv: no Cache in the options, so reads go to the server; " +
				"to cache, build the client from a Cache's ClientOption and pass the Cache, or use Open")
		}
	}
	return s
}

// Config says how [Dial] reaches a Redis server: the fields of the Python
// original's RedisServiceConfig, plus an ACL user name and TLS.
type Config struct {
	// Host is the server's host name or IP address. Defaults to "localhost".
	Host string
	// Port is the server's TCP port. Defaults to 6379.
	Port int
	// DB is the database number (SELECT). Defaults to 0.
	DB int
	// Username is the ACL user; empty means the default user.
	Username string
	// Password authenticates the connection; empty means no AUTH. It never
	// appears in errors or logs.
	Password string
	// TLS, when set, makes the connection use TLS with this configuration.
	TLS *tls.Config
}

// String describes c without its password.
func (c Config) String() string {
	return redisproto.DescribeServer(redisproto.Addr(c.Host, c.Port), c.DB, c.Username, c.Password != "", c.TLS != nil)
}

// GoString is String, so that %#v does not print the password either.
func (c Config) GoString() string { return "rueidiskv.Config(" + c.String() + ")" }

// Dial builds a rueidis client for the one server cfg names (never a
// cluster client: use [Open] for a cluster) and returns a store over it, as
// [Open] does.
func Dial(ctx context.Context, cfg Config, opts *Options) (*Store, error) {
	return Open(ctx, rueidis.ClientOption{
		InitAddress:       []string{redisproto.Addr(cfg.Host, cfg.Port)},
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
			zap.String("error", redisproto.Redact(err.Error(), opt.Password)))
		return nil, redisproto.InitError(ctx, "rueidiskv", classify(ctx, err), err, opt.Username, opt.Password)
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
	s.db, s.dbKnown = opt.SelectDB, true
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
func (s *Store) Client() rueidis.Client { return s.c.Client }

// Stats returns the counters of the store's cache (shared by every store
// that uses the same [Cache]), or zero counters when reads are not cached.
func (s *Store) Stats() CacheStats {
	if s.cache == nil {
		return CacheStats{}
	}
	return s.cache.Stats()
}

// arg returns value as a command argument. Without a Done channel, ctx
// cannot end the call before the command is written, so value's bytes are
// used in place; otherwise they are copied, since a call that returns early
// leaves its command queued, and the caller may change value meanwhile.
func arg(ctx context.Context, value []byte) string {
	if ctx.Done() == nil {
		return rueidis.BinaryString(value)
	}
	return string(value)
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
func (s *Store) Ping(ctx context.Context) error {
	if err := s.life.Check(ctx); err != nil {
		return fmt.Errorf("rueidiskv: ping: %w", err)
	}
	if err := s.c.Do(ctx, s.c.B().Ping().Build()).Error(); err != nil {
		return wrapErr(ctx, "ping", err)
	}
	return nil
}

// Get implements [kv.Store]. With caching on it reads through the cache
// (see the package documentation). A key holding a history (a list) or
// another Redis type yields an error wrapping kv.ErrWrongType.
func (s *Store) Get(ctx context.Context, key string) ([]byte, error) {
	if err := s.life.Check(ctx); err != nil {
		return nil, failKey("get", key, err)
	}
	if s.cache != nil {
		return s.cachedGet(ctx, key)
	}
	return s.serverGet(ctx, key)
}

// Set implements [kv.Store] with SET, which replaces any value, history or
// other type at key and removes its expiry.
func (s *Store) Set(ctx context.Context, key string, value []byte) error {
	if err := s.life.Check(ctx); err != nil {
		return failKey("set", key, err)
	}
	err := s.c.Do(ctx, s.c.B().Set().Key(key).Value(arg(ctx, value)).Build()).Error()
	s.wrote(key)
	if err != nil {
		return keyErr(ctx, "set", key, err)
	}
	return nil
}

// Delete implements [kv.Store] with DEL.
func (s *Store) Delete(ctx context.Context, key string) (bool, error) {
	if err := s.life.Check(ctx); err != nil {
		return false, failKey("delete", key, err)
	}
	n, err := s.c.Do(ctx, s.c.B().Del().Key(key).Build()).AsInt64()
	s.wrote(key)
	if err != nil {
		return false, keyErr(ctx, "delete", key, err)
	}
	return n > 0, nil
}

// SetWithTTL implements [kv.Expirer] with SET PX; ttl is rounded up to a
// whole millisecond.
func (s *Store) SetWithTTL(ctx context.Context, key string, value []byte, ttl time.Duration) error {
	if err := s.life.Check(ctx); err != nil {
		return failKey("set", key, err)
	}
	if ttl <= 0 {
		return fmt.Errorf("rueidiskv: set %s: ttl %v is not positive: %w", kv.QuoteKey(key), ttl, kv.ErrInvalid)
	}
	ms := int64((ttl + time.Millisecond - 1) / time.Millisecond)
	err := s.c.Do(ctx, s.c.B().Set().Key(key).Value(arg(ctx, value)).PxMilliseconds(ms).Build()).Error()
	s.wrote(key)
	if err != nil {
		return keyErr(ctx, "set", key, err)
	}
	return nil
}

// TTL implements [kv.Expirer] with PTTL, read from the server. A key with
// less than a millisecond left reports one millisecond.
func (s *Store) TTL(ctx context.Context, key string) (time.Duration, error) {
	if err := s.life.Check(ctx); err != nil {
		return 0, failKey("ttl", key, err)
	}
	ms, err := s.c.Do(ctx, s.c.B().Pttl().Key(key).Build()).AsInt64()
	if err != nil {
		return 0, keyErr(ctx, "ttl", key, err)
	}
	switch {
	case ms == -2:
		return 0, fmt.Errorf("rueidiskv: ttl %s: %w", kv.QuoteKey(key), kv.ErrNotFound)
	case ms == -1:
		return kv.NoExpiry, nil
	case ms < 1:
		return time.Millisecond, nil
	}
	return time.Duration(ms) * time.Millisecond, nil
}

// Close implements [kv.Store]. It ends every watch and waits for their
// goroutines, then closes the client if the store owns it. It is idempotent.
func (s *Store) Close() error {
	if !s.life.Close() {
		return nil
	}
	if s.opts.CloseClient {
		s.c.Close()
	}
	return nil
}
