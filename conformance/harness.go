package conformance

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/cledar/storekit/kv"
)

// A harness is what a case works with: the store, a context with the case's
// deadline, the case's key prefix, and reporting that names the rule.
type harness struct {
	t      tb
	s      kv.Store
	ctx    context.Context
	cfg    *config
	rule   string
	prefix string

	mu   sync.Mutex
	keys []string // keys written under the prefix (or the empty key), deleted at cleanup
	seen map[string]bool
}

// key returns the case's key for name and remembers it for cleanup.
func (h *harness) key(name string) string {
	k := h.prefix + name
	h.track(k)
	return k
}

// keysFor returns the case's keys for names.
func (h *harness) keysFor(names ...string) []string {
	ks := make([]string, len(names))
	for i, n := range names {
		ks[i] = h.key(n)
	}
	return ks
}

// numberedKeys returns n keys of the case, named prefix followed by 0 to
// n-1.
func (h *harness) numberedKeys(prefix string, n int) []string {
	ks := make([]string, n)
	for i := range ks {
		ks[i] = h.key(prefix + strconv.Itoa(i))
	}
	return ks
}

// missingKey returns a key under the case prefix that the case never writes.
func (h *harness) missingKey(name string) string { return h.prefix + "missing:" + name }

// pattern returns a glob pattern of keys under the case prefix: the escaped
// prefix followed by glob.
func (h *harness) pattern(glob string) string { return kv.EscapePattern(h.prefix) + glob }

func (h *harness) track(k string) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.seen == nil {
		h.seen = make(map[string]bool)
	}
	if !h.seen[k] {
		h.seen[k] = true
		h.keys = append(h.keys, k)
	}
}

// deleteKeys removes the case's keys, best effort: the store may be closed
// or broken, and a failure here is not the case's.
func (h *harness) deleteKeys() {
	ctx, cancel := context.WithTimeout(context.Background(), h.cfg.caseTimeout)
	defer cancel()
	h.mu.Lock()
	keys := h.keys
	h.mu.Unlock()
	_ = inParallel(len(keys), func(i int) error {
		_, err := h.s.Delete(ctx, keys[i])
		return err
	})
}

// inParallel calls f(0), ..., f(n-1) from a few goroutines, and returns the
// first error; after an error it makes no more calls. Cases use it to write
// or delete many keys quickly on a networked store.
func inParallel(n int, f func(i int) error) error {
	const workers = 8
	var (
		next     atomic.Int64
		firstErr error
		once     sync.Once
		wg       sync.WaitGroup
	)
	for range min(workers, n) {
		wg.Go(func() {
			for {
				i := int(next.Add(1)) - 1
				if i >= n {
					return
				}
				if err := f(i); err != nil {
					once.Do(func() { firstErr = err })
					next.Store(int64(n))
					return
				}
			}
		})
	}
	wg.Wait()
	return firstErr
}

// concurrently calls f(0), ..., f(n-1), each on a goroutine of its own,
// released together so that their calls overlap, and returns what each
// returned: a problem, or "". f must not call the harness's reporting
// methods: only the case's goroutine may end the case.
func concurrently(n int, f func(g int) string) []string {
	problems := make([]string, n)
	start := make(chan struct{})
	var wg sync.WaitGroup
	for g := range n {
		wg.Go(func() {
			<-start
			problems[g] = f(g)
		})
	}
	close(start)
	wg.Wait()
	return problems
}

// reportProblems reports each problem that concurrently returned, naming
// its goroutine.
func (h *harness) reportProblems(problems []string) {
	h.t.Helper()
	for g, p := range problems {
		if p != "" {
			h.errorf("goroutine %d of %d: %s", g, len(problems), p)
		}
	}
}

// setAll writes values[i] to keys[i] for every i, from a few goroutines,
// ending the case if a Set fails.
func (h *harness) setAll(keys []string, values [][]byte) {
	h.t.Helper()
	err := inParallel(len(keys), func(i int) error {
		if err := h.s.Set(h.ctx, keys[i], values[i]); err != nil {
			return fmt.Errorf("Set(%q, %s): %w", keys[i], show(values[i]), err)
		}
		return nil
	})
	h.must(err, "writing %d keys", len(keys))
}

// Typed access to the optional interfaces; a case calls only those it needs.
func (h *harness) mg() kv.MultiGetter          { return h.s.(kv.MultiGetter) }
func (h *harness) sc() kv.Scanner              { return h.s.(kv.Scanner) }
func (h *harness) ex() kv.Expirer              { return h.s.(kv.Expirer) }
func (h *harness) wa() kv.Watcher              { return h.s.(kv.Watcher) }
func (h *harness) hi() kv.Historian            { return h.s.(kv.Historian) }
func (h *harness) pr() kv.Pruner               { return h.s.(kv.Pruner) }
func (h *harness) co() kv.Conditional          { return h.s.(kv.Conditional) }
func (h *harness) ctr() kv.Counter             { return h.s.(kv.Counter) }
func (h *harness) ec() kv.ExpiryChanger        { return h.s.(kv.ExpiryChanger) }
func (h *harness) bw() kv.BulkWriter           { return h.s.(kv.BulkWriter) }
func (h *harness) ch() kv.ConditionalHistorian { return h.s.(kv.ConditionalHistorian) }

func (h *harness) has(c capability) bool { return c.of(h.s) }

// errorf reports a failure of the case's rule and goes on.
func (h *harness) errorf(format string, args ...any) {
	h.t.Helper()
	h.t.Errorf("%s (rule: %s)", fmt.Sprintf(format, args...), h.rule)
}

// fatalf reports a failure of the case's rule and ends the case.
func (h *harness) fatalf(format string, args ...any) {
	h.t.Helper()
	h.t.Fatalf("%s (rule: %s)", fmt.Sprintf(format, args...), h.rule)
}

// must ends the case when a step that sets up a check fails.
func (h *harness) must(err error, format string, args ...any) {
	h.t.Helper()
	if err != nil {
		h.fatalf("%s: unexpected error: %v", fmt.Sprintf(format, args...), err)
	}
}

// wantErr reports whether err wraps target, and reports a failure if not.
func (h *harness) wantErr(err, target error, format string, args ...any) bool {
	h.t.Helper()
	if errors.Is(err, target) {
		return true
	}
	h.errorf("%s: got err %v, want errors.Is(_, %s)", fmt.Sprintf(format, args...), err, errName(target))
	return false
}

// set writes key, ending the case if the store refuses.
func (h *harness) set(key string, value []byte) {
	h.t.Helper()
	h.must(h.s.Set(h.ctx, key, value), "Set(%q, %s)", key, show(value))
}

// del deletes key, ending the case if the store refuses.
func (h *harness) del(key string) {
	h.t.Helper()
	_, err := h.s.Delete(h.ctx, key)
	h.must(err, "Delete(%q)", key)
}

// wantValue checks that Get(key) returns want; what says when.
func (h *harness) wantValue(key string, want []byte, what string) {
	h.t.Helper()
	got, err := h.s.Get(h.ctx, key)
	if err != nil {
		h.errorf("Get(%q) %s: got err %v, want %s", key, what, err, show(want))
		return
	}
	if !bytes.Equal(got, want) {
		h.errorf("Get(%q) %s: %s", key, what, diff(got, want))
	}
}

// wantMissing checks that Get(key) reports ErrNotFound; what says when.
func (h *harness) wantMissing(key, what string) {
	h.t.Helper()
	got, err := h.s.Get(h.ctx, key)
	if err == nil {
		h.errorf("Get(%q) %s: got %s, want errors.Is(_, kv.ErrNotFound)", key, what, show(got))
		return
	}
	h.wantErr(err, kv.ErrNotFound, "Get(%q) %s", key, what)
}

// sleep waits for d or the case's deadline.
func (h *harness) sleep(d time.Duration) {
	select {
	case <-time.After(d):
	case <-h.ctx.Done():
		h.fatalf("case deadline reached while sleeping %v", d)
	}
}

// scanAll runs Scan(pattern) to the end and returns every key it yielded,
// duplicates kept. It ends the case on an error.
func (h *harness) scanAll(pattern string) []string {
	h.t.Helper()
	var keys []string
	for k, err := range h.sc().Scan(h.ctx, pattern) {
		h.must(err, "Scan(%q)", pattern)
		keys = append(keys, k)
	}
	return keys
}

// wantScan checks that Scan(pattern), after removing duplicates, yields
// exactly want, and that kv.Keys agrees.
func (h *harness) wantScan(pattern string, want []string, what string) {
	h.t.Helper()
	want = distinct(slices.Clone(want))
	got := distinct(h.scanAll(pattern))
	if !slices.Equal(got, want) {
		extra, missing := setDiff(got, want)
		h.errorf("Scan(%q) %s: yielded %d distinct keys, want %d; not wanted: %q; missing: %q",
			pattern, what, len(got), len(want), extra, missing)
		return
	}
	keys, err := kv.Keys(h.ctx, h.s, pattern)
	h.must(err, "kv.Keys(%q)", pattern)
	if !slices.Equal(keys, want) {
		h.errorf("kv.Keys(%q) %s = %q, want %q", pattern, what, keys, want)
	}
}

// distinct sorts ss in place and returns it without duplicates.
func distinct(ss []string) []string {
	slices.Sort(ss)
	return slices.Compact(ss)
}

// setDiff returns the elements of sorted a not in sorted b, and of b not in a.
func setDiff(a, b []string) (onlyA, onlyB []string) {
	for _, x := range a {
		if _, ok := slices.BinarySearch(b, x); !ok {
			onlyA = append(onlyA, x)
		}
	}
	for _, x := range b {
		if _, ok := slices.BinarySearch(a, x); !ok {
			onlyB = append(onlyB, x)
		}
	}
	return onlyA, onlyB
}

// show formats a value for a message, shortening long ones.
func show(b []byte) string {
	switch {
	case b == nil:
		return "nil"
	case len(b) <= 48:
		return fmt.Sprintf("%q", b)
	default:
		return fmt.Sprintf("%d bytes %q...", len(b), b[:32])
	}
}

// diff describes how got differs from want.
func diff(got, want []byte) string {
	if len(got) <= 48 && len(want) <= 48 {
		return fmt.Sprintf("got %s, want %s", show(got), show(want))
	}
	i := 0
	for i < len(got) && i < len(want) && got[i] == want[i] {
		i++
	}
	return fmt.Sprintf("got %d bytes, want %d bytes; first difference at byte %d", len(got), len(want), i)
}
