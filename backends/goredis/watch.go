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

// failoverAddr is the Addr in the options of a Sentinel failover client.
const failoverAddr = "FailoverClient"

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
