package rueidiskv

import "github.com/cledar/storekit/metrics"

var _ metrics.Source = (*Store)(nil)

// Metrics implements [metrics.Source]: the store's operations, their
// failures by kind and its watches' events, and with caching on the
// counters of its [Cache] (shared by every store that uses the cache).
func (s *Store) Metrics() metrics.Snapshot {
	snap := s.redisStore.Metrics()
	if s.cache != nil {
		st := s.cache.Stats()
		snap.Cache = &metrics.Cache{
			Hits:          st.Hits,
			Misses:        st.Misses,
			Invalidations: st.Invalidations,
			Evictions:     st.Evictions,
			Flushes:       st.Flushes,
			Entries:       uint64(st.Entries),
			Bytes:         uint64(max(st.Bytes, 0)),
		}
	}
	return snap
}
