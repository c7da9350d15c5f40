package backendtest

import (
	"context"
	"fmt"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/cledar/storekit/kv"
)

// Parallel runs op b.N times in all, from exactly par goroutines, with
// allocations reported; op gets the number of the call, from 0.
func Parallel(b *testing.B, par int, op func(i int) error) {
	b.ReportAllocs()
	var next atomic.Int64
	var wg sync.WaitGroup
	b.ResetTimer()
	for range par {
		wg.Go(func() {
			for {
				i := int(next.Add(1) - 1)
				if i >= b.N {
					return
				}
				if err := op(i); err != nil {
					b.Error(err)
					return
				}
			}
		})
	}
	wg.Wait()
}

// A BenchOp is an operation of a benchmark, named for its sub-benchmarks;
// Op gets the number of the call, from 0.
type BenchOp struct {
	Name string
	Op   func(i int) error
}

// RunParallel runs each op as the sub-benchmarks <name>/par=<n>, for n of
// 1, 8 and 64 goroutines (see [Parallel]).
func RunParallel(b *testing.B, ops []BenchOp) {
	for _, par := range []int{1, 8, 64} {
		for _, o := range ops {
			b.Run(fmt.Sprintf("%s/par=%d", o.Name, par), func(b *testing.B) {
				Parallel(b, par, o.Op)
			})
		}
	}
}

// BenchKeys writes 10,000 keys with a value of 64 bytes through s, which b
// closes at its end, and deletes them when b ends, before s closes. It
// returns the keys and the value.
func BenchKeys(ctx context.Context, b *testing.B, s kv.Store) (keys []string, value []byte) {
	b.Helper()
	value = make([]byte, 64)
	keys = make([]string, 10000)
	for i := range keys {
		keys[i] = "bench:overhead:" + strconv.Itoa(i)
		if err := s.Set(ctx, keys[i], value); err != nil {
			b.Fatal(err)
		}
	}
	b.Cleanup(func() {
		for _, k := range keys {
			_, _ = s.Delete(ctx, k)
		}
	})
	return keys, value
}

// GetMulti100 returns an op that reads 100 keys of keys with one GetMulti
// of m: those from the (i*100)-th on, wrapping round before the end.
func GetMulti100(ctx context.Context, m kv.MultiGetter, keys []string) func(i int) error {
	return func(i int) error {
		lo := (i * 100) % (len(keys) - 100)
		_, err := m.GetMulti(ctx, keys[lo:lo+100])
		return err
	}
}
