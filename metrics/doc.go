// Package metrics holds the counters of storekit's stores, and the types
// that read them: what each store did, readable with a method call and
// nothing else, to log, to test, or to hand to a monitoring system.
//
// The package needs nothing beyond package kv and the standard library, so
// every backend and layer counts with it and the module stays light; the
// OpenTelemetry exporter lives in a module of its own
// (github.com/cledar/storekit/otel), for the programs that want it. The
// counters are types here rather than in package kv because kv is the
// contract a backend keeps, and counting is not part of the contract: a
// store without counters is still a kv.Store.
//
// # Reading the counters
//
// Every storekit store implements [Source]: memory.Store, goredis.Store,
// rueidiskv.Store, postgres.Store, codec.Store and configstore.Store.
// Metrics returns a [Snapshot] of counters that only grow, from zero when
// the store was made; subtract two snapshots for what happened in between.
// [Of] reads any value that may be a Source:
//
//	if snap, ok := metrics.Of(store); ok {
//		log.Printf("gets: %d, unavailable: %d", snap.Ops[metrics.OpGet], snap.ErrorsOf(metrics.KindUnavailable))
//	}
//
// A codec.Store or configstore.Store reports the counters of the kv.Store
// under it, with its own sections added; every layer over one kv.Store
// shares that store's counters.
//
// # What each counter means and when it moves
//
//	Ops[op]             a call of op (see [Op]: one per kv method), when it returns,
//	                    failed or not; a Scan when its iteration ends; a Get served
//	                    from a client-side cache counts as a Get
//	Errors[op][kind]    a call of op that returned an error of kind (see [Kind]),
//	                    classified by the kv sentinel it wraps ([KindOf]); a missing
//	                    key (kv.ErrNotFound) is no failure, nor is a conditional
//	                    write that reports false; a failed AppendIf is a conflict
//	Watch.Events        an event sent on a watch's channel, OpResync included
//	Watch.Resyncs       an OpResync sent after a watch's first event: an overflow,
//	                    a lost or moved subscription, a change of the server's
//	                    notification setting
//	Watch.Overflows     an event that came while a watch's buffer (WatchBuffer) was
//	                    full: the queued events were replaced by one OpResync
//	Watch.Resubscribes  a Redis watch subscribed again after losing its connection,
//	                    or its client library did so by itself
//	Cache.Hits          a cached read served without a server fetch of its own
//	                    (rueidiskv; a bulk read counts per key)
//	Cache.Misses        a key a cached read fetched from the server
//	Cache.Invalidations a key the server said had changed
//	Cache.Evictions     an entry dropped to keep the cache within its size
//	Cache.Flushes       the whole cache dropped (a lost connection, FLUSHALL)
//	Cache.Entries/Bytes what the cache holds now: gauges, not counters
//	Codec.DecodeFailures a value read that did not decode into the type or failed
//	                    its validation (codec.Store: each Get, GetMulti result or
//	                    Update that met it; configstore.Store: each decode, on a
//	                    read, a re-read or a watcher's event)
//	Codec.EncodeFailures a value that could not be encoded before a write, which
//	                    was then not made
//	Config.Changes      a read of a key the config store held that found another
//	                    state (a new version, another value, a deletion), after a
//	                    change event, a resync or a call
//	Config.Resyncs      every tracked key queued for a re-read: on each OpResync of
//	                    the store's watch, its first included, and when the watch
//	                    ended
//	Config.Callbacks    a call of a watcher's callback
//	Config.CallbackPanics a callback that panicked (the watcher went on)
//
// A cache shared by several rueidiskv stores counts for all of them; the
// other counters belong to one store.
//
// # Cost
//
// A backend keeps a [Counters] and defers [Counters.Done] in each method:
// one atomic add per call (each operation's counter on a cache line of its
// own), and on failure a test of the error and one more add; nothing is
// locked or allocated. Metrics reads every counter and allocates only the
// sections it returns.
package metrics
