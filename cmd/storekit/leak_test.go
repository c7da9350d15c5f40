package main

import (
	"testing"

	"go.uber.org/goleak"
)

// TestMain checks that the demo leaves no goroutine behind: its stores,
// config store and watchers are all closed. rueidis may keep a
// cluster-refresh goroutine a few seconds after Close.
func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m,
		goleak.IgnoreAnyFunction("github.com/redis/rueidis.(*clusterClient)._refresh.func2"))
}
