package rediskv

import (
	"context"
	"strconv"
	"time"

	"github.com/cledar/storekit/internal/validate"
	"github.com/cledar/storekit/metrics"
)

// casScript replaces the plain value at KEYS[1] with ARGV[2] if it equals
// ARGV[1], and returns 1 if it did, 0 otherwise (a missing key included).
// ARGV[3] is the new expiry in milliseconds, or "0" to keep the key's
// (SET KEEPTTL): watchers see "set", then "expire" when ARGV[3] is not
// "0". A key of another type yields GET's WRONGTYPE error reply.
var casScript = newScript(`
local cur = redis.pcall('GET', KEYS[1])
if type(cur) == 'table' then
	return cur
end
if cur ~= ARGV[1] then
	return 0
end
if ARGV[3] == '0' then
	redis.call('SET', KEYS[1], ARGV[2], 'KEEPTTL')
else
	redis.call('SET', KEYS[1], ARGV[2], 'PX', ARGV[3])
end
return 1
`)

// cadScript deletes KEYS[1] if it holds the plain value ARGV[1], and
// returns 1 if it did, 0 otherwise. A key of another type yields GET's
// WRONGTYPE error reply.
var cadScript = newScript(`
local cur = redis.pcall('GET', KEYS[1])
if type(cur) == 'table' then
	return cur
end
if cur ~= ARGV[1] then
	return 0
end
return redis.call('DEL', KEYS[1])
`)

// SetIfAbsent implements [kv.Conditional] with SET NX (PX when ttl is
// positive, rounded up to a millisecond).
func (s *Store) SetIfAbsent(ctx context.Context, key string, value []byte, ttl time.Duration) (_ bool, err error) {
	defer s.counters.Done(metrics.OpSetIfAbsent, &err)
	if err := s.life.Check(ctx); err != nil {
		return false, s.fail("setifabsent", key, err)
	}
	if err := validate.OptionalTTL(ttl); err != nil {
		return false, s.fail("setifabsent", key, err)
	}
	r := s.setNX(ctx, key, value, millis(ttl))
	s.wrote(key) // also when it did not write: a cached copy is stale
	switch {
	case r.Nil:
		return false, nil
	case r.Err != nil:
		return false, s.keyErr(ctx, "setifabsent", key, r.Err)
	}
	return true, nil
}

// setNX runs SET key value NX, with PX px when px > 0.
func (s *Store) setNX(ctx context.Context, key string, value []byte, px int64) Reply {
	if s.cc != nil {
		return s.cc.SetNX(ctx, key, value, px)
	}
	args := []string{s.arg(ctx, value), "NX"}
	if px > 0 {
		args = append(args, "PX", strconv.FormatInt(px, 10))
	}
	return s.c.Do(ctx, Cmd{Name: "SET", Key: key, Args: args})
}

// CompareAndSwap implements [kv.Conditional] with a Lua script: GET,
// compare, then SET KEEPTTL when ttl is kv.KeepTTL, or SET PX (ttl rounded
// up to a millisecond) otherwise.
func (s *Store) CompareAndSwap(ctx context.Context, key string, old, new []byte, ttl time.Duration) (_ bool, err error) {
	defer s.counters.Done(metrics.OpCompareAndSwap, &err)
	if err := s.life.Check(ctx); err != nil {
		return false, s.fail("compareandswap", key, err)
	}
	if err := validate.OptionalTTL(ttl); err != nil {
		return false, s.fail("compareandswap", key, err)
	}
	r := s.eval(ctx, casScript, key, s.arg(ctx, old), s.arg(ctx, new), strconv.FormatInt(millis(ttl), 10))
	s.wrote(key) // also when it did not swap: a cached copy is stale
	if r.Err != nil {
		return false, s.keyErr(ctx, "compareandswap", key, r.Err)
	}
	return r.Int == 1, nil
}

// CompareAndDelete implements [kv.Conditional] with a Lua script: GET,
// compare, then DEL.
func (s *Store) CompareAndDelete(ctx context.Context, key string, old []byte) (_ bool, err error) {
	defer s.counters.Done(metrics.OpCompareAndDelete, &err)
	if err := s.life.Check(ctx); err != nil {
		return false, s.fail("compareanddelete", key, err)
	}
	r := s.eval(ctx, cadScript, key, s.arg(ctx, old))
	s.wrote(key) // also when it did not delete: a cached copy is stale
	if r.Err != nil {
		return false, s.keyErr(ctx, "compareanddelete", key, r.Err)
	}
	return r.Int == 1, nil
}
