// Package lock is a lease lock over any kv.Store that has conditional
// writes, counters and expiries (kv.Conditional, kv.Counter, kv.Expirer):
// every storekit backend. It needs nothing else from the store, so a lock
// taken through one backend is seen by every other client of the same data.
//
//	l, err := lock.New(store, "jobs:nightly", &lock.Options{TTL: 30 * time.Second})
//	lease, err := l.Lock(ctx)          // waits until the lock is free or ctx ends
//	defer lease.Release(ctx)
//	err = resource.Write(data, lease.Fence()) // the resource refuses an older fence
//
// # How it works
//
// The lock is one key. Taking it is SetIfAbsent(key, token, TTL), where the
// token is random and names this holder; the key then expires after the TTL
// unless the holder refreshes it. Refresh is CompareAndSwap(key, token,
// token, TTL), which extends the lease only while the key still holds the
// holder's token; Release is CompareAndDelete(key, token), which removes
// only the holder's own lock. Either reports [ErrLost] when the key holds
// another token or none: the lease expired, and perhaps another holder took
// the lock.
//
// Every successful acquisition also increments a counter, by default the key
// with ":fence" appended, and hands the holder its new value: the fencing
// token, [Lease.Fence]. The increment is made while the lease is held, so
// fencing tokens grow in the order holders acquired the lock: when the
// counter answers within the TTL of the moment the acquire was sent, the
// local clock shows it; otherwise a CompareAndSwap confirms the lock with
// the store (an acquisition takes three round trips, four on that slow path,
// and a release one).
//
// # What it guarantees, and what it does not
//
// A lock is a lease: it is yours until its TTL runs out, and no longer. The
// holder must finish its work, or Refresh, before then; [Lease.Expires] is
// a conservative local deadline. If the holder pauses (a long garbage
// collection, a stopped VM, a slow network) past the TTL, the key expires,
// another process takes the lock, and the first holder may go on writing,
// believing itself still the holder. Mutual exclusion therefore holds only
// while the holder's pauses stay shorter than the TTL and the clocks of the
// holder and the store run at about the same rate.
//
// On a single Redis primary that is all: the server applies each command
// atomically, so two holders never hold one key at the same instant as the
// server sees it. Redis replication, however, is asynchronous: after a
// failover, the promoted replica may not have received the write that took
// the lock, so the lock is lost without anyone releasing it and a second
// process can take it while the first still believes it holds it. Two
// holders can then exist at once. This package is not Redlock and makes no
// claim to survive failovers.
//
// The fencing token is what makes those cases safe: the resource the lock
// protects (a database row, a file store, another service) records the
// highest fence it has seen and refuses a write that carries a lower one. A
// holder that lost its lock then cannot overwrite the work of the holder
// that replaced it. Use the lock alone for efficiency (to avoid doing work
// twice), and the fence wherever a second holder would do harm.
//
// The fence counter lives in the store as an ordinary key without expiry.
// A failover can lose its latest increments too; a resource that keeps the
// highest fence it has seen still refuses the repeated numbers, at the cost
// of refusing a legitimate holder until the counter passes them.
package lock
