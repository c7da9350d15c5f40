package kv

import (
	"context"
	"iter"
	"time"
)

// A Store is a flat map from string keys to byte values.
//
// Keys and values are binary-safe: a key may be empty or hold NUL bytes and
// invalid UTF-8, and a value may be empty. Every method takes a context first,
// returns promptly once the context is done, and is safe for concurrent use.
//
// A Store may implement optional interfaces for more abilities: [MultiGetter],
// [Scanner], [Expirer], [Watcher] and [Historian]. Code that needs one discovers
// it with a type assertion, or calls a helper such as [GetMulti] that falls back
// when it is missing.
type Store interface {
	// Get returns a copy of the value stored at key, or an error wrapping
	// ErrNotFound if the key does not exist. An empty value is returned as a
	// non-nil empty slice. A key that holds a history (see [Historian])
	// yields ErrWrongType.
	Get(ctx context.Context, key string) ([]byte, error)

	// Set stores a copy of value at key, replacing any previous value or
	// history and removing any expiry.
	Set(ctx context.Context, key string, value []byte) error

	// Delete removes key, whatever it holds. It reports whether a key was
	// removed; deleting a missing key is not an error, and watchers hear
	// nothing of it.
	Delete(ctx context.Context, key string) (bool, error)

	// Close releases the store's resources and ends its watches. It is
	// idempotent. After Close every method returns an error wrapping
	// ErrClosed. A store built on a caller's client does not close that client
	// unless its options say so.
	Close() error
}

// A Value is the result for one key of a bulk read.
type Value struct {
	// Data is the value, when Found. An empty value has Found set and Data
	// of length zero (possibly nil).
	Data []byte
	// Found reports whether the key exists and holds a plain value.
	Found bool
}

// MultiGetter is an optional interface implemented by a [Store] that reads
// many keys in few round trips.
//
// If a Store does not implement MultiGetter, [GetMulti] calls Get once per key.
type MultiGetter interface {
	// GetMulti returns one Value per key, in the order of keys and with the
	// same length; a key may appear more than once. A missing key, and a key
	// that holds something other than a plain value, has Found false. An
	// error is returned only when the whole read failed.
	GetMulti(ctx context.Context, keys []string) ([]Value, error)
}

// Scanner is an optional interface implemented by a [Store] that can list its
// keys.
//
// There is no fallback: [Keys] returns ErrNotSupported for a Store without it.
type Scanner interface {
	// Scan yields the keys that match pattern, a Redis glob pattern (see
	// [Match]), in no particular order. It has the semantics of Redis SCAN:
	// it never blocks the backend for long, a key present for the whole
	// iteration is yielded at least once, a key may be yielded more than
	// once, and keys written or removed during the iteration may or may not
	// appear. Expired keys are never yielded. On Redis Cluster every master
	// is scanned.
	//
	// An error ends the iteration: it is yielded with an empty key.
	Scan(ctx context.Context, pattern string) iter.Seq2[string, error]
}

// NoExpiry is the TTL that [Expirer.TTL] reports for a key that never expires.
const NoExpiry time.Duration = -1

// Expirer is an optional interface implemented by a [Store] whose keys can
// expire.
type Expirer interface {
	// SetWithTTL is Set with an expiry: after ttl the key behaves as if it
	// were deleted (Get, GetMulti and Scan no longer see it) and watchers
	// receive an OpExpired event once the backend frees it. ttl must be
	// positive, or ErrInvalid is returned and nothing is written. Backends
	// may round ttl up to their precision (a millisecond on Redis).
	SetWithTTL(ctx context.Context, key string, value []byte, ttl time.Duration) error

	// TTL returns the time key has left to live, NoExpiry if it has no
	// expiry, or an error wrapping ErrNotFound if it does not exist.
	TTL(ctx context.Context, key string) (time.Duration, error)
}

// Watcher is an optional interface implemented by a [Store] that can report
// changes to its keys.
type Watcher interface {
	// Watch reports changes to the keys matching pattern, a Redis glob
	// pattern (use [EscapePattern] to watch one key whatever its bytes).
	//
	// When Watch returns, the watch is established: every change made after
	// that is reported. The first event on the channel is an OpResync.
	// Events are hints to re-read, never the value itself, and they arrive
	// in the order the changes happened to each key. Whenever events may
	// have been missed (the first subscription, a reconnect, a consumer that
	// fell behind and overflowed the buffer) an OpResync event is sent, and
	// the consumer must re-read every key it holds.
	//
	// Once the consumer has received the event for a change, a read of the
	// key through the same store returns that change or a newer one, even
	// if the write that made it has not returned yet: re-reading on an
	// event never yields the value the event replaced.
	//
	// When a consumer falls behind, the OpResync that replaces the dropped
	// events may stand in for the first one too: a consumer that re-reads on
	// every OpResync needs no special case.
	//
	// The channel is closed when ctx is done or the store is closed; a watch
	// never blocks the store. Watch itself returns an error when ctx is
	// already done or the store is closed.
	Watch(ctx context.Context, pattern string) (<-chan Event, error)
}

// Historian is an optional interface implemented by a [Store] that keeps an
// append-only history of values under a key. Versions count from 1: version n
// is the n-th value appended, and the latest version equals the number of
// entries. A key that holds a plain value (written with Set) counts as a
// history of one entry.
//
// On Redis a history is a list: Append is RPUSH, the newest entry is last.
type Historian interface {
	// Append adds value as the newest entry of key's history and returns its
	// version. If key holds a plain value, it is first converted, atomically,
	// into a history whose version 1 is that value; watchers then hear
	// OpDelete followed by one OpAppend, as on Redis. A conversion drops
	// the key's expiry; an Append to an existing history keeps it.
	Append(ctx context.Context, key string, value []byte) (version int64, err error)

	// Latest returns the newest entry of key's history and its version, read
	// atomically, or an error wrapping ErrNotFound if key does not exist.
	Latest(ctx context.Context, key string) (value []byte, version int64, err error)

	// At returns the entry with the given version. A version beyond the
	// history (for a plain value, any version above 1) yields ErrNotFound;
	// a version below 1 yields ErrInvalid.
	At(ctx context.Context, key string, version int64) ([]byte, error)

	// History returns every entry of key's history, oldest (version 1)
	// first, or an error wrapping ErrNotFound if key does not exist.
	History(ctx context.Context, key string) ([][]byte, error)
}

// Pruner is an optional interface implemented by a [Historian] that can drop
// the values of old versions while keeping their numbers, so that a history
// can be bounded in size while its versions still only grow.
//
// On Redis a pruned entry is an empty list element (LSET index ""): the
// list's length, and so the version a reader such as the Python config store
// computes with LLEN, is unchanged.
type Pruner interface {
	// Prune empties the entries of key's history whose versions are below
	// before, never the newest entry, and returns how many it emptied.
	// Afterwards At returns an empty value for an emptied version and History
	// an empty entry; Latest and the version numbers are unchanged.
	//
	// Prune works back from version before-1 and stops at the first entry
	// that is already empty, so pruning after every Append empties one entry
	// each time rather than walking the whole history. Pruning a missing key
	// or a plain value does nothing; a key of another kind yields
	// ErrWrongType and before below 1 yields ErrInvalid. Prune keeps the
	// key's expiry. Watchers hear an OpSet for the key when an entry was
	// emptied (on Redis one per entry, as LSET reports), and nothing when
	// none was.
	//
	// An empty entry cannot be told from a pruned one, and Prune stops at
	// it: keep empty values out of a history that is pruned. The first Prune
	// of a long history that was never pruned walks all of it in one atomic
	// step (on Redis one script, which holds the server meanwhile).
	Prune(ctx context.Context, key string, before int64) (emptied int, err error)
}
