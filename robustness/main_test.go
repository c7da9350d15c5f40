package robustness

import (
	"testing"

	"go.uber.org/goleak"
)

// TestMain fails the package's tests if any goroutine outlives them: every
// store and every watch the tests open must be closed.
func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m)
}
