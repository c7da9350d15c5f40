package backendtest

import (
	"fmt"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/cledar/storekit/kv"
)

// Sizes of the races: goroutines, and increments each.
const (
	raceWriters    = 8
	raceIncrements = 100
)

// increment is the fn of kv.Update that adds one to a decimal counter.
func increment(old []byte, found bool) ([]byte, error) {
	n := 0
	if found {
		var err error
		if n, err = strconv.Atoi(string(old)); err != nil {
			return nil, err
		}
	}
	return []byte(strconv.Itoa(n + 1)), nil
}

// updates runs writers goroutines that each add one to key times times
// with kv.Update through s, and fails the test on any error.
func updates(t *testing.T, s kv.Store, key string, writers, times int) {
	t.Helper()
	ctx := Context(t)
	var wg sync.WaitGroup
	errs := make(chan error, writers)
	for range writers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for range times {
				if _, err := kv.Update(ctx, s, key, increment); err != nil {
					errs <- err
					return
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Errorf("Update(%q): %v", key, err)
	}
}

// checkCASRace: 8 goroutines adding 100 each with kv.Update (GET, then
// SetIfAbsent or CompareAndSwap, again on a conflict) end at exactly 800,
// on a key of every master.
func checkCASRace(t *testing.T, e atomicEnv) {
	s := e.store(t)
	for _, k := range e.keys("race:") {
		updates(t, s, k, raceWriters, raceIncrements)
		wantValue(t, s, k, strconv.Itoa(raceWriters*raceIncrements))
	}
}

// checkSetIfAbsentRace: of 8 goroutines, each on a store of its own,
// calling SetIfAbsent on one missing key at once, exactly one wins, and
// the key holds its value; 20 times.
func checkSetIfAbsentRace(t *testing.T, e atomicEnv) {
	stores := make([]kv.Conditional, raceWriters)
	for i := range stores {
		stores[i] = as[kv.Conditional](t, e.store(t))
	}
	s := e.store(t)
	ctx := Context(t)
	for round := range 20 {
		key := fmt.Sprintf("sia:%d", round)
		var (
			wg      sync.WaitGroup
			start   = make(chan struct{})
			winners atomic.Int32
			winner  atomic.Value
		)
		for i, c := range stores {
			wg.Add(1)
			go func() {
				defer wg.Done()
				<-start
				ok, err := c.SetIfAbsent(ctx, key, []byte(strconv.Itoa(i)), 0)
				if err != nil {
					t.Errorf("SetIfAbsent(%q): %v", key, err)
				}
				if ok {
					winners.Add(1)
					winner.Store(strconv.Itoa(i))
				}
			}()
		}
		close(start)
		wg.Wait()
		if n := winners.Load(); n != 1 {
			t.Fatalf("round %d: %d SetIfAbsent calls won, want exactly 1", round, n)
		}
		wantValue(t, s, key, winner.Load().(string))
	}
}

// checkFailedWriteDropsStale: a store reads a key (and may cache it),
// another client changes it, and a CompareAndSwap, CompareAndDelete or
// SetIfAbsent that expects what the store read fails; the store's next Get
// returns the other client's value at once, even if the server's
// invalidation has not arrived. 50 rounds each.
func checkFailedWriteDropsStale(t *testing.T, e atomicEnv) {
	s := e.store(t)
	c := as[kv.Conditional](t, s)
	ctx := Context(t)
	for _, k := range e.keys("stale:") {
		for round := range 50 {
			old, other := fmt.Sprint("a", round), fmt.Sprint("b", round)
			if err := s.Set(ctx, k, []byte(old)); err != nil {
				t.Fatal(err)
			}
			wantValue(t, s, k, old)
			if _, err := e.do(t, k, "SET", k, other); err != nil {
				t.Fatal(err)
			}
			var (
				ok  bool
				err error
			)
			switch round % 3 {
			case 0:
				ok, err = c.CompareAndSwap(ctx, k, []byte(old), []byte("mine"), kv.KeepTTL)
			case 1:
				ok, err = c.CompareAndDelete(ctx, k, []byte(old))
			case 2:
				if _, err := s.Delete(ctx, k); err != nil {
					t.Fatal(err)
				}
				wantMissing(t, s, k)
				if _, err := e.do(t, k, "SET", k, other); err != nil {
					t.Fatal(err)
				}
				ok, err = c.SetIfAbsent(ctx, k, []byte("mine"), 0)
			}
			if ok || err != nil {
				t.Fatalf("round %d: the conditional write on a stale view = %v, %v; want false", round, ok, err)
			}
			wantValue(t, s, k, other)
		}
	}
}

// checkUpdateWithAnotherClient: 4 goroutines adding 50 each with kv.Update
// through a store (with its cache, if it has one), while another client
// runs 100 INCRs of the same key, end at exactly 300.
func checkUpdateWithAnotherClient(t *testing.T, e atomicEnv) {
	const writers, times, incrs = 4, 50, 100
	s := e.store(t)
	for _, k := range e.keys("mixed:") {
		var wg sync.WaitGroup
		wg.Add(1)
		go func() {
			defer wg.Done()
			for range incrs {
				if _, err := e.do(t, k, "INCR", k); err != nil {
					t.Errorf("INCR %s: %v", k, err)
					return
				}
			}
		}()
		updates(t, s, k, writers, times)
		wg.Wait()
		want := strconv.Itoa(writers*times + incrs)
		if got, err := e.do(t, k, "GET", k); got != want || err != nil {
			t.Errorf("GET %s = %v, %v; want %s", k, got, err, want)
		}
	}
}
