package main

import (
	"context"
	"fmt"
	"net"
	"strconv"

	"github.com/redis/go-redis/v9"

	"github.com/cledar/storekit/backends/goredis"
	"github.com/cledar/storekit/backends/memory"
	"github.com/cledar/storekit/backends/redisconf"
	"github.com/cledar/storekit/backends/rueidiskv"
	"github.com/cledar/storekit/kv"
)

// backendConfig says which store the demo runs on.
type backendConfig struct {
	backend  string
	addr     string
	db       int
	username string
	password string
	// enableEvents lets the store turn on keyspace notifications.
	enableEvents bool
}

// kind returns the backend cfg selects: memory, goredis or what -backend says.
func (cfg backendConfig) kind() string {
	switch {
	case cfg.backend != "":
		return cfg.backend
	case cfg.addr != "":
		return "goredis"
	}
	return "memory"
}

// openStore builds the store cfg names and reports its name.
func openStore(ctx context.Context, cfg backendConfig) (kv.Store, string, error) {
	backend := cfg.kind()
	switch backend {
	case "rueidis", "rueidiskv":
		host, port, err := splitAddr(cfg.addr)
		if err != nil {
			return nil, "", err
		}
		s, err := rueidiskv.Dial(ctx, rueidiskv.Config{
			Host: host, Port: port, DB: cfg.db, Username: cfg.username, Password: cfg.password,
		}, &rueidiskv.Options{Options: redisconf.Options{EnableKeyspaceEvents: cfg.enableEvents}})
		if err != nil {
			return nil, "", err
		}
		return s, fmt.Sprintf("Redis at %s (db %d) through rueidis, with client-side caching", net.JoinHostPort(host, strconv.Itoa(port)), cfg.db), nil
	case "memory":
		if cfg.addr != "" {
			return nil, "", fmt.Errorf("demo: -redis given with -backend memory")
		}
		return memory.New(nil), "the in-memory store", nil
	case "goredis":
		host, port, err := splitAddr(cfg.addr)
		if err != nil {
			return nil, "", err
		}
		s, err := goredis.Dial(ctx, goredis.Config{
			Host: host, Port: port, DB: cfg.db, Username: cfg.username, Password: cfg.password,
		}, &goredis.Options{EnableKeyspaceEvents: cfg.enableEvents})
		if err != nil {
			return nil, "", err
		}
		return s, fmt.Sprintf("Redis at %s (db %d) through go-redis", net.JoinHostPort(host, strconv.Itoa(port)), cfg.db), nil
	default:
		return nil, "", fmt.Errorf("demo: unknown backend %q (want memory, goredis or rueidis)", backend)
	}
}

func splitAddr(addr string) (string, int, error) {
	if addr == "" {
		addr = "127.0.0.1:6379"
	}
	host, p, err := net.SplitHostPort(addr)
	if err != nil {
		return "", 0, fmt.Errorf("demo: -redis %q: %w", addr, err)
	}
	port, err := strconv.Atoi(p)
	if err != nil || port <= 0 || port > 65535 {
		return "", 0, fmt.Errorf("demo: -redis %q: bad port", addr)
	}
	return host, port, nil
}

// An outsideWriter appends versions to a history without going through the
// configstore.Store under demonstration, as another service would.
type outsideWriter struct {
	// name says who writes, for the demo's output.
	name string
	// push appends value to key's history and returns the new version.
	push  func(ctx context.Context, key string, value []byte) (int64, error)
	close func() error
}

// openOutsideWriter returns a writer for the store cfg names: on memory the
// kv.Store itself, used directly (kv.Historian.Append); on Redis a client of
// its own, on its own connection, doing RPUSH as the Python store does.
func openOutsideWriter(ctx context.Context, cfg backendConfig, store kv.Store) (*outsideWriter, error) {
	if cfg.kind() == "memory" {
		h, ok := store.(kv.Historian)
		if !ok {
			return nil, fmt.Errorf("demo: the store has no kv.Historian")
		}
		return &outsideWriter{
			name:  "kv.Historian.Append on the kv.Store directly",
			push:  h.Append,
			close: func() error { return nil },
		}, nil
	}
	host, port, err := splitAddr(cfg.addr)
	if err != nil {
		return nil, err
	}
	client := redis.NewClient(&redis.Options{
		Addr: net.JoinHostPort(host, strconv.Itoa(port)), DB: cfg.db,
		Username: cfg.username, Password: cfg.password, ContextTimeoutEnabled: true,
	})
	if err := client.Ping(ctx).Err(); err != nil {
		_ = client.Close()
		return nil, fmt.Errorf("demo: the other Redis client: %w", err)
	}
	return &outsideWriter{
		name: "another Redis client on its own connection, RPUSH",
		push: func(ctx context.Context, key string, value []byte) (int64, error) {
			return client.RPush(ctx, key, value).Result()
		},
		close: client.Close,
	}, nil
}
