package benchmarks

import (
	"testing"

	"go.uber.org/goleak"
)

// TestMain checks that the tests of this package (TestConfigThroughput)
// leave no goroutine behind. rueidis may keep a cluster-refresh goroutine a
// few seconds after Close.
func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m,
		goleak.IgnoreAnyFunction("github.com/redis/rueidis.(*clusterClient)._refresh.func2"))
}
