package storekitotel_test

import (
	"context"
	"testing"

	"go.opentelemetry.io/otel/attribute"
	sdkmetric "go.opentelemetry.io/otel/sdk/metric"
	"go.opentelemetry.io/otel/sdk/metric/metricdata"

	"github.com/cledar/storekit/backends/memory"
	"github.com/cledar/storekit/codec"
	"github.com/cledar/storekit/metrics"
	storekitotel "github.com/cledar/storekit/otel"
)

// collect returns the int64 data points the reader collects, by instrument
// name and then by their attributes' encoding (such as "op=get,store=s").
func collect(t *testing.T, r *sdkmetric.ManualReader) map[string]map[string]int64 {
	t.Helper()
	var rm metricdata.ResourceMetrics
	if err := r.Collect(context.Background(), &rm); err != nil {
		t.Fatal(err)
	}
	out := make(map[string]map[string]int64)
	for _, sm := range rm.ScopeMetrics {
		for _, m := range sm.Metrics {
			points := make(map[string]int64)
			switch d := m.Data.(type) {
			case metricdata.Sum[int64]:
				if !d.IsMonotonic || d.Temporality != metricdata.CumulativeTemporality {
					t.Errorf("%s: a sum that is not a cumulative counter", m.Name)
				}
				for _, p := range d.DataPoints {
					points[p.Attributes.Encoded(attribute.DefaultEncoder())] = p.Value
				}
			case metricdata.Gauge[int64]:
				for _, p := range d.DataPoints {
					points[p.Attributes.Encoded(attribute.DefaultEncoder())] = p.Value
				}
			default:
				t.Errorf("%s: unexpected data %T", m.Name, m.Data)
			}
			out[m.Name] = points
		}
	}
	return out
}

func newReader(t *testing.T) (*sdkmetric.ManualReader, *sdkmetric.MeterProvider) {
	t.Helper()
	r := sdkmetric.NewManualReader()
	p := sdkmetric.NewMeterProvider(sdkmetric.WithReader(r))
	t.Cleanup(func() { _ = p.Shutdown(context.Background()) })
	return r, p
}

// The operations on a memory store, and their failures by kind, are
// exported with the store's name; a store without a cache exports no
// cache instruments.
func TestRegisterMemory(t *testing.T) {
	ctx := context.Background()
	r, p := newReader(t)
	s := memory.New(&memory.Options{WatchBuffer: 4})
	defer s.Close()
	reg, err := storekitotel.Register(p.Meter("test"), "sessions", s)
	if err != nil {
		t.Fatal(err)
	}
	for range 3 {
		if err := s.Set(ctx, "k", []byte("v")); err != nil {
			t.Fatal(err)
		}
	}
	_, _ = s.Get(ctx, "k")
	_, _ = s.Get(ctx, "missing")
	if _, err := s.Append(ctx, "h", []byte("v")); err != nil {
		t.Fatal(err)
	}
	_, _ = s.Get(ctx, "h") // kv.ErrWrongType
	wctx, cancel := context.WithCancel(ctx)
	ch, err := s.Watch(wctx, "*")
	if err != nil {
		t.Fatal(err)
	}
	<-ch // the first event
	cancel()
	for range ch {
	}

	got := collect(t, r)
	want := map[string]map[string]int64{
		"storekit.operations": {
			"op=set,store=sessions":    3,
			"op=get,store=sessions":    3,
			"op=append,store=sessions": 1,
			"op=watch,store=sessions":  1,
		},
		"storekit.errors": {
			"kind=wrong_type,op=get,store=sessions": 1,
		},
		"storekit.watch.events":       {"store=sessions": 1},
		"storekit.watch.resyncs":      {"store=sessions": 0},
		"storekit.watch.overflows":    {"store=sessions": 0},
		"storekit.watch.resubscribes": {"store=sessions": 0},
	}
	checkPoints(t, got, want)
	for name := range got {
		if _, ok := want[name]; !ok && len(got[name]) > 0 {
			t.Errorf("%s exported for a memory store: %v", name, got[name])
		}
	}

	// After Unregister, nothing more is reported.
	if err := reg.Unregister(); err != nil {
		t.Fatal(err)
	}
	for name, points := range collect(t, r) {
		if len(points) > 0 {
			t.Errorf("%s still exported after Unregister: %v", name, points)
		}
	}
}

// checkPoints checks that got has every point of want, with its value.
func checkPoints(t *testing.T, got, want map[string]map[string]int64) {
	t.Helper()
	for name, points := range want {
		for attrs, v := range points {
			g, ok := got[name][attrs]
			if !ok || g != v {
				t.Errorf("%s{%s} = %d (exported: %v), want %d", name, attrs, g, ok, v)
			}
		}
		if len(got[name]) != len(points) {
			t.Errorf("%s: %d points %v, want %d", name, len(got[name]), got[name], len(points))
		}
	}
}

// A codec.Store's decode failures are exported beside its kv.Store's
// operations.
func TestRegisterCodec(t *testing.T) {
	ctx := context.Background()
	r, p := newReader(t)
	kvs := memory.New(nil)
	defer kvs.Close()
	s := codec.New[map[string]int](kvs, nil)
	if _, err := storekitotel.Register(p.Meter("test"), "typed", s); err != nil {
		t.Fatal(err)
	}
	if err := kvs.Set(ctx, "bad", []byte("{not json")); err != nil {
		t.Fatal(err)
	}
	if _, _, err := s.Get(ctx, "bad"); err == nil {
		t.Fatal("Get of bad JSON succeeded")
	}
	checkPoints(t, collect(t, r), map[string]map[string]int64{
		"storekit.operations":            {"op=get,store=typed": 1, "op=set,store=typed": 1},
		"storekit.codec.decode_failures": {"store=typed": 1},
		"storekit.codec.encode_failures": {"store=typed": 0},
	})
}

// snapshotSource reports a fixed snapshot.
type snapshotSource metrics.Snapshot

func (s snapshotSource) Metrics() metrics.Snapshot { return metrics.Snapshot(s) }

// Every section of a snapshot is exported to its instruments: a cache's
// counters and gauges, a config store's counters.
func TestRegisterSections(t *testing.T) {
	r, p := newReader(t)
	var snap metrics.Snapshot
	snap.Errors[metrics.OpSet][metrics.KindUnavailable] = 2
	snap.Ops[metrics.OpSet] = 5
	snap.Watch = metrics.Watch{Events: 9, Resyncs: 3, Overflows: 2, Resubscribes: 1}
	snap.Cache = &metrics.Cache{Hits: 10, Misses: 4, Invalidations: 3, Evictions: 2, Flushes: 1, Entries: 7, Bytes: 4096}
	snap.Config = &metrics.Config{Changes: 6, Resyncs: 2, Callbacks: 8, CallbackPanics: 1}
	if _, err := storekitotel.Register(p.Meter("test"), "s", snapshotSource(snap)); err != nil {
		t.Fatal(err)
	}
	one := func(v int64) map[string]int64 { return map[string]int64{"store=s": v} }
	checkPoints(t, collect(t, r), map[string]map[string]int64{
		"storekit.operations":             {"op=set,store=s": 5},
		"storekit.errors":                 {"kind=unavailable,op=set,store=s": 2},
		"storekit.watch.events":           one(9),
		"storekit.watch.resyncs":          one(3),
		"storekit.watch.overflows":        one(2),
		"storekit.watch.resubscribes":     one(1),
		"storekit.cache.hits":             one(10),
		"storekit.cache.misses":           one(4),
		"storekit.cache.invalidations":    one(3),
		"storekit.cache.evictions":        one(2),
		"storekit.cache.flushes":          one(1),
		"storekit.cache.entries":          one(7),
		"storekit.cache.size":             one(4096),
		"storekit.config.changes":         one(6),
		"storekit.config.resyncs":         one(2),
		"storekit.config.callbacks":       one(8),
		"storekit.config.callback_panics": one(1),
	})
}
