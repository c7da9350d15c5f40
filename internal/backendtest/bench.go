package backendtest

import (
	"sync"
	"sync/atomic"
	"testing"
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
