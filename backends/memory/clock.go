package memory

import (
	"sync"
	"time"
)

// A Clock tells a [Store] the time and wakes it when keys are due to expire.
// The zero Options use the system clock; tests use a [ManualClock] to expire
// keys without sleeping.
type Clock interface {
	// Now returns the current time.
	Now() time.Time
	// NewTimer returns a timer that sends on its channel once d has passed.
	NewTimer(d time.Duration) Timer
}

// A Timer is a one-shot timer made by a [Clock].
type Timer interface {
	// C returns the channel on which the timer sends when it fires.
	C() <-chan time.Time
	// Stop prevents the timer from firing. It reports whether it stopped the
	// timer before it fired.
	Stop() bool
}

// systemClock is the Clock of the operating system.
type systemClock struct{}

func (systemClock) Now() time.Time { return time.Now() }

func (systemClock) NewTimer(d time.Duration) Timer { return systemTimer{time.NewTimer(d)} }

type systemTimer struct{ t *time.Timer }

func (t systemTimer) C() <-chan time.Time { return t.t.C }
func (t systemTimer) Stop() bool          { return t.t.Stop() }

// A ManualClock is a [Clock] that moves only when told to. Advancing it fires
// the timers that have come due, so a [Store] using it frees expired keys and
// sends their OpExpired events right after Advance returns, without any real
// waiting. Reads never return an expired key, whether or not it was freed yet.
//
// A ManualClock is safe for concurrent use.
type ManualClock struct {
	mu     sync.Mutex
	now    time.Time
	timers []*manualTimer
}

// NewManualClock returns a ManualClock set to start.
func NewManualClock(start time.Time) *ManualClock {
	return &ManualClock{now: start}
}

// Now returns the clock's current time.
func (c *ManualClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

// Advance moves the clock forward by d and fires the timers that came due.
func (c *ManualClock) Advance(d time.Duration) {
	c.mu.Lock()
	c.now = c.now.Add(d)
	now := c.now
	kept := c.timers[:0]
	var due []*manualTimer
	for _, t := range c.timers {
		if !t.when.After(now) {
			due = append(due, t)
		} else {
			kept = append(kept, t)
		}
	}
	clear(c.timers[len(kept):])
	c.timers = kept
	c.mu.Unlock()
	for _, t := range due {
		select {
		case t.c <- now:
		default:
		}
	}
}

// NewTimer returns a timer that fires when the clock has been advanced by d.
func (c *ManualClock) NewTimer(d time.Duration) Timer {
	t := &manualTimer{clock: c, c: make(chan time.Time, 1)}
	c.mu.Lock()
	t.when = c.now.Add(d)
	if d <= 0 {
		now := c.now
		c.mu.Unlock()
		t.c <- now
		return t
	}
	c.timers = append(c.timers, t)
	c.mu.Unlock()
	return t
}

type manualTimer struct {
	clock *ManualClock
	when  time.Time
	c     chan time.Time
}

func (t *manualTimer) C() <-chan time.Time { return t.c }

func (t *manualTimer) Stop() bool {
	c := t.clock
	c.mu.Lock()
	defer c.mu.Unlock()
	for i, x := range c.timers {
		if x == t {
			c.timers = append(c.timers[:i], c.timers[i+1:]...)
			return true
		}
	}
	return false
}
