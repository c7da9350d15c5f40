package postgres

import (
	"context"
	"fmt"
	"sync"

	"github.com/jackc/pgx/v5"

	"github.com/cledar/storekit/kv"
	"github.com/cledar/storekit/metrics"
)

// Watch reports changes to the keys matching pattern, a Redis glob (see
// [kv.Match]). Every write to the table, by this process or another,
// fires the table's trigger, which sends a NOTIFY on the table's channel
// after the write commits. The store LISTENs on one connection of its own,
// opened by the first watch and closed when the last one ends, and gives
// each watch the events of the keys its pattern matches.
//
// The first event is an OpResync, and another follows each reconnect of
// the listening connection (events may have been missed meanwhile) and
// each time a slow consumer made the watch drop buffered events. A key
// whose notification would not fit in a NOTIFY payload (about 3,990 bytes
// of key) is reported as an OpResync, for every pattern.
//
// When the listening connection has failed and is not back yet, Watch
// connects itself, so that it returns a watch that is live or an error.
func (s *Store) Watch(ctx context.Context, pattern string) (_ <-chan kv.Event, err error) {
	defer s.counters.Done(metrics.OpWatch, &err)
	if err := s.begin(ctx, "watch", ""); err != nil {
		return nil, err
	}
	w := &watch{s: s, pattern: pattern, q: newQueue(s.watchBuffer, &s.counters.Watch), out: make(chan kv.Event)}
	w.q.push(kv.Event{Op: kv.OpResync})
	if err := s.join(ctx, w); err != nil {
		return nil, err
	}
	return w.out, nil
}

// join adds w to the store's listener, starting one when there is none,
// and starts w's delivery, which lasts until ctx ends or the store closes.
// When the store has no listener, or one without a connection, join
// connects first, outside the lock: a failure is Watch's error, and the
// connection becomes the listener's.
func (s *Store) join(ctx context.Context, w *watch) error {
	var conn *pgx.Conn // a listening connection of this call's own
	for {
		s.watchMu.Lock()
		if s.closed.Load() {
			s.watchMu.Unlock()
			if conn != nil {
				closeConn(conn)
			}
			return fmt.Errorf("postgres: watch: %w", kv.ErrClosed)
		}
		l := s.lis
		if l == nil && conn != nil {
			l, conn = s.startListener(conn), nil
		}
		if l != nil && (conn != nil || l.isConnected()) {
			if conn != nil {
				conn = l.hand(conn)
			}
			l.add(w)
			s.deliver(ctx, w, l)
			s.watchMu.Unlock()
			if conn != nil {
				closeConn(conn) // the listener connected meanwhile
			}
			return nil
		}
		s.watchMu.Unlock()
		var err error
		if conn, err = s.listen(ctx); err != nil {
			return err
		}
	}
}

// deliver starts the goroutine that sends w's events to its consumer until
// ctx ends or the store closes, and then takes w off l, stopping l if w was
// its last watch. The caller holds s.watchMu.
func (s *Store) deliver(ctx context.Context, w *watch, l *listener) {
	wctx, cancel := context.WithCancel(ctx)
	stopOnClose := context.AfterFunc(s.life, cancel)
	s.watchers.Add(1)
	go func() {
		defer s.watchers.Done()
		defer cancel()
		defer stopOnClose()
		defer s.leave(w, l)
		w.deliver(wctx)
	}()
}

// leave takes w off l, and stops l when no watch is left.
func (s *Store) leave(w *watch, l *listener) {
	s.watchMu.Lock()
	defer s.watchMu.Unlock()
	if l.remove(w) && s.lis == l {
		s.lis = nil
		l.cancel()
	}
}

// A watch is one call of Watch.
type watch struct {
	s       *Store
	pattern string
	q       *queue
	out     chan kv.Event
}

// deliver sends the queued events to the consumer, counting them, until
// ctx ends, then closes the channel.
func (w *watch) deliver(ctx context.Context) {
	defer close(w.out)
	first := true
	for {
		select {
		case <-ctx.Done():
			return
		case <-w.q.ready:
		}
		for _, ev := range w.q.take() {
			select {
			case w.out <- ev:
				w.s.counters.Watch.Event(ev.Op == kv.OpResync && !first)
				first = false
			case <-ctx.Done():
				return
			}
		}
	}
}

// A queue holds a watch's events between the listening connection and the
// consumer. Past its limit it drops what it holds for one OpResync, so
// that a slow consumer never holds up the connection.
type queue struct {
	mu     sync.Mutex
	events []kv.Event
	limit  int
	ready  chan struct{} // has a value when events is not empty
	count  *metrics.WatchCounters
}

func newQueue(limit int, count *metrics.WatchCounters) *queue {
	return &queue{limit: limit, ready: make(chan struct{}, 1), count: count}
}

func (q *queue) push(ev kv.Event) {
	q.mu.Lock()
	if len(q.events) >= q.limit {
		q.count.Overflow()
		q.events = append(q.events[:0], kv.Event{Op: kv.OpResync})
	}
	q.events = append(q.events, ev)
	q.mu.Unlock()
	select {
	case q.ready <- struct{}{}:
	default:
	}
}

// take returns the queued events and empties the queue.
func (q *queue) take() []kv.Event {
	q.mu.Lock()
	defer q.mu.Unlock()
	evs := q.events
	q.events = nil
	return evs
}
