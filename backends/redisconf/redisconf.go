// Package redisconf holds the settings that storekit's Redis backends
// share: [Config], how a backend reaches one Redis server (the fields of the
// Python original's RedisServiceConfig: host, port, database, password; an
// ACL user and TLS), and [Options], how a store behaves whatever its client
// library. goredis.Config and rueidiskv.Config are Config; goredis.Options
// is Options, and rueidiskv.Options holds it.
package redisconf

import (
	"crypto/tls"
	"fmt"
	"net"
	"strconv"
	"time"

	"go.uber.org/zap"
)

// Defaults of a server address, as the Python original's RedisServiceConfig
// has them.
const (
	DefaultHost = "localhost"
	DefaultPort = 6379
)

// Config says how to reach a Redis server. The zero value is
// localhost:6379, database 0, the default user, no password, no TLS.
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

// Addr returns host:port, with the defaults applied to an empty Host and a
// zero Port.
func (c Config) Addr() string {
	host, port := c.Host, c.Port
	if host == "" {
		host = DefaultHost
	}
	if port == 0 {
		port = DefaultPort
	}
	return net.JoinHostPort(host, strconv.Itoa(port))
}

// String describes c without its password, for logs and %v, such as
// `redis://localhost:6379/0 user="" password=REDACTED tls=false`: only
// whether there is a password shows.
func (c Config) String() string {
	pw := ""
	if c.Password != "" {
		pw = " password=REDACTED"
	}
	return fmt.Sprintf("redis://%s/%d user=%q%s tls=%v", c.Addr(), c.DB, c.Username, pw, c.TLS != nil)
}

// GoString is String, so that %#v does not print the password either.
func (c Config) GoString() string { return "redisconf.Config(" + c.String() + ")" }

// Options configure a store of a Redis backend. The zero value gives the
// defaults.
type Options struct {
	// Logger receives warnings (such as a server whose CONFIG command is
	// unavailable) and informational messages (watch resubscriptions, a
	// watch following a failover). The store never logs values or
	// passwords; it may log patterns and server addresses. Defaults to a
	// no-op logger.
	Logger *zap.Logger

	// CloseClient makes Close close the client given to the backend's New.
	// By default a caller's client stays open: the caller owns it. A
	// store that made its client (Dial, Open) always closes it.
	CloseClient bool

	// ScanCount is the COUNT hint sent with every SCAN, the number of keys
	// the server looks at per call. Defaults to 1000.
	ScanCount int

	// EnableKeyspaceEvents lets Watch turn on the notify-keyspace-events
	// classes it needs (CONFIG SET, adding the missing classes to the
	// current setting) instead of failing when they are off, on every
	// (re)subscription. Off by default: the store never changes the
	// server's configuration unless told to.
	EnableKeyspaceEvents bool

	// WatchBuffer is the number of events a watch holds for a slow consumer
	// before it drops them and sends one OpResync instead. Defaults to
	// 1024.
	WatchBuffer int

	// TopologyInterval is how often a watch reads which servers hold the
	// keys (the masters of a cluster, a Sentinel's master), to follow a
	// failover to the new master. Defaults to one second.
	TopologyInterval time.Duration
}

// Log returns o.Logger, or a no-op logger when it is nil.
func (o *Options) Log() *zap.Logger {
	if o == nil || o.Logger == nil {
		return zap.NewNop()
	}
	return o.Logger
}
