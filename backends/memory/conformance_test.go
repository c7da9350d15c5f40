package memory_test

import (
	"testing"

	"github.com/cledar/storekit/backends/memory"
	"github.com/cledar/storekit/conformance"
	"github.com/cledar/storekit/kv"
)

func TestConformance(t *testing.T) {
	conformance.Run(t, func(t *testing.T) kv.Store {
		return memory.New(nil)
	})
}
