// Package eventq buffers watch events between a producer that must never block
// and a consumer that reads a channel at its own pace.
//
// A Queue holds up to a fixed number of events. When a producer pushes into a
// full queue, the queued events are dropped and replaced by a single
// kv.OpResync event, so a slow consumer learns that it missed something
// instead of missing it silently, and the producer never waits.
package eventq

import (
	"context"
	"sync"

	"github.com/cledar/storekit/kv"
	"github.com/cledar/storekit/metrics"
)

// DefaultLimit is the number of events a Queue holds when New is given a
// limit below 1.
const DefaultLimit = 1024

// A Queue is a bounded, overflow-to-resync event buffer drained by one
// goroutine into a channel. Create it with New.
type Queue struct {
	mu      sync.Mutex
	buf     []kv.Event
	limit   int
	closed  bool
	wake    chan struct{} // capacity 1: "buf is not empty or the queue closed"
	out     chan kv.Event
	done    chan struct{} // closed when the drain goroutine has exited
	stopped chan struct{} // closed by Close
	once    sync.Once
	count   *metrics.WatchCounters // nil: uncounted
}

// New returns a queue holding at most limit events and starts the goroutine
// that moves them to C. The goroutine ends, and C is closed, when ctx is done
// or Close is called; events still queued are dropped then.
func New(ctx context.Context, limit int) *Queue { return NewCounted(ctx, limit, nil) }

// NewCounted is New with the queue's deliveries, resyncs and overflows
// counted in c.
func NewCounted(ctx context.Context, limit int, c *metrics.WatchCounters) *Queue {
	q := newQueue(limit, c)
	go q.drain(ctx)
	return q
}

// newQueue returns a queue as NewCounted does, without its goroutine.
func newQueue(limit int, c *metrics.WatchCounters) *Queue {
	if limit < 1 {
		limit = DefaultLimit
	}
	return &Queue{
		limit:   limit,
		wake:    make(chan struct{}, 1),
		out:     make(chan kv.Event),
		done:    make(chan struct{}),
		stopped: make(chan struct{}),
		count:   c,
	}
}

// C returns the channel the consumer reads.
func (q *Queue) C() <-chan kv.Event { return q.out }

// Push queues e without blocking. It reports false if the queue is closed.
func (q *Queue) Push(e kv.Event) bool {
	q.mu.Lock()
	if q.closed {
		q.mu.Unlock()
		return false
	}
	if len(q.buf) >= q.limit {
		// Overflow: everything queued is superseded by one resync.
		q.count.Overflow()
		clear(q.buf)
		q.buf = append(q.buf[:0], kv.Event{Op: kv.OpResync})
		if e.Op == kv.OpResync && e.Err != nil {
			q.buf[0].Err = e.Err
		}
	} else {
		q.buf = append(q.buf, e)
	}
	q.mu.Unlock()
	select {
	case q.wake <- struct{}{}:
	default:
	}
	return true
}

// Close stops the queue and waits until the drain goroutine has exited and C
// is closed. It is idempotent.
func (q *Queue) Close() {
	q.once.Do(func() { close(q.stopped) })
	<-q.done
}

// Done is closed once the queue has stopped, by Close or by its context.
func (q *Queue) Done() <-chan struct{} { return q.done }

// Stopped reports whether the queue has stopped taking events: from the
// moment it reports true, Push reports false.
func (q *Queue) Stopped() bool {
	q.mu.Lock()
	defer q.mu.Unlock()
	return q.closed
}

func (q *Queue) drain(ctx context.Context) {
	defer func() {
		q.mu.Lock()
		q.closed = true
		q.buf = nil
		q.mu.Unlock()
		close(q.out)
		close(q.done)
	}()
	var batch []kv.Event
	first := true // the next event sent is the first
	for {
		q.mu.Lock()
		batch, q.buf = q.buf, batch[:0]
		q.mu.Unlock()
		for i, e := range batch {
			select {
			case q.out <- e:
				q.count.Event(e.Op == kv.OpResync && !first)
				first = false
				batch[i] = kv.Event{}
			case <-ctx.Done():
				return
			case <-q.stopped:
				return
			}
		}
		select {
		case <-q.wake:
		case <-ctx.Done():
			return
		case <-q.stopped:
			return
		}
	}
}
