// Package codec stores typed values in any [kv.Store], in the format of the
// Python original (cledar.redis), so that a Go service and a Python service
// can share keys.
//
// It has two parts, in files of their own:
//
//   - the encodings: a [Codec] turns values of a type into bytes and back,
//     with no store involved; [JSON] writes what the original writes. See
//     the sections Encodings, Encoding rules and Python compatibility.
//   - the typed store: a [Store] reads and writes values of one type in a
//     kv.Store through a Codec, with the original's methods and errors. See
//     the sections The typed store, Store errors, Bulk reads, and Keys and
//     health.
//
// # Encodings
//
// A [Codec] turns values of a type into bytes and back; it needs no store.
// [JSON] is the original's format and the default of a [Store]; [Time] and
// [Enum] give a type the text Python writes for a datetime and an enum
// member. The encodings are these files, and these names:
//
//	codec.go     Codec, JSON, JSONOptions, Comparer, Validator, and their
//	             errors: ErrValidation, NonFiniteError
//	pyjson.go    the JSON encoder: encoding/json's rules, json.dumps's text
//	pydecode.go  the JSON decoder: encoding/json, plus NaN and Infinity
//	pyparse.go   the parser of Python's JSON, for the decoder and Comparer
//	fields.go    the JSON fields of a struct type, as encoding/json finds them
//	time.go      Time and Naive: datetime.isoformat
//	enum.go      Enum: an enumerated type by its members' names
//
// A Codec can be used on its own, to write or read what a Python service
// stores by other means:
//
//	data, err := codec.JSON[User](nil).Encode(User{UserID: 1, Name: "Alice"})
//	// data is {"user_id": 1, "name": "Alice"}, as json.dumps writes it
//
// # Encoding rules
//
// [JSON] encodes a value by the first rule that applies to its type:
//
//	nil pointer, map, slice or interface  rejected (the original's None)
//	encoding.TextMarshaler                its text, verbatim (Time, Enum types, netip.Addr)
//	json.Marshaler                        JSON
//	string, []byte (and named ones)       verbatim, no JSON quotes
//	integers                              decimal text: 5
//	floats                                Python's repr: 1.5, 100.0, 1e+16, 1e-05, nan, inf, -inf
//	bool                                  true or false
//	pointer, interface                    the rule of the value it holds
//	complex, chan, func                   rejected
//	struct, map, slice, array             JSON, written as Python's json.dumps writes it
//
// Inside JSON, values follow encoding/json's rules (json tags, omitempty,
// MarshalJSON and MarshalText methods, nil as null, []byte as base64), in
// the text of Python's json.dumps (see below).
//
// Decoding follows the same rules: a string or []byte is the stored bytes, a
// number is parsed from decimal text (Python's "nan" and "inf" included), a
// bool with strconv.ParseBool, a TextUnmarshaler from the stored text, and
// everything else as JSON, with encoding/json's rules. An interface type
// (such as any) is always read as JSON: a string written into one is read
// back only through [Store.GetRaw], as in the original. A JSON null is not a
// value: reading one fails. After decoding, a type with a Validate method
// ([Validator]) is validated; it is validated before encoding too, and a
// value that fails is not written. [JSONOptions.Strict] rejects JSON objects
// with unknown fields.
//
// A number read into an interface, at any depth (any, map[string]any,
// []any, a struct field of type any), is a [encoding/json.Number]: a string
// type holding the number's exact text, as the other service wrote it
// ("9223372036854775807", "2.0", "1e+16"), with methods Int64, Float64 and
// String. So an integer beyond 2^53 keeps every digit, and 2.0 is written
// back as 2.0, not as 2, which Python would read as an int. A json.Number
// is written back verbatim: a value read and written again is byte for
// byte what was read (but for what the next section lists). Numbers read
// into typed fields (int64, float64, ...) are those types, as with
// encoding/json.
//
// Booleans are a Go choice: redis-py refuses them, so the original fails
// set(key, True) with an operation error; here they are stored as true and
// false, which the original's get reads back with json.loads.
//
// # Python compatibility
//
// JSON output is byte for byte what the original writes (json.dumps with
// its default settings and the original's CustomEncoder) for the same data,
// which the tests check against Python itself (testdata/python), in both
// directions:
//
//   - separators ", " and ": ";
//   - every character outside printable ASCII escaped as \uXXXX in lowercase
//     hex, with surrogate pairs beyond the BMP (ensure_ascii), and DEL as
//     \u007f; no HTML escaping of <, > and &;
//   - floats as float.__repr__ writes them, inside JSON as on their own:
//     2.0, 0.1, 1e+16, 1e-05, -0.0, always with a point or an exponent, so
//     that json.loads reads a float back, never an int; a float32 by its
//     shortest decimal (float32(0.1) is 0.1);
//   - NaN, Infinity and -Infinity for the special floats inside JSON (see
//     below);
//   - a json.Number as its text, which is Python's when Python wrote it;
//   - struct fields in declaration order, as a Pydantic model's fields;
//   - an enum as its lowercased member name: give the type MarshalText and
//     UnmarshalText methods from an [Enum]; reading ignores case;
//   - a time in isoformat() style with [Time]: +00:00 rather than Z, the
//     microseconds only when not zero, and no offset for a naive time (one in
//     the [Naive] location); reading accepts isoformat and RFC 3339. A plain
//     time.Time field keeps encoding/json's RFC 3339, which Python 3.11 and
//     Pydantic read too.
//
// What differs, exactly:
//
//   - map keys are written sorted, since a Go map has no order, where a
//     Python dict keeps the order of insertion. json.loads reads both as
//     equal dicts, but the bytes differ when the Python side's keys were not
//     in sorted order; a struct's fields keep their order.
//   - text that Go chose is written as it is: a json.Number built in Go
//     ("1E5", "-0"), and the output of a MarshalJSON method (its numbers and
//     escapes; only its spacing and non-ASCII characters are made Python's).
//     Python reads such a number alike, but would write it another way.
//   - a string holding a lone surrogate, which a Python str may hold
//     ("\ud800"), is read as U+FFFD, as encoding/json reads it, and written
//     back as "\ufffd".
//   - values Python's json.dumps cannot write at all are written as
//     encoding/json writes them: []byte as base64, and a bool on its own
//     (see above).
//
// NaN and infinities: Python's json.dumps writes NaN, Infinity and
// -Infinity inside JSON, which is not JSON (RFC 8259), and json.loads reads
// them. So does [JSON] by default: such a number is read into a float64 or
// float32 as the special float, and into an interface or a json.Number as
// json.Number("NaN"), ("Infinity") or ("-Infinity"), whose Float64 method
// returns it; a type with an UnmarshalJSON method is given the text as it
// is. They are written back as Python writes them. [JSONOptions.DisallowNaN]
// refuses them instead, on writes and on reads, with a [*NonFiniteError],
// as Python's json.dumps(..., allow_nan=False) does; a service that must
// produce strict JSON for other readers sets it. A float stored on its own
// (not inside JSON) is Python's repr, and "nan", "inf" and "-inf"
// round-trip (DisallowNaN refuses those too).
//
// Comparing values: the JSON codec implements [Comparer], which tells
// whether two encodings hold the same JSON value as json.loads reads it
// (keys in any order, integers and floats by exact value, 1 unequal to
// 1.0). configstore uses it to recognise an update that changes nothing.
//
// # The typed store
//
// A [Store] is a typed handle over a kv.Store, the original's RedisService
// for one model type: Get, Set, GetMulti, Keys, Delete and the rest, each
// encoding or decoding with the Store's Codec:
//
//	store := goredis.New(redis.NewClient(&redis.Options{Addr: "localhost:6379"}), nil)
//	users := codec.New[User](store, nil)
//	err := users.Set(ctx, "user:1", User{UserID: 1, Name: "Alice"})
//	user, found, err := users.Get(ctx, "user:1")
//
// Any number of Stores of different types may share one kv.Store; a Store
// needs no closing. Every method takes a context, validates its arguments
// (an empty key or pattern is an error wrapping [kv.ErrInvalid]) and is safe
// for concurrent use: the original's AsyncRedisService is a Store shared by
// goroutines. The typed store is these files, and these names:
//
//	store.go         Store, New, Options, Result
//	store_decoded.go how Get reuses the values a cache keeps decoded
//	store_atomic.go  Update (read-modify-write), SetIfAbsent, SetMulti and its
//	                 Item: writes beyond the original's, over kv.Update,
//	                 kv.Conditional and kv.SetMulti
//	store_errors.go  ConnectionError, SerializationError, DeserializationError,
//	                 OperationError and its Operation
//
// Over a kv.Store whose cache can keep decoded values beside its cached
// bytes (a store with a method GetDecoded, such as a cached
// *rueidiskv.Store), [Store.Get] decodes a cached value once and reuses it
// on later hits, for as long as the cache holds those bytes: a write, an
// invalidation or an eviction drops both, so Get returns what decoding the
// current bytes would. It does so only with the [JSON] codec and for a T
// that holds no references (no pointers, maps, slices, interfaces,
// channels or functions, at any depth; strings are fine), so that every
// caller gets a copy sharing nothing it could change; other types are
// decoded on every Get. A Validate method runs on every Get all the same;
// an UnmarshalJSON or UnmarshalText method of T or of its fields must give
// the same value for the same bytes, as decoding once assumes.
//
// # Store errors
//
// The errors of a [Store] are those of the original, with its message texts
// (followed by ": " and the cause). Each wraps its cause, so that
// [errors.As] reaches the type, and [errors.Is] the kv sentinel and the
// backend's native error beneath:
//
//   - [*ConnectionError], "Error connecting to Redis host <Host>": the
//     kv.Store could not be used (its error wraps [kv.ErrUnavailable]: a dial
//     failure, a dropped connection), refused the credentials or the user's
//     rights ([kv.ErrPermission]: redis-py's AuthenticationError is a
//     ConnectionError too; an ACL denial, which redis-py reports as a
//     ResponseError, is one here as well), or is closed ([kv.ErrClosed]).
//   - [*SerializationError], "Failed to serialize value for Redis key
//     '<key>'": the value cannot be encoded; nothing was written. A value
//     whose Validate method fails is one too, with the read's text,
//     "Validation failed for key '<key>' and model '<Model>'", and matches
//     [ErrValidation].
//   - [*DeserializationError], "Failed to decode JSON for key '<key>'" when
//     the stored bytes are not of the format, or "Validation failed for key
//     '<key>' and model '<Model>'" when they are well-formed but not a valid
//     value (the error then matches [ErrValidation]).
//   - [*OperationError], anything else: "Failed to get key '<key>'" (for
//     example a key holding a Redis list, wrapping [kv.ErrWrongType]),
//     "Failed to set key '<key>'", "Failed to delete key '<key>'", "Failed
//     to mget keys", "Failed to list keys for pattern '<pattern>'" (also when
//     the kv.Store cannot list keys: [kv.ErrNotSupported]) or "Failed to ping
//     Redis host <Host>", and for the writes the original lacks "Failed to
//     update key '<key>'" (an Update that gave up on conflicts wraps
//     [kv.ErrConflict]) and "Failed to mset keys" (a bulk write done in part
//     wraps a [*kv.BulkError]); a call whose context ended wraps the
//     context's error. Its Op field names the call: [OperationGet],
//     [OperationSet], [OperationUpdate], [OperationDelete],
//     [OperationGetMulti], [OperationSetMulti], [OperationListKeys] or
//     [OperationPing].
//
// An argument rejected before the store is called ("Key must be a non-empty
// string", "Pattern must be a non-empty string") wraps [kv.ErrInvalid]. A
// missing key is never an error: [Store.Get] reports it with its boolean.
// The original's base class RedisServiceError has no counterpart: every
// error a Store returns is one of these four types or an invalid argument,
// and err != nil catches them all.
//
// # Bulk reads
//
// [Store.GetMulti] reads many keys in one round trip when the kv.Store
// implements [kv.MultiGetter] (one MGET on Redis) and returns one [Result]
// per key, in order: the value (Found), a miss (neither Found nor Err), or a
// failed value whose Err is a [*DeserializationError] naming the key, the
// original's FailedValue. Bad JSON or a failed validation fails that key
// only; an error is returned only when the whole read failed. A key holding
// something other than a plain value (a Redis list) reads as missing, as
// MGET reports it. An empty key list returns an empty result without a call
// to the store.
//
// # Keys and health
//
// [Store.Keys] and [Store.Scan] list keys by Redis glob pattern with SCAN
// semantics (never KEYS, which blocks the server); they need a kv.Store that
// implements [kv.Scanner]. [Store.Ping] asks the kv.Store's own Ping method
// when it has one (the Redis backends send PING) and otherwise reads a
// reserved key; [Store.IsAlive] reports whether Ping succeeds.
package codec
