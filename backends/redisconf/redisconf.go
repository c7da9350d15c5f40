// Package redisconf says how a storekit Redis backend reaches one Redis
// server: the fields of the Python original's RedisServiceConfig (host,
// port, database, password), an ACL user and TLS. goredis.Config and
// rueidiskv.Config are this type.
package redisconf

import (
	"crypto/tls"
	"fmt"
	"net"
	"strconv"
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
