package goredis_test

import (
	"testing"

	"github.com/cledar/storekit/internal/backendtest"
)

// TestWatch runs the watch tests the Redis backends share: a killed
// subscription, a restart, notifications off, turned on, lost and not
// readable, the match rules, and the end of a watch.
func TestWatch(t *testing.T) { backendtest.RunWatch(t, backend) }
