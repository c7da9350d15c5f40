package benchmarks

// This file holds the raw clients' conditional, counter and bulk writes:
// what a user would write by hand, to anchor storekit's.

import (
	"context"
	"errors"
	"strconv"
	"time"

	"github.com/redis/go-redis/v9"
	"github.com/redis/rueidis"

	"github.com/cledar/storekit/kv"
)

// casSource is the raw CompareAndSwap: set KEYS[1] to ARGV[2] if it holds
// ARGV[1], keeping its expiry when ARGV[3] is "0", else giving it ARGV[3]
// milliseconds. A key holding a list fails GET with WRONGTYPE.
const casSource = `
if redis.call('GET', KEYS[1]) ~= ARGV[1] then
	return 0
end
if ARGV[3] == '0' then
	redis.call('SET', KEYS[1], ARGV[2], 'KEEPTTL')
else
	redis.call('SET', KEYS[1], ARGV[2], 'PX', ARGV[3])
end
return 1`

// cadSource is the raw CompareAndDelete, and a raw lock's release: delete
// KEYS[1] if it holds ARGV[1].
const cadSource = `
if redis.call('GET', KEYS[1]) == ARGV[1] then
	return redis.call('DEL', KEYS[1])
end
return 0`

// errRawTTL is the error of a raw SetMulti given an item with a TTL: the
// benchmarks write none.
var errRawTTL = errors.New("raw SetMulti: items with a TTL are not supported")

// hasTTL reports whether an item of items has a TTL.
func hasTTL(items []kv.Item) bool {
	for _, it := range items {
		if it.TTL != 0 {
			return true
		}
	}
	return false
}

// ttlArg is ttl in whole milliseconds, as casSource takes it.
func ttlArg(ttl time.Duration) string { return strconv.FormatInt(ttl.Milliseconds(), 10) }

// The raw go-redis client's writes: scripts run with EVALSHA (EVAL once,
// when the server lacks them), SET NX, INCRBY, MSET and DEL.

var (
	goredisCAS = redis.NewScript(casSource)
	goredisCAD = redis.NewScript(cadSource)
)

func (r rawGoredis) SetIfAbsent(ctx context.Context, key string, value []byte, ttl time.Duration) (bool, error) {
	return r.c.SetNX(ctx, key, value, ttl).Result()
}

func (r rawGoredis) CompareAndSwap(ctx context.Context, key string, old, new []byte, ttl time.Duration) (bool, error) {
	n, err := goredisCAS.Run(ctx, r.c, []string{key}, old, new, ttlArg(ttl)).Int64()
	return n == 1, err
}

func (r rawGoredis) CompareAndDelete(ctx context.Context, key string, old []byte) (bool, error) {
	n, err := goredisCAD.Run(ctx, r.c, []string{key}, old).Int64()
	return n == 1, err
}

func (r rawGoredis) Incr(ctx context.Context, key string, delta int64) (int64, error) {
	return r.c.IncrBy(ctx, key, delta).Result()
}

func (r rawGoredis) SetMulti(ctx context.Context, items []kv.Item) error {
	if hasTTL(items) {
		return errRawTTL
	}
	pairs := make([]any, 0, 2*len(items))
	for _, it := range items {
		pairs = append(pairs, it.Key, it.Value)
	}
	return r.c.MSet(ctx, pairs...).Err()
}

func (r rawGoredis) DeleteMulti(ctx context.Context, keys []string) (int, error) {
	n, err := r.c.Del(ctx, keys...).Result()
	return int(n), err
}

// rawGoredisPipe is the raw go-redis client whose SetMulti sends one SET
// per item in a pipeline.
type rawGoredisPipe struct{ rawGoredis }

func (r rawGoredisPipe) SetMulti(ctx context.Context, items []kv.Item) error {
	if hasTTL(items) {
		return errRawTTL
	}
	_, err := r.c.Pipelined(ctx, func(p redis.Pipeliner) error {
		for _, it := range items {
			p.Set(ctx, it.Key, it.Value, 0)
		}
		return nil
	})
	return err
}

// The raw rueidis client's writes: scripts run with EVALSHA (EVAL once,
// when the server lacks them), SET NX, INCRBY, MSET and DEL.

var (
	rueidisCAS = rueidis.NewLuaScript(casSource)
	rueidisCAD = rueidis.NewLuaScript(cadSource)
)

func (r rawRueidis) SetIfAbsent(ctx context.Context, key string, value []byte, ttl time.Duration) (bool, error) {
	set := r.c.B().Set().Key(key).Value(rueidis.BinaryString(value)).Nx()
	var cmd rueidis.Completed
	if ttl > 0 {
		cmd = set.PxMilliseconds(ttl.Milliseconds()).Build()
	} else {
		cmd = set.Build()
	}
	err := r.c.Do(ctx, cmd).Error()
	if rueidis.IsRedisNil(err) {
		return false, nil
	}
	return err == nil, err
}

func (r rawRueidis) CompareAndSwap(ctx context.Context, key string, old, new []byte, ttl time.Duration) (bool, error) {
	args := []string{rueidis.BinaryString(old), rueidis.BinaryString(new), ttlArg(ttl)}
	n, err := rueidisCAS.Exec(ctx, r.c, []string{key}, args).AsInt64()
	return n == 1, err
}

func (r rawRueidis) CompareAndDelete(ctx context.Context, key string, old []byte) (bool, error) {
	n, err := rueidisCAD.Exec(ctx, r.c, []string{key}, []string{rueidis.BinaryString(old)}).AsInt64()
	return n == 1, err
}

func (r rawRueidis) Incr(ctx context.Context, key string, delta int64) (int64, error) {
	return r.c.Do(ctx, r.c.B().Incrby().Key(key).Increment(delta).Build()).AsInt64()
}

func (r rawRueidis) SetMulti(ctx context.Context, items []kv.Item) error {
	if hasTTL(items) {
		return errRawTTL
	}
	mset := r.c.B().Mset().KeyValue()
	for _, it := range items {
		mset = mset.KeyValue(it.Key, rueidis.BinaryString(it.Value))
	}
	return r.c.Do(ctx, mset.Build()).Error()
}

func (r rawRueidis) DeleteMulti(ctx context.Context, keys []string) (int, error) {
	n, err := r.c.Do(ctx, r.c.B().Del().Key(keys...).Build()).AsInt64()
	return int(n), err
}

// rawRueidisPipe is the raw rueidis client whose SetMulti sends one SET
// per item in one DoMulti.
type rawRueidisPipe struct{ rawRueidis }

func (r rawRueidisPipe) SetMulti(ctx context.Context, items []kv.Item) error {
	if hasTTL(items) {
		return errRawTTL
	}
	cmds := make(rueidis.Commands, len(items))
	for i, it := range items {
		cmds[i] = r.c.B().Set().Key(it.Key).Value(rueidis.BinaryString(it.Value)).Build()
	}
	for _, res := range r.c.DoMulti(ctx, cmds...) {
		if err := res.Error(); err != nil {
			return err
		}
	}
	return nil
}

// The raw clients have every capability of the write benchmarks.
var (
	_ rawWriter = rawGoredis{}
	_ rawWriter = rawGoredisPipe{}
	_ rawWriter = rawRueidis{}
	_ rawWriter = rawRueidisPipe{}
)

type rawWriter interface {
	kv.Store
	kv.Conditional
	kv.Counter
	kv.BulkWriter
}
