package codec

import (
	"errors"

	"github.com/cledar/storekit/kv"
)

// The errors of the typed store ([Store]). The four error types are those of
// the Python original (RedisConnectionError, RedisSerializationError,
// RedisDeserializationError, RedisOperationError), with its message texts.
// Each wraps its cause: errors.Is and errors.As reach the kv sentinel and the
// backend's native error beneath it. The encodings' own errors
// ([ErrValidation], [NonFiniteError]) are in codec.go.

// A ConnectionError reports that the store could not be used: its error wraps
// [kv.ErrUnavailable] (the backend could not be reached, the connection
// broke), [kv.ErrPermission] (the credentials or the user's rights were
// refused) or [kv.ErrClosed].
type ConnectionError struct {
	// Host names the backend, from [Options.Host].
	Host string
	// Err is the store's error.
	Err error
}

// Error returns "Error connecting to Redis host <Host>: <Err>".
func (e *ConnectionError) Error() string {
	return withCause("Error connecting to Redis host "+e.Host, e.Err)
}

// Unwrap returns e.Err.
func (e *ConnectionError) Unwrap() error { return e.Err }

// A SerializationError reports a value that could not be encoded, so nothing
// was written: a nil pointer, map, slice or interface, a type with no encoding
// (a channel, a function, a complex number), a NaN or an infinity under
// [JSONOptions.DisallowNaN], an error from a MarshalJSON or MarshalText
// method, or a value whose Validate method failed ([Validator]; the error
// then matches [ErrValidation]).
type SerializationError struct {
	// Key is the key the value was meant for.
	Key string
	// Model is the name of the value's Go type, as in a
	// [DeserializationError]; it appears in the text of a validation
	// failure only.
	Model string
	// Err is the encoder's error.
	Err error
}

// Error returns "Validation failed for key '<Key>' and model '<Model>':
// <Err>" when Err matches [ErrValidation] (the text of the same failure on
// a read), and otherwise "Failed to serialize value for Redis key '<Key>':
// <Err>".
func (e *SerializationError) Error() string {
	if errors.Is(e.Err, ErrValidation) {
		return withCause("Validation failed for key '"+e.Key+"' and model '"+e.Model+"'", e.Err)
	}
	return withCause("Failed to serialize value for Redis key '"+e.Key+"'", e.Err)
}

// Unwrap returns e.Err.
func (e *SerializationError) Unwrap() error { return e.Err }

// A DeserializationError reports a stored value that could not be decoded
// into the target type. It is returned by [Store.Get], and held by the
// [Result] of that key only in [Store.GetMulti]. It is the Python original's
// RedisDeserializationError and, in bulk reads, its FailedValue.
type DeserializationError struct {
	// Key is the key whose value failed.
	Key string
	// Model is the name of the Go type the value was decoded into, without
	// its package (and without pointers): "User" for a Store[*pkg.User].
	Model string
	// Err is the decoder's error. When it matches [ErrValidation] the value
	// was well-formed but not a valid Model; otherwise it could not be
	// parsed at all.
	Err error
}

// Error returns "Validation failed for key '<Key>' and model '<Model>': <Err>"
// when Err matches [ErrValidation], and otherwise "Failed to decode JSON for
// key '<Key>': <Err>".
func (e *DeserializationError) Error() string {
	if errors.Is(e.Err, ErrValidation) {
		return withCause("Validation failed for key '"+e.Key+"' and model '"+e.Model+"'", e.Err)
	}
	return withCause("Failed to decode JSON for key '"+e.Key+"'", e.Err)
}

// Unwrap returns e.Err.
func (e *DeserializationError) Unwrap() error { return e.Err }

// An Operation names the [Store] call that an [OperationError] reports. Its
// value is the verb of the error's text ("Failed to get key ..."), and the
// op field of the logged failure.
type Operation string

// The operations of a [Store], as [OperationError.Op] holds them.
const (
	OperationGet      Operation = "get"       // Store.Get, Store.GetRaw
	OperationSet      Operation = "set"       // Store.Set, Store.SetWithTTL, Store.SetIfAbsent
	OperationUpdate   Operation = "update"    // Store.Update
	OperationDelete   Operation = "delete"    // Store.Delete
	OperationGetMulti Operation = "mget"      // Store.GetMulti
	OperationSetMulti Operation = "mset"      // Store.SetMulti
	OperationListKeys Operation = "list keys" // Store.Keys, Store.Scan
	OperationPing     Operation = "ping"      // Store.Ping, Store.IsAlive
)

// An OperationError reports any other failure of a store call: the backend
// rejected the request (for example a key holding a Redis list, which wraps
// [kv.ErrWrongType]), the store lacks a capability the call needs
// ([kv.ErrNotSupported]), or the call's context ended (context.Canceled or
// context.DeadlineExceeded).
type OperationError struct {
	// Op is the operation: one of OperationGet, OperationSet,
	// OperationUpdate, OperationDelete, OperationGetMulti,
	// OperationSetMulti, OperationListKeys and OperationPing.
	Op Operation
	// Key is the key of OperationGet, OperationSet, OperationUpdate and
	// OperationDelete, and the pattern of OperationListKeys; it is empty
	// for OperationGetMulti, OperationSetMulti and OperationPing.
	Key string
	// Host names the backend, from [Options.Host]; it appears in the text of
	// OperationPing only.
	Host string
	// Err is the store's error.
	Err error
}

// Error returns the Python original's text for Op followed by ": <Err>":
// "Failed to get key '<Key>'", "Failed to set key '<Key>'", "Failed to delete
// key '<Key>'", "Failed to mget keys", "Failed to list keys for pattern
// '<Key>'" or "Failed to ping Redis host <Host>"; and, for the operations
// the original lacks, "Failed to update key '<Key>'" and "Failed to mset
// keys".
func (e *OperationError) Error() string {
	var msg string
	switch e.Op {
	case OperationGetMulti, OperationSetMulti:
		msg = "Failed to " + string(e.Op) + " keys"
	case OperationListKeys:
		msg = "Failed to list keys for pattern '" + e.Key + "'"
	case OperationPing:
		msg = "Failed to ping Redis host " + e.Host
	default:
		msg = "Failed to " + string(e.Op) + " key '" + e.Key + "'"
	}
	return withCause(msg, e.Err)
}

// withCause returns msg followed by ": " and the text of err, if any.
func withCause(msg string, err error) string {
	if err == nil {
		return msg
	}
	return msg + ": " + err.Error()
}

// Unwrap returns e.Err.
func (e *OperationError) Unwrap() error { return e.Err }

// argError is an invalid argument, rejected before the store is called. It
// wraps kv.ErrInvalid.
type argError struct{ msg string }

func (e *argError) Error() string { return e.msg }
func (e *argError) Unwrap() error { return kv.ErrInvalid }

var (
	errEmptyKey     = &argError{"Key must be a non-empty string"}
	errEmptyPattern = &argError{"Pattern must be a non-empty string"}
)

// checkKey rejects the empty key.
func checkKey(key string) error {
	if key == "" {
		return errEmptyKey
	}
	return nil
}
