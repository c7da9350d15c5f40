package rueidiskv

import (
	"context"
	"errors"
	"fmt"

	"github.com/redis/rueidis"

	"github.com/cledar/storekit/internal/redisproto"
	"github.com/cledar/storekit/kv"
)

// classify returns what err, returned by the client for a call made with
// ctx, stands for: a kv sentinel, the context's error, or nil for an
// operation error (the server rejected the request).
func classify(ctx context.Context, err error) error {
	if rueidis.IsRedisNil(err) {
		return kv.ErrNotFound
	}
	var rerr *rueidis.RedisError
	if errors.As(err, &rerr) {
		if rerr.IsNil() {
			return kv.ErrNotFound
		}
		return redisproto.ReplySentinel(rerr.Error())
	}
	if errors.Is(err, rueidis.ErrNoCache) {
		// The server refused the CLIENT TRACKING of a new connection; the
		// reply is in the text only.
		if s := redisproto.ReplySentinel(err.Error()); s != nil {
			return s
		}
		return kv.ErrNotSupported
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
// used: a transport failure (see redisproto.IsTransportError), a cached read
// aborted by a lost connection, or a closed client.
func isConnError(err error) bool {
	return errors.Is(err, rueidis.ErrClosing) || errors.Is(err, rueidis.ErrDoCacheAborted) ||
		errors.Is(err, rueidis.ErrNoAddr) || redisproto.IsTransportError(err)
}

// wrapErr turns err from the client into the store's error for op (such as
// `get "k"`), wrapping both the sentinel or context error it stands for and
// the native error, so that errors.Is and errors.As both work.
func wrapErr(ctx context.Context, op string, err error) error {
	if s := classify(ctx, err); s != nil && s != err {
		return fmt.Errorf("rueidiskv: %s: %w: %w", op, s, err)
	}
	return fmt.Errorf("rueidiskv: %s: %w", op, err)
}

// keyErr is wrapErr for an operation on one key.
func keyErr(ctx context.Context, op, key string, err error) error {
	return wrapErr(ctx, op+" "+kv.QuoteKey(key), err)
}

// failKey formats an error of check for an operation on key.
func failKey(op, key string, err error) error {
	return fmt.Errorf("rueidiskv: %s %s: %w", op, kv.QuoteKey(key), err)
}

// isWrongType reports whether err is a WRONGTYPE error reply.
func isWrongType(err error) bool {
	rerr, ok := rueidis.IsRedisErr(err)
	return ok && redisproto.ReplySentinel(rerr.Error()) == kv.ErrWrongType
}

// abandoned reports whether err ended a fetch because the context of the
// call that made it ended, which says nothing of the key: another read that
// shared the fetch must make its own.
func abandoned(err error) bool {
	return errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded)
}
