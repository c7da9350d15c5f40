package conformance

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/cledar/storekit/kv"
)

// A watch is a Watch opened by a case. Its reads are bounded, and it is
// cancelled and drained when the case ends, so the suite never leaks the
// goroutines that feed it.
type watch struct {
	h       *harness
	pattern string
	ch      <-chan kv.Event
	cancel  context.CancelFunc
	pending []kv.Event // events read but not yet consumed
	closed  bool       // the channel was seen closed
}

// watch calls Watch(pattern), ending the case if it fails.
func (h *harness) watch(pattern string) *watch {
	h.t.Helper()
	ctx, cancel := context.WithCancel(h.ctx)
	ch, err := h.wa().Watch(ctx, pattern)
	if err != nil || ch == nil {
		cancel()
		h.fatalf("Watch(%q) = %v, %v; want a channel and no error", pattern, ch, err)
	}
	return h.adopt(pattern, ch, cancel)
}

// adopt makes ch, the channel of a watch on pattern, end with the case:
// cleanup calls cancel (if not nil) and drains ch until it is closed.
func (h *harness) adopt(pattern string, ch <-chan kv.Event, cancel context.CancelFunc) *watch {
	if cancel == nil {
		cancel = func() {}
	}
	w := &watch{h: h, pattern: pattern, ch: ch, cancel: cancel}
	h.t.Cleanup(w.stop)
	return w
}

func (w *watch) stop() {
	w.cancel()
	w.expectClosed("after the watch's context was cancelled")
}

// drain reads ch until it is closed, and reports whether that happened
// within d.
func drain(ch <-chan kv.Event, d time.Duration) bool {
	timer := time.NewTimer(d)
	defer timer.Stop()
	for {
		select {
		case _, ok := <-ch:
			if !ok {
				return true
			}
		case <-timer.C:
			return false
		}
	}
}

// recv returns the next event, waiting at most d. ok is false if none came,
// and closed is true if the channel was closed.
func (w *watch) recv(d time.Duration) (ev kv.Event, ok, closed bool) {
	if len(w.pending) > 0 {
		ev, w.pending = w.pending[0], w.pending[1:]
		return ev, true, false
	}
	if w.closed {
		return kv.Event{}, false, true
	}
	timer := time.NewTimer(d)
	defer timer.Stop()
	select {
	case ev, ok := <-w.ch:
		w.closed = !ok
		return ev, ok, !ok
	case <-timer.C:
		return kv.Event{}, false, false
	}
}

// next returns the next event for a key under the case prefix, waiting at
// most d, skipping events for other keys and OpResync events with a nil Err
// (a watch may resync at any time). An OpResync with an error ends the case:
// the watch says it cannot deliver events. If no event comes, next reports a
// failure, saying what it waited for, and returns false.
func (w *watch) next(d time.Duration, waitingFor string) (kv.Event, bool) {
	w.h.t.Helper()
	return w.nextEvent(d, waitingFor, false)
}

// nextOrResync is next with the suite's event bound, returning an OpResync
// with a nil Err too, for cases that re-read on it.
func (w *watch) nextOrResync(waitingFor string) (kv.Event, bool) {
	w.h.t.Helper()
	return w.nextEvent(w.h.cfg.eventTimeout, waitingFor, true)
}

func (w *watch) nextEvent(d time.Duration, waitingFor string, resyncs bool) (kv.Event, bool) {
	w.h.t.Helper()
	deadline := time.Now().Add(d)
	for {
		ev, ok, closed := w.recv(time.Until(deadline))
		switch {
		case closed:
			w.h.errorf("Watch(%q): channel closed while waiting for %s", w.pattern, waitingFor)
			return ev, false
		case !ok:
			w.h.errorf("Watch(%q): no event within %v while waiting for %s", w.pattern, d, waitingFor)
			return ev, false
		case ev.Op == kv.OpResync && ev.Err != nil:
			w.h.fatalf("Watch(%q) sent %v while waiting for %s: the watch cannot deliver events", w.pattern, ev, waitingFor)
		case ev.Op == kv.OpResync && resyncs:
			return ev, true
		case ev.Op == kv.OpResync:
			w.h.t.Logf("Watch(%q): ignoring a later %v", w.pattern, ev)
		case strings.HasPrefix(ev.Key, w.h.prefix):
			return ev, true
		}
	}
}

// expectResync reads the first event, which must be an OpResync with a nil
// Err. Any other event is put back for the case's later reads.
func (w *watch) expectResync() {
	w.h.t.Helper()
	ev, ok, closed := w.recv(w.h.cfg.eventTimeout)
	switch {
	case closed:
		w.h.fatalf("Watch(%q): channel closed before its first event, want %v", w.pattern, kv.OpResync)
	case !ok:
		w.h.fatalf("Watch(%q): no first event within %v, want %v", w.pattern, w.h.cfg.eventTimeout, kv.OpResync)
	case ev.Op != kv.OpResync:
		w.h.errorf("Watch(%q): first event is %v, want %v", w.pattern, ev, kv.OpResync)
		w.pending = append(w.pending, ev)
	case ev.Err != nil:
		w.h.fatalf("Watch(%q): first event is %v: the watch cannot deliver events "+
			"(on Redis, check notify-keyspace-events)", w.pattern, ev)
	}
}

// expect reads events until key has had len(ops) of them, within the
// suite's event bound, and checks that they are ops, in order.
func (w *watch) expect(what, key string, ops ...kv.Op) {
	w.h.t.Helper()
	w.expectAll(w.h.cfg.eventTimeout, what, map[string][]kv.Op{key: ops})
}

// expectAll reads events until every key of want has had as many events as
// it lists, waiting at most d for each event, and checks that each key's
// events are those of want, in order. An event for another key under the
// case prefix, or one more than want lists, is a failure.
func (w *watch) expectAll(d time.Duration, what string, want map[string][]kv.Op) {
	w.h.t.Helper()
	got := make(map[string][]kv.Op)
	remaining := 0
	for _, ops := range want {
		remaining += len(ops)
	}
	for remaining > 0 {
		ev, ok := w.next(d, fmt.Sprintf("%d more events %s (so far: %v)", remaining, what, showOps(got)))
		if !ok {
			return
		}
		wantOps, watched := want[ev.Key]
		n := len(got[ev.Key])
		got[ev.Key] = append(got[ev.Key], ev.Op)
		switch {
		case !watched:
			w.h.errorf("Watch(%q) %s: unexpected event %v", w.pattern, what, ev)
			return
		case n >= len(wantOps) || wantOps[n] != ev.Op:
			w.h.errorf("Watch(%q) %s: events for %q are %v, want %v", w.pattern, what, ev.Key, got[ev.Key], wantOps)
			return
		}
		remaining--
	}
}

// until reads events until one for key with op, and returns the events for
// keys under the case prefix that came before it.
func (w *watch) until(what, key string, op kv.Op) ([]kv.Event, bool) {
	w.h.t.Helper()
	var before []kv.Event
	for {
		ev, ok := w.next(w.h.cfg.eventTimeout, fmt.Sprintf("%v %q %s", op, key, what))
		if !ok {
			return before, false
		}
		if ev.Key == key && ev.Op == op {
			return before, true
		}
		before = append(before, ev)
	}
}

// expectClosed checks that the channel is closed within the suite's event
// bound, reading and discarding events until then.
func (w *watch) expectClosed(what string) {
	w.h.t.Helper()
	if !w.closed && !drain(w.ch, w.h.cfg.eventTimeout) {
		w.h.errorf("Watch(%q): channel still open %v %s", w.pattern, w.h.cfg.eventTimeout, what)
		return
	}
	w.closed = true
}

// showOps formats the events seen so far, by key, in a stable order.
func showOps(m map[string][]kv.Op) string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	var b strings.Builder
	for i, k := range keys {
		if i > 0 {
			b.WriteString(", ")
		}
		fmt.Fprintf(&b, "%q: %v", k, m[k])
	}
	return "{" + b.String() + "}"
}
