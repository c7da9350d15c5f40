package postgres_test

import (
	"context"
	"errors"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/cledar/storekit/backends/postgres"
	"github.com/cledar/storekit/backends/postgres/pgtest"
	"github.com/cledar/storekit/kv"
)

// faultStore returns a store whose connections, its watches' included, name
// themselves to the server with an application_name of their own, and a
// function that terminates those connections, and no other, from a
// connection of its own, returning how many it ended. The store's table is
// "kv" in the schema it returns too.
func faultStore(t *testing.T) (*postgres.Store, string, func() int) {
	t.Helper()
	app := pgtest.Name("storekit_fault_")
	pool, schema := pgtest.Pool(t, app)
	s := newStore(t, pool, &postgres.Options{Schema: schema, Table: "kv", CreateSchema: true})
	if err := s.CreateSchema(testContext(t)); err != nil {
		t.Fatal(err)
	}
	killer, err := pgx.Connect(testContext(t), pgtest.URL(t))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { killer.Close(context.Background()) })
	var mu sync.Mutex // a pgx.Conn serves one query at a time
	terminate := func() int {
		mu.Lock()
		defer mu.Unlock()
		tag, err := killer.Exec(testContext(t), `SELECT pg_terminate_backend(pid) FROM pg_stat_activity
			WHERE datname = current_database() AND pid <> pg_backend_pid() AND application_name = $1`, app)
		if err != nil {
			t.Errorf("terminate the store's connections: %v", err)
			return 0
		}
		return int(tag.RowsAffected())
	}
	return s, schema, terminate
}

// TestConnectionsTerminated: while the server ends the store's connections
// again and again, every call either succeeds or fails with an error
// wrapping kv.ErrUnavailable within its deadline; afterwards the same store
// serves calls again.
func TestConnectionsTerminated(t *testing.T) {
	s, _, terminate := faultStore(t)
	ctx := testContext(t)
	const callTimeout = 5 * time.Second

	stop := make(chan struct{})
	var wg sync.WaitGroup
	var mu sync.Mutex
	var ok, unavailable int
	for w := range 4 {
		wg.Go(func() {
			for i := 0; ; i++ {
				select {
				case <-stop:
					return
				default:
				}
				key := "k" + strconv.Itoa(w)
				cctx, cancel := context.WithTimeout(ctx, callTimeout)
				start := time.Now()
				var err error
				if i%2 == 0 {
					err = s.Set(cctx, key, []byte(strconv.Itoa(i)))
				} else if _, err = s.Get(cctx, key); errors.Is(err, kv.ErrNotFound) {
					err = nil // the Set before it failed
				}
				cancel()
				// A bound that catches a hang, never a measure of speed.
				if took := time.Since(start); took > callTimeout+time.Second {
					t.Errorf("a call took %v, past its deadline of %v", took, callTimeout)
				}
				mu.Lock()
				switch {
				case err == nil:
					ok++
				case errors.Is(err, kv.ErrUnavailable):
					unavailable++
				default:
					t.Errorf("call %d of worker %d while connections end: %v, want nil or errors.Is(_, kv.ErrUnavailable)", i, w, err)
				}
				mu.Unlock()
			}
		})
	}
	killed := 0
	for range 10 {
		time.Sleep(50 * time.Millisecond)
		killed += terminate()
	}
	close(stop)
	wg.Wait()
	if killed == 0 {
		t.Fatal("no connection of the store was terminated: the test tested nothing")
	}
	t.Logf("%d connections terminated; %d calls succeeded, %d failed as unavailable", killed, ok, unavailable)

	// The store recovers on its own: connections the server ended leave the
	// pool as they fail, and then every call succeeds.
	deadline := time.Now().Add(10 * time.Second)
	for s.Set(ctx, "after", []byte("v")) != nil {
		if time.Now().After(deadline) {
			t.Fatal("no Set succeeded within 10s after the connections ended")
		}
		time.Sleep(20 * time.Millisecond)
	}
	for i := range 20 {
		if v, err := s.Get(ctx, "after"); err != nil || string(v) != "v" {
			t.Fatalf("Get %d after the store recovered: %q, %v", i, v, err)
		}
	}
}

// TestWatchConnectionTerminated: a watch whose listening connection the
// server ends sends an OpResync, counts a resubscribe, and then hears new
// writes.
func TestWatchConnectionTerminated(t *testing.T) {
	s, _, terminate := faultStore(t)
	ctx := testContext(t)
	ch, err := s.Watch(ctx, "w:*")
	if err != nil {
		t.Fatal(err)
	}
	if ev := nextEvent(t, ch); ev.Op != kv.OpResync {
		t.Fatalf("first event %v, want resync", ev)
	}
	before := s.Metrics()
	if n := terminate(); n < 1 {
		t.Fatalf("terminated %d connections, want at least the watch's", n)
	}
	if ev := nextEvent(t, ch); ev.Op != kv.OpResync {
		t.Fatalf("event after the listening connection ended: %v, want resync", ev)
	}
	// The pool's connections were ended too: the first writes may fail.
	deadline := time.Now().Add(10 * time.Second)
	for {
		err := s.Set(ctx, "w:after", []byte("v"))
		if err == nil {
			break
		}
		if !errors.Is(err, kv.ErrUnavailable) || time.Now().After(deadline) {
			t.Fatalf("Set after the connections ended: %v", err)
		}
	}
	if ev := nextEvent(t, ch); ev.Op != kv.OpSet || ev.Key != "w:after" {
		t.Fatalf("event of a Set after the reconnect: %v, want set \"w:after\"", ev)
	}
	after := s.Metrics()
	if got := after.Watch.Resubscribes - before.Watch.Resubscribes; got != 1 {
		t.Errorf("the watch's reconnect counted %d resubscribes, want 1", got)
	}
	if got := after.Watch.Resyncs - before.Watch.Resyncs; got != 1 {
		t.Errorf("the resync after the reconnect counted %d resyncs, want 1", got)
	}
}

// TestConfigStoreConnectionsTerminated: a configstore.Store whose store's
// connections, its watch's included, the server ends converges to a change
// that another store makes meanwhile: its watcher hears it and Fetch
// returns it.
func TestConfigStoreConnectionsTerminated(t *testing.T) {
	s, schema, terminate := faultStore(t)
	ctx := testContext(t)
	otherPool, _ := pgtest.Pool(t, "")
	other := newStore(t, otherPool, &postgres.Options{Schema: schema, Table: "kv"})
	cfg, otherCfg, heard := configPair(t, ctx, s, other)
	if _, err := otherCfg.Update(ctx, "flags", flags{Limit: 1}); err != nil {
		t.Fatal(err)
	}
	waitConfigState(t, heard, 1, flags{Limit: 1})
	waitFetch(t, ctx, cfg, 1, flags{Limit: 1})

	if n := terminate(); n < 1 {
		t.Fatalf("terminated %d connections, want at least the watch's", n)
	}
	// The other store's connections live on: its Update is made at once,
	// most likely before the watch listens again.
	if _, err := otherCfg.Update(ctx, "flags", flags{Beta: true, Limit: 2}); err != nil {
		t.Fatal(err)
	}
	waitConfigState(t, heard, 2, flags{Beta: true, Limit: 2})
	waitFetch(t, ctx, cfg, 2, flags{Beta: true, Limit: 2})
}
