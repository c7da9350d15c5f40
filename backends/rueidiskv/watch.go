package rueidiskv

import (
	"context"
	"errors"
	"fmt"
	"slices"

	"github.com/redis/rueidis"

	"github.com/cledar/storekit/internal/rediswatch"
	"github.com/cledar/storekit/kv"
)

// A NotifyConfigError reports a server whose notify-keyspace-events setting
// lacks classes that Watch needs: Value is the setting and Missing the
// missing classes. Watch returns it wrapped, and an OpResync carries it in
// Err when a resubscription finds the classes gone. It wraps
// [kv.ErrNotSupported].
type NotifyConfigError = rediswatch.NotifyConfigError

// errSubscriptionLost reports a subscription connection that rueidis closed
// without an error.
var errSubscriptionLost = errors.New("subscription connection closed")

// Watch implements [kv.Watcher] with keyspace notifications.
//
// It checks the server's notify-keyspace-events setting (see the package
// documentation), PSUBSCRIBEs to __keyspace@<db>__:<pattern> on a
// connection of its own (a rueidis dedicated client) and waits for the
// server's confirmation, so that every change made after Watch returns is
// reported. Keys are filtered with [kv.Match], so a watch reports exactly
// the keys Scan would (the server's channel matching differs for the empty
// key). On a cluster it subscribes on every master.
//
// Before an event is delivered, the key is dropped from the cache, and when
// the watch may have missed changes the whole cache is emptied: a read made
// on an event or an OpResync sees the change, even before the server's
// invalidation arrives.
//
// The watch follows the servers: it reads the topology every
// [Options.TopologyInterval] (a second by default), and
// when a cluster master or a Sentinel's master changes (a failover, graceful
// or not), it subscribes on the new master, leaves the old one and sends an
// OpResync once the new subscription is live. When the connection is lost,
// for example after a server restart or a killed connection, the watch
// subscribes again on a new one, checks the setting again and sends an
// OpResync: with a nil Err when events flow again, or with Err set when the
// needed classes are now missing (they are turned on again if
// [Options.EnableKeyspaceEvents] is set). A watch in that state checks again
// every few seconds and sends an OpResync with a nil Err once the classes
// are back.
func (s *Store) Watch(ctx context.Context, pattern string) (<-chan kv.Event, error) {
	if err := s.life.Check(ctx); err != nil {
		return nil, fmt.Errorf("rueidiskv: watch %s: %w", kv.QuoteKey(pattern), err)
	}
	return rediswatch.Start(ctx, &s.life, watchClient{s}, pattern, rediswatch.Options{
		Backend:              "rueidiskv",
		Log:                  s.log,
		Buffer:               s.opts.WatchBuffer,
		EnableKeyspaceEvents: s.opts.EnableKeyspaceEvents,
		Interval:             s.opts.TopologyInterval,
		Wrap:                 wrapErr,
		Changed:              s.wrote,
		Missed:               s.missedChanges,
	})
}

// watchClient is a store's client as a watch uses it.
type watchClient struct{ s *Store }

// Servers lists the masters by address: every master of a cluster (asked
// their ROLE), or the server the client reaches (a Sentinel client's
// current master).
func (w watchClient) Servers(ctx context.Context) ([]rediswatch.Server, error) {
	if w.s.cluster {
		nodes, err := w.s.nodes(ctx)
		if err != nil {
			return nil, err
		}
		servers := make([]rediswatch.Server, len(nodes))
		for i, n := range nodes {
			servers[i] = rediswatch.Server{ID: n.addr, Addr: n.addr, DB: n.db, Node: n.c}
		}
		return servers, nil
	}
	db, err := w.s.database(ctx)
	if err != nil {
		return nil, err
	}
	all := w.s.c.Nodes()
	addrs := slices.Sorted(func(yield func(string) bool) {
		for a := range all {
			if !yield(a) {
				return
			}
		}
	})
	var servers []rediswatch.Server
	for _, a := range addrs {
		// A Sentinel client that sends reads to replicas lists one too.
		if len(addrs) > 1 && !isMaster(ctx, all[a]) {
			continue
		}
		servers = append(servers, rediswatch.Server{ID: a, Addr: a, DB: db, Node: all[a]})
	}
	if len(servers) == 0 {
		return nil, errors.New("the client knows no master")
	}
	return servers, nil
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

// Notify reaches the setting through the server's client.
func (w watchClient) Notify(srv rediswatch.Server) rediswatch.NotifyAccess {
	c := srv.Node.(rueidis.Client)
	const param = rediswatch.NotifyParam
	return rediswatch.NotifyAccess{
		Addr: srv.Addr,
		Get: func(ctx context.Context) (map[string]string, error) {
			return c.Do(ctx, c.B().ConfigGet().Parameter(param).Build()).AsStrMap()
		},
		Set: func(ctx context.Context, value string) error {
			return c.Do(ctx, c.B().ConfigSet().ParameterValue().ParameterValue(param, value).Build()).Error()
		},
		Unreachable: func(ctx context.Context, err error) bool { return classify(ctx, err) != nil },
	}
}

// Subscribe makes one subscription on a dedicated connection of the
// server's client and forwards its notifications until ctx ends (it returns
// nil) or the connection is lost (it returns why).
func (w watchClient) Subscribe(ctx context.Context, srv rediswatch.Server, channel string,
	confirmed func(), deliver func(channel, message string)) error {
	dc, release := srv.Node.(rueidis.Client).Dedicate()
	defer release()
	lost := dc.SetPubSubHooks(rueidis.PubSubHooks{OnMessage: func(m rueidis.PubSubMessage) {
		deliver(m.Channel, m.Message)
	}})
	// PSUBSCRIBE returns once the server confirmed it.
	if err := dc.Do(ctx, dc.B().Psubscribe().Pattern(channel).Build()).Error(); err != nil {
		return err
	}
	confirmed()
	select {
	case <-ctx.Done():
		return nil
	case err, ok := <-lost:
		if !ok || err == nil {
			err = errSubscriptionLost
		}
		return err
	}
}
