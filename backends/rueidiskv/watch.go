package rueidiskv

import (
	"context"
	"errors"

	"github.com/redis/rueidis"

	"github.com/cledar/storekit/internal/rediskv"
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
	return s.r.Watch(ctx, pattern)
}

// Servers lists the masters (see Nodes) by address: a Sentinel client's
// master changes address with a failover.
func (a *adapter) Servers(ctx context.Context) ([]rediswatch.Server, error) {
	nodes, err := a.Nodes(ctx)
	if err != nil {
		return nil, err
	}
	servers := make([]rediswatch.Server, len(nodes))
	for i, n := range nodes {
		servers[i] = rediswatch.Server{ID: n.Addr, Addr: n.Addr, DB: n.DB, Node: n}
	}
	return servers, nil
}

// Subscribe makes one subscription on a dedicated connection of the
// server's client and forwards its notifications until ctx ends (it returns
// nil) or the connection is lost (it returns why).
func (a *adapter) Subscribe(ctx context.Context, srv rediswatch.Server, channel string,
	confirmed func(), deliver func(channel, message string)) error {
	dc, release := srv.Node.(rediskv.Node).Handle.(rueidis.Client).Dedicate()
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
