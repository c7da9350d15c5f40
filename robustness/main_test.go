package robustness

import (
	"testing"

	"go.uber.org/goleak"
)

// TestMain fails the package's tests if any goroutine outlives them: every
// store, watch, client and proxy a test starts must be closed when it
// ends.
//
// One goroutine of rueidis itself is let go: after a topology refresh, a
// cluster client closes the connections it dropped 5 s later, on a
// goroutine of its own that its Close does not wait for.
func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m,
		goleak.IgnoreAnyFunction("github.com/redis/rueidis.(*clusterClient)._refresh.func2"))
}
