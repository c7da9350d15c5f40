package memory

import (
	"container/heap"
	"sync"
	"time"
)

// expirer frees keys when their TTL runs out, so that they stop using memory
// and watchers hear OpExpired without anyone reading them. Reads never depend
// on it: they check the expiry themselves.
//
// Its goroutine starts with the first TTL and stops on Close.
type expirer struct {
	s       *Store
	mu      sync.Mutex
	due     dueHeap
	started bool
	stopped bool
	// compactAt is the heap size at which entries of keys that were
	// rewritten since are dropped, so repeated TTL writes to one key do not
	// grow the heap without bound.
	compactAt int
	wake      chan struct{} // capacity 1: the earliest deadline changed
	quit      chan struct{}
	done      chan struct{}
}

func (x *expirer) init(s *Store) {
	x.s = s
	x.wake = make(chan struct{}, 1)
	x.quit = make(chan struct{})
	x.done = make(chan struct{})
	x.compactAt = minCompactAt
}

// schedule records that key is due to expire at exp (Unix nanoseconds).
// An entry whose key has since been rewritten is skipped when it comes due.
func (x *expirer) schedule(key string, exp int64) {
	x.mu.Lock()
	if x.stopped {
		x.mu.Unlock()
		return
	}
	if len(x.due) >= x.compactAt {
		x.compact()
	}
	heap.Push(&x.due, dueKey{exp: exp, key: key})
	earliest := x.due[0].exp == exp
	if !x.started {
		x.started = true
		go x.run()
	}
	x.mu.Unlock()
	if earliest {
		select {
		case x.wake <- struct{}{}:
		default:
		}
	}
}

const minCompactAt = 1024

// compact keeps one entry per key, and only for a key that still has that
// deadline. The caller holds x.mu.
func (x *expirer) compact() {
	kept := x.due[:0]
	seen := make(map[string]struct{}, len(x.due))
	for _, d := range x.due {
		if _, dup := seen[d.key]; dup {
			continue
		}
		if e, ok := x.s.load(d.key); ok && e.exp == d.exp {
			kept = append(kept, d)
			seen[d.key] = struct{}{}
		}
	}
	clear(x.due[len(kept):])
	x.due = kept
	heap.Init(&x.due)
	x.compactAt = max(minCompactAt, 2*len(kept))
}

// stop ends the goroutine, if it started, and waits until it has exited;
// TTLs set later are not scheduled. It is idempotent.
func (x *expirer) stop() {
	x.mu.Lock()
	first := !x.stopped
	x.stopped = true
	started := x.started
	x.mu.Unlock()
	if started && first {
		close(x.quit)
	}
	if started {
		<-x.done
	}
}

func (x *expirer) run() {
	defer close(x.done)
	for {
		var timer Timer
		var fire <-chan time.Time
		x.mu.Lock()
		if len(x.due) > 0 {
			exp := x.due[0].exp
			timer = x.s.clock.NewTimer(time.Duration(exp - x.s.now()))
			fire = timer.C()
			if x.s.now() >= exp {
				// The clock passed exp while the timer was made (a
				// ManualClock advanced then fires only timers it knew
				// of): expire now rather than a timer's length late.
				fire = closedTime
			}
		}
		x.mu.Unlock()
		select {
		case <-fire:
			x.expireDue()
		case <-x.wake:
		case <-x.quit:
		}
		if timer != nil {
			timer.Stop()
		}
		select {
		case <-x.quit:
			return
		default:
		}
	}
}

// closedTime is a closed channel: a timer that has fired.
var closedTime = func() chan time.Time {
	c := make(chan time.Time)
	close(c)
	return c
}()

// expireDue frees every key whose deadline has passed.
func (x *expirer) expireDue() {
	now := x.s.now()
	for {
		x.mu.Lock()
		if len(x.due) == 0 || x.due[0].exp > now {
			x.mu.Unlock()
			return
		}
		d := heap.Pop(&x.due).(dueKey)
		x.mu.Unlock()

		if e, ok := x.s.load(d.key); ok && e.exp == d.exp {
			x.s.expire(d.key, e)
		}
	}
}

type dueKey struct {
	exp int64
	key string
}

// dueHeap is a min-heap of deadlines.
type dueHeap []dueKey

func (h dueHeap) Len() int           { return len(h) }
func (h dueHeap) Less(i, j int) bool { return h[i].exp < h[j].exp }
func (h dueHeap) Swap(i, j int)      { h[i], h[j] = h[j], h[i] }
func (h *dueHeap) Push(x any)        { *h = append(*h, x.(dueKey)) }
func (h *dueHeap) Pop() any {
	old := *h
	n := len(old)
	x := old[n-1]
	old[n-1] = dueKey{}
	*h = old[:n-1]
	return x
}
