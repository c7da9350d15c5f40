package rediskv

import (
	"context"

	"github.com/cledar/storekit/internal/rediswatch"
	"github.com/cledar/storekit/kv"
	"github.com/cledar/storekit/metrics"
)

// A Client is one Redis client library as the [Store] uses it: a way to run
// commands, to reach the servers that hold keys, and to subscribe. Each
// Redis backend implements it over its library; everything else is the
// Store's.
type Client interface {
	// Do runs cmd and returns its reply. On a cluster, cmd.Key picks the
	// node.
	Do(ctx context.Context, cmd Cmd) Reply

	// Get runs GET key, Set runs SET key value (PX px when px > 0) and Del
	// runs DEL key: the commands of every call, which the client library
	// builds without the cost of a generic command.
	Get(ctx context.Context, key string) Reply
	Set(ctx context.Context, key string, value []byte, px int64) Reply
	Del(ctx context.Context, key string) Reply

	// IncrBy runs INCRBY key delta, a counter's every call.
	IncrBy(ctx context.Context, key string, delta int64) Reply

	// CopyArgs reports whether the arguments of a command run with ctx
	// must be copies: whether the client may still hold them once the call
	// returns (a call its context ends early may leave its command
	// queued), when the caller may change them. Otherwise a command takes
	// a value's bytes in place.
	CopyArgs(ctx context.Context) bool

	// CopyBulkArgs is CopyArgs for the commands of DoMulti.
	CopyBulkArgs(ctx context.Context) bool

	// MGet reads the keys of groups, one MGET per group (whose keys share
	// a hash slot; or a GET for a group of one key, whose WRONGTYPE error
	// counts as missing), in one round trip to each server they go to, and
	// puts each value into vals at its group's position; a key that holds
	// no plain value is left missing.
	MGet(ctx context.Context, groups []SlotGroup, vals []kv.Value) error

	// DoMulti sends cmds in one round trip to each server they go to (a
	// pipeline: not atomic) and puts the reply to cmds[i] in replies[i]
	// (as long as cmds). On a cluster each command goes to the node of its
	// Key.
	DoMulti(ctx context.Context, cmds []Cmd, replies []Reply)

	// Tx runs cmds, whose keys share one hash slot, in one MULTI/EXEC
	// transaction and returns EXEC's reply: an array of their replies.
	Tx(ctx context.Context, cmds []Cmd) Reply

	// Layout says how the client spreads keys over servers.
	Layout() Layout

	// Nodes returns the servers that hold keys: the one server, every
	// master of a cluster, every shard of a ring.
	Nodes(ctx context.Context) ([]Node, error)

	// Subscribe PSUBSCRIBEs on the server of a node of Nodes, srv.Node
	// (see rediswatch.Client).
	Subscribe(ctx context.Context, srv rediswatch.Server, channel string, confirmed func(), deliver func(channel, message string)) error

	// Classify returns what err, returned for a call made with ctx, stands
	// for: a kv sentinel, the context's error, or nil for an operation
	// error (the server rejected the request).
	Classify(ctx context.Context, err error) error

	// Close closes the client.
	Close() error
}

// MaxScriptArgs is the most arguments after the key that a script run
// through [ConditionalClient.Script] takes: the store's single-key scripts
// take at most that many.
const MaxScriptArgs = 3

// A ConditionalClient is a [Client] that also builds the commands of the
// conditional calls with its client library's own builders, which cost less
// than a generic command: a Client that is one has them used.
type ConditionalClient interface {
	Client

	// Script runs EVALSHA sha 1 key args[:n]...: a script on one key. A
	// server that does not know the script answers NOSCRIPT, as it would
	// to Do; args hold n arguments, at most MaxScriptArgs.
	Script(ctx context.Context, sha, key string, args [MaxScriptArgs]string, n int) Reply

	// SetNX runs SET key value NX (PX px when px > 0).
	SetNX(ctx context.Context, key string, value []byte, px int64) Reply
}

// A Layout is how a client spreads keys over servers.
type Layout uint8

const (
	// OneServer: every key is on one server (standalone, or Sentinel's
	// master).
	OneServer Layout = iota
	// Cluster: keys are spread by hash slot; a command may touch several
	// keys only if they share a slot.
	Cluster
	// Sharded: keys are spread by the client (a go-redis ring); a command
	// touches one key.
	Sharded
)

// A Node is one server that holds keys.
type Node struct {
	// Addr names the server in logs and errors.
	Addr string
	// DB is the database the client uses on it.
	DB int
	// Do runs a command on this server.
	Do func(ctx context.Context, cmd Cmd) Reply
	// Handle is the backend's own handle on the server, such as its
	// client library's client for it.
	Handle any
	// Identify, if set, returns what tells the server apart from one that
	// takes its place after a failover, when Addr does not (a client that
	// follows a Sentinel's master by itself): a watch moves when it
	// changes.
	Identify func(ctx context.Context) (string, error)
}

// Capabilities are the interfaces of package kv, and metrics.Source, that
// a Store, and a backend's Store that embeds it, implements.
type Capabilities interface {
	kv.Store
	kv.MultiGetter
	kv.Scanner
	kv.Expirer
	kv.Watcher
	kv.Historian
	kv.MultiLatest
	kv.Pruner
	kv.Conditional
	kv.Counter
	kv.ExpiryChanger
	kv.BulkWriter
	kv.ConditionalHistorian
	metrics.Source
}

var _ Capabilities = (*Store)(nil)

// A Cmd is one Redis command: Name, Pre, Key (unless NoKey), then Args.
type Cmd struct {
	// Name is the command, such as "GET".
	Name string
	// Key is the key the command works on; on a cluster it routes the
	// command. It may be empty: an empty key is a key.
	Key string
	// Pre are the arguments before the key, such as EVALSHA's digest and
	// key count.
	Pre []string
	// Args are the arguments after the key.
	Args []string
	// SlotKey, when not empty, is a key of Key's hash slot that costs less
	// to hash (see [SlotKey]), set where the slot is known already: a
	// client that routes commands by hashing a key may hash it instead of
	// Key.
	SlotKey string
	// NoKey marks a command without a key (PING, SCAN, CONFIG, ...).
	NoKey bool
	// ReadOnly marks a command that changes nothing, which a client may
	// send again after a network error.
	ReadOnly bool
}

// A Reply is the outcome of one command.
type Reply struct {
	// Err is the error: an error reply, the client's own error, or with
	// Nil, the client's error for a nil reply.
	Err error
	// Str is a simple or bulk string reply, which the caller may keep.
	Str []byte
	// Int is an integer reply.
	Int int64
	// Array is an array reply, or a map reply flattened into key, value,
	// key, value.
	Array []Reply
	// Nil reports a nil reply (such as GET of a missing key).
	Nil bool
	// Kind says which of the fields holds the reply.
	Kind Kind
}

// A Kind is the type of a [Reply].
type Kind uint8

// The kinds of replies.
const (
	KindNone Kind = iota // an error or a nil reply
	KindStr
	KindInt
	KindArray
)

// Bytes returns a string reply, a non-nil empty slice for an empty one.
func (r Reply) Bytes() []byte {
	if r.Str == nil {
		return []byte{}
	}
	return r.Str
}
