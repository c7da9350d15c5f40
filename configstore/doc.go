// Package configstore keeps typed, versioned configuration in any kv.Store
// that has history and change notifications (kv.Historian and kv.Watcher):
// the in-memory store for tests, and Redis through backends/goredis or
// backends/rueidiskv. It is the Go counterpart of the Python original's
// RedisConfigStore, and shares its data with it.
//
//	cfgs, err := configstore.New[Flags](ctx, store, &configstore.Options[Flags]{Prefix: "config:"})
//	defer cfgs.Close()
//	version, err := cfgs.Update(ctx, "flags", Flags{Beta: true}) // appends version 1, 2, ...
//	flags, version, err := cfgs.Fetch(ctx, "flags")               // from the local cache after the first read
//	stop, err := cfgs.Watch(ctx, "flags", func(ev configstore.Event[Flags]) { ... })
//	flags, version, ok := cfgs.Latest("flags")                     // never blocks, never fails
//
// A Store holds one type of value; several Stores, of different types or
// prefixes, may share one kv.Store.
//
// # Versions and the data layout
//
// Every Update appends a version to the key's history; the latest version is
// the number of versions. On Redis a history is the Python store's list: one
// list per key (prefix + key), RPUSH to add, the newest entry last, version =
// LLEN. A key holding a plain string (written with SET by anyone) counts as
// version 1, and the next Update converts it into a list atomically, so it
// becomes version 2. Values are encoded by a codec.Codec, by default
// codec.JSON, which writes what Python's json.dumps writes, so a Python
// service and a Go service can read and update the same configuration.
//
// An Update whose value is the same as the latest version's writes nothing
// and returns that version. Same means what the values hold, not their
// bytes, so that a Go service updating a configuration a Python service
// wrote, with the value it read, adds no version: with codec.JSON (any
// codec implementing codec.Comparer), the two encodings are compared as
// Python's json.loads reads them. Objects are unordered (a Python dict's
// keys in insertion order equal Go's sorted ones), strings compare by their
// characters whatever the escapes, and numbers by exact value, an integer
// never equal to a float: 1 and 1.0 differ, because Python reads one as an
// int and the other as a float and a reader would see the change; so do 0.0
// and -0.0, while NaN equals NaN. Values codec.JSON stores on their own (a
// string, a number) and those of a codec that does not implement
// codec.Comparer compare as bytes.
//
// With Options.HistoryLimit set to N, each Update empties (kv.Pruner) the
// values of the versions older than the newest N, without removing them:
// on Redis the list keeps its length, with an empty string in place of each
// pruned value, so that versions keep growing by one per update for both
// this package and the Python store (which reads only the last element and
// LLEN). At reports ErrPruned for an emptied version, and History leaves it
// out. The list then grows by a few bytes per update rather than by a value.
//
// # Optimistic updates
//
// Update appends a version whatever the latest one is. To change a value
// from what it holds without losing another writer's change, use UpdateIf,
// which appends only if the latest version is the one expected and
// otherwise fails with an error wrapping kv.ErrConflict that carries the
// latest version (a *kv.VersionConflict), or Modify, which fetches the
// latest value, calls a function with it, and writes the result with
// UpdateIf, starting again on a conflict until it succeeds or its context
// ends:
//
//	flags, version, err := cfgs.Modify(ctx, "flags", func(old Flags, version int64, found bool) (Flags, error) {
//		old.Beta = true
//		return old, nil
//	})
//
// The check and the append are one atomic step on the backend
// (kv.ConditionalHistorian, which all three backends implement), so they
// hold against writers in other processes too, the Python store included.
// They keep everything Update does: validation, the skip of an identical
// value, the cache, and HistoryLimit.
//
// # Cache and change notifications
//
// Fetch reads a key from the backend once, then answers from a local cache.
// The Store watches every key under its prefix; a change notification is
// only a hint: the Store re-reads the key's latest value and version (in a
// pool of Options.Readers goroutines, off the notification path) and
// updates the cache. An Update, Delete or Version through the Store updates
// the cache with what it wrote or read, so a Fetch that follows sees it.
// A deleted or expired key leaves the cache.
//
// While the backend is unreachable, Fetch keeps answering from the cache
// with what it held when the connection dropped, and Latest keeps its value;
// the calls that need the server (Update, Delete, Version, At, History, a
// Fetch of a key not cached) fail with errors wrapping kv.ErrUnavailable.
// The changes made meanwhile arrive with the resync that follows the
// reconnection.
//
// All I/O for one key is done one call at a time and applied in order, so
// the cache never goes back to an older state than one it has shown.
//
// # Watchers
//
// Store.Watch registers a callback for a key. It is called when, and only
// when, a re-read finds that the key's latest state differs from the one
// before: a new version, an in-place rewrite of the latest version, a
// removal or expiry, or a latest value that cannot be decoded. Whoever made
// the change (this Store, another process, redis-cli) makes no difference.
// Each watcher's calls come in order and one at a time, from a goroutine of
// the watcher's own (two watchers of one key may run at the same time); a
// slow callback delays nothing else, and skips to the latest state rather
// than queueing every intermediate one. A panic in a
// callback is recovered and logged.
//
// # Resyncs: what "never misses a change" means
//
// The backend's watch sends a resync whenever events may have been lost:
// when the subscription is re-established after a dropped connection or a
// server restart, and when the Store fell behind and buffered events were
// dropped. On every resync the Store re-reads every key it caches or
// watches, and calls back for each one whose state differs from the one it
// held before. So a watcher may skip intermediate versions, but it always
// ends at the key's final state, within the time the backend takes to
// notice and re-subscribe (on Redis, about a second after a dropped
// connection) and the re-reads take.
//
// The re-reads go in batches when the backend reads many keys at once
// (kv.MultiLatest: a few hundred keys per round trip on Redis, per hash
// slot on a cluster), and in order of urgency: keys announced by change
// events first, then watched keys, then the rest of the cache. Until a key
// is read again after a resync, Fetch does not answer from the cache, which
// may miss a change made while events were lost: it reads the key from the
// backend.
//
// When the backend reports that it cannot guarantee delivery at all (a Redis
// server restarted without the notify-keyspace-events classes the watch
// needs), every watcher receives a Failed event whose error matches
// ErrStale, and Fetch reads from the backend instead of the cache until a
// resync reports delivery restored. Then every watcher receives its key's
// state as re-read (Updated, Deleted or Failed), whether it changed or not,
// so that a Failed event with ErrStale is always followed by a current
// state. New refuses to start on a server without those classes, with an
// error that names them.
//
// # Sharing keys with a Python service
//
// A Store and the Python RedisConfigStore read and write the same keys: a
// list per key, prefix + key, the newest version last, each version
// json.dumps of the dataclass. codec.JSON writes those bytes exactly, given
// Go types that match the Python fields (float64 for a float, any or
// map[string]any for an untyped value, whose numbers are then json.Numbers
// that keep their text), but for the order of a dict's keys: a Go map's are
// written sorted (see package codec). Give both sides the same Redis keys
// and database, and enable the notify-keyspace-events classes both need
// ("KA").
//
// The Python store must be given no prefix. With a prefix it never sees
// another writer's changes: on a keyspace event it adds its prefix a second
// time, to a key that already has it, so it reads a key that does not exist.
// With the prefix "cfg:", after a Go Update of "flags", its callbacks are
// called with an empty value instead of the new one, and its cache keeps the
// old version for good (it files the new, empty, value under "cfg:flags",
// not under "flags", with version -1). Its own updates still reach its
// cache, so the fault shows only when another process, such as this one,
// writes. That is the Python store's bug, not this package's. The
// workaround is to leave the Python store without a prefix and to put the
// prefix in its key names, which reads and watches the very same Redis
// keys:
//
//	store = RedisConfigStore(redis)                 # Python: no prefix
//	flags = store.fetch(Flags, "cfg:flags")         # the key "cfg:flags"
//
//	cfgs, err := configstore.New[Flags](ctx, s, &configstore.Options[Flags]{Prefix: "cfg:"})
//	flags, version, err := cfgs.Fetch(ctx, "flags") // the key "cfg:flags"
//
// Events reported to a Python callback then carry the full key, "cfg:flags",
// which is the name it watches.
//
// # Differences from the Python store
//
// The Python RedisConfigStore has known faults, all fixed here:
//   - its "identical value, skip the write" check could never succeed, so
//     every update wrote a version; here a value identical to the latest
//     one, as json.loads reads them, writes nothing;
//   - a del event for a key it did not cache raised KeyError in the watcher
//     thread and killed it; here deletions and expiries of any key are
//     handled, and a callback's panic is recovered;
//   - the prefix was added twice in event handling and in fallback lookups
//     (see above for what that does and the workaround on the Python side);
//     here it is added once, in one place, and events report keys without it;
//   - expired keys stayed in the cache forever; here they leave it;
//   - the watcher thread could not be stopped; here Watch returns a stop
//     function and Close ends everything;
//   - one pub/sub connection was used from two threads without a lock; here
//     the backend's watch owns its connection and the Store guards its state;
//   - its README's notify-keyspace-events setting "Ex" delivers none of the
//     events it needs ("KA", or at least "Kg$lx", is needed); here New checks
//     the setting and fails with a clear error when classes are missing;
//   - delete() started watching the deleted key; here Delete watches nothing.
//
// Other differences: Fetch of a missing key is an error wrapping
// kv.ErrNotFound rather than None; decoding errors are codec's typed errors;
// Version of a key of another Redis type is an error wrapping
// kv.ErrWrongType rather than 0; events carry the decoded value and version,
// not the raw string; callbacks receive changes found by re-reading, not
// every raw Redis event.
package configstore
