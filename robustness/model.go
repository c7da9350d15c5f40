package robustness

import (
	"bytes"
	"errors"
	"slices"
	"strconv"
	"time"

	"github.com/cledar/storekit/kv"
)

// refModel is the reference model of the kv contract that the differential
// tests hold every backend to: a plain sequential map, written from the
// rules of kv/doc.go, with a virtual clock that moves only at Sleep steps.
// Keys are the suffixes of one sequence's prefix; the prefix serves only to
// match Scan's patterns against the whole keys, as a backend sees them.
type refModel struct {
	prefix string
	now    time.Duration
	data   map[string]*refEntry
	// events are the events a watch of the prefix must report, in order.
	events []wantEvent
	// states lists, per key, every state (existence, latest value and
	// version) the key went through, the first being "missing"; an event
	// refers to the state its write left.
	states map[string][]refState
	// addCounter is how Incr adds to a value: kv.AddCounter, as the
	// contract says, unless the target's server differs (see
	// runEnv.AddCounter).
	addCounter func(value []byte, delta int64) (int64, error)
}

// A refEntry is one live key of the model: a plain value or a history, and
// its deadline on the virtual clock (zero: no expiry).
type refEntry struct {
	val      []byte
	hist     [][]byte
	isHist   bool
	deadline time.Duration
}

// version returns the key's latest version: 1 for a plain value.
func (e *refEntry) version() int64 {
	if e.isHist {
		return int64(len(e.hist))
	}
	return 1
}

// latest returns the newest entry (the value itself for a plain value).
func (e *refEntry) latest() []byte {
	if e.isHist {
		return e.hist[len(e.hist)-1]
	}
	return e.val
}

// A refState is what a read of the latest entry of a key can return at one
// instant: whether it exists, its newest value and its version.
type refState struct {
	exists  bool
	val     []byte
	version int64
}

// A wantEvent is an event the contract requires. Max above 1 allows from 1
// to Max events of the kind in a row (a Prune that emptied Max entries is
// reported with one OpSet or up to one per entry). State is the index, in
// the model's states of the key, of the state the write left.
type wantEvent struct {
	Op    kv.Op
	Key   string
	Max   int
	State int
}

// An outcome is what one call returned, reduced to what the contract says
// about it. Err is the name of the error's sentinel (see errClass); the
// other fields are set as the kind of call has them.
type outcome struct {
	Err      string
	Conflict int64 // the latest version of a *kv.VersionConflict
	Value    []byte
	Bool     bool
	Int      int64
	TTL      time.Duration
	Values   []kv.Value
	Latests  []latestResult
	Keys     []string
	History  [][]byte
	Done     []bool // a *kv.BulkError's Done
}

// A latestResult is one kv.LatestValue with its error reduced to a class.
type latestResult struct {
	Value   []byte
	Version int64
	Found   bool
	Err     string
}

// newRefModel returns an empty model for keys under prefix.
func newRefModel(prefix string) *refModel {
	return &refModel{prefix: prefix, data: map[string]*refEntry{}, states: map[string][]refState{}, addCounter: kv.AddCounter}
}

// errClass names the sentinel of package kv that err wraps, "" for nil, and
// "other: " and the text for an error that wraps none of those a sequence
// can meet.
func errClass(err error) string {
	if err == nil {
		return ""
	}
	for _, s := range []struct {
		err  error
		name string
	}{
		{kv.ErrNotFound, "ErrNotFound"}, {kv.ErrWrongType, "ErrWrongType"},
		{kv.ErrInvalid, "ErrInvalid"}, {kv.ErrConflict, "ErrConflict"},
		{kv.ErrUnavailable, "ErrUnavailable"}, {kv.ErrClosed, "ErrClosed"},
		{kv.ErrNotSupported, "ErrNotSupported"}, {kv.ErrFull, "ErrFull"},
		{kv.ErrPermission, "ErrPermission"},
	} {
		if errors.Is(err, s.err) {
			return s.name
		}
	}
	return "other: " + err.Error()
}

// live returns key's entry, or nil when it is missing.
func (m *refModel) live(key string) *refEntry {
	return m.data[key]
}

// state returns key's current state.
func (m *refModel) state(key string) refState {
	e := m.live(key)
	if e == nil {
		return refState{}
	}
	return refState{exists: true, val: e.latest(), version: e.version()}
}

// emit records that a write left key in its current state and that
// watchers hear ops for it, in order.
func (m *refModel) emit(key string, ops ...kv.Op) {
	m.states[key] = append(m.statesOf(key), m.state(key))
	n := len(m.states[key]) - 1
	for _, op := range ops {
		m.events = append(m.events, wantEvent{Op: op, Key: key, Max: 1, State: n})
	}
}

// statesOf returns key's states so far, starting with "missing".
func (m *refModel) statesOf(key string) []refState {
	if s, ok := m.states[key]; ok {
		return s
	}
	return []refState{{}}
}

// sleep moves the virtual clock by d and expires the keys whose deadline
// it reached: a key is live while now is before its deadline.
func (m *refModel) sleep(d time.Duration) {
	m.now += d
	keys := make([]string, 0, len(m.data))
	for k, e := range m.data {
		if e.deadline != 0 && e.deadline <= m.now {
			keys = append(keys, k)
		}
	}
	slices.Sort(keys)
	for _, k := range keys {
		delete(m.data, k)
		m.emit(k, kv.OpExpired)
	}
}

// putPlain stores value at key with the expiry ttl (zero: none) and emits
// the events of Set or SetWithTTL.
func (m *refModel) putPlain(key string, value []byte, ttl time.Duration) {
	e := &refEntry{val: bytes.Clone(value)}
	if e.val == nil {
		e.val = []byte{}
	}
	if ttl > 0 {
		e.deadline = m.now + ttl
		m.data[key] = e
		m.emit(key, kv.OpSet, kv.OpExpire)
		return
	}
	m.data[key] = e
	m.emit(key, kv.OpSet)
}

// appendTo appends value to key's history, converting a plain value (which
// drops its expiry), and emits Append's events. It returns the new version.
func (m *refModel) appendTo(key string, value []byte) int64 {
	v := bytes.Clone(value)
	if v == nil {
		v = []byte{}
	}
	e := m.live(key)
	switch {
	case e == nil:
		m.data[key] = &refEntry{isHist: true, hist: [][]byte{v}}
		m.emit(key, kv.OpAppend)
	case !e.isHist:
		m.data[key] = &refEntry{isHist: true, hist: [][]byte{e.val, v}}
		m.emit(key, kv.OpDelete, kv.OpAppend)
	default:
		e.hist = append(e.hist, v)
		m.emit(key, kv.OpAppend)
	}
	return m.live(key).version()
}

// apply runs s on the model and returns what the contract says it returns.
func (m *refModel) apply(s step) outcome {
	switch s.Kind {
	case kSleep:
		m.sleep(s.TTL)
		return outcome{}
	case kGet:
		e := m.live(s.Key)
		switch {
		case e == nil:
			return outcome{Err: "ErrNotFound"}
		case e.isHist:
			return outcome{Err: "ErrWrongType"}
		}
		return outcome{Value: e.val}
	case kSet:
		m.putPlain(s.Key, s.Value, 0)
		return outcome{}
	case kSetWithTTL:
		if s.TTL <= 0 {
			return outcome{Err: "ErrInvalid"}
		}
		m.putPlain(s.Key, s.Value, s.TTL)
		return outcome{}
	case kDelete:
		if m.live(s.Key) == nil {
			return outcome{}
		}
		delete(m.data, s.Key)
		m.emit(s.Key, kv.OpDelete)
		return outcome{Bool: true}
	case kGetMulti:
		vals := make([]kv.Value, len(s.Keys))
		for i, k := range s.Keys {
			if e := m.live(k); e != nil && !e.isHist {
				vals[i] = kv.Value{Data: e.val, Found: true}
			}
		}
		return outcome{Values: vals}
	case kSetMulti:
		last := map[string]int{}
		var order []string
		for i, it := range s.Items {
			if it.TTL < 0 {
				return outcome{Err: "ErrInvalid"}
			}
			if _, ok := last[it.Key]; !ok {
				order = append(order, it.Key)
			}
			last[it.Key] = i
		}
		for _, k := range order {
			it := s.Items[last[k]]
			m.putPlain(k, it.Value, it.TTL)
		}
		return outcome{}
	case kDeleteMulti:
		n := 0
		for _, k := range s.Keys {
			if m.live(k) != nil {
				delete(m.data, k)
				m.emit(k, kv.OpDelete)
				n++
			}
		}
		return outcome{Int: int64(n)}
	case kScan:
		pattern := kv.EscapePattern(m.prefix) + s.Pattern
		var keys []string
		for k := range m.data {
			if kv.Match(pattern, m.prefix+k) {
				keys = append(keys, k)
			}
		}
		slices.Sort(keys)
		return outcome{Keys: keys}
	case kTTL:
		e := m.live(s.Key)
		if e == nil {
			return outcome{Err: "ErrNotFound"}
		}
		return outcome{TTL: m.ttlOf(e)}
	case kGetWithTTL:
		e := m.live(s.Key)
		switch {
		case e == nil:
			return outcome{Err: "ErrNotFound"}
		case e.isHist:
			return outcome{Err: "ErrWrongType"}
		}
		return outcome{Value: e.val, TTL: m.ttlOf(e)}
	case kExpire:
		if s.TTL <= 0 {
			return outcome{Err: "ErrInvalid"}
		}
		e := m.live(s.Key)
		if e == nil {
			return outcome{}
		}
		e.deadline = m.now + s.TTL
		m.emit(s.Key, kv.OpExpire)
		return outcome{Bool: true}
	case kPersist:
		e := m.live(s.Key)
		if e == nil {
			return outcome{}
		}
		if e.deadline != 0 {
			e.deadline = 0
			m.emit(s.Key, kv.OpOther)
		}
		return outcome{Bool: true}
	case kSetIfAbsent:
		if s.TTL < 0 {
			return outcome{Err: "ErrInvalid"}
		}
		if m.live(s.Key) != nil {
			return outcome{}
		}
		m.putPlain(s.Key, s.Value, s.TTL)
		return outcome{Bool: true}
	case kCompareAndSwap:
		if s.TTL < 0 {
			return outcome{Err: "ErrInvalid"}
		}
		e, out, ok := m.holds(s.Key, s.Old)
		if !ok {
			return out
		}
		if s.TTL > 0 {
			m.putPlain(s.Key, s.Value, s.TTL)
		} else {
			deadline := e.deadline
			m.putPlain(s.Key, s.Value, 0)
			m.data[s.Key].deadline = deadline
		}
		return outcome{Bool: true}
	case kCompareAndDelete:
		if _, out, ok := m.holds(s.Key, s.Old); !ok {
			return out
		}
		delete(m.data, s.Key)
		m.emit(s.Key, kv.OpDelete)
		return outcome{Bool: true}
	case kIncr:
		e := m.live(s.Key)
		switch {
		case e == nil:
			m.putPlain(s.Key, []byte(strconv.FormatInt(s.N, 10)), 0)
			return outcome{Int: s.N}
		case e.isHist:
			return outcome{Err: "ErrWrongType"}
		}
		n, err := m.addCounter(e.val, s.N)
		if err != nil {
			return outcome{Err: errClass(err)}
		}
		e.val = []byte(strconv.FormatInt(n, 10))
		m.emit(s.Key, kv.OpSet)
		return outcome{Int: n}
	case kAppend:
		return outcome{Int: m.appendTo(s.Key, s.Value)}
	case kAppendIf:
		if s.N < 0 {
			return outcome{Err: "ErrInvalid"}
		}
		var cur int64
		if e := m.live(s.Key); e != nil {
			cur = e.version()
		}
		if cur != s.N {
			return outcome{Err: "ErrConflict", Conflict: cur}
		}
		return outcome{Int: m.appendTo(s.Key, s.Value)}
	case kHistory:
		e := m.live(s.Key)
		switch {
		case e == nil:
			return outcome{Err: "ErrNotFound"}
		case !e.isHist:
			return outcome{History: [][]byte{e.val}}
		}
		return outcome{History: slices.Clone(e.hist)}
	case kAt:
		if s.N < 1 {
			return outcome{Err: "ErrInvalid"}
		}
		e := m.live(s.Key)
		if e == nil || s.N > e.version() {
			return outcome{Err: "ErrNotFound"}
		}
		if !e.isHist {
			return outcome{Value: e.val}
		}
		return outcome{Value: e.hist[s.N-1]}
	case kLatest:
		e := m.live(s.Key)
		if e == nil {
			return outcome{Err: "ErrNotFound"}
		}
		return outcome{Value: e.latest(), Int: e.version()}
	case kLatestMulti:
		res := make([]latestResult, len(s.Keys))
		for i, k := range s.Keys {
			if e := m.live(k); e != nil {
				res[i] = latestResult{Value: e.latest(), Version: e.version(), Found: true}
			}
		}
		return outcome{Latests: res}
	case kPrune:
		if s.N < 1 {
			return outcome{Err: "ErrInvalid"}
		}
		e := m.live(s.Key)
		if e == nil || !e.isHist {
			return outcome{}
		}
		n := 0
		for v := min(s.N-1, int64(len(e.hist))-1); v >= 1 && len(e.hist[v-1]) > 0; v-- {
			e.hist[v-1] = []byte{}
			n++
		}
		if n > 0 {
			m.emit(s.Key, kv.OpSet)
			m.events[len(m.events)-1].Max = n
		}
		return outcome{Int: int64(n)}
	}
	panic("robustness: model has no case for " + s.Kind.String())
}

// holds reports whether key holds the plain value old, as CompareAndSwap
// and CompareAndDelete need before they write, with its entry; when it does
// not, out is their outcome: not done, or ErrWrongType for a history.
func (m *refModel) holds(key string, old []byte) (e *refEntry, out outcome, ok bool) {
	e = m.live(key)
	switch {
	case e == nil:
		return nil, outcome{}, false
	case e.isHist:
		return nil, outcome{Err: "ErrWrongType"}, false
	case !bytes.Equal(e.val, old):
		return nil, outcome{}, false
	}
	return e, outcome{}, true
}

// ttlOf returns the time e has left on the virtual clock, or kv.NoExpiry.
func (m *refModel) ttlOf(e *refEntry) time.Duration {
	if e.deadline == 0 {
		return kv.NoExpiry
	}
	return e.deadline - m.now
}
