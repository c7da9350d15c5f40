// Package memory is an in-process [kv.Store] with every optional capability of
// package kv: bulk reads, glob iteration, expiry, watching, and histories
// with pruning.
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
