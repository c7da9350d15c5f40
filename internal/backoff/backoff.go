// Package backoff paces retries: exponential delays with full jitter, and a
// wait that ends early when the caller's context does.
package backoff

import (
	"context"
	"math/rand/v2"
	"time"
)

// A Policy says how long to wait before each retry.
type Policy struct {
	// Min is the ceiling of the first delay; Max caps every delay.
	Min, Max time.Duration
}

// Default is the policy of read-modify-write loops that retry on a
// conflict: the first retry within a millisecond, none later than 100ms.
var Default = Policy{Min: time.Millisecond, Max: 100 * time.Millisecond}

// Delay returns the delay before retry number attempt (0 for the first):
// a random duration in [0, min(Max, Min·2^attempt)], so that writers who
// collided do not collide again in step.
func (p Policy) Delay(attempt int) time.Duration {
	ceil := p.Max
	if attempt < 32 && p.Min<<attempt < p.Max && p.Min<<attempt > 0 {
		ceil = p.Min << attempt
	}
	if ceil <= 0 {
		return 0
	}
	return rand.N(ceil + 1)
}

// Wait sleeps for the delay of attempt, or until ctx is done, and returns
// ctx's error in that case.
func (p Policy) Wait(ctx context.Context, attempt int) error {
	d := p.Delay(attempt)
	if d <= 0 {
		return ctx.Err()
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}
