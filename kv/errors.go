package kv

import "errors"

// Errors returned by stores. Callers test for them with [errors.Is]; a backend
// wraps its native error together with one of these, so [errors.As] still
// reaches the native cause (for example a *net.OpError or a redis.Error).
//
// An error that matches none of them is an operation error: the backend was
// reachable but rejected the request (for example a Redis server answering
// with an error reply the contract has no name for). It wraps the native error.
// [Retryable] tells the errors worth retrying from the others.
var (
	// ErrNotFound means the key does not exist (or has expired).
	ErrNotFound = errors.New("kv: key not found")

	// ErrUnavailable means the backend could not be used: a dial failure, a
	// connection reset or EOF, a network timeout, a server that is loading,
	// down or failing over. Retrying later may succeed.
	ErrUnavailable = errors.New("kv: backend unavailable")

	// ErrPermission means the backend refused the request for want of
	// rights: the credentials were refused, or the user may not run the
	// command or touch the key (a Redis ACL's NOPERM). Retrying cannot
	// help; the configuration (the credentials, the user's rights or the
	// store's options) must change.
	ErrPermission = errors.New("kv: permission denied")

	// ErrFull means the backend refused a write for want of space, such as
	// a Redis server over its maxmemory with the noeviction policy. Reads
	// still work, and retrying once space is freed may succeed.
	ErrFull = errors.New("kv: backend full")

	// ErrClosed means the store was closed with Close.
	ErrClosed = errors.New("kv: store closed")

	// ErrNotSupported means the store lacks an optional capability that the
	// call needs and no fallback exists, or the backend's server lacks a
	// feature that the call needs.
	ErrNotSupported = errors.New("kv: not supported")

	// ErrConflict means a conditional write lost to a concurrent change.
	ErrConflict = errors.New("kv: conflict")

	// ErrWrongType means the key holds a kind of value that the operation
	// cannot use: a history read with Get or, on Redis, a key of another
	// Redis type (hash, set, ...). It mirrors Redis's WRONGTYPE reply.
	ErrWrongType = errors.New("kv: wrong kind of value for key")

	// ErrInvalid means an argument is invalid, such as a non-positive TTL or
	// a history version below 1. Nothing was written.
	ErrInvalid = errors.New("kv: invalid argument")
)

// Retryable reports whether err says that the same call, made again later,
// may succeed although nothing else changed: it wraps [ErrUnavailable] or
// [ErrFull]. Every other error needs a change first: of the arguments
// ([ErrInvalid], [ErrWrongType]), of the configuration ([ErrPermission],
// [ErrNotSupported]), of the data ([ErrNotFound], and [ErrConflict], after
// which a read-modify-write reads again), or of the store ([ErrClosed]). A
// context's error is not retryable with the same context.
func Retryable(err error) bool {
	return errors.Is(err, ErrUnavailable) || errors.Is(err, ErrFull)
}
