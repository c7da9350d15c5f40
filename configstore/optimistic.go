package configstore

// This file holds the optimistic updates: UpdateIf, which appends only at
// an expected version, and Modify, a read-modify-write loop over it.

import (
	"context"
	"errors"
	"fmt"
	"strconv"

	"github.com/cledar/storekit/internal/backoff"
	"github.com/cledar/storekit/kv"
)

// UpdateIf makes v the latest value of key, as [Store.Update] does, only if
// the latest version is expect (zero: only if key does not exist; a plain
// value is version 1), and returns the new version. The check and the
// append are one atomic step on the backend ([kv.ConditionalHistorian]),
// so no writer, in this process or another, can slip in between.
//
// When the latest version is another, nothing is written and the error
// wraps [kv.ErrConflict] and is a [*kv.VersionConflict] whose Latest is the
// version found (its Key is key, without the prefix). Everything else is as
// for Update: a value the same as the latest version's writes nothing and
// returns that version (when that version is expect), an invalid value is a
// [*codec.SerializationError], the cache is updated and old versions are
// emptied under [Options.HistoryLimit]. A negative expect is an error
// wrapping [kv.ErrInvalid]; a kv.Store that does not implement
// kv.ConditionalHistorian gives an error wrapping [kv.ErrNotSupported].
func (s *Store[T]) UpdateIf(ctx context.Context, key string, expect int64, v T) (int64, error) {
	return s.write(ctx, key, v, true, expect)
}

// Modify changes the value of key by a read-modify-write: it fetches the
// latest value and version (see [Store.Fetch]), calls fn with them (the
// zero T, 0 and false when key is missing), and writes fn's result with
// [Store.UpdateIf] at the version read. When another writer added a version
// in between, Modify waits a short random while and starts again, calling
// fn again with the newer value, until it succeeds or ctx ends; fn must
// therefore be safe to call more than once. Give ctx a deadline to bound
// the retries: when ctx ends during a run of conflicts, the error wraps
// both kv.ErrConflict and ctx's error.
//
// Modify returns the value now latest and its version. When fn returns an
// error, Modify returns it as it is and writes nothing. When fn returns the
// same value as the latest version's, nothing is written and that version
// is returned. A latest value that cannot be decoded is returned as Fetch
// returns it (a [*codec.DeserializationError]), and fn is not called; nor
// is it over a kv.Store without kv.ConditionalHistorian (an error wrapping
// [kv.ErrNotSupported]).
func (s *Store[T]) Modify(ctx context.Context, key string, fn func(old T, version int64, found bool) (T, error)) (T, int64, error) {
	var zero T
	if _, err := s.conditional("modify", key); err != nil {
		return zero, 0, err
	}
	for attempt := 0; ; attempt++ {
		old, version, err := s.Fetch(ctx, key)
		found := err == nil
		if err != nil && !errors.Is(err, kv.ErrNotFound) {
			return zero, 0, gaveUp(ctx, key, attempt, err)
		}
		if !found {
			old, version = zero, 0
		}
		v, err := fn(old, version, found)
		if err != nil {
			return zero, 0, err
		}
		written, err := s.UpdateIf(ctx, key, version, v)
		if err == nil {
			return v, written, nil
		}
		if !errors.Is(err, kv.ErrConflict) {
			return zero, 0, gaveUp(ctx, key, attempt, err)
		}
		if werr := backoff.Default.Wait(ctx, attempt); werr != nil {
			return zero, 0, gaveUp(ctx, key, attempt+1, werr)
		}
	}
}

// conditional returns the kv.Store's ConditionalHistorian, or an error
// wrapping kv.ErrNotSupported for op on key.
func (s *Store[T]) conditional(op, key string) (kv.ConditionalHistorian, error) {
	ch, ok := s.hist.(kv.ConditionalHistorian)
	if !ok {
		return nil, s.errorf(op, key, fmt.Errorf("%T does not implement kv.ConditionalHistorian: %w", s.kv, kv.ErrNotSupported))
	}
	return ch, nil
}

// gaveUp returns err, met by Modify after conflicts lost conflicts: when ctx
// ended after at least one conflict, an error that wraps both
// kv.ErrConflict and err, since the conflicts are why Modify ran out of
// time.
func gaveUp(ctx context.Context, key string, conflicts int, err error) error {
	if conflicts == 0 || ctx.Err() == nil {
		return err
	}
	return fmt.Errorf("configstore: modify %s: gave up after %d conflicts: %w: %w", strconv.Quote(key), conflicts, kv.ErrConflict, err)
}
