package rueidiskv

import (
	"context"
	"errors"

	"github.com/redis/rueidis"

	"github.com/cledar/storekit/internal/rediskv"
	"github.com/cledar/storekit/internal/rediswatch"
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
