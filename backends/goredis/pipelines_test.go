package goredis

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/cledar/storekit/internal/redistest"
	"github.com/cledar/storekit/kv"
)

// hangBound bounds every wait of the tests of this file: a hang bound, not
// a timing assertion.
const hangBound = 30 * time.Second

// A gateHook holds every pipeline of a cluster client, once closed, until
// it is given a token, and reports which calls' keys each pipeline holds.
// A key of call i of the tests below is "pipes:<case>:<i>:<j>".
type gateHook struct {
	closed  atomic.Bool
	tokens  chan struct{}
	entered chan []string // the calls of each pipeline held, sorted

	mu  sync.Mutex
	log [][]string // the calls of every pipeline since the hook was first closed
}

// close holds every pipeline from now on, until open.
func (h *gateHook) close() {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.closed.Store(true)
	h.log = [][]string{}
}

func newGateHook() *gateHook {
	return &gateHook{tokens: make(chan struct{}), entered: make(chan []string, 256)}
}

func (h *gateHook) DialHook(next redis.DialHook) redis.DialHook          { return next }
func (h *gateHook) ProcessHook(next redis.ProcessHook) redis.ProcessHook { return next }

func (h *gateHook) ProcessPipelineHook(next redis.ProcessPipelineHook) redis.ProcessPipelineHook {
	return func(ctx context.Context, cmds []redis.Cmder) error {
		calls := callsOf(cmds)
		h.mu.Lock()
		if h.log != nil {
			h.log = append(h.log, calls)
		}
		h.mu.Unlock()
		if h.closed.Load() {
			h.entered <- calls
			<-h.tokens
		}
		return next(ctx, cmds)
	}
}

// callsOf returns the calls whose keys cmds hold: "<case>:<i>", sorted,
// each once.
func callsOf(cmds []redis.Cmder) []string {
	var calls []string
	for _, cmd := range cmds {
		for _, a := range cmd.Args()[1:] {
			s, ok := a.(string)
			if !ok || !strings.HasPrefix(s, "pipes:") {
				continue
			}
			parts := strings.Split(s, ":")
			calls = append(calls, parts[1]+":"+parts[2])
		}
	}
	slices.Sort(calls)
	return slices.Compact(calls)
}

// open lets every pipeline held, and every later one, go on.
func (h *gateHook) open() {
	if h.closed.CompareAndSwap(true, false) {
		close(h.tokens)
	}
}

// next waits for the next pipeline to be held and returns its calls.
func (h *gateHook) next(t *testing.T) []string {
	t.Helper()
	select {
	case calls := <-h.entered:
		return calls
	case <-time.After(hangBound):
		t.Fatal("no pipeline came")
		return nil
	}
}

// callKeys returns the keys of call i of case c.
func callKeys(c string, i int) []string {
	return []string{fmt.Sprintf("pipes:%s:%d:a", c, i), fmt.Sprintf("pipes:%s:%d:b", c, i), fmt.Sprintf("pipes:%s:%d:c", c, i)}
}

// holdAtMost checks that each of keys is missing or, unless value is "",
// holds value; otherwise it reports why.
func holdAtMost(t *testing.T, s *Store, keys []string, value, why string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), hangBound)
	defer cancel()
	vals, err := s.GetMulti(ctx, keys)
	if err != nil {
		t.Fatal(err)
	}
	for j, v := range vals {
		if v.Found && (value == "" || string(v.Data) != value) {
			t.Errorf("%s = %q: %s", keys[j], v.Data, why)
		}
	}
}

// waitFor waits until n calls of s wait for a pipeline.
func waitFor(t *testing.T, s *Store, n int) {
	t.Helper()
	deadline := time.Now().Add(hangBound)
	for {
		s.a.pipes.mu.Lock()
		waiting := len(s.a.pipes.waiting)
		s.a.pipes.mu.Unlock()
		if waiting == n {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%d calls wait for a pipeline, want %d", waiting, n)
		}
		time.Sleep(time.Millisecond)
	}
}

// TestSharedPipelines runs bulk calls on a cluster while a hook holds the
// pipelines in flight: calls beyond the limit wait and go out together,
// each with its own replies; a waiting call whose context ends returns at
// once and sends nothing; a call whose pipeline went out returns when its
// context ends, and what it wrote is what it was given. With
// SeparatePipelines every call goes out alone, however many run.
func TestSharedPipelines(t *testing.T) {
	cluster := redistest.StartCluster(t, 3)
	newStore := func(t *testing.T, o *Options) (*Store, *gateHook) {
		c := redis.NewClusterClient(&redis.ClusterOptions{Addrs: cluster.Addrs(), ContextTimeoutEnabled: true})
		h := newGateHook()
		c.AddHook(h)
		o.CloseClient = true
		s := New(c, o)
		t.Cleanup(func() {
			h.open()
			_ = s.Close()
		})
		return s, h
	}
	ctx, cancel := context.WithTimeout(context.Background(), hangBound)
	defer cancel()
	// write writes the keys of calls 0 to n-1 of case c, each value naming
	// its key.
	write := func(t *testing.T, s *Store, c string, n int) {
		for i := range n {
			var items []kv.Item
			for _, k := range callKeys(c, i) {
				items = append(items, kv.Item{Key: k, Value: []byte("v-" + k)})
			}
			if err := s.SetMulti(ctx, items); err != nil {
				t.Fatal(err)
			}
		}
	}
	// read reads the keys of call i of case c and checks their values.
	read := func(s *Store, c string, i int) error {
		keys := callKeys(c, i)
		vals, err := s.GetMulti(ctx, keys)
		if err != nil {
			return err
		}
		for j, v := range vals {
			if !v.Found || string(v.Data) != "v-"+keys[j] {
				return fmt.Errorf("GetMulti(%q)[%d] = %q, %v; want %q", keys, j, v.Data, v.Found, "v-"+keys[j])
			}
		}
		return nil
	}

	// fill starts a store that shares pipelines, writes the keys of calls
	// 0 to limit+more-1 of case c, closes the gate and starts reads of
	// calls 0 to limit-1, which fill every pipeline the store may have in
	// flight and are held there. It returns the store, the gate, the calls
	// of the pipelines held, and wait, which waits for those reads and
	// checks them.
	fill := func(t *testing.T, c string, more int) (s *Store, h *gateHook, held [][]string, wait func()) {
		s, h = newStore(t, &Options{})
		limit := s.a.pipes.limit
		write(t, s, c, limit+more)
		h.close()
		var wg sync.WaitGroup
		errs := make(chan error, limit+more)
		for i := range limit {
			wg.Go(func() { errs <- read(s, c, i) })
		}
		for range limit {
			held = append(held, h.next(t))
		}
		return s, h, held, func() {
			wg.Wait()
			close(errs)
			for err := range errs {
				if err != nil {
					t.Error(err)
				}
			}
		}
	}

	// setWaiting starts a SetMulti of two keys of call limit of case c to
	// value, with a context of its own, once fill has filled the store's
	// pipelines, and waits until the call waits for one. It returns the
	// keys, and cancel, which cancels the call's context and checks that
	// the call returns context.Canceled, while the pipelines in flight are
	// still held.
	setWaiting := func(t *testing.T, s *Store, c string, value []byte) (keys []string, cancel func(when string)) {
		callCtx, cancelCtx := context.WithCancel(ctx)
		keys = callKeys(c, s.a.pipes.limit)[:2]
		done := make(chan error, 1)
		go func() {
			done <- s.SetMulti(callCtx, []kv.Item{{Key: keys[0], Value: value}, {Key: keys[1], Value: value}})
		}()
		waitFor(t, s, 1)
		return keys, func(when string) {
			cancelCtx()
			select {
			case err := <-done:
				if !errors.Is(err, context.Canceled) {
					t.Errorf("SetMulti whose context was cancelled %s: %v, want context.Canceled", when, err)
				}
			case <-time.After(hangBound):
				t.Fatalf("SetMulti whose context was cancelled %s went on waiting", when)
			}
		}
	}

	t.Run("shared", func(t *testing.T) {
		const extra = 5
		s, h, held, wait := fill(t, "shared", extra)
		limit := s.a.pipes.limit
		errs := make(chan error, extra)
		for i := limit; i < limit+extra; i++ {
			go func() { errs <- read(s, "shared", i) }()
		}
		waitFor(t, s, extra)
		h.open()
		wait()
		for range extra {
			if err := <-errs; err != nil {
				t.Error(err)
			}
		}
		for i, calls := range held {
			if len(calls) != 1 {
				t.Errorf("pipeline %d held calls %q, want one", i, calls)
			}
		}
		// The calls that waited went out in one pipeline, once the gate
		// opened.
		var want []string
		for i := limit; i < limit+extra; i++ {
			want = append(want, fmt.Sprintf("shared:%d", i))
		}
		slices.Sort(want)
		if got := h.pipelinesOf(want); len(got) != 1 || !slices.Equal(got[0], want) {
			t.Errorf("the calls that waited went out in pipelines of %q, want one of %q", got, want)
		}
	})

	t.Run("separate", func(t *testing.T) {
		s, h := newStore(t, &Options{SeparatePipelines: true})
		if s.a.pipes != nil {
			t.Fatal("SeparatePipelines: the store shares pipelines")
		}
		n := defaultPipelines() + 3
		write(t, s, "separate", n)
		h.close()
		errs := make(chan error, n)
		for i := range n {
			go func() { errs <- read(s, "separate", i) }()
		}
		seen := map[string]bool{}
		for range n {
			calls := h.next(t)
			if len(calls) != 1 {
				t.Errorf("a pipeline held calls %q, want one", calls)
			}
			for _, c := range calls {
				seen[c] = true
			}
		}
		h.open()
		for range n {
			if err := <-errs; err != nil {
				t.Error(err)
			}
		}
		if len(seen) != n {
			t.Errorf("pipelines held %d calls, want %d", len(seen), n)
		}
	})

	t.Run("cancelled while waiting", func(t *testing.T) {
		s, h, _, wait := fill(t, "cancel", 0)
		keys, cancel := setWaiting(t, s, "cancel", []byte("x"))
		cancel("while it waited")
		waitFor(t, s, 0)
		h.open()
		wait()
		holdAtMost(t, s, keys, "", "a call cancelled before its pipeline went out wrote it")
	})

	t.Run("cancelled once sent", func(t *testing.T) {
		s, h, _, wait := fill(t, "sent", 0)
		value := []byte("the value given")
		keys, cancel := setWaiting(t, s, "sent", value)
		// One pipeline held ends; the waiting call goes out in the next,
		// which the hook holds.
		h.tokens <- struct{}{}
		if calls := h.next(t); !slices.Equal(calls, []string{fmt.Sprintf("sent:%d", s.a.pipes.limit)}) {
			t.Fatalf("the next pipeline held calls %q, want the waiting SetMulti's", calls)
		}
		cancel("once its pipeline went out")
		// The caller owns its value again: what the pipeline writes must
		// not change with it.
		copy(value, "CHANGED BY CALLER")
		h.open()
		wait()
		holdAtMost(t, s, keys, "the value given", "the pipeline wrote the caller's bytes after the call returned")
	})

	t.Run("many", func(t *testing.T) {
		// Many more calls than pipelines, reads and writes mixed, with
		// nothing held: each call reads what it wrote.
		s, _ := newStore(t, &Options{})
		var wg sync.WaitGroup
		errs := make(chan error, 64)
		for g := range 64 {
			wg.Go(func() {
				for round := range 20 {
					keys := callKeys("many", g)
					items := make([]kv.Item, len(keys))
					for j, k := range keys {
						items[j] = kv.Item{Key: k, Value: fmt.Appendf(nil, "%s/%d", k, round)}
					}
					if err := s.SetMulti(ctx, items); err != nil {
						errs <- err
						return
					}
					vals, err := s.GetMulti(ctx, keys)
					if err != nil {
						errs <- err
						return
					}
					for j, v := range vals {
						if want := string(items[j].Value); string(v.Data) != want {
							errs <- fmt.Errorf("%s = %q, want %q", keys[j], v.Data, want)
							return
						}
					}
				}
			})
		}
		wg.Wait()
		close(errs)
		for err := range errs {
			t.Error(err)
		}
	})
}

// pipelinesOf returns the calls of each pipeline the hook saw since it was
// first closed that holds a call of want.
func (h *gateHook) pipelinesOf(want []string) [][]string {
	h.mu.Lock()
	defer h.mu.Unlock()
	var of [][]string
	for _, calls := range h.log {
		if slices.ContainsFunc(calls, func(c string) bool { return slices.Contains(want, c) }) {
			of = append(of, calls)
		}
	}
	return of
}

// TestTake checks how waiting calls are split into pipelines: first come
// first, as many as maxShared commands allow, a larger call alone.
func TestTake(t *testing.T) {
	p := newPipelines(nil, 1)
	p.inFlight = 1
	for _, n := range []int{maxShared - 1096, 1000, 96, 1, maxShared + 1, 10} {
		p.waiting = append(p.waiting, &pipelineCall{cmds: make([]redis.Cmder, n)})
	}
	var got [][]int
	for calls := p.take(); calls != nil; calls = p.take() {
		var sizes []int
		for _, c := range calls {
			sizes = append(sizes, len(c.cmds))
		}
		got = append(got, sizes)
	}
	want := [][]int{{maxShared - 1096, 1000, 96}, {1}, {maxShared + 1}, {10}}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("pipelines of %v commands, want %v", got, want)
	}
	if p.inFlight != 0 || len(p.waiting) != 0 {
		t.Errorf("after the last: %d in flight, %d waiting; want none", p.inFlight, len(p.waiting))
	}
}
