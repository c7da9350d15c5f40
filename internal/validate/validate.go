// Package validate checks the arguments that every backend of storekit
// checks the same way before it touches anything, and words the errors
// once: each wraps kv.ErrInvalid.
package validate

import (
	"fmt"
	"time"

	"github.com/cledar/storekit/kv"
)

// TTL checks a time to live for kv.Expirer.SetWithTTL: it must be positive.
func TTL(ttl time.Duration) error {
	if ttl <= 0 {
		return fmt.Errorf("ttl %v is not positive: %w", ttl, kv.ErrInvalid)
	}
	return nil
}

// Version checks a history version for kv.Historian.At: versions count
// from 1.
func Version(version int64) error {
	if version < 1 {
		return fmt.Errorf("version %d is below 1: %w", version, kv.ErrInvalid)
	}
	return nil
}

// Before checks the bound of kv.Pruner.Prune: versions count from 1.
func Before(before int64) error {
	if before < 1 {
		return fmt.Errorf("before %d is below 1: %w", before, kv.ErrInvalid)
	}
	return nil
}

// OptionalTTL checks the ttl of a write that may set an expiry
// (kv.Conditional, kv.Item): zero means none (for CompareAndSwap,
// kv.KeepTTL), and only a negative one is invalid.
func OptionalTTL(ttl time.Duration) error {
	if ttl < 0 {
		return fmt.Errorf("ttl %v is negative: %w", ttl, kv.ErrInvalid)
	}
	return nil
}

// Expect checks the expected version of kv.ConditionalHistorian.AppendIf:
// zero (no key) or more.
func Expect(expect int64) error {
	if expect < 0 {
		return fmt.Errorf("expected version %d is negative: %w", expect, kv.ErrInvalid)
	}
	return nil
}
