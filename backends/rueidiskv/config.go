package rueidiskv

import (
	"context"
	"crypto/tls"
	"errors"
	"net"
	"time"

	"github.com/redis/rueidis"

	"github.com/cledar/storekit/backends/redisconf"
	"github.com/cledar/storekit/internal/rediskv"
	"github.com/cledar/storekit/kv"
)

// Config says how [Dial] reaches Redis: one server (host, port or Unix
// socket, database), a Redis Cluster or a Sentinel deployment, with an ACL
// user, password, TLS and timeouts. See package redisconf; [DialURL] reads
// it from a URL.
type Config = redisconf.Config

// sentinelRefresh is how often a client that Dial makes for a Sentinel
// deployment asks the sentinels for the master, besides hearing of
// failovers from them: a missed announcement would otherwise leave it on
// the old master.
const sentinelRefresh = 5 * time.Second

// Dial builds a rueidis client from cfg and returns a store over it, as
// [Open] does: for one server a client of that server alone (never a
// cluster client, even if the server answers CLUSTER SLOTS); for a cluster
// (cfg.ClusterAddrs) a cluster client seeded with those addresses, refused
// with an error wrapping [kv.ErrNotSupported] when the server is not a
// cluster node; for a Sentinel deployment (cfg.MasterName) a client that
// asks the sentinels for the master, and asks them again every 5 seconds
// besides hearing of failovers. cfg.DialTimeout bounds the opening of a
// connection (Dialer.Timeout, to the sentinels too); the larger of
// cfg.ReadTimeout and cfg.WriteTimeout, when set, is ConnWriteTimeout,
// rueidis's one timeout for replies and commands. A cfg that
// [redisconf.Config.Validate] refuses gives its error, wrapping
// [kv.ErrInvalid]; no error holds a password.
func Dial(ctx context.Context, cfg Config, opts *Options) (*Store, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	s, err := Open(ctx, clientOption(cfg), opts)
	if err != nil {
		return nil, cfg.RedactError(err)
	}
	if cfg.Topology() == redisconf.Cluster && s.Client().Mode() != rueidis.ClientModeCluster {
		_ = s.Close()
		return nil, rediskv.InitError(ctx, "rueidiskv", kv.ErrNotSupported,
			errors.New("the server is not a Redis Cluster node (its cluster support is disabled): name one server with redis://"),
			cfg.Username, cfg.Password)
	}
	return s, nil
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

// clientOption returns the option of a client of the Redis that cfg, a
// valid Config, describes.
func clientOption(cfg Config) rueidis.ClientOption {
	dialer := net.Dialer{Timeout: cfg.DialTimeout}
	opt := rueidis.ClientOption{
		InitAddress:      cfg.Addrs(),
		SelectDB:         cfg.DB,
		Username:         cfg.Username,
		Password:         cfg.Password,
		TLSConfig:        cfg.TLS,
		Dialer:           dialer,
		ConnWriteTimeout: max(cfg.ReadTimeout, cfg.WriteTimeout),
	}
	switch cfg.Topology() {
	case redisconf.Standalone:
		opt.ForceSingleClient = true
		if cfg.Socket != "" {
			opt.DialCtxFn = dialUnix
		}
	case redisconf.Sentinel:
		if dialer.Timeout == 0 {
			// rueidis applies its defaults to Dialer, not to the
			// sentinels' dialer.
			dialer.Timeout = rueidis.DefaultDialTimeout
		}
		dialer.KeepAlive = rueidis.DefaultTCPKeepAlive
		opt.Sentinel = rueidis.SentinelOption{
			MasterSet:               cfg.MasterName,
			Username:                cfg.SentinelUsername,
			Password:                cfg.SentinelPassword,
			TLSConfig:               cfg.TLS,
			Dialer:                  dialer,
			TopologyRefreshInterval: sentinelRefresh,
		}
	}
	return opt
}

// dialUnix is the DialCtxFn of a client of a server on a Unix socket, whose
// path is addr.
func dialUnix(ctx context.Context, addr string, d *net.Dialer, _ *tls.Config) (net.Conn, error) {
	return d.DialContext(ctx, "unix", addr)
}
