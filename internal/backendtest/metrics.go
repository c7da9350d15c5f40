package backendtest

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"testing"
	"time"

	"github.com/cledar/storekit/internal/redistest"
	"github.com/cledar/storekit/kv"
	"github.com/cledar/storekit/metrics"
)

// A countedCall is one call of CheckCounts: the operation it is, and the
// kind of error it must fail with (none: it must count no failure).
type countedCall struct {
	name string
	op   metrics.Op
	kind metrics.Kind
	fail bool
	call func(ctx context.Context) error
}

// CheckCounts makes every kind of call on s, a fresh store with every
// capability of package kv that implements metrics.Source, and checks
// that each moves its operation's counter by exactly one and nothing else,
// and the counter of its error's kind by exactly one when it fails: a
// missing key counts no failure, and an invalid TTL, a history read as a
// plain value, a lost conditional append, a cancelled and an expired
// context, and a closed store each count their kind. It closes s.
func CheckCounts(t *testing.T, s kv.Store) {
	t.Helper()
	ctx := Context(t)
	v := []byte("v")
	exp := as[kv.Expirer](t, s)
	chg := as[kv.ExpiryChanger](t, s)
	h := as[kv.Historian](t, s)
	c := as[kv.Conditional](t, s)
	calls := []countedCall{
		{name: "Get of a missing key", op: metrics.OpGet, call: func(ctx context.Context) error {
			_, err := s.Get(ctx, "m:missing")
			return notFound(err)
		}},
		{name: "Set", op: metrics.OpSet, call: func(ctx context.Context) error { return s.Set(ctx, "m:a", v) }},
		{name: "Get", op: metrics.OpGet, call: func(ctx context.Context) error { _, err := s.Get(ctx, "m:a"); return err }},
		{name: "Delete", op: metrics.OpDelete, call: func(ctx context.Context) error { _, err := s.Delete(ctx, "m:a"); return err }},
		{name: "GetMulti", op: metrics.OpGetMulti, call: func(ctx context.Context) error {
			_, err := as[kv.MultiGetter](t, s).GetMulti(ctx, []string{"m:a", "m:b"})
			return err
		}},
		{name: "Scan", op: metrics.OpScan, call: func(ctx context.Context) error {
			_, err := kv.Keys(ctx, s, "m:*")
			return err
		}},
		{name: "SetWithTTL of a negative TTL", op: metrics.OpSetWithTTL, kind: metrics.KindInvalid, fail: true,
			call: func(ctx context.Context) error { return exp.SetWithTTL(ctx, "m:a", v, -time.Second) }},
		{name: "SetWithTTL", op: metrics.OpSetWithTTL, call: func(ctx context.Context) error {
			return exp.SetWithTTL(ctx, "m:t", v, time.Minute)
		}},
		{name: "TTL", op: metrics.OpTTL, call: func(ctx context.Context) error { _, err := exp.TTL(ctx, "m:t"); return err }},
		{name: "Expire", op: metrics.OpExpire, call: func(ctx context.Context) error {
			_, err := chg.Expire(ctx, "m:t", time.Minute)
			return err
		}},
		{name: "Persist", op: metrics.OpPersist, call: func(ctx context.Context) error { _, err := chg.Persist(ctx, "m:t"); return err }},
		{name: "GetWithTTL", op: metrics.OpGetWithTTL, call: func(ctx context.Context) error {
			_, _, err := chg.GetWithTTL(ctx, "m:t")
			return err
		}},
		{name: "Append", op: metrics.OpAppend, call: func(ctx context.Context) error { _, err := h.Append(ctx, "m:h", v); return err }},
		{name: "Get of a history", op: metrics.OpGet, kind: metrics.KindWrongType, fail: true,
			call: func(ctx context.Context) error { _, err := s.Get(ctx, "m:h"); return err }},
		{name: "Incr of a history", op: metrics.OpIncr, kind: metrics.KindWrongType, fail: true,
			call: func(ctx context.Context) error { _, err := as[kv.Counter](t, s).Incr(ctx, "m:h", 1); return err }},
		{name: "AppendIf at a stale version", op: metrics.OpAppendIf, kind: metrics.KindConflict, fail: true,
			call: func(ctx context.Context) error {
				_, err := as[kv.ConditionalHistorian](t, s).AppendIf(ctx, "m:h", v, 0)
				return err
			}},
		{name: "Latest", op: metrics.OpLatest, call: func(ctx context.Context) error { _, _, err := h.Latest(ctx, "m:h"); return err }},
		{name: "LatestMulti", op: metrics.OpLatestMulti, call: func(ctx context.Context) error {
			_, err := as[kv.MultiLatest](t, s).LatestMulti(ctx, []string{"m:h", "m:x"})
			return err
		}},
		{name: "At", op: metrics.OpAt, call: func(ctx context.Context) error { _, err := h.At(ctx, "m:h", 1); return err }},
		{name: "History", op: metrics.OpHistory, call: func(ctx context.Context) error { _, err := h.History(ctx, "m:h"); return err }},
		{name: "Prune", op: metrics.OpPrune, call: func(ctx context.Context) error {
			_, err := as[kv.Pruner](t, s).Prune(ctx, "m:h", 1)
			return err
		}},
		{name: "SetIfAbsent", op: metrics.OpSetIfAbsent, call: func(ctx context.Context) error {
			_, err := c.SetIfAbsent(ctx, "m:c", v, 0)
			return err
		}},
		{name: "CompareAndSwap", op: metrics.OpCompareAndSwap, call: func(ctx context.Context) error {
			_, err := c.CompareAndSwap(ctx, "m:c", v, v, kv.KeepTTL)
			return err
		}},
		{name: "CompareAndDelete", op: metrics.OpCompareAndDelete, call: func(ctx context.Context) error {
			_, err := c.CompareAndDelete(ctx, "m:c", v)
			return err
		}},
		{name: "Incr", op: metrics.OpIncr, call: func(ctx context.Context) error {
			_, err := as[kv.Counter](t, s).Incr(ctx, "m:n", 1)
			return err
		}},
		{name: "SetMulti", op: metrics.OpSetMulti, call: func(ctx context.Context) error {
			return as[kv.BulkWriter](t, s).SetMulti(ctx, []kv.Item{{Key: "m:1", Value: v}, {Key: "m:2", Value: v}})
		}},
		{name: "DeleteMulti", op: metrics.OpDeleteMulti, call: func(ctx context.Context) error {
			_, err := as[kv.BulkWriter](t, s).DeleteMulti(ctx, []string{"m:1", "m:2"})
			return err
		}},
		{name: "Watch", op: metrics.OpWatch, call: func(ctx context.Context) error {
			wctx, cancel := context.WithCancel(ctx)
			defer cancel()
			ch, err := as[kv.Watcher](t, s).Watch(wctx, "m:*")
			if err == nil {
				cancel()
				for range ch {
				}
			}
			return err
		}},
		{name: "Get with a cancelled context", op: metrics.OpGet, kind: metrics.KindCanceled, fail: true,
			call: func(ctx context.Context) error {
				cctx, cancel := context.WithCancel(ctx)
				cancel()
				_, err := s.Get(cctx, "m:a")
				return err
			}},
		{name: "Set past its deadline", op: metrics.OpSet, kind: metrics.KindTimeout, fail: true,
			call: func(ctx context.Context) error {
				dctx, cancel := context.WithDeadline(ctx, time.Now().Add(-time.Second))
				defer cancel()
				return s.Set(dctx, "m:a", v)
			}},
		{name: "Get after Close", op: metrics.OpGet, kind: metrics.KindClosed, fail: true,
			call: func(ctx context.Context) error {
				if err := s.Close(); err != nil {
					return fmt.Errorf("close: %w", err)
				}
				_, err := s.Get(ctx, "m:a")
				return err
			}},
	}
	for _, cc := range calls {
		before := snapshot(t, s)
		err := cc.call(ctx)
		if (err != nil) != cc.fail {
			t.Fatalf("%s: err = %v; want failure %v", cc.name, err, cc.fail)
		}
		CheckDelta(t, cc.name, before, snapshot(t, s), cc.op, cc.kind, cc.fail)
	}
}

// notFound turns the error of a read of a missing key into nil, and a
// missing error into one: the read must report kv.ErrNotFound.
func notFound(err error) error {
	if errors.Is(err, kv.ErrNotFound) {
		return nil
	}
	return fmt.Errorf("want kv.ErrNotFound, got %v", err)
}

// snapshot returns s's counters.
func snapshot(t testing.TB, s kv.Store) metrics.Snapshot {
	t.Helper()
	snap, ok := metrics.Of(s)
	if !ok {
		t.Fatalf("%T does not implement metrics.Source", s)
	}
	return snap
}

// CheckDelta checks that from before to after exactly one call of op was
// counted, and, if failed, exactly one failure of kind k, and that no
// other call or failure was.
func CheckDelta(t testing.TB, what string, before, after metrics.Snapshot, op metrics.Op, k metrics.Kind, failed bool) {
	t.Helper()
	for o := range metrics.Op(metrics.NumOps) {
		want := uint64(0)
		if o == op {
			want = 1
		}
		if d := after.Ops[o] - before.Ops[o]; d != want {
			t.Errorf("%s: Ops[%v] moved by %d, want %d", what, o, d, want)
		}
		for kind := range metrics.Kind(metrics.NumKinds) {
			want := uint64(0)
			if failed && o == op && kind == k {
				want = 1
			}
			if d := after.Errors[o][kind] - before.Errors[o][kind]; d != want {
				t.Errorf("%s: Errors[%v][%v] moved by %d, want %d", what, o, kind, d, want)
			}
		}
	}
}

// CheckWatchCounts watches on s, a fresh store whose watches buffer one
// event, reads nothing while it writes keys, and checks the watch's
// counters: every write but the first one or two overflows (the queue
// holds one event and hands one more over to the channel, which nobody
// reads, at a moment that depends on the scheduler: before the second
// write, or after the last), and every event and every OpResync after the
// first that the consumer reads is counted exactly once.
func CheckWatchCounts(t *testing.T, s kv.Store) {
	t.Helper()
	ctx := Context(t)
	before := snapshot(t, s)
	ch := StartWatch(ctx, t, s, "o:*")
	const writes = 20
	for i := range writes {
		if err := s.Set(ctx, "o:"+strconv.Itoa(i), []byte("v")); err != nil {
			t.Fatal(err)
		}
	}
	// The store's events arrive when they arrive (a Redis server's
	// notifications follow its replies): wait for the overflows.
	Eventually(t, "overflows counted", func() error {
		if d := snapshot(t, s).Watch.Overflows - before.Watch.Overflows; d < writes-2 {
			return fmt.Errorf("%d overflows", d)
		}
		return nil
	})
	events, resyncs := uint64(1), uint64(0) // StartWatch read the first
	read := func(what string, match func(kv.Event) bool) kv.Event {
		return WaitEvent(t, ch, what, func(e kv.Event) bool {
			events++
			if e.Op == kv.OpResync {
				resyncs++
			}
			return match(e)
		})
	}
	read("the resync of the overflows", IsResync(false))
	// Settle: write until a write's event is read. A write may still
	// overflow the queue while it holds an event of the burst (the consumer
	// then reads a resync and writes again), once per attempt.
	attempts := uint64(0)
	for {
		attempts++
		key := "o:last" + strconv.FormatUint(attempts, 10)
		if err := s.Set(ctx, key, []byte("v")); err != nil {
			t.Fatal(err)
		}
		if e := read("set "+key+" or a resync", func(e kv.Event) bool { return e.Key == key || e.Op == kv.OpResync }); e.Key == key {
			break
		}
	}
	Eventually(t, "events counted", func() error {
		w := snapshot(t, s).Watch
		if d := w.Events - before.Watch.Events; d != events {
			return fmt.Errorf("events moved by %d, want %d", d, events)
		}
		if d := w.Resyncs - before.Watch.Resyncs; d != resyncs {
			return fmt.Errorf("resyncs moved by %d, want %d", d, resyncs)
		}
		return nil
	})
	if d := snapshot(t, s).Watch.Overflows - before.Watch.Overflows; d > writes-1+attempts-1 {
		t.Errorf("Overflows moved by %d for %d writes and %d more, want at most %d", d, writes, attempts, writes-1+attempts-1)
	}
}

// RunMetrics checks the counters of stores of b over a Redis server:
// every call (CheckCounts); the failures of calls to a killed server,
// counted as unavailable; a watch's overflows (CheckWatchCounts); and a
// resubscription after the watch's connection is killed, with its OpResync.
func RunMetrics(t *testing.T, b Backend) {
	t.Run("Calls", func(t *testing.T) {
		srv := redistest.New(t)
		CheckCounts(t, b.New(t, srv.Addr(), Options{}))
	})
	t.Run("ServerDown", func(t *testing.T) {
		srv := redistest.Start(t, nil)
		s := b.New(t, srv.Addr(), Options{})
		ctx := Context(t)
		srv.Kill()
		before := snapshot(t, s)
		if err := s.Set(ctx, "k", []byte("v")); !errors.Is(err, kv.ErrUnavailable) {
			t.Fatalf("Set with the server killed: %v, want kv.ErrUnavailable", err)
		}
		CheckDelta(t, "Set with the server killed", before, snapshot(t, s), metrics.OpSet, metrics.KindUnavailable, true)
	})
	t.Run("Overflow", func(t *testing.T) {
		srv := redistest.New(t)
		CheckWatchCounts(t, b.New(t, srv.Addr(), Options{WatchBuffer: 1}))
	})
	t.Run("Resubscribe", func(t *testing.T) {
		srv := redistest.Start(t, nil)
		s := b.New(t, srv.Addr(), Options{})
		ctx := Context(t)
		ch := StartWatch(ctx, t, s, "r:*")
		SetAndSee(ctx, t, s, ch, "r:before")
		before := snapshot(t, s).Watch
		srv.MustDo("CLIENT", "KILL", "TYPE", "pubsub")
		WaitEvent(t, ch, "a resync after the killed connection", IsResync(false))
		SetAndSee(ctx, t, s, ch, "r:after")
		Eventually(t, "the resync counted", func() error {
			w := snapshot(t, s).Watch
			if w.Resyncs-before.Resyncs != 1 || w.Resubscribes-before.Resubscribes != 1 {
				return fmt.Errorf("resyncs and resubscribes moved by %d and %d; want 1 and 1",
					w.Resyncs-before.Resyncs, w.Resubscribes-before.Resubscribes)
			}
			return nil
		})
	})
}
