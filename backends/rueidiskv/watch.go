package rueidiskv

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"sync"
	"time"

	"github.com/redis/rueidis"
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
	// subscribeTimeout bounds the wait for the first PSUBSCRIBE
	// confirmations when the context of Watch has no earlier deadline.
	subscribeTimeout = 10 * time.Second
	// resubscribeMin and resubscribeMax bound the pause before a watch
	// subscribes again after losing its connection.
	resubscribeMin = 50 * time.Millisecond
	resubscribeMax = time.Second
)

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
// key). On a cluster it subscribes on every master, as the masters are when
// Watch is called.
//
// When the connection is lost, for example after a server restart or a
// killed connection, the watch subscribes again on a new one, checks the
// setting again and sends an OpResync: with a nil Err when events flow
// again, or with Err set when the needed classes are now missing (they are
// turned on again if [Options.EnableKeyspaceEvents] is set). A watch in that
// state checks again every few seconds and sends an OpResync with a nil Err
// once the classes are back.
func (s *Store) Watch(ctx context.Context, pattern string) (<-chan kv.Event, error) {
	op := "watch " + strconv.Quote(pattern)
	if err := s.life.Check(ctx); err != nil {
		return nil, fmt.Errorf("rueidiskv: %s: %w", op, err)
	}
	nodes, err := s.nodes(ctx)
	if err != nil {
		return nil, wrapErr(ctx, op, err)
	}
	for _, n := range nodes {
		if err := s.checkNotify(ctx, n.c, n.addr); err != nil {
			return nil, wrapErr(ctx, op+" on "+n.addr, err)
		}
	}

	// The watch ends when ctx ends or the store closes; a subscription that
	// ends for good ends the others too.
	wctx, cancel, done, err := s.life.StartWatch(ctx)
	if err != nil {
		return nil, fmt.Errorf("rueidiskv: %s: %w", op, err)
	}
	q := eventq.New(wctx, s.opts.WatchBuffer)
	q.Push(kv.Event{Op: kv.OpResync})
	ready := make(chan error, len(nodes))
	var running sync.WaitGroup
	for _, n := range nodes {
		w := &nodeWatch{
			s: s, n: n, q: q, pattern: pattern, conn: n.c,
			channel: redisproto.KeyspaceChannelPattern(n.db, pattern),
			op:      op + " on " + n.addr,
			log:     s.log.With(zap.String("pattern", pattern), zap.String("addr", n.addr)),
		}
		running.Go(func() {
			defer cancel()
			w.run(wctx, ready)
		})
	}
	end := func() {
		running.Wait()
		q.Close()
		done()
	}

	timer := time.NewTimer(subscribeTimeout)
	defer timer.Stop()
	for range nodes {
		var err error
		select {
		case err = <-ready:
		case <-ctx.Done():
			err = ctx.Err()
		case <-s.life.Closing():
			err = kv.ErrClosed
		case <-timer.C:
			err = fmt.Errorf("no PSUBSCRIBE confirmation within %v", subscribeTimeout)
		}
		if err != nil {
			cancel()
			end()
			return nil, wrapErr(ctx, op, err)
		}
	}
	go end()
	return q.C(), nil
}

// checkNotify checks, through c, that the server at addr sends the
// keyspace notifications a watch needs; see redisproto.EnsureNotify.
func (s *Store) checkNotify(ctx context.Context, c rueidis.CoreClient, addr string) error {
	const param = redisproto.NotifyParam
	return redisproto.EnsureNotify(ctx, redisproto.NotifyAccess{
		Addr: addr,
		Get: func(ctx context.Context) (map[string]string, error) {
			return c.Do(ctx, c.B().ConfigGet().Parameter(param).Build()).AsStrMap()
		},
		Set: func(ctx context.Context, value string) error {
			return c.Do(ctx, c.B().ConfigSet().ParameterValue().ParameterValue(param, value).Build()).Error()
		},
		Unreachable: func(ctx context.Context, err error) bool { return classify(ctx, err) != nil },
	}, s.opts.EnableKeyspaceEvents, s.log, "rueidiskv")
}

// A nodeWatch is a watch's subscription on one server.
type nodeWatch struct {
	s       *Store
	n       *node
	q       *eventq.Queue
	pattern string // the watch's key pattern
	channel string // the PSUBSCRIBE pattern
	op      string
	log     *zap.Logger
	conn    rueidis.CoreClient // the subscription's connection, while there is one
}

// run subscribes on a dedicated connection and keeps the subscription until
// ctx ends, subscribing again on a new connection whenever it is lost. It
// reports the first subscription's outcome on ready; if that fails, run
// returns.
func (w *nodeWatch) run(ctx context.Context, ready chan<- error) {
	r := redisproto.NewResyncer("rueidiskv", w.q, w.log, func(ctx context.Context) error {
		// Ask over the subscription's own connection: it has just been
		// made, while the client's may not have noticed yet that the
		// server restarted.
		if err := w.s.checkNotify(ctx, w.conn, w.n.addr); err != nil {
			return wrapErr(ctx, w.op, err)
		}
		return nil
	})
	defer r.Stop()
	first := true
	var pause time.Duration
	for {
		err := w.subscribe(ctx, r, func() {
			if first {
				first = false
				ready <- nil
				return
			}
			w.log.Info("rueidiskv: watch resubscribed")
			pause = 0
			w.s.missedChanges()
			r.Verify(ctx, true)
		})
		if ctx.Err() != nil {
			return
		}
		if first {
			ready <- fmt.Errorf("on %s: %w", w.n.addr, err)
			return
		}
		pause = min(max(2*pause, resubscribeMin), resubscribeMax)
		w.log.Warn("rueidiskv: watch lost its subscription; subscribing again", zap.Error(err), zap.Duration("after", pause))
		t := time.NewTimer(pause)
		select {
		case <-ctx.Done():
			t.Stop()
			return
		case <-t.C:
		}
	}
}

// subscribe makes one subscription on a connection of its own, calls
// subscribed once the server confirmed it, and forwards its notifications
// until ctx ends (it returns nil) or the connection is lost (it returns
// why).
func (w *nodeWatch) subscribe(ctx context.Context, r *redisproto.Resyncer, subscribed func()) error {
	dc, release := w.n.c.Dedicate()
	defer release()
	w.conn = dc
	defer func() { w.conn = w.n.c }()
	lost := dc.SetPubSubHooks(rueidis.PubSubHooks{OnMessage: w.forward})
	// PSUBSCRIBE returns once the server confirmed it.
	if err := dc.Do(ctx, dc.B().Psubscribe().Pattern(w.channel).Build()).Error(); err != nil {
		return err
	}
	subscribed()
	for {
		select {
		case <-ctx.Done():
			return nil
		case <-r.Recheck():
			r.Verify(ctx, false)
		case err, ok := <-lost:
			if !ok || err == nil {
				err = errSubscriptionLost
			}
			return err
		}
	}
}

// forward turns a notification into an event, dropping the key from the
// cache first so that a consumer's re-read sees the change. It runs on the
// connection's reading goroutine and never blocks.
func (w *nodeWatch) forward(m rueidis.PubSubMessage) {
	if e, ok := redisproto.KeyspaceEvent(w.pattern, m.Channel, m.Message); ok {
		w.s.wrote(e.Key)
		w.q.Push(e)
	}
}
