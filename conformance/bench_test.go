package conformance

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/cledar/storekit/backends/memory"
	"github.com/cledar/storekit/internal/parbench"
	"github.com/cledar/storekit/kv"
)

// planNames returns the leaf names of the benchmarks benchPlan plans.
func planNames(t *testing.T, contenders []Contender, named bool) []string {
	t.Helper()
	cases, err := benchPlan(contenders, named)
	if err != nil {
		t.Fatalf("benchPlan: %v", err)
	}
	var names []string
	for _, bc := range cases {
		for _, i := range bc.contenders {
			name := fmt.Sprintf("%s/par=%d", bc.op.name, bc.par)
			if named {
				name += "/impl=" + contenders[i].Name
			}
			names = append(names, name)
		}
	}
	return names
}

func newMemory(*testing.B) kv.Store { return memory.New(nil) }

func TestBenchPlan(t *testing.T) {
	got := planNames(t, []Contender{{New: newMemory}}, false)
	want := []string{
		"Get/par=1", "Get/par=8", "Get/par=64",
		"GetMulti100/par=1", "GetMulti100/par=8", "GetMulti100/par=64",
		"GetMiss/par=1", "GetMiss/par=8", "GetMiss/par=64",
		"Set/par=1", "Set/par=8", "Set/par=64",
		"CompareAndSwap/par=1", "CompareAndSwap/par=8", "CompareAndSwap/par=64",
		"Incr/par=1", "Incr/par=8", "Incr/par=64",
		"SetMulti100/par=1", "SetMulti100/par=8", "SetMulti100/par=64",
	}
	if !slices.Equal(got, want) {
		t.Errorf("Bench plans\n%q\nwant\n%q", got, want)
	}

	got = planNames(t, []Contender{
		{Name: "a", New: newMemory, Ops: []string{"Get", "Set"}},
		{Name: "b", New: newMemory, Ops: []string{"Get"}, Pars: []int{2, 8}},
		{Name: "c", New: newMemory, Pars: []int{8}},
	}, true)
	want = []string{
		"Get/par=1/impl=a", "Get/par=2/impl=b", "Get/par=8/impl=a", "Get/par=8/impl=b", "Get/par=8/impl=c",
		"Get/par=64/impl=a",
		"GetMulti100/par=8/impl=c",
		"GetMiss/par=8/impl=c",
		"Set/par=1/impl=a", "Set/par=8/impl=a", "Set/par=8/impl=c", "Set/par=64/impl=a",
		"CompareAndSwap/par=8/impl=c", "Incr/par=8/impl=c", "SetMulti100/par=8/impl=c",
	}
	if !slices.Equal(got, want) {
		t.Errorf("Compare plans\n%q\nwant\n%q", got, want)
	}
}

func TestBenchPlanErrors(t *testing.T) {
	for _, tc := range []struct {
		contenders []Contender
		want       string
	}{
		{[]Contender{{New: newMemory}}, "contender 0 has no Name"},
		{[]Contender{{Name: "a", New: newMemory}, {Name: "a", New: newMemory}}, `two contenders are named "a"`},
		{[]Contender{{Name: "a"}}, `contender "a" has no New function`},
		{[]Contender{{Name: "a", New: newMemory, Ops: []string{"Get", "Del"}}}, `contender "a": unknown benchmark "Del"`},
		{[]Contender{{Name: "a", New: newMemory, Pars: []int{0}}}, `contender "a": goroutine count 0 is not positive`},
	} {
		_, err := benchPlan(tc.contenders, true)
		if err == nil || err.Error() != tc.want {
			t.Errorf("benchPlan(%+v) = %v, want error %q", tc.contenders, err, tc.want)
		}
	}
}

// TestSupported checks that the benchmarks of a capability keep only the
// contenders whose store implements it.
func TestSupported(t *testing.T) {
	plain, full := &workload{s: memory.New(nil)}, newAtomicWorkload()
	contenders := []Contender{
		{Name: "plain", New: newMemory},
		{Name: "full", New: newMemory, Ops: []string{"Get", "Incr"}},
		{Name: "plain2", New: newMemory, Ops: []string{"CompareAndSwap"}},
	}
	cases, err := benchPlan(contenders, true)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, bc := range supported(cases, []*workload{plain, full, plain}) {
		for _, i := range bc.contenders {
			got = append(got, fmt.Sprintf("%s/par=%d/impl=%s", bc.op.name, bc.par, contenders[i].Name))
		}
	}
	want := []string{
		"Get/par=1/impl=plain", "Get/par=1/impl=full", "Get/par=8/impl=plain", "Get/par=8/impl=full",
		"Get/par=64/impl=plain", "Get/par=64/impl=full",
		"GetMulti100/par=1/impl=plain", "GetMulti100/par=8/impl=plain", "GetMulti100/par=64/impl=plain",
		"GetMiss/par=1/impl=plain", "GetMiss/par=8/impl=plain", "GetMiss/par=64/impl=plain",
		"Set/par=1/impl=plain", "Set/par=8/impl=plain", "Set/par=64/impl=plain",
		"Incr/par=1/impl=full", "Incr/par=8/impl=full", "Incr/par=64/impl=full",
	}
	if !slices.Equal(got, want) {
		t.Errorf("supported benchmarks\n%q\nwant\n%q", got, want)
	}
	if len(cases[0].contenders) != 2 {
		t.Errorf("supported changed the plan it was given: %v", cases[0].contenders)
	}
}

// atomicStore is a memory store with the capabilities of the write
// benchmarks, made of its plain calls under one lock: enough to drive them.
type atomicStore struct {
	*memory.Store
	mu  sync.Mutex
	cas atomic.Int64 // CompareAndSwap calls
}

func newAtomicWorkload() *workload {
	s := &atomicStore{Store: memory.New(nil)}
	return &workload{s: s, cond: s, counter: s, bulk: s}
}

// Close keeps the keys, for the test to look at.
func (s *atomicStore) Close() error { return nil }

func (s *atomicStore) SetIfAbsent(ctx context.Context, key string, value []byte, _ time.Duration) (bool, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, err := s.Get(ctx, key); !errors.Is(err, kv.ErrNotFound) {
		return false, err
	}
	return true, s.Set(ctx, key, value)
}

func (s *atomicStore) CompareAndSwap(ctx context.Context, key string, old, new []byte, _ time.Duration) (bool, error) {
	s.cas.Add(1)
	s.mu.Lock()
	defer s.mu.Unlock()
	if v, err := s.Get(ctx, key); err != nil || !bytes.Equal(v, old) {
		return false, nil
	}
	return true, s.Set(ctx, key, new)
}

func (s *atomicStore) CompareAndDelete(ctx context.Context, key string, old []byte) (bool, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if v, err := s.Get(ctx, key); err != nil || !bytes.Equal(v, old) {
		return false, nil
	}
	return s.Delete(ctx, key)
}

func (s *atomicStore) Incr(ctx context.Context, key string, delta int64) (int64, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	n := int64(0)
	if v, err := s.Get(ctx, key); err == nil {
		if n, err = strconv.ParseInt(string(v), 10, 64); err != nil {
			return 0, kv.ErrWrongType
		}
	}
	n += delta
	return n, s.Set(ctx, key, strconv.AppendInt(nil, n, 10))
}

func (s *atomicStore) SetMulti(ctx context.Context, items []kv.Item) error {
	return kv.SetMulti(ctx, s.Store, items)
}

func (s *atomicStore) DeleteMulti(ctx context.Context, keys []string) (int, error) {
	return kv.DeleteMulti(ctx, s.Store, keys)
}

// countingStore counts Get calls, keeps its keys after Close, and fails
// every Get past the first failAfter when failAfter is positive.
type countingStore struct {
	*memory.Store
	gets      atomic.Int64
	failAfter atomic.Int64
}

var errBroken = errors.New("broken")

func (s *countingStore) Get(ctx context.Context, key string) ([]byte, error) {
	n := s.gets.Add(1)
	if f := s.failAfter.Load(); f > 0 && n > f {
		return nil, errBroken
	}
	return s.Store.Get(ctx, key)
}

func (s *countingStore) Close() error { return nil }

// benchFails reports whether bench, run as a benchmark, fails.
func benchFails(bench func(b *testing.B)) bool {
	failed := true
	testing.Benchmark(func(b *testing.B) {
		defer func() { failed = b.Failed() }()
		bench(b)
	})
	return failed
}

// TestBenchRuns runs Bench and Compare for a few iterations each, and
// checks that they clean up and notice a failing store.
func TestBenchRuns(t *testing.T) {
	parbench.SetBenchtime(t, "3x")
	ctx := context.Background()

	s := &countingStore{Store: memory.New(nil)}
	defer s.Store.Close()
	if benchFails(func(b *testing.B) { Bench(b, func(*testing.B) kv.Store { return s }) }) {
		t.Fatalf("Bench on a memory store failed")
	}
	if got := s.gets.Load(); got < 2*benchKeys {
		t.Errorf("Bench made %d Get calls, want at least %d (the warm-up alone)", got, 2*benchKeys)
	}
	if keys, err := kv.Keys(ctx, s, "*"); err != nil || len(keys) != 0 {
		t.Errorf("after Bench the store holds %d keys (err %v), want none: Bench deletes its keys", len(keys), err)
	}

	var made []string
	failed := benchFails(func(b *testing.B) {
		Compare(b,
			Contender{Name: "memory", New: func(*testing.B) kv.Store { made = append(made, "memory"); return memory.New(nil) }},
			Contender{Name: "counting", Ops: []string{"Get"}, Pars: []int{2},
				New: func(*testing.B) kv.Store { made = append(made, "counting"); return s }},
		)
	})
	if failed {
		t.Fatalf("Compare of two memory stores failed")
	}
	if !slices.Equal(made, []string{"memory", "counting"}) {
		t.Errorf("Compare created stores %q, want each once, in order", made)
	}

	// The write benchmarks run on a store with the capabilities, and delete
	// the keys of their own.
	as := newAtomicWorkload().s.(*atomicStore)
	defer as.Store.Close()
	if benchFails(func(b *testing.B) { Bench(b, func(*testing.B) kv.Store { return as }) }) {
		t.Fatalf("Bench on a store with every capability of the benchmarks failed")
	}
	if got := as.cas.Load(); got < 3*3 {
		t.Errorf("Bench made %d CompareAndSwap calls, want at least 9 (3 at each of 3 goroutine counts)", got)
	}
	if keys, err := kv.Keys(ctx, as.Store, "*"); err != nil || len(keys) != 0 {
		t.Errorf("after Bench the store holds %d keys (err %v), want none: Bench deletes its keys", len(keys), err)
	}

	// Get fails once the warm-up is over: in the timed loop.
	s.failAfter.Store(s.gets.Load() + 2*benchKeys)
	if !benchFails(func(b *testing.B) { Bench(b, func(*testing.B) kv.Store { return s }) }) {
		t.Errorf("Bench on a store whose Get fails did not fail")
	}
	s.failAfter.Store(s.gets.Load() + 2*benchKeys)
	if !benchFails(func(b *testing.B) {
		Compare(b, Contender{Name: "failing", Ops: []string{"Get"}, Pars: []int{2}, New: func(*testing.B) kv.Store { return s }})
	}) {
		t.Errorf("Compare of a store whose Get fails did not fail")
	}
}

// TestBenchOpsReportErrors checks that a failing call says what was called.
func TestBenchOpsReportErrors(t *testing.T) {
	s := memory.New(nil)
	defer s.Close()
	w := &workload{s: s, ctx: context.Background(), keys: make([]string, benchKeys), missing: make([]string, benchKeys)}
	for i := range w.keys {
		w.keys[i] = fmt.Sprintf("k%d", i)
		w.missing[i] = fmt.Sprintf("m%d", i)
	}
	_ = s.Set(w.ctx, w.missing[7], []byte("x"))
	_ = s.Set(w.ctx, w.keys[5], []byte("short"))
	for _, tc := range []struct {
		op   string
		i    int
		want string
	}{
		{"Get", 3, `Get("k3"): memory: get "k3": kv: key not found`},
		{"Get", 5, `Get("k5"): got 5 bytes, want 64`},
		{"GetMulti100", 3, `GetMulti(keys "k300" to "k399"): got 100 values, or keys not found; want 100 values found`},
		{"GetMiss", 7, `Get("m7") of a missing key: got err <nil>, want errors.Is(_, kv.ErrNotFound)`},
	} {
		err := benchOpNamed(tc.op).call(w, 0, tc.i)
		if err == nil || !strings.HasPrefix(err.Error(), tc.want) {
			t.Errorf("%s call %d: got err %v, want %s", tc.op, tc.i, err, tc.want)
		}
	}
}

// TestBenchSwaps checks that every CompareAndSwap call of a goroutine swaps,
// from the value prepareSwaps gives its key, and that a call that does not
// swap fails.
func TestBenchSwaps(t *testing.T) {
	w := newAtomicWorkload()
	defer w.s.(*atomicStore).Store.Close()
	w.ctx, w.prefix = context.Background(), "p:"
	w.swaps = [2][]byte{[]byte("AAAA"), []byte("ZZZZ")}
	cas := benchOpNamed("CompareAndSwap")
	for _, par := range []int{1, 3, 8} {
		if err := cas.prepare(w, par); err != nil {
			t.Fatalf("prepare at %d goroutines: %v", par, err)
		}
		for g := range par {
			for i := firstCall(g, par); i < firstCall(g, par)+5; i++ {
				if err := cas.call(w, g, i); err != nil {
					t.Fatalf("par=%d: goroutine %d, call %d: %v", par, g, i, err)
				}
			}
		}
	}
	// Goroutine 0 made 5 calls: its key holds "ZZZZ".
	want := `CompareAndSwap("p:swap:0", "AAAA"..., "ZZZZ"..., KeepTTL): not swapped, want swapped`
	if err := cas.call(w, 0, 0); err == nil || !strings.HasPrefix(err.Error(), want) {
		t.Errorf("a call whose key holds the other value: got err %v, want %s", err, want)
	}
}

// A setRecorder is a memory store that records, in log, which of the
// stores sharing log made each Set.
type setRecorder struct {
	kv.Store
	id  int
	mu  *sync.Mutex
	log *[]int
}

func (r setRecorder) Set(ctx context.Context, key string, value []byte) error {
	r.mu.Lock()
	*r.log = append(*r.log, r.id)
	r.mu.Unlock()
	return r.Store.Set(ctx, key, value)
}

// TestSeedWritesTogether checks that seed writes the keys of its
// workloads together, a block of 100 of one then of the next, not those
// of one workload after those of the other.
func TestSeedWritesTogether(t *testing.T) {
	var (
		mu  sync.Mutex
		log []int
	)
	testing.Benchmark(func(b *testing.B) {
		mu.Lock()
		log = log[:0]
		mu.Unlock()
		works := make([]*workload, 2)
		for i := range works {
			works[i] = newWorkload(b, func(*testing.B) kv.Store {
				return setRecorder{Store: memory.New(nil), id: i, mu: &mu, log: &log}
			})
		}
		seed(b, works)
	})
	if len(log) != 2*benchKeys {
		t.Fatalf("seed made %d Sets, want %d", len(log), 2*benchKeys)
	}
	// Where half the keys of the first workload are written, the second's
	// writing has begun and is about as far along.
	var n [2]int
	for _, id := range log {
		n[id]++
		if n[0] == benchKeys/2 {
			break
		}
	}
	if n[1] < benchKeys/4 {
		t.Errorf("when seed had written %d keys of the first workload, it had written %d of the second; want them written together", n[0], n[1])
	}
}
