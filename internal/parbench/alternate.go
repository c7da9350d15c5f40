package parbench

import (
	"errors"
	"flag"
	"fmt"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// Turn is how long an entrant of [Alternate] runs before the next one
// takes over.
const Turn = 100 * time.Millisecond

// An Entrant is one of the implementations that [Alternate] measures.
type Entrant struct {
	// Name names the entrant in errors.
	Name string
	// Call makes goroutine g's call number i; i counts g's calls over
	// every turn of the entrant in one Alternate, from 0, so that a
	// goroutine's calls can go on from where its last turn stopped.
	Call func(g, i int) error
	// Prepare, when not nil, readies the entrant for the calls of an
	// Alternate, which calls it first.
	Prepare func() error
}

// A Result is what [Alternate] measured of one entrant over its turns.
type Result struct {
	Turns   int           // the measured turns
	Calls   int           // calls made in the measured turns
	Elapsed time.Duration // the time of those turns
	// Bytes and Allocs are what the process allocated during those turns:
	// the entrant's calls and whatever its client did meanwhile.
	Bytes, Allocs uint64
}

// Alternate measures entrants side by side, in turns, so that whatever
// else the machine is doing slows them alike: each entrant runs its calls
// from exactly par goroutines for a [Turn], then the next one takes over,
// in an order that rotates every round, until each has run for the
// run's -test.benchtime (at least one turn). With a -test.benchtime of Nx,
// each entrant instead makes N calls, in one turn. Every entrant first
// runs one turn that is not measured, and the process collects its garbage
// before each turn, as the testing package does before each run.
//
// A turn ends when its time is up and every goroutine's call in progress
// has returned; the results count those calls and that time. A failed call
// ends its goroutine, and Alternate returns the first such error, naming
// the entrant.
func Alternate(par int, entrants []Entrant) ([]Result, error) {
	if par < 1 {
		par = 1
	}
	budget, calls := benchtime()
	results := make([]Result, len(entrants))
	next := make([][]int, len(entrants)) // next[e][g]: goroutine g's next call
	for e := range entrants {
		next[e] = make([]int, par)
	}
	run := func(e, n int) (Result, error) {
		r, err := turn(par, next[e], entrants[e].Call, n)
		if err != nil {
			err = fmt.Errorf("%s: %w", entrants[e].Name, err)
		}
		return r, err
	}
	for e, en := range entrants {
		if en.Prepare != nil {
			if err := en.Prepare(); err != nil {
				return nil, fmt.Errorf("%s: %w", en.Name, err)
			}
		}
		if _, err := run(e, 0); err != nil {
			return nil, err
		}
	}
	for round := 0; ; round++ {
		ran := false
		for k := range entrants {
			e := (k + round) % len(entrants)
			r := &results[e]
			if calls > 0 && r.Calls > 0 || calls == 0 && r.Elapsed >= budget {
				continue
			}
			ran = true
			got, err := run(e, calls)
			if err != nil {
				return nil, err
			}
			r.Turns++
			r.Calls += got.Calls
			r.Elapsed += got.Elapsed
			r.Bytes += got.Bytes
			r.Allocs += got.Allocs
		}
		if !ran {
			return results, nil
		}
	}
}

// turn runs call from par goroutines, going on from the call numbers in
// next, for a Turn or, when n > 0, for n calls in all, and returns what it
// measured.
func turn(par int, next []int, call func(g, i int) error, n int) (Result, error) {
	runtime.GC()
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	var (
		stop  atomic.Bool
		left  atomic.Int64
		made  atomic.Int64
		wg    sync.WaitGroup
		errMu sync.Mutex
		first error
	)
	left.Store(int64(n))
	more := func() bool {
		if n > 0 {
			return left.Add(-1) >= 0
		}
		return !stop.Load()
	}
	start := time.Now()
	if n == 0 {
		timer := time.AfterFunc(Turn, func() { stop.Store(true) })
		defer timer.Stop()
	}
	for g := range par {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for more() {
				err := call(g, next[g])
				next[g]++
				made.Add(1)
				if err != nil {
					errMu.Lock()
					first = errors.Join(first, err)
					errMu.Unlock()
					stop.Store(true)
					left.Store(0)
					return
				}
			}
		}()
	}
	wg.Wait()
	elapsed := time.Since(start)
	runtime.ReadMemStats(&after)
	if first != nil {
		return Result{}, first
	}
	return Result{
		Calls:   int(made.Load()),
		Elapsed: elapsed,
		Bytes:   after.TotalAlloc - before.TotalAlloc,
		Allocs:  after.Mallocs - before.Mallocs,
	}, nil
}

// benchtime returns the -test.benchtime of the run: a duration, or a number
// of calls (Nx). Outside a test binary it is one second.
func benchtime() (time.Duration, int) {
	f := flag.Lookup("test.benchtime")
	if f == nil {
		return time.Second, 0
	}
	s := f.Value.String()
	if n, ok := strings.CutSuffix(s, "x"); ok {
		if calls, err := strconv.Atoi(n); err == nil && calls > 0 {
			return 0, calls
		}
	}
	if d, err := time.ParseDuration(s); err == nil && d > 0 {
		return d, 0
	}
	return time.Second, 0
}

// SetBenchtime sets -test.benchtime to value for the rest of the test tb,
// for tests of benchmarks that run them with testing.Benchmark.
func SetBenchtime(tb testing.TB, value string) {
	tb.Helper()
	f := flag.Lookup("test.benchtime")
	old := f.Value.String()
	if err := f.Value.Set(value); err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { _ = f.Value.Set(old) })
}

// report makes b, a sub-benchmark of [SideBySide], show r as its result:
// r's calls as its iterations, and their time, allocations and, when keys
// is not 0, the keys they read or wrote (keys per call) a second.
//
// The sub-benchmark's body measures nothing itself, unless its run is the
// first to need a measurement (then the body takes longer than
// -test.benchtime, and the testing package does not call it again in that
// run: final says so). A body that takes no time is run by the testing
// package with ever more iterations, up to its cap of 10⁹ (or, with
// -test.benchtime Nx, N), and the last call's b.N is the count it shows:
// report sets b.N to r's calls in that call.
func report(b *testing.B, r Result, keys int, final bool) {
	if r.Calls == 0 {
		b.Fatalf("parbench: no calls measured")
	}
	if _, calls := benchtime(); final || b.N >= maxIterations || calls > 0 && b.N == calls {
		//lint:ignore SA3001 the body runs no loop: b.N is set to the calls the turns measured, for the result line
		b.N = r.Calls
	}
	n := float64(r.Calls)
	b.ReportMetric(float64(r.Elapsed.Nanoseconds())/n, "ns/op")
	b.ReportMetric(float64(r.Bytes)/n, "B/op")
	b.ReportMetric(float64(r.Allocs)/n, "allocs/op")
	if keys > 0 && r.Elapsed > 0 {
		b.ReportMetric(n*float64(keys)/r.Elapsed.Seconds(), "keys/s")
	}
}

// maxIterations is the testing package's cap on a benchmark's iterations.
const maxIterations = 1e9
