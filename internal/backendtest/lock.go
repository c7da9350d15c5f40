package backendtest

import (
	"context"
	"errors"
	"runtime"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/cledar/storekit/internal/redistest"
	"github.com/cledar/storekit/kv"
	"github.com/cledar/storekit/lock"
)

// RunLock runs the tests of package lock (see CheckLock) over the stores
// newStore makes over clients of a real Redis server (see redistest.New).
func RunLock(t *testing.T, newStore func(t *testing.T, addr string) kv.Store) {
	srv := redistest.New(t)
	CheckLock(t, func(t *testing.T) kv.Store { return newStore(t, srv.Addr()) })
}

// CheckLock runs the tests of package lock over two stores from newStore,
// as two processes have (the lock must work across clients; newStore may
// return one shared store): one holder at a time with growing fencing
// tokens, a lease that expires and its old holder that can no longer
// refresh or release it, and a Lock that honours its context. A store that
// lock.New refuses fails the test.
func CheckLock(t *testing.T, newStore func(t *testing.T) kv.Store) {
	lockers := func(t *testing.T, key string, ttl time.Duration) (*lock.Locker, *lock.Locker) {
		t.Helper()
		s := newStore(t)
		t.Cleanup(func() { // before the store closes: a shared server keeps no litter
			_, _ = kv.DeleteMulti(context.Background(), s, []string{key, key + ":fence"})
		})
		return newLocker(t, s, key, ttl), newLocker(t, newStore(t), key, ttl)
	}
	t.Run("OneHolderAtATime", func(t *testing.T) {
		a, b := lockers(t, uniqueKey("lock:exclusive"), 30*time.Second)
		lockOneHolderAtATime(t, a, b)
	})
	t.Run("Expiry", func(t *testing.T) {
		a, b := lockers(t, uniqueKey("lock:expiry"), 300*time.Millisecond)
		lockExpiry(t, a, b)
	})
	t.Run("Context", func(t *testing.T) {
		a, b := lockers(t, uniqueKey("lock:context"), 30*time.Second)
		lockContext(t, a, b)
	})
}

// uniqueKey returns prefix followed by a suffix no other test run uses, for
// a server that may be shared.
func uniqueKey(prefix string) string {
	return prefix + ":" + time.Now().Format("150405.000000000")
}

func newLocker(t *testing.T, s kv.Store, key string, ttl time.Duration) *lock.Locker {
	t.Helper()
	l, err := lock.New(s, key, &lock.Options{TTL: ttl})
	if err != nil {
		t.Fatalf("lock.New over %T: %v", s, err)
	}
	return l
}

// lockOneHolderAtATime has workers of two Lockers take turns, and checks that
// no two hold the lock at once (a count incremented in two steps under the
// lock loses nothing) and that fences grow in acquisition order.
func lockOneHolderAtATime(t *testing.T, a, b *lock.Locker) {
	ctx := Context(t)
	const workers, each = 8, 5
	var (
		holders atomic.Int32
		overlap atomic.Bool
		count   int     // guarded by the lock alone
		fences  []int64 // guarded by the lock alone
		wg      sync.WaitGroup
		errs    = make(chan error, workers)
	)
	for i := range workers {
		l := a
		if i%2 == 1 {
			l = b
		}
		wg.Go(func() {
			for range each {
				lease, err := l.Lock(ctx)
				if err != nil {
					errs <- err
					return
				}
				if holders.Add(1) != 1 {
					overlap.Store(true)
				}
				fences = append(fences, lease.Fence())
				n := count
				runtime.Gosched()
				count = n + 1
				holders.Add(-1)
				if err := lease.Release(ctx); err != nil {
					errs <- err
					return
				}
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	if overlap.Load() {
		t.Error("two holders held the lock at once")
	}
	if count != workers*each {
		t.Errorf("count = %d after %d critical sections", count, workers*each)
	}
	if len(fences) != workers*each {
		t.Fatalf("%d acquisitions, want %d", len(fences), workers*each)
	}
	for i := 1; i < len(fences); i++ {
		if fences[i] <= fences[i-1] {
			t.Fatalf("fence %d of acquisition %d is not above the one before, %d", fences[i], i, fences[i-1])
		}
	}
}

// lockExpiry lets a's lease expire on the server, and checks that b then
// takes the lock with a larger fence, and that a can neither refresh nor
// release it.
func lockExpiry(t *testing.T, a, b *lock.Locker) {
	ctx := Context(t)
	la, err := a.TryLock(ctx)
	if err != nil {
		t.Fatal(err)
	}
	var lb *lock.Lease
	Eventually(t, "the lease expires and another holder takes the lock", func() error {
		lb, err = b.TryLock(ctx)
		return err
	})
	if lb.Fence() <= la.Fence() {
		t.Errorf("new holder's fence %d, want above the old one's %d", lb.Fence(), la.Fence())
	}
	if err := la.Refresh(ctx); !errors.Is(err, lock.ErrLost) {
		t.Errorf("old holder's Refresh = %v, want lock.ErrLost", err)
	}
	if err := la.Release(ctx); !errors.Is(err, lock.ErrLost) {
		t.Errorf("old holder's Release = %v, want lock.ErrLost", err)
	}
	if err := lb.Refresh(ctx); err != nil {
		t.Fatalf("new holder's Refresh after the old holder's calls: %v", err)
	}
	if _, err := a.TryLock(ctx); !errors.Is(err, lock.ErrHeld) {
		t.Errorf("TryLock while the new holder holds it = %v, want lock.ErrHeld", err)
	}
	if err := lb.Release(ctx); err != nil {
		t.Errorf("new holder's Release: %v", err)
	}
}

// lockContext checks that Lock of a held lock ends with its context.
func lockContext(t *testing.T, a, b *lock.Locker) {
	ctx := Context(t)
	la, err := a.TryLock(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = la.Release(ctx) }()
	// b's first call dials its connections; made here, with no deadline
	// but the test's, it leaves the one below to the attempts alone.
	if _, err := b.TryLock(ctx); !errors.Is(err, lock.ErrHeld) {
		t.Fatalf("TryLock of a held lock = %v, want lock.ErrHeld", err)
	}
	// The deadline must leave the first attempt time to see the lock held:
	// one that ends the first attempt (a busy machine) ends Lock with that
	// attempt's error alone, and the test tries again with a longer one.
	for d := time.Second; ; d *= 2 {
		short, cancel := context.WithTimeout(ctx, d)
		_, err := b.Lock(short)
		cancel()
		if errors.Is(err, lock.ErrHeld) && errors.Is(err, context.DeadlineExceeded) {
			return
		}
		if !errors.Is(err, context.DeadlineExceeded) || d >= 8*time.Second {
			t.Fatalf("Lock past a deadline of %v = %v, want lock.ErrHeld and context.DeadlineExceeded", d, err)
		}
		t.Logf("Lock past a deadline of %v = %v: its first attempt did not end in time", d, err)
	}
}
