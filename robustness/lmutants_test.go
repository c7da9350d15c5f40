package robustness

import (
	"context"
	"errors"
	"os"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/cledar/storekit/backends/memory"
	"github.com/cledar/storekit/kv"
)

// The mutants below are memory stores with one deliberate bug each, of the
// kind that breaks linearizability only under concurrency. TestLinearMutants
// shows that the linearizability check catches each one.

// casTwoSteps does CompareAndSwap as a read and then a write: another
// writer can come between them, and both swaps succeed.
type casTwoSteps struct{ *memory.Store }

func (s casTwoSteps) CompareAndSwap(ctx context.Context, key string, old, value []byte, ttl time.Duration) (bool, error) {
	cur, err := s.Get(ctx, key)
	if errors.Is(err, kv.ErrNotFound) {
		return false, nil
	}
	if err != nil || string(cur) != string(old) {
		return false, err
	}
	runtime.Gosched()
	return true, s.Set(ctx, key, value)
}

// incrReadSet does Incr as a read and then a write, losing an increment
// when two race.
type incrReadSet struct{ *memory.Store }

func (s incrReadSet) Incr(ctx context.Context, key string, delta int64) (int64, error) {
	var cur int64
	v, err := s.Get(ctx, key)
	switch {
	case err == nil:
		if cur, err = strconv.ParseInt(string(v), 10, 64); err != nil {
			return 0, err
		}
	case !errors.Is(err, kv.ErrNotFound):
		return 0, err
	}
	runtime.Gosched()
	sum := cur + delta
	return sum, s.Set(ctx, key, []byte(strconv.FormatInt(sum, 10)))
}

// releaseAnyOwner deletes a lock's key on CompareAndDelete whoever holds it:
// package lock's Release then frees a lock its lease no longer holds.
type releaseAnyOwner struct{ *memory.Store }

func (s releaseAnyOwner) CompareAndDelete(ctx context.Context, key string, old []byte) (bool, error) {
	if !strings.HasSuffix(key, "lock") {
		return s.Store.CompareAndDelete(ctx, key, old)
	}
	_, err := s.Delete(ctx, key)
	return true, err
}

// A cachedStore keeps the values Get read in a local map, shared by every
// client of the store. An entry is dropped when a write through the store
// returns and when a watch of every key reports a change (a write made
// elsewhere); a Get stores what it read only if no invalidation came while
// it read. With skip set, it skips an invalidation now and then: every
// skipEvery-th write, when its key is cached, keeps the entry, and the next
// watch event on that key is ignored, so the entry holds the replaced value
// until the key's next write. (One skipped invalidation alone is often
// unseen: the write's own watch event may drop the entry first, or no read
// comes before the next write.)
type cachedStore struct {
	*memory.Store
	skip      bool
	skipEvery int

	mu      sync.Mutex
	entries map[string]cacheEntry
	gen     uint64 // counts invalidations
	writes  int
	ignore  string // the key whose next watch event is ignored
}

type cacheEntry struct {
	value []byte
	found bool
}

// newCachedStore returns a cachedStore over s, watching s until ctx ends.
func newCachedStore(ctx context.Context, tb testing.TB, s *memory.Store, skip bool) *cachedStore {
	c := &cachedStore{Store: s, skip: skip, skipEvery: 200, entries: make(map[string]cacheEntry)}
	events, err := s.Watch(ctx, "*")
	if err != nil {
		tb.Fatal(err)
	}
	var wg sync.WaitGroup
	tb.Cleanup(wg.Wait)
	wg.Go(func() {
		for ev := range events {
			c.mu.Lock()
			switch {
			case ev.Op == kv.OpResync:
				c.entries = make(map[string]cacheEntry)
				c.gen++
			case ev.Key == c.ignore:
				c.ignore = ""
			default:
				delete(c.entries, ev.Key)
				c.gen++
			}
			c.mu.Unlock()
		}
	})
	return c
}

func (c *cachedStore) Get(ctx context.Context, key string) ([]byte, error) {
	c.mu.Lock()
	e, ok := c.entries[key]
	gen := c.gen
	c.mu.Unlock()
	if ok {
		if !e.found {
			return nil, kv.ErrNotFound
		}
		return append([]byte(nil), e.value...), nil
	}
	v, err := c.Store.Get(ctx, key)
	if err != nil && !errors.Is(err, kv.ErrNotFound) {
		return nil, err
	}
	c.mu.Lock()
	if c.gen == gen {
		c.entries[key] = cacheEntry{value: append([]byte(nil), v...), found: err == nil}
	}
	c.mu.Unlock()
	return v, err
}

// invalidate drops key's entry once a write of it returned, unless this is
// an invalidation the mutant skips.
func (c *cachedStore) invalidate(key string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.writes++
	if _, cached := c.entries[key]; c.skip && cached && c.writes%c.skipEvery == 0 {
		c.ignore = key
		return
	}
	delete(c.entries, key)
	c.gen++
}

func (c *cachedStore) Set(ctx context.Context, key string, value []byte) error {
	defer c.invalidate(key)
	return c.Store.Set(ctx, key, value)
}

func (c *cachedStore) Delete(ctx context.Context, key string) (bool, error) {
	defer c.invalidate(key)
	return c.Store.Delete(ctx, key)
}

func (c *cachedStore) CompareAndSwap(ctx context.Context, key string, old, value []byte, ttl time.Duration) (bool, error) {
	defer c.invalidate(key)
	return c.Store.CompareAndSwap(ctx, key, old, value, ttl)
}

func (c *cachedStore) CompareAndDelete(ctx context.Context, key string, old []byte) (bool, error) {
	defer c.invalidate(key)
	return c.Store.CompareAndDelete(ctx, key, old)
}

func (c *cachedStore) SetIfAbsent(ctx context.Context, key string, value []byte, ttl time.Duration) (bool, error) {
	defer c.invalidate(key)
	return c.Store.SetIfAbsent(ctx, key, value, ttl)
}

func (c *cachedStore) Incr(ctx context.Context, key string, delta int64) (int64, error) {
	defer c.invalidate(key)
	return c.Store.Incr(ctx, key, delta)
}

// A linearMutant is one store under test: a bug, or its correct counterpart.
type linearMutant struct {
	name string
	// bug says what is wrong; empty for a correct store, which the check
	// must pass.
	bug string
	new func(ctx context.Context, tb testing.TB, s *memory.Store) kv.Store
	// stale checks the clients' Gets as those of rueidiskv's cached
	// clients are (CheckOptions.Stale): linearizable with their own
	// writes only.
	stale bool
}

var linearMutants = []linearMutant{
	{"cas-two-steps", "CompareAndSwap is a Get then a Set",
		func(_ context.Context, _ testing.TB, s *memory.Store) kv.Store { return casTwoSteps{s} }, false},
	{"incr-read-set", "Incr is a Get then a Set, losing increments that race",
		func(_ context.Context, _ testing.TB, s *memory.Store) kv.Store { return incrReadSet{s} }, false},
	{"cache-skips-invalidation", "a local cache now and then keeps an entry its write should have dropped",
		func(ctx context.Context, tb testing.TB, s *memory.Store) kv.Store {
			return newCachedStore(ctx, tb, s, true)
		}, false},
	{"release-any-owner", "the lock's release deletes the key without checking the holder",
		func(_ context.Context, _ testing.TB, s *memory.Store) kv.Store { return releaseAnyOwner{s} }, false},
	{"cache", "",
		func(ctx context.Context, tb testing.TB, s *memory.Store) kv.Store {
			return newCachedStore(ctx, tb, s, false)
		}, false},
	{"cache-skips-invalidation-stale", "a local cache keeps, every tenth write, an entry the write should " +
		"have dropped, and the writing client reads what its own write replaced",
		func(ctx context.Context, tb testing.TB, s *memory.Store) kv.Store {
			c := newCachedStore(ctx, tb, s, true)
			c.skipEvery = 10 // the check excuses the other clients' stale reads
			return c
		}, true},
	{"cache-stale", "",
		func(ctx context.Context, tb testing.TB, s *memory.Store) kv.Store {
			return newCachedStore(ctx, tb, s, false)
		}, true},
}

// TestLinearMutants runs the workload of TestLinearizable on each mutant,
// shared by four concurrent clients, and checks that the linearizability
// check finds each bug, trying a few seeds since a race may not happen in
// one run; the correct cache must pass.
func TestLinearMutants(t *testing.T) {
	seed := runSeed(t)
	t.Logf("seed %d (%s=%d reproduces the clients' choices)", seed, envSeed, seed)
	for _, m := range linearMutants {
		t.Run(m.name, func(t *testing.T) {
			tries := 5
			if m.bug == "" {
				tries = 1
			}
			for try := range tries {
				res := runLinearMutant(t, m, seed+uint64(try))
				switch {
				case m.bug == "" && res.Failed():
					t.Fatalf("a correct store fails the check: %v\n%s", res, res.Explanation)
				case m.bug == "":
					t.Logf("passes: %v", res)
					return
				case res.Failed():
					// The visualization of an expected failure is not kept.
					if res.Visualization != "" {
						os.Remove(res.Visualization)
						res.Visualization = ""
					}
					t.Logf("caught (%s) on try %d: %v\n%s", m.bug, try+1, res, res.Explanation)
					return
				default:
					t.Logf("try %d: not caught: %v", try+1, res)
				}
			}
			t.Errorf("the linearizability check never caught the mutant: %s", m.bug)
		})
	}
}

// runLinearMutant runs four clients on one store m makes over a new memory store
// and checks their history.
func runLinearMutant(t *testing.T, m linearMutant, seed uint64) CheckResult {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	mem := memory.New(nil)
	defer mem.Close()
	s := m.new(ctx, t, mem)
	stores := []kv.Store{s, s, s, s}
	h := NewHistory()
	w := Workload{Prefix: "m:", Registers: 2, Counters: 1, LockTTL: lockTTL, OpTimeout: opTimeout, Seed: seed}
	stop := make(chan struct{})
	time.AfterFunc(phase(), func() { close(stop) })
	if err := w.Run(h, 0, stores, stop); err != nil {
		t.Fatal(err)
	}
	opts := CheckOptions{LockTTL: lockTTL, Timeout: checkTimeout}
	if m.stale {
		opts.Stale = make(map[int]time.Duration)
		for c := range stores {
			opts.Stale[c] = cacheStale
		}
	}
	return Check(h, opts)
}
