package metrics

import (
	"iter"
	"sync/atomic"
)

// Counters are a store's live counters of operations, errors and watch
// events, for a backend to count with and to read as a [Snapshot]. The zero
// value is ready to use; a Counters must not be copied after first use. Its
// methods are safe for concurrent use and do not allocate: a call counts
// with one atomic add, and a failure with one more after testing the error.
type Counters struct {
	ops  [NumOps]paddedCounter
	errs [NumOps][NumKinds]atomic.Uint64
	// Watch counts the store's watch events.
	Watch WatchCounters
}

// A paddedCounter fills a cache line, so that calls of different
// operations on different cores do not contend for one line.
type paddedCounter struct {
	atomic.Uint64
	_ [56]byte
}

// Count counts a call of op that returned err, and returns err. A nil err,
// or one wrapping kv.ErrNotFound, counts no failure.
func (c *Counters) Count(op Op, err error) error {
	c.ops[op].Add(1)
	if err != nil {
		if k, ok := KindOf(err); ok {
			c.errs[op][k].Add(1)
		}
	}
	return err
}

// Done counts a call of op that returned *errp; it is made to be deferred
// by a method with a named error result:
//
//	func (s *Store) Get(ctx context.Context, key string) (_ []byte, err error) {
//		defer s.counters.Done(metrics.OpGet, &err)
//		...
func (c *Counters) Done(op Op, errp *error) {
	c.Count(op, *errp)
}

// Seq counts the iterations of seq as calls of op, each failed by the
// first error it yields, if any; it is made for Scan:
//
//	return s.counters.Seq(metrics.OpScan, func(yield func(string, error) bool) { ... })
func (c *Counters) Seq(op Op, seq iter.Seq2[string, error]) iter.Seq2[string, error] {
	return func(yield func(string, error) bool) {
		var failed error
		for k, err := range seq {
			if err != nil && failed == nil {
				failed = err
			}
			if !yield(k, err) {
				break
			}
		}
		c.Count(op, failed)
	}
}

// Snapshot returns the counters' values, with the Watch section filled
// and the others nil.
func (c *Counters) Snapshot() Snapshot {
	var s Snapshot
	for op := range c.ops {
		s.Ops[op] = c.ops[op].Load()
		for k := range c.errs[op] {
			s.Errors[op][k] = c.errs[op][k].Load()
		}
	}
	s.Watch = c.Watch.Load()
	return s
}

// WatchCounters count a store's watch events (see [Watch]). The methods of
// a nil *WatchCounters do nothing, so that a watch may be run uncounted.
type WatchCounters struct {
	events, resyncs, overflows, resubscribes atomic.Uint64
}

// Event counts an event delivered to a consumer; resync says it is an
// OpResync after the watch's first event.
func (w *WatchCounters) Event(resync bool) {
	if w == nil {
		return
	}
	w.events.Add(1)
	if resync {
		w.resyncs.Add(1)
	}
}

// Overflow counts a consumer's full buffer.
func (w *WatchCounters) Overflow() {
	if w != nil {
		w.overflows.Add(1)
	}
}

// Resubscribe counts a subscription made again.
func (w *WatchCounters) Resubscribe() {
	if w != nil {
		w.resubscribes.Add(1)
	}
}

// Load returns the counters' values.
func (w *WatchCounters) Load() Watch {
	if w == nil {
		return Watch{}
	}
	return Watch{
		Events:       w.events.Load(),
		Resyncs:      w.resyncs.Load(),
		Overflows:    w.overflows.Load(),
		Resubscribes: w.resubscribes.Load(),
	}
}

// CodecCounters count a typed layer's decode and encode failures (see
// [Codec]). The zero value is ready to use.
type CodecCounters struct {
	decode, encode atomic.Uint64
}

// DecodeFailed counts a value that did not decode.
func (c *CodecCounters) DecodeFailed() { c.decode.Add(1) }

// EncodeFailed counts a value that could not be encoded.
func (c *CodecCounters) EncodeFailed() { c.encode.Add(1) }

// Load returns the counters' values.
func (c *CodecCounters) Load() *Codec {
	return &Codec{DecodeFailures: c.decode.Load(), EncodeFailures: c.encode.Load()}
}

// ConfigCounters count what a configstore.Store did (see [Config]). The
// zero value is ready to use.
type ConfigCounters struct {
	changes, resyncs, callbacks, panics atomic.Uint64
}

// Changed counts a change applied to the cache.
func (c *ConfigCounters) Changed() { c.changes.Add(1) }

// Resynced counts a resync acted on.
func (c *ConfigCounters) Resynced() { c.resyncs.Add(1) }

// Called counts a callback's call.
func (c *ConfigCounters) Called() { c.callbacks.Add(1) }

// Panicked counts a callback that panicked.
func (c *ConfigCounters) Panicked() { c.panics.Add(1) }

// Load returns the counters' values.
func (c *ConfigCounters) Load() *Config {
	return &Config{
		Changes:        c.changes.Load(),
		Resyncs:        c.resyncs.Load(),
		Callbacks:      c.callbacks.Load(),
		CallbackPanics: c.panics.Load(),
	}
}
