package goredis

import (
	"context"
	"errors"

	"github.com/redis/go-redis/v9"

	"github.com/cledar/storekit/internal/rediskv"
)

// classify returns what err, returned by the client for a call made with
// ctx, stands for: a kv sentinel, the context's error, or nil for an
// operation error (the server rejected the request); see rediskv.Classify.
func classify(ctx context.Context, err error) error { return rediskv.Classify(ctx, err, library) }

// library is how go-redis reports errors.
var library = rediskv.Library{
	IsNil: func(err error) bool { return errors.Is(err, redis.Nil) },
	// An error reply, or one of the client's own Redis-style errors.
	Reply: rediskv.ReplyText[redis.Error],
	// A closed client or an exhausted pool.
	Unusable: func(err error) bool {
		return errors.Is(err, redis.ErrClosed) || errors.Is(err, redis.ErrPoolTimeout) ||
			errors.Is(err, redis.ErrPoolExhausted)
	},
}
