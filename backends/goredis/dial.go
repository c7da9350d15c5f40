package goredis

import (
	"context"
	"strings"

	"github.com/redis/go-redis/v9"

	"github.com/cledar/storekit/backends/redisconf"
	"github.com/cledar/storekit/internal/rediskv"
	"github.com/cledar/storekit/kv"
)

// Config says how [Dial] reaches Redis: one server (host, port or Unix
// socket, database), a Redis Cluster or a Sentinel deployment, with an ACL
// user, password, TLS and timeouts. See package redisconf; [DialURL] reads
// it from a URL.
type Config = redisconf.Config

// Dial builds a client from cfg, with ContextTimeoutEnabled so that every
// call honours its context's deadline: a *redis.Client for one server, a
// *redis.ClusterClient for a cluster (cfg.ClusterAddrs), or a failover
// *redis.Client for a Sentinel deployment (cfg.MasterName), which asks the
// sentinels for the master. It checks with PING that the server answers and
// accepts the credentials (on a cluster, after reading its slots; behind
// sentinels, on the master they name), and returns a store that owns the
// client (Close closes it; opts.CloseClient is ignored). opts may be nil.
//
// If the server cannot be used Dial fails at once, with an error that
// starts with "goredis: could not initialize Redis client" and wraps
// [kv.ErrUnavailable] (or [kv.ErrPermission], saying what to grant, when
// the server refuses the user, or [kv.ErrNotSupported] when a cluster's
// seed is a server without cluster support) and the client's error; it
// never holds a password. A cfg that [redisconf.Config.Validate] refuses gives its error,
// wrapping [kv.ErrInvalid].
func Dial(ctx context.Context, cfg Config, opts *Options) (*Store, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	var o Options
	if opts != nil {
		o = *opts
	}
	o.CloseClient = true
	d := rediskv.NewDialing(o.Log(), "goredis", strings.Join(cfg.Addrs(), ","), cfg.DB, cfg.Username, cfg.Password)
	client := newClient(cfg)
	d.Made()
	if err := client.Ping(ctx).Err(); err != nil {
		_ = client.Close()
		sentinel := classify(ctx, err)
		if cfg.Topology() == redisconf.Cluster && strings.Contains(err.Error(), "cluster support disabled") {
			sentinel = kv.ErrNotSupported // not a cluster node: no retry helps
		}
		return nil, d.Failed(ctx, sentinel, cfg.RedactError(err))
	}
	d.Pinged()
	return New(client, &o), nil
}

// DialURL is [Dial] of the Config that rawURL describes, such as
// "redis://app:secret@cache:6379/0", "redis+cluster://n1:7000,n2:7000" or
// "redis+sentinel://s1:26379,s2:26379/mymaster" (see package redisconf for
// the forms and the options). A URL that cannot be read gives a
// *redisconf.URLError wrapping [kv.ErrInvalid], which never holds a
// password.
func DialURL(ctx context.Context, rawURL string, opts *Options) (*Store, error) {
	cfg, err := redisconf.ParseURL(rawURL)
	if err != nil {
		return nil, err
	}
	return Dial(ctx, cfg, opts)
}

// newClient returns the client of the Redis that cfg, a valid Config,
// describes.
func newClient(cfg Config) redis.UniversalClient {
	opt := &redis.UniversalOptions{
		Addrs:                 cfg.Addrs(),
		IsClusterMode:         cfg.Topology() == redisconf.Cluster,
		MasterName:            cfg.MasterName,
		SentinelUsername:      cfg.SentinelUsername,
		SentinelPassword:      cfg.SentinelPassword,
		DB:                    cfg.DB,
		Username:              cfg.Username,
		Password:              cfg.Password,
		TLSConfig:             cfg.TLS,
		DialTimeout:           cfg.DialTimeout,
		ReadTimeout:           cfg.ReadTimeout,
		WriteTimeout:          cfg.WriteTimeout,
		ContextTimeoutEnabled: true,
	}
	if cfg.Socket != "" {
		simple := opt.Simple()
		simple.Network = "unix"
		return redis.NewClient(simple)
	}
	return redis.NewUniversalClient(opt)
}
