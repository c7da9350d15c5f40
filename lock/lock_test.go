package lock_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"go.uber.org/goleak"

	"github.com/cledar/storekit/backends/memory"
	"github.com/cledar/storekit/internal/backendtest"
	"github.com/cledar/storekit/kv"
	"github.com/cledar/storekit/lock"
)

func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m)
}

// testContext bounds a test: a hang limit, not a timing assertion.
func testContext(t *testing.T) context.Context {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	t.Cleanup(cancel)
	return ctx
}

// newStore returns a memory store on clock (the system clock if nil),
// closed at the end of the test.
func newStore(t *testing.T, clock memory.Clock) *memory.Store {
	t.Helper()
	s := memory.New(&memory.Options{Clock: clock})
	t.Cleanup(func() { _ = s.Close() })
	return s
}

// newLocker returns a Locker of key in s, failing the test if New fails.
func newLocker(t *testing.T, s kv.Store, key string, ttl time.Duration) *lock.Locker {
	t.Helper()
	l, err := lock.New(s, key, &lock.Options{TTL: ttl})
	if err != nil {
		t.Fatalf("lock.New: %v", err)
	}
	return l
}

// TestLockOnMemory runs the tests every backend runs (one holder at a time
// with growing fences, expiry, context) on one memory store shared by the
// lockers, as by two processes.
func TestLockOnMemory(t *testing.T) {
	s := newStore(t, nil)
	backendtest.CheckLock(t, func(*testing.T) kv.Store { return s })
}

func TestTryLockWhenHeld(t *testing.T) {
	ctx := testContext(t)
	s := newStore(t, nil)
	a, b := newLocker(t, s, "job", time.Minute), newLocker(t, s, "job", time.Minute)
	la, err := a.TryLock(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := b.TryLock(ctx); !errors.Is(err, lock.ErrHeld) || !errors.Is(err, kv.ErrConflict) {
		t.Fatalf("TryLock of a held lock = %v, want lock.ErrHeld (a kv.ErrConflict)", err)
	}
	if err := la.Release(ctx); err != nil {
		t.Fatal(err)
	}
	lb, err := b.TryLock(ctx)
	if err != nil {
		t.Fatalf("TryLock after Release: %v", err)
	}
	if lb.Fence() <= la.Fence() {
		t.Errorf("fences %d then %d, want growing", la.Fence(), lb.Fence())
	}
	if err := la.Release(ctx); !errors.Is(err, lock.ErrLost) {
		t.Errorf("second Release = %v, want lock.ErrLost", err)
	}
	if err := la.Refresh(ctx); !errors.Is(err, lock.ErrLost) {
		t.Errorf("Refresh after Release = %v, want lock.ErrLost", err)
	}
	if err := lb.Refresh(ctx); err != nil {
		t.Errorf("the new holder's Refresh: %v", err)
	}
}

func TestExpiredLeaseIsLost(t *testing.T) {
	ctx := testContext(t)
	clock := memory.NewManualClock(time.Now())
	s := newStore(t, clock)
	old, nu, third := newLocker(t, s, "job", time.Second), newLocker(t, s, "job", time.Second), newLocker(t, s, "job", time.Second)
	lo, err := old.TryLock(ctx)
	if err != nil {
		t.Fatal(err)
	}
	clock.Advance(2 * time.Second)
	ln, err := nu.TryLock(ctx)
	if err != nil {
		t.Fatalf("TryLock after the lease's TTL: %v", err)
	}
	if ln.Fence() <= lo.Fence() {
		t.Errorf("new holder's fence %d, want above the old one's %d", ln.Fence(), lo.Fence())
	}
	if err := lo.Refresh(ctx); !errors.Is(err, lock.ErrLost) {
		t.Errorf("old holder's Refresh = %v, want lock.ErrLost", err)
	}
	if err := lo.Release(ctx); !errors.Is(err, lock.ErrLost) {
		t.Errorf("old holder's Release = %v, want lock.ErrLost", err)
	}
	if _, err := third.TryLock(ctx); !errors.Is(err, lock.ErrHeld) {
		t.Fatalf("TryLock after the old holder's Refresh and Release = %v, want lock.ErrHeld: they must not disturb the new holder", err)
	}
	if err := ln.Release(ctx); err != nil {
		t.Errorf("new holder's Release: %v", err)
	}
}

func TestRefreshExtendsTheLease(t *testing.T) {
	ctx := testContext(t)
	clock := memory.NewManualClock(time.Now())
	s := newStore(t, clock)
	a, b := newLocker(t, s, "job", time.Second), newLocker(t, s, "job", time.Second)
	la, err := a.TryLock(ctx)
	if err != nil {
		t.Fatal(err)
	}
	before := la.Expires()
	clock.Advance(600 * time.Millisecond)
	if err := la.Refresh(ctx); err != nil {
		t.Fatal(err)
	}
	if !la.Expires().After(before) {
		t.Errorf("Expires %v after Refresh, want after %v", la.Expires(), before)
	}
	clock.Advance(600 * time.Millisecond) // 1.2s after acquiring, 0.6s after the refresh
	if _, err := b.TryLock(ctx); !errors.Is(err, lock.ErrHeld) {
		t.Fatalf("TryLock within the refreshed lease = %v, want lock.ErrHeld", err)
	}
	clock.Advance(500 * time.Millisecond)
	if _, err := b.TryLock(ctx); err != nil {
		t.Fatalf("TryLock after the refreshed lease ended: %v", err)
	}
}

func TestLockWaitsForRelease(t *testing.T) {
	ctx := testContext(t)
	s := newStore(t, nil)
	a, b := newLocker(t, s, "job", time.Minute), newLocker(t, s, "job", time.Minute)
	la, err := a.TryLock(ctx)
	if err != nil {
		t.Fatal(err)
	}
	got := make(chan *lock.Lease, 1)
	go func() {
		lb, err := b.Lock(ctx)
		if err != nil {
			t.Error(err)
		}
		got <- lb
	}()
	time.Sleep(20 * time.Millisecond) // let Lock find the lock held (or not: both orders must work)
	if err := la.Release(ctx); err != nil {
		t.Fatal(err)
	}
	lb := <-got
	if lb == nil {
		return
	}
	if lb.Fence() <= la.Fence() {
		t.Errorf("fences %d then %d, want growing", la.Fence(), lb.Fence())
	}
	_ = lb.Release(ctx)
}

func TestLockHonoursContext(t *testing.T) {
	ctx := testContext(t)
	s := newStore(t, nil)
	a, b := newLocker(t, s, "job", time.Minute), newLocker(t, s, "job", time.Minute)
	if _, err := a.TryLock(ctx); err != nil {
		t.Fatal(err)
	}

	short, cancel := context.WithTimeout(ctx, 50*time.Millisecond)
	defer cancel()
	if _, err := b.Lock(short); !errors.Is(err, lock.ErrHeld) || !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("Lock past its deadline = %v, want lock.ErrHeld and context.DeadlineExceeded", err)
	}

	cctx, cancel := context.WithCancel(ctx)
	time.AfterFunc(20*time.Millisecond, cancel)
	if _, err := b.Lock(cctx); !errors.Is(err, context.Canceled) {
		t.Errorf("Lock cancelled = %v, want context.Canceled", err)
	}
}

func TestFailedFenceLeavesTheLockFree(t *testing.T) {
	ctx := testContext(t)
	s := newStore(t, nil)
	if err := s.Set(ctx, "job:fence", []byte("not a number")); err != nil {
		t.Fatal(err)
	}
	l := newLocker(t, s, "job", time.Minute)
	if _, err := l.TryLock(ctx); !errors.Is(err, kv.ErrWrongType) {
		t.Fatalf("TryLock with a broken fence counter = %v, want kv.ErrWrongType", err)
	}
	if _, err := s.Get(ctx, "job"); !errors.Is(err, kv.ErrNotFound) {
		t.Errorf("the lock's key after the failed acquisition: %v, want it gone", err)
	}
}

func TestFenceKey(t *testing.T) {
	ctx := testContext(t)
	s := newStore(t, nil)
	l, err := lock.New(s, "job", &lock.Options{FenceKey: "fences:job"})
	if err != nil {
		t.Fatal(err)
	}
	lease, err := l.TryLock(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if v, err := s.Get(ctx, "fences:job"); err != nil || string(v) != "1" || lease.Fence() != 1 {
		t.Errorf("fence counter %q, %v and Fence %d; want 1", v, err, lease.Fence())
	}
	if ttl, err := s.TTL(ctx, "job"); err != nil || ttl <= 0 || ttl > lock.DefaultTTL {
		t.Errorf("TTL of the lock = %v, %v; want within the default lease %v", ttl, err, lock.DefaultTTL)
	}
}

// plain hides every optional interface of the store it wraps.
type plain struct{ kv.Store }

func TestNewRejects(t *testing.T) {
	s := newStore(t, nil)
	tests := []struct {
		name  string
		store kv.Store
		opts  *lock.Options
		want  error
	}{
		{"PlainStore", plain{s}, nil, kv.ErrNotSupported},
		{"NegativeTTL", s, &lock.Options{TTL: -time.Second}, kv.ErrInvalid},
		{"FenceKeyIsTheKey", s, &lock.Options{FenceKey: "job"}, kv.ErrInvalid},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if _, err := lock.New(tt.store, "job", tt.opts); !errors.Is(err, tt.want) {
				t.Errorf("New = %v, want %v", err, tt.want)
			}
		})
	}
}

// slowFence is a store whose counter answers only after a delay, so that
// a lease can expire while its fencing token is being taken.
type slowFence struct {
	*memory.Store
	delay  time.Duration
	before func() // called before the counter is incremented
}

func (s slowFence) Incr(ctx context.Context, key string, delta int64) (int64, error) {
	time.Sleep(s.delay)
	if s.before != nil {
		s.before()
	}
	return s.Store.Incr(ctx, key, delta)
}

// TestFenceAfterExpiryIsRefused checks that fences follow the order of
// acquisition: a lease that expired, and was taken by another holder,
// while the first holder's fencing token was on its way is not handed out.
func TestFenceAfterExpiryIsRefused(t *testing.T) {
	ctx := testContext(t)
	s := newStore(t, nil)
	const ttl = 50 * time.Millisecond
	other := newLocker(t, s, "job", time.Minute)
	var second *lock.Lease
	slow := slowFence{Store: s, delay: 2 * ttl, before: func() {
		var err error
		if second, err = other.TryLock(ctx); err != nil {
			t.Errorf("TryLock once the first lease expired: %v", err)
		}
	}}
	first := newLocker(t, slow, "job", ttl)
	if _, err := first.TryLock(ctx); !errors.Is(err, lock.ErrHeld) {
		t.Fatalf("TryLock whose lease expired while taking its fence = %v, want ErrHeld", err)
	}
	if second == nil {
		t.Fatal("the other holder did not get the lock")
	}
	if err := second.Release(ctx); err != nil {
		t.Errorf("the other holder's Release: %v", err)
	}
}

// TestSlowFenceConfirms checks that a fencing token that came back after
// the TTL is kept when the store confirms that the lease still holds, and
// that the lease then runs a full TTL from the confirmation.
func TestSlowFenceConfirms(t *testing.T) {
	ctx := testContext(t)
	clock := memory.NewManualClock(time.Unix(1_700_000_000, 0))
	s := newStore(t, clock)
	const ttl = 20 * time.Millisecond
	l := newLocker(t, slowFence{Store: s, delay: 2 * ttl}, "job", ttl)
	start := time.Now()
	lease, err := l.TryLock(ctx)
	if err != nil {
		t.Fatalf("TryLock with a slow counter on a store whose clock stands still: %v", err)
	}
	if exp := lease.Expires(); !exp.After(start.Add(2 * ttl)) {
		t.Errorf("Expires = %v after the start, want more than %v: the lease restarts at the confirmation", exp.Sub(start), 2*ttl)
	}
	if err := lease.Release(ctx); err != nil {
		t.Errorf("Release: %v", err)
	}
}
