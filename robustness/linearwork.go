package robustness

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"sync"
	"time"

	"github.com/cledar/storekit/kv"
	"github.com/cledar/storekit/lock"
)

// A Workload is what the clients of a linearizability test do: random
// reads, writes, compare-and-swap loops and conditional writes on a few
// register keys, increments of a counter, and lock leases taken, refreshed
// and released, each call bounded by OpTimeout.
type Workload struct {
	// Prefix starts every key the clients use.
	Prefix string
	// Registers is the number of register keys; Counters of counter keys.
	Registers, Counters int
	// LockTTL is the lease of the lock.
	LockTTL time.Duration
	// OpTimeout bounds each call.
	OpTimeout time.Duration
	// Pause is the longest random wait between two calls of a client.
	Pause time.Duration
	// Seed seeds every client's choices (client i uses Seed and i).
	Seed uint64
}

// lockKey returns the key of the workload's lock.
func (w Workload) lockKey() string { return w.Prefix + "lock" }

// Run runs one client per store, client ids first, first+1, ..., recording
// into h, until stop is closed, and returns when every client has
// returned. Each store should be a client of its own (its own connections
// and cache); the stores must implement kv.Conditional, kv.Counter and
// kv.Expirer.
func (w Workload) Run(h *History, first int, stores []kv.Store, stop <-chan struct{}) error {
	var wg sync.WaitGroup
	errs := make([]error, len(stores))
	for i, s := range stores {
		l, err := lock.New(s, w.lockKey(), &lock.Options{TTL: w.LockTTL})
		if err != nil {
			return err
		}
		c := &client{w: w, h: h, id: first + i, s: s, l: l, rng: rand.New(rand.NewPCG(w.Seed, uint64(first+i)))}
		wg.Go(func() { errs[i] = c.run(stop) })
	}
	wg.Wait()
	return errors.Join(errs...)
}

// A client is one goroutine of a workload.
type client struct {
	w   Workload
	h   *History
	id  int
	s   kv.Store
	l   *lock.Locker
	rng *rand.Rand

	seq    int // numbers the values this client writes
	leases int // numbers this client's leases

	// failed is set by a call of unknown outcome: the client then waits
	// a while, as a client of a failing server would, rather than pile up
	// calls whose outcome the check must guess.
	failed bool
}

// failedPause is how long a client waits after a call of unknown outcome.
const failedPause = 100 * time.Millisecond

// leaseIDs leaves room for this many leases per client in a lease's id.
const leaseIDs = 1_000_000

func (c *client) run(stop <-chan struct{}) error {
	for {
		select {
		case <-stop:
			return nil
		default:
		}
		var err error
		switch r := c.rng.IntN(100); {
		case r < 25:
			c.get(c.register())
		case r < 45:
			c.casLoop(c.register())
		case r < 52:
			c.set(c.register())
		case r < 57:
			c.cad(c.register())
		case r < 75:
			c.incr(c.counter())
		case r < 80:
			c.get(c.counter())
		default:
			err = c.lockCycle()
		}
		if err != nil {
			return err
		}
		if c.failed {
			c.failed = false
			time.Sleep(failedPause)
		}
		if c.w.Pause > 0 {
			time.Sleep(time.Duration(c.rng.Int64N(int64(c.w.Pause))))
		}
	}
}

func (c *client) register() string {
	return fmt.Sprintf("%sr%d", c.w.Prefix, c.rng.IntN(c.w.Registers))
}

func (c *client) counter() string {
	return fmt.Sprintf("%sc%d", c.w.Prefix, c.rng.IntN(c.w.Counters))
}

// value returns a value no other write of the test writes.
func (c *client) value() string {
	c.seq++
	return fmt.Sprintf("c%d-%d", c.id, c.seq)
}

// call runs f with a context bounded by OpTimeout and records it.
func (c *client) call(in Input, f func(ctx context.Context) Output) Output {
	ctx, cancel := context.WithTimeout(context.Background(), c.w.OpTimeout)
	defer cancel()
	start := c.h.Now()
	out := f(ctx)
	if out.Unknown && out.Err == "" {
		out.Err = "unknown"
	}
	c.failed = c.failed || out.Unknown
	c.h.Add(c.id, in, out, start, c.h.Now())
	return out
}

// result is the Output of a write that reported ok and err: any error
// leaves its outcome unknown.
func result(ok bool, err error) Output {
	if err != nil {
		return Output{Unknown: true, Err: err.Error()}
	}
	return Output{OK: ok}
}

func (c *client) get(key string) Output {
	return c.call(Input{Op: OpGet, Key: key}, func(ctx context.Context) Output {
		v, err := c.s.Get(ctx, key)
		switch {
		case err == nil:
			return Output{Found: true, Value: string(v)}
		case errors.Is(err, kv.ErrNotFound):
			return Output{}
		default:
			return Output{Unknown: true, Err: err.Error()}
		}
	})
}

func (c *client) set(key string) {
	in := Input{Op: OpSet, Key: key, New: c.value()}
	c.call(in, func(ctx context.Context) Output {
		return result(true, c.s.Set(ctx, key, []byte(in.New)))
	})
}

// casLoop reads the key and swaps in a new value, or sets one if the key is
// missing, trying again a few times when another write came between.
func (c *client) casLoop(key string) {
	cond := c.s.(kv.Conditional)
	for range 3 {
		old := c.get(key)
		if old.Unknown {
			return
		}
		var out Output
		if old.Found {
			in := Input{Op: OpCAS, Key: key, Old: old.Value, New: c.value()}
			out = c.call(in, func(ctx context.Context) Output {
				return result(cond.CompareAndSwap(ctx, key, []byte(in.Old), []byte(in.New), kv.KeepTTL))
			})
		} else {
			in := Input{Op: OpSIA, Key: key, New: c.value()}
			out = c.call(in, func(ctx context.Context) Output {
				return result(cond.SetIfAbsent(ctx, key, []byte(in.New), 0))
			})
		}
		if out.OK || out.Unknown {
			return
		}
	}
}

// cad deletes the key if it still holds what a read just returned.
func (c *client) cad(key string) {
	old := c.get(key)
	if old.Unknown || !old.Found {
		return
	}
	in := Input{Op: OpCAD, Key: key, Old: old.Value}
	c.call(in, func(ctx context.Context) Output {
		return result(c.s.(kv.Conditional).CompareAndDelete(ctx, key, []byte(in.Old)))
	})
}

func (c *client) incr(key string) {
	c.call(Input{Op: OpIncr, Key: key, Delta: 1}, func(ctx context.Context) Output {
		n, err := c.s.(kv.Counter).Incr(ctx, key, 1)
		out := result(true, err)
		out.N = n
		return out
	})
}

// lockCycle takes the lock if it is free, sometimes refreshes it, and
// releases it, trying the release again while its outcome is unknown. It
// sometimes releases twice, which must report the lease lost.
func (c *client) lockCycle() error {
	c.leases++
	if c.leases >= leaseIDs {
		return fmt.Errorf("client %d: too many leases", c.id)
	}
	owner := c.id*leaseIDs + c.leases + 1
	key := c.w.lockKey()
	var lease *lock.Lease
	out := c.call(Input{Op: OpAcquire, Key: key, Owner: owner}, func(ctx context.Context) Output {
		l, err := c.l.TryLock(ctx)
		switch {
		case err == nil:
			lease = l
			return Output{OK: true, N: l.Fence()}
		case errors.Is(err, lock.ErrHeld):
			return Output{Err: err.Error()}
		default:
			return Output{Unknown: true, Err: err.Error()}
		}
	})
	if !out.OK {
		return nil
	}
	leaseCall := func(op OpKind, f func(context.Context) error) Output {
		return c.call(Input{Op: op, Key: key, Owner: owner}, func(ctx context.Context) Output {
			err := f(ctx)
			switch {
			case err == nil:
				return Output{OK: true}
			case errors.Is(err, lock.ErrLost):
				return Output{Err: err.Error()}
			default:
				return Output{Unknown: true, Err: err.Error()}
			}
		})
	}
	if c.rng.IntN(3) == 0 {
		leaseCall(OpRefresh, lease.Refresh)
	}
	for range 3 {
		if !leaseCall(OpRelease, lease.Release).Unknown {
			break
		}
	}
	if c.rng.IntN(4) == 0 {
		leaseCall(OpRelease, lease.Release)
	}
	return nil
}
