package kv

import "errors"

// Errors returned by stores. Callers test for them with [errors.Is]; a backend
// wraps its native error together with one of these, so [errors.As] still
// reaches the native cause (for example a *net.OpError or a redis.Error).
//
// An error that matches none of them is an operation error: the backend was
// reachable but rejected the request (for example a Redis server answering
// with an error reply the contract has no name for). It wraps the native error.
var (
	// ErrNotFound means the key does not exist (or has expired).
	ErrNotFound = errors.New("kv: key not found")

	// ErrUnavailable means the backend could not be used: a dial failure, a
	// connection reset or EOF, a network timeout, an authentication failure, a
	// server that is loading or down. Retrying later may succeed.
	ErrUnavailable = errors.New("kv: backend unavailable")

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
