package rediskv

import (
	"context"
	"fmt"
	"strings"

	"github.com/cledar/storekit/kv"
	"github.com/cledar/storekit/metrics"
)

// The texts of INCRBY's error replies (rueidis strips the leading "ERR ").
const (
	notIntegerReply = "value is not an integer or out of range"
	overflowReply   = "increment or decrement would overflow"
)

// Incr implements [kv.Counter] with INCRBY, which keeps the key's expiry.
// Redis parses the value exactly as kv.Counter says; a value it cannot
// parse, and a history, yield kv.ErrWrongType, and a result beyond the
// int64 range kv.ErrInvalid.
func (s *Store) Incr(ctx context.Context, key string, delta int64) (_ int64, err error) {
	defer s.counters.Done(metrics.OpIncr, &err)
	if err := s.life.Check(ctx); err != nil {
		return 0, s.fail("incr", key, err)
	}
	r := s.c.IncrBy(ctx, key, delta)
	s.wrote(key)
	if r.Err != nil {
		if s.c.Classify(ctx, r.Err) == nil {
			switch msg := r.Err.Error(); {
			case strings.Contains(msg, notIntegerReply):
				return 0, fmt.Errorf("%s: incr %s: the value is not the decimal text of an int64: %w: %w",
					s.backend, kv.QuoteKey(key), kv.ErrWrongType, r.Err)
			case strings.Contains(msg, overflowReply):
				return 0, fmt.Errorf("%s: incr %s by %d: the result would overflow an int64: %w: %w",
					s.backend, kv.QuoteKey(key), delta, kv.ErrInvalid, r.Err)
			}
		}
		return 0, s.keyErr(ctx, "incr", key, r.Err)
	}
	return r.Int, nil
}
