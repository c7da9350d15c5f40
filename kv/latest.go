package kv

import (
	"context"
	"errors"
)

// A LatestValue is the result for one key of a batched latest-read
// ([MultiLatest], and the [LatestMulti] helper).
type LatestValue struct {
	// Value is the newest entry of the key's history (a plain value counts
	// as a history of one entry), when Found. An empty entry has Found set
	// and Value of length zero (possibly nil).
	Value []byte
	// Version is the version of Value, when Found: the number of entries,
	// 1 for a plain value.
	Version int64
	// Found reports whether the key exists and holds a history or a plain
	// value.
	Found bool
	// Err is set, with Found false, when the key holds something else (on
	// Redis, a key of another type): it wraps ErrWrongType, as Latest's
	// error for that key would. A missing key has Found false and Err nil.
	Err error
}

// MultiLatest is an optional interface implemented by a [Historian] that
// reads the latest entries of many keys in few round trips.
//
// If a Historian does not implement MultiLatest, [LatestMulti] calls Latest
// once per key.
type MultiLatest interface {
	// LatestMulti returns one LatestValue per key, in the order of keys
	// and with the same length; a key may appear more than once. Each
	// result is what Latest would have returned for its key at one instant
	// during the call: the value and the version are read together. An
	// error is returned only when the whole read failed.
	LatestMulti(ctx context.Context, keys []string) ([]LatestValue, error)
}

// LatestMulti reads the latest entries of many keys at once. It uses h's
// [MultiLatest] when h has one; otherwise it calls Latest once per key,
// marking a key missing when Latest reports ErrNotFound and setting Err
// when it reports ErrWrongType. Any other error fails the whole call.
//
// The result has one LatestValue per key, in the order of keys.
func LatestMulti(ctx context.Context, h Historian, keys []string) ([]LatestValue, error) {
	if ml, ok := h.(MultiLatest); ok {
		return ml.LatestMulti(ctx, keys)
	}
	out := make([]LatestValue, len(keys))
	for i, k := range keys {
		v, version, err := h.Latest(ctx, k)
		switch {
		case err == nil:
			out[i] = LatestValue{Value: v, Version: version, Found: true}
		case errors.Is(err, ErrNotFound):
			// missing: the zero LatestValue
		case errors.Is(err, ErrWrongType):
			out[i] = LatestValue{Err: err}
		default:
			return nil, err
		}
	}
	return out, nil
}
