// Package parbench runs a benchmark's calls from an exact number of
// goroutines, whatever GOMAXPROCS is, as storekit's benchmarks measure them.
package parbench

import (
	"runtime"
	"sync/atomic"
	"testing"
)

// Run runs call b.N times in all, from exactly par goroutines, and reports
// allocations. par=1 is a plain loop; a larger par runs
// [testing.B.RunParallel] with par goroutines at work. Each goroutine passes
// call its number g, from 0 to par-1, and the count i of its own calls
// before this one, so that goroutines can spread over keys of their own. A
// failed call ends its goroutine and fails b.
func Run(b *testing.B, par int, call func(g, i int) error) {
	b.ReportAllocs()
	if par <= 1 {
		i := 0
		for b.Loop() {
			if err := call(0, i); err != nil {
				b.Fatal(err)
			}
			i++
		}
		return
	}
	// RunParallel starts SetParallelism × GOMAXPROCS goroutines: round up,
	// and leave the goroutines past par idle.
	procs := runtime.GOMAXPROCS(0)
	b.SetParallelism((par + procs - 1) / procs)
	var started atomic.Int64
	b.RunParallel(func(pb *testing.PB) {
		g := int(started.Add(1)) - 1
		if g >= par {
			return
		}
		for i := 0; pb.Next(); i++ {
			if err := call(g, i); err != nil {
				b.Error(err)
				return
			}
		}
	})
}
