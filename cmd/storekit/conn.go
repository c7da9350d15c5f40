package main

import (
	"context"
	"flag"
	"fmt"
	"net"
	"strconv"

	"github.com/cledar/storekit/backends/goredis"
	"github.com/cledar/storekit/backends/memory"
	"github.com/cledar/storekit/backends/redisconf"
	"github.com/cledar/storekit/backends/rueidiskv"
	"github.com/cledar/storekit/kv"
)

// envPassword names the environment variable that holds the Redis password,
// which is never taken from a flag (other users of the machine would see it).
const envPassword = "STOREKIT_REDIS_PASSWORD"

// envURL names the environment variable that holds a Redis or PostgreSQL
// URL, used when neither -url nor -redis is given.
const envURL = "STOREKIT_URL"

// defaultAddr is the Redis address used when -redis is not given.
var defaultAddr = redisconf.Config{}.Addr()

// A connection says which store to open, as the flags give it.
type connection struct {
	// backend is memory, goredis, rueidis, postgres or "" (the command's
	// default, or postgres for a PostgreSQL URL).
	backend string
	// addr is -redis; set tells whether it was given.
	addr addrFlag
	db   int
	user string
	// password comes from $STOREKIT_REDIS_PASSWORD.
	password string
	// url is -url, or $STOREKIT_URL when neither -url nor -redis is given.
	url string
	// enableEvents lets the store turn on keyspace notifications.
	enableEvents bool
	// pgSchema and pgTable name the PostgreSQL table, "" for the
	// backend's defaults; pgCreate creates it when it is missing.
	pgSchema, pgTable string
	pgCreate          bool
	// creates is set for the demo, which needs its table: it creates the
	// PostgreSQL table as -pg-create does.
	creates bool
}

// register adds the connection flags to fs, with the values c holds as
// their defaults, so that flags given before the command stay set when the
// command's own flag set, which repeats them, is made.
func (c *connection) register(fs *flag.FlagSet) {
	fs.StringVar(&c.backend, "backend", c.backend,
		"store: memory, goredis, rueidis or postgres (default goredis, postgres for a postgres:// URL; "+
			"for demo: memory unless -redis or -url is given)")
	fs.StringVar(&c.url, "url", c.url, "Redis `URL`: redis://[user[:password]@]host[:port][/db], rediss:// (TLS), unix://, "+
		"redis+cluster://host1:port1,host2:port2, redis+sentinel://host:port/master; "+
		"or PostgreSQL URL: postgres://[user[:password]@]host[:port]/database[?sslmode=...] (default $"+envURL+")")
	fs.Var(&c.addr, "redis", "Redis address `host:port` (default "+defaultAddr+")")
	fs.IntVar(&c.db, "db", c.db, "Redis database number")
	fs.StringVar(&c.user, "user", c.user, "Redis ACL user name; the password comes from $"+envPassword)
	fs.BoolVar(&c.enableEvents, "enable-keyspace-events", c.enableEvents,
		"let watches turn on the Redis keyspace notifications they need (CONFIG SET notify-keyspace-events)")
	fs.StringVar(&c.pgSchema, "pg-schema", c.pgSchema, "PostgreSQL schema of the store's table (default "+defaultSchema+")")
	fs.StringVar(&c.pgTable, "pg-table", c.pgTable, "PostgreSQL table of the store (default "+defaultTable+")")
	fs.BoolVar(&c.pgCreate, "pg-create", c.pgCreate,
		"create the PostgreSQL schema and table when they are missing (the demo always does)")
}

// An addrFlag is the -redis flag: an address that shows its default and
// remembers whether it was given.
type addrFlag struct {
	value string
	set   bool
}

// String returns the address given, or "" (the flag package shows the
// default in the usage text).
func (a *addrFlag) String() string {
	if a == nil {
		return ""
	}
	return a.value
}

// addr returns the address given, or the default.
func (a *addrFlag) addr() string {
	if !a.set {
		return defaultAddr
	}
	return a.value
}

func (a *addrFlag) Set(s string) error {
	a.value, a.set = s, true
	return nil
}

// kind returns the backend c selects, given the command's default (memory for
// the demo, goredis otherwise): -backend when given, else postgres for a
// PostgreSQL URL, else goredis when -redis or -url is given.
func (c *connection) kind(def string) string {
	switch {
	case c.backend != "":
		return c.backend
	case isPostgresURL(c.url):
		return "postgres"
	case c.addr.set, c.url != "":
		return "goredis"
	}
	return def
}

// check reports settings that cannot work together, as usage errors.
func (c *connection) check(def string) error {
	kind := c.kind(def)
	if kind != "postgres" && (c.pgSchema != "" || c.pgTable != "" || c.pgCreate) {
		return usagef("-pg-schema, -pg-table and -pg-create are for PostgreSQL, which -url postgres://... selects; this store is %s", kind)
	}
	switch kind {
	case "memory":
		if c.addr.set || c.url != "" {
			return usagef("a store address (-redis, -url) given with -backend memory")
		}
	case "postgres":
		return c.checkPostgres()
	case "goredis", "rueidis":
		if isPostgresURL(c.url) {
			return usagef("-url (or $%s) is a PostgreSQL URL, which -backend %s cannot use: give -backend postgres, or no -backend",
				envURL, kind)
		}
		if c.url != "" {
			if c.addr.set || c.db != 0 || c.user != "" {
				return usagef("-url holds the address, database and user: give -redis, -db and -user only without it")
			}
			return nil
		}
		if _, _, err := splitAddr(c.addr.addr()); err != nil {
			return err
		}
		if c.user != "" && c.password == "" {
			return usagef("-user %s needs a password: set $%s (a user without one, nopass, accepts any)", c.user, envPassword)
		}
	default:
		return usagef("unknown backend %q (want memory, goredis, rueidis or postgres)", c.backend)
	}
	return nil
}

// An opened store is a kv.Store with what the commands say about it.
type opened struct {
	kv.Store
	// kind is the backend: memory, goredis, rueidis or postgres.
	kind string
	// name describes the store for people, such as "Redis at
	// localhost:6379 (db 0) through go-redis".
	name string
	// addr is the Redis address, or the URL without its password; "" on memory.
	addr string
	// user is the Redis ACL user, "" for the default user.
	user string
	// cfg is how the store reached Redis, zero on memory and PostgreSQL.
	cfg redisconf.Config
	// pg is how the store reached PostgreSQL, nil on the others.
	pg *pgTarget
	// close releases the store.
	close func() error
}

// openStore is the one place that turns the connection settings (flags,
// or a URL) into a store. def is the command's default backend. Before it
// dials it says where to on status, since a Redis that does not answer keeps
// it waiting until ctx ends.
func openStore(ctx context.Context, c connection, def string, status func(string)) (*opened, error) {
	if err := c.check(def); err != nil {
		return nil, err
	}
	kind := c.kind(def)
	switch kind {
	case "memory":
		s := memory.New(nil)
		return &opened{Store: s, kind: kind, name: "the in-memory store", close: s.Close}, nil
	case "postgres":
		return openPostgres(ctx, c, status)
	}
	cfg, err := c.config()
	if err != nil {
		return nil, err
	}
	// addr names the server in errors, where adds the database.
	addr := cfg.Redacted()
	where := addr
	if c.url == "" {
		addr = cfg.Addr()
		where = fmt.Sprintf("%s (db %d)", addr, cfg.DB)
	}
	o := &opened{kind: kind, addr: addr, user: cfg.Username, cfg: cfg}
	status(fmt.Sprintf("connecting to Redis at %s through %s", where, clientName(kind)))
	switch kind {
	case "rueidis":
		var s *rueidiskv.Store
		s, err = rueidiskv.Dial(ctx, cfg, &rueidiskv.Options{Options: redisconf.Options{EnableKeyspaceEvents: c.enableEvents}})
		if err == nil {
			o.Store, o.close = s, s.Close
		}
		o.name = fmt.Sprintf("Redis at %s through rueidis, with client-side caching", where)
	default:
		var s *goredis.Store
		s, err = goredis.Dial(ctx, cfg, &goredis.Options{EnableKeyspaceEvents: c.enableEvents})
		if err == nil {
			o.Store, o.close = s, s.Close
		}
		o.name = fmt.Sprintf("Redis at %s through go-redis", where)
	}
	if err != nil {
		return nil, &dialError{server: "Redis", addr: addr, user: cfg.Username, url: c.url != "", err: err}
	}
	return o, nil
}

// config returns the Redis settings c gives: those of the URL, with the
// password of $STOREKIT_REDIS_PASSWORD when the URL has none, or those of
// -redis, -db and -user. A bad URL is a usage error that never quotes its
// password.
func (c *connection) config() (redisconf.Config, error) {
	if c.url != "" {
		cfg, err := redisconf.ParseURL(c.url)
		if err != nil {
			return redisconf.Config{}, usagef("-url: %v", err)
		}
		if cfg.Password == "" {
			cfg.Password = c.password
		}
		return cfg, nil
	}
	host, port, err := splitAddr(c.addr.addr())
	if err != nil {
		return redisconf.Config{}, err
	}
	return redisconf.Config{Host: host, Port: port, DB: c.db, Username: c.user, Password: c.password}, nil
}

// clientName is the Redis client library of a backend.
func clientName(kind string) string {
	if kind == "rueidis" {
		return "rueidis"
	}
	return "go-redis"
}

// splitAddr splits a -redis address into host and port.
func splitAddr(addr string) (string, int, error) {
	host, p, err := net.SplitHostPort(addr)
	if err != nil {
		return "", 0, usagef("-redis %q: want host:port", addr)
	}
	port, err := strconv.Atoi(p)
	if err != nil || port <= 0 || port > 65535 {
		return "", 0, usagef("-redis %q: bad port", addr)
	}
	return host, port, nil
}
