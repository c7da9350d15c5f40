package goredis

import (
	"context"
	"errors"
	"fmt"

	"github.com/redis/go-redis/v9"

	"github.com/cledar/storekit/internal/redisproto"
	"github.com/cledar/storekit/kv"
)

// classify returns what err, returned by the client for a call made with
// ctx, stands for: a kv sentinel, the context's error, or nil for an
// operation error (the server rejected the request).
func classify(ctx context.Context, err error) error {
	if errors.Is(err, redis.Nil) {
		return kv.ErrNotFound
	}
	var rerr redis.Error
	if errors.As(err, &rerr) {
		// An error reply, or one of the client's own Redis-style errors.
		return redisproto.ReplySentinel(rerr.Error())
	}
	// The caller's deadline or cancellation, whatever form it took on the
	// way.
	if cerr := redisproto.ContextError(ctx); cerr != nil {
		return cerr
	}
	if isConnError(err) {
		return kv.ErrUnavailable
	}
	return nil
}

// isConnError reports whether err means the server could not be reached or
// used: a transport failure (see redisproto.IsTransportError), an exhausted
// pool or a closed client.
func isConnError(err error) bool {
	return errors.Is(err, redis.ErrClosed) || errors.Is(err, redis.ErrPoolTimeout) ||
		errors.Is(err, redis.ErrPoolExhausted) || redisproto.IsTransportError(err)
}

// wrapErr turns err from the client, for a call made with ctx, into the
// store's error for op (such as `get "k"`), wrapping both the sentinel or
// context error it stands for and the native error, so that errors.Is and
// errors.As both work. On a cluster client, an error that says a node could
// not be reached in time makes the client read the topology again (see
// [Store.unreachable]).
func (s *Store) wrapErr(ctx context.Context, op string, err error) error {
	c := classify(ctx, err)
	if c == kv.ErrUnavailable || c == context.DeadlineExceeded {
		s.unreachable()
	}
	if c != nil && c != err {
		return fmt.Errorf("goredis: %s: %w: %w", op, c, err)
	}
	return fmt.Errorf("goredis: %s: %w", op, err)
}

// keyErr is wrapErr for an operation on key.
func (s *Store) keyErr(ctx context.Context, op, key string, err error) error {
	return s.wrapErr(ctx, op+" "+kv.QuoteKey(key), err)
}

// unreachable makes a cluster client read the topology again after a call
// could not reach its node: go-redis does so by itself only on a MOVED or
// READONLY reply, or once its topology is some seconds old, so without this
// the writes to a master that failed over keep going to the dead node for
// tens of seconds. The reload runs in the background, one at a time.
func (s *Store) unreachable() {
	if cc, ok := s.c.(*redis.ClusterClient); ok {
		cc.ReloadState(context.Background())
	}
}

// isWrongType reports whether err is a WRONGTYPE error reply.
func isWrongType(err error) bool {
	var rerr redis.Error
	return errors.As(err, &rerr) && redisproto.ReplySentinel(rerr.Error()) == kv.ErrWrongType
}
