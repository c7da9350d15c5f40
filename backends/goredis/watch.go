package goredis

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/redis/go-redis/v9"

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

// Timings of the watch machinery.
const (
	// subscribeTimeout bounds the wait for the PSUBSCRIBE confirmation
	// when the context of Watch has no earlier deadline.
	subscribeTimeout = 10 * time.Second
	// pubsubBuffer is the size of the client's message channel between its
	// reader goroutine and the forwarder, which never blocks for long.
	pubsubBuffer = 1000
)

// errSubscriptionClosed reports a subscription whose message channel the
// client closed.
var errSubscriptionClosed = errors.New("subscription closed")

// Watch implements [kv.Watcher] with keyspace notifications.
//
// It checks the server's notify-keyspace-events setting (see the package
// documentation), PSUBSCRIBEs to __keyspace@<db>__:<pattern> and waits for
// the server's confirmation, so that every change made after Watch returns
// is reported. Keys are filtered with [kv.Match], so a watch reports exactly
// the keys Scan would (the server's channel matching differs for the empty
// key). On a cluster it subscribes on every master, and on a ring on
// every shard.
//
// The watch follows the servers: it reads the topology every
// [Options.TopologyInterval] (a second by default), and
// when a cluster master or a Sentinel's master changes (a failover, graceful
// or not), it subscribes on the new master, leaves the old one and sends an
// OpResync once the new subscription is live. When the client reconnects and
// subscribes again, for example after a server restart or a killed
// connection, the watch checks the setting again and sends an OpResync:
// with a nil Err when events flow again, or with Err set when the needed
// classes are now missing (they are turned on again if
// [Options.EnableKeyspaceEvents] is set). A watch in that state checks again
// every few seconds and sends an OpResync with a nil Err once the classes
// are back.
func (s *Store) Watch(ctx context.Context, pattern string) (<-chan kv.Event, error) {
	return s.r.Watch(ctx, pattern)
}

// failoverAddr is the Addr in the options of a Sentinel failover client.
const failoverAddr = "FailoverClient"

// Servers lists the masters (or shards) by address. A Sentinel failover
// client's master is known by the run_id of the server its connections
// reach, which changes with a failover. A cluster client is asked to read
// its topology again, so that the next call sees a failover.
func (c *adapter) Servers(ctx context.Context) ([]rediswatch.Server, error) {
	if cc, ok := c.c.(*redis.ClusterClient); ok {
		cc.ReloadState(ctx)
	}
	nodes, err := c.Nodes(ctx)
	if err != nil {
		return nil, err
	}
	servers := make([]rediswatch.Server, len(nodes))
	for i, n := range nodes {
		servers[i] = rediswatch.Server{ID: n.Addr, Addr: n.Addr, DB: n.DB, Node: n}
		if n.Addr == failoverAddr {
			id, err := runID(ctx, c.c)
			if err != nil {
				return nil, err
			}
			servers[i].ID = id
			servers[i].Addr = "the Sentinel's master (run_id " + id + ")"
		}
	}
	return servers, nil
}

// runID returns the run_id that INFO server reports.
func runID(ctx context.Context, c redis.UniversalClient) (string, error) {
	info, err := c.Info(ctx, "server").Result()
	if err != nil {
		return "", err
	}
	for line := range strings.Lines(info) {
		if id, ok := strings.CutPrefix(strings.TrimSpace(line), "run_id:"); ok {
			return id, nil
		}
	}
	return "", errors.New("INFO server has no run_id")
}

// Subscribe subscribes through the server's client, which makes the
// subscription again by itself after a reconnect, and forwards until ctx
// ends.
func (c *adapter) Subscribe(ctx context.Context, srv rediswatch.Server, channel string,
	confirmed func(), deliver func(channel, message string)) error {
	ps, err := subscribe(ctx, srv.Node.(rediskv.Node).Handle.(redis.UniversalClient), channel)
	if err != nil {
		return err
	}
	confirmed()
	ch := ps.ChannelWithSubscriptions(redis.WithChannelSize(pubsubBuffer))
	defer func() {
		_ = ps.Close()
		for range ch {
			// Drain until the client's reader goroutine sees the close
			// and exits, so that no goroutine outlives the watch.
		}
	}()
	for {
		select {
		case <-ctx.Done():
			return nil
		case msg, ok := <-ch:
			if !ok {
				return errSubscriptionClosed
			}
			switch m := msg.(type) {
			case *redis.Message:
				deliver(m.Channel, m.Payload)
			case *redis.Subscription:
				if m.Kind == "psubscribe" {
					confirmed()
				}
			}
		}
	}
}

// subscribe subscribes through c to channel and waits for the server's
// confirmation.
func subscribe(ctx context.Context, c redis.UniversalClient, channel string) (*redis.PubSub, error) {
	ps := c.PSubscribe(ctx)
	if err := ps.PSubscribe(ctx, channel); err != nil {
		_ = ps.Close()
		return nil, err
	}
	// The read below ignores cancellation; closing the PubSub ends it.
	stop := context.AfterFunc(ctx, func() { _ = ps.Close() })
	msg, err := ps.ReceiveTimeout(ctx, subscribeTimeout)
	if !stop() {
		if err == nil {
			err = ctx.Err()
		}
		return nil, err
	}
	if err == nil {
		if sub, ok := msg.(*redis.Subscription); !ok || sub.Kind != "psubscribe" {
			err = fmt.Errorf("unexpected reply %v to PSUBSCRIBE", msg)
		}
	}
	if err != nil {
		_ = ps.Close()
		return nil, err
	}
	return ps, nil
}
