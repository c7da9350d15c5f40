package kv

import (
	"context"
	"fmt"
	"time"
)

// KeepTTL, as the ttl of [Conditional.CompareAndSwap], keeps the key's
// expiry (or its lack of one) unchanged.
const KeepTTL time.Duration = 0

// Conditional is an optional interface implemented by a [Store] that writes a
// key only if it holds what the caller expects, in one atomic step on the
// backend. Values are compared byte for byte; nothing but the value is
// stored, so the data stays plain for every other reader.
//
// There is no fallback: a read followed by a write is not atomic. [Update]
// builds a read-modify-write loop on it.
type Conditional interface {
	// SetIfAbsent stores value at key only if key does not exist, and
	// reports whether it did. A key that holds anything (a plain value, a
	// history) exists; an expired key does not. A positive ttl gives the new
	// key that expiry, as SetWithTTL does; zero gives it none; a negative
	// ttl yields ErrInvalid and writes nothing. Watchers hear what Set (or
	// SetWithTTL) would make them hear when the key was written, and
	// nothing when it was not.
	SetIfAbsent(ctx context.Context, key string, value []byte, ttl time.Duration) (bool, error)

	// CompareAndSwap replaces key's value with new only if key holds a plain
	// value equal to old, and reports whether it did. A missing key
	// reports false; a key holding a history yields ErrWrongType. With ttl
	// [KeepTTL] (zero) the key keeps its expiry, or lack of one; a positive
	// ttl sets a new expiry (new may equal old, which refreshes the expiry
	// of a value nobody replaced); a negative ttl yields ErrInvalid and
	// writes nothing. Watchers hear OpSet when the value was replaced
	// (followed by OpExpire when ttl is positive) and nothing otherwise.
	CompareAndSwap(ctx context.Context, key string, old, new []byte, ttl time.Duration) (bool, error)

	// CompareAndDelete deletes key only if it holds a plain value equal to
	// old, and reports whether it did. A missing key reports false; a key
	// holding a history yields ErrWrongType. Watchers hear OpDelete when
	// the key was deleted and nothing otherwise.
	CompareAndDelete(ctx context.Context, key string, old []byte) (bool, error)
}

// Counter is an optional interface implemented by a [Store] that adds to
// integers atomically, as Redis INCRBY does. A counter is an ordinary plain
// value: its decimal text ("42", "-7"), which any reader can parse.
type Counter interface {
	// Incr adds delta (which may be negative or zero) to the integer stored
	// at key and returns the result. A missing key counts as 0. The key's
	// expiry is kept. The value must be the decimal text of an int64 as
	// Redis writes it: an optional '-' and digits, without '+', spaces or
	// leading zeros ("0" itself excepted, "-0" not allowed); any other
	// value, and a key holding a history, yields ErrWrongType. A result
	// beyond the int64 range yields ErrInvalid. On an error nothing is
	// written. Watchers hear OpSet.
	Incr(ctx context.Context, key string, delta int64) (int64, error)
}

// ExpiryChanger is an optional interface implemented by an [Expirer] that
// can change the expiry of an existing key and read a value together with
// its expiry.
type ExpiryChanger interface {
	Expirer

	// Expire gives key a new expiry, ttl from now, whatever it holds (a
	// plain value or a history), and reports whether the key exists. A ttl
	// of zero or less yields ErrInvalid and changes nothing. Watchers hear
	// OpExpire when the key exists.
	Expire(ctx context.Context, key string, ttl time.Duration) (bool, error)

	// Persist removes key's expiry and reports whether the key exists
	// (whether or not it had an expiry). Watchers hear OpOther when an
	// expiry was removed, and nothing otherwise.
	Persist(ctx context.Context, key string) (bool, error)

	// GetWithTTL returns key's value and the time it has left to live
	// ([NoExpiry] if none), read together in one step: the value is the one
	// that expires after the TTL returned. A missing key yields ErrNotFound
	// and a key holding a history ErrWrongType, as Get does.
	GetWithTTL(ctx context.Context, key string) ([]byte, time.Duration, error)
}

// An Item is one key to write with [BulkWriter.SetMulti] or [SetMulti].
type Item struct {
	// Key is the key to write.
	Key string
	// Value is the value to store; it is copied.
	Value []byte
	// TTL, when positive, is the key's expiry, as with SetWithTTL; zero
	// means no expiry (an existing one is removed, as Set does). A negative
	// TTL is invalid.
	TTL time.Duration
}

// BulkWriter is an optional interface implemented by a [Store] that writes
// and deletes many keys in few round trips.
//
// What a bulk write does at once depends on the backend, and each backend
// documents it: the memory store applies the whole call atomically; a
// Redis server applies all of it in one transaction; a Redis Cluster applies
// the keys of each hash slot atomically, slot by slot. If SetMulti or
// DeleteMulti fails after part of the work took effect, its error is a
// [*BulkError] that says which keys were written; an error of another kind
// means nothing was.
//
// If a Store does not implement BulkWriter, the helpers [SetMulti] and
// [DeleteMulti] write one key at a time.
type BulkWriter interface {
	// SetMulti stores every item, as Set (or SetWithTTL, for an item with a
	// TTL) would. When a key appears more than once, the last item wins: the
	// key is written once, and watchers hear its events once. An item with a
	// negative TTL yields ErrInvalid before anything is written. Watchers
	// hear each key's events as for Set or SetWithTTL.
	SetMulti(ctx context.Context, items []Item) error

	// DeleteMulti removes every key of keys that exists and returns how many
	// it removed (a key listed twice is removed once). Watchers hear
	// OpDelete for each removed key.
	DeleteMulti(ctx context.Context, keys []string) (int, error)
}

// A BulkError reports a bulk write that failed after part of it took
// effect.
type BulkError struct {
	// Done has one entry per item of SetMulti (or key of DeleteMulti), in
	// order: true when that item is known to have been written (or that key
	// to have been deleted, or found missing). False means it was not
	// written, or that its outcome is unknown because the reply was lost
	// (Err is then retryable or a context error).
	Done []bool
	// Err is the first error met.
	Err error
}

// Error reports how many items were done, and the cause.
func (e *BulkError) Error() string {
	n := 0
	for _, d := range e.Done {
		if d {
			n++
		}
	}
	return fmt.Sprintf("kv: bulk write partly done (%d of %d): %v", n, len(e.Done), e.Err)
}

// Unwrap returns Err, so that errors.Is sees the cause's sentinel.
func (e *BulkError) Unwrap() error { return e.Err }

// Failed returns the positions of the items that are not known to be done.
func (e *BulkError) Failed() []int {
	var idx []int
	for i, d := range e.Done {
		if !d {
			idx = append(idx, i)
		}
	}
	return idx
}

// ConditionalHistorian is an optional interface implemented by a [Historian]
// that appends a version only if the history is where the caller expects it,
// in one atomic step: optimistic concurrency for versioned values.
type ConditionalHistorian interface {
	Historian

	// AppendIf appends value to key's history only if the latest version is
	// expect (zero: only if key does not exist; a plain value counts as
	// version 1 and is converted as Append converts it), and returns the new
	// version, expect+1. When the latest version is another, nothing is
	// written and the error wraps ErrConflict (and is a [*VersionConflict]
	// that holds the latest version). A negative expect yields ErrInvalid; a
	// key of another kind ErrWrongType. Watchers hear what Append makes
	// them hear when the value was appended, and nothing otherwise.
	AppendIf(ctx context.Context, key string, value []byte, expect int64) (version int64, err error)
}

// A VersionConflict is the error of [ConditionalHistorian.AppendIf] when the
// history's latest version is not the one expected. It wraps [ErrConflict].
type VersionConflict struct {
	// Key is the key of the history.
	Key string
	// Expected is the version the caller expected; Latest is the version
	// found (zero when the key does not exist).
	Expected, Latest int64
}

// Error says which versions differed.
func (e *VersionConflict) Error() string {
	return fmt.Sprintf("kv: append %s: expected version %d, found %d", QuoteKey(e.Key), e.Expected, e.Latest)
}

// Unwrap returns ErrConflict.
func (e *VersionConflict) Unwrap() error { return ErrConflict }
