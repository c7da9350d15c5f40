package main

import (
	"context"
	"fmt"
	"net"
	"strconv"

	"github.com/redis/go-redis/v9"

	"github.com/cledar/storekit/kv"
)

// An outsideWriter appends versions to a history without going through the
// configstore.Store under demonstration, as another service would.
type outsideWriter struct {
	// name says who writes, for the demo's output.
	name string
	// push appends value to key's history and returns the new version.
	push  func(ctx context.Context, key string, value []byte) (int64, error)
	close func() error
}

// openOutsideWriter returns a writer for the store c names: on memory the
// kv.Store itself, used directly (kv.Historian.Append); on Redis a client of
// its own, on its own connection, doing RPUSH as the Python store does.
func openOutsideWriter(ctx context.Context, c connection, s *opened) (*outsideWriter, error) {
	if s.kind == "memory" {
		h, ok := s.Store.(kv.Historian)
		if !ok {
			return nil, fmt.Errorf("the store has no kv.Historian")
		}
		return &outsideWriter{
			name:  "kv.Historian.Append on the kv.Store directly",
			push:  h.Append,
			close: func() error { return nil },
		}, nil
	}
	host, port, err := splitAddr(c.addr.addr())
	if err != nil {
		return nil, err
	}
	client := redis.NewClient(&redis.Options{
		Addr: net.JoinHostPort(host, strconv.Itoa(port)), DB: c.db,
		Username: c.user, Password: c.password, ContextTimeoutEnabled: true,
	})
	if err := client.Ping(ctx).Err(); err != nil {
		_ = client.Close()
		return nil, fmt.Errorf("the other Redis client: %w", err)
	}
	return &outsideWriter{
		name: "another Redis client on its own connection, RPUSH",
		push: func(ctx context.Context, key string, value []byte) (int64, error) {
			return client.RPush(ctx, key, value).Result()
		},
		close: client.Close,
	}, nil
}
