package goredis

import (
	"context"
	"crypto/tls"
	"fmt"
	"time"

	"github.com/redis/go-redis/v9"
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

// DefaultScanCount is the COUNT hint of each SCAN call when
// [Options.ScanCount] is zero.
const DefaultScanCount = 1000

// Options configure a [Store]. The zero value, like a nil *Options, gives the
// defaults.
type Options struct {
	// Logger receives warnings (such as a server whose CONFIG command is
	// unavailable) and informational messages (watch resubscriptions). The
	// store never logs values or passwords; it may log patterns and server
	// addresses. Defaults to a no-op logger. go-redis's own messages go to
	// its process-wide logger (standard error by default); send them here
	// too with [RouteClientLogs].
	Logger *zap.Logger

	// CloseClient makes Close close the client given to [New]. By default a
	// caller's client stays open: the caller owns it.
	CloseClient bool

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

// A Store is a [kv.Store] over a go-redis client, with every optional
// capability of package kv. It is safe for concurrent use. Create it with
// [New] or [Dial].
type Store struct {
	c    redis.UniversalClient
	log  *zap.Logger
	opts Options // defaults applied; eventq.New applies WatchBuffer's
	life redisproto.Lifecycle
}

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
	s := &Store{c: client}
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
	if !honoursDeadlines(client) {
		s.log.Warn("goredis: the client was built without ContextTimeoutEnabled, so a call may run past its " +
			"context's deadline, up to the client's ReadTimeout and WriteTimeout (seconds by default): " +
			"set ContextTimeoutEnabled in the client's options")
	}
	return s
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
func (c Config) GoString() string { return "goredis.Config(" + c.String() + ")" }

// Dial builds a *redis.Client from cfg (with ContextTimeoutEnabled, so that
// every call honours its context's deadline), checks with PING that the
// server answers and accepts the credentials, and returns a store that owns the
// client (Close closes it; opts.CloseClient is ignored). If the server
// cannot be used Dial fails at once, with an error that starts with
// "goredis: could not initialize Redis client" and wraps [kv.ErrUnavailable]
// and the client's error; it never holds the password. opts may be nil.
func Dial(ctx context.Context, cfg Config, opts *Options) (*Store, error) {
	var o Options
	if opts != nil {
		o = *opts
	}
	o.CloseClient = true
	log := o.Logger
	if log == nil {
		log = zap.NewNop()
	}
	addr := redisproto.Addr(cfg.Host, cfg.Port)
	client := redis.NewClient(&redis.Options{
		Addr:                  addr,
		DB:                    cfg.DB,
		Username:              cfg.Username,
		Password:              cfg.Password,
		TLSConfig:             cfg.TLS,
		ContextTimeoutEnabled: true,
	})
	log.Info("goredis: Redis client initialized", zap.String("addr", addr), zap.Int("db", cfg.DB))
	if err := client.Ping(ctx).Err(); err != nil {
		_ = client.Close()
		log.Warn("goredis: could not initialize Redis client", zap.String("addr", addr), zap.Int("db", cfg.DB),
			zap.String("error", redisproto.Redact(err.Error(), cfg.Password)))
		return nil, redisproto.InitError(ctx, "goredis", classify(ctx, err), err, cfg.Username, cfg.Password)
	}
	log.Info("goredis: Redis client pinged successfully", zap.String("addr", addr))
	return New(client, &o), nil
}

// Client returns the client the store uses.
func (s *Store) Client() redis.UniversalClient { return s.c }

// failKey formats an error of check for an operation on key.
func failKey(op, key string, err error) error {
	return fmt.Errorf("goredis: %s %s: %w", op, kv.QuoteKey(key), err)
}

// Ping checks with PING that the server answers and accepts the client's
// credentials; on a cluster the client decides which nodes it asks.
func (s *Store) Ping(ctx context.Context) error {
	if err := s.life.Check(ctx); err != nil {
		return fmt.Errorf("goredis: ping: %w", err)
	}
	if err := s.c.Ping(ctx).Err(); err != nil {
		return s.wrapErr(ctx, "ping", err)
	}
	return nil
}

// Get implements [kv.Store]. A key holding a history (a list) or another
// Redis type yields an error wrapping kv.ErrWrongType.
func (s *Store) Get(ctx context.Context, key string) ([]byte, error) {
	if err := s.life.Check(ctx); err != nil {
		return nil, failKey("get", key, err)
	}
	// Bytes returns the reply's own freshly read buffer, not shared with
	// anything else, so the caller may keep and change it.
	b, err := s.c.Get(ctx, key).Bytes()
	if err != nil {
		return nil, s.keyErr(ctx, "get", key, err)
	}
	if b == nil {
		b = []byte{}
	}
	return b, nil
}

// Set implements [kv.Store] with SET, which replaces any value, history or
// other type at key and removes its expiry.
func (s *Store) Set(ctx context.Context, key string, value []byte) error {
	if err := s.life.Check(ctx); err != nil {
		return failKey("set", key, err)
	}
	if err := s.c.Set(ctx, key, value, 0).Err(); err != nil {
		return s.keyErr(ctx, "set", key, err)
	}
	return nil
}

// Delete implements [kv.Store] with DEL.
func (s *Store) Delete(ctx context.Context, key string) (bool, error) {
	if err := s.life.Check(ctx); err != nil {
		return false, failKey("delete", key, err)
	}
	n, err := s.c.Del(ctx, key).Result()
	if err != nil {
		return false, s.keyErr(ctx, "delete", key, err)
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
		return fmt.Errorf("goredis: set %s: ttl %v is not positive: %w", kv.QuoteKey(key), ttl, kv.ErrInvalid)
	}
	ms := (ttl + time.Millisecond - 1) / time.Millisecond
	if err := s.c.Set(ctx, key, value, ms*time.Millisecond).Err(); err != nil {
		return s.keyErr(ctx, "set", key, err)
	}
	return nil
}

// TTL implements [kv.Expirer] with PTTL. A key with less than a millisecond
// left reports one millisecond.
func (s *Store) TTL(ctx context.Context, key string) (time.Duration, error) {
	if err := s.life.Check(ctx); err != nil {
		return 0, failKey("ttl", key, err)
	}
	d, err := s.c.PTTL(ctx, key).Result()
	if err != nil {
		return 0, s.keyErr(ctx, "ttl", key, err)
	}
	switch {
	case d == -2:
		return 0, fmt.Errorf("goredis: ttl %s: %w", kv.QuoteKey(key), kv.ErrNotFound)
	case d == -1:
		return kv.NoExpiry, nil
	case d < time.Millisecond:
		return time.Millisecond, nil
	}
	return d, nil
}

// Close implements [kv.Store]. It ends every watch and waits for their
// goroutines, then closes the client if the store owns it. It is idempotent.
func (s *Store) Close() error {
	if !s.life.Close() {
		return nil
	}
	if s.opts.CloseClient {
		if err := s.c.Close(); err != nil {
			return fmt.Errorf("goredis: close client: %w", err)
		}
	}
	return nil
}
