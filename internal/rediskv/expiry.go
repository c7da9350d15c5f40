package rediskv

import (
	"context"
	"fmt"
	"strconv"
	"time"

	"github.com/cledar/storekit/internal/validate"
	"github.com/cledar/storekit/kv"
	"github.com/cledar/storekit/metrics"
)

// persistScript removes the expiry of KEYS[1] (PERSIST: watchers see
// "persist" only when there was one) and returns 1 if the key exists, 0
// otherwise.
var persistScript = newScript(`
if redis.call('EXISTS', KEYS[1]) == 0 then
	return 0
end
redis.call('PERSIST', KEYS[1])
return 1
`)

// getWithTTLScript returns the plain value at KEYS[1] with its PTTL, read
// atomically, as the array {value, pttl}; a nil reply when the key does not
// exist, and GET's WRONGTYPE error reply for a key of another type.
var getWithTTLScript = newScript(`
local v = redis.pcall('GET', KEYS[1])
if type(v) == 'table' then
	return v
end
if not v then
	return false
end
return {v, redis.call('PTTL', KEYS[1])}
`)

// millis returns ttl in whole milliseconds, rounded up: Redis's precision.
func millis(ttl time.Duration) int64 {
	return int64((ttl + time.Millisecond - 1) / time.Millisecond)
}

// pttlDuration returns the time to live of a PTTL reply of ms for a key
// that exists: kv.NoExpiry for -1, and at least a millisecond otherwise.
func pttlDuration(ms int64) time.Duration {
	switch {
	case ms == -1:
		return kv.NoExpiry
	case ms < 1:
		return time.Millisecond
	}
	return time.Duration(ms) * time.Millisecond
}

// Expire implements [kv.ExpiryChanger] with PEXPIRE; ttl is rounded up to
// a whole millisecond.
func (s *Store) Expire(ctx context.Context, key string, ttl time.Duration) (_ bool, err error) {
	defer s.counters.Done(metrics.OpExpire, &err)
	if err := s.life.Check(ctx); err != nil {
		return false, s.fail("expire", key, err)
	}
	if err := validate.TTL(ttl); err != nil {
		return false, s.fail("expire", key, err)
	}
	r := s.c.Do(ctx, Cmd{Name: "PEXPIRE", Key: key, Args: []string{strconv.FormatInt(millis(ttl), 10)}})
	s.wrote(key)
	if r.Err != nil {
		return false, s.keyErr(ctx, "expire", key, r.Err)
	}
	return r.Int == 1, nil
}

// Persist implements [kv.ExpiryChanger] with a Lua script: EXISTS, then
// PERSIST, so that it reports whether the key exists, not only whether it
// had an expiry.
func (s *Store) Persist(ctx context.Context, key string) (_ bool, err error) {
	defer s.counters.Done(metrics.OpPersist, &err)
	if err := s.life.Check(ctx); err != nil {
		return false, s.fail("persist", key, err)
	}
	r := s.eval(ctx, persistScript, key)
	s.wrote(key)
	if r.Err != nil {
		return false, s.keyErr(ctx, "persist", key, r.Err)
	}
	return r.Int == 1, nil
}

// GetWithTTL implements [kv.ExpiryChanger] with a Lua script that reads
// GET and PTTL in one atomic step, from the server (never from a cache).
func (s *Store) GetWithTTL(ctx context.Context, key string) (_ []byte, _ time.Duration, err error) {
	defer s.counters.Done(metrics.OpGetWithTTL, &err)
	if err := s.life.Check(ctx); err != nil {
		return nil, 0, s.fail("getwithttl", key, err)
	}
	r := s.eval(ctx, getWithTTLScript, key)
	if r.Err != nil {
		return nil, 0, s.keyErr(ctx, "getwithttl", key, r.Err)
	}
	if r.Kind != KindArray || len(r.Array) != 2 || r.Array[0].Kind != KindStr || r.Array[1].Kind != KindInt {
		return nil, 0, s.fail("getwithttl", key, fmt.Errorf("%w from the script: %+v", errUnexpected, r))
	}
	return r.Array[0].Bytes(), pttlDuration(r.Array[1].Int), nil
}
