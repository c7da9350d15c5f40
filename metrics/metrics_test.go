package metrics_test

import (
	"context"
	"errors"
	"fmt"
	"testing"

	"github.com/cledar/storekit/kv"
	"github.com/cledar/storekit/metrics"
)

// KindOf classifies by the sentinel an error wraps, a missing key and nil
// being no failure.
func TestKindOf(t *testing.T) {
	wrap := func(err error) error { return fmt.Errorf("store: get %q: %w", "k", err) }
	cases := []struct {
		err  error
		want metrics.Kind
		ok   bool
	}{
		{nil, 0, false},
		{wrap(kv.ErrNotFound), 0, false},
		{wrap(kv.ErrClosed), metrics.KindClosed, true},
		{wrap(context.Canceled), metrics.KindCanceled, true},
		{wrap(context.DeadlineExceeded), metrics.KindTimeout, true},
		{fmt.Errorf("%w: %w", kv.ErrUnavailable, errors.New("read: connection reset")), metrics.KindUnavailable, true},
		{wrap(kv.ErrPermission), metrics.KindPermission, true},
		{wrap(kv.ErrFull), metrics.KindFull, true},
		{wrap(kv.ErrWrongType), metrics.KindWrongType, true},
		{wrap(kv.ErrInvalid), metrics.KindInvalid, true},
		{&kv.VersionConflict{Key: "k", Latest: 3}, metrics.KindConflict, true},
		{wrap(kv.ErrNotSupported), metrics.KindNotSupported, true},
		{errors.New("ERR unknown command"), metrics.KindOther, true},
		// A call past its deadline may wrap the client's unavailability
		// too: the context's error is what it stands for.
		{fmt.Errorf("%w: %w", context.DeadlineExceeded, kv.ErrUnavailable), metrics.KindTimeout, true},
	}
	for _, c := range cases {
		k, ok := metrics.KindOf(c.err)
		if k != c.want || ok != c.ok {
			t.Errorf("KindOf(%v) = %v, %v; want %v, %v", c.err, k, ok, c.want, c.ok)
		}
	}
}

// Every Op and Kind has a name, and names are distinct.
func TestNames(t *testing.T) {
	seen := make(map[string]bool)
	for op := range metrics.Op(metrics.NumOps) {
		if n := op.String(); n == "" || seen[n] {
			t.Errorf("Op %d has name %q", op, n)
		}
		seen[op.String()] = true
	}
	for k := range metrics.Kind(metrics.NumKinds) {
		if n := k.String(); n == "" || seen[n] && n != "other" {
			t.Errorf("Kind %d has name %q", k, n)
		}
	}
	if got := metrics.Op(metrics.NumOps).String(); got != "Op(24)" {
		t.Errorf("an unknown Op's name = %q", got)
	}
}

// Count counts the call and its failure's kind; Seq counts an iteration
// once, failed by the first error it yields.
func TestCounters(t *testing.T) {
	var c metrics.Counters
	c.Count(metrics.OpGet, nil)
	c.Count(metrics.OpGet, kv.ErrNotFound)
	err := kv.ErrUnavailable
	c.Done(metrics.OpSet, &err)
	seq := c.Seq(metrics.OpScan, func(yield func(string, error) bool) {
		_ = yield("a", nil) && yield("", kv.ErrClosed) && yield("", kv.ErrInvalid)
	})
	var yielded int
	for range seq {
		yielded++
	}
	for range seq {
		break
	}
	s := c.Snapshot()
	if s.Ops[metrics.OpGet] != 2 || s.Failures(metrics.OpGet) != 0 {
		t.Errorf("gets: %d calls, %d failed; want 2, 0", s.Ops[metrics.OpGet], s.Failures(metrics.OpGet))
	}
	if s.Ops[metrics.OpSet] != 1 || s.Errors[metrics.OpSet][metrics.KindUnavailable] != 1 {
		t.Errorf("sets: %d calls, %d unavailable; want 1, 1", s.Ops[metrics.OpSet], s.Errors[metrics.OpSet][metrics.KindUnavailable])
	}
	if yielded != 3 || s.Ops[metrics.OpScan] != 2 || s.Errors[metrics.OpScan][metrics.KindClosed] != 1 || s.Failures(metrics.OpScan) != 1 {
		t.Errorf("scans: %d yielded, %d calls, %d closed, %d failed; want 3, 2, 1, 1",
			yielded, s.Ops[metrics.OpScan], s.Errors[metrics.OpScan][metrics.KindClosed], s.Failures(metrics.OpScan))
	}
	if s.ErrorsOf(metrics.KindUnavailable) != 1 || s.ErrorsOf(metrics.KindInvalid) != 0 {
		t.Errorf("ErrorsOf: unavailable %d, invalid %d; want 1, 0", s.ErrorsOf(metrics.KindUnavailable), s.ErrorsOf(metrics.KindInvalid))
	}
	if s.Cache != nil || s.Codec != nil || s.Config != nil {
		t.Error("a Counters snapshot has sections it does not count")
	}
}

// Counting does not allocate.
func TestCountersAllocs(t *testing.T) {
	var c metrics.Counters
	err := fmt.Errorf("get: %w", kv.ErrUnavailable)
	allocs := testing.AllocsPerRun(100, func() {
		var e error
		c.Done(metrics.OpGet, &e)
		c.Count(metrics.OpSet, err)
		c.Watch.Event(true)
	})
	if allocs != 0 {
		t.Errorf("counting allocates %v times per call", allocs)
	}
}

// The methods of nil WatchCounters do nothing.
func TestNilWatchCounters(t *testing.T) {
	var w *metrics.WatchCounters
	w.Event(true)
	w.Overflow()
	w.Resubscribe()
	if w.Load() != (metrics.Watch{}) {
		t.Error("nil WatchCounters loaded non-zero counters")
	}
}

// Of reads a Source, and reports false for anything else.
func TestOf(t *testing.T) {
	if _, ok := metrics.Of(struct{}{}); ok {
		t.Error("Of(struct{}{}) reported a Source")
	}
}

// BenchmarkDone is the cost a call pays for being counted.
func BenchmarkDone(b *testing.B) {
	var c metrics.Counters
	for b.Loop() {
		var err error
		c.Done(metrics.OpGet, &err)
	}
}
