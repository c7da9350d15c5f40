package robustness

import (
	"os"
	"strconv"
	"testing"
	"time"
)

// Environment variables of the tests.
const (
	// envSeed, set to a number, makes a run repeat the random choices of
	// the run that printed that seed.
	envSeed = "STOREKIT_SEED"
	// envSoak, set to 1, makes the tests run longer (the differential
	// tests for soakBudget per target); set to a duration (90s, 10m), the
	// differential tests run that long per target.
	envSoak = "STOREKIT_SOAK"
)

// runSeed returns the seed of this run, from envSeed or the clock.
func runSeed(t *testing.T) uint64 {
	t.Helper()
	if s := os.Getenv(envSeed); s != "" {
		n, err := strconv.ParseUint(s, 10, 64)
		if err != nil {
			t.Fatalf("%s=%q: %v", envSeed, s, err)
		}
		return n
	}
	return uint64(time.Now().UnixNano()) % 1_000_000_000
}

// soaking reports whether envSoak asks for long runs.
func soaking() bool {
	s := os.Getenv(envSoak)
	return s != "" && s != "0"
}
