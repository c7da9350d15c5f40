package configstore

import "github.com/cledar/storekit/metrics"

// Metrics implements [metrics.Source]: the counters of the kv.Store under
// s, when it has any (every storekit backend has), with s's own: its Codec
// section (each decode of a value that failed, on a read or for a
// watcher's event, and each value Update could not encode) and its Config
// section (changes applied, resyncs, callbacks and their panics).
func (s *Store[T]) Metrics() metrics.Snapshot {
	snap, _ := metrics.Of(s.kv)
	snap.Codec = s.codecCounters.Load()
	snap.Config = s.counters.Load()
	return snap
}

// counted counts the change from old to r, a reading of a key applied to
// the cache: one that the cache held a reading of before, and that shows
// another state of the key.
func (s *Store[T]) counted(old, r reading) {
	if old.known && !old.same(r) {
		s.counters.Changed()
	}
}
