package codec

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/cledar/storekit/kv"
)

// The typed store's atomic and bulk writes: Update, SetIfAbsent and
// SetMulti, over kv.Update, kv.Conditional and kv.SetMulti.

// Update changes the value at key by a read-modify-write that no concurrent
// writer can interleave with (see [kv.Update]): it reads key, calls fn with
// the decoded value (the zero T and false when key is missing), and writes
// fn's result only if key still holds what was read; when another writer
// changed key in between, it calls fn again with the newer value. fn must
// therefore be safe to call more than once. Give ctx a deadline to bound
// the retries: when ctx ends during a run of conflicts, the error is an
// [*OperationError] wrapping [kv.ErrConflict] and ctx's error.
//
// Update returns the value now stored. When fn returns an error, Update
// returns it as it is and writes nothing. A stored value that cannot be
// decoded is a [*DeserializationError], and a result that cannot be encoded
// a [*SerializationError]; nothing is written. A result that encodes to the
// bytes already stored writes nothing. The key's expiry is kept. The
// kv.Store must implement [kv.Conditional], or the error is an
// [*OperationError] wrapping [kv.ErrNotSupported] and fn is not called.
func (s *Store[T]) Update(ctx context.Context, key string, fn func(old T, found bool) (T, error)) (T, error) {
	var zero, result T
	if err := checkKey(key); err != nil {
		return zero, err
	}
	_, err := kv.Update(ctx, s.kv, key, func(raw []byte, found bool) ([]byte, error) {
		var old T
		if found {
			var err error
			if old, err = s.codec.Decode(raw); err != nil {
				return nil, passThrough{s.decodeFailed(key, err)}
			}
		}
		v, err := fn(old, found)
		if err != nil {
			return nil, passThrough{err}
		}
		data, err := s.encode(key, v)
		if err != nil {
			return nil, passThrough{err}
		}
		result = v
		return data, nil
	})
	var p passThrough
	switch {
	case errors.As(err, &p):
		return zero, p.err
	case err != nil:
		return zero, s.failed(OperationUpdate, key, err)
	}
	return result, nil
}

// passThrough carries an error of Update's own making, or of its caller's
// fn, through kv.Update, to be returned as it is.
type passThrough struct{ err error }

func (p passThrough) Error() string { return p.err.Error() }

// SetIfAbsent stores v at key only if key does not exist, and reports
// whether it did, in one atomic step (see [kv.Conditional]). A positive ttl
// gives the new key that expiry; zero gives it none; a negative ttl is an
// error wrapping [kv.ErrInvalid]. A value that cannot be encoded is a
// [*SerializationError]. The kv.Store must implement kv.Conditional, or the
// error is an [*OperationError] wrapping [kv.ErrNotSupported]. On an error
// nothing is written.
func (s *Store[T]) SetIfAbsent(ctx context.Context, key string, v T, ttl time.Duration) (bool, error) {
	if err := checkKey(key); err != nil {
		return false, err
	}
	if ttl < 0 {
		return false, &argError{"TTL must not be negative, got " + ttl.String()}
	}
	c, ok := s.kv.(kv.Conditional)
	if !ok {
		return false, s.failed(OperationSet, key, fmt.Errorf("codec: %T does not implement kv.Conditional: %w", s.kv, kv.ErrNotSupported))
	}
	data, err := s.encode(key, v)
	if err != nil {
		return false, err
	}
	written, err := c.SetIfAbsent(ctx, key, data, ttl)
	if err != nil {
		return false, s.failed(OperationSet, key, err)
	}
	return written, nil
}

// An Item is one value to write with [Store.SetMulti].
type Item[T any] struct {
	// Key is the key to write.
	Key string
	// Value is the value to store.
	Value T
	// TTL, when positive, is the key's expiry; zero means none (and removes
	// an existing one, as Set does). A negative TTL is invalid.
	TTL time.Duration
}

// SetMulti stores every item, in few round trips when the kv.Store
// implements [kv.BulkWriter] (see [kv.SetMulti] for what each backend does
// atomically); when a key appears more than once the last item wins. Every
// key and value is checked and encoded first: an empty key or a negative TTL
// is an error wrapping [kv.ErrInvalid], a value that cannot be encoded a
// [*SerializationError], and an item with a TTL over a kv.Store that is not
// a [kv.Expirer] an [*OperationError] wrapping [kv.ErrNotSupported]; in
// every one of these cases nothing is written. A write that fails after
// part of it took effect is an [*OperationError] wrapping a [*kv.BulkError],
// which says which items were written. An empty items writes nothing and
// calls nothing.
func (s *Store[T]) SetMulti(ctx context.Context, items []Item[T]) error {
	if len(items) == 0 {
		return nil
	}
	raw := make([]kv.Item, len(items))
	for i, it := range items {
		if it.Key == "" {
			return &argError{fmt.Sprintf("Keys must be non-empty strings: items[%d] has an empty key", i)}
		}
		if it.TTL < 0 {
			return &argError{fmt.Sprintf("TTL must not be negative, got %v for key '%s'", it.TTL, it.Key)}
		}
		data, err := s.encode(it.Key, it.Value)
		if err != nil {
			return err
		}
		raw[i] = kv.Item{Key: it.Key, Value: data, TTL: it.TTL}
	}
	if err := kv.SetMulti(ctx, s.kv, raw); err != nil {
		return s.failed(OperationSetMulti, "", err)
	}
	return nil
}
