package goredis

import (
	"context"
	"iter"
	"time"

	"github.com/redis/go-redis/v9"
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

// DefaultScanCount is the COUNT hint of each SCAN call when
// [Options.ScanCount] is zero.
const DefaultScanCount = rediskv.DefaultScanCount

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
	c           redis.UniversalClient
	r           *rediskv.Store
	closeClient bool
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
	var o Options
	if opts != nil {
		o = *opts
	}
	log := o.Logger
	if log == nil {
		log = zap.NewNop()
	}
	s := &Store{c: client, closeClient: o.CloseClient}
	ro := rediskv.Options{
		Backend:              "goredis",
		Log:                  log,
		ScanCount:            o.ScanCount,
		EnableKeyspaceEvents: o.EnableKeyspaceEvents,
		WatchBuffer:          o.WatchBuffer,
		TopologyInterval:     o.TopologyInterval,
	}
	if cc, ok := client.(*redis.ClusterClient); ok {
		// go-redis reloads a cluster's topology by itself only on a MOVED
		// or READONLY reply, or once the topology it holds is some seconds
		// old: writes to a master that died would keep going to the dead
		// node. The reload runs in the background, one at a time.
		ro.Unreachable = func() { cc.ReloadState(context.Background()) }
	}
	s.r = rediskv.New(&adapter{c: client}, ro)
	if !honoursDeadlines(client) {
		log.Warn("goredis: the client was built without ContextTimeoutEnabled, so a call may run past its " +
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

// Config says how [Dial] reaches a Redis server: host, port, database, ACL
// user, password and TLS. See package redisconf.
type Config = redisconf.Config

// Dial builds a *redis.Client from cfg (with ContextTimeoutEnabled, so that
// every call honours its context's deadline), checks with PING that the
// server answers and accepts the credentials, and returns a store that owns the
// client (Close closes it; opts.CloseClient is ignored). If the server
// cannot be used Dial fails at once, with an error that starts with
// "goredis: could not initialize Redis client" and wraps [kv.ErrUnavailable]
// (or [kv.ErrPermission], saying what to grant, when the server refuses the
// user) and the client's error; it never holds the password. opts may be nil.
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
	addr := cfg.Addr()
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
			zap.String("error", rediskv.Redact(err.Error(), cfg.Password)))
		return nil, rediskv.InitError(ctx, "goredis", classify(ctx, err), err, cfg.Username, cfg.Password)
	}
	log.Info("goredis: Redis client pinged successfully", zap.String("addr", addr))
	return New(client, &o), nil
}

// Client returns the client the store uses.
func (s *Store) Client() redis.UniversalClient { return s.c }

// Ping checks with PING that the server answers and accepts the client's
// credentials; on a cluster the client decides which node it asks.
func (s *Store) Ping(ctx context.Context) error { return s.r.Ping(ctx) }

// Get implements [kv.Store] with GET. A key holding a history (a list) or
// another Redis type yields an error wrapping kv.ErrWrongType.
func (s *Store) Get(ctx context.Context, key string) ([]byte, error) { return s.r.Get(ctx, key) }

// Set implements [kv.Store] with SET, which replaces any value, history or
// other type at key and removes its expiry.
func (s *Store) Set(ctx context.Context, key string, value []byte) error {
	return s.r.Set(ctx, key, value)
}

// Delete implements [kv.Store] with DEL.
func (s *Store) Delete(ctx context.Context, key string) (bool, error) { return s.r.Delete(ctx, key) }

// GetMulti implements [kv.MultiGetter]. On a standalone or sentinel client
// it sends one MGET (per 1000 keys). On a *redis.ClusterClient it groups the
// keys by hash slot and pipelines one MGET per slot, so that each master
// gets its share in one round trip; on a *redis.Ring it pipelines one GET
// per key, which the ring splits by shard. A key that holds a history or
// another Redis type has Found false, as MGET reports it.
func (s *Store) GetMulti(ctx context.Context, keys []string) ([]kv.Value, error) {
	return s.r.GetMulti(ctx, keys)
}

// Scan implements [kv.Scanner] with SCAN MATCH pattern COUNT
// [Options.ScanCount]. On a cluster it scans every master, and on a ring
// every shard, one after the other. The server never yields expired keys.
func (s *Store) Scan(ctx context.Context, pattern string) iter.Seq2[string, error] {
	return s.r.Scan(ctx, pattern)
}

// SetWithTTL implements [kv.Expirer] with SET PX; ttl is rounded up to a
// whole millisecond.
func (s *Store) SetWithTTL(ctx context.Context, key string, value []byte, ttl time.Duration) error {
	return s.r.SetWithTTL(ctx, key, value, ttl)
}

// TTL implements [kv.Expirer] with PTTL. A key with less than a millisecond
// left reports one millisecond.
func (s *Store) TTL(ctx context.Context, key string) (time.Duration, error) { return s.r.TTL(ctx, key) }

// Append implements [kv.Historian]: a Lua script RPUSHes value, first
// converting a plain value into version 1 atomically (watchers then see
// OpDelete before OpAppend).
func (s *Store) Append(ctx context.Context, key string, value []byte) (int64, error) {
	return s.r.Append(ctx, key, value)
}

// Latest implements [kv.Historian] with a Lua script that reads the length
// and the last entry in one atomic step. A plain value is version 1.
func (s *Store) Latest(ctx context.Context, key string) ([]byte, int64, error) {
	return s.r.Latest(ctx, key)
}

// At implements [kv.Historian] with LINDEX. For a key that holds a plain
// value it reads the value and its type in one transaction: version 1 is
// the value, later versions do not exist.
func (s *Store) At(ctx context.Context, key string, version int64) ([]byte, error) {
	return s.r.At(ctx, key, version)
}

// History implements [kv.Historian] with LRANGE 0 -1; a plain value is a
// history of one entry.
func (s *Store) History(ctx context.Context, key string) ([][]byte, error) {
	return s.r.History(ctx, key)
}

// Prune implements [kv.Pruner] with a Lua script that empties the entries
// below version before (LSET index ""), from before-1 down to the first entry
// already empty, never the newest; watchers hear one OpSet per entry emptied.
// A missing key or a plain value is left alone.
func (s *Store) Prune(ctx context.Context, key string, before int64) (int, error) {
	return s.r.Prune(ctx, key, before)
}

// Close implements [kv.Store]. It ends every watch and waits for their
// goroutines, then closes the client if the store owns it. It is idempotent.
func (s *Store) Close() error { return s.r.Close(s.closeClient) }
