// Package kv defines the key/value contract that every storekit backend keeps:
// a small required interface, [Store], and optional capabilities that a store
// may add and callers discover with a type assertion.
//
// Application code holds a kv.Store built by a backend package
// (backends/memory, backends/goredis, backends/rueidiskv) and uses the helpers
// here, which take the fast path when a store has one and fall back when it
// does not. Typed values live in package codec; versioned configuration in
// package configstore.
//
// # Capabilities
//
//	Store                Get, Set, Delete (reports removal), Close         required
//	MultiGetter          GetMulti: ordered bulk read, misses marked        fallback: GetMulti loops over Get
//	Scanner              Scan: keys by Redis glob, SCAN semantics          no fallback: Keys reports ErrNotSupported
//	Expirer              SetWithTTL, TTL                                   no fallback
//	ExpiryChanger        Expire, Persist, GetWithTTL                       no fallback
//	Watcher              Watch: change events with explicit resyncs        no fallback
//	Historian            Append, Latest, At, History: versioned values     no fallback
//	MultiLatest          LatestMulti: latest entries of many keys at once  fallback: LatestMulti loops over Latest
//	Pruner               Prune: empty old versions, keep the numbers       no fallback
//	ConditionalHistorian AppendIf: append only at an expected version      no fallback
//	Conditional          SetIfAbsent, CompareAndSwap, CompareAndDelete     no fallback; Update builds on it
//	Counter              Incr: atomic add to a decimal integer             no fallback
//	BulkWriter           SetMulti, DeleteMulti: many keys in few trips     fallback: SetMulti, DeleteMulti loop
//
// # Rules
//
// These are the rules of the contract. Package conformance checks each of
// them against any store: run conformance.Run from a backend's tests.
//
// Basics:
//   - Get of a missing key returns an error wrapping [ErrNotFound]; its text
//     quotes at most a few hundred bytes of the key, however long the key.
//   - Set then Get returns the value; a second Set replaces it.
//   - Delete reports true when it removed a key and false when the key was
//     missing; after it, Get reports ErrNotFound.
//   - Values are copied in and out: changing a slice passed to Set or
//     SetMulti, or returned by Get, never changes what the store holds,
//     even once a call that its context cut short has returned.
//
// Binary safety:
//   - Keys may be empty and may hold NUL, invalid UTF-8, spaces, newlines and
//     glob characters; values may be empty (Get returns a non-nil empty
//     slice, not ErrNotFound), hold any bytes, and be at least 8 MiB.
//
// Bulk reads ([MultiGetter], and the [GetMulti] helper):
//   - one result per key, in order, duplicates kept; missing keys have Found
//     false; 10,000 keys in one call work; an empty key list gives an empty
//     result; the fast path and the fallback agree.
//
// Iteration ([Scanner], and the [Keys] helper):
//   - after removing duplicates, Scan yields exactly the live keys that match
//     the pattern: never a deleted or expired key, never a key that does not
//     match; patterns follow [Match] ('*', '?', sets, ranges, negation,
//     escapes), and [EscapePattern] makes a pattern that matches one key only.
//
// Expiry ([Expirer]):
//   - an expired key is invisible to Get, GetMulti and Scan; until then it is
//     visible; TTL reports a positive duration no longer than the one set
//     (rounded up to the backend's precision),
//     [NoExpiry] for a key without expiry, and ErrNotFound for a missing key;
//     Set removes an expiry; a TTL of zero or less is rejected with
//     [ErrInvalid] and writes nothing.
//
// Watching ([Watcher]):
//   - when Watch returns, the watch is live: the first event is an
//     [OpResync], and every later change to a matching key is reported: Set
//     as [OpSet]; Delete of an existing key as [OpDelete] (of a missing key,
//     nothing); SetWithTTL as OpSet followed by [OpExpire]; a key's expiry as
//     [OpExpired], once the backend frees it; Append as [OpAppend], and an
//     Append that converts a plain value as OpDelete then one OpAppend;
//   - events for one key arrive in order; a key that does not match the
//     pattern is not reported, and an escaped pattern reports only its key;
//   - once a watcher has received the event for a change, a read through
//     the same store returns that change or a newer one (a client-side cache
//     must not lag its own store's notifications), so a consumer that
//     re-reads a key on each of its events, and everything on OpResync, ends
//     at the key's final value;
//   - a slow consumer never blocks the store and is told with an OpResync
//     when events were dropped;
//   - the channel is closed when the watch's context ends or the store is
//     closed.
//
// History ([Historian]):
//   - Append returns versions 1, 2, 3, ...; Latest returns the newest value
//     and its version; At(n) returns version n, ErrNotFound beyond the end and
//     ErrInvalid below 1; History returns all entries oldest first; Append on
//     a plain value converts it atomically into version 1; Get of a history
//     reports [ErrWrongType]; Delete removes a history.
//
// Batched latest-reads ([MultiLatest], and the [LatestMulti] helper):
//   - one result per key, in order, duplicates kept, each what Latest
//     returns for its key: the newest entry and its version (a plain value
//     as version 1), Found false for a missing key; 1,000 keys in one call
//     work; an empty key list gives an empty result; the fast path and the
//     fallback agree.
//
// Pruning ([Pruner]):
//   - Prune(key, before) empties the entries below version before, never the
//     newest, stopping at the first entry already empty, and reports how many
//     it emptied; versions, Latest and the length of History are unchanged; a
//     missing key or a plain value is left alone; before below 1 is ErrInvalid;
//     watchers hear one or more OpSet when entries were emptied, and nothing
//     when none was.
//
// Conditional writes ([Conditional], and the [Update] helper):
//   - SetIfAbsent writes only when the key does not exist, and reports
//     whether it did: a plain value or a history exists, an expired key does
//     not; a positive TTL gives the new key that expiry, zero none; a
//     negative TTL is [ErrInvalid] and writes nothing; of many concurrent
//     SetIfAbsent calls on one missing key exactly one wins;
//   - CompareAndSwap replaces a plain value only when it equals old byte for
//     byte (an empty value is not a missing key), and reports whether it
//     did; a missing key reports false and a history [ErrWrongType];
//     [KeepTTL] keeps the key's expiry, a positive TTL sets a new one, a
//     negative TTL is ErrInvalid and writes nothing; the compare and the
//     swap are one step, so writers that each loop on read then
//     CompareAndSwap lose no update;
//   - CompareAndDelete deletes a plain value only when it equals old, and
//     reports whether it did; a missing key reports false and a history
//     ErrWrongType;
//   - watchers hear what Set (or SetWithTTL) makes them hear when a
//     conditional write happened, OpDelete when CompareAndDelete deleted,
//     and nothing when a condition failed;
//   - Update calls its function with the value found (or found false) and
//     writes the result only if the key still holds what was read, retrying
//     otherwise: concurrent Updates that each add one to a counter end at
//     the exact sum; a result equal to the value found writes nothing.
//
// Counters ([Counter]):
//   - Incr adds delta to the decimal integer at the key and returns the
//     sum; a missing key counts as 0; the value stays decimal text that Get
//     returns ("42", "-7"); the key's expiry is kept;
//   - only the text Redis writes is a counter: an optional '-' and digits,
//     no '+', spaces or leading zeros, "-0" not allowed, within int64; any
//     other value ("+1", "01", " 1", "1.5", "abc", "9223372036854775808"),
//     and a history, is ErrWrongType; a sum beyond int64 is ErrInvalid; on
//     an error the value is unchanged;
//   - concurrent Incr calls lose no update and return distinct sums;
//     watchers hear OpSet for each Incr that wrote.
//
// Expiry changes ([ExpiryChanger]):
//   - Expire gives an existing key, plain value or history, a new expiry
//     and reports true; a missing or expired key reports false and is not
//     created; a TTL of zero or less is ErrInvalid and changes nothing;
//     watchers hear OpExpire when the key exists;
//   - Persist removes an expiry and reports whether the key exists, whether
//     or not it had an expiry; TTL then reports [NoExpiry]; watchers hear
//     OpOther when an expiry was removed, and nothing otherwise;
//   - GetWithTTL returns the value and the time it has left (NoExpiry if
//     none), as Get and TTL would at one instant: ErrNotFound for a missing
//     key, ErrWrongType for a history.
//
// Bulk writes ([BulkWriter], and the [SetMulti] and [DeleteMulti] helpers):
//   - SetMulti stores every item as Set or SetWithTTL would (replacing a
//     history, removing or setting an expiry); when a key appears more than
//     once the last item wins; an item with a negative TTL is ErrInvalid
//     before anything is written; 1,000 items in one call work, and an empty
//     list is no error;
//   - a key listed more than once is written once, with its last item, and
//     watchers hear its events once, as for that item;
//   - DeleteMulti removes every listed key that exists and returns how many
//     it removed, a key listed twice counted once;
//   - watchers hear each key's events as for Set, SetWithTTL and Delete;
//   - the helpers give the same results on the fast path and on the
//     fallback.
//
// Conditional appends ([ConditionalHistorian]):
//   - AppendIf appends only when the latest version is the one expected (0:
//     the key does not exist; a plain value is version 1 and is converted as
//     Append converts it) and returns expect+1;
//   - otherwise it writes nothing and returns an error wrapping
//     [ErrConflict] that is a [*VersionConflict] holding the latest version
//     (0 for a missing key) as the call found it, when it decided: never
//     the version expected, however other writers move the key meanwhile;
//     a negative expect is ErrInvalid;
//   - of many concurrent AppendIf calls at one version exactly one wins;
//     watchers hear what Append makes them hear when it appended, and
//     nothing otherwise.
//
// Context and concurrency:
//   - every method may be called from many goroutines at once;
//   - a Get that starts after a Set of the key returned never returns a
//     value that Set replaced, however many goroutines read and write the
//     key meanwhile: a store that caches reads, or shares one read among
//     callers, never serves a read begun before that Set;
//   - the same holds for bulk calls: a GetMulti that starts after a
//     SetMulti returned never returns, for one of its keys, a value that
//     SetMulti replaced, and each bulk call gets its own results, however
//     many goroutines make bulk calls at once (a store that batches or
//     shares concurrent bulk calls must keep both);
//   - a call made with a context that is already cancelled or past its
//     deadline returns an error wrapping the context's error and writes
//     nothing.
//
// Close:
//   - Close is idempotent; after it every method returns an error wrapping
//     [ErrClosed], and every watch channel is closed.
//
// # Errors
//
// Errors are tested with [errors.Is] against the sentinels [ErrNotFound],
// [ErrUnavailable], [ErrPermission], [ErrFull], [ErrClosed],
// [ErrNotSupported], [ErrConflict], [ErrWrongType] and [ErrInvalid]. A
// backend wraps its native error too, so [errors.As] reaches it. An error
// that matches no sentinel is an operation error: the backend rejected the
// request. [Retryable] tells the errors that a later retry may cure
// (unavailable, full) from those that need a change first.
//
// Errors never hold values or passwords. They may hold keys, quoted with
// [QuoteKey], which cuts a long key: an error's text stays short whatever
// the key.
//
// # Faults and failovers
//
// What a caller can rely on when a server or the network fails. The
// linearizability tests of module robustness check these promises on
// every backend, with concurrent clients, while the faults named are
// injected.
//
//   - Linearizable calls. On one server (a Redis server, each master of a
//     Redis Cluster for the keys it serves, PostgreSQL), every call that
//     returns without error took effect once, at one instant between its
//     start and its return, and the calls of all clients on a key are
//     consistent with one order of those instants: Get returns the last
//     value written, a conditional write or Incr sees every write before it.
//     This holds while connections are cut or black-holed, while the server
//     is paused, across a kill and restart of a Redis server that keeps
//     every acknowledged write (appendfsync always), and across
//     pg_terminate_backend of the store's connections.
//   - Unknown outcomes. A call that fails with [ErrUnavailable], a context
//     error, or any error that is not the documented answer of its method
//     ([ErrNotFound] from Get, [ErrConflict] from AppendIf, ...) may or may
//     not have taken effect, and may still take effect a moment after it
//     returned, when its request was already on its way to a server that
//     stalled. Re-reading tells; blindly retrying a write that is not
//     idempotent (Incr, Append) may apply it twice. The goredis backend's
//     client re-sends a command whose connection broke before the reply
//     came (go-redis's MaxRetries), which the server may have run already:
//     any write may then take effect twice, the second time after other
//     clients' writes of the key, and a conditional write report false
//     after it took effect (the tests saw each when connections were cut:
//     an Incr that added 2, a CompareAndDelete that deleted and reported
//     false, a Set whose value another client read and replaced, and
//     which came back after). A client with MaxRetries -1 never re-sends.
//     rueidiskv never re-sends writes.
//   - Client-side caching. Reads through rueidiskv's cache are linearizable
//     with the writes of the same store. Another client's write reaches
//     them when its invalidation arrives, so such a read may return a value
//     that another client replaced a moment before: typically within a
//     millisecond, never a guaranteed bound (the tests allow a second,
//     reliability target R3).
//   - Lost writes. Redis replication is asynchronous: a failover that
//     promotes a replica without waiting for it (a master killed and
//     replaced, any Sentinel failover, which leaves the old master
//     accepting writes until the sentinels reconfigure it) may lose writes
//     acknowledged before it, and while it runs clients may reach the old
//     master or the new one. No storekit backend hides that. What holds:
//     during the failover a key may go back, once, to a value it held
//     before (or to missing), never to a value that no client wrote; once
//     the failover has ended and clients have reached the new master,
//     calls are linearizable again from that state. A counter may so go
//     back and hand out sums it handed out before, and a lock may be held
//     twice and give out a fencing token again (see package lock). A Redis
//     server that keeps no data on disk and is killed and restarted loses
//     every key, which is the same loss. Use PostgreSQL, or Redis's WAIT
//     outside storekit, where acknowledged writes must survive.
//   - A graceful Redis Cluster failover (CLUSTER FAILOVER, in which the
//     master stops writes until its replica has caught up) is promised no
//     more than the other failovers. Redis is not known to lose writes in
//     one, yet the tests have recorded histories across one, on rueidiskv
//     with and without its cache, that no order of the calls explains:
//     writes acknowledged as it began were missing after it, and a lock
//     was taken by two leases at once. Until that is explained, plan for
//     it as for a failover that may lose writes.
//
// # Writing a backend
//
// Implement Store, then whichever optional interfaces the backend can keep,
// and run conformance.Run(t, newStore) from the backend's tests: it runs every
// rule above that applies to the capabilities the store has and names the
// interface behind each case it skips. Nothing in the contract may assume a
// single Redis node: keys of one bulk read may live in different cluster
// slots, and Scan and Watch must cover every master.
package kv
