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
// operation error (the server rejected the request); see rediskv.Classify.
// A new connection whose CLIENT TRACKING the server refused (rueidis gives
// the reply in the text only) is kv.ErrPermission for an ACL denial, and
// kv.ErrNotSupported otherwise: the server has no client-side caching.
func classify(ctx context.Context, err error) error {
	if errors.Is(err, rueidis.ErrNoCache) {
		if s := rediskv.ReplySentinel(err.Error()); s != nil {
			return s
		}
		return kv.ErrNotSupported
	}
	return rediskv.Classify(ctx, err, library)
}

// library is how rueidis reports errors.
var library = rediskv.Library{
	IsNil: func(err error) bool {
		var rerr *rueidis.RedisError
		return rueidis.IsRedisNil(err) || errors.As(err, &rerr) && rerr.IsNil()
	},
	Reply: rediskv.ReplyText[*rueidis.RedisError],
	// A closed client, a cached read aborted by a lost connection, a
	// client that knows no address.
	Unusable: func(err error) bool {
		return errors.Is(err, rueidis.ErrClosing) || errors.Is(err, rueidis.ErrDoCacheAborted) ||
			errors.Is(err, rueidis.ErrNoAddr)
	},
}

// abandoned reports whether err ended a fetch because the context of the
// call that made it ended, which says nothing of the key: another read that
// shared the fetch must make its own.
func abandoned(err error) bool {
	return errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded)
}
