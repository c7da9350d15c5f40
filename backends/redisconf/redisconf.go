package redisconf

import (
	"crypto/tls"
	"fmt"
	"net"
	"slices"
	"strconv"
	"time"

	"go.uber.org/zap"

	"github.com/cledar/storekit/kv"
)

// Defaults of a server address, as the Python original's RedisServiceConfig
// has them.
const (
	DefaultHost = "localhost"
	DefaultPort = 6379
	// DefaultSentinelPort is the port of a sentinel whose address in a URL
	// has none.
	DefaultSentinelPort = 26379
)

// maxPort is the highest TCP port.
const maxPort = 65535

// Config says how to reach Redis: one server (Host and Port, or Socket), a
// Redis Cluster (ClusterAddrs) or the master of a Sentinel deployment
// (MasterName and SentinelAddrs). The zero value is localhost:6379,
// database 0, the default user, no password, no TLS, and the client
// library's default timeouts. [ParseURL] reads a Config from a URL.
//
// A Config prints as its URL with the passwords replaced by xxxxx (see
// [Config.Redacted]), whatever the verb.
type Config struct {
	// Host is the server's host name or IP address. Defaults to "localhost".
	Host string
	// Port is the server's TCP port. Defaults to 6379.
	Port int
	// DB is the database number (SELECT). Defaults to 0; a cluster has
	// database 0 only.
	DB int
	// Username is the ACL user; empty means the default user.
	Username string
	// Password authenticates the connection; empty means no AUTH. It never
	// appears in errors, logs or the printed Config.
	Password string
	// TLS, when set, makes the connections use TLS with this configuration
	// (to the sentinels too).
	TLS *tls.Config

	// Socket, when set, is the path of the Unix socket of the server, which
	// is then reached through it instead of Host and Port.
	Socket string

	// ClusterAddrs, when set, makes Config describe a Redis Cluster: they
	// are the host:port addresses of some of its nodes, which the client
	// asks for the others. Host, Port and Socket are then unused.
	ClusterAddrs []string

	// MasterName, when set, makes Config describe a Sentinel deployment:
	// the name the sentinels at SentinelAddrs (host:port) monitor the master
	// under. The client asks them for the master, and follows a failover
	// to the new one. Host, Port and Socket are then unused; Username and
	// Password are still those of the master.
	MasterName    string
	SentinelAddrs []string
	// SentinelUsername and SentinelPassword authenticate the connections
	// to the sentinels; empty means the default user and no AUTH. The
	// password never appears in errors, logs or the printed Config.
	SentinelUsername string
	SentinelPassword string

	// DialTimeout, ReadTimeout and WriteTimeout bound the opening of a
	// connection, the wait for a reply and the sending of a command, on
	// top of each call's context. Zero means the client library's default.
	// rueidis has one timeout for replies and commands both
	// (ConnWriteTimeout): it gets the larger of ReadTimeout and
	// WriteTimeout.
	DialTimeout  time.Duration
	ReadTimeout  time.Duration
	WriteTimeout time.Duration
}

// A Topology is what a [Config] describes: one server, a Redis Cluster or
// a Sentinel deployment.
type Topology int

// The topologies of a Config.
const (
	Standalone Topology = iota // one server: Host and Port, or Socket
	Cluster                    // a Redis Cluster: ClusterAddrs
	Sentinel                   // a master found through sentinels: MasterName and SentinelAddrs
)

// Topology returns what c describes: Sentinel when MasterName is set,
// else Cluster when ClusterAddrs is, else Standalone.
func (c Config) Topology() Topology {
	switch {
	case c.MasterName != "":
		return Sentinel
	case len(c.ClusterAddrs) > 0:
		return Cluster
	}
	return Standalone
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

// Addrs returns the addresses a client of c starts from: the cluster's
// seeds, the sentinels', or the one server's (Socket, or Addr).
func (c Config) Addrs() []string {
	switch {
	case c.Topology() == Sentinel:
		return c.SentinelAddrs
	case c.Topology() == Cluster:
		return c.ClusterAddrs
	case c.Socket != "":
		return []string{c.Socket}
	}
	return []string{c.Addr()}
}

// Validate reports what makes c unusable, such as both a cluster and a
// Sentinel master, a master name without sentinels, a database other than
// 0 on a cluster, an address that is not host:port, or a negative number,
// with an error wrapping [kv.ErrInvalid]. The zero Config is valid.
func (c Config) Validate() error {
	switch {
	case len(c.ClusterAddrs) > 0 && (c.MasterName != "" || len(c.SentinelAddrs) > 0):
		return invalidConfig("ClusterAddrs and MasterName or SentinelAddrs are both set: a Config is a cluster or a Sentinel deployment, not both")
	case c.MasterName != "" && len(c.SentinelAddrs) == 0:
		return invalidConfig("MasterName needs SentinelAddrs")
	case c.MasterName == "" && len(c.SentinelAddrs) > 0:
		return invalidConfig("SentinelAddrs need MasterName")
	case c.Socket != "" && c.Topology() != Standalone:
		return invalidConfig("Socket names one server, not a cluster or a Sentinel deployment")
	case c.Topology() == Cluster && c.DB != 0:
		return invalidConfig("a cluster has database 0 only")
	case c.DB < 0:
		return invalidConfig("DB is negative")
	case c.Port < 0 || c.Port > maxPort:
		return invalidConfig("Port is not between 1 and 65535")
	case c.DialTimeout < 0 || c.ReadTimeout < 0 || c.WriteTimeout < 0:
		return invalidConfig("a timeout is negative")
	}
	for _, addr := range append(slices.Clip(c.ClusterAddrs), c.SentinelAddrs...) {
		if _, _, err := net.SplitHostPort(addr); err != nil {
			return invalidConfig(fmt.Sprintf("address %q is not host:port", addr))
		}
	}
	return nil
}

// invalidConfig returns the error of [Config.Validate] for what is wrong.
func invalidConfig(what string) error {
	return fmt.Errorf("redisconf: invalid Config: %s: %w", what, kv.ErrInvalid)
}

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

	// SeparatePipelines, for a goredis store over a *redis.ClusterClient,
	// sends each bulk call in a go-redis pipeline of its own, so that a
	// pipeline hook of the client (tracing) sees each call apart, under
	// the call's context. By default a store's concurrent bulk calls share
	// pipelines once several are in flight: see "Shared pipelines" in
	// package goredis. Other clients, and rueidiskv (whose client shares
	// connections between calls by itself), ignore it.
	SeparatePipelines bool
}

// Log returns o.Logger, or a no-op logger when it is nil.
func (o *Options) Log() *zap.Logger {
	if o == nil || o.Logger == nil {
		return zap.NewNop()
	}
	return o.Logger
}
