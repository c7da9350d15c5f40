package goredis

import (
	"context"
	"fmt"
	"strconv"
	"sync"
	"time"

	"github.com/redis/go-redis/v9"
	"go.uber.org/zap"

	"github.com/cledar/storekit/internal/eventq"
	"github.com/cledar/storekit/internal/redisproto"
	"github.com/cledar/storekit/kv"
)

// A NotifyConfigError reports a server whose notify-keyspace-events setting
// lacks classes that Watch needs: Value is the setting and Missing the
// missing classes. Watch returns it wrapped, and an OpResync carries it in
// Err when a resubscription finds the classes gone. It wraps
// [kv.ErrNotSupported].
type NotifyConfigError = redisproto.NotifyConfigError

// Timings of the watch machinery.
const (
	// subscribeTimeout bounds the wait for the PSUBSCRIBE confirmation
	// when the context of Watch has no earlier deadline.
	subscribeTimeout = 10 * time.Second
	// pubsubBuffer is the size of the client's message channel between its
	// reader goroutine and the forwarder, which never blocks for long.
	pubsubBuffer = 1000
)

// Watch implements [kv.Watcher] with keyspace notifications.
//
// It checks the server's notify-keyspace-events setting (see the package
// documentation), PSUBSCRIBEs to __keyspace@<db>__:<pattern> and waits for
// the server's confirmation, so that every change made after Watch returns
// is reported. Keys are filtered with [kv.Match], so a watch reports exactly
// the keys Scan would (the server's channel matching differs for the empty
// key). On a cluster it subscribes on every master, and on a ring on
// every shard, as the masters and shards are when Watch is called.
//
// When the client reconnects and subscribes again, for example after a
// server restart or a killed connection, the watch checks the setting again
// and sends an OpResync: with a nil Err when events flow again, or with Err
// set when the needed classes are now missing (they are turned on again if
// [Options.EnableKeyspaceEvents] is set). A watch in that state checks again
// every few seconds and sends an OpResync with a nil Err once the classes
// are back.
func (s *Store) Watch(ctx context.Context, pattern string) (<-chan kv.Event, error) {
	op := "watch " + strconv.Quote(pattern)
	if err := s.life.Check(ctx); err != nil {
		return nil, fmt.Errorf("goredis: %s: %w", op, err)
	}
	nodes, err := s.nodes(ctx)
	if err != nil {
		return nil, wrapErr(ctx, op, err)
	}
	for _, n := range nodes {
		if err := s.checkNotify(ctx, n); err != nil {
			return nil, wrapErr(ctx, op+" on "+n.addr, err)
		}
	}
	subs := make([]*redis.PubSub, 0, len(nodes))
	closeAll := func() {
		for _, ps := range subs {
			_ = ps.Close()
		}
	}
	for _, n := range nodes {
		ps, err := subscribe(ctx, n, pattern)
		if err != nil {
			closeAll()
			return nil, wrapErr(ctx, op+" on "+n.addr, err)
		}
		subs = append(subs, ps)
	}

	// The watch ends when ctx ends or the store closes; a subscription that
	// ends for another reason ends the others too.
	wctx, cancel, done, err := s.life.StartWatch(ctx)
	if err != nil {
		closeAll()
		return nil, fmt.Errorf("goredis: %s: %w", op, err)
	}
	q := eventq.New(wctx, s.opts.WatchBuffer)
	q.Push(kv.Event{Op: kv.OpResync})
	go func() {
		var running sync.WaitGroup
		for i, n := range nodes {
			running.Go(func() {
				defer cancel()
				s.forward(wctx, n, subs[i], pattern, q)
			})
		}
		running.Wait()
		q.Close()
		done()
	}()
	return q.C(), nil
}

// subscribe subscribes to the keyspace notifications of n for pattern and
// waits for the server's confirmation.
func subscribe(ctx context.Context, n *node, pattern string) (*redis.PubSub, error) {
	ps := n.c.PSubscribe(ctx)
	if err := ps.PSubscribe(ctx, redisproto.KeyspaceChannelPattern(n.db, pattern)); err != nil {
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

// checkNotify checks that n sends the keyspace notifications a watch needs,
// turning them on when [Options.EnableKeyspaceEvents] is set. It returns nil
// when the watch can work, or when the server refuses CONFIG GET (a managed
// service or an ACL may forbid it; the store then logs a warning and assumes
// the notifications are on), a *redisproto.NotifyConfigError when classes
// are missing, and the client's error when n could not be asked.
func (s *Store) checkNotify(ctx context.Context, n *node) error {
	const param = redisproto.NotifyParam
	return redisproto.EnsureNotify(ctx, redisproto.NotifyAccess{
		Addr: n.addr,
		Get: func(ctx context.Context) (map[string]string, error) {
			return n.c.ConfigGet(ctx, param).Result()
		},
		Set: func(ctx context.Context, value string) error {
			return n.c.ConfigSet(ctx, param, value).Err()
		},
		Unreachable: func(ctx context.Context, err error) bool { return classify(ctx, err) != nil },
	}, s.opts.EnableKeyspaceEvents, s.log, "goredis")
}

// forward moves the notifications of one subscription into q until ctx
// (which the store's Close cancels) ends, reporting each resubscription with
// an OpResync.
func (s *Store) forward(ctx context.Context, n *node, ps *redis.PubSub, pattern string, q *eventq.Queue) {
	ch := ps.ChannelWithSubscriptions(redis.WithChannelSize(pubsubBuffer))
	defer func() {
		_ = ps.Close()
		for range ch {
			// Drain until the client's reader goroutine sees the close
			// and exits, so that no goroutine outlives the watch.
		}
	}()
	watchOp := "watch " + strconv.Quote(pattern) + " on " + n.addr
	log := s.log.With(zap.String("pattern", pattern), zap.String("addr", n.addr))
	r := redisproto.NewResyncer("goredis", q, log, func(ctx context.Context) error {
		if err := s.checkNotify(ctx, n); err != nil {
			return wrapErr(ctx, watchOp, err)
		}
		return nil
	})
	defer r.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-r.Recheck():
			r.Verify(ctx, false)
		case msg, ok := <-ch:
			if !ok {
				return
			}
			switch m := msg.(type) {
			case *redis.Message:
				if e, ok := redisproto.KeyspaceEvent(pattern, m.Channel, m.Payload); ok {
					q.Push(e)
				}
			case *redis.Subscription:
				if m.Kind == "psubscribe" {
					// The client reconnected and subscribed again:
					// the events of the gap are lost.
					log.Info("goredis: watch resubscribed")
					r.Verify(ctx, true)
				}
			}
		}
	}
}
