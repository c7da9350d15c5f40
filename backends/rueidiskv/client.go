package rueidiskv

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sync"

	"github.com/redis/rueidis"
	"go.uber.org/zap"

	"github.com/cledar/storekit/internal/rediskv"
	"github.com/cledar/storekit/kv"
)

// An adapter is a rueidis client as package rediskv runs commands through
// it.
type adapter struct {
	c       redialClient
	cluster bool
	log     *zap.Logger

	dbMu    sync.Mutex
	db      int  // the database of the client's connections
	dbKnown bool // db was given or read
}

var _ rediskv.ConditionalClient = (*adapter)(nil)

// build makes cmd a rueidis command with b, a client's builder (not the
// client: a redialClient put in an interface would be copied to the heap
// on every command).
//
// A command with a SlotKey is routed by it: rueidis hashes the two bytes of
// the SlotKey instead of the key.
func build(b rueidis.Builder, cmd rediskv.Cmd) rueidis.Completed {
	a := b.Arbitrary(cmd.Name).Args(cmd.Pre...)
	switch {
	case cmd.SlotKey != "":
		a = a.Args(cmd.Key)
	case !cmd.NoKey:
		a = a.Keys(cmd.Key)
	}
	a = a.Args(cmd.Args...)
	var c rueidis.Completed
	if cmd.ReadOnly {
		c = a.ReadOnly()
	} else {
		c = a.Build()
	}
	if cmd.SlotKey != "" {
		c = c.SetSlot(cmd.SlotKey)
	}
	return c
}

func (a *adapter) Do(ctx context.Context, cmd rediskv.Cmd) rediskv.Reply {
	return reply(a.c.Do(ctx, build(a.c.B(), cmd)))
}

func (a *adapter) Get(ctx context.Context, key string) rediskv.Reply {
	// The reply's bytes are the caller's: the client reads every bulk
	// string into a new buffer and keeps no reference to it.
	b, err := a.c.Do(ctx, a.c.B().Get().Key(key).Build()).AsBytes()
	if err != nil {
		return rediskv.Reply{Err: err, Nil: rueidis.IsRedisNil(err)}
	}
	return rediskv.Reply{Str: b, Kind: rediskv.KindStr}
}

func (a *adapter) Set(ctx context.Context, key string, value []byte, px int64) rediskv.Reply {
	set := a.c.B().Set().Key(key).Value(arg(ctx, value))
	if px > 0 {
		return rediskv.Reply{Err: a.c.Do(ctx, set.PxMilliseconds(px).Build()).Error()}
	}
	return rediskv.Reply{Err: a.c.Do(ctx, set.Build()).Error()}
}

func (a *adapter) Del(ctx context.Context, key string) rediskv.Reply {
	return reply(a.c.Do(ctx, a.c.B().Del().Key(key).Build()))
}

func (a *adapter) IncrBy(ctx context.Context, key string, delta int64) rediskv.Reply {
	n, err := a.c.Do(ctx, a.c.B().Incrby().Key(key).Increment(delta).Build()).AsInt64()
	if err != nil {
		return rediskv.Reply{Err: err}
	}
	return rediskv.Reply{Int: n, Kind: rediskv.KindInt}
}

func (a *adapter) Script(ctx context.Context, sha, key string, args [rediskv.MaxScriptArgs]string, n int) rediskv.Reply {
	return reply(a.c.Do(ctx, a.c.B().Evalsha().Sha1(sha).Numkeys(1).Key(key).Arg(args[:n]...).Build()))
}

func (a *adapter) SetNX(ctx context.Context, key string, value []byte, px int64) rediskv.Reply {
	set := a.c.B().Set().Key(key).Value(arg(ctx, value)).Nx()
	if px > 0 {
		return reply(a.c.Do(ctx, set.PxMilliseconds(px).Build()))
	}
	return reply(a.c.Do(ctx, set.Build()))
}

func (a *adapter) CopyArgs(ctx context.Context) bool { return copyArgs(ctx) }

func (a *adapter) CopyBulkArgs(ctx context.Context) bool { return copyArgs(ctx) }

// MGet sends the MGETs in one DoMulti, which rueidis splits by node, or
// one MGET with Do. On a cluster a group of one key, the usual group of a
// bulk read of keys spread over slots, gets a GET: a reply that costs less
// to read than an array of one.
func (a *adapter) MGet(ctx context.Context, groups []rediskv.SlotGroup, vals []kv.Value) error {
	if len(groups) == 1 {
		return mgetInto(a.c.Do(ctx, a.c.B().Mget().Key(groups[0].Keys...).Build()), groups[0], vals)
	}
	cmds := takeCommands(ctx, len(groups))
	defer putCommands(ctx, cmds)
	for _, g := range groups {
		*cmds = append(*cmds, a.mget(g))
	}
	for i, resp := range a.c.DoMulti(ctx, *cmds...) {
		g := groups[i]
		var err error
		if len(g.Keys) == 1 {
			err = getInto(ctx, resp, g, vals)
		} else {
			err = mgetInto(resp, g, vals)
		}
		if err != nil {
			return err
		}
	}
	return nil
}

// mget returns the command that reads g, one of several groups: a GET for
// a group of one key, an MGET otherwise. On a cluster, where the groups are
// by hash slot, it is routed by the group's SlotKey, so rueidis need not
// hash the keys again; a client of one server routes nothing.
func (a *adapter) mget(g rediskv.SlotGroup) rueidis.Completed {
	cmd := rediskv.Cmd{Name: "MGET", Key: g.Keys[0], Args: g.Keys[1:], ReadOnly: true}
	if len(g.Keys) == 1 {
		cmd.Name = "GET"
	}
	if a.cluster {
		cmd.SlotKey = rediskv.SlotKey(g.Slot)
	}
	return build(a.c.B(), cmd)
}

// getInto puts the value of resp, the reply to the GET of g's one key, into
// vals. A missing key, or one of another type, is left missing, as MGET
// leaves it.
func getInto(ctx context.Context, resp rueidis.RedisResult, g rediskv.SlotGroup, vals []kv.Value) error {
	b, err := resp.AsBytes()
	switch {
	case err == nil:
		if b == nil {
			b = []byte{}
		}
		vals[g.Pos[0]] = kv.Value{Data: b, Found: true}
	case rueidis.IsRedisNil(err), classify(ctx, err) == kv.ErrWrongType:
	default:
		return err
	}
	return nil
}

// mgetInto puts the values of resp, the reply to the MGET of g, into vals
// at g's positions; a missing key is left missing.
func mgetInto(resp rueidis.RedisResult, g rediskv.SlotGroup, vals []kv.Value) error {
	elems, err := resp.ToArray()
	if err == nil {
		err = rediskv.MGetLength(g, len(elems))
	}
	if err != nil {
		return err
	}
	for j := range elems {
		if elems[j].IsNil() {
			continue
		}
		b, err := elems[j].AsBytes()
		if err != nil {
			return err
		}
		if b == nil {
			b = []byte{}
		}
		vals[g.Pos[j]] = kv.Value{Data: b, Found: true}
	}
	return nil
}

// arg returns value as a command argument: its bytes in place, unless
// copyArgs says they must be copied.
func arg(ctx context.Context, value []byte) string {
	if copyArgs(ctx) {
		return string(value)
	}
	return rueidis.BinaryString(value)
}

// copyArgs reports whether a command run with ctx must hold copies of its
// arguments: whether ctx has a Done channel. One that has may end the call
// before its command is written, and a call that returns early leaves its
// command queued while the caller may change the bytes; without one the
// command is written before the call returns.
func copyArgs(ctx context.Context) bool { return ctx.Done() != nil }

func (a *adapter) DoMulti(ctx context.Context, cmds []rediskv.Cmd, replies []rediskv.Reply) {
	built := takeCommands(ctx, len(cmds))
	defer putCommands(ctx, built)
	for _, cmd := range cmds {
		*built = append(*built, build(a.c.B(), cmd))
	}
	for i, r := range a.c.DoMulti(ctx, *built...) {
		replies[i] = reply(r)
	}
}

// takeCommands returns an empty slice with room for n built commands, for
// a DoMulti with ctx; putCommands hands it back for reuse once the call
// returned. A call whose context can end early may leave its commands
// queued (see copyArgs): its slice is never reused.
func takeCommands(ctx context.Context, n int) *[]rueidis.Completed {
	var p *[]rueidis.Completed
	if copyArgs(ctx) {
		p = new([]rueidis.Completed)
	} else {
		p = commandsPool.Get().(*[]rueidis.Completed)
	}
	*p = slices.Grow((*p)[:0], n)
	return p
}

// putCommands hands back p, from takeCommands with ctx.
func putCommands(ctx context.Context, p *[]rueidis.Completed) {
	if !copyArgs(ctx) && cap(*p) <= maxPooledCommands {
		clear(*p)
		commandsPool.Put(p)
	}
}

// commandsPool holds the slices of built commands that DoMulti and MGet
// reuse, of at most maxPooledCommands each.
var commandsPool = sync.Pool{New: func() any { return new([]rueidis.Completed) }}

const maxPooledCommands = 1024

func (a *adapter) Tx(ctx context.Context, cmds []rediskv.Cmd) rediskv.Reply {
	built := make(rueidis.Commands, 0, len(cmds)+2)
	built = append(built, a.c.B().Multi().Build())
	for _, cmd := range cmds {
		built = append(built, build(a.c.B(), cmd))
	}
	built = append(built, a.c.B().Exec().Build())
	resps := a.c.DoMulti(ctx, built...)
	return reply(resps[len(resps)-1])
}

// reply turns a rueidis result into a rediskv.Reply.
func reply(r rueidis.RedisResult) rediskv.Reply {
	m, err := r.ToMessage()
	if err != nil {
		return rediskv.Reply{Err: err, Nil: rueidis.IsRedisNil(err)}
	}
	// The usual replies are read from m on the stack: message, recursive,
	// would move m to the heap.
	if rep, ok := scalar(&m); ok {
		return rep
	}
	other := m
	return message(&other)
}

// scalar returns the reply of m, and true, when m is an error, an integer
// or a string.
func scalar(m *rueidis.RedisMessage) (rediskv.Reply, bool) {
	if err := m.Error(); err != nil {
		return rediskv.Reply{Err: err, Nil: m.IsNil()}, true
	}
	switch {
	case m.IsInt64():
		n, _ := m.AsInt64()
		return rediskv.Reply{Int: n, Kind: rediskv.KindInt}, true
	case m.IsString():
		b, _ := m.AsBytes()
		return rediskv.Reply{Str: b, Kind: rediskv.KindStr}, true
	}
	return rediskv.Reply{}, false
}

// message turns a rueidis message into a rediskv.Reply.
func message(m *rueidis.RedisMessage) rediskv.Reply {
	if rep, ok := scalar(m); ok {
		return rep
	}
	switch {
	case m.IsArray():
		elems, _ := m.ToArray()
		r := rediskv.Reply{Kind: rediskv.KindArray, Array: make([]rediskv.Reply, len(elems))}
		for i := range elems {
			r.Array[i] = message(&elems[i])
		}
		return r
	case m.IsMap():
		entries, _ := m.ToMap()
		r := rediskv.Reply{Kind: rediskv.KindArray, Array: make([]rediskv.Reply, 0, 2*len(entries))}
		for k, v := range entries {
			r.Array = append(r.Array, rediskv.Reply{Str: []byte(k), Kind: rediskv.KindStr}, message(&v))
		}
		return r
	case m.IsBool():
		if ok, _ := m.AsBool(); ok {
			return rediskv.Reply{Int: 1, Kind: rediskv.KindInt}
		}
		return rediskv.Reply{Kind: rediskv.KindInt}
	case m.IsFloat64():
		f, _ := m.AsFloat64()
		return rediskv.Reply{Str: fmt.Append(nil, f), Kind: rediskv.KindStr}
	}
	return rediskv.Reply{Err: fmt.Errorf("rueidiskv: a reply of an unknown type: %v", m)}
}

func (a *adapter) Layout() rediskv.Layout {
	if a.cluster {
		return rediskv.Cluster
	}
	return rediskv.OneServer
}

// Nodes returns the masters of a cluster (rueidis's Nodes lists replicas
// too, so each node is asked its ROLE), or the server the client reaches:
// the one server, or a Sentinel client's current master.
func (a *adapter) Nodes(ctx context.Context) ([]rediskv.Node, error) {
	all := a.c.Nodes()
	addrs := slices.Sorted(func(yield func(string) bool) {
		for a := range all {
			if !yield(a) {
				return
			}
		}
	})
	if !a.cluster {
		db, err := a.database(ctx)
		if err != nil {
			return nil, err
		}
		var nodes []rediskv.Node
		for _, addr := range addrs {
			// A Sentinel client that sends reads to replicas lists one too.
			if len(addrs) == 1 || isMaster(ctx, all[addr]) {
				nodes = append(nodes, node(all[addr], addr, db))
			}
		}
		if len(nodes) == 0 {
			return nil, errors.New("the client knows no master")
		}
		return nodes, nil
	}
	var nodes []rediskv.Node
	for _, addr := range addrs {
		c := all[addr]
		role, err := c.Do(ctx, c.B().Role().Build()).ToArray()
		if err != nil {
			return nil, fmt.Errorf("ROLE on %s: %w", addr, err)
		}
		if len(role) > 0 {
			if r, _ := role[0].ToString(); r == "master" {
				nodes = append(nodes, node(c, addr, 0))
			}
		}
	}
	if len(nodes) == 0 {
		return nil, errors.New("the client knows no master")
	}
	return nodes, nil
}

// node returns the rediskv.Node of a client of one server, which is its
// Handle.
func node(c rueidis.Client, addr string, db int) rediskv.Node {
	return rediskv.Node{Addr: addr, DB: db, Handle: c, Do: func(ctx context.Context, cmd rediskv.Cmd) rediskv.Reply {
		return reply(c.Do(ctx, build(c.B(), cmd)))
	}}
}

// isMaster reports whether c's server says with ROLE that it is a master.
func isMaster(ctx context.Context, c rueidis.Client) bool {
	role, err := c.Do(ctx, c.B().Role().Build()).ToArray()
	if err != nil || len(role) == 0 {
		return false
	}
	r, _ := role[0].ToString()
	return r == "master"
}

// database returns the database number of the client's connections: the
// one Open or Dial selected, or the one CLIENT INFO reports. A server
// without CLIENT INFO (before Redis 6.2) is taken to use database 0.
func (a *adapter) database(ctx context.Context) (int, error) {
	a.dbMu.Lock()
	defer a.dbMu.Unlock()
	if a.dbKnown {
		return a.db, nil
	}
	info, err := a.c.Do(ctx, a.c.B().ClientInfo().Build()).ToString()
	if err != nil {
		if classify(ctx, err) != nil {
			return 0, err
		}
		a.log.Warn("rueidiskv: CLIENT INFO failed, so the store takes its client to use database 0", zap.Error(err))
		a.db, a.dbKnown = 0, true
		return 0, nil
	}
	db, ok := rediskv.ClientInfoDB(info)
	if !ok {
		a.log.Warn("rueidiskv: CLIENT INFO has no db field, so the store takes its client to use database 0")
	}
	a.db, a.dbKnown = db, true
	return db, nil
}

func (a *adapter) Classify(ctx context.Context, err error) error { return classify(ctx, err) }

func (a *adapter) Close() error {
	a.c.Close()
	return nil
}
