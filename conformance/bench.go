package conformance

// This file holds the benchmark suite: Bench for one store, Compare for
// several side by side.

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"testing"
	"time"

	"github.com/cledar/storekit/internal/parbench"
	"github.com/cledar/storekit/kv"
)

// The workload of every benchmark.
const (
	benchKeys      = 10000 // keys written before the benchmarks run
	benchValueSize = 64    // bytes per value
	benchMulti     = 100   // keys per GetMulti100 and SetMulti100 call
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
// and, when the store implements the capability they call:
//
//	CompareAndSwap/par=N  kv.Conditional's CompareAndSwap, with kv.KeepTTL, of a
//	                      key of the goroutine's own, from its value to another
//	                      of the same size: every call swaps
//	Incr/par=N            kv.Counter's Incr by 1 of a counter of the goroutine's own
//	SetMulti100/par=N     kv.BulkWriter's SetMulti of 100 keys that exist, without
//	                      TTL, to values of the same size; also reports keys/s
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
// client-side cache starts warm. The writes run after the reads, since they
// invalidate such caches; each goroutine of CompareAndSwap and Incr has a
// key of its own, so that they measure the cost of the call, not
// contention. When b ends, Bench deletes the keys it wrote and closes the store;
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
	// benchmarks: "Get", "GetMulti100", "GetMiss", "Set", "CompareAndSwap",
	// "Incr" and "SetMulti100". Whatever Ops says, a benchmark of a
	// capability runs only if the store implements it.
	Ops []string

	// Pars, when not nil, replaces the goroutine counts 1, 8 and 64 of the
	// contender's benchmarks.
	Pars []int
}

// Compare runs the benchmarks of [Bench] against several stores side by
// side, so that they share the conditions of the machine: for each
// benchmark and goroutine count, the contenders take turns of 100 ms, in an
// order that rotates every round, until each has run for -test.benchtime
// (with -test.benchtime Nx, until each has made N calls, in one turn),
// after one turn each that is not measured. What a busy machine does to
// the figures it then does to every contender alike, within a fraction of a
// second, so that their ratios hold where the figures themselves swing.
// The sub-benchmarks are named Op/par=N/impl=Name, for example
// "Get/par=8/impl=memory", ready for benchstat's "-col /impl" projection;
// each reports what its contender's turns measured: their calls as its
// iterations, their time a call, and what the process allocated during
// them a call.
//
// Every contender's store is created, filled with its own 10,000 keys and
// read once before the first sub-benchmark, as in Bench, and its keys are
// deleted and the store closed when b ends. The keys of the contenders are
// written together, 100 of each in turn, so that a server they share lays
// them out alike. Contenders with Ops or Pars
// take part only in the benchmarks they list, and a contender whose store
// lacks a capability only in the benchmarks of the others.
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
	seed(b, works)
	for _, bc := range supported(cases, works) {
		name := fmt.Sprintf("%s/par=%d", bc.op.name, bc.par)
		if !named {
			b.Run(name, works[0].bench(bc.op, bc.par))
			continue
		}
		b.Run(name, func(b *testing.B) { parbench.SideBySide(b, bc.par, bc.op.keys, entrants(bc, contenders, works)) })
	}
}

// entrants returns the contenders of bc as the entrants of a
// [parbench.SideBySide].
func entrants(bc benchCase, contenders []Contender, works []*workload) []parbench.Entrant {
	es := make([]parbench.Entrant, len(bc.contenders))
	for j, i := range bc.contenders {
		w := works[i]
		es[j] = parbench.Entrant{
			Name:    contenders[i].Name,
			Prepare: func() error { return w.prepare(bc.op, bc.par) },
			Call:    func(g, k int) error { return bc.op.call(w, g, firstCall(g, bc.par)+k) },
		}
	}
	return es
}

// A benchOp is one of the suite's operations.
type benchOp struct {
	name string
	// keys is the number of keys one call reads or writes, when the
	// benchmark reports keys/s; 0 otherwise.
	keys int
	// can, when not nil, reports whether w's store has the capability the
	// operation calls.
	can func(w *workload) bool
	// prepare, when not nil, readies w's store for a run of par goroutines,
	// before the timer starts.
	prepare func(w *workload, par int) error
	// call makes goroutine g's call number i of the operation on w's store.
	call func(w *workload, g, i int) error
}

// benchOps are the suite's operations, in the order they run.
var benchOps = []*benchOp{
	{name: "Get", call: func(w *workload, _, i int) error {
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
	{name: "GetMulti100", keys: benchMulti, call: func(w *workload, _, i int) error {
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
	{name: "GetMiss", call: func(w *workload, _, i int) error {
		k := w.missing[i%benchKeys]
		if _, err := w.s.Get(w.ctx, k); !errors.Is(err, kv.ErrNotFound) {
			return fmt.Errorf("Get(%q) of a missing key: got err %v, want errors.Is(_, kv.ErrNotFound)", k, err)
		}
		return nil
	}},
	{name: "Set", call: func(w *workload, _, i int) error {
		k := w.keys[i%benchKeys]
		if err := w.s.Set(w.ctx, k, w.value); err != nil {
			return fmt.Errorf("Set(%q): %w", k, err)
		}
		return nil
	}},
	{name: "CompareAndSwap", can: func(w *workload) bool { return w.cond != nil }, prepare: prepareSwaps,
		call: func(w *workload, g, i int) error {
			k, from, to := w.swapKeys[g], w.swaps[i%2], w.swaps[(i+1)%2]
			ok, err := w.cond.CompareAndSwap(w.ctx, k, from, to, kv.KeepTTL)
			if err == nil && !ok {
				err = errors.New("not swapped, want swapped: the key is its goroutine's own and holds old")
			}
			if err != nil {
				return fmt.Errorf("CompareAndSwap(%q, %.8q..., %.8q..., KeepTTL): %w", k, from, to, err)
			}
			return nil
		}},
	{name: "Incr", can: func(w *workload) bool { return w.counter != nil },
		prepare: func(w *workload, par int) error { w.ownKeys(par); return nil },
		call: func(w *workload, g, _ int) error {
			k := w.counters[g]
			n, err := w.counter.Incr(w.ctx, k, 1)
			if err == nil && n < 1 {
				err = fmt.Errorf("got %d, want at least 1", n)
			}
			if err != nil {
				return fmt.Errorf("Incr(%q, 1): %w", k, err)
			}
			return nil
		}},
	{name: "SetMulti100", keys: benchMulti, can: func(w *workload) bool { return w.bulk != nil },
		call: func(w *workload, _, i int) error {
			lo := i % (benchKeys / benchMulti) * benchMulti
			if err := w.bulk.SetMulti(w.ctx, w.items[lo:lo+benchMulti]); err != nil {
				return fmt.Errorf("SetMulti(keys %q to %q): %w", w.keys[lo], w.keys[lo+benchMulti-1], err)
			}
			return nil
		}},
}

// prepareSwaps gives the key of each of par goroutines of CompareAndSwap
// the value its first call expects.
func prepareSwaps(w *workload, par int) error {
	w.ownKeys(par)
	return inParallel(par, func(g int) error {
		k := w.swapKeys[g]
		if err := w.s.Set(w.ctx, k, w.swaps[firstCall(g, par)%2]); err != nil {
			return fmt.Errorf("Set(%q): %w", k, err)
		}
		return nil
	})
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

// supported returns cases without the contenders whose store (in works)
// lacks the capability of the case's operation, and without the cases left
// with no contender.
func supported(cases []benchCase, works []*workload) []benchCase {
	var kept []benchCase
	for _, bc := range cases {
		if bc.op.can != nil {
			bc.contenders = slices.DeleteFunc(slices.Clone(bc.contenders), func(i int) bool { return !bc.op.can(works[i]) })
		}
		if len(bc.contenders) > 0 {
			kept = append(kept, bc)
		}
	}
	return kept
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
	cond    kv.Conditional // s's capabilities, or nil
	counter kv.Counter
	bulk    kv.BulkWriter

	ctx     context.Context
	prefix  string
	keys    []string  // written, benchValueSize bytes each
	items   []kv.Item // keys[i] set to value, for SetMulti
	missing []string  // never written
	value   []byte

	// The keys of goroutine g: swapKeys[g] holds one of swaps, and
	// counters[g] a counter. They grow to the largest goroutine count run.
	swapKeys, counters []string
	swaps              [2][]byte // benchValueSize bytes each
}

// newWorkload creates a store with newStore and names its keys; it deletes
// them and closes the store when b ends. [seed] writes them.
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
		prefix:  prefix,
		keys:    make([]string, benchKeys),
		items:   make([]kv.Item, benchKeys),
		missing: make([]string, benchKeys),
		value:   make([]byte, benchValueSize),
		swaps:   [2][]byte{make([]byte, benchValueSize), make([]byte, benchValueSize)},
	}
	w.cond, _ = s.(kv.Conditional)
	w.counter, _ = s.(kv.Counter)
	w.bulk, _ = s.(kv.BulkWriter)
	for i := range w.value {
		w.value[i] = 'a' + byte(i%26)
		w.swaps[0][i] = 'A' + byte(i%26)
		w.swaps[1][i] = 'Z' - byte(i%26)
	}
	for i := range benchKeys {
		w.keys[i] = prefix + "k:" + strconv.Itoa(i)
		w.items[i] = kv.Item{Key: w.keys[i], Value: w.value}
		w.missing[i] = prefix + "missing:" + strconv.Itoa(i)
	}

	b.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), benchSetup)
		defer cancel()
		written := slices.Concat(w.keys, w.swapKeys, w.counters)
		_ = inParallel(len(written), func(i int) error {
			_, err := s.Delete(ctx, written[i])
			return err
		})
	})
	return w
}

// seed writes the keys of works and reads each once, so that a client-side
// cache starts warm. It writes them in blocks of the keys of one GetMulti100
// call, block i of every workload before block i+1 of any: a server that
// holds the keys of several workloads then lays them out in its memory
// alike, and none reads faster or slower for the time its keys were
// written. (Written one workload after the other, two identical rueidis
// clients read 100 keys at a time 15 to 20 % apart on one redis-server; in
// blocks they tie.)
func seed(b *testing.B, works []*workload) {
	b.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), benchSetup)
	defer cancel()
	err := inParallel(benchKeys/benchMulti, func(blk int) error {
		for _, w := range works {
			for i := blk * benchMulti; i < (blk+1)*benchMulti; i++ {
				if err := w.s.Set(ctx, w.keys[i], w.value); err != nil {
					return fmt.Errorf("Set(%q): %w", w.keys[i], err)
				}
			}
		}
		return nil
	})
	if err == nil {
		get, miss := benchOpNamed("Get"), benchOpNamed("GetMiss")
		err = inParallel(2*benchKeys, func(i int) error {
			op := get
			if i >= benchKeys {
				op = miss
			}
			for _, w := range works {
				if err := op.call(w, 0, i); err != nil {
					return err
				}
			}
			return nil
		})
	}
	if err != nil {
		b.Fatalf("conformance: preparing %d keys for the benchmarks: %v", benchKeys, err)
	}
}

// ownKeys names the keys of goroutines 0 to par-1, if they have none yet.
func (w *workload) ownKeys(par int) {
	for g := len(w.swapKeys); g < par; g++ {
		w.swapKeys = append(w.swapKeys, w.prefix+"swap:"+strconv.Itoa(g))
		w.counters = append(w.counters, w.prefix+"counter:"+strconv.Itoa(g))
	}
}

// bench returns the benchmark of op at par goroutines on w's store.
func (w *workload) bench(op *benchOp, par int) func(b *testing.B) {
	return func(b *testing.B) {
		if err := w.prepare(op, par); err != nil {
			b.Fatalf("conformance: %v", err)
		}
		b.ResetTimer()
		parbench.Run(b, par, func(g, i int) error { return op.call(w, g, firstCall(g, par)+i) })
		if op.keys > 0 && b.Elapsed() > 0 {
			b.ReportMetric(float64(b.N)*float64(op.keys)/b.Elapsed().Seconds(), "keys/s")
		}
	}
}

// prepare readies w's store for a run of op from par goroutines.
func (w *workload) prepare(op *benchOp, par int) error {
	if op.prepare == nil {
		return nil
	}
	if err := op.prepare(w, par); err != nil {
		return fmt.Errorf("preparing %s at %d goroutines: %w", op.name, par, err)
	}
	return nil
}

// firstCall is the i of the first call of goroutine g of par.
func firstCall(g, par int) int { return g * (benchKeys / par) }
