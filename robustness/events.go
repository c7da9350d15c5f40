package robustness

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"

	"github.com/cledar/storekit/kv"
)

// A watchLog records the events of a watch on one sequence's prefix, and
// checks, as each arrives, that a read of its key through the store returns
// the state the event's write left or a newer one.
type watchLog struct {
	store  fullStore
	prefix string
	// want and states are the model's events per key and states per key.
	want   map[string][]wantEvent
	states map[string][]refState

	mu      sync.Mutex
	got     map[string][]kv.Op // events per key suffix, in arrival order
	order   []kv.Event         // every event, in arrival order, for reports
	strange []string           // resyncs after the first, keys outside the prefix
	stale   []string           // visibility failures
	reads   int
	// pos follows each key's events through want, for the visibility
	// check: the index of the wanted event matched last, and how many
	// events matched it (more than one for a Prune's OpSets).
	pos map[string]*eventPos
}

type eventPos struct {
	next int // index in want of the next event expected
	used int // events matched to want[next] so far, for one with Max > 1
	lost bool
}

// newWatchLog returns a log that checks events against the model m, which
// has run the whole sequence.
func newWatchLog(st fullStore, prefix string, m *refModel) *watchLog {
	l := &watchLog{store: st, prefix: prefix, want: map[string][]wantEvent{}, states: m.states,
		got: map[string][]kv.Op{}, pos: map[string]*eventPos{}}
	for _, e := range m.events {
		l.want[e.Key] = append(l.want[e.Key], e)
	}
	return l
}

// consume records the events of ch until it is closed, reading each
// event's key with ctx.
func (l *watchLog) consume(ctx context.Context, ch <-chan kv.Event) {
	for ev := range ch {
		l.record(ctx, ev)
	}
}

func (l *watchLog) record(ctx context.Context, ev kv.Event) {
	l.mu.Lock()
	l.order = append(l.order, ev)
	if ev.Op == kv.OpResync {
		l.strange = append(l.strange, fmt.Sprintf("an OpResync (err %v) after the first, with no reconnect or overflow to cause it", ev.Err))
		l.mu.Unlock()
		return
	}
	key, ok := strings.CutPrefix(ev.Key, l.prefix)
	if !ok {
		l.strange = append(l.strange, fmt.Sprintf("event %v for a key outside the watched pattern", ev))
		l.mu.Unlock()
		return
	}
	l.got[key] = append(l.got[key], ev.Op)
	minState, ok := l.advance(key, ev.Op)
	l.mu.Unlock()
	if !ok {
		return
	}
	// The read happens outside the lock, while the sequence goes on: it
	// must return the event's state or a later one.
	v, version, err := l.store.Latest(ctx, ev.Key)
	read := refState{exists: err == nil, val: v, version: version}
	l.mu.Lock()
	defer l.mu.Unlock()
	l.reads++
	if err != nil && !errors.Is(err, kv.ErrNotFound) {
		if ctx.Err() == nil {
			l.stale = append(l.stale, fmt.Sprintf("Latest(%q) after event %v: %v", key, ev.Op, err))
		}
		return
	}
	states := l.states[key]
	if slices.ContainsFunc(states[minState:], read.equal) {
		return
	}
	l.stale = append(l.stale, fmt.Sprintf("after event %v of key %q, Latest returned %s, which the key held only before that event's write (states from the event on: %s)",
		ev.Op, key, read, fmtStates(states[minState:])))
}

// advance matches op, the next event of key, to the events the model
// wants, and returns the index of the state the matched event's write
// left. It reports false once the events differ from the model's, when
// only the comparison of whole streams can tell what went wrong.
func (l *watchLog) advance(key string, op kv.Op) (int, bool) {
	p := l.pos[key]
	if p == nil {
		p = &eventPos{}
		l.pos[key] = p
	}
	want := l.want[key]
	if p.lost {
		return 0, false
	}
	if p.used > 0 {
		cur := want[p.next]
		if cur.Op == op && p.used < cur.Max {
			p.used++
			return cur.State, true
		}
		p.next++
		p.used = 0
	}
	if p.next >= len(want) || want[p.next].Op != op {
		p.lost = true
		return 0, false
	}
	cur := want[p.next]
	if cur.Max > 1 {
		p.used = 1
	} else {
		p.next++
	}
	return cur.State, true
}

func (s refState) equal(o refState) bool {
	if s.exists != o.exists {
		return false
	}
	return !s.exists || (s.version == o.version && bytes.Equal(s.val, o.val))
}

func (s refState) String() string {
	if !s.exists {
		return "missing"
	}
	return fmt.Sprintf("%q@v%d", s.val, s.version)
}

func fmtStates(states []refState) string {
	parts := make([]string, len(states))
	for i, s := range states {
		parts[i] = s.String()
	}
	return strings.Join(parts, ", ")
}

// compare returns "" when every key's events are what the model wants, or
// the first difference, and the number of events compared. It reports too
// whether more events may still make them match: false once some key has
// an event the model's cannot be completed to match, and then that key's
// events are the difference reported (other keys' events may still be on
// their way).
func (l *watchLog) compare() (diff string, n int, more bool) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if len(l.strange) > 0 {
		return l.strange[0], 0, false
	}
	for k, got := range l.got {
		if !matchEvents(got, l.want[k], true) {
			return fmt.Sprintf("events of key %q: got %v, want %s", k, got, fmtWant(l.want[k])), 0, false
		}
	}
	more = true
	keys := make([]string, 0, len(l.got)+len(l.want))
	for k := range l.want {
		keys = append(keys, k)
	}
	for k := range l.got {
		if _, ok := l.want[k]; !ok {
			keys = append(keys, k)
		}
	}
	slices.Sort(keys)
	for _, k := range keys {
		got, want := l.got[k], l.want[k]
		if !matchEvents(got, want, false) {
			return fmt.Sprintf("events of key %q: got %v, want %s", k, got, fmtWant(want)), n, more
		}
		n += len(got)
	}
	return "", n, more
}

// matchEvents reports whether got is the events want lists, each wanted
// event with Max above 1 matching from one to Max events of its kind; with
// prefix, whether got is the start of such a list.
func matchEvents(got []kv.Op, want []wantEvent, prefix bool) bool {
	memo := map[[2]int]bool{}
	var match func(i, j int) bool
	match = func(i, j int) bool {
		if prefix && i == len(got) {
			return true
		}
		if j == len(want) {
			return i == len(got)
		}
		k := [2]int{i, j}
		if r, ok := memo[k]; ok {
			return r
		}
		r := false
		for n := 1; n <= want[j].Max && i+n <= len(got) && got[i+n-1] == want[j].Op; n++ {
			if match(i+n, j+1) {
				r = true
				break
			}
		}
		memo[k] = r
		return r
	}
	return match(0, 0)
}

func fmtWant(want []wantEvent) string {
	parts := make([]string, len(want))
	for i, w := range want {
		parts[i] = w.Op.String()
		if w.Max > 1 {
			parts[i] += fmt.Sprintf("{1,%d}", w.Max)
		}
	}
	return "[" + strings.Join(parts, " ") + "]"
}
