package robustness

import (
	"context"
	"iter"
	"net"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/cledar/storekit/backends/goredis"
	"github.com/cledar/storekit/backends/redisconf"
	"github.com/cledar/storekit/internal/redistest"
	"github.com/cledar/storekit/kv"
)

// A mutant is a store around a real backend with one deliberate bug, and
// the checks of the differential run that must catch it.
type mutant struct {
	name string
	// checks are the checks of which one must report the bug: the first
	// difference a run meets depends on the sequence.
	checks []string
	wrap   func(fullStore) fullStore
}

// mutants are the bugs the differential tests must catch. A CompareAndSwap
// done as a read then a write is missing: a sequential run cannot tell it
// from an atomic one, which is for the linearizability tests to catch.
var mutants = []mutant{
	{"SetWithTTLOneSecondLonger", []string{checkResult, checkFinal, checkEvents}, func(s fullStore) fullStore { return ttlLonger{s} }},
	{"EventBeforeWriteVisible", []string{checkVisibility}, func(s fullStore) fullStore { return newEarlyEvent(s) }},
	{"PersistReportsExpiry", []string{checkResult}, func(s fullStore) fullStore { return persistHadExpiry{s} }},
	{"ExpireReportsMissingKey", []string{checkResult}, func(s fullStore) fullStore { return expireMissing{s} }},
	{"ScanSkipsGlobKeys", []string{checkResult, checkFinal}, func(s fullStore) fullStore { return scanSkipsGlob{s} }},
	{"SetIfAbsentOverwrites", []string{checkResult, checkFinal, checkEvents}, func(s fullStore) fullStore { return setIfAbsentOverwrites{s} }},
	{"WatchDropsExpired", []string{checkEvents}, func(s fullStore) fullStore { return newDropExpired(s) }},
}

// mutantBudget bounds the sequences run on one mutant before the test
// gives up on catching it, and the shrinking of what caught it.
const (
	mutantSequences = 60
	mutantTime      = 45 * time.Second
	mutantShrink    = 10 * time.Second
)

// TestMutantsAreCaught runs the differential check on every mutant, around
// the memory store on a ManualClock and around goredis on a redis-server of
// its own, and shows that it reports each, naming the check that caught it
// and the shrunk sequence.
func TestMutantsAreCaught(t *testing.T) {
	seed := runSeed(t)
	t.Logf("seed %d (%s=%d repeats these sequences)", seed, envSeed, seed)
	redis := goredisStore(t)
	// Every mutant runs at once, as the targets of TestDifferential do.
	var wg sync.WaitGroup
	defer wg.Wait()
	for _, mu := range mutants {
		for _, base := range []struct {
			name string
			env  func(t *testing.T) runEnv
		}{
			{manualClockTarget, func(t *testing.T) runEnv { return manualClockDiffTarget(t).env }},
			{"goredis", func(*testing.T) runEnv { return runEnv{Store: redis, Sleep: time.Sleep} }},
		} {
			wg.Go(func() {
				t.Run(mu.name+"/"+base.name, func(t *testing.T) { runMutant(t, mu, base.env(t), base.name, seed) })
			})
		}
	}
}

// runMutant runs sequences on env's store with mu's bug until one fails,
// checks that one of mu's checks failed, and logs the check and the shrunk
// sequence. reproTarget names env in the printed test function.
func runMutant(t *testing.T, mu mutant, env runEnv, reproTarget string, seed uint64) {
	t.Helper()
	env.Store = mu.wrap(env.Store)
	start := time.Now()
	for i := 0; i < mutantSequences && time.Since(start) < mutantTime; i++ {
		ss := seqSeed(seed, i)
		seq := generate(ss, 20+int(ss%60), env.Exact)
		fails, _ := runOn(t, env, seq)
		if fails == nil {
			continue
		}
		var checks []string
		for _, f := range fails {
			checks = append(checks, f.Check)
		}
		if !slices.ContainsFunc(checks, func(c string) bool { return slices.Contains(mu.checks, c) }) {
			t.Fatalf("sequence %d: caught by %v, want one of %v: %v", i, checks, mu.checks, fails[0])
		}
		small, last := shrinkFailure(t, env, seq, fails[0].Check, mutantShrink)
		t.Logf("caught by the %s check at sequence %d: %v\nshrunk from %d to %d steps: %v\n%s",
			fails[0].Check, i, fails[0], len(seq), len(small), last, reproTest(reproTarget, small))
		if last == nil {
			t.Errorf("the shrunk sequence does not fail")
		}
		return
	}
	t.Errorf("not caught by %d sequences in %v", mutantSequences, time.Since(start))
}

// goredisStore returns a goredis store on a redis-server of its own.
func goredisStore(t *testing.T) fullStore {
	t.Helper()
	srv := redistest.Start(t, nil)
	host, port, err := net.SplitHostPort(srv.Addr())
	if err != nil {
		t.Fatal(err)
	}
	n, err := strconv.Atoi(port)
	if err != nil {
		t.Fatal(err)
	}
	s := opened(t, func(ctx context.Context) (kv.Store, error) {
		return goredis.Dial(ctx, redisconf.Config{Host: host, Port: n}, nil)
	})
	st, err := asFull(s)
	if err != nil {
		t.Fatal(err)
	}
	return st
}

// TestMutantsAreStores checks that every mutant keeps every capability, so
// that the run meets its bug rather than a missing interface.
func TestMutantsAreStores(t *testing.T) {
	base := manualClockDiffTarget(t).env.Store
	for _, mu := range mutants {
		if _, err := asFull(mu.wrap(base)); err != nil {
			t.Errorf("%s: %v", mu.name, err)
		}
	}
}

// ttlLonger gives every SetWithTTL a second more than asked.
type ttlLonger struct{ fullStore }

func (s ttlLonger) SetWithTTL(ctx context.Context, key string, value []byte, ttl time.Duration) error {
	if ttl > 0 {
		ttl += time.Second
	}
	return s.fullStore.SetWithTTL(ctx, key, value, ttl)
}

// persistHadExpiry's Persist reports whether the key had an expiry, not
// whether it exists.
type persistHadExpiry struct{ fullStore }

func (s persistHadExpiry) Persist(ctx context.Context, key string) (bool, error) {
	ttl, err := s.fullStore.TTL(ctx, key)
	if err != nil {
		return false, nil
	}
	if _, err := s.fullStore.Persist(ctx, key); err != nil {
		return false, err
	}
	return ttl != kv.NoExpiry, nil
}

// expireMissing's Expire reports true for a missing key.
type expireMissing struct{ fullStore }

func (s expireMissing) Expire(ctx context.Context, key string, ttl time.Duration) (bool, error) {
	if _, err := s.fullStore.Expire(ctx, key, ttl); err != nil {
		return false, err
	}
	return true, nil
}

// scanSkipsGlob's Scan never yields a key holding a byte special to globs.
type scanSkipsGlob struct{ fullStore }

func (s scanSkipsGlob) Scan(ctx context.Context, pattern string) iter.Seq2[string, error] {
	return func(yield func(string, error) bool) {
		for k, err := range s.fullStore.Scan(ctx, pattern) {
			if err == nil && strings.ContainsAny(k, `*?[\`) {
				continue
			}
			if !yield(k, err) {
				return
			}
		}
	}
}

// setIfAbsentOverwrites's SetIfAbsent writes an existing key too, while
// reporting that it did not.
type setIfAbsentOverwrites struct{ fullStore }

func (s setIfAbsentOverwrites) SetIfAbsent(ctx context.Context, key string, value []byte, ttl time.Duration) (bool, error) {
	ok, err := s.fullStore.SetIfAbsent(ctx, key, value, ttl)
	if err != nil || ok {
		return ok, err
	}
	return false, s.fullStore.Set(ctx, key, value)
}

// A filterWatch forwards a watch's events through a function of its own,
// which may drop them, and lets the store send events of its own first.
type filterWatch struct {
	pattern string
	inject  chan kv.Event
}

// watches is the set of a mutant's filterWatches.
type watches struct {
	mu   sync.Mutex
	list map[*filterWatch]bool
}

// watch opens a watch on inner and returns its events as keep passes them,
// with the events send injects.
func (ws *watches) watch(ctx context.Context, inner fullStore, pattern string, keep func(injected map[string]int, ev kv.Event) bool) (<-chan kv.Event, error) {
	in, err := inner.Watch(ctx, pattern)
	if err != nil {
		return nil, err
	}
	w := &filterWatch{pattern: pattern, inject: make(chan kv.Event, 1024)}
	ws.mu.Lock()
	if ws.list == nil {
		ws.list = map[*filterWatch]bool{}
	}
	ws.list[w] = true
	ws.mu.Unlock()
	out := make(chan kv.Event, 1024)
	go func() {
		defer close(out)
		defer func() {
			ws.mu.Lock()
			delete(ws.list, w)
			ws.mu.Unlock()
		}()
		injected := map[string]int{}
		for {
			select {
			case ev := <-w.inject:
				// Events already waiting go first.
				for drained := false; !drained; {
					select {
					case e, ok := <-in:
						if ok && keep(injected, e) {
							out <- e
						}
						drained = !ok
					default:
						drained = true
					}
				}
				injected[ev.Key]++
				out <- ev
			case ev, ok := <-in:
				if !ok {
					return
				}
				if keep(injected, ev) {
					out <- ev
				}
			}
		}
	}()
	return out, nil
}

// send gives ev to every watch whose pattern matches its key.
func (ws *watches) send(ev kv.Event) {
	ws.mu.Lock()
	defer ws.mu.Unlock()
	for w := range ws.list {
		if kv.Match(w.pattern, ev.Key) {
			select {
			case w.inject <- ev:
			default:
			}
		}
	}
}

// earlyEvent's Set sends its OpSet to watchers before it writes, and its
// watches drop the OpSet the write then makes.
type earlyEvent struct {
	fullStore
	ws *watches
}

func newEarlyEvent(s fullStore) fullStore { return earlyEvent{s, &watches{}} }

func (s earlyEvent) Set(ctx context.Context, key string, value []byte) error {
	// The events of earlier writes get time to arrive first: the bug is
	// an event that overtakes its own write, not earlier events.
	time.Sleep(50 * time.Millisecond)
	s.ws.send(kv.Event{Op: kv.OpSet, Key: key})
	time.Sleep(50 * time.Millisecond)
	return s.fullStore.Set(ctx, key, value)
}

func (s earlyEvent) Watch(ctx context.Context, pattern string) (<-chan kv.Event, error) {
	return s.ws.watch(ctx, s.fullStore, pattern, func(injected map[string]int, ev kv.Event) bool {
		if ev.Op == kv.OpSet && injected[ev.Key] > 0 {
			injected[ev.Key]--
			return false
		}
		return true
	})
}

// dropExpired's watches never report OpExpired.
type dropExpired struct {
	fullStore
	ws *watches
}

func newDropExpired(s fullStore) fullStore { return dropExpired{s, &watches{}} }

func (s dropExpired) Watch(ctx context.Context, pattern string) (<-chan kv.Event, error) {
	return s.ws.watch(ctx, s.fullStore, pattern, func(_ map[string]int, ev kv.Event) bool {
		return ev.Op != kv.OpExpired
	})
}
