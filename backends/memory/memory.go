package memory

import (
	"context"
	"fmt"
	"hash/maphash"
	"iter"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/cledar/storekit/internal/eventq"
	"github.com/cledar/storekit/internal/lifecycle"
	"github.com/cledar/storekit/internal/validate"
	"github.com/cledar/storekit/kv"
	"github.com/cledar/storekit/metrics"
)

// Options configure a [Store]. The zero value is ready to use.
type Options struct {
	// Clock drives expiry. Defaults to the system clock.
	Clock Clock

	// WatchBuffer is how many events a watch holds for a consumer that is
	// not reading. Past it the buffered events are replaced by one OpResync.
	// Defaults to 1024.
	WatchBuffer int
}

const lockStripes = 64

// A Store is an in-process [kv.Store] with every optional capability of
// package kv. Create it with [New]; it is safe for concurrent use.
type Store struct {
	clock   Clock
	realNow bool // clock is the system clock: call time.Now directly
	buffer  int
	seed    maphash.Seed
	life    lifecycle.Life // open or closed; memory's watches are its own

	// data maps keys to *entry. Entries are immutable once stored, so reads
	// need no lock; writers of a key hold its stripe of locks, which orders
	// the events of one key.
	data  sync.Map
	locks [lockStripes]stripe

	// commits counts the bulk writes that became visible, twice each: it
	// is odd while one commits (see commit and snapshot).
	commits atomic.Uint64

	watchMu  sync.RWMutex
	watches  []*watch
	nwatches atomic.Int32

	exp expirer

	counters metrics.Counters // metrics.go
}

type stripe struct {
	sync.Mutex
	_ [56]byte // keep stripes on separate cache lines
}

// An entry is what a key holds: a plain value, or a history when hist is not
// nil. exp is the expiry in Unix nanoseconds, 0 for none. An entry is never
// modified once stored, but for its staged mark; a history grows by storing a
// new entry whose hist extends the old one's.
type entry struct {
	val  []byte
	hist [][]byte
	exp  int64

	// gone marks the entry a DeleteMulti stores in place of a key it
	// removes, until it drops the key.
	gone bool
	// staged is set while the entry belongs to a bulk write that holds the
	// key's lock (see bulk): readers look past it until the write commits.
	staged atomic.Pointer[staged]
}

// visible returns what readers see of e: e itself; nil when e marks a
// deleted key; or, while e belongs to a bulk write that has not committed,
// the entry it replaces (nil when the key was absent).
func (e *entry) visible() *entry {
	if st := e.staged.Load(); st != nil && !st.bulk.committed.Load() {
		return st.prev
	}
	if e.gone {
		return nil
	}
	return e
}

// liveAt reports whether e has not expired at now (Unix nanoseconds).
func (e *entry) liveAt(now int64) bool {
	return e.exp == 0 || now < e.exp
}

type watch struct {
	pattern string
	q       *eventq.Queue
}

var (
	_ kv.Store       = (*Store)(nil)
	_ kv.MultiGetter = (*Store)(nil)
	_ kv.Scanner     = (*Store)(nil)
	_ kv.Expirer     = (*Store)(nil)
	_ kv.Watcher     = (*Store)(nil)
	_ kv.Historian   = (*Store)(nil)
	_ kv.MultiLatest = (*Store)(nil)
	_ kv.Pruner      = (*Store)(nil)

	_ kv.Conditional          = (*Store)(nil)
	_ kv.Counter              = (*Store)(nil)
	_ kv.ExpiryChanger        = (*Store)(nil)
	_ kv.BulkWriter           = (*Store)(nil)
	_ kv.ConditionalHistorian = (*Store)(nil)
)

// New returns an empty store. A nil opts means the defaults.
//
// The store starts a goroutine the first time a key is given a TTL, and one
// per watch; Close stops them all.
func New(opts *Options) *Store {
	var o Options
	if opts != nil {
		o = *opts
	}
	s := &Store{clock: o.Clock, buffer: o.WatchBuffer, seed: maphash.MakeSeed()}
	if s.clock == nil {
		s.clock = systemClock{}
	}
	_, s.realNow = s.clock.(systemClock)
	s.life.Init()
	s.exp.init(s)
	return s
}

// stripeOf returns the index of key's stripe of locks.
func (s *Store) stripeOf(key string) uint64 {
	return maphash.String(s.seed, key) % lockStripes
}

// lock locks the stripe of key and returns it, for the caller to unlock.
func (s *Store) lock(key string) *stripe {
	l := &s.locks[s.stripeOf(key)]
	l.Lock()
	return l
}

// load returns what key holds for readers, expired or not. A caller that
// holds key's lock gets the entry stored, since no bulk write has one staged.
func (s *Store) load(key string) (*entry, bool) {
	v, ok := s.data.Load(key)
	if !ok {
		return nil, false
	}
	e := v.(*entry).visible()
	return e, e != nil
}

func (s *Store) now() int64 {
	if s.realNow {
		return time.Now().UnixNano()
	}
	return s.clock.Now().UnixNano()
}

// live reports whether e has not expired at the current time.
func (s *Store) live(e *entry) bool {
	return e.liveAt(s.now())
}

// check returns the error a call must fail with before doing anything: the
// store is closed or ctx is done.
func (s *Store) check(ctx context.Context, op, key string) error {
	if err := s.life.Check(ctx); err != nil {
		return opError(op, key, err)
	}
	return nil
}

func opError(op, key string, err error) error {
	return fmt.Errorf("memory: %s %s: %w", op, kv.QuoteKey(key), err)
}

func clone(b []byte) []byte {
	c := make([]byte, len(b))
	copy(c, b)
	return c
}

// lookup returns key's live entry, freeing it (and reporting OpExpired) if it
// has expired. The caller holds the key's stripe lock.
func (s *Store) lookup(key string) (*entry, bool) {
	e, ok := s.load(key)
	if ok && !s.live(e) {
		s.data.Delete(key)
		s.emit(kv.OpExpired, key)
		return nil, false
	}
	return e, ok
}

// current returns key's entry and the clock reading that found it live, or
// ok false when the key holds no live entry, and then e is the expired entry
// still stored for it, if any. It writes nothing. An entry found expired may
// have been replaced since it was loaded (its deadline passed while a write
// stored a newer one): the key, then never missing, is loaded again.
func (s *Store) current(key string) (e *entry, now int64, ok bool) {
	e, ok = s.load(key)
	for {
		now = s.now()
		if !ok || e.liveAt(now) {
			return e, now, ok
		}
		again, still := s.load(key)
		if !still || again == e {
			return again, now, false
		}
		e = again
	}
}

// loadLive is current, freeing an expired entry (and reporting OpExpired).
// It takes the key's stripe lock only to free one: the caller holds no lock.
func (s *Store) loadLive(key string) (*entry, int64, bool) {
	e, now, ok := s.current(key)
	if !ok && e != nil {
		s.expire(key, e)
		return nil, now, false
	}
	return e, now, ok
}

// expire frees key if it still holds the expired entry e.
func (s *Store) expire(key string, e *entry) {
	l := s.lock(key)
	if s.data.CompareAndDelete(key, e) {
		s.emit(kv.OpExpired, key)
	}
	l.Unlock()
}

// Get implements [kv.Store].
func (s *Store) Get(ctx context.Context, key string) (_ []byte, err error) {
	defer s.counters.Done(metrics.OpGet, &err)
	if err := s.check(ctx, "get", key); err != nil {
		return nil, err
	}
	e, _, ok := s.loadLive(key)
	switch {
	case !ok:
		return nil, opError("get", key, kv.ErrNotFound)
	case e.hist != nil:
		return nil, opError("get", key, kv.ErrWrongType)
	}
	return clone(e.val), nil
}

// Set implements [kv.Store].
func (s *Store) Set(ctx context.Context, key string, value []byte) (err error) {
	defer s.counters.Done(metrics.OpSet, &err)
	if err := s.check(ctx, "set", key); err != nil {
		return err
	}
	e := &entry{val: clone(value)}
	l := s.lock(key)
	s.putLocked(key, e, 0)
	l.Unlock()
	return nil
}

// putLocked stores the plain value e at key and reports it as Set does. A
// positive ttl gives e that expiry, which the caller schedules once it has
// unlocked, and is reported as SetWithTTL does; otherwise e keeps its exp.
// An expired entry that the expirer has not freed yet is freed first, with
// its OpExpired, as Redis frees an expired key that a write finds.
// The caller holds key's lock.
func (s *Store) putLocked(key string, e *entry, ttl time.Duration) {
	s.lookup(key)
	if ttl > 0 {
		e.exp = s.now() + int64(ttl)
	}
	s.data.Store(key, e)
	s.emitWrite(key, ttl > 0)
}

// emitWrite reports a write of key's value: OpSet, then OpExpire when the
// write gave the key an expiry, as Redis reports SET with EX.
func (s *Store) emitWrite(key string, expiry bool) {
	s.emit(kv.OpSet, key)
	if expiry {
		s.emit(kv.OpExpire, key)
	}
}

// Delete implements [kv.Store].
func (s *Store) Delete(ctx context.Context, key string) (_ bool, err error) {
	defer s.counters.Done(metrics.OpDelete, &err)
	if err := s.check(ctx, "delete", key); err != nil {
		return false, err
	}
	l := s.lock(key)
	defer l.Unlock()
	if _, ok := s.lookup(key); !ok {
		return false, nil
	}
	s.data.Delete(key)
	s.emit(kv.OpDelete, key)
	return true, nil
}

// GetMulti implements [kv.MultiGetter].
func (s *Store) GetMulti(ctx context.Context, keys []string) (_ []kv.Value, err error) {
	defer s.counters.Done(metrics.OpGetMulti, &err)
	if err := s.check(ctx, "getmulti", ""); err != nil {
		return nil, err
	}
	vals := make([]kv.Value, len(keys))
	s.snapshot(keys, func() {
		for i, key := range keys {
			vals[i] = kv.Value{}
			if e, _, ok := s.current(key); ok && e.hist == nil {
				vals[i] = kv.Value{Data: clone(e.val), Found: true}
			}
		}
	})
	return vals, nil
}

// Scan implements [kv.Scanner]. It yields each matching key at most once and
// holds no lock while the caller's loop body runs.
func (s *Store) Scan(ctx context.Context, pattern string) iter.Seq2[string, error] {
	return s.counters.Seq(metrics.OpScan, func(yield func(string, error) bool) {
		if err := s.check(ctx, "scan", pattern); err != nil {
			yield("", err)
			return
		}
		var stopErr error
		s.data.Range(func(k, v any) bool {
			if err := s.check(ctx, "scan", pattern); err != nil {
				stopErr = err
				return false
			}
			key := k.(string)
			e := v.(*entry).visible()
			if e == nil || !kv.Match(pattern, key) {
				return true
			}
			if !s.live(e) {
				// Expired, or replaced by a write meanwhile: a key present
				// for the whole iteration must be yielded.
				if _, _, ok := s.current(key); !ok {
					return true
				}
			}
			return yield(key, nil)
		})
		if stopErr != nil {
			yield("", stopErr)
		}
	})
}

// SetWithTTL implements [kv.Expirer].
func (s *Store) SetWithTTL(ctx context.Context, key string, value []byte, ttl time.Duration) (err error) {
	defer s.counters.Done(metrics.OpSetWithTTL, &err)
	if err := s.check(ctx, "set", key); err != nil {
		return err
	}
	if err := validate.TTL(ttl); err != nil {
		return opError("set", key, err)
	}
	e := &entry{val: clone(value)}
	l := s.lock(key)
	s.putLocked(key, e, ttl)
	l.Unlock()
	s.schedule(key, e)
	return nil
}

// TTL implements [kv.Expirer].
func (s *Store) TTL(ctx context.Context, key string) (_ time.Duration, err error) {
	defer s.counters.Done(metrics.OpTTL, &err)
	if err := s.check(ctx, "ttl", key); err != nil {
		return 0, err
	}
	l := s.lock(key)
	defer l.Unlock()
	e, ok := s.lookup(key)
	switch {
	case !ok:
		return 0, opError("ttl", key, kv.ErrNotFound)
	case e.exp == 0:
		return kv.NoExpiry, nil
	default:
		return time.Duration(e.exp - s.now()), nil
	}
}

// Append implements [kv.Historian].
func (s *Store) Append(ctx context.Context, key string, value []byte) (_ int64, err error) {
	defer s.counters.Done(metrics.OpAppend, &err)
	if err := s.check(ctx, "append", key); err != nil {
		return 0, err
	}
	v := clone(value)
	l := s.lock(key)
	defer l.Unlock()
	old, _ := s.lookup(key)
	return s.appendLocked(key, old, v), nil
}

// appendLocked appends v to the history of key, whose live entry is old (nil
// when key is missing), and returns its version. The caller holds key's lock.
func (s *Store) appendLocked(key string, old *entry, v []byte) int64 {
	var e *entry
	switch {
	case old == nil:
		e = &entry{hist: [][]byte{v}}
	case old.hist == nil:
		// A plain value becomes version 1, as the Redis backends do it:
		// delete the string, push it back with the new value.
		e = &entry{hist: [][]byte{old.val, v}}
	default:
		// Readers of old see old.hist[:len], which append never changes.
		e = &entry{hist: append(old.hist, v), exp: old.exp}
	}
	s.data.Store(key, e)
	// The events follow the write, so that a watcher that reads on the
	// OpDelete of a conversion already sees the history.
	if old != nil && old.hist == nil {
		s.emit(kv.OpDelete, key)
	}
	s.emit(kv.OpAppend, key)
	return int64(len(e.hist))
}

// Prune implements [kv.Pruner]. It stores a new entry, with the key's expiry,
// whose history has the pruned versions emptied, and reports one OpSet when
// it emptied any.
func (s *Store) Prune(ctx context.Context, key string, before int64) (_ int, err error) {
	defer s.counters.Done(metrics.OpPrune, &err)
	if err := s.check(ctx, "prune", key); err != nil {
		return 0, err
	}
	if err := validate.Before(before); err != nil {
		return 0, opError("prune", key, err)
	}
	l := s.lock(key)
	defer l.Unlock()
	old, ok := s.lookup(key)
	if !ok || old.hist == nil {
		return 0, nil // a missing key or a plain value
	}
	// Versions low+1 to high are emptied: high is the last below before
	// that is not the newest, low the first below it already empty (or 0).
	high := int(min(before-1, int64(len(old.hist)-1)))
	low := high
	for low > 0 && len(old.hist[low-1]) > 0 {
		low--
	}
	if low == high {
		return 0, nil
	}
	// Readers of old keep its entries: the new history is a copy.
	hist := slices.Clone(old.hist)
	for i := low; i < high; i++ {
		hist[i] = []byte{}
	}
	s.data.Store(key, &entry{hist: hist, exp: old.exp})
	s.emit(kv.OpSet, key)
	return high - low, nil
}

// history returns key's entries (a plain value is a history of one) without
// copying them.
func (s *Store) history(op, key string) ([][]byte, error) {
	e, _, ok := s.loadLive(key)
	switch {
	case !ok:
		return nil, opError(op, key, kv.ErrNotFound)
	case e.hist == nil:
		return [][]byte{e.val}, nil
	default:
		return e.hist, nil
	}
}

// Latest implements [kv.Historian].
func (s *Store) Latest(ctx context.Context, key string) (_ []byte, _ int64, err error) {
	defer s.counters.Done(metrics.OpLatest, &err)
	if err := s.check(ctx, "latest", key); err != nil {
		return nil, 0, err
	}
	h, err := s.history("latest", key)
	if err != nil {
		return nil, 0, err
	}
	return clone(h[len(h)-1]), int64(len(h)), nil
}

// LatestMulti implements [kv.MultiLatest]: Latest of each key, read as
// GetMulti reads, so that it sees each bulk write whole or not at all.
func (s *Store) LatestMulti(ctx context.Context, keys []string) (_ []kv.LatestValue, err error) {
	defer s.counters.Done(metrics.OpLatestMulti, &err)
	if err := s.check(ctx, "latestmulti", ""); err != nil {
		return nil, err
	}
	out := make([]kv.LatestValue, len(keys))
	s.snapshot(keys, func() {
		for i, key := range keys {
			out[i] = kv.LatestValue{}
			e, _, ok := s.current(key)
			switch {
			case !ok:
			case e.hist == nil:
				out[i] = kv.LatestValue{Value: clone(e.val), Version: 1, Found: true}
			default:
				out[i] = kv.LatestValue{Value: clone(e.hist[len(e.hist)-1]), Version: int64(len(e.hist)), Found: true}
			}
		}
	})
	return out, nil
}

// At implements [kv.Historian].
func (s *Store) At(ctx context.Context, key string, version int64) (_ []byte, err error) {
	defer s.counters.Done(metrics.OpAt, &err)
	if err := s.check(ctx, "at", key); err != nil {
		return nil, err
	}
	if err := validate.Version(version); err != nil {
		return nil, opError("at", key, err)
	}
	h, err := s.history("at", key)
	if err != nil {
		return nil, err
	}
	if version > int64(len(h)) {
		return nil, opError("at", key, fmt.Errorf("%w: version %d of %d", kv.ErrNotFound, version, len(h)))
	}
	return clone(h[version-1]), nil
}

// History implements [kv.Historian].
func (s *Store) History(ctx context.Context, key string) (_ [][]byte, err error) {
	defer s.counters.Done(metrics.OpHistory, &err)
	if err := s.check(ctx, "history", key); err != nil {
		return nil, err
	}
	h, err := s.history("history", key)
	if err != nil {
		return nil, err
	}
	out := make([][]byte, len(h))
	for i, v := range h {
		out[i] = clone(v)
	}
	return out, nil
}

// Watch implements [kv.Watcher]. Events are delivered for every change made
// through this store, in the order the changes happened to each key.
func (s *Store) Watch(ctx context.Context, pattern string) (_ <-chan kv.Event, err error) {
	defer s.counters.Done(metrics.OpWatch, &err)
	if err := s.check(ctx, "watch", pattern); err != nil {
		return nil, err
	}
	w := &watch{pattern: pattern, q: eventq.NewCounted(ctx, s.buffer, &s.counters.Watch)}
	s.watchMu.Lock()
	if s.life.Check(context.Background()) != nil { // Close ran after check: it will not see w
		s.watchMu.Unlock()
		w.q.Close()
		return nil, opError("watch", pattern, kv.ErrClosed)
	}
	w.q.Push(kv.Event{Op: kv.OpResync})
	s.pruneWatchesLocked()
	s.watches = append(s.watches, w)
	s.nwatches.Store(int32(len(s.watches)))
	s.watchMu.Unlock()
	return w.q.C(), nil
}

// emit reports op on key to every matching watch. Callers hold the key's
// stripe lock, which orders the events of one key.
func (s *Store) emit(op kv.Op, key string) {
	if s.nwatches.Load() == 0 {
		return
	}
	stale := false
	s.watchMu.RLock()
	for _, w := range s.watches {
		if kv.Match(w.pattern, key) && !w.q.Push(kv.Event{Op: op, Key: key}) {
			stale = true
		}
	}
	s.watchMu.RUnlock()
	if stale {
		s.watchMu.Lock()
		s.pruneWatchesLocked()
		s.watchMu.Unlock()
	}
}

// pruneWatchesLocked forgets the watches whose context has ended. The caller
// holds s.watchMu for writing.
func (s *Store) pruneWatchesLocked() {
	kept := s.watches[:0]
	for _, w := range s.watches {
		if !w.q.Stopped() {
			kept = append(kept, w)
		}
	}
	clear(s.watches[len(kept):])
	s.watches = kept
	s.nwatches.Store(int32(len(kept)))
}

// Close implements [kv.Store]. It ends every watch and stops the store's
// goroutines before it returns. It is idempotent.
func (s *Store) Close() error {
	if !s.life.Close() {
		return nil
	}
	s.exp.stop()
	s.watchMu.Lock()
	ws := s.watches
	s.watches = nil
	s.nwatches.Store(0)
	s.watchMu.Unlock()
	for _, w := range ws {
		w.q.Close()
	}
	s.data.Clear()
	return nil
}
