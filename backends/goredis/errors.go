package goredis

import (
	"context"
	"errors"

	"github.com/redis/go-redis/v9"

	"github.com/cledar/storekit/internal/rediskv"
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
		return rediskv.ReplySentinel(rerr.Error())
	}
	// The caller's deadline or cancellation, whatever form it took on the
	// way.
	if cerr := rediskv.ContextError(ctx); cerr != nil {
		return cerr
	}
	if isConnError(err) {
		return kv.ErrUnavailable
	}
	return nil
}

// isConnError reports whether err means the server could not be reached or
// used: a transport failure (see rediskv.IsTransportError), an exhausted
// pool or a closed client.
func isConnError(err error) bool {
	return errors.Is(err, redis.ErrClosed) || errors.Is(err, redis.ErrPoolTimeout) ||
		errors.Is(err, redis.ErrPoolExhausted) || rediskv.IsTransportError(err)
}
