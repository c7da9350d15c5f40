package codec

import (
	"context"
	"errors"
	"fmt"
	"reflect"
	"sync"

	"github.com/cledar/storekit/kv"
)

// Decoded values kept beside cached bytes. A kv.Store whose reads go
// through a client-side cache (rueidiskv's) may keep, on the cache entry of
// a key, the value a Store decoded from the entry's bytes, and hand it back
// on later hits, so that a hit costs no decoding. The value lives and dies
// with the bytes it was decoded from (an invalidation, an eviction, a flush
// drops both), so a Store serves no value the bytes would not give.
//
// A Store shares decoded values only when that is invisible to its callers:
// with the JSON codec (whose Decode depends on the bytes alone), and for a
// T that holds no references (no pointers, maps, slices, interfaces,
// channels or functions; strings are immutable and fine), so that a caller
// gets a copy that shares nothing it could change. Validate, if T has it,
// runs on every Get, as it does when each Get decodes.

// decodedGetter is implemented by a kv.Store whose cache keeps decoded
// values beside the bytes, such as *rueidiskv.Store; it is found by
// structural typing, so the backend need not import codec.
type decodedGetter interface {
	// GetDecoded returns what decode returns for the bytes of key, as Get
	// would return them. On a cache hit whose entry holds a value decoded
	// for tag (a comparable value), it returns that value without calling
	// decode; otherwise it reads key as Get does, calls decode, and may
	// keep the value on the cache entry of the bytes decoded, counting
	// size bytes (what the value holds) against the cache's size. Its
	// errors are Get's (wrapping kv.ErrNotFound for a missing key), or
	// decode's, returned as they are.
	GetDecoded(ctx context.Context, key string, tag any, decode func([]byte) (any, int, error)) (any, error)
}

// sharedDecoding is how a Store reads values that its kv.Store keeps
// decoded.
type sharedDecoding[T any] struct {
	dg     decodedGetter
	tag    *decodedTag
	codec  *jsonCodec[T]
	decode func([]byte) (any, int, error)
}

// A decodedTag names the decoding of a decoded value: the type and the
// JSON codec's options. Stores of the same T and options share one tag, so
// that they share decoded values; any other decoding has another tag.
type decodedTag struct {
	t    reflect.Type
	opts decodeOptions
}

// decodedTags interns decodedTags: decodedTag → *decodedTag.
var decodedTags sync.Map

// errDecode marks an error of decode, returned through GetDecoded.
type errDecode struct{ err error }

func (e *errDecode) Error() string { return e.err.Error() }
func (e *errDecode) Unwrap() error { return e.err }

// newSharedDecoding returns how a Store of T over s with codec c reads
// shared decoded values, or nil when it cannot: s keeps no decoded values,
// c is not the JSON codec, or T holds references.
func newSharedDecoding[T any](s kv.Store, c Codec[T]) *sharedDecoding[T] {
	dg, ok := s.(decodedGetter)
	if !ok {
		return nil
	}
	jc, ok := c.(*jsonCodec[T])
	t := reflect.TypeFor[T]()
	if !ok || !holdsNoReferences(t) {
		return nil
	}
	key := decodedTag{t: t, opts: jc.dec}
	tag, _ := decodedTags.LoadOrStore(key, &key)
	// What a decoded value holds: the T, boxed, and its strings, which are
	// never longer than the bytes they were decoded from.
	base := int(t.Size())
	return &sharedDecoding[T]{
		dg:    dg,
		tag:   tag.(*decodedTag),
		codec: jc,
		decode: func(data []byte) (any, int, error) {
			v, err := jc.decodeUnvalidated(data)
			if err != nil {
				return nil, 0, &errDecode{err}
			}
			return v, base + len(data), nil
		},
	}
}

// holdsNoReferences reports whether a copy of a value of type t shares
// nothing that either copy could change: t has no pointers, maps, slices,
// interfaces, channels, functions or unsafe pointers, at any depth.
func holdsNoReferences(t reflect.Type) bool {
	switch t.Kind() {
	case reflect.Bool, reflect.String,
		reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64,
		reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64, reflect.Uintptr,
		reflect.Float32, reflect.Float64, reflect.Complex64, reflect.Complex128:
		return true
	case reflect.Array:
		return holdsNoReferences(t.Elem())
	case reflect.Struct:
		for i := range t.NumField() {
			if !holdsNoReferences(t.Field(i).Type) {
				return false
			}
		}
		return true
	}
	return false
}

// getShared is Get over a kv.Store that keeps decoded values.
func (s *Store[T]) getShared(ctx context.Context, key string) (T, bool, error) {
	var zero T
	if err := checkKey(key); err != nil {
		return zero, false, err
	}
	sd := s.shared
	x, err := sd.dg.GetDecoded(ctx, key, sd.tag, sd.decode)
	if err != nil {
		var de *errDecode
		switch {
		case errors.As(err, &de):
			return zero, false, s.decodeFailed(key, de.err)
		case errors.Is(err, kv.ErrNotFound):
			return zero, false, nil
		}
		return zero, false, s.failed(OperationGet, key, err)
	}
	v, ok := x.(T)
	if !ok {
		return zero, false, s.failed(OperationGet, key, fmt.Errorf("codec: %T returned a %T for a %s", s.kv, x, s.model))
	}
	if sd.codec.validate {
		if v, err = validated(v); err != nil {
			return zero, false, s.decodeFailed(key, err)
		}
	}
	return v, true, nil
}

// validated validates v and returns it, as a Validate method with a
// pointer receiver left it: a function of its own, so that only the Gets of
// a T with a Validate method move their value to the heap.
func validated[T any](v T) (T, error) {
	err := validate(&v)
	return v, err
}
