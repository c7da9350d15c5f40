package kv

import (
	"bytes"
	"context"
	"errors"
	"fmt"

	"github.com/cledar/storekit/internal/backoff"
)

// Update changes the plain value at key by a read-modify-write that no
// concurrent writer can interleave with: it reads key, calls fn with the
// value (found false, and old nil, when key is missing) and writes what fn
// returns only if key still holds what was read, with
// [Conditional.SetIfAbsent] when key was missing and
// [Conditional.CompareAndSwap] (keeping the key's expiry) otherwise. When
// another writer changed key in between, Update waits a short random
// while and starts again, calling fn again with the newer value, until it
// succeeds or ctx ends; fn must therefore be safe to call more than once.
// Give ctx a deadline to bound the retries.
//
// Update returns the value it wrote. When fn returns an error, Update
// returns that error and writes nothing. When fn returns a value equal to
// the one found, nothing is written (watchers hear nothing) and that value
// is returned. A key that holds a history yields ErrWrongType. Update needs
// s to be a [Conditional]; otherwise it returns ErrNotSupported without
// calling fn.
func Update(ctx context.Context, s Store, key string, fn func(old []byte, found bool) ([]byte, error)) ([]byte, error) {
	c, err := asConditional(s, "update "+QuoteKey(key))
	if err != nil {
		return nil, err
	}
	for attempt := 0; ; attempt++ {
		old, err := s.Get(ctx, key)
		found := err == nil
		if err != nil && !errors.Is(err, ErrNotFound) {
			return nil, gaveUp(ctx, key, attempt, err)
		}
		if !found {
			old = nil
		}
		val, err := fn(old, found)
		if err != nil {
			return nil, err
		}
		if val == nil {
			val = []byte{}
		}
		var ok bool
		switch {
		case found && bytes.Equal(val, old):
			return val, nil
		case found:
			ok, err = c.CompareAndSwap(ctx, key, old, val, KeepTTL)
		default:
			ok, err = c.SetIfAbsent(ctx, key, val, 0)
		}
		if err != nil {
			return nil, gaveUp(ctx, key, attempt, err)
		}
		if ok {
			return val, nil
		}
		if err := backoff.Default.Wait(ctx, attempt); err != nil {
			return nil, gaveUp(ctx, key, attempt+1, err)
		}
	}
}

// gaveUp returns err, met after conflicts lost conflicts: when ctx ended
// after at least one conflict, an error that wraps both ErrConflict and
// err, since the conflicts are why Update ran out of time.
func gaveUp(ctx context.Context, key string, conflicts int, err error) error {
	if conflicts == 0 || ctx.Err() == nil {
		return err
	}
	return fmt.Errorf("kv: update %s: gave up after %d conflicts: %w: %w", QuoteKey(key), conflicts, ErrConflict, err)
}
