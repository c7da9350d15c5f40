package storekitotel

import (
	"context"
	"errors"
	"math"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/metric"

	"github.com/cledar/storekit/metrics"
)

// Attribute keys of the instruments.
const (
	// StoreKey names the store, as given to Register.
	StoreKey = attribute.Key("store")
	// OpKey names the operation, such as "get" ([metrics.Op.String]).
	OpKey = attribute.Key("op")
	// KindKey names the kind of error, such as "unavailable"
	// ([metrics.Kind.String]).
	KindKey = attribute.Key("kind")
)

// A scalar is one instrument of a single value per store.
type scalar struct {
	name, desc, unit string
	gauge            bool
	value            func(s *metrics.Snapshot) (uint64, bool) // false: the store has no such counter
}

func watch(f func(w *metrics.Watch) uint64) func(*metrics.Snapshot) (uint64, bool) {
	return func(s *metrics.Snapshot) (uint64, bool) { return f(&s.Watch), true }
}

func cache(f func(c *metrics.Cache) uint64) func(*metrics.Snapshot) (uint64, bool) {
	return func(s *metrics.Snapshot) (uint64, bool) { return section(s.Cache, f) }
}

func codec(f func(c *metrics.Codec) uint64) func(*metrics.Snapshot) (uint64, bool) {
	return func(s *metrics.Snapshot) (uint64, bool) { return section(s.Codec, f) }
}

func config(f func(c *metrics.Config) uint64) func(*metrics.Snapshot) (uint64, bool) {
	return func(s *metrics.Snapshot) (uint64, bool) { return section(s.Config, f) }
}

// section returns f of a section of a snapshot, and false when the store
// has no such section.
func section[S any](s *S, f func(*S) uint64) (uint64, bool) {
	if s == nil {
		return 0, false
	}
	return f(s), true
}

// scalars are the instruments of the snapshots' single values.
var scalars = []scalar{
	{"storekit.watch.events", "Events delivered to watch consumers, OpResync included.", "{event}", false,
		watch(func(w *metrics.Watch) uint64 { return w.Events })},
	{"storekit.watch.resyncs", "OpResync events delivered after a watch's first event.", "{event}", false,
		watch(func(w *metrics.Watch) uint64 { return w.Resyncs })},
	{"storekit.watch.overflows", "Events that met a full watch buffer, which was replaced by one OpResync.", "{event}", false,
		watch(func(w *metrics.Watch) uint64 { return w.Overflows })},
	{"storekit.watch.resubscribes", "Watch subscriptions made again after a lost connection.", "1", false,
		watch(func(w *metrics.Watch) uint64 { return w.Resubscribes })},
	{"storekit.cache.hits", "Cached reads served without a server fetch of their own.", "{read}", false,
		cache(func(c *metrics.Cache) uint64 { return c.Hits })},
	{"storekit.cache.misses", "Keys fetched from the server by cached reads.", "{key}", false,
		cache(func(c *metrics.Cache) uint64 { return c.Misses })},
	{"storekit.cache.invalidations", "Keys the server said had changed.", "{key}", false,
		cache(func(c *metrics.Cache) uint64 { return c.Invalidations })},
	{"storekit.cache.evictions", "Cache entries evicted to keep the cache within its size.", "{entry}", false,
		cache(func(c *metrics.Cache) uint64 { return c.Evictions })},
	{"storekit.cache.flushes", "Times the whole cache was dropped.", "1", false,
		cache(func(c *metrics.Cache) uint64 { return c.Flushes })},
	{"storekit.cache.entries", "Entries the cache holds now.", "{entry}", true,
		cache(func(c *metrics.Cache) uint64 { return c.Entries })},
	{"storekit.cache.size", "What the cached entries cost the heap now.", "By", true,
		cache(func(c *metrics.Cache) uint64 { return c.Bytes })},
	{"storekit.codec.decode_failures", "Values read that did not decode into their type.", "{value}", false,
		codec(func(c *metrics.Codec) uint64 { return c.DecodeFailures })},
	{"storekit.codec.encode_failures", "Values that could not be encoded before a write.", "{value}", false,
		codec(func(c *metrics.Codec) uint64 { return c.EncodeFailures })},
	{"storekit.config.changes", "Changes a config store applied to its cache.", "{change}", false,
		config(func(c *metrics.Config) uint64 { return c.Changes })},
	{"storekit.config.resyncs", "Times a config store queued every tracked key for a re-read.", "1", false,
		config(func(c *metrics.Config) uint64 { return c.Resyncs })},
	{"storekit.config.callbacks", "Calls of config watchers' callbacks.", "{call}", false,
		config(func(c *metrics.Config) uint64 { return c.Callbacks })},
	{"storekit.config.callback_panics", "Config watchers' callbacks that panicked.", "{call}", false,
		config(func(c *metrics.Config) uint64 { return c.CallbackPanics })},
}

// Register creates the storekit instruments on meter (see the package
// documentation) and registers a callback that reports src's counters,
// with the attribute store set to name, each time the meter's reader
// collects. Unregister the returned Registration when src is closed.
// Registering several stores on one meter is allowed: give each its own
// name.
func Register(meter metric.Meter, name string, src metrics.Source) (metric.Registration, error) {
	var errs []error
	counter := func(name, desc, unit string) metric.Int64ObservableCounter {
		c, err := meter.Int64ObservableCounter(name, metric.WithDescription(desc), metric.WithUnit(unit))
		errs = append(errs, err)
		return c
	}
	ops := counter("storekit.operations", "Calls of store operations, failed ones included.", "{call}")
	failures := counter("storekit.errors", "Failed calls of store operations, by the kind of their error.", "{call}")
	observed := []metric.Observable{ops, failures}
	insts := make([]metric.Int64Observable, len(scalars))
	for i, sc := range scalars {
		if sc.gauge {
			g, err := meter.Int64ObservableGauge(sc.name, metric.WithDescription(sc.desc), metric.WithUnit(sc.unit))
			errs = append(errs, err)
			insts[i] = g
		} else {
			insts[i] = counter(sc.name, sc.desc, sc.unit)
		}
		observed = append(observed, insts[i])
	}
	if err := errors.Join(errs...); err != nil {
		return nil, err
	}

	// The attribute sets, made once.
	store := StoreKey.String(name)
	storeOpt := metric.WithAttributeSet(attribute.NewSet(store))
	var opOpts [metrics.NumOps]metric.ObserveOption
	var kindOpts [metrics.NumOps][metrics.NumKinds]metric.ObserveOption
	for op := range metrics.Op(metrics.NumOps) {
		opAttr := OpKey.String(op.String())
		opOpts[op] = metric.WithAttributeSet(attribute.NewSet(store, opAttr))
		for k := range metrics.Kind(metrics.NumKinds) {
			kindOpts[op][k] = metric.WithAttributeSet(attribute.NewSet(store, opAttr, KindKey.String(k.String())))
		}
	}

	return meter.RegisterCallback(func(_ context.Context, o metric.Observer) error {
		snap := src.Metrics()
		for op := range snap.Ops {
			if n := snap.Ops[op]; n > 0 {
				o.ObserveInt64(ops, clamp(n), opOpts[op])
			}
			for k, n := range snap.Errors[op] {
				if n > 0 {
					o.ObserveInt64(failures, clamp(n), kindOpts[op][k])
				}
			}
		}
		for i, sc := range scalars {
			if v, ok := sc.value(&snap); ok {
				o.ObserveInt64(insts[i], clamp(v), storeOpt)
			}
		}
		return nil
	}, observed...)
}

// clamp returns n as an int64, the most an int64 holds if it is larger.
func clamp(n uint64) int64 {
	return int64(min(n, math.MaxInt64))
}
