package postgres

import "github.com/cledar/storekit/metrics"

var _ metrics.Source = (*Store)(nil)

// Metrics implements [metrics.Source]: the store's operations, their
// failures by kind, and its watches' events. Every method counts its call
// with one atomic add, deferred, and a failure with one more; a Scan counts
// when its iteration ends. A reconnect of the connection the watches listen
// on counts as one resubscribe, however many watches share it.
func (s *Store) Metrics() metrics.Snapshot { return s.counters.Snapshot() }
