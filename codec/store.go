package codec

import (
	"context"
	"errors"
	"fmt"
	"iter"
	"time"

	"go.uber.org/zap"

	"github.com/cledar/storekit/internal/typename"
	"github.com/cledar/storekit/kv"
	"github.com/cledar/storekit/metrics"
)

// The typed store: Store, a typed handle over a kv.Store, with its Options
// and Result. Its errors are in store_errors.go; it encodes and decodes with
// a Codec (codec.go).

// Options configure a [Store]. The zero value, like a nil *Options, gives the
// defaults.
type Options[T any] struct {
	// Codec encodes and decodes the values. Defaults to JSON[T](nil).
	Codec Codec[T]

	// Logger receives every failure, at error level, with the operation,
	// the key and the error, as the Python original logs them. Values are
	// never logged. Defaults to a no-op logger.
	Logger *zap.Logger

	// Host names the backend in the text of connection errors ("Error
	// connecting to Redis host <Host>"), as the Python original's
	// redis_host does. Defaults to the store's Go type, such as
	// "*goredis.Store".
	Host string
}

// A Store reads and writes values of type T in a [kv.Store]: it is the
// Python original's RedisService for one model type. Any number of Stores,
// of any types, may share one kv.Store. A Store is safe for concurrent use;
// create it with [New].
//
// Every method takes a context first and validates its arguments before it
// calls the kv.Store: an empty key or pattern is rejected with an error
// wrapping [kv.ErrInvalid]. A missing key is never an error. The errors are
// a [*ConnectionError], [*SerializationError], [*DeserializationError] or
// [*OperationError] (see the package documentation).
type Store[T any] struct {
	kv    kv.Store
	codec Codec[T]
	log   *zap.Logger
	host  string
	model string
	// shared is set when the kv.Store keeps decoded values beside its
	// cached bytes and T may share them (store_decoded.go).
	shared *sharedDecoding[T]
	// counters count decode and encode failures (metrics.go).
	counters metrics.CodecCounters
}

// New returns a Store of T values over s. opts may be nil; New copies what
// it needs from it. New panics if s is nil. A Store needs no closing: close s
// when done with it, which ends every Store over it.
func New[T any](s kv.Store, opts *Options[T]) *Store[T] {
	if s == nil {
		panic("codec: New with a nil kv.Store")
	}
	var o Options[T]
	if opts != nil {
		o = *opts
	}
	st := &Store[T]{kv: s, codec: o.Codec, log: o.Logger, host: o.Host, model: typename.Of[T]()}
	if st.codec == nil {
		st.codec = JSON[T](nil)
	}
	if st.log == nil {
		st.log = zap.NewNop()
	}
	if st.host == "" {
		st.host = fmt.Sprintf("%T", s)
	}
	st.shared = newSharedDecoding(s, st.codec)
	return st
}

// Get returns the value stored at key, decoded into a T, and true; or the
// zero T and false if key does not exist (a key holding something other than
// a plain value, such as a history or a Redis list, is an
// [*OperationError] wrapping [kv.ErrWrongType]). A value that cannot be
// decoded, or fails validation, is a [*DeserializationError].
//
// Over a cache that keeps decoded values (a cached *rueidiskv.Store), a
// cache hit reuses the value decoded before from the same bytes, for a T
// without references (see the package documentation).
//
// It is the Python original's get(key, model).
func (s *Store[T]) Get(ctx context.Context, key string) (T, bool, error) {
	if s.shared != nil {
		return s.getShared(ctx, key)
	}
	var zero T
	data, ok, err := s.GetRaw(ctx, key)
	if err != nil || !ok {
		return zero, false, err
	}
	v, err := s.codec.Decode(data)
	if err != nil {
		return zero, false, s.decodeFailed(key, err)
	}
	return v, true, nil
}

// GetRaw returns the bytes stored at key, undecoded, and true; or nil and
// false if key does not exist. It is the Python original's get_raw(key).
func (s *Store[T]) GetRaw(ctx context.Context, key string) ([]byte, bool, error) {
	if err := checkKey(key); err != nil {
		return nil, false, err
	}
	data, err := s.kv.Get(ctx, key)
	switch {
	case err == nil:
		return data, true, nil
	case errors.Is(err, kv.ErrNotFound):
		return nil, false, nil
	}
	return nil, false, s.failed(OperationGet, key, err)
}

// Set stores v at key, replacing what key held and removing its expiry. A
// value the codec cannot encode (such as a nil pointer, map or slice), or
// that fails its Validate method ([Validator]), is a [*SerializationError],
// and nothing is written. It is the Python original's set(key, value).
func (s *Store[T]) Set(ctx context.Context, key string, v T) error {
	if err := checkKey(key); err != nil {
		return err
	}
	data, err := s.encode(key, v)
	if err != nil {
		return err
	}
	if err := s.kv.Set(ctx, key, data); err != nil {
		return s.failed(OperationSet, key, err)
	}
	return nil
}

// SetWithTTL is Set with an expiry: after ttl, key is gone. ttl must be
// positive (else an error wrapping [kv.ErrInvalid]), and the kv.Store must
// implement [kv.Expirer] (else an [*OperationError] wrapping
// [kv.ErrNotSupported]); in both cases nothing is written.
func (s *Store[T]) SetWithTTL(ctx context.Context, key string, v T, ttl time.Duration) error {
	if err := checkKey(key); err != nil {
		return err
	}
	if ttl <= 0 {
		return &argError{"TTL must be positive, got " + ttl.String()}
	}
	exp, ok := s.kv.(kv.Expirer)
	if !ok {
		return s.failed(OperationSet, key, fmt.Errorf("codec: %T does not implement kv.Expirer: %w", s.kv, kv.ErrNotSupported))
	}
	data, err := s.encode(key, v)
	if err != nil {
		return err
	}
	if err := exp.SetWithTTL(ctx, key, data, ttl); err != nil {
		return s.failed(OperationSet, key, err)
	}
	return nil
}

// encode encodes v for key.
func (s *Store[T]) encode(key string, v T) ([]byte, error) {
	data, err := s.codec.Encode(v)
	if err != nil {
		msg := "Serialization error before setting Redis key."
		if errors.Is(err, ErrValidation) {
			msg = "Validation error before setting Redis key."
		}
		s.counters.EncodeFailed()
		s.log.Error(msg, zap.String("key", key), zap.String("model", s.model), zap.Error(err))
		return nil, &SerializationError{Key: key, Model: s.model, Err: err}
	}
	return data, nil
}

// Delete removes key and reports whether it existed. It is the Python
// original's delete(key).
func (s *Store[T]) Delete(ctx context.Context, key string) (bool, error) {
	if err := checkKey(key); err != nil {
		return false, err
	}
	ok, err := s.kv.Delete(ctx, key)
	if err != nil {
		return false, s.failed(OperationDelete, key, err)
	}
	return ok, nil
}

// A Result is the outcome for one key of [Store.GetMulti]: the value, a
// missing key, or a failed value.
type Result[T any] struct {
	// Key is the key read.
	Key string
	// Value is the decoded value when Found; otherwise the zero T.
	Value T
	// Found reports whether Value holds the key's value: it is false for a
	// missing key and for a failed one.
	Found bool
	// Err is set when the key's value could not be decoded or failed
	// validation: a *DeserializationError naming the key. It is the Python
	// original's FailedValue.
	Err error
}

// GetMulti reads keys at once and returns one Result per key, in the order
// of keys (a key may repeat). A missing key has Found false and Err nil; a
// value that cannot be decoded or fails validation fails that key only, with
// its Result's Err set. An error is returned only when the whole read failed.
// An empty keys returns an empty result without calling the kv.Store. It is
// the Python original's mget(keys, model), in one round trip when the
// kv.Store implements [kv.MultiGetter] (see [kv.GetMulti]).
func (s *Store[T]) GetMulti(ctx context.Context, keys []string) ([]Result[T], error) {
	if len(keys) == 0 {
		return []Result[T]{}, nil
	}
	for i, k := range keys {
		if k == "" {
			return nil, &argError{fmt.Sprintf("Keys must be non-empty strings: keys[%d] is empty", i)}
		}
	}
	vals, err := kv.GetMulti(ctx, s.kv, keys)
	if err == nil && len(vals) != len(keys) {
		err = fmt.Errorf("codec: %T returned %d values for %d keys", s.kv, len(vals), len(keys))
	}
	if err != nil {
		return nil, s.failed(OperationGetMulti, "", err)
	}
	res := make([]Result[T], len(keys))
	for i, v := range vals {
		r := &res[i]
		r.Key = keys[i]
		if !v.Found {
			continue
		}
		if r.Value, err = s.codec.Decode(v.Data); err != nil {
			r.Err = s.decodeFailed(r.Key, err)
			continue
		}
		r.Found = true
	}
	return res, nil
}

// Keys returns the keys that match pattern, a Redis glob pattern (see
// [kv.Match]), each once, sorted. It iterates with SCAN semantics (never the
// KEYS command) and holds every key in memory; use [Store.Scan] for a large
// key space. The kv.Store must implement [kv.Scanner], or the error is an
// [*OperationError] wrapping [kv.ErrNotSupported]. It is the Python
// original's list_keys(pattern).
func (s *Store[T]) Keys(ctx context.Context, pattern string) ([]string, error) {
	if pattern == "" {
		return nil, errEmptyPattern
	}
	keys, err := kv.Keys(ctx, s.kv, pattern)
	if err != nil {
		return nil, s.failed(OperationListKeys, pattern, err)
	}
	return keys, nil
}

// Scan yields the keys that match pattern, a Redis glob pattern, in no
// particular order and possibly more than once (see [kv.Scanner]). An error
// ends the iteration and is yielded with an empty key: an invalid pattern,
// or an [*OperationError] or [*ConnectionError] (wrapping
// [kv.ErrNotSupported] if the kv.Store does not implement kv.Scanner).
func (s *Store[T]) Scan(ctx context.Context, pattern string) iter.Seq2[string, error] {
	return func(yield func(string, error) bool) {
		if pattern == "" {
			yield("", errEmptyPattern)
			return
		}
		sc, ok := s.kv.(kv.Scanner)
		if !ok {
			yield("", s.failed(OperationListKeys, pattern, fmt.Errorf("codec: %T does not implement kv.Scanner: %w", s.kv, kv.ErrNotSupported)))
			return
		}
		for k, err := range sc.Scan(ctx, pattern) {
			if err != nil {
				yield("", s.failed(OperationListKeys, pattern, err))
				return
			}
			if !yield(k, nil) {
				return
			}
		}
	}
}

// pinger is implemented by stores with a health check, such as
// *goredis.Store.
type pinger interface {
	Ping(ctx context.Context) error
}

// pingKey is the key that Ping reads from a store without a Ping method.
const pingKey = "storekit:codec:ping"

// Ping checks that the kv.Store can be used. A store with a method
// Ping(context.Context) error (such as *goredis.Store, which sends PING) is
// asked with it; any other store is asked for the key "storekit:codec:ping",
// whose absence (or any value) counts as alive. A store that cannot be
// reached or has been closed gives a [*ConnectionError]; any other failure an
// [*OperationError].
func (s *Store[T]) Ping(ctx context.Context) error {
	if err := s.ping(ctx); err != nil {
		return s.failed(OperationPing, "", err)
	}
	return nil
}

// IsAlive reports whether [Store.Ping] succeeds, logging its error if not.
// It is the Python original's is_alive(), except that it reports false for
// any failure, not only a connection error.
func (s *Store[T]) IsAlive(ctx context.Context) bool {
	err := s.ping(ctx)
	if err != nil {
		s.log.Error("Redis connection error during health check. Can't ping Redis host "+s.host, zap.Error(err))
	}
	return err == nil
}

// ping returns the kv.Store's error for a health check.
func (s *Store[T]) ping(ctx context.Context) error {
	if p, ok := s.kv.(pinger); ok {
		return p.Ping(ctx)
	}
	_, err := s.kv.Get(ctx, pingKey)
	if errors.Is(err, kv.ErrNotFound) || errors.Is(err, kv.ErrWrongType) {
		return nil
	}
	return err
}

// failed turns err, from the kv.Store's op on key, into the Store's error and
// logs it: a *ConnectionError when the store is unavailable, refused the
// credentials or the user's rights, or is closed; an *OperationError
// otherwise.
func (s *Store[T]) failed(op Operation, key string, err error) error {
	if errors.Is(err, kv.ErrUnavailable) || errors.Is(err, kv.ErrPermission) || errors.Is(err, kv.ErrClosed) {
		s.log.Error("Redis connection error.", zap.String("op", string(op)), zap.String("key", key), zap.Error(err))
		return &ConnectionError{Host: s.host, Err: err}
	}
	s.log.Error("Redis operation failed.", zap.String("op", string(op)), zap.String("key", key), zap.Error(err))
	return &OperationError{Op: op, Key: key, Host: s.host, Err: err}
}

// decodeFailed turns err, from decoding the value of key, into a
// *DeserializationError and logs it.
func (s *Store[T]) decodeFailed(key string, err error) *DeserializationError {
	msg := "JSON Decode error."
	if errors.Is(err, ErrValidation) {
		msg = "Validation error."
	}
	s.counters.DecodeFailed()
	s.log.Error(msg, zap.String("key", key), zap.String("model", s.model), zap.Error(err))
	return &DeserializationError{Key: key, Model: s.model, Err: err}
}
