package conformance

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/cledar/storekit/kv"
)

var watchCases = []testCase{
	{
		name:  "Watch/FirstEventResync",
		rule:  "the first event of a watch is an OpResync with a nil Err",
		needs: []capability{watcher},
		run: func(h *harness) {
			h.watch(h.pattern("*")).expectResync()
		},
	},
	{
		name:  "Watch/Set",
		rule:  "once Watch returns the watch is live: a Set made before any event is read is reported as OpSet",
		needs: []capability{watcher},
		run: func(h *harness) {
			k := h.key("k")
			w := h.watch(h.pattern("*"))
			h.set(k, []byte("v"))
			w.expectResync()
			w.expect("after Set", k, kv.OpSet)
		},
	},
	{
		name:  "Watch/Delete",
		rule:  "a Delete of an existing matching key is reported as OpDelete",
		needs: []capability{watcher},
		run: func(h *harness) {
			k := h.key("k")
			h.set(k, []byte("v"))
			w := h.watch(h.pattern("*"))
			w.expectResync()
			h.del(k)
			w.expect("after Delete of an existing key", k, kv.OpDelete)
		},
	},
	{
		name:  "Watch/SetWithTTL",
		rule:  "SetWithTTL is reported as OpSet followed by OpExpire",
		needs: []capability{watcher, expirer},
		run: func(h *harness) {
			k := h.key("k")
			w := h.watch(h.pattern("*"))
			w.expectResync()
			h.setTTL(k, []byte("v"), longTTL)
			w.expect("after SetWithTTL", k, kv.OpSet, kv.OpExpire)
		},
	},
	{
		name: "Watch/Expired",
		rule: "a key's expiry is reported as OpExpired once the backend frees it " +
			"(the case reads the key after its TTL, which makes Redis free it at once)",
		needs: []capability{watcher, expirer},
		run: func(h *harness) {
			k := h.key("k")
			w := h.watch(h.pattern("*"))
			w.expectResync()
			h.setTTL(k, []byte("v"), h.cfg.ttl)
			w.expect("after SetWithTTL", k, kv.OpSet, kv.OpExpire)
			h.sleep(h.cfg.ttl + h.cfg.ttlMargin)
			h.wantMissing(k, "after its TTL passed")
			w.expectAll(h.cfg.expiryWait, "after the key's TTL passed", map[string][]kv.Op{k: {kv.OpExpired}})
		},
	},
	{
		name:  "Watch/Append",
		rule:  "Append is reported as OpAppend",
		needs: []capability{watcher, historian},
		run: func(h *harness) {
			k := h.key("k")
			w := h.watch(h.pattern("*"))
			w.expectResync()
			h.append(k, "v1")
			h.append(k, "v2")
			w.expect("after two Appends", k, kv.OpAppend, kv.OpAppend)
		},
	},
	{
		name:  "Watch/AppendConverts",
		rule:  "Append onto a plain value reports OpDelete for the conversion, then OpAppend",
		needs: []capability{watcher, historian},
		run: func(h *harness) {
			k := h.key("k")
			w := h.watch(h.pattern("*"))
			w.expectResync()
			h.set(k, []byte("plain"))
			h.append(k, "v2")
			w.expect("after Set then Append", k, kv.OpSet, kv.OpDelete, kv.OpAppend)
		},
	},
	{
		name:  "Watch/PerKeyOrder",
		rule:  "events for one key arrive in the order of its changes",
		needs: []capability{watcher},
		run: func(h *harness) {
			a, b := h.key("a"), h.key("b")
			w := h.watch(h.pattern("*"))
			w.expectResync()
			h.set(a, []byte("1"))
			h.set(b, []byte("1"))
			h.set(a, []byte("2"))
			h.del(b)
			h.del(a)
			h.set(b, []byte("2"))
			h.set(a, []byte("3"))
			h.set(a, []byte("4"))
			w.expectAll(h.cfg.eventTimeout, "after interleaved changes to two keys", map[string][]kv.Op{
				a: {kv.OpSet, kv.OpSet, kv.OpDelete, kv.OpSet, kv.OpSet},
				b: {kv.OpSet, kv.OpDelete, kv.OpSet},
			})
		},
	},
	{
		name:  "Watch/NonMatching",
		rule:  "a change to a key that does not match the watch's pattern is not reported",
		needs: []capability{watcher},
		run: func(h *harness) {
			other, sentinel := h.key("x:other"), h.key("w:sentinel")
			h.expectOnly(h.pattern("w:*"), other, sentinel)
		},
	},
	{
		name:  "Watch/EscapedPattern",
		rule:  "a watch of kv.EscapePattern(key) reports that key only, whatever glob characters it holds",
		needs: []capability{watcher},
		run: func(h *harness) {
			target, decoy := h.key("a*b"), h.key("aXb")
			h.expectOnly(kv.EscapePattern(target), decoy, target)
		},
	},
	{
		name:  "Watch/BinaryKeys",
		rule:  "events carry keys byte for byte, including NUL, invalid UTF-8 and newlines",
		needs: []capability{watcher},
		run: func(h *harness) {
			keys := h.keysFor(binaryKeys...)
			w := h.watch(h.pattern("*"))
			w.expectResync()
			want := make(map[string][]kv.Op)
			for _, k := range keys {
				h.set(k, []byte("v"))
				want[k] = []kv.Op{kv.OpSet}
			}
			w.expectAll(h.cfg.eventTimeout, "after Set of binary keys", want)
		},
	},
	{
		name:  "Watch/TwoWatches",
		rule:  "two watches of the same keys both report each change, and ending one leaves the other running",
		needs: []capability{watcher},
		run: func(h *harness) {
			k := h.key("k")
			w1, w2 := h.watch(h.pattern("*")), h.watch(h.pattern("*"))
			w1.expectResync()
			w2.expectResync()
			h.set(k, []byte("1"))
			w1.expect("after Set, seen by the first of two watches", k, kv.OpSet)
			w2.expect("after Set, seen by the second of two watches", k, kv.OpSet)
			w1.cancel()
			w1.expectClosed("after its context was cancelled")
			h.set(k, []byte("2"))
			w2.expect("after Set, once the other watch ended", k, kv.OpSet)
		},
	},
	{
		name:  "Watch/CancelCloses",
		rule:  "a watch's channel is closed when its context ends",
		needs: []capability{watcher},
		run: func(h *harness) {
			w := h.watch(h.pattern("*"))
			w.expectResync()
			h.set(h.key("k"), []byte("v"))
			w.cancel()
			w.expectClosed("after its context was cancelled")
			h.wantValue(h.key("k"), []byte("v"), "after a watch ended")
		},
	},
	{
		name: "Watch/ReadSeesEvent",
		rule: "once a watcher has received the event for a change, a read through the same store " +
			"returns that change or a newer one",
		needs: []capability{watcher},
		run:   runReadSeesEvent,
	},
	{
		name:  "Watch/ReadAfterLastEvent",
		rule:  "a consumer that re-reads a key on each of its events (and on OpResync) ends at the key's final value",
		needs: []capability{watcher},
		run:   runReadAfterLastEvent,
	},
	{
		name: "Watch/SlowConsumer",
		rule: "a watch that is not read never blocks the store, and when events are dropped the " +
			"consumer is told with an OpResync: it receives every event or a later OpResync",
		needs: []capability{watcher},
		run:   runSlowConsumer,
	},
}

// expectOnly watches pattern, changes decoy (which pattern must not match)
// and then target (which it matches), and checks that the target's event
// comes with no event for decoy before it.
func (h *harness) expectOnly(pattern, decoy, target string) {
	h.t.Helper()
	h.track(decoy)
	h.track(target)
	w := h.watch(pattern)
	w.expectResync()
	h.set(decoy, []byte("v"))
	h.set(target, []byte("v"))
	seen, ok := w.until("after Set of a matching key", target, kv.OpSet)
	// Events that are already queued come in the next instant.
	for ok {
		var ev kv.Event
		if ev, ok, _ = w.recv(10 * time.Millisecond); ok {
			seen = append(seen, ev)
		}
	}
	for _, ev := range seen {
		if ev.Key == decoy {
			h.errorf("Watch(%q) reported %v, a key it does not match", pattern, ev)
		}
	}
}

// runSlowConsumer reads a watch's first OpResync, then writes to one key,
// up to cfg.slowWrites times, while the watch is not read: no Set may wait
// for the consumer (each must return within cfg.slowBound), and the writes
// stop early once cfg.slowBound has passed, so that a slow machine or a
// slow server is not taken for a store that blocks. Then it reads the
// watch, which must deliver either an OpSet for every write, or an
// OpResync that reports the overflow (possibly after some of the OpSet
// events); silence before either means events were dropped without a word.
//
// The first OpResync is read before the writes because a store may merge it
// with the OpResync of an overflow, which would then go unseen.
func runSlowConsumer(h *harness) {
	k := h.key("k")
	w := h.watch(h.pattern("*"))
	w.expectResync()
	n := h.writeMany(k, h.cfg.slowWrites)

	sets := 0
	for sets < n {
		ev, ok, closed := w.recv(h.cfg.eventTimeout)
		switch {
		case closed || !ok:
			then := fmt.Sprintf("nothing for %v", h.cfg.eventTimeout)
			if closed {
				then = "the channel closed"
			}
			h.errorf("Watch(%q) after %d Sets while it was not read: delivered %d OpSet events, then %s, "+
				"with no OpResync: events were dropped silently", w.pattern, n, sets, then)
			return
		case ev.Op == kv.OpResync:
			h.t.Logf("Watch(%q): %v after %d of %d OpSet events: overflow reported", w.pattern, ev, sets, n)
			return
		case ev.Key == k && ev.Op == kv.OpSet:
			sets++
		case strings.HasPrefix(ev.Key, h.prefix):
			h.errorf("Watch(%q) after %d Sets of %q: unexpected event %v", w.pattern, n, k, ev)
			return
		}
	}
	h.t.Logf("Watch(%q): all %d OpSet events delivered", w.pattern, n)
}

// writeMany Sets key up to n times, while a watch is not read, and returns
// how many Sets it made: n, or fewer when cfg.slowBound passed first. It
// fails the case when a Set fails, or does not return within
// cfg.slowBound: a store that waits for a watch's consumer blocks there.
func (h *harness) writeMany(key string, n int) int {
	h.t.Helper()
	type result struct {
		done int
		err  error
	}
	res := make(chan result, 1)
	go func() {
		stop := time.Now().Add(h.cfg.slowBound)
		i := 0
		for ; i < n && (i == 0 || time.Now().Before(stop)); i++ {
			ctx, cancel := context.WithTimeout(h.ctx, h.cfg.slowBound)
			err := h.s.Set(ctx, key, strconv.AppendInt(nil, int64(i), 10))
			cancel()
			if err != nil {
				res <- result{i, fmt.Errorf("call %d of %d: %w", i+1, n, err)}
				return
			}
		}
		res <- result{i, nil}
	}()
	select {
	case r := <-res:
		if r.err != nil {
			h.fatalf("Sets of %q while a watch was not read: %v (a watch must never block the store)", key, r.err)
		}
		if r.done < n {
			h.t.Logf("%d of %d Sets of %q made within %v", r.done, n, key, h.cfg.slowBound)
		}
		return r.done
	case <-time.After(2*h.cfg.slowBound + h.cfg.eventTimeout):
		h.fatalf("Sets of %q while a watch was not read did not end within %v, and ignored their context: "+
			"a watch must never block the store", key, 2*h.cfg.slowBound)
	}
	return 0
}

// eventReads is how many changes the re-read cases make.
const eventReads = 200

// runReadSeesEvent Sets a key to 1, 2, ... one Set at a time, each from
// a goroutine of its own, and on the OpSet of the n-th Set, which may come
// before that Set returns, reads the key: it must hold n. A store whose
// cache hears of a change after its watchers do serves the value from
// before the change.
func runReadSeesEvent(h *harness) {
	k := h.key("k")
	h.set(k, []byte("0"))
	w := h.watch(h.pattern("*"))
	w.expectResync()
	for n := 1; n <= eventReads; n++ {
		wrote := make(chan error, 1)
		go func() { wrote <- h.s.Set(h.ctx, k, strconv.AppendInt(nil, int64(n), 10)) }()
		ev, ok := w.nextOrResync(fmt.Sprintf("the OpSet of Set #%d of %q", n, k))
		switch {
		case !ok:
			return
		case ev.Op == kv.OpResync:
			h.t.Logf("Watch(%q): %v after %d events; the rest is not counted", w.pattern, ev, n-1)
			return
		case ev.Key != k || ev.Op != kv.OpSet:
			h.errorf("Watch(%q): unexpected event %v while Setting %q", w.pattern, ev, k)
			return
		}
		if got := h.readCount(k); got != n {
			h.errorf("Get(%q) right after the watch delivered the OpSet of Set #%d returned %d: "+
				"the read missed a change its watcher had already been told of", k, n, got)
			return
		}
		h.must(<-wrote, "Set #%d of %q", n, k)
	}
}

// runReadAfterLastEvent Sets a key many times from one goroutine, then to a
// final value, while the case re-reads the key on each of its events and on
// every OpResync. The re-reads must reach the final value; once the events
// stop with an older value read, the consumer would hold it for good.
func runReadAfterLastEvent(h *harness) {
	k := h.key("k")
	w := h.watch(h.pattern("*"))
	w.expectResync()
	wrote := h.writeCounting(k, eventReads)
	final := strconv.Itoa(eventReads)
	last := ""
	for last != final {
		ev, ok := w.nextOrResync(fmt.Sprintf("an event after which %q reads %s (last read: %q)", k, final, last))
		if !ok {
			return
		}
		if ev.Op != kv.OpResync && ev.Key != k {
			continue
		}
		v, err := h.s.Get(h.ctx, k)
		switch {
		case errors.Is(err, kv.ErrNotFound):
			last = "(missing)"
		case err != nil:
			h.fatalf("Get(%q) on %v: %v", k, ev, err)
		default:
			last = string(v)
		}
	}
	h.must(<-wrote, "Setting %q %d times", k, eventReads)
}

// writeCounting Sets key to 1, 2, ... n from a goroutine of its own, and
// returns a channel that yields nil once the n-th Set returned, or the first
// error.
func (h *harness) writeCounting(key string, n int) <-chan error {
	done := make(chan error, 1)
	go func() {
		for i := 1; i <= n; i++ {
			if err := h.s.Set(h.ctx, key, strconv.AppendInt(nil, int64(i), 10)); err != nil {
				done <- fmt.Errorf("write #%d: %w", i, err)
				return
			}
		}
		done <- nil
	}()
	return done
}

// readCount reads key, which holds a number written by writeCounting.
func (h *harness) readCount(key string) int {
	h.t.Helper()
	v, err := h.s.Get(h.ctx, key)
	h.must(err, "Get(%q)", key)
	n, err := strconv.Atoi(string(v))
	h.must(err, "Get(%q) = %s, not a number written by the case", key, show(v))
	return n
}
