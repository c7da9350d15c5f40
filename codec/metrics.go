package codec

import "github.com/cledar/storekit/metrics"

// Metrics implements [metrics.Source]: the counters of the kv.Store under
// s, when it has any (every storekit backend has), and s's own Codec
// section: the values s could not decode or encode. Each Store counts its
// own failures; the kv.Store's counters are shared by every layer over it.
func (s *Store[T]) Metrics() metrics.Snapshot {
	snap, _ := metrics.Of(s.kv)
	snap.Codec = s.counters.Load()
	return snap
}
