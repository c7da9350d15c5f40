package rediswatch

import (
	"context"
	"fmt"
	"sync"
	"time"

	"go.uber.org/zap"

	"github.com/cledar/storekit/internal/eventq"
	"github.com/cledar/storekit/internal/lifecycle"
	"github.com/cledar/storekit/kv"
	"github.com/cledar/storekit/metrics"
)

// Timings of a watch.
const (
	// DefaultInterval is how often a watch reads the topology when
	// [Options.Interval] is zero.
	DefaultInterval = time.Second
	// subscribeTimeout bounds the wait for the first subscriptions'
	// confirmations when the context of Start has no earlier deadline.
	subscribeTimeout = 10 * time.Second
	// serversTimeout bounds one read of the topology.
	serversTimeout = 5 * time.Second
	// resubscribeMin and resubscribeMax bound the pause before a watch
	// subscribes again after losing a subscription's connection.
	resubscribeMin = 50 * time.Millisecond
	resubscribeMax = time.Second
)

// A Server is one Redis server that a watch subscribes on.
type Server struct {
	// ID tells the server apart from the others, and from the server that
	// held its place before a failover: the address of a cluster master,
	// or for a client that follows a Sentinel's master, whatever tells the
	// masters apart (such as the server's run_id).
	ID string
	// Addr names the server in logs and errors.
	Addr string
	// DB is the database whose keys the watch reports.
	DB int
	// Node is the backend's handle on the server, for [Client.Subscribe]
	// and [Client.Notify].
	Node any
}

// A Client is what a Redis backend gives a watch: its client library's way
// to find the servers that hold keys, to reach their notification settings,
// and to subscribe.
type Client interface {
	// Servers returns the servers that hold keys now: the one server of a
	// standalone client, the current master of a client that follows a
	// Sentinel's master, every master of a cluster, every shard of a ring.
	Servers(ctx context.Context) ([]Server, error)

	// Notify returns access to srv's notify-keyspace-events setting.
	Notify(srv Server) NotifyAccess

	// Subscribe PSUBSCRIBEs channel on srv, on a connection of its own,
	// calls confirmed each time the server confirms the subscription
	// (again after the client library reconnected and subscribed again by
	// itself) and deliver for every message, until ctx ends (it returns
	// nil) or the connection is lost (it returns why). deliver and
	// confirmed do not block.
	Subscribe(ctx context.Context, srv Server, channel string, confirmed func(), deliver func(channel, message string)) error
}

// Options configure a watch.
type Options struct {
	// Backend names the backend, such as "goredis", in logs.
	Backend string
	// Log receives the watch's messages.
	Log *zap.Logger
	// Buffer is the number of events held for a slow consumer (see
	// eventq.New).
	Buffer int
	// EnableKeyspaceEvents turns missing notify-keyspace-events classes on.
	EnableKeyspaceEvents bool
	// Wrap turns an error about op (such as `watch "k*" on host:port`) into
	// the backend's error, for Start's errors and OpResync events.
	Wrap func(ctx context.Context, op string, err error) error
	// Changed, if set, is called with the key of every event before the
	// event is queued: a client-side cache drops the key there, so that a
	// consumer's re-read on the event sees the change.
	Changed func(key string)
	// Missed, if set, is called before the OpResync that follows a gap in
	// a subscription (a reconnect, a switch to another server).
	Missed func()
	// Interval is how often the watch reads the topology (Servers);
	// DefaultInterval when zero.
	Interval time.Duration
	// Counters, if set, count the watch's events, overflows and
	// resubscriptions.
	Counters *metrics.WatchCounters
}

// Start starts a watch of the keys matching pattern, a Redis glob pattern,
// on every server that c lists now, and returns its channel once every
// server confirmed the subscription: every change made after Start returns
// is reported. The first event is an OpResync.
//
// The watch then follows the servers: whenever c lists a server it does
// not watch yet (a replica promoted after a failover, a Sentinel's new
// master, a new cluster master) it subscribes there, stops watching the
// servers c no longer lists, and sends an OpResync once the new
// subscription is live, since changes made during the switch were not
// reported. A subscription whose connection is lost is made again, followed
// by an OpResync, and so is one that the client library made again by
// itself; after each, the server's notification setting is checked again
// (see [Resyncer]).
//
// The watch ends, and the channel is closed, when ctx ends or life is
// closed. Start fails when ctx ends, life is closed, a server's setting
// lacks the classes a watch needs ([NotifyConfigError]), or a subscription
// is not confirmed in time.
func Start(ctx context.Context, life *lifecycle.Life, c Client, pattern string, o Options) (<-chan kv.Event, error) {
	if o.Interval <= 0 {
		o.Interval = DefaultInterval
	}
	op := "watch " + kv.QuoteKey(pattern)
	servers, err := c.Servers(ctx)
	if err != nil {
		return nil, o.Wrap(ctx, op, err)
	}
	for _, srv := range servers {
		if err := EnsureNotify(ctx, c.Notify(srv), o.EnableKeyspaceEvents, o.Log, o.Backend); err != nil {
			return nil, o.Wrap(ctx, op+" on "+srv.Addr, err)
		}
	}
	wctx, cancel, done, err := life.StartWatch(ctx)
	if err != nil {
		return nil, fmt.Errorf("%s: %s: %w", o.Backend, op, err)
	}
	w := &watch{
		c: c, o: o, op: op, pattern: pattern,
		q:       eventq.NewCounted(wctx, o.Buffer, o.Counters),
		log:     o.Log.With(zap.String("pattern", pattern)),
		runners: make(map[string]*runner),
	}
	w.q.Push(kv.Event{Op: kv.OpResync})
	ready := make(chan error, len(servers))
	for _, srv := range servers {
		w.start(wctx, srv, ready)
	}
	end := func() {
		w.wg.Wait()
		w.q.Close()
		done()
	}
	timer := time.NewTimer(subscribeTimeout)
	defer timer.Stop()
	for range servers {
		var err error
		select {
		case err = <-ready:
		case <-ctx.Done():
			err = ctx.Err()
		case <-life.Closing():
			err = kv.ErrClosed
		case <-timer.C:
			err = fmt.Errorf("no PSUBSCRIBE confirmation within %v", subscribeTimeout)
		}
		if err != nil {
			cancel()
			end()
			return nil, o.Wrap(ctx, op, err)
		}
	}
	w.wg.Go(func() { w.follow(wctx) })
	go end()
	return w.q.C(), nil
}

// A watch is the state of one Start.
type watch struct {
	c       Client
	o       Options
	op      string
	pattern string
	q       *eventq.Queue
	log     *zap.Logger
	wg      sync.WaitGroup // the runners and follow

	mu      sync.Mutex // guards runners
	runners map[string]*runner
}

// A runner keeps the subscription on one server.
type runner struct {
	srv    Server
	cancel context.CancelFunc
	done   chan struct{} // closed when the runner has ended
}

// start starts a runner for srv. With ready set, srv is one of the servers
// Start found: the first confirmation, or the first failure, is sent on
// ready. Without, srv joined later, and its first confirmation is a gap.
func (w *watch) start(ctx context.Context, srv Server, ready chan<- error) {
	rctx, cancel := context.WithCancel(ctx)
	r := &runner{srv: srv, cancel: cancel, done: make(chan struct{})}
	w.mu.Lock()
	w.runners[srv.ID] = r
	w.mu.Unlock()
	w.wg.Go(func() {
		defer close(r.done)
		defer cancel()
		w.run(rctx, srv, ready)
	})
}

// run keeps the subscription on srv until ctx ends, subscribing again
// whenever its connection is lost.
func (w *watch) run(ctx context.Context, srv Server, ready chan<- error) {
	op := w.op + " on " + srv.Addr
	log := w.log.With(zap.String("addr", srv.Addr))
	channel := KeyspaceChannelPattern(srv.DB, w.pattern)
	r := NewResyncer(w.o.Backend, w.q, log, func(ctx context.Context) error {
		if err := EnsureNotify(ctx, w.c.Notify(srv), w.o.EnableKeyspaceEvents, log, w.o.Backend); err != nil {
			return w.o.Wrap(ctx, op, err)
		}
		return nil
	})
	defer r.Stop()
	deliver := func(ch, msg string) {
		if e, ok := KeyspaceEvent(w.pattern, ch, msg); ok {
			if w.o.Changed != nil {
				w.o.Changed(e.Key)
			}
			w.q.Push(e)
		}
	}
	confirmed := make(chan struct{}, 1)
	confirm := func() {
		select {
		case confirmed <- struct{}{}:
		default:
		}
	}
	first := ready != nil
	var pause time.Duration
	for {
		lost := make(chan error, 1)
		go func() { lost <- w.c.Subscribe(ctx, srv, channel, confirm, deliver) }()
	subscribed:
		for {
			select {
			case <-confirmed:
				pause = 0
				if first {
					first = false
					ready <- nil
					continue
				}
				log.Info(w.o.Backend + ": watch subscribed again")
				w.o.Counters.Resubscribe()
				if w.o.Missed != nil {
					w.o.Missed()
				}
				r.Verify(ctx, true)
			case <-r.Recheck():
				r.Verify(ctx, false)
			case err := <-lost:
				if ctx.Err() != nil {
					return
				}
				if first {
					ready <- fmt.Errorf("on %s: %w", srv.Addr, err)
					return
				}
				pause = min(max(2*pause, resubscribeMin), resubscribeMax)
				log.Warn(w.o.Backend+": watch lost its subscription; subscribing again",
					zap.Error(err), zap.Duration("after", pause))
				break subscribed
			}
		}
		if !sleep(ctx, pause) {
			return
		}
	}
}

// follow reads the servers every Interval until ctx ends, and moves the
// watch to them.
func (w *watch) follow(ctx context.Context) {
	tick := time.NewTicker(w.o.Interval)
	defer tick.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
			w.reconcile(ctx)
		}
	}
}

// reconcile subscribes on the servers the client lists that the watch does
// not watch yet, and stops watching those it no longer lists. When the
// servers cannot be read, it leaves the watch as it is.
func (w *watch) reconcile(ctx context.Context) {
	sctx, cancel := context.WithTimeout(ctx, serversTimeout)
	servers, err := w.c.Servers(sctx)
	cancel()
	if err != nil {
		if ctx.Err() == nil {
			w.log.Debug(w.o.Backend+": watch could not read the servers", zap.Error(err))
		}
		return
	}
	want := make(map[string]Server, len(servers))
	for _, srv := range servers {
		want[srv.ID] = srv
	}
	w.mu.Lock()
	var gone []*runner
	for id, r := range w.runners {
		if _, ok := want[id]; !ok {
			gone = append(gone, r)
			delete(w.runners, id)
		}
	}
	var added []Server
	for id, srv := range want {
		if _, ok := w.runners[id]; !ok {
			added = append(added, srv)
		}
	}
	w.mu.Unlock()
	for _, r := range gone {
		w.log.Info(w.o.Backend+": watch leaves a server that no longer holds keys", zap.String("addr", r.srv.Addr))
		r.cancel()
		<-r.done
	}
	for _, srv := range added {
		w.log.Info(w.o.Backend+": watch follows the topology to a server", zap.String("addr", srv.Addr))
		w.start(ctx, srv, nil)
	}
}
