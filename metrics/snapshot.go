package metrics

// A Source has counters to read: every storekit store ([kv.Store] of each
// backend, codec.Store, configstore.Store). Metrics returns their values
// now; each counter only grows, from zero when the source was made.
type Source interface {
	Metrics() Snapshot
}

// Of returns src's counters if src is a [Source], and false otherwise.
func Of(src any) (Snapshot, bool) {
	if s, ok := src.(Source); ok {
		return s.Metrics(), true
	}
	return Snapshot{}, false
}

// A Snapshot holds the values of a store's counters at one moment. The
// sections a store has not (a cache, a codec, a config store) are nil.
type Snapshot struct {
	// Ops counts the calls of each operation, failed ones included.
	Ops [NumOps]uint64
	// Errors counts the calls of each operation that failed, by the kind
	// of their error. A missing key is not a failure.
	Errors [NumOps][NumKinds]uint64
	// Watch counts what the store's watches did.
	Watch Watch
	// Cache counts what a client-side cache did; nil without one.
	Cache *Cache
	// Codec counts the failures to decode or encode values; nil below a
	// layer that decodes (codec.Store, configstore.Store).
	Codec *Codec
	// Config counts what a configstore.Store did; nil elsewhere.
	Config *Config
}

// Failures returns the calls of op that failed, of every kind.
func (s *Snapshot) Failures(op Op) uint64 {
	var n uint64
	for _, c := range s.Errors[op] {
		n += c
	}
	return n
}

// ErrorsOf returns the calls of every operation that failed with an
// error of kind k.
func (s *Snapshot) ErrorsOf(k Kind) uint64 {
	var n uint64
	for op := range s.Errors {
		n += s.Errors[op][k]
	}
	return n
}

// Watch counts the events of a store's watches, all watches together.
type Watch struct {
	// Events counts the events delivered to consumers: sent on a watch's
	// channel, each OpResync included.
	Events uint64
	// Resyncs counts the OpResync events delivered after a watch's first
	// event: each tells its consumer that changes may have been missed
	// (after an overflow, a lost or moved subscription, or a change of the
	// server's notification setting).
	Resyncs uint64
	// Overflows counts the times a consumer fell behind: its buffer
	// (WatchBuffer) was full when an event came, and the queued events
	// were dropped for one OpResync.
	Overflows uint64
	// Resubscribes counts the subscriptions a Redis watch made again after
	// losing their connection, or that the client library made again by
	// itself; each is followed by an OpResync.
	Resubscribes uint64
}

// Cache counts what a client-side cache did. A cache shared by several
// stores counts for all of them.
type Cache struct {
	// Hits counts the reads served without a server fetch of their own.
	// A bulk read counts once per key.
	Hits uint64
	// Misses counts the keys fetched from the server by cached reads.
	Misses uint64
	// Invalidations counts the keys the server said had changed.
	Invalidations uint64
	// Evictions counts the entries dropped to keep the cache within its
	// size.
	Evictions uint64
	// Flushes counts the times the whole cache was dropped.
	Flushes uint64
	// Entries is the number of keys cached now (a gauge, not a counter).
	Entries uint64
	// Bytes is what the entries cost now (a gauge, not a counter).
	Bytes uint64
}

// Codec counts the values that a typed layer could not decode or encode.
type Codec struct {
	// DecodeFailures counts the values read that did not decode into the
	// type, or failed its validation.
	DecodeFailures uint64
	// EncodeFailures counts the values that could not be encoded, or
	// failed validation, before a write; nothing was written.
	EncodeFailures uint64
}

// Config counts how a configstore.Store kept its cache and its watchers.
type Config struct {
	// Changes counts the changes the store applied to its cache: a read
	// (after a change event, a resync, or a call) that found another
	// version, another value or a deletion than the cache held.
	Changes uint64
	// Resyncs counts the OpResync events the store acted on, the first of
	// its watch included: each queues every tracked key for a re-read.
	Resyncs uint64
	// Callbacks counts the calls of watchers' callbacks.
	Callbacks uint64
	// CallbackPanics counts the callbacks that panicked; the watcher went
	// on.
	CallbackPanics uint64
}
