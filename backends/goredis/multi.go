package goredis

import (
	"context"
	"errors"
	"fmt"
	"iter"
	"strconv"
	"sync"

	"github.com/redis/go-redis/v9"

	"github.com/cledar/storekit/internal/redisproto"
	"github.com/cledar/storekit/kv"
)

// maxSlotMGets bounds the MGETs a GetMulti on a cluster runs at once.
const maxSlotMGets = 16

// GetMulti implements [kv.MultiGetter]. On a standalone or sentinel client
// it sends one MGET. On a *redis.ClusterClient it groups the keys by hash
// slot and sends one MGET per slot, several at a time; on a *redis.Ring it
// pipelines one GET per key, which the ring splits by shard. A key that holds
// a history or another Redis type has Found false, as MGET reports it.
func (s *Store) GetMulti(ctx context.Context, keys []string) ([]kv.Value, error) {
	if err := s.life.Check(ctx); err != nil {
		return nil, multiErr(len(keys), err)
	}
	vals := make([]kv.Value, len(keys))
	if len(keys) == 0 {
		return vals, nil
	}
	var err error
	switch c := s.c.(type) {
	case *redis.ClusterClient:
		err = mgetBySlot(ctx, c, keys, vals)
	case *redis.Ring:
		err = getPipelined(ctx, c, keys, vals)
	default:
		err = mget(ctx, s.c, keys, nil, vals)
	}
	if err != nil {
		return nil, s.wrapErr(ctx, fmt.Sprintf("getmulti (%d keys)", len(keys)), err)
	}
	return vals, nil
}

func multiErr(n int, err error) error {
	return fmt.Errorf("goredis: getmulti (%d keys): %w", n, err)
}

// mget reads keys with one MGET into vals[pos[i]] (vals[i] when pos is nil).
func mget(ctx context.Context, c redis.Cmdable, keys []string, pos []int, vals []kv.Value) error {
	res, err := c.MGet(ctx, keys...).Result()
	if err != nil {
		return err
	}
	if len(res) != len(keys) {
		return fmt.Errorf("MGET returned %d values for %d keys", len(res), len(keys))
	}
	for i, v := range res {
		j := i
		if pos != nil {
			j = pos[i]
		}
		if str, ok := v.(string); ok {
			vals[j] = kv.Value{Data: []byte(str), Found: true}
		}
	}
	return nil
}

// mgetBySlot runs one MGET per hash slot, at most maxSlotMGets at a time, and
// stops at the first error.
func mgetBySlot(ctx context.Context, c *redis.ClusterClient, keys []string, vals []kv.Value) error {
	groups := redisproto.GroupBySlot(keys)
	if len(groups) == 1 {
		return mget(ctx, c, keys, nil, vals)
	}
	return redisproto.ForEach(ctx, len(groups), maxSlotMGets, func(ctx context.Context, i int) error {
		return mget(ctx, c, groups[i].Keys, groups[i].Pos, vals)
	})
}

// getPipelined reads keys with one pipelined GET each.
func getPipelined(ctx context.Context, c redis.Cmdable, keys []string, vals []kv.Value) error {
	pipe := c.Pipeline()
	cmds := make([]*redis.StringCmd, len(keys))
	for i, k := range keys {
		cmds[i] = pipe.Get(ctx, k)
	}
	_, _ = pipe.Exec(ctx) // errors are per command, below
	for i, cmd := range cmds {
		b, err := cmd.Bytes()
		switch {
		case err == nil:
			if b == nil {
				b = []byte{}
			}
			vals[i] = kv.Value{Data: b, Found: true}
		case errors.Is(err, redis.Nil), isWrongType(err):
			// missing, as MGET reports it
		default:
			return err
		}
	}
	return nil
}

// nodes returns the clients of the servers that hold the store's keys: every
// master of a cluster, every shard of a ring, or the client itself.
func (s *Store) nodes(ctx context.Context) ([]*node, error) {
	var (
		mu    sync.Mutex
		nodes []*node
	)
	collect := func(_ context.Context, c *redis.Client) error {
		mu.Lock()
		defer mu.Unlock()
		nodes = append(nodes, &node{c: c, addr: c.Options().Addr, db: c.Options().DB})
		return nil
	}
	var err error
	switch c := s.c.(type) {
	case *redis.ClusterClient:
		err = c.ForEachMaster(ctx, collect)
	case *redis.Ring:
		err = c.ForEachShard(ctx, collect)
	case *redis.Client:
		err = collect(ctx, c)
	default:
		// An unknown client (such as an AutoPipeliner) is taken as one
		// server, database 0.
		nodes = []*node{{c: s.c, addr: fmt.Sprintf("%T", s.c)}}
	}
	if err == nil && len(nodes) == 0 {
		err = errors.New("the client knows no servers")
	}
	return nodes, err
}

// A node is one server the store's keys live on.
type node struct {
	c    redis.UniversalClient
	addr string // for logs and errors
	db   int
}

// Scan implements [kv.Scanner] with SCAN MATCH pattern COUNT
// [Options.ScanCount]. On a cluster it scans every master, and on a ring
// every shard, one after the other. The server never yields expired keys.
func (s *Store) Scan(ctx context.Context, pattern string) iter.Seq2[string, error] {
	return func(yield func(string, error) bool) {
		op := "scan " + strconv.Quote(pattern)
		check := func() error {
			if err := s.life.Check(ctx); err != nil {
				return fmt.Errorf("goredis: %s: %w", op, err)
			}
			return nil
		}
		if err := check(); err != nil {
			yield("", err)
			return
		}
		nodes, err := s.nodes(ctx)
		if err != nil {
			yield("", s.wrapErr(ctx, op, err))
			return
		}
		redisproto.ScanNodes(len(nodes), check, func(i int, cursor uint64) ([]string, uint64, error) {
			// A SCAN command of our own, not c.Scan: go-redis drops MATCH
			// for an empty pattern, which must match the empty key only.
			cmd := redis.NewScanCmd(ctx, nil, "scan", cursor, "match", pattern, "count", s.opts.ScanCount)
			_ = nodes[i].c.Process(ctx, cmd)
			keys, next, err := cmd.Result()
			if err != nil {
				return nil, 0, s.wrapErr(ctx, op, err)
			}
			return keys, next, nil
		}, yield)
	}
}
