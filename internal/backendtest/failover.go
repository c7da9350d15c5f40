package backendtest

import (
	"context"
	"fmt"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/cledar/storekit/internal/redistest"
	"github.com/cledar/storekit/kv"
)

// Bounds of the failover tests: hang bounds, well above what a failover
// takes on a loaded machine (the harness's clusters promote a replica a few
// seconds after a kill; its sentinels pick a new master in about as long).
const (
	// failoverCallDeadline is the deadline of every call made while a
	// failover runs.
	failoverCallDeadline = time.Second
	// recoverBound bounds the time from the end of a failover (the new
	// master serves) until every key can be written through the store
	// again and the watch has resynced onto the new master.
	recoverBound = 20 * time.Second
	// failoverKeys is the number of keys written during a failover.
	failoverKeys = 24
	// FailoverInterval is the TopologyInterval of the stores the failover
	// tests make.
	FailoverInterval = 100 * time.Millisecond
	// followBound bounds the time from the end of a failover until the
	// watch has resynced onto the new master. A watch that waits for the
	// old master to drop its subscribers (5 s after a graceful Sentinel
	// failover in the harness, 10 s or more in production) misses it; one
	// that follows the topology every FailoverInterval resyncs in a small
	// fraction of it.
	followBound = 3 * time.Second
)

// A FailoverBackend makes the stores of the failover tests, with
// FailoverInterval as their TopologyInterval; the test closes them.
type FailoverBackend struct {
	// NewCluster returns a store over a cluster client that knows the
	// nodes at addrs.
	NewCluster func(t *testing.T, addrs []string) kv.Store
	// NewSentinel returns a store over a client that follows the master
	// that the sentinels at addrs know by the name master.
	NewSentinel func(t *testing.T, master string, addrs []string) kv.Store
}

// RunFailover fails over a Redis Cluster master and a Sentinel master, each
// by a kill and gracefully, while keys are written and read in bulk through
// a store and watched. It checks that every call returns by its deadline,
// that the store serves every key again, that the watch sends an OpResync
// (never one that says notifications are off) and then reports changes made
// on the new master, within recoverBound of the failover; and it logs how
// long each took. The watch must resync within followBound of the new
// master serving: on its own, not because the old master dropped its
// subscribers.
func RunFailover(t *testing.T, b FailoverBackend) {
	t.Run("ClusterKill", func(t *testing.T) {
		cl := redistest.StartClusterWith(t, &redistest.ClusterOptions{Masters: 3, Replicas: 1, NodeTimeout: 2 * time.Second})
		s := b.NewCluster(t, cl.Addrs())
		runFailover(t, s, true, func(keys []string) { cl.KillMaster(cl.MasterOf(keys[0])) })
	})
	// Without a watch, which reads the topology itself, the data path must
	// follow on its own.
	t.Run("ClusterKillDataOnly", func(t *testing.T) {
		cl := redistest.StartClusterWith(t, &redistest.ClusterOptions{Masters: 3, Replicas: 1, NodeTimeout: 2 * time.Second})
		s := b.NewCluster(t, cl.Addrs())
		runFailover(t, s, false, func(keys []string) { cl.KillMaster(cl.MasterOf(keys[0])) })
	})
	t.Run("ClusterGraceful", func(t *testing.T) {
		cl := redistest.StartClusterWith(t, &redistest.ClusterOptions{Masters: 3, Replicas: 1, NodeTimeout: 2 * time.Second})
		s := b.NewCluster(t, cl.Addrs())
		runFailover(t, s, true, func(keys []string) { cl.Failover(cl.ReplicasOf(cl.MasterOf(keys[0]))[0]) })
	})
	t.Run("SentinelKill", func(t *testing.T) {
		sn := redistest.StartSentinel(t, nil)
		s := b.NewSentinel(t, sn.MasterName(), sn.SentinelAddrs())
		runFailover(t, s, true, func([]string) { sn.KillMaster() })
	})
	t.Run("SentinelGraceful", func(t *testing.T) {
		sn := redistest.StartSentinel(t, nil)
		s := b.NewSentinel(t, sn.MasterName(), sn.SentinelAddrs())
		runFailover(t, s, true, func([]string) { sn.Failover() })
	})
}

// A callLog records the calls made during a failover.
type callLog struct {
	mu      sync.Mutex
	slowest time.Duration
	slowOp  string
	kinds   map[string]int
	late    []string // calls that returned well after their deadline
}

// call runs f with a context whose deadline is failoverCallDeadline away,
// and records how long it took and what it returned.
func (l *callLog) call(ctx context.Context, op string, f func(ctx context.Context) error) error {
	cctx, cancel := context.WithTimeout(ctx, failoverCallDeadline)
	defer cancel()
	start := time.Now()
	err := f(cctx)
	took := time.Since(start)
	if ctx.Err() != nil {
		return err // the test is ending: not the store's doing
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	if took > l.slowest {
		l.slowest, l.slowOp = took, op
	}
	l.kinds[ErrorKind(err)]++
	if took > failoverCallDeadline+deadlineSlack {
		l.late = append(l.late, fmt.Sprintf("%s took %v: %v", op, took, err))
	}
	return err
}

// An eventLog records what a watch delivers.
type eventLog struct {
	keys     []string // the keys watched
	mu       sync.Mutex
	resyncs  []time.Time // OpResync events with a nil Err
	failures []kv.Event  // OpResync events with an Err
	final    time.Time   // when the final writes began; zero before
	seen     map[string]string
	closed   bool
}

// add records e; once the final writes have begun, it reads the key of an
// OpSet, and every key on an OpResync, with read, as a consumer that
// re-reads on events does (see kv.Watcher).
func (l *eventLog) add(e kv.Event, read func(key string) string) {
	l.mu.Lock()
	final := !l.final.IsZero()
	switch {
	case e.Op == kv.OpResync && e.Err != nil:
		l.failures = append(l.failures, e)
	case e.Op == kv.OpResync:
		l.resyncs = append(l.resyncs, time.Now())
	}
	l.mu.Unlock()
	var keys []string
	switch {
	case !final:
	case e.Op == kv.OpSet:
		keys = []string{e.Key}
	case e.Op == kv.OpResync:
		keys = l.keys
	}
	for _, k := range keys {
		v := read(k)
		l.mu.Lock()
		l.seen[k] = v
		l.mu.Unlock()
	}
}

// resyncTimes returns when each OpResync came, from start, and how many
// came after the final writes began. The caller holds l.mu.
func (l *eventLog) resyncTimes(start time.Time) (times []time.Duration, late int) {
	for _, at := range l.resyncs {
		times = append(times, at.Sub(start).Round(time.Millisecond))
		if !l.final.IsZero() && at.After(l.final) {
			late++
		}
	}
	return times, late
}

// runFailover writes failoverKeys keys, spread over the hash slots, in a
// loop and reads them in bulk while a watch runs; it runs fault, waits
// until every key is written again and the watch has resynced, then writes
// each key a final time and waits until a re-read on the key's event, or
// on an OpResync, returns its final value. Without watching, it checks the
// calls alone.
func runFailover(t *testing.T, s kv.Store, watching bool, fault func(keys []string)) {
	ctx := Context(t)
	keys := make([]string, failoverKeys)
	for i := range keys {
		keys[i] = fmt.Sprintf("fo:%d", i)
	}
	wctx, cancel := context.WithCancel(ctx)
	ch := make(<-chan kv.Event)
	if watching {
		ch = StartWatch(wctx, t, s, "fo:*")
	}
	calls := &callLog{kinds: make(map[string]int)}
	events := &eventLog{keys: keys, seen: make(map[string]string)}
	read := func(key string) string {
		var v []byte
		err := calls.call(ctx, "Get", func(ctx context.Context) (err error) {
			v, err = s.Get(ctx, key)
			return err
		})
		if err != nil {
			return "(error)"
		}
		return string(v)
	}
	var consumer sync.WaitGroup
	defer consumer.Wait()
	defer cancel()
	consumer.Go(func() {
		if !watching {
			<-wctx.Done()
			return
		}
		for e := range ch {
			events.add(e, read)
		}
		events.mu.Lock()
		events.closed = true
		events.mu.Unlock()
	})

	stop := make(chan struct{})
	var (
		load      sync.WaitGroup
		lastWrite sync.Map // key -> time of its last acknowledged write
	)
	load.Go(func() {
		for n := 0; ; n++ {
			for _, k := range keys {
				select {
				case <-stop:
					return
				default:
				}
				err := calls.call(ctx, "Set", func(ctx context.Context) error {
					return s.Set(ctx, k, fmt.Appendf(nil, "%d", n))
				})
				if err == nil {
					lastWrite.Store(k, time.Now())
				}
			}
		}
	})
	load.Go(func() {
		for {
			select {
			case <-stop:
				return
			case <-time.After(10 * time.Millisecond):
			}
			_ = calls.call(ctx, "GetMulti", func(ctx context.Context) error {
				_, err := kv.GetMulti(ctx, s, keys)
				return err
			})
		}
	})

	time.Sleep(500 * time.Millisecond) // the load runs before the fault
	start := time.Now()
	fault(keys)
	served := time.Now()
	t.Logf("failover took %v (until the new master served)", served.Sub(start).Round(time.Millisecond))

	// Every key is written again.
	var recovered time.Time
	for deadline := served.Add(recoverBound); ; time.Sleep(20 * time.Millisecond) {
		all := true
		for _, k := range keys {
			if at, ok := lastWrite.Load(k); !ok || !at.(time.Time).After(served) {
				all = false
				break
			}
		}
		if all {
			recovered = time.Now()
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("%v after the failover some keys still cannot be written through the store", recoverBound)
		}
	}
	if !watching {
		close(stop)
		load.Wait()
		calls.report(t)
		t.Logf("from the fault: data path recovered (every key written) after %v", recovered.Sub(start).Round(time.Millisecond))
		return
	}
	// The watch resynced after the fault began.
	var resynced time.Time
	for deadline := served.Add(recoverBound); ; time.Sleep(20 * time.Millisecond) {
		events.mu.Lock()
		for _, at := range events.resyncs {
			if at.After(start) {
				resynced = at
				break
			}
		}
		events.mu.Unlock()
		if !resynced.IsZero() {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("no OpResync within %v of the failover: the watch did not notice it", recoverBound)
		}
	}
	close(stop)
	load.Wait()
	if resynced.Sub(served) > followBound {
		t.Errorf("the watch resynced %v after the new master served, more than %v: it did not follow the failover "+
			"by itself", resynced.Sub(served).Round(time.Millisecond), followBound)
	}

	// Final writes, each seen by the watch.
	events.mu.Lock()
	events.final = time.Now()
	events.mu.Unlock()
	final := make(map[string]string, len(keys))
	for _, k := range keys {
		final[k] = "final " + k
		if err := s.Set(ctx, k, []byte(final[k])); err != nil {
			t.Fatalf("Set(%q) after the failover: %v", k, err)
		}
	}
	var missing []string
	for deadline := time.Now().Add(recoverBound); ; time.Sleep(20 * time.Millisecond) {
		events.mu.Lock()
		missing = missing[:0]
		for _, k := range keys {
			if events.seen[k] != final[k] {
				missing = append(missing, fmt.Sprintf("%s (last read on an event: %q)", k, events.seen[k]))
			}
		}
		events.mu.Unlock()
		if len(missing) == 0 || time.Now().After(deadline) {
			break
		}
	}
	if len(missing) > 0 {
		t.Errorf("after the failover the watch did not report the final write of %d keys within %v: %v",
			len(missing), recoverBound, missing)
	}

	calls.report(t)
	events.mu.Lock()
	defer events.mu.Unlock()
	for _, e := range events.failures {
		t.Errorf("the watch sent %v during the failover: a failover is not a notification setting", e)
	}
	times, late := events.resyncTimes(start)
	t.Logf("from the fault: data path recovered (every key written) after %v, watch resynced after %v; "+
		"resyncs at %v from the fault, %d of them after the final writes began",
		recovered.Sub(start).Round(time.Millisecond), resynced.Sub(start).Round(time.Millisecond), times, late)
	if events.closed {
		t.Error("the watch's channel closed during the failover")
	}
}

// report fails the test for each call that ran past its deadline, and logs
// the slowest call and the calls by outcome.
func (l *callLog) report(t *testing.T) {
	t.Helper()
	l.mu.Lock()
	defer l.mu.Unlock()
	for _, late := range l.late {
		t.Errorf("a call ran past its %v deadline: %s", failoverCallDeadline, late)
	}
	kinds := make([]string, 0, len(l.kinds))
	for k, n := range l.kinds {
		kinds = append(kinds, fmt.Sprintf("%s %d", k, n))
	}
	slices.Sort(kinds)
	t.Logf("slowest call %s %v (deadline %v); calls by outcome: %v", l.slowOp, l.slowest.Round(time.Millisecond),
		failoverCallDeadline, kinds)
}
