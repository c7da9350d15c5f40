// Package storekitotel exports the counters of storekit's stores (package
// github.com/cledar/storekit/metrics) to OpenTelemetry, as observable
// instruments that a meter reads when its reader collects.
//
// It is a module of its own (github.com/cledar/storekit/otel) so that the
// OpenTelemetry API is a dependency of the programs that import it only,
// never of the storekit module.
//
//	reg, err := storekitotel.Register(provider.Meter("storekit"), "sessions", store)
//	...
//	defer reg.Unregister()
//
// # Instruments
//
// Every instrument carries the attribute store, the name given to
// [Register]; a collection reads the store's counters once ([metrics.Source]).
//
//	storekit.operations           counter {call}   op: calls of each operation
//	storekit.errors               counter {call}   op, kind: failed calls by error kind
//	storekit.watch.events         counter {event}  events delivered to watch consumers
//	storekit.watch.resyncs        counter {event}  OpResync events after a watch's first
//	storekit.watch.overflows      counter {event}  events that met a full watch buffer
//	storekit.watch.resubscribes   counter          subscriptions made again
//	storekit.cache.hits           counter {read}   cached reads served without a fetch
//	storekit.cache.misses         counter {key}    keys fetched by cached reads
//	storekit.cache.invalidations  counter {key}    keys the server invalidated
//	storekit.cache.evictions      counter {entry}  entries evicted for room
//	storekit.cache.flushes        counter          times the whole cache was dropped
//	storekit.cache.entries        gauge {entry}    entries cached now
//	storekit.cache.size           gauge By         bytes the entries cost now
//	storekit.codec.decode_failures counter {value} values that did not decode
//	storekit.codec.encode_failures counter {value} values that could not be encoded
//	storekit.config.changes       counter {change} changes applied to a config cache
//	storekit.config.resyncs       counter          resyncs of a config store
//	storekit.config.callbacks     counter {call}   calls of watchers' callbacks
//	storekit.config.callback_panics counter {call} callbacks that panicked
//
// An operation, or an operation and error kind, is reported from its first
// count on; the cache, codec and config instruments only for a store that
// has the section (a cached rueidiskv store, a codec.Store, a
// configstore.Store). The metrics package documents when each counter moves.
package storekitotel
