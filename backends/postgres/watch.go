package postgres

import (
	"context"
	"encoding/hex"
	"fmt"
	"strings"
	"sync"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/cledar/storekit/kv"
	"github.com/cledar/storekit/metrics"
)

// Watch reports changes to the keys matching pattern, a Redis glob (see
// [kv.Match]). Every write to the table, by this process or another,
// fires the table's trigger, which sends a NOTIFY on the table's channel
// after the write commits; each watch LISTENs on a connection of its own
// and keeps the events of the keys that match.
//
// The first event is an OpResync, and another follows each reconnect of
// the listening connection (events may have been missed meanwhile) and
// each time a slow consumer made the watch drop buffered events. A key
// whose notification would not fit in a NOTIFY payload (about 3,990 bytes
// of key) is reported as an OpResync, for every pattern.
func (s *Store) Watch(ctx context.Context, pattern string) (_ <-chan kv.Event, err error) {
	defer s.counters.Done(metrics.OpWatch, &err)
	if err := s.begin(ctx, "watch", ""); err != nil {
		return nil, err
	}
	conn, err := s.listen(ctx)
	if err != nil {
		return nil, err
	}
	s.watchMu.Lock()
	defer s.watchMu.Unlock()
	if s.closed.Load() {
		closeConn(conn)
		return nil, fmt.Errorf("postgres: watch: %w", kv.ErrClosed)
	}
	wctx, cancel := context.WithCancel(ctx)
	stopOnClose := context.AfterFunc(s.life, cancel)
	w := &watch{s: s, pattern: pattern, q: newQueue(s.watchBuffer, &s.counters.Watch), out: make(chan kv.Event)}
	w.q.push(kv.Event{Op: kv.OpResync})
	s.watchers.Add(2)
	go func() {
		defer s.watchers.Done()
		defer cancel()
		defer stopOnClose()
		w.receive(wctx, conn)
	}()
	go func() {
		defer s.watchers.Done()
		w.deliver(wctx)
	}()
	return w.out, nil
}

// listen opens a connection of its own, with the pool's settings, that
// listens on the store's channel.
func (s *Store) listen(ctx context.Context) (*pgx.Conn, error) {
	conn, err := pgx.ConnectConfig(ctx, s.pool.Config().ConnConfig.Copy())
	if err != nil {
		return nil, wrap("watch", "", err)
	}
	if _, err := conn.Exec(ctx, `LISTEN `+s.q.channel); err != nil {
		closeConn(conn)
		return nil, wrap("watch", "", err)
	}
	return conn, nil
}

// closeConn closes conn, waiting a few seconds at most.
func closeConn(conn *pgx.Conn) {
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Second)
	defer cancel()
	conn.Close(ctx)
}

// A watch is one call of Watch.
type watch struct {
	s       *Store
	pattern string
	q       *queue
	out     chan kv.Event
}

// receive reads notifications from conn into the queue until ctx ends,
// reconnecting (and queueing an OpResync) whenever the connection fails.
func (w *watch) receive(ctx context.Context, conn *pgx.Conn) {
	backoff := 50 * time.Millisecond
	for {
		n, err := conn.WaitForNotification(ctx)
		if err == nil {
			w.notified(n.Payload)
			continue
		}
		closeConn(conn)
		for {
			if ctx.Err() != nil {
				return
			}
			if conn, err = w.s.listen(ctx); err == nil {
				break
			}
			select {
			case <-ctx.Done():
				return
			case <-time.After(backoff):
			}
			backoff = min(2*backoff, 2*time.Second)
		}
		backoff = 50 * time.Millisecond
		w.s.counters.Watch.Resubscribe()
		w.q.push(kv.Event{Op: kv.OpResync})
	}
}

// notified queues the events of payload, as the trigger writes it: the
// kinds of event, one letter each, a colon, and the key in hex ("r:" alone
// for a resync).
func (w *watch) notified(payload string) {
	ops, hexKey, _ := strings.Cut(payload, ":")
	if ops == "r" {
		w.q.push(kv.Event{Op: kv.OpResync})
		return
	}
	key, err := hex.DecodeString(hexKey)
	if err != nil {
		w.q.push(kv.Event{Op: kv.OpResync}) // not the trigger's: re-read to be safe
		return
	}
	if !kv.Match(w.pattern, string(key)) {
		return
	}
	for _, c := range ops {
		w.q.push(kv.Event{Op: opOf[c], Key: string(key)})
	}
}

// opOf maps the trigger's letters to kinds of event.
var opOf = map[rune]kv.Op{
	's': kv.OpSet, 'd': kv.OpDelete, 'e': kv.OpExpire, 'x': kv.OpExpired,
	'a': kv.OpAppend, 'o': kv.OpOther, 'r': kv.OpResync,
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
