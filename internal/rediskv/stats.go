package rediskv

import (
	"context"

	"github.com/cledar/storekit/metrics"
)

// This file holds the store's counters: every exported method of the
// Store defers a count of its call and of its error (metrics.Counters.Done),
// Scan counts each iteration, and a watch counts its events.

// Metrics implements [metrics.Source]: the store's operations, their
// failures by kind, and its watches' events.
func (s *Store) Metrics() metrics.Snapshot { return s.counters.Snapshot() }

// Counters returns s's counters, for a backend that serves some calls its
// own way (rueidiskv's cached reads) and counts them there.
func Counters(s *Store) *metrics.Counters { return &s.counters }

// ServerGet is s's Get without counting the call, for a backend whose own
// Get counts it and falls back on s's.
func ServerGet(ctx context.Context, s *Store, key string) ([]byte, error) { return s.get(ctx, key) }
