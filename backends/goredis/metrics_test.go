package goredis_test

import (
	"testing"

	"github.com/cledar/storekit/internal/backendtest"
)

// TestMetrics: every call counts its operation and its failure's kind,
// a killed server's failures count as unavailable, and a watch counts its
// events, overflows, resyncs and resubscriptions.
func TestMetrics(t *testing.T) { backendtest.RunMetrics(t, backend) }
