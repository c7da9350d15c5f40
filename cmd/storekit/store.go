package main

import (
	"context"
	"fmt"
	"net"
	"strconv"

	"github.com/cledar/storekit/backends/goredis"
	"github.com/cledar/storekit/backends/memory"
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

// openStore builds the store cfg names and reports its name.
func openStore(ctx context.Context, cfg backendConfig) (kv.Store, string, error) {
	backend := cfg.backend
	if backend == "" {
		backend = "memory"
		if cfg.addr != "" {
			backend = "goredis"
		}
	}
	switch backend {
	case "rueidis", "rueidiskv":
		host, port, err := splitAddr(cfg.addr)
		if err != nil {
			return nil, "", err
		}
		s, err := rueidiskv.Dial(ctx, rueidiskv.Config{
			Host: host, Port: port, DB: cfg.db, Username: cfg.username, Password: cfg.password,
		}, &rueidiskv.Options{EnableKeyspaceEvents: cfg.enableEvents})
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
