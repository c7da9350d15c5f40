package memory

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"time"

	"go.uber.org/goleak"

	"github.com/cledar/storekit/kv"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

var t0 = time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)

// next returns the next event, failing the test if none comes in time.
func next(t *testing.T, ch <-chan kv.Event) kv.Event {
	t.Helper()
	select {
	case e, ok := <-ch:
		if !ok {
			t.Fatal("watch channel closed")
		}
		return e
	case <-time.After(5 * time.Second):
		t.Fatal("no event within 5s")
	}
	return kv.Event{}
}

// newManualStore returns a store whose clock is a ManualClock set to t0; the
// store is closed when the test ends.
func newManualStore(t *testing.T) (*Store, *ManualClock) {
	clock := NewManualClock(t0)
	s := New(&Options{Clock: clock})
	t.Cleanup(func() { s.Close() })
	return s, clock
}

func startWatch(t *testing.T, s *Store, pattern string) <-chan kv.Event {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(cancel)
	ch, err := s.Watch(ctx, pattern)
	if err != nil {
		t.Fatal(err)
	}
	if e := next(t, ch); e.Op != kv.OpResync {
		t.Fatalf("first event %v, want resync", e)
	}
	return ch
}

func TestManualClockExpiresWithoutSleeping(t *testing.T) {
	ctx := context.Background()
	s, clock := newManualStore(t)
	ch := startWatch(t, s, "*")

	if err := s.SetWithTTL(ctx, "k", []byte("v"), time.Second); err != nil {
		t.Fatal(err)
	}
	if e := next(t, ch); e.Op != kv.OpSet {
		t.Fatalf("got %v, want set", e)
	}
	if e := next(t, ch); e.Op != kv.OpExpire {
		t.Fatalf("got %v, want expire", e)
	}
	clock.Advance(999 * time.Millisecond)
	if _, err := s.Get(ctx, "k"); err != nil {
		t.Fatalf("Get 1ms before expiry: %v", err)
	}
	clock.Advance(time.Millisecond)
	if _, err := s.Get(ctx, "k"); !errors.Is(err, kv.ErrNotFound) {
		t.Fatalf("Get at expiry: %v, want ErrNotFound", err)
	}
	if e := next(t, ch); e.Op != kv.OpExpired || e.Key != "k" {
		t.Fatalf("got %v, want expired k", e)
	}
}

func TestExpiryFreesKeysNobodyReads(t *testing.T) {
	ctx := context.Background()
	s, clock := newManualStore(t)
	ch := startWatch(t, s, "*")
	for i := range 3 {
		_ = s.SetWithTTL(ctx, fmt.Sprint(i), nil, time.Duration(i+1)*time.Second)
		next(t, ch)
		next(t, ch)
	}
	clock.Advance(2 * time.Second)
	got := map[string]bool{}
	for range 2 {
		e := next(t, ch)
		if e.Op != kv.OpExpired {
			t.Fatalf("got %v, want expired", e)
		}
		got[e.Key] = true
	}
	if !got["0"] || !got["1"] {
		t.Fatalf("expired %v, want keys 0 and 1", got)
	}
	// Freed, not just hidden: the map no longer holds them.
	for _, k := range []string{"0", "1"} {
		if _, held := s.load(k); held {
			t.Errorf("key %q still held after its expiry event", k)
		}
	}
	if _, err := s.Get(ctx, "2"); err != nil {
		t.Fatalf("key 2 expired early: %v", err)
	}
}

func TestRewriteCancelsExpiry(t *testing.T) {
	ctx := context.Background()
	s, clock := newManualStore(t)
	_ = s.SetWithTTL(ctx, "k", []byte("old"), time.Second)
	_ = s.Set(ctx, "k", []byte("new"))
	clock.Advance(time.Hour)
	v, err := s.Get(ctx, "k")
	if err != nil || string(v) != "new" {
		t.Fatalf("Get = %q, %v; want the rewritten value to survive", v, err)
	}
	if ttl, _ := s.TTL(ctx, "k"); ttl != kv.NoExpiry {
		t.Fatalf("TTL = %v, want NoExpiry", ttl)
	}
}

func TestExpiryHeapStaysBounded(t *testing.T) {
	ctx := context.Background()
	s, _ := newManualStore(t)
	for range 10 * minCompactAt {
		_ = s.SetWithTTL(ctx, "same", nil, time.Hour)
	}
	s.exp.mu.Lock()
	n := len(s.exp.due)
	s.exp.mu.Unlock()
	if n > minCompactAt {
		t.Fatalf("expiry heap holds %d entries for one key, want at most %d", n, minCompactAt)
	}
}

func TestDeleteOfExpiredKeyReportsExpiry(t *testing.T) {
	ctx := context.Background()
	s, clock := newManualStore(t)
	ch := startWatch(t, s, "*")
	_ = s.SetWithTTL(ctx, "k", nil, time.Second)
	next(t, ch) // set
	next(t, ch) // expire
	// Take the clock past the deadline without firing timers: whichever of
	// Delete and the expiry goroutine gets there first frees the key.
	clock.mu.Lock()
	clock.now = clock.now.Add(time.Hour)
	clock.mu.Unlock()
	removed, err := s.Delete(ctx, "k")
	if err != nil || removed {
		t.Fatalf("Delete of an expired key = %v, %v; want false, nil", removed, err)
	}
	if e := next(t, ch); e.Op != kv.OpExpired {
		t.Fatalf("got %v, want expired (as Redis reports a lazily expired key)", e)
	}
}

func TestSlowWatcherGetsResyncAndNeverBlocks(t *testing.T) {
	ctx := context.Background()
	s := New(&Options{WatchBuffer: 8})
	defer s.Close()
	ch := startWatch(t, s, "*")
	done := make(chan struct{})
	go func() {
		defer close(done)
		for i := range 10000 {
			_ = s.Set(ctx, fmt.Sprint(i), nil)
		}
	}()
	select {
	case <-done:
	case <-time.After(30 * time.Second):
		t.Fatal("writes blocked on a watcher that does not read")
	}
	// 10000 events overflowed a buffer of 8: a resync must come within the
	// few events the queue still held.
	for n := 0; ; n++ {
		if n > 2*8+2 {
			t.Fatalf("%d events and no resync: events were dropped silently", n)
		}
		if next(t, ch).Op == kv.OpResync {
			break
		}
	}
	// The watch goes on delivering once the consumer reads again. The
	// resync just read may have come from the batch the queue held while
	// its buffer was full again, so a write can still be replaced by a
	// resync; write until one gets through.
	for try := 0; ; try++ {
		if try == 10 {
			t.Fatal("the watch never delivered a change made after the consumer caught up")
		}
		_ = s.Set(ctx, "after", nil)
		e := next(t, ch)
		for e.Key != "after" && e.Op != kv.OpResync {
			e = next(t, ch)
		}
		if e.Key == "after" {
			return
		}
	}
}

func TestWatchEndsWithContextAndIsForgotten(t *testing.T) {
	s := New(nil)
	defer s.Close()
	ctx, cancel := context.WithCancel(context.Background())
	ch, err := s.Watch(ctx, "*")
	if err != nil {
		t.Fatal(err)
	}
	cancel()
	deadline := time.After(5 * time.Second)
	for open := true; open; {
		select {
		case _, open = <-ch:
		case <-deadline:
			t.Fatal("channel not closed after cancel")
		}
	}
	_ = s.Set(context.Background(), "k", nil) // prunes the ended watch
	if n := s.nwatches.Load(); n != 0 {
		t.Fatalf("%d watches still registered", n)
	}
}

func TestCloseStopsEverything(t *testing.T) {
	ctx := context.Background()
	s := New(nil)
	_ = s.SetWithTTL(ctx, "k", nil, time.Hour) // starts the expiry goroutine
	ch, err := s.Watch(ctx, "*")
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	for range ch {
	}
	goleak.VerifyNone(t)
	if _, err := s.Get(ctx, "k"); !errors.Is(err, kv.ErrClosed) {
		t.Fatalf("Get after Close: %v", err)
	}
}

func TestManualClockTimerStop(t *testing.T) {
	c := NewManualClock(t0)
	tm := c.NewTimer(time.Second)
	if !tm.Stop() {
		t.Fatal("Stop of a pending timer reported false")
	}
	c.Advance(time.Hour)
	select {
	case <-tm.C():
		t.Fatal("stopped timer fired")
	default:
	}
	if tm.Stop() {
		t.Fatal("second Stop reported true")
	}
	fired := c.NewTimer(0)
	select {
	case <-fired.C():
	default:
		t.Fatal("timer of zero duration did not fire at once")
	}
}

// TestPruneReportsOneSet: a Prune that empties entries reports one OpSet,
// one that empties none reports nothing.
func TestPruneReportsOneSet(t *testing.T) {
	ctx := context.Background()
	s := New(nil)
	defer s.Close()
	for _, v := range []string{"v1", "v2", "v3", "v4"} {
		if _, err := s.Append(ctx, "k", []byte(v)); err != nil {
			t.Fatal(err)
		}
	}
	ch := startWatch(t, s, "*")
	if n, err := s.Prune(ctx, "k", 4); n != 3 || err != nil {
		t.Fatalf("Prune(k, 4) = %d, %v; want 3, nil", n, err)
	}
	if n, err := s.Prune(ctx, "k", 4); n != 0 || err != nil {
		t.Fatalf("second Prune(k, 4) = %d, %v; want 0, nil", n, err)
	}
	if n, err := s.Prune(ctx, "missing", 4); n != 0 || err != nil {
		t.Fatalf("Prune(missing, 4) = %d, %v; want 0, nil", n, err)
	}
	if _, err := s.Append(ctx, "k", []byte("v5")); err != nil {
		t.Fatal(err)
	}
	for _, want := range []kv.Op{kv.OpSet, kv.OpAppend} {
		if e := next(t, ch); e.Op != want || e.Key != "k" {
			t.Fatalf("got %v, want %v k", e, want)
		}
	}
}

// TestPruneKeepsExpiry: Prune of a history with an expiry keeps it, and a
// history that has expired is not pruned but freed.
func TestPruneKeepsExpiry(t *testing.T) {
	ctx := context.Background()
	s, clock := newManualStore(t)
	// The kv API gives no history an expiry (Redis can: EXPIRE on the list).
	exp := t0.Add(time.Minute).UnixNano()
	s.data.Store("k", &entry{hist: [][]byte{[]byte("v1"), []byte("v2"), []byte("v3")}, exp: exp})
	if n, err := s.Prune(ctx, "k", 3); n != 2 || err != nil {
		t.Fatalf("Prune(k, 3) = %d, %v; want 2, nil", n, err)
	}
	if e, _ := s.load("k"); e.exp != exp {
		t.Fatalf("expiry after Prune = %d, want %d", e.exp, exp)
	}
	h, err := s.History(ctx, "k")
	if err != nil || len(h) != 3 || len(h[0]) != 0 || len(h[1]) != 0 || string(h[2]) != "v3" {
		t.Fatalf("History after Prune = %q, %v; want [\"\" \"\" v3]", h, err)
	}

	s.data.Store("old", &entry{hist: [][]byte{[]byte("v1"), []byte("v2")}, exp: exp})
	ch := startWatch(t, s, "old")
	clock.Advance(time.Minute)
	if n, err := s.Prune(ctx, "old", 2); n != 0 || err != nil {
		t.Fatalf("Prune of an expired history = %d, %v; want 0, nil", n, err)
	}
	if e := next(t, ch); e.Op != kv.OpExpired || e.Key != "old" {
		t.Fatalf("got %v, want expired old", e)
	}
}
