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
//
// Concurrency/BulkReadAfterWrite: the same with bulk calls, SetMulti of
// every key and GetMulti of every key, each read asking for the keys in an
// order of its own, so that a read handed another call's results returns
// values of other keys: the bugs of a store that batches or shares
// concurrent bulk calls.

// Contention of Concurrency/ReadAfterWrite and BulkReadAfterWrite.
const (
	rawWorkers  = 8
	rawOps      = 1000
	rawKeys     = 2
	rawBulkOps  = 300
	rawBulkKeys = 4
)

// A stampedCall is a write or read of a key in Concurrency/ReadAfterWrite:
// the value written or read ("" for a read that found no key) and the
// clock when the call started and returned.
type stampedCall struct {
	value      string
	start, end int64
}

// A rawLog is the clock and the calls of a read-after-write case, by key.
type rawLog struct {
	clock  atomic.Int64
	mu     sync.Mutex
	writes [][]stampedCall
	reads  [][]stampedCall
}

func newRawLog(keys int) *rawLog {
	return &rawLog{writes: make([][]stampedCall, keys), reads: make([][]stampedCall, keys)}
}

// now ticks the clock and returns it.
func (l *rawLog) now() int64 { return l.clock.Add(1) }

// wrote records a write of value to key k.
func (l *rawLog) wrote(k int, value string, start, end int64) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.writes[k] = append(l.writes[k], stampedCall{value: value, start: start, end: end})
}

// read records a read of key k that returned value.
func (l *rawLog) read(k int, value string, start, end int64) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.reads[k] = append(l.reads[k], stampedCall{value: value, start: start, end: end})
}

// check reports the stale reads of each of keys, naming the calls read and
// write.
func (l *rawLog) check(h *harness, keys []string, read, write string) {
	for k := range keys {
		for _, p := range staleReads(l.writes[k], l.reads[k], read, write) {
			h.errorf("key %q: %s", keys[k], p)
		}
	}
}

func runReadAfterWrite(h *harness) {
	keys := h.numberedKeys("hot:", rawKeys)
	log := newRawLog(rawKeys)
	h.reportProblems(concurrently(rawWorkers, func(g int) string {
		for i := range rawOps {
			k := (g + i/3) % rawKeys
			start := log.now()
			if i%3 == 0 {
				value := fmt.Sprintf("g%d-%d", g, i)
				if err := h.s.Set(h.ctx, keys[k], []byte(value)); err != nil {
					return fmt.Sprintf("Set(%q): %v", keys[k], err)
				}
				log.wrote(k, value, start, log.now())
				continue
			}
			v, err := h.s.Get(h.ctx, keys[k])
			if err != nil && !errors.Is(err, kv.ErrNotFound) {
				return fmt.Sprintf("Get(%q): %v", keys[k], err)
			}
			log.read(k, string(v), start, log.now())
		}
		return ""
	}))
	log.check(h, keys, "Get", "Set")
}

func runBulkReadAfterWrite(h *harness) {
	keys := h.numberedKeys("bulk:", rawBulkKeys)
	log := newRawLog(rawBulkKeys)
	h.reportProblems(concurrently(rawWorkers, func(g int) string {
		items := make([]kv.Item, rawBulkKeys)
		order := make([]string, rawBulkKeys)
		for i := range rawBulkOps {
			start := log.now()
			if i%3 == 0 {
				for k := range items {
					items[k] = kv.Item{Key: keys[k], Value: fmt.Appendf(nil, "g%d-%d-k%d", g, i, k)}
				}
				if err := kv.SetMulti(h.ctx, h.s, items); err != nil {
					return fmt.Sprintf("SetMulti(%d keys): %v", len(items), err)
				}
				end := log.now()
				for k, it := range items {
					log.wrote(k, string(it.Value), start, end)
				}
				continue
			}
			// The keys from key i%rawBulkKeys on, then the rest.
			for j := range order {
				order[j] = keys[(i+j)%rawBulkKeys]
			}
			vals, err := kv.GetMulti(h.ctx, h.s, order)
			if err != nil {
				return fmt.Sprintf("GetMulti(%q): %v", order, err)
			}
			if len(vals) != len(order) {
				return fmt.Sprintf("GetMulti of %d keys returned %d values", len(order), len(vals))
			}
			end := log.now()
			for j, v := range vals {
				log.read((i+j)%rawBulkKeys, string(v.Data), start, end)
			}
		}
		return ""
	}))
	log.check(h, keys, "GetMulti", "SetMulti")
}

// staleReads checks each read of a key against the key's writes (the key
// was missing before them, and each wrote a value of its own): the write
// whose value the read returned must not have been followed by another
// write that started after it returned and returned before the read
// started. It returns the first few problems, naming the calls read and
// write.
func staleReads(writes, reads []stampedCall, read, write string) []string {
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
			problems = append(problems, fmt.Sprintf("a %s returned %q, which no %s of the key wrote", read, r.value, write))
			continue
		}
		if start, replaced := ws.Replaced(w, r.start); replaced {
			what := fmt.Sprintf("%q", r.value)
			if r.value == "" {
				what = "no value"
			}
			problems = append(problems, fmt.Sprintf("a %s (clock %d to %d) returned %s, which a %s that started at %d, after the value's %s returned, had replaced before the %s started",
				read, r.start, r.end, what, write, start, write, read))
		}
		if len(problems) == 3 {
			break
		}
	}
	return problems
}
