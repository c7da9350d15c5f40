package postgres_test

import (
	"context"
	"errors"
	"strconv"
	"testing"
	"time"

	"github.com/cledar/storekit/backends/postgres"
	"github.com/cledar/storekit/kv"
	"github.com/cledar/storekit/metrics"
)

// wantMetrics fails t unless s's counters are want, waiting a little for
// those a watch moves after its consumer received an event.
func wantMetrics(t *testing.T, s *postgres.Store, want metrics.Snapshot, what string) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for {
		got := s.Metrics()
		if got == want {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("after %s: counters\n%+v\nwant\n%+v", what, got, want)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func TestMetricsCalls(t *testing.T) {
	s, _, _ := schemaStore(t)
	ctx := testContext(t)
	if err := s.Set(ctx, "k", []byte("v")); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Append(ctx, "h", []byte("v1")); err != nil {
		t.Fatal(err)
	}
	want := s.Metrics()

	if _, err := s.Get(ctx, "k"); err != nil {
		t.Fatal(err)
	}
	want.Ops[metrics.OpGet]++
	wantMetrics(t, s, want, "a Get that found its key")

	if _, err := s.Get(ctx, "missing"); !errors.Is(err, kv.ErrNotFound) {
		t.Fatalf("Get of a missing key: %v", err)
	}
	want.Ops[metrics.OpGet]++
	wantMetrics(t, s, want, "a Get of a missing key, which is no failure")

	canceled, cancel := context.WithCancel(ctx)
	cancel()
	if _, err := s.Get(canceled, "k"); err == nil {
		t.Fatal("Get with a canceled context succeeded")
	}
	want.Ops[metrics.OpGet]++
	want.Errors[metrics.OpGet][metrics.KindCanceled]++
	wantMetrics(t, s, want, "a Get with a canceled context")

	if _, err := s.Get(ctx, "h"); err == nil {
		t.Fatal("Get of a history succeeded")
	}
	want.Ops[metrics.OpGet]++
	want.Errors[metrics.OpGet][metrics.KindWrongType]++
	wantMetrics(t, s, want, "a Get of a history")

	if _, err := s.Incr(ctx, "k", 1); err == nil {
		t.Fatal("Incr of a value that is not a counter succeeded")
	}
	want.Ops[metrics.OpIncr]++
	want.Errors[metrics.OpIncr][metrics.KindWrongType]++
	wantMetrics(t, s, want, "an Incr of a value that is no counter")

	for _, err := range s.Scan(ctx, "*") {
		if err != nil {
			t.Fatal(err)
		}
	}
	want.Ops[metrics.OpScan]++
	wantMetrics(t, s, want, "a Scan")
}

func TestMetricsWatch(t *testing.T) {
	s, _, _ := schemaStore(t)
	ctx := testContext(t)
	want := s.Metrics()
	ch, err := s.Watch(ctx, "*")
	if err != nil {
		t.Fatal(err)
	}
	if ev := nextEvent(t, ch); ev.Op != kv.OpResync {
		t.Fatalf("first event %v, want resync", ev)
	}
	want.Ops[metrics.OpWatch]++
	want.Watch.Events++ // the first resync is no resync to count
	wantMetrics(t, s, want, "a Watch and its first event")

	if err := s.Set(ctx, "k", []byte("v")); err != nil {
		t.Fatal(err)
	}
	if ev := nextEvent(t, ch); ev.Op != kv.OpSet {
		t.Fatalf("event of a Set: %v", ev)
	}
	want.Ops[metrics.OpSet]++
	want.Watch.Events++
	wantMetrics(t, s, want, "a Set and its event")
}

func TestMetricsWatchOverflow(t *testing.T) {
	pool, schema := testPool(t)
	s := newStore(t, pool, &postgres.Options{Schema: schema, Table: "kv", CreateSchema: true, WatchBuffer: 1})
	ctx := testContext(t)
	ch, err := s.Watch(ctx, "*")
	if err != nil {
		t.Fatal(err)
	}
	nextEvent(t, ch)
	// Five events for a consumer that does not read: the watch holds one
	// and its sender one more, so at least three overflow.
	const n = 5
	for i := range n {
		if err := s.Set(ctx, "k"+strconv.Itoa(i), []byte("v")); err != nil {
			t.Fatal(err)
		}
	}
	deadline := time.Now().Add(5 * time.Second)
	for s.Metrics().Watch.Overflows < n-2 {
		if time.Now().After(deadline) {
			t.Fatalf("overflows %d after %d events to a full buffer, want at least %d", s.Metrics().Watch.Overflows, n, n-2)
		}
		time.Sleep(10 * time.Millisecond)
	}
	// The last event always survives, after the resync that replaced the
	// ones before it.
	events, resyncs := uint64(1), uint64(0)
	for {
		ev := nextEvent(t, ch)
		events++
		if ev.Op == kv.OpResync {
			resyncs++
		}
		if ev.Key == "k"+strconv.Itoa(n-1) {
			break
		}
	}
	if resyncs == 0 {
		t.Errorf("no OpResync after the buffer overflowed")
	}
	want := s.Metrics()
	want.Watch.Events, want.Watch.Resyncs = events, resyncs
	wantMetrics(t, s, want, "the events after an overflow")
}
