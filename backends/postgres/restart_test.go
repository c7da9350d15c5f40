package postgres_test

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/cledar/storekit/backends/postgres"
	"github.com/cledar/storekit/backends/postgres/pgtest"
	"github.com/cledar/storekit/kv"
)

// TestServerRestartedUnderLoad restarts a server of the test's own (pg_ctl
// restart -m fast), then stops it at once, leaves it down a second and
// starts it again, all while goroutines call the store. Every call either
// succeeds, fails with an error wrapping kv.ErrUnavailable, or, when its
// deadline passed, with one wrapping context.DeadlineExceeded, and none
// hangs past its deadline. Afterwards the same store, never reopened,
// serves calls again; its watch resyncs and hears new writes, as does a
// watch started as soon as the server is back (while it was down, Watch
// failed as unavailable); and a
// configstore.Store on it converges to a change another store made after
// the restart, through Fetch and through its watcher.
func TestServerRestartedUnderLoad(t *testing.T) {
	srv := pgtest.Start(t)
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	pool, schema := pgtest.PoolOn(t, srv.URL(), pgtest.Name("storekit_restart_"))
	opts := &postgres.Options{Schema: schema, Table: "kv", CreateSchema: true}
	s := newStore(t, pool, opts)
	if err := s.CreateSchema(ctx); err != nil {
		t.Fatal(err)
	}
	// Another process's store on the same table, with a pool of its own.
	otherPool, _ := pgtest.PoolOn(t, srv.URL(), "")
	other := newStore(t, otherPool, opts)

	ch, err := s.Watch(ctx, "w:*")
	if err != nil {
		t.Fatal(err)
	}
	if ev := nextEvent(t, ch); ev.Op != kv.OpResync {
		t.Fatalf("first event %v, want resync", ev)
	}
	cfg, otherCfg, heard := configPair(t, ctx, s, other)
	if _, err := otherCfg.Update(ctx, "flags", flags{Limit: 1}); err != nil {
		t.Fatal(err)
	}
	waitConfigState(t, heard, 1, flags{Limit: 1})

	load := startLoad(t, ctx, s, 6)
	time.Sleep(300 * time.Millisecond)
	srv.Restart(t)
	time.Sleep(300 * time.Millisecond)
	srv.Stop(t)
	// A Watch while the server is down fails: it cannot be live.
	wctx, wcancel := context.WithTimeout(ctx, loadTimeout)
	if _, err := s.Watch(wctx, "late:*"); !errors.Is(err, kv.ErrUnavailable) {
		t.Errorf("Watch while the server is down: %v, want errors.Is(_, kv.ErrUnavailable)", err)
	}
	wcancel()
	time.Sleep(time.Second)
	srv.Start(t)
	// A Watch as soon as the server is back, perhaps before the store's
	// listening connection is: it returns a live watch.
	var late <-chan kv.Event
	retry(t, "Watch after the restart", func() (err error) {
		late, err = s.Watch(ctx, "late:*")
		return err
	})
	// The other store changes the key as soon as it can after the server
	// is back, perhaps before this store's watch has listened again.
	retry(t, "the other store's Update after the restart", func() error {
		_, err := otherCfg.Update(ctx, "flags", flags{Beta: true, Limit: 2})
		return err
	})
	time.Sleep(300 * time.Millisecond)
	load.stop(t)
	if load.unavailable == 0 {
		t.Error("no call failed while the server restarted and was down: the test tested nothing")
	}

	// The store recovers without being reopened.
	retry(t, "Set after the restart", func() error { return s.Set(ctx, "after", []byte("v")) })
	if v, err := s.Get(ctx, "after"); err != nil || string(v) != "v" {
		t.Errorf("Get after the store recovered: %q, %v", v, err)
	}
	for i, call := range loadCalls(s, 0) {
		if err := call(ctx); err != nil && !errors.Is(err, kv.ErrNotFound) {
			t.Errorf("call %d of the load after the store recovered: %v", i, err)
		}
	}

	waitWatchRecovered(t, ctx, s, ch, "w:after")
	waitWatchRecovered(t, ctx, s, late, "late:k")
	if got := s.Metrics().Watch.Resubscribes; got == 0 {
		t.Error("the watch counted no resubscribe across a restart")
	}

	waitConfigState(t, heard, 2, flags{Beta: true, Limit: 2})
	waitFetch(t, ctx, cfg, 2, flags{Beta: true, Limit: 2})
}

// A load is goroutines that call a store until stopped, each call with a
// deadline of its own, and count how the calls ended.
type load struct {
	done chan struct{}
	wg   sync.WaitGroup

	mu                        sync.Mutex
	ok, unavailable, deadline int
}

// loadTimeout is the deadline of each call of a load.
const loadTimeout = 3 * time.Second

// startLoad starts workers goroutines calling s, each through every call
// of loadCalls in turn, until the load is stopped. A call that fails
// otherwise than with kv.ErrUnavailable, or with context.DeadlineExceeded
// once its deadline passed, fails t; so does a call that returns long
// after its deadline, a hang.
func startLoad(t *testing.T, ctx context.Context, s *postgres.Store, workers int) *load {
	l := &load{done: make(chan struct{})}
	for w := range workers {
		calls := loadCalls(s, w)
		l.wg.Go(func() {
			for i := 0; ; i++ {
				select {
				case <-l.done:
					return
				default:
				}
				cctx, cancel := context.WithTimeout(ctx, loadTimeout)
				start := time.Now()
				err := calls[i%len(calls)](cctx)
				took := time.Since(start)
				passed := cctx.Err()
				cancel()
				// A bound that catches a hang, never a measure of speed.
				if took > loadTimeout+10*time.Second {
					t.Errorf("call %d of worker %d took %v, past its deadline of %v", i%len(calls), w, took, loadTimeout)
				}
				l.mu.Lock()
				switch {
				case err == nil, errors.Is(err, kv.ErrNotFound):
					l.ok++
				case errors.Is(err, kv.ErrUnavailable):
					l.unavailable++
				case errors.Is(err, context.DeadlineExceeded) && errors.Is(passed, context.DeadlineExceeded):
					l.deadline++
				default:
					t.Errorf("call %d of worker %d: %v (deadline passed: %v); want nil, errors.Is(_, kv.ErrUnavailable), or context.DeadlineExceeded after the deadline",
						i%len(calls), w, err, passed != nil)
				}
				l.mu.Unlock()
			}
		})
	}
	return l
}

// stop stops the load's goroutines and logs how their calls ended.
func (l *load) stop(t *testing.T) {
	close(l.done)
	l.wg.Wait()
	t.Logf("load: %d calls succeeded, %d failed as unavailable, %d ran out of their deadline", l.ok, l.unavailable, l.deadline)
}

// loadCalls returns the calls a load's worker w makes: Set, Get, GetMulti,
// CompareAndSwap, Incr and Append, on keys of its own. A Get may find no
// key, when the Set before it failed.
func loadCalls(s *postgres.Store, w int) []func(context.Context) error {
	key := fmt.Sprintf("load:%d:", w)
	n := 0
	return []func(context.Context) error{
		func(ctx context.Context) error {
			n++
			return s.Set(ctx, key+"v", []byte(strconv.Itoa(n)))
		},
		func(ctx context.Context) error {
			_, err := s.Get(ctx, key+"v")
			return err
		},
		func(ctx context.Context) error {
			_, err := s.GetMulti(ctx, []string{key + "v", key + "n", key + "none"})
			return err
		},
		func(ctx context.Context) error {
			_, err := s.CompareAndSwap(ctx, key+"v", []byte(strconv.Itoa(n)), []byte("swapped"), 0)
			return err
		},
		func(ctx context.Context) error {
			_, err := s.Incr(ctx, key+"n", 1)
			return err
		},
		func(ctx context.Context) error {
			_, err := s.Append(ctx, key+"h", []byte("x"))
			return err
		},
	}
}

// retry calls f until it succeeds, failing t if it still fails after 30s.
func retry(t *testing.T, what string, f func() error) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for {
		err := f()
		if err == nil {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s: still failing after 30s: %v", what, err)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// waitWatchRecovered waits for ch, a watch that lost its connection, to
// send an OpResync and then the event of a Set of key made after it. A Set
// made before the watch listened again may go unheard, its loss reported by
// the resync: such a Set is made again.
func waitWatchRecovered(t *testing.T, ctx context.Context, s *postgres.Store, ch <-chan kv.Event, key string) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	resynced := false
	for {
		if err := s.Set(ctx, key, []byte("v")); err != nil && !errors.Is(err, kv.ErrUnavailable) {
			t.Fatalf("Set(%q): %v", key, err)
		}
		wait := time.After(2 * time.Second)
	events:
		for {
			select {
			case ev, ok := <-ch:
				switch {
				case !ok:
					t.Fatal("the watch channel closed")
				case ev.Op == kv.OpResync:
					resynced = true
				case ev.Op == kv.OpSet && ev.Key == key && resynced:
					return
				case ev.Op == kv.OpSet && ev.Key == key:
					t.Fatalf("the watch heard the Set of %q before any resync: it lost its connection but did not say so", key)
				}
			case <-wait:
				break events
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("within 30s the watch did not resync and then hear a Set of %q (resynced: %v)", key, resynced)
		}
	}
}
