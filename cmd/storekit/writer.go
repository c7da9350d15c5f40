package main

import (
	"context"
	"fmt"

	"github.com/cledar/storekit/backends/goredis"
	"github.com/cledar/storekit/backends/postgres"
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

// openOutsideWriter returns a writer for the store s: on memory the
// kv.Store itself, used directly (kv.Historian.Append); on Redis a client of
// its own, on its own connection, doing RPUSH as the Python store does; on
// PostgreSQL a store of its own on the same table, with its own connections.
func openOutsideWriter(ctx context.Context, s *opened) (*outsideWriter, error) {
	if s.pg != nil {
		opts := s.pg.opts
		opts.CreateSchema = false // s made the table
		other, err := postgres.Open(ctx, s.pg.url, &opts)
		if err != nil {
			return nil, fmt.Errorf("the other PostgreSQL client: %w", err)
		}
		return &outsideWriter{
			name:  "another PostgreSQL client on its own connections, kv.Historian.Append",
			push:  other.Append,
			close: other.Close,
		}, nil
	}
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
	other, err := goredis.Dial(ctx, s.cfg, nil)
	if err != nil {
		return nil, fmt.Errorf("the other Redis client: %w", err)
	}
	client := other.Client()
	return &outsideWriter{
		name: "another Redis client on its own connection, RPUSH",
		push: func(ctx context.Context, key string, value []byte) (int64, error) {
			return client.RPush(ctx, key, value).Result()
		},
		close: other.Close,
	}, nil
}
