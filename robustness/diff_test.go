package robustness

import (
	"context"
	"fmt"
	"math/rand/v2"
	"os"
	"sync"
	"testing"
	"time"

	"github.com/cledar/storekit/backends/memory"
)

// Budgets of sequences per target: the bounded run of make test, and a
// soak's.
const (
	testBudget   = 20 * time.Second
	soakBudget   = 3 * time.Minute
	shrinkBudget = 60 * time.Second
	// shrinkEventWait bounds the wait for events while shrinking: a
	// sequence that misses one costs that much.
	shrinkEventWait = 3 * time.Second
	// manualClockTarget names the memory store on a ManualClock, where
	// sequences let keys expire between any two steps and TTLs are
	// compared exactly.
	manualClockTarget = "memory/manualclock"
)

// diffBudget returns how long each target runs sequences.
func diffBudget(t *testing.T) time.Duration {
	t.Helper()
	switch s := os.Getenv(envSoak); s {
	case "", "0":
		return testBudget
	case "1":
		return soakBudget
	default:
		d, err := time.ParseDuration(s)
		if err != nil || d <= 0 {
			t.Fatalf("%s=%q: want 1 or a positive duration", envSoak, s)
		}
		return d
	}
}

// A diffTarget is a store to run sequences on and how they pass time.
type diffTarget struct {
	name string
	env  runEnv
}

// diffTargets returns every target of Targets.
func diffTargets(t *testing.T) []diffTarget {
	t.Helper()
	var out []diffTarget
	for _, tg := range Targets(t) {
		st, err := asFull(tg.New(t))
		if err != nil {
			t.Fatalf("%s: %v", tg.Name, err)
		}
		env := runEnv{Store: st, Sleep: time.Sleep, NoWatch: tg.NoNotifications, AddCounter: tg.AddCounter}
		if tg.Advance != nil {
			env.Sleep, env.Exact = tg.Advance, true
		}
		out = append(out, diffTarget{name: tg.Name, env: env})
	}
	return out
}

// manualClockDiffTarget returns a new memory store on a ManualClock.
func manualClockDiffTarget(t *testing.T) diffTarget {
	t.Helper()
	clock := memory.NewManualClock(time.Now())
	mem := memory.New(&memory.Options{Clock: clock})
	t.Cleanup(func() { mem.Close() })
	return diffTarget{name: manualClockTarget, env: runEnv{Store: mem, Exact: true, Sleep: clock.Advance}}
}

// seqSeed returns the seed of the i-th sequence of a run with seed.
func seqSeed(seed uint64, i int) uint64 {
	return rand.New(rand.NewPCG(seed, uint64(i))).Uint64()
}

// TestDifferential runs random sequences of every operation of the
// contract on every target and on the model, for a budget of time per
// target, and compares every result, every watch's events and the reads
// made on each event. A difference fails the test with the seed, and the
// sequence shrunk to a minimal one, printed as a test function.
func TestDifferential(t *testing.T) {
	seed := runSeed(t)
	budget := diffBudget(t)
	t.Logf("seed %d (%s=%d repeats these sequences), %v per target", seed, envSeed, seed, budget)
	// The targets run at once, each in a subtest called from a goroutine
	// of its own, not with t.Parallel, which -parallel (GOMAXPROCS, 2
	// here) would run two at a time.
	var wg sync.WaitGroup
	for _, tg := range diffTargets(t) {
		wg.Go(func() {
			t.Run(tg.name, func(t *testing.T) { runTargetAndLog(t, tg, seed, budget) })
		})
	}
	wg.Wait()
}

// TestDifferentialManualClock is TestDifferential on the memory store on a
// ManualClock, where keys expire between any two steps of a sequence and
// every TTL is compared exactly.
func TestDifferentialManualClock(t *testing.T) {
	t.Parallel()
	seed := runSeed(t)
	budget := diffBudget(t)
	t.Logf("seed %d (%s=%d repeats these sequences), %v", seed, envSeed, seed, budget)
	runTargetAndLog(t, manualClockDiffTarget(t), seed, budget)
}

// runTargetAndLog runs sequences on tg for budget and logs what it ran.
func runTargetAndLog(t *testing.T, tg diffTarget, seed uint64, budget time.Duration) {
	t.Helper()
	stats := runTarget(t, tg, seed, budget)
	t.Logf("%s: seed %d: %d sequences × %d operations, %d events compared, %d reads after events",
		tg.name, seed, stats.Sequences, stats.Ops, stats.Events, stats.Reads)
	if stats.Sequences == 0 {
		t.Error("no sequence ran")
	}
}

// runTarget runs sequences on tg until the budget is spent or one fails,
// which it reports shrunk.
func runTarget(t *testing.T, tg diffTarget, seed uint64, budget time.Duration) runStats {
	t.Helper()
	var stats runStats
	start := time.Now()
	for i := 0; i == 0 || time.Since(start) < budget; i++ {
		ss := seqSeed(seed, i)
		seq := generate(ss, 20+int(ss%60), tg.env.Exact)
		fails, st := runOn(t, tg.env, seq)
		stats.add(st)
		if fails != nil {
			reportFailure(t, tg, fmt.Sprintf("seed %d, sequence %d", seed, i), seq, fails)
			break
		}
	}
	return stats
}

// prefixes numbers the key prefixes of the sequences of a test binary:
// each sequence, shrinking's too, runs under a prefix of its own.
var prefixes = make(chan int, 1)

func init() { prefixes <- 0 }

func nextPrefix() string {
	n := <-prefixes
	prefixes <- n + 1
	return fmt.Sprintf("d%07d:", n)
}

// runOn runs seq under a new prefix of env's store, within a bound that
// only a hang reaches.
func runOn(t *testing.T, env runEnv, seq []step) ([]*failure, runStats) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	return runSequence(ctx, env, nextPrefix(), seq)
}

// reportFailure fails t with a sequence's first difference, then shrinks
// the sequence and prints the result as a test function.
func reportFailure(t *testing.T, tg diffTarget, where string, seq []step, fails []*failure) {
	t.Helper()
	t.Errorf("%s: %s differs from the model (%s): %v", tg.name, where, tg.name, fails[0])
	small, last := shrinkFailure(t, tg.env, seq, fails[0].Check, shrinkBudget)
	t.Errorf("shrunk from %d to %d steps: %v\n%s", len(seq), len(small), last, reproTest(tg.name, small))
}

// shrinkFailure shrinks seq, which fails check on env, for at most budget,
// and returns the shrunk sequence and its failure.
func shrinkFailure(t *testing.T, env runEnv, seq []step, check string, budget time.Duration) ([]step, *failure) {
	t.Helper()
	env.EventWait = shrinkEventWait
	var last *failure
	// A read that overtakes a write is a race: such a candidate gets a
	// second run before it counts as passing.
	tries := 1
	if check == checkVisibility {
		tries = 2
	}
	small := shrink(seq, env.Exact, func(c []step) bool {
		for range tries {
			fails, _ := runOn(t, env, c)
			for _, f := range fails {
				if f.Check == check {
					last = f
					return true
				}
			}
		}
		return false
	}, time.Now().Add(budget))
	if last == nil {
		fails, _ := runOn(t, env, small)
		if len(fails) > 0 {
			last = fails[0]
		}
	}
	return small, last
}

// replay runs seq on the named target (a name of Targets, or
// "memory/manualclock") and fails t with every difference: the function
// that a shrunk failure is printed as calls it.
func replay(t *testing.T, target string, seq []step) {
	t.Helper()
	targets := []diffTarget{manualClockDiffTarget(t)}
	if target != manualClockTarget {
		targets = diffTargets(t)
	}
	for _, tg := range targets {
		if tg.name != target {
			continue
		}
		fails, _ := runOn(t, tg.env, seq)
		for _, f := range fails {
			t.Errorf("%s: %v", target, f)
		}
		return
	}
	t.Fatalf("no target %q", target)
}

// TestReplayMemory shows what a shrunk failure is printed as, run on the
// memory store: a sequence of steps replayed with replay.
func TestReplayMemory(t *testing.T) {
	replay(t, manualClockTarget, []step{
		{Kind: kSetWithTTL, Key: "*", Value: []byte("41"), TTL: 1500 * time.Millisecond},
		{Kind: kIncr, Key: "*", N: 1},
		{Kind: kSleep, TTL: 1000 * time.Millisecond},
		{Kind: kTTL, Key: "*"},
		{Kind: kAppend, Key: "*", Value: []byte("")},
		{Kind: kScan, Pattern: `\*`},
		{Kind: kSleep, TTL: 1000 * time.Millisecond},
		{Kind: kLatest, Key: "*"},
	})
}
