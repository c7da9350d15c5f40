package conformance

// This file holds the benchmark suite: Bench for one store, Compare for
// several side by side.

import (
	"context"
	"errors"
	"fmt"
	"runtime"
	"slices"
	"strconv"
	"sync/atomic"
	"testing"
	"time"

	"github.com/cledar/storekit/kv"
)

// The workload of every benchmark.
const (
	benchKeys      = 10000 // keys written before the benchmarks run
	benchValueSize = 64    // bytes per value
	benchMulti     = 100   // keys per GetMulti100 call
	benchSetup     = 2 * time.Minute
)

// benchPars are the goroutine counts of every benchmark, unless a
// [Contender] says otherwise.
var benchPars = []int{1, 8, 64}

// Bench runs the benchmark suite against the store that newStore returns.
// A backend runs it from an ordinary benchmark:
//
//	func BenchmarkStore(b *testing.B) {
//		conformance.Bench(b, func(b *testing.B) kv.Store { return mybackend.New(client, nil) })
//	}
//
// It runs these sub-benchmarks, in this order; the names are stable:
//
//	Get/par=N          Get of a key that exists
//	GetMulti100/par=N  kv.GetMulti of 100 keys that exist; also reports keys/s
//	GetMiss/par=N      Get of a key that does not exist
//	Set/par=N          Set of a key that exists, to a value of the same size
//
// for N = 1, 8 and 64. N is the number of goroutines calling the store,
// whatever GOMAXPROCS is: par=1 is a plain loop, and a larger N runs
// [testing.B.RunParallel] with exactly N goroutines at work. The targets of
// storekit's design are measured with GOMAXPROCS=2 (go test -cpu 2). Every
// sub-benchmark reports allocations.
//
// newStore is called once, with b, before the first sub-benchmark; every
// sub-benchmark uses that store. Bench writes 10,000 keys with 64-byte
// values under a random prefix (such as "ck:5f0c3a91d2e87b64:"), then reads
// each key, and each key of GetMiss, once, so that a store with a
// client-side cache starts warm. Set runs last, since it invalidates such
// caches. When b ends, Bench deletes the keys it wrote and closes the store;
// it never flushes anything, so the store may share a server with other
// work. A failed call fails the benchmark, with what was called.
func Bench(b *testing.B, newStore func(b *testing.B) kv.Store) {
	b.Helper()
	compare(b, []Contender{{New: newStore}}, false)
}

// A Contender is one of the stores that [Compare] benchmarks side by side.
type Contender struct {
	// Name tells the store apart in sub-benchmark names: ".../impl=Name".
	// It must be unique among the contenders of a Compare.
	Name string

	// New returns the store. Compare calls it once, with its own b.
	New func(b *testing.B) kv.Store

	// Ops, when not nil, limits the contender to these of Bench's
	// benchmarks: "Get", "GetMulti100", "GetMiss" and "Set".
	Ops []string

	// Pars, when not nil, replaces the goroutine counts 1, 8 and 64 of the
	// contender's benchmarks.
	Pars []int
}

// Compare runs the benchmarks of [Bench] against several stores side by
// side, so that they share the conditions of the machine: for each
// benchmark and goroutine count, every contender in turn. The
// sub-benchmarks are named Op/par=N/impl=Name, for example
// "Get/par=8/impl=memory", ready for benchstat's "-col /impl" projection.
//
// Every contender's store is created, filled with its own 10,000 keys and
// read once before the first sub-benchmark, as in Bench, and its keys are
// deleted and the store closed when b ends. Contenders with Ops or Pars
// take part only in the benchmarks they list.
func Compare(b *testing.B, contenders ...Contender) {
	b.Helper()
	compare(b, contenders, true)
}

// compare runs the suite for contenders, naming each leaf after its
// contender when named is set.
func compare(b *testing.B, contenders []Contender, named bool) {
	b.Helper()
	cases, err := benchPlan(contenders, named)
	if err != nil {
		b.Fatalf("conformance: %v", err)
	}
	works := make([]*workload, len(contenders))
	for i, c := range contenders {
		works[i] = newWorkload(b, c.New)
	}
	for _, bc := range cases {
		name := fmt.Sprintf("%s/par=%d", bc.op.name, bc.par)
		if !named {
			b.Run(name, works[0].bench(bc.op, bc.par))
			continue
		}
		b.Run(name, func(b *testing.B) {
			for _, i := range bc.contenders {
				b.Run("impl="+contenders[i].Name, works[i].bench(bc.op, bc.par))
			}
		})
	}
}

// A benchOp is one of the suite's operations.
type benchOp struct {
	name string
	// keys is the number of keys one call reads, when the benchmark
	// reports keys/s; 0 otherwise.
	keys int
	// call makes the i-th call of the operation on w's store.
	call func(w *workload, i int) error
}

// benchOps are the suite's operations, in the order they run.
var benchOps = []*benchOp{
	{name: "Get", call: func(w *workload, i int) error {
		k := w.keys[i%benchKeys]
		v, err := w.s.Get(w.ctx, k)
		if err == nil && len(v) != benchValueSize {
			err = fmt.Errorf("got %d bytes, want %d", len(v), benchValueSize)
		}
		if err != nil {
			return fmt.Errorf("Get(%q): %w", k, err)
		}
		return nil
	}},
	{name: "GetMulti100", keys: benchMulti, call: func(w *workload, i int) error {
		lo := i % (benchKeys / benchMulti) * benchMulti
		vals, err := kv.GetMulti(w.ctx, w.s, w.keys[lo:lo+benchMulti])
		if err == nil && (len(vals) != benchMulti || !vals[0].Found || !vals[benchMulti-1].Found) {
			err = fmt.Errorf("got %d values, or keys not found; want %d values found", len(vals), benchMulti)
		}
		if err != nil {
			return fmt.Errorf("GetMulti(keys %q to %q): %w", w.keys[lo], w.keys[lo+benchMulti-1], err)
		}
		return nil
	}},
	{name: "GetMiss", call: func(w *workload, i int) error {
		k := w.missing[i%benchKeys]
		if _, err := w.s.Get(w.ctx, k); !errors.Is(err, kv.ErrNotFound) {
			return fmt.Errorf("Get(%q) of a missing key: got err %v, want errors.Is(_, kv.ErrNotFound)", k, err)
		}
		return nil
	}},
	{name: "Set", call: func(w *workload, i int) error {
		k := w.keys[i%benchKeys]
		if err := w.s.Set(w.ctx, k, w.value); err != nil {
			return fmt.Errorf("Set(%q): %w", k, err)
		}
		return nil
	}},
}

// A benchCase is one Op/par=N benchmark and the contenders (indices) that
// take part in it.
type benchCase struct {
	op         *benchOp
	par        int
	contenders []int
}

// benchPlan returns the benchmarks that compare runs for contenders, in
// order: by operation, then by goroutine count. Named contenders must have
// distinct names.
func benchPlan(contenders []Contender, named bool) ([]benchCase, error) {
	seen := make(map[string]bool)
	for i, c := range contenders {
		switch {
		case named && c.Name == "":
			return nil, fmt.Errorf("contender %d has no Name", i)
		case named && seen[c.Name]:
			return nil, fmt.Errorf("two contenders are named %q", c.Name)
		case c.New == nil:
			return nil, fmt.Errorf("contender %q has no New function", c.Name)
		}
		seen[c.Name] = true
		for _, name := range c.Ops {
			if benchOpNamed(name) == nil {
				return nil, fmt.Errorf("contender %q: unknown benchmark %q", c.Name, name)
			}
		}
		for _, p := range c.Pars {
			if p < 1 {
				return nil, fmt.Errorf("contender %q: goroutine count %d is not positive", c.Name, p)
			}
		}
	}
	var cases []benchCase
	for _, op := range benchOps {
		var pars []int
		for _, c := range contenders {
			if c.does(op) {
				pars = append(pars, c.pars()...)
			}
		}
		slices.Sort(pars)
		for _, par := range slices.Compact(pars) {
			bc := benchCase{op: op, par: par}
			for i, c := range contenders {
				if c.does(op) && slices.Contains(c.pars(), par) {
					bc.contenders = append(bc.contenders, i)
				}
			}
			cases = append(cases, bc)
		}
	}
	return cases, nil
}

// benchOpNamed returns the operation called name, or nil.
func benchOpNamed(name string) *benchOp {
	i := slices.IndexFunc(benchOps, func(op *benchOp) bool { return op.name == name })
	if i < 0 {
		return nil
	}
	return benchOps[i]
}

// does reports whether c takes part in the benchmarks of op.
func (c *Contender) does(op *benchOp) bool { return c.Ops == nil || slices.Contains(c.Ops, op.name) }

// pars returns the goroutine counts of c's benchmarks.
func (c *Contender) pars() []int {
	if c.Pars == nil {
		return benchPars
	}
	return c.Pars
}

// A workload is a store under benchmark and its keys.
type workload struct {
	s       kv.Store
	ctx     context.Context
	keys    []string // written, benchValueSize bytes each
	missing []string // never written
	value   []byte
}

// newWorkload creates a store with newStore, writes its keys and reads them
// once; it deletes them and closes the store when b ends.
func newWorkload(b *testing.B, newStore func(b *testing.B) kv.Store) *workload {
	b.Helper()
	s := newStore(b)
	if s == nil {
		b.Fatalf("conformance: newStore returned a nil kv.Store")
	}
	b.Cleanup(func() { _ = s.Close() })
	prefix := newPrefix()
	w := &workload{
		s:       s,
		ctx:     context.Background(),
		keys:    make([]string, benchKeys),
		missing: make([]string, benchKeys),
		value:   make([]byte, benchValueSize),
	}
	for i := range benchKeys {
		w.keys[i] = prefix + "k:" + strconv.Itoa(i)
		w.missing[i] = prefix + "missing:" + strconv.Itoa(i)
	}
	for i := range w.value {
		w.value[i] = 'a' + byte(i%26)
	}

	ctx, cancel := context.WithTimeout(context.Background(), benchSetup)
	defer cancel()
	b.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), benchSetup)
		defer cancel()
		_ = inParallel(benchKeys, func(i int) error {
			_, err := s.Delete(ctx, w.keys[i])
			return err
		})
	})
	err := inParallel(benchKeys, func(i int) error {
		if err := s.Set(ctx, w.keys[i], w.value); err != nil {
			return fmt.Errorf("Set(%q): %w", w.keys[i], err)
		}
		return nil
	})
	if err == nil {
		// Read every key once: a client-side cache starts warm.
		get, miss := benchOpNamed("Get"), benchOpNamed("GetMiss")
		err = inParallel(2*benchKeys, func(i int) error {
			if i < benchKeys {
				return get.call(w, i)
			}
			return miss.call(w, i)
		})
	}
	if err != nil {
		b.Fatalf("conformance: preparing %d keys for the benchmarks: %v", benchKeys, err)
	}
	return w
}

// bench returns the benchmark of op at par goroutines on w's store.
func (w *workload) bench(op *benchOp, par int) func(b *testing.B) {
	return func(b *testing.B) {
		runPar(b, par, func(i int) error { return op.call(w, i) })
		if op.keys > 0 && b.Elapsed() > 0 {
			b.ReportMetric(float64(b.N)*float64(op.keys)/b.Elapsed().Seconds(), "keys/s")
		}
	}
}

// runPar runs call b.N times in all, from exactly par goroutines, and
// reports allocations. Each goroutine passes call its own i, counting from a
// start of its own so that the goroutines spread over the keys.
func runPar(b *testing.B, par int, call func(i int) error) {
	b.ReportAllocs()
	if par == 1 {
		i := 0
		for b.Loop() {
			if err := call(i); err != nil {
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
		i := g * (benchKeys / par)
		for pb.Next() {
			if err := call(i); err != nil {
				b.Error(err)
				return
			}
			i++
		}
	})
}
