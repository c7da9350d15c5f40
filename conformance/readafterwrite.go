package conformance

import (
	"errors"
	"fmt"
	"sync"
	"sync/atomic"

	"github.com/cledar/storekit/internal/staleread"
	"github.com/cledar/storekit/kv"
)

// Concurrency/ReadAfterWrite: goroutines that write and read a few keys at
// once, each call stamped on one clock when it starts and when it returns.
// A read must not return a value that a later write had replaced before the
// read started: the bug of a store that caches or shares its reads and
// serves one begun before a write that has since returned.

// Contention of Concurrency/ReadAfterWrite.
const (
	rawWorkers = 8
	rawOps     = 1000
	rawKeys    = 2
)

// A stampedCall is a Set or Get of Concurrency/ReadAfterWrite: its value
// ("" for a Get that found no key) and the clock when it started and
// returned.
type stampedCall struct {
	value      string
	start, end int64
}

func runReadAfterWrite(h *harness) {
	keys := make([]string, rawKeys)
	for i := range keys {
		keys[i] = h.key(fmt.Sprintf("hot:%d", i))
	}
	var (
		clock  atomic.Int64
		mu     sync.Mutex
		writes = make([][]stampedCall, rawKeys) // by key
		reads  = make([][]stampedCall, rawKeys)
	)
	h.reportProblems(concurrently(rawWorkers, func(g int) string {
		for i := range rawOps {
			k := (g + i/3) % rawKeys
			c := stampedCall{start: clock.Add(1)}
			if i%3 == 0 {
				c.value = fmt.Sprintf("g%d-%d", g, i)
				if err := h.s.Set(h.ctx, keys[k], []byte(c.value)); err != nil {
					return fmt.Sprintf("Set(%q): %v", keys[k], err)
				}
			} else {
				v, err := h.s.Get(h.ctx, keys[k])
				if err != nil && !errors.Is(err, kv.ErrNotFound) {
					return fmt.Sprintf("Get(%q): %v", keys[k], err)
				}
				c.value = string(v)
			}
			c.end = clock.Add(1)
			mu.Lock()
			if i%3 == 0 {
				writes[k] = append(writes[k], c)
			} else {
				reads[k] = append(reads[k], c)
			}
			mu.Unlock()
		}
		return ""
	}))
	for k := range keys {
		for _, p := range staleReads(writes[k], reads[k]) {
			h.errorf("key %q: %s", keys[k], p)
		}
	}
}

// staleReads checks each read of a key against the key's writes (the key
// was missing before them, and each wrote a value of its own): the write
// whose value the read returned must not have been followed by another
// write that started after it returned and returned before the read
// started. It returns the first few problems.
func staleReads(writes, reads []stampedCall) []string {
	byValue := make(map[string]staleread.Call, len(writes))
	calls := make([]staleread.Call, len(writes))
	for i, w := range writes {
		calls[i] = staleread.Call{Start: w.start, End: w.end}
		byValue[w.value] = calls[i]
	}
	ws := staleread.New(calls)
	var problems []string
	for _, r := range reads {
		w, ok := byValue[r.value] // the missing key: the zero call, which ended at 0
		if !ok && r.value != "" {
			problems = append(problems, fmt.Sprintf("a Get returned %q, which no Set wrote", r.value))
			continue
		}
		if start, replaced := ws.Replaced(w, r.start); replaced {
			what := fmt.Sprintf("%q", r.value)
			if r.value == "" {
				what = "no value"
			}
			problems = append(problems, fmt.Sprintf("a Get (clock %d to %d) returned %s, which a Set that started at %d, after the value's Set returned, had replaced before the Get started",
				r.start, r.end, what, start))
		}
		if len(problems) == 3 {
			break
		}
	}
	return problems
}
