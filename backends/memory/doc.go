// Package memory is an in-process [kv.Store] with every optional capability of
// package kv: bulk reads and writes, glob iteration, expiry and changes to
// it, watching, histories with pruning and conditional appends, conditional
// writes and counters.
//
// It is the store for unit tests and single-process programs. It keeps the
// same contract as the Redis backends, checked by the same conformance suite:
// the same glob rules as Redis (see [kv.Match]), the same event kinds in the
// same order as Redis keyspace notifications (SetWithTTL reports OpSet then
// OpExpire; an Append that converts a plain value reports OpDelete then
// OpAppend), WRONGTYPE-like errors for a history read as a plain value.
// One difference: a Prune that empties several entries reports one OpSet,
// where Redis reports one per entry.
//
// # Atomic and bulk writes
//
// Each write to one key (SetIfAbsent, CompareAndSwap, CompareAndDelete,
// Incr, AppendIf, Expire, Persist, and the rest) is atomic: it holds the
// key's lock from reading what the key holds to storing what replaces it.
// Counters follow Redis's INCRBY rule exactly (see [kv.ParseCounter]).
//
// SetMulti and DeleteMulti apply the whole call atomically, all or nothing:
// every item is checked before anything is written, and every key changes
// for readers at one instant: once a read has seen one of the changes, every
// later read sees all of them, and a GetMulti sees each bulk write whole or
// not at all. Watchers hear the events once every change is visible. No
// other writer of those keys comes in between, and a bulk write never fails
// part way, so it never returns a [*kv.BulkError]. Reads take no lock for
// this, but for a GetMulti that bulk writes keep overtaking: after a few
// tries it reads under the locks of its keys.
//
// # Expiry
//
// An expired key is invisible at once to every read. It is also freed, and
// watchers receive OpExpired, when its deadline passes: a goroutine started
// with the first TTL sleeps until the next deadline. Time comes from
// [Options.Clock]; a [ManualClock] lets tests expire keys without sleeping:
//
//	clock := memory.NewManualClock(time.Now())
//	s := memory.New(&memory.Options{Clock: clock})
//	s.SetWithTTL(ctx, "session", []byte("x"), time.Minute)
//	clock.Advance(time.Minute) // "session" is gone, watchers hear OpExpired
//
// # Watching
//
// A watch sees every change made through the store. Events are queued per
// watch up to [Options.WatchBuffer]; a watch whose consumer falls further
// behind gets one OpResync in place of the queued events, and the store never
// waits for it.
//
// # Lifetime
//
// Close ends every watch and stops every goroutine the store started; after
// it every call returns an error wrapping [kv.ErrClosed].
package memory
