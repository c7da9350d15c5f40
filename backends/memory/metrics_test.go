package memory_test

import (
	"testing"

	"github.com/cledar/storekit/backends/memory"
	"github.com/cledar/storekit/internal/backendtest"
)

// TestMetricsCalls: every call counts its operation once, and a failure
// its kind once.
func TestMetricsCalls(t *testing.T) {
	backendtest.CheckCounts(t, memory.New(nil))
}

// TestMetricsWatch: a watch's overflows, events and resyncs are counted.
func TestMetricsWatch(t *testing.T) {
	s := memory.New(&memory.Options{WatchBuffer: 1})
	defer s.Close()
	backendtest.CheckWatchCounts(t, s)
}
