package conformance

import (
	"fmt"
	"runtime"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/cledar/storekit/backends/memory"
	"github.com/cledar/storekit/kv"
)

// TestRunReference runs the suite, through Run and *testing.T, on the
// reference store.
func TestRunReference(t *testing.T) {
	Run(t, func(t *testing.T) kv.Store { return newRefStore() })
}

// metaConfig shortens the bounds that only broken stores reach.
func metaConfig() *config {
	cfg := defaultConfig()
	cfg.eventTimeout = time.Second
	cfg.expiryWait = 2 * time.Second
	cfg.ttl = 100 * time.Millisecond
	cfg.ttlMargin = 100 * time.Millisecond
	cfg.slowWrites = 5000 // more than eventq.DefaultLimit
	cfg.slowBound = 2 * time.Second
	cfg.largeValue = 64<<10 + 1
	return cfg
}

// A recorder is a tb that records what a case reports. Like testing.T,
// Fatalf and Skipf end the case's goroutine.
type recorder struct {
	name string

	mu       sync.Mutex
	failures []string
	skip     string
	logs     []string
	cleanups []func()
}

func (r *recorder) Helper()      {}
func (r *recorder) Name() string { return r.name }

func (r *recorder) Errorf(format string, args ...any) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.failures = append(r.failures, fmt.Sprintf(format, args...))
}

func (r *recorder) Fatalf(format string, args ...any) {
	r.Errorf(format, args...)
	runtime.Goexit()
}

func (r *recorder) Skipf(format string, args ...any) {
	r.mu.Lock()
	r.skip = fmt.Sprintf(format, args...)
	r.mu.Unlock()
	runtime.Goexit()
}

func (r *recorder) Logf(format string, args ...any) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.logs = append(r.logs, fmt.Sprintf(format, args...))
}

func (r *recorder) Cleanup(f func()) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.cleanups = append(r.cleanups, f)
}

// runCleanups runs the cleanups last registered first, as testing does.
func (r *recorder) runCleanups() {
	for {
		r.mu.Lock()
		n := len(r.cleanups)
		if n == 0 {
			r.mu.Unlock()
			return
		}
		f := r.cleanups[n-1]
		r.cleanups = r.cleanups[:n-1]
		r.mu.Unlock()
		f()
	}
}

// runSuite runs every case against stores from newStore, all at once, each
// case in its own goroutine, and returns their recorders by case name.
func runSuite(cfg *config, newStore func() kv.Store) map[string]*recorder {
	results := make(map[string]*recorder)
	var wg sync.WaitGroup
	for i := range allCases {
		tc := &allCases[i]
		r := &recorder{name: "Meta/" + tc.name}
		results[tc.name] = r
		wg.Go(func() {
			defer r.runCleanups()
			runCase(r, tc, cfg, newStore)
		})
	}
	wg.Wait()
	return results
}

// failed returns the names of the cases that reported a failure, sorted.
func failed(results map[string]*recorder) []string {
	var names []string
	for name, r := range results {
		if len(r.failures) > 0 {
			names = append(names, name)
		}
	}
	slices.Sort(names)
	return names
}

// TestSuitePassesReference checks that the suite finds nothing wrong with the
// reference store, and runs every case on it.
func TestSuitePassesReference(t *testing.T) {
	defer checkGoroutines(t, runtime.NumGoroutine())
	results := runSuite(metaConfig(), func() kv.Store { return newRefStore() })
	for _, tc := range allCases {
		r := results[tc.name]
		for _, f := range r.failures {
			t.Errorf("%s: unexpected failure on the reference store: %s", tc.name, f)
		}
		if r.skip != "" {
			t.Errorf("%s: skipped on the reference store: %s", tc.name, r.skip)
		}
	}
}

// checkGoroutines checks that the goroutines started since there were
// before of them have ended: the suite cancels and drains its watches, and
// the store under test ends its own goroutines at Close.
func checkGoroutines(t *testing.T, before int) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for runtime.NumGoroutine() > before && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
	}
	if n := runtime.NumGoroutine(); n > before {
		buf := make([]byte, 1<<20)
		t.Errorf("%d goroutines before the suite, %d after it:\n%s", before, n, buf[:runtime.Stack(buf, true)])
	}
}

// TestSuiteSkipsMissingCapabilities checks that on a store with none of the
// optional interfaces every case that needs one is skipped, naming it, and
// every other case passes.
func TestSuiteSkipsMissingCapabilities(t *testing.T) {
	results := runSuite(metaConfig(), func() kv.Store { return storeOnly{newRefStore()} })
	for _, tc := range allCases {
		r := results[tc.name]
		for _, f := range r.failures {
			t.Errorf("%s: unexpected failure on a plain kv.Store: %s", tc.name, f)
		}
		switch {
		case len(tc.needs) == 0 && r.skip != "":
			t.Errorf("%s: skipped on a plain kv.Store: %s", tc.name, r.skip)
		case len(tc.needs) > 0 && !strings.HasPrefix(r.skip, "conformance.storeOnly does not implement kv."):
			t.Errorf("%s: needs %v; got skip message %q, want \"conformance.storeOnly does not implement kv.X\"",
				tc.name, tc.needs, r.skip)
		}
	}
}

// noPruner hides the Prune method of the store it holds.
type noPruner struct{ allButPruner }

// TestSuiteSkipsPrunerOnly checks that on a store with every optional
// interface but kv.Pruner exactly the cases that need it are skipped, naming
// it, and every other case passes.
func TestSuiteSkipsPrunerOnly(t *testing.T) {
	results := runSuite(metaConfig(), func() kv.Store { return noPruner{newRefStore()} })
	skipped := 0
	for _, tc := range allCases {
		r := results[tc.name]
		for _, f := range r.failures {
			t.Errorf("%s: unexpected failure on a store without kv.Pruner: %s", tc.name, f)
		}
		needsPruner := slices.Contains(tc.needs, pruner)
		switch {
		case !needsPruner && r.skip != "":
			t.Errorf("%s: skipped on a store without kv.Pruner: %s", tc.name, r.skip)
		case needsPruner && r.skip != "conformance.noPruner does not implement kv.Pruner":
			t.Errorf("%s: got skip message %q, want \"conformance.noPruner does not implement kv.Pruner\"", tc.name, r.skip)
		case needsPruner:
			skipped++
		}
	}
	if skipped == 0 {
		t.Error("no case needs kv.Pruner")
	}
}

// correctStores are the correct stores the broken ones wrap.
var correctStores = []struct {
	name string
	new  func() fullStore
}{
	{"memory", func() fullStore { return memory.New(nil) }},
	{"ref", func() fullStore { return newRefStore() }},
}

// TestSuitePassesMemory checks that the suite, with its cases run all at
// once, finds nothing wrong with the memory backend.
func TestSuitePassesMemory(t *testing.T) {
	defer checkGoroutines(t, runtime.NumGoroutine())
	results := runSuite(metaConfig(), func() kv.Store { return memory.New(nil) })
	for _, tc := range allCases {
		for _, f := range results[tc.name].failures {
			t.Errorf("%s: unexpected failure on the memory backend: %s", tc.name, f)
		}
	}
}

// TestSuiteCatchesBrokenStores runs the suite on stores that each break a
// rule, wrapping each correct store, and checks that a case of the rule's
// family reports it. With -short only the memory backend is wrapped.
//
// The suites run eight at a time, whatever go test's -parallel says: they
// spend most of their time waiting out the bounds a broken store reaches.
func TestSuiteCatchesBrokenStores(t *testing.T) {
	for _, base := range correctStores {
		if testing.Short() && base.name != "memory" {
			continue
		}
		t.Run(base.name, func(t *testing.T) {
			t.Parallel()
			results := make([]map[string]*recorder, len(brokenStores))
			sem := make(chan struct{}, 8)
			var wg sync.WaitGroup
			for i, b := range brokenStores {
				wg.Go(func() {
					sem <- struct{}{}
					defer func() { <-sem }()
					results[i] = runBroken(b, base.new)
				})
			}
			wg.Wait()
			for i, b := range brokenStores {
				t.Run(b.name, func(t *testing.T) { checkCaught(t, b, results[i]) })
			}
		})
	}
}

// runBroken runs the suite on b wrapped around stores from newCorrect.
func runBroken(b brokenStore, newCorrect func() fullStore) map[string]*recorder {
	var mu sync.Mutex
	var inner []fullStore
	results := runSuite(metaConfig(), func() kv.Store {
		s := newCorrect()
		mu.Lock()
		inner = append(inner, s)
		mu.Unlock()
		return b.wrap(s)
	})
	for _, s := range inner {
		_ = s.Close() // some broken stores do not pass Close on
	}
	return results
}

// checkCaught checks that the suite's results on b report a failure, in
// one of the cases b names.
func checkCaught(t *testing.T, b brokenStore, results map[string]*recorder) {
	names := failed(results)
	t.Logf("%s is caught by %d cases: %s", b.name, len(names), strings.Join(names, ", "))
	if len(names) == 0 {
		t.Fatalf("the suite found nothing wrong with a store that breaks: %s", b.breaks)
	}
	if !slices.ContainsFunc(names, func(n string) bool { return slices.Contains(b.caughtBy, n) }) {
		t.Errorf("the store breaks %s; failed cases %v include none of %v", b.breaks, names, b.caughtBy)
	}
	for _, n := range b.caughtBy {
		if _, ok := results[n]; !ok {
			t.Errorf("caughtBy names %q, which is not a case", n)
		}
	}
	if testing.Verbose() {
		for _, n := range names {
			t.Logf("%s: %s", n, results[n].failures[0])
		}
	}
}

// TestCases checks the exported case list: unique, well-formed names and a
// rule for each.
func TestCases(t *testing.T) {
	seen := make(map[string]bool)
	for _, c := range Cases() {
		fam, leaf, ok := strings.Cut(c.Name, "/")
		if !ok || fam == "" || leaf == "" || strings.Contains(leaf, "/") || strings.ContainsAny(c.Name, " \t") {
			t.Errorf("case name %q is not Family/Case", c.Name)
		}
		if seen[c.Name] {
			t.Errorf("case name %q is used twice", c.Name)
		}
		seen[c.Name] = true
		if c.Rule == "" {
			t.Errorf("case %s has no rule", c.Name)
		}
	}
	var fams []string
	for _, f := range families() {
		if slices.Contains(fams, f.name) {
			t.Errorf("family %s is not contiguous in the case list", f.name)
		}
		fams = append(fams, f.name)
	}
}
