package conformance

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/cledar/storekit/kv"
)

var concurrencyCases = []testCase{
	{
		name: "Concurrency/SetGetDelete",
		rule: "every method may be called from many goroutines at once (run under -race): " +
			"each goroutine reads back its own writes, and shared keys hold only whole values",
		run: runConcurrency,
	},
	{
		name: "Concurrency/ReadAfterWrite",
		rule: "a Get never returns a value that a Set which returned before the Get started had replaced, " +
			"while many goroutines read and write the key: no read is served from one begun before such a Set",
		run: runReadAfterWrite,
	},
	{
		name: "Concurrency/BulkReadAfterWrite",
		rule: "a GetMulti never returns, for a key, a value that a SetMulti which returned before the GetMulti started had replaced, " +
			"and each bulk call gets its own results, while many goroutines make bulk calls at once",
		run: runBulkReadAfterWrite,
	},
}

var contextCases = []testCase{
	{
		name: "Context/Cancelled",
		rule: "a call made with a cancelled context returns an error wrapping context.Canceled and writes nothing",
		run: func(h *harness) {
			ctx, cancel := context.WithCancel(h.ctx)
			cancel()
			h.callAllDone(ctx, context.Canceled, "with a cancelled context")
		},
	},
	{
		name: "Context/DeadlineExceeded",
		rule: "a call made with a context past its deadline returns an error wrapping context.DeadlineExceeded and writes nothing",
		run: func(h *harness) {
			ctx, cancel := context.WithDeadline(h.ctx, time.Now().Add(-time.Second))
			defer cancel()
			h.callAllDone(ctx, context.DeadlineExceeded, "with a context past its deadline")
		},
	},
}

var closeCases = []testCase{
	{
		name: "Close/Idempotent",
		rule: "Close is idempotent: a second Close returns nil too",
		run: func(h *harness) {
			for i := 1; i <= 2; i++ {
				if err := h.s.Close(); err != nil {
					h.errorf("Close number %d: got err %v, want nil", i, err)
				}
			}
		},
	},
	{
		name: "Close/MethodsFail",
		rule: "after Close every method, Watch included, returns an error wrapping kv.ErrClosed",
		run: func(h *harness) {
			h.must(h.s.Close(), "Close")
			for _, c := range h.calls() {
				// The key is not tracked: nothing can delete it once the store is closed.
				k := h.prefix + "closed:" + c.name
				h.wantErr(c.do(h, h.ctx, k), kv.ErrClosed, "%s(%q) after Close", c.name, k)
			}
		},
	},
	{
		name:  "Close/EndsWatch",
		rule:  "Close closes the channel of every watch",
		needs: []capability{watcher},
		run: func(h *harness) {
			w := h.watch(h.pattern("*"))
			w.expectResync()
			h.must(h.s.Close(), "Close")
			w.expectClosed("after Close")
		},
	},
}

// A call is one store method, called with ctx on one key. The Context and
// Close cases make every call that the store has.
type call struct {
	name  string
	needs capability // 0 if kv.Store has the method
	write bool       // the call changes the key when it succeeds
	do    func(h *harness, ctx context.Context, key string) error
}

var allCalls = []call{
	{"Get", 0, false, func(h *harness, ctx context.Context, k string) error {
		_, err := h.s.Get(ctx, k)
		return err
	}},
	{"Set", 0, true, func(h *harness, ctx context.Context, k string) error {
		return h.s.Set(ctx, k, []byte("new"))
	}},
	{"Delete", 0, true, func(h *harness, ctx context.Context, k string) error {
		_, err := h.s.Delete(ctx, k)
		return err
	}},
	{"GetMulti", multiGetter, false, func(h *harness, ctx context.Context, k string) error {
		_, err := h.mg().GetMulti(ctx, []string{k})
		return err
	}},
	{"Scan", scanner, false, func(h *harness, ctx context.Context, k string) error {
		for _, err := range h.sc().Scan(ctx, kv.EscapePattern(k)) {
			if err != nil {
				return err
			}
		}
		return nil
	}},
	{"SetWithTTL", expirer, true, func(h *harness, ctx context.Context, k string) error {
		return h.ex().SetWithTTL(ctx, k, []byte("new"), longTTL)
	}},
	{"TTL", expirer, false, func(h *harness, ctx context.Context, k string) error {
		_, err := h.ex().TTL(ctx, k)
		return err
	}},
	{"Watch", watcher, false, func(h *harness, ctx context.Context, k string) error {
		p := kv.EscapePattern(k)
		ch, err := h.wa().Watch(ctx, p)
		if ch != nil {
			h.adopt(p, ch, nil) // the context is done or the store closed: the channel must close
		}
		return err
	}},
	{"Append", historian, true, func(h *harness, ctx context.Context, k string) error {
		_, err := h.hi().Append(ctx, k, []byte("new"))
		return err
	}},
	{"Latest", historian, false, func(h *harness, ctx context.Context, k string) error {
		_, _, err := h.hi().Latest(ctx, k)
		return err
	}},
	{"At", historian, false, func(h *harness, ctx context.Context, k string) error {
		_, err := h.hi().At(ctx, k, 1)
		return err
	}},
	{"History", historian, false, func(h *harness, ctx context.Context, k string) error {
		_, err := h.hi().History(ctx, k)
		return err
	}},
	{"Prune", pruner, true, func(h *harness, ctx context.Context, k string) error {
		_, err := h.pr().Prune(ctx, k, 2)
		return err
	}},
	{"SetIfAbsent", conditional, true, func(h *harness, ctx context.Context, k string) error {
		_, err := h.co().SetIfAbsent(ctx, k, []byte("new"), 0)
		return err
	}},
	{"CompareAndSwap", conditional, true, func(h *harness, ctx context.Context, k string) error {
		_, err := h.co().CompareAndSwap(ctx, k, []byte("old"), []byte("new"), longTTL)
		return err
	}},
	{"CompareAndDelete", conditional, true, func(h *harness, ctx context.Context, k string) error {
		_, err := h.co().CompareAndDelete(ctx, k, []byte("old"))
		return err
	}},
	{"Incr", counter, true, func(h *harness, ctx context.Context, k string) error {
		_, err := h.ctr().Incr(ctx, k, 1)
		return err
	}},
	{"Expire", expiryChanger, true, func(h *harness, ctx context.Context, k string) error {
		_, err := h.ec().Expire(ctx, k, longTTL)
		return err
	}},
	{"Persist", expiryChanger, true, func(h *harness, ctx context.Context, k string) error {
		_, err := h.ec().Persist(ctx, k)
		return err
	}},
	{"GetWithTTL", expiryChanger, false, func(h *harness, ctx context.Context, k string) error {
		_, _, err := h.ec().GetWithTTL(ctx, k)
		return err
	}},
	{"SetMulti", bulkWriter, true, func(h *harness, ctx context.Context, k string) error {
		return h.bw().SetMulti(ctx, []kv.Item{{Key: k, Value: []byte("new"), TTL: longTTL}})
	}},
	{"DeleteMulti", bulkWriter, true, func(h *harness, ctx context.Context, k string) error {
		_, err := h.bw().DeleteMulti(ctx, []string{k})
		return err
	}},
	{"AppendIf", conditionalHistorian, true, func(h *harness, ctx context.Context, k string) error {
		_, err := h.ch().AppendIf(ctx, k, []byte("new"), 1)
		return err
	}},
}

// calls returns the calls the store has.
func (h *harness) calls() []call {
	var cs []call
	for _, c := range allCalls {
		if c.needs == 0 || h.has(c.needs) {
			cs = append(cs, c)
		}
	}
	return cs
}

// callAllDone makes every call with ctx, which is done, on a key holding
// "old", checks that each returns an error wrapping want, and then, with the
// case's context, that no call changed its key.
func (h *harness) callAllDone(ctx context.Context, want error, what string) {
	h.t.Helper()
	old := []byte("old")
	for _, c := range h.calls() {
		k := h.key("ctx:" + c.name)
		h.set(k, old)
		h.wantErr(c.do(h, ctx, k), want, "%s(%q) %s", c.name, k, what)
		if !c.write {
			continue
		}
		after := fmt.Sprintf("after %s %s", c.name, what)
		h.wantValue(k, old, after)
		if h.has(expirer) {
			h.wantNoExpiry(k, after)
		}
	}
}

// runConcurrency runs workers that Set, Get and Delete their own keys and
// shared keys at once.
func runConcurrency(h *harness) {
	const workers, ops = 16, 200
	shared := h.keysFor("shared:0", "shared:1", "shared:2", "shared:3")
	var wg sync.WaitGroup
	problems := make([]string, workers)
	for g := range workers {
		wg.Go(func() { problems[g] = concurrentWorker(h, g, ops, shared) })
	}
	wg.Wait()
	for g, p := range problems {
		if p != "" {
			h.errorf("goroutine %d of %d: %s", g, workers, p)
		}
	}
}

// concurrentWorker is one goroutine of runConcurrency. It returns its first
// problem, or "". It must not call h's reporting methods: only the case's
// goroutine may end the case.
func concurrentWorker(h *harness, g, ops int, shared []string) string {
	own := make([]string, 4)
	for i := range own {
		own[i] = h.key(fmt.Sprintf("own:%d:%d", g, i))
	}
	last := make(map[string]string) // own key -> last value written; absent after Delete
	for i := range ops {
		k, sk := own[i%len(own)], shared[i%len(shared)]
		v := fmt.Sprintf("g%d-%d", g, i)
		var err error
		switch i % 5 {
		case 0:
			if err = h.s.Set(h.ctx, k, []byte(v)); err == nil {
				last[k] = v
			}
		case 1:
			err = h.s.Set(h.ctx, sk, []byte(v))
		case 2:
			var vals []kv.Value
			if vals, err = kv.GetMulti(h.ctx, h.s, shared); err == nil {
				for j, val := range vals {
					if val.Found && !wellFormed(string(val.Data)) {
						return fmt.Sprintf("GetMulti: shared key %q holds %q, which no goroutine wrote", shared[j], val.Data)
					}
				}
			}
		case 3:
			_, err = h.s.Delete(h.ctx, sk)
		case 4:
			if _, err = h.s.Delete(h.ctx, own[(i/5)%len(own)]); err == nil {
				delete(last, own[(i/5)%len(own)])
			}
		}
		if err != nil {
			return fmt.Sprintf("op %d: unexpected error: %v", i, err)
		}
		if p := checkOwn(h, k, last); p != "" {
			return fmt.Sprintf("op %d: %s", i, p)
		}
	}
	for _, k := range own {
		if p := checkOwn(h, k, last); p != "" {
			return "at the end: " + p
		}
	}
	return ""
}

// checkOwn checks that own key k holds last[k], or is missing if absent.
func checkOwn(h *harness, k string, last map[string]string) string {
	got, err := h.s.Get(h.ctx, k)
	want, written := last[k]
	switch {
	case !written && errors.Is(err, kv.ErrNotFound):
		return ""
	case !written:
		return fmt.Sprintf("Get(%q) of its own deleted key = %q, %v; want kv.ErrNotFound", k, got, err)
	case err != nil || string(got) != want:
		return fmt.Sprintf("Get(%q) of its own key = %q, %v; want %q, the value it last wrote", k, got, err, want)
	}
	return ""
}

// wellFormed reports whether v is a value that a worker writes: "g<n>-<n>".
func wellFormed(v string) bool {
	g, i, ok := strings.Cut(strings.TrimPrefix(v, "g"), "-")
	_, err1 := strconv.Atoi(g)
	_, err2 := strconv.Atoi(i)
	return ok && strings.HasPrefix(v, "g") && err1 == nil && err2 == nil
}
