package benchmarks

import (
	"context"
	"slices"
	"testing"

	"github.com/redis/rueidis"

	"github.com/cledar/storekit/conformance"
	"github.com/cledar/storekit/kv"
)

// uncached are the options of the rueidis clients without client-side
// caching: rueidis's defaults (auto-pipelining, 4 connections) without
// CLIENT TRACKING, as rueidiskv.Open builds them for DisableCache.
var uncached = rueidis.ClientOption{DisableCache: true}

// rueidisContenders are the raw rueidis client, alone, again as its twin
// (target N1) and writing with a pipeline, and the rueidiskv stores.
func rueidisContenders(addr string) []conformance.Contender {
	newRaw := func(b *testing.B) kv.Store { return rawRueidis{newRueidisClient(b, addr, uncached)} }
	raw := []conformance.Contender{
		{Name: "rueidis-raw", Ops: allOps, New: newRaw},
		{Name: "rueidis-twin", Ops: []string{"Get", "GetMulti100"}, New: newRaw},
		{Name: "rueidis-pipe", Ops: pipeOps, New: func(b *testing.B) kv.Store {
			return rawRueidisPipe{rawRueidis{newRueidisClient(b, addr, uncached)}}
		}},
	}
	return slices.Concat(raw, rueidiskvContenders(addr))
}

// newRueidisClient returns a client of addr with the options opt, closed
// when b ends.
func newRueidisClient(b *testing.B, addr string, opt rueidis.ClientOption) rueidis.Client {
	b.Helper()
	opt.InitAddress = []string{addr}
	c, err := rueidis.NewClient(opt)
	if err != nil {
		b.Fatalf("rueidis.NewClient(%s): %v", addr, err)
	}
	b.Cleanup(c.Close)
	return c
}

// rawRueidis is a rueidis client behind the kv.Store methods that the
// benchmarks call.
type rawRueidis struct{ c rueidis.Client }

func (r rawRueidis) Get(ctx context.Context, key string) ([]byte, error) {
	v, err := r.c.Do(ctx, r.c.B().Get().Key(key).Build()).AsBytes()
	if rueidis.IsRedisNil(err) {
		return nil, kv.ErrNotFound
	}
	return v, err
}

func (r rawRueidis) Set(ctx context.Context, key string, value []byte) error {
	return r.c.Do(ctx, r.c.B().Set().Key(key).Value(rueidis.BinaryString(value)).Build()).Error()
}

func (r rawRueidis) Delete(ctx context.Context, key string) (bool, error) {
	n, err := r.c.Do(ctx, r.c.B().Del().Key(key).Build()).AsInt64()
	return n > 0, err
}

func (r rawRueidis) GetMulti(ctx context.Context, keys []string) ([]kv.Value, error) {
	res, err := r.c.Do(ctx, r.c.B().Mget().Key(keys...).Build()).ToArray()
	if err != nil {
		return nil, err
	}
	if len(res) != len(keys) || slices.ContainsFunc(res, func(m rueidis.RedisMessage) bool { return m.IsNil() }) {
		return nil, errMissing
	}
	return allFound[:len(keys)], nil
}

func (r rawRueidis) Close() error { return nil }

var _ kv.MultiGetter = rawRueidis{}
