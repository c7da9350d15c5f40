package conformance

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"slices"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/cledar/storekit/backends/memory"
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

// withBenchtime sets -test.benchtime for the rest of the test.
func withBenchtime(t *testing.T, value string) {
	t.Helper()
	f := flag.Lookup("test.benchtime")
	old := f.Value.String()
	if err := f.Value.Set(value); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = f.Value.Set(old) })
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
	withBenchtime(t, "3x")
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

	// Get fails once the warm-up is over: in the timed loop.
	s.failAfter.Store(s.gets.Load() + 2*benchKeys)
	if !benchFails(func(b *testing.B) { Bench(b, func(*testing.B) kv.Store { return s }) }) {
		t.Errorf("Bench on a store whose Get fails did not fail")
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
		err := benchOpNamed(tc.op).call(w, tc.i)
		if err == nil || !strings.HasPrefix(err.Error(), tc.want) {
			t.Errorf("%s call %d: got err %v, want %s", tc.op, tc.i, err, tc.want)
		}
	}
}
