package memory

import (
	"context"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/cledar/storekit/kv"
)

const (
	racers = 8
	rounds = 200
)

// race runs fn(i) on n goroutines released together, and waits for them.
func race(n int, fn func(i int)) {
	var wg sync.WaitGroup
	start := make(chan struct{})
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			<-start
			fn(i)
		}()
	}
	close(start)
	wg.Wait()
}

func TestCompareAndSwapIncrementsAreNotLost(t *testing.T) {
	ctx := context.Background()
	s := New(nil)
	defer s.Close()
	_ = s.Set(ctx, "n", []byte("0"))
	var errs atomic.Int64
	race(racers, func(int) {
		for range rounds {
			for {
				old, err := s.Get(ctx, "n")
				if err != nil {
					errs.Add(1)
					return
				}
				n, _ := strconv.Atoi(string(old))
				ok, err := s.CompareAndSwap(ctx, "n", old, []byte(strconv.Itoa(n+1)), kv.KeepTTL)
				if err != nil {
					errs.Add(1)
					return
				}
				if ok {
					break
				}
			}
		}
	})
	if errs.Load() != 0 {
		t.Fatalf("%d goroutines failed", errs.Load())
	}
	wantValue(t, s, "n", strconv.Itoa(racers*rounds))
}

func TestSetIfAbsentHasOneWinner(t *testing.T) {
	ctx := context.Background()
	s := New(nil)
	defer s.Close()
	var winners atomic.Int64
	var winner atomic.Int64
	race(16, func(i int) {
		ok, err := s.SetIfAbsent(ctx, "lock", []byte(strconv.Itoa(i)), 0)
		if err != nil {
			t.Error(err)
		}
		if ok {
			winners.Add(1)
			winner.Store(int64(i))
		}
	})
	if winners.Load() != 1 {
		t.Fatalf("%d goroutines won SetIfAbsent, want exactly 1", winners.Load())
	}
	wantValue(t, s, "lock", strconv.Itoa(int(winner.Load())))
}

func TestIncrIsNotLost(t *testing.T) {
	ctx := context.Background()
	s := New(nil)
	defer s.Close()
	var errs atomic.Int64
	race(racers, func(int) {
		for range rounds {
			if _, err := s.Incr(ctx, "n", 1); err != nil {
				errs.Add(1)
			}
		}
	})
	if errs.Load() != 0 {
		t.Fatalf("%d Incr calls failed", errs.Load())
	}
	wantValue(t, s, "n", strconv.Itoa(racers*rounds))
}

// TestReadersNeverSeeHalfABulkWrite has a writer set two keys to equal,
// growing values with SetMulti (and now and then remove both with
// DeleteMulti) while readers check that GetMulti finds both keys equal or
// both missing, and that a Get of the second key never sees an older value
// than a Get of the first just saw.
func TestReadersNeverSeeHalfABulkWrite(t *testing.T) {
	ctx := context.Background()
	s := New(nil)
	defer s.Close()
	keys := []string{"a", "b"}
	var stop atomic.Bool
	var torn, reads atomic.Int64
	race(3, func(i int) {
		if i == 0 {
			defer stop.Store(true)
			for n := range 3000 {
				v := []byte(strconv.Itoa(n))
				if err := s.SetMulti(ctx, []kv.Item{{Key: "a", Value: v}, {Key: "b", Value: v}}); err != nil {
					t.Error(err)
					return
				}
				if n%100 == 99 {
					if _, err := s.DeleteMulti(ctx, keys); err != nil {
						t.Error(err)
						return
					}
				}
			}
			return
		}
		for !stop.Load() {
			reads.Add(1)
			vals, err := s.GetMulti(ctx, keys)
			if err != nil {
				t.Error(err)
				return
			}
			if vals[0].Found != vals[1].Found || string(vals[0].Data) != string(vals[1].Data) {
				torn.Add(1)
			}
			// Values grow, and deletes only ever follow both keys' writes:
			// once a has value n, b holds n or later (or nothing, later).
			a, errA := s.Get(ctx, "a")
			b, errB := s.Get(ctx, "b")
			if errA == nil && errB == nil {
				na, _ := strconv.Atoi(string(a))
				nb, _ := strconv.Atoi(string(b))
				if nb < na {
					torn.Add(1)
				}
			}
		}
	})
	if torn.Load() != 0 {
		t.Fatalf("%d of %d reads saw half of a bulk write", torn.Load(), reads.Load())
	}
	if reads.Load() == 0 {
		t.Fatal("no read ran during the writes")
	}
}
