package main

import (
	"testing"

	"go.uber.org/goleak"
)

// TestMain fails the package's tests if any goroutine outlives them: run
// must stop what it starts, the Docker probe included.
func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m)
}
