package rueidiskv

import (
	"context"
	"errors"

	"github.com/redis/rueidis"

	"github.com/cledar/storekit/internal/rediskv"
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
		return rediskv.ReplySentinel(rerr.Error())
	}
	if errors.Is(err, rueidis.ErrNoCache) {
		// The server refused the CLIENT TRACKING of a new connection; the
		// reply is in the text only.
		if s := rediskv.ReplySentinel(err.Error()); s != nil {
			return s
		}
		return kv.ErrNotSupported
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
// used: a transport failure (see rediskv.IsTransportError), a cached read
// aborted by a lost connection, or a closed client.
func isConnError(err error) bool {
	return errors.Is(err, rueidis.ErrClosing) || errors.Is(err, rueidis.ErrDoCacheAborted) ||
		errors.Is(err, rueidis.ErrNoAddr) || rediskv.IsTransportError(err)
}

// abandoned reports whether err ended a fetch because the context of the
// call that made it ended, which says nothing of the key: another read that
// shared the fetch must make its own.
func abandoned(err error) bool {
	return errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded)
}
