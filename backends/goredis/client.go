package goredis

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"time"
	"unsafe"

	"github.com/redis/go-redis/v9"

	"github.com/cledar/storekit/internal/rediskv"
	"github.com/cledar/storekit/kv"
)

// An adapter is a go-redis client as package rediskv runs commands through
// it. On a cluster its bulk calls share pipelines (pipes), unless
// Options.SeparatePipelines: then pipes is nil.
type adapter struct {
	c     redis.UniversalClient
	pipes *pipelines
}

// args returns cmd's arguments as go-redis takes them.
func args(cmd rediskv.Cmd) []any {
	return appendArgs(make([]any, 0, argCount(cmd)), cmd)
}

// argCount is the number of cmd's arguments.
func argCount(cmd rediskv.Cmd) int { return 2 + len(cmd.Pre) + len(cmd.Args) }

// appendArgs appends cmd's arguments, as go-redis takes them, to a.
func appendArgs(a []any, cmd rediskv.Cmd) []any {
	a = append(a, name(cmd.Name))
	for _, p := range cmd.Pre {
		a = append(a, p)
	}
	if !cmd.NoKey {
		a = append(a, cmd.Key)
	}
	for _, x := range cmd.Args {
		a = append(a, x)
	}
	return a
}

// names maps a command's name to its lower-case form in an interface, made
// once per name: go-redis lower-cases a name that is not, on every command
// (to look up how to route it), and a string put in an interface is
// copied to the heap. The names are the store's own, a handful.
var names sync.Map

// name returns the command name n as an argument of go-redis.
func name(n string) any {
	if v, ok := names.Load(n); ok {
		return v
	}
	v, _ := names.LoadOrStore(n, any(strings.ToLower(n)))
	return v
}

func (c *adapter) Do(ctx context.Context, cmd rediskv.Cmd) rediskv.Reply {
	return do(ctx, c.c, cmd)
}

// do runs cmd through c.
func do(ctx context.Context, c redis.UniversalClient, cmd rediskv.Cmd) rediskv.Reply {
	return reply(c.Do(ctx, args(cmd)...).Result())
}

func (c *adapter) Get(ctx context.Context, key string) rediskv.Reply {
	b, err := c.c.Get(ctx, key).Bytes()
	if err != nil {
		return reply(nil, err)
	}
	return rediskv.Reply{Str: b, Kind: rediskv.KindStr}
}

func (c *adapter) Set(ctx context.Context, key string, value []byte, px int64) rediskv.Reply {
	return rediskv.Reply{Err: c.c.Set(ctx, key, value, time.Duration(px)*time.Millisecond).Err()}
}

func (c *adapter) Del(ctx context.Context, key string) rediskv.Reply {
	return reply(c.c.Del(ctx, key).Result())
}

func (c *adapter) IncrBy(ctx context.Context, key string, delta int64) rediskv.Reply {
	return reply(c.c.IncrBy(ctx, key, delta).Result())
}

// CopyArgs is false: go-redis writes a command's arguments before the
// call returns and keeps none of them.
func (c *adapter) CopyArgs(context.Context) bool { return false }

// CopyBulkArgs reports whether the bulk calls share pipelines and ctx has
// a Done channel: a call that waits for a shared pipeline may return when
// ctx ends while its commands go out later. Otherwise it is CopyArgs.
func (c *adapter) CopyBulkArgs(ctx context.Context) bool { return c.pipes != nil && ctx.Done() != nil }

// pipeline runs cmds in one pipeline, which go-redis splits by node: one
// shared with other calls when the adapter has pipes. The error is ctx's
// when the call returned without the replies; otherwise errors are each
// command's.
func (c *adapter) pipeline(ctx context.Context, cmds []redis.Cmder) error {
	if c.pipes != nil {
		return c.pipes.do(ctx, cmds)
	}
	exec(ctx, c.c, cmds)
	return nil
}

// MGet sends one MGET, or on a cluster, where groups go to several nodes,
// a pipeline of them (adapter.pipeline), which go-redis sends to every node
// at once: an MGET per group of several keys, a GET per group of one (the
// usual case of a bulk read of keys spread over slots, and a cheaper reply
// to read).
func (c *adapter) MGet(ctx context.Context, groups []rediskv.SlotGroup, vals []kv.Value) error {
	if len(groups) == 1 {
		return mgetInto(c.c.MGet(ctx, groups[0].Keys...), groups[0], vals)
	}
	results := make([]redis.Cmder, len(groups))
	for i, g := range groups {
		if len(g.Keys) == 1 {
			results[i] = redis.NewStringCmd(ctx, "get", g.Keys[0])
		} else {
			results[i] = redis.NewSliceCmd(ctx, args(rediskv.Cmd{Name: "MGET", Key: g.Keys[0], Args: g.Keys[1:]})...)
		}
	}
	if err := c.pipeline(ctx, results); err != nil {
		return err
	}
	for i, r := range results {
		var err error
		switch r := r.(type) {
		case *redis.StringCmd:
			err = getInto(ctx, r, groups[i], vals)
		case *redis.SliceCmd:
			err = mgetInto(r, groups[i], vals)
		}
		if err != nil {
			return err
		}
	}
	return nil
}

// getInto puts the value of r, the reply to the GET of g's one key, into
// vals. A missing key, or one of another type, is left missing, as MGET
// leaves it.
func getInto(ctx context.Context, r *redis.StringCmd, g rediskv.SlotGroup, vals []kv.Value) error {
	b, err := r.Bytes()
	switch {
	case err == nil:
		if b == nil {
			b = []byte{}
		}
		vals[g.Pos[0]] = kv.Value{Data: b, Found: true}
	case errors.Is(err, redis.Nil), classify(ctx, err) == kv.ErrWrongType:
	default:
		return err
	}
	return nil
}

// mgetInto puts the values of r, the reply to the MGET of g, into vals.
// Each value's bytes are those of the string go-redis read it into, which
// no one else holds (as StringCmd.Bytes returns them): no copy.
func mgetInto(r *redis.SliceCmd, g rediskv.SlotGroup, vals []kv.Value) error {
	res, err := r.Result()
	if err == nil {
		err = rediskv.MGetLength(g, len(res))
	}
	if err != nil {
		return err
	}
	for j, v := range res {
		if str, ok := v.(string); ok {
			vals[g.Pos[j]] = kv.Value{Data: stringBytes(str), Found: true}
		}
	}
	return nil
}

// stringBytes returns the bytes of str, a string go-redis read a reply
// into, without a copy; a non-nil empty slice for an empty one.
func stringBytes(str string) []byte {
	if str == "" {
		return []byte{}
	}
	return unsafe.Slice(unsafe.StringData(str), len(str))
}

func (c *adapter) DoMulti(ctx context.Context, cmds []rediskv.Cmd, replies []rediskv.Reply) {
	// The commands' arguments are cut from one slice.
	n := 0
	for _, cmd := range cmds {
		n += argCount(cmd)
	}
	all := make([]any, 0, n)
	results := make([]redis.Cmder, len(cmds))
	for i, cmd := range cmds {
		lo := len(all)
		all = appendArgs(all, cmd)
		results[i] = redis.NewCmd(ctx, all[lo:len(all):len(all)]...)
	}
	if err := c.pipeline(ctx, results); err != nil {
		for i := range replies {
			replies[i] = rediskv.Reply{Err: err}
		}
		return
	}
	for i, r := range results {
		replies[i] = reply(r.(*redis.Cmd).Result())
	}
}

func (c *adapter) Tx(ctx context.Context, cmds []rediskv.Cmd) rediskv.Reply {
	results := make([]*redis.Cmd, len(cmds))
	_, err := c.c.TxPipelined(ctx, func(p redis.Pipeliner) error {
		for i, cmd := range cmds {
			results[i] = p.Do(ctx, args(cmd)...)
		}
		return nil
	})
	r := rediskv.Reply{Kind: rediskv.KindArray, Array: make([]rediskv.Reply, len(cmds))}
	for i, res := range results {
		r.Array[i] = reply(res.Result())
	}
	// An error reply (or a nil reply) of one command is in its own reply;
	// any other error failed the transaction.
	var rerr redis.Error
	if err != nil && !errors.As(err, &rerr) {
		return rediskv.Reply{Err: err}
	}
	return r
}

// reply turns a go-redis result into a rediskv.Reply.
func reply(v any, err error) rediskv.Reply {
	switch {
	case errors.Is(err, redis.Nil):
		return rediskv.Reply{Err: err, Nil: true}
	case err != nil:
		return rediskv.Reply{Err: err}
	}
	return value(v)
}

// value turns a reply value of go-redis into a rediskv.Reply.
func value(v any) rediskv.Reply {
	switch x := v.(type) {
	case string:
		// A string of a reply is go-redis's alone once read: no copy.
		return rediskv.Reply{Str: stringBytes(x), Kind: rediskv.KindStr}
	case int64:
		return rediskv.Reply{Int: x, Kind: rediskv.KindInt}
	case nil:
		return rediskv.Reply{Nil: true}
	case []any:
		r := rediskv.Reply{Kind: rediskv.KindArray, Array: make([]rediskv.Reply, len(x))}
		for i, e := range x {
			r.Array[i] = value(e)
		}
		return r
	case map[any]any:
		r := rediskv.Reply{Kind: rediskv.KindArray, Array: make([]rediskv.Reply, 0, 2*len(x))}
		for k, e := range x {
			r.Array = append(r.Array, value(k), value(e))
		}
		return r
	case redis.Error:
		return rediskv.Reply{Err: x}
	case error:
		return rediskv.Reply{Err: x}
	case bool:
		if x {
			return rediskv.Reply{Int: 1, Kind: rediskv.KindInt}
		}
		return rediskv.Reply{Kind: rediskv.KindInt}
	}
	return rediskv.Reply{Str: fmt.Append(nil, v), Kind: rediskv.KindStr}
}

func (c *adapter) Layout() rediskv.Layout {
	switch c.c.(type) {
	case *redis.ClusterClient:
		return rediskv.Cluster
	case *redis.Ring:
		return rediskv.Sharded
	}
	return rediskv.OneServer
}

// Nodes returns the masters of a cluster, the shards of a ring, or the one
// server of any other client (an unknown client, such as an AutoPipeliner,
// is taken as one server on database 0).
func (c *adapter) Nodes(ctx context.Context) ([]rediskv.Node, error) {
	var (
		mu    sync.Mutex
		nodes []rediskv.Node
	)
	collect := func(_ context.Context, nc *redis.Client) error {
		mu.Lock()
		defer mu.Unlock()
		nodes = append(nodes, node(nc, nc.Options().Addr, nc.Options().DB))
		return nil
	}
	var err error
	switch x := c.c.(type) {
	case *redis.ClusterClient:
		err = x.ForEachMaster(ctx, collect)
	case *redis.Ring:
		err = x.ForEachShard(ctx, collect)
	case *redis.Client:
		err = collect(ctx, x)
		if err == nil && nodes[0].Addr == failoverAddr {
			// A Sentinel failover client: its master is known by the
			// run_id of the server its connections reach, which changes
			// with a failover.
			nodes[0].Identify = func(ctx context.Context) (string, error) { return runID(ctx, x) }
		}
	default:
		nodes = []rediskv.Node{node(c.c, fmt.Sprintf("%T", c.c), 0)}
	}
	if err == nil && len(nodes) == 0 {
		err = errors.New("the client knows no servers")
	}
	return nodes, err
}

// node returns the rediskv.Node of a client of one server, which is its
// Handle.
func node(c redis.UniversalClient, addr string, db int) rediskv.Node {
	return rediskv.Node{Addr: addr, DB: db, Handle: c, Do: func(ctx context.Context, cmd rediskv.Cmd) rediskv.Reply {
		return do(ctx, c, cmd)
	}}
}

func (c *adapter) Classify(ctx context.Context, err error) error { return classify(ctx, err) }

func (c *adapter) Close() error { return c.c.Close() }
