package conformance

import (
	"bytes"
	"context"
	"fmt"
	"iter"
	"math"
	"slices"
	"strconv"
	"sync"
	"time"

	"github.com/cledar/storekit/internal/eventq"
	"github.com/cledar/storekit/kv"
)

// refStore is a small, obviously correct store with every capability, used
// to test the suite itself: one mutex around a map, expiry by timer (and on
// access), watches fed through eventq.
type refStore struct {
	mu      sync.Mutex
	data    map[string]*refEntry
	watches map[*refWatch]struct{}
	closed  bool
	gen     uint64
}

type refEntry struct {
	value   []byte   // plain value, when hist is nil
	hist    [][]byte // history, oldest first
	expires time.Time
	gen     uint64 // identifies this write, for its expiry timer
}

type refWatch struct {
	pattern string
	q       *eventq.Queue
}

// fullStore is a store with every optional interface.
type fullStore interface {
	allButPruner
	kv.Pruner
}

// allButPruner is a store with every optional interface but kv.Pruner.
type allButPruner interface {
	kv.Store
	kv.MultiGetter
	kv.Scanner
	kv.Expirer
	kv.ExpiryChanger
	kv.Watcher
	kv.Historian
	kv.MultiLatest
	kv.ConditionalHistorian
	kv.Conditional
	kv.Counter
	kv.BulkWriter
}

var _ fullStore = (*refStore)(nil)

func newRefStore() *refStore {
	return &refStore{data: make(map[string]*refEntry), watches: make(map[*refWatch]struct{})}
}

// begin checks ctx and Close, and locks the store.
func (s *refStore) begin(ctx context.Context) error {
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("ref: %w", err)
	}
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		return fmt.Errorf("ref: %w", kv.ErrClosed)
	}
	return nil
}

// emit reports an event for key to the matching watches. Called locked.
func (s *refStore) emit(op kv.Op, key string) {
	for w := range s.watches {
		if kv.Match(w.pattern, key) {
			w.q.Push(kv.Event{Op: op, Key: key})
		}
	}
}

// live returns key's entry, removing it if it has expired. Called locked.
func (s *refStore) live(key string) *refEntry {
	e := s.data[key]
	if e != nil && !e.expires.IsZero() && !time.Now().Before(e.expires) {
		delete(s.data, key)
		s.emit(kv.OpExpired, key)
		return nil
	}
	return e
}

func (s *refStore) put(key string, e *refEntry) {
	s.gen++
	e.gen = s.gen
	s.data[key] = e
}

func (s *refStore) Get(ctx context.Context, key string) ([]byte, error) {
	if err := s.begin(ctx); err != nil {
		return nil, err
	}
	defer s.mu.Unlock()
	e := s.live(key)
	switch {
	case e == nil:
		return nil, fmt.Errorf("ref: %s: %w", kv.QuoteKey(key), kv.ErrNotFound)
	case e.hist != nil:
		return nil, fmt.Errorf("ref: %s: %w", kv.QuoteKey(key), kv.ErrWrongType)
	}
	return slices.Clone(e.value), nil
}

func (s *refStore) Set(ctx context.Context, key string, value []byte) error {
	if err := s.begin(ctx); err != nil {
		return err
	}
	defer s.mu.Unlock()
	s.write(key, value, 0)
	return nil
}

// write stores value at key, with an expiry if ttl is positive, as
// SetWithTTL does, or else without one, as Set does. Called locked.
func (s *refStore) write(key string, value []byte, ttl time.Duration) {
	e := &refEntry{value: nonNil(value)}
	s.put(key, e)
	s.emit(kv.OpSet, key)
	if ttl > 0 {
		s.setExpiry(key, e, ttl)
	}
}

// setExpiry makes e, key's entry, expire ttl from now. Called locked.
func (s *refStore) setExpiry(key string, e *refEntry, ttl time.Duration) {
	s.gen++
	e.gen = s.gen
	e.expires = time.Now().Add(ttl)
	s.emit(kv.OpExpire, key)
	gen := e.gen
	time.AfterFunc(ttl, func() { s.expire(key, gen) })
}

func nonNil(b []byte) []byte { return append([]byte{}, b...) }

func (s *refStore) Delete(ctx context.Context, key string) (bool, error) {
	if err := s.begin(ctx); err != nil {
		return false, err
	}
	defer s.mu.Unlock()
	if s.live(key) == nil {
		return false, nil
	}
	delete(s.data, key)
	s.emit(kv.OpDelete, key)
	return true, nil
}

func (s *refStore) Close() error {
	s.mu.Lock()
	s.closed = true
	ws := s.watches
	s.watches = make(map[*refWatch]struct{})
	s.mu.Unlock()
	for w := range ws {
		w.q.Close()
	}
	return nil
}

func (s *refStore) GetMulti(ctx context.Context, keys []string) ([]kv.Value, error) {
	if err := s.begin(ctx); err != nil {
		return nil, err
	}
	defer s.mu.Unlock()
	vals := make([]kv.Value, len(keys))
	for i, k := range keys {
		if e := s.live(k); e != nil && e.hist == nil {
			vals[i] = kv.Value{Data: slices.Clone(e.value), Found: true}
		}
	}
	return vals, nil
}

func (s *refStore) Scan(ctx context.Context, pattern string) iter.Seq2[string, error] {
	return func(yield func(string, error) bool) {
		if err := s.begin(ctx); err != nil {
			yield("", err)
			return
		}
		var keys []string
		for k := range s.data {
			if kv.Match(pattern, k) && s.live(k) != nil {
				keys = append(keys, k)
			}
		}
		s.mu.Unlock()
		for _, k := range keys {
			if !yield(k, nil) {
				return
			}
		}
	}
}

func (s *refStore) SetWithTTL(ctx context.Context, key string, value []byte, ttl time.Duration) error {
	if ttl <= 0 {
		return fmt.Errorf("ref: ttl %v: %w", ttl, kv.ErrInvalid)
	}
	if err := s.begin(ctx); err != nil {
		return err
	}
	defer s.mu.Unlock()
	s.write(key, value, ttl)
	return nil
}

// expire frees key if it still holds the write gen, which has expired.
func (s *refStore) expire(key string, gen uint64) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if e := s.data[key]; !s.closed && e != nil && e.gen == gen {
		s.live(key)
	}
}

func (s *refStore) TTL(ctx context.Context, key string) (time.Duration, error) {
	if err := s.begin(ctx); err != nil {
		return 0, err
	}
	defer s.mu.Unlock()
	e := s.live(key)
	switch {
	case e == nil:
		return 0, fmt.Errorf("ref: %s: %w", kv.QuoteKey(key), kv.ErrNotFound)
	case e.expires.IsZero():
		return kv.NoExpiry, nil
	}
	return time.Until(e.expires), nil
}

func (s *refStore) Watch(ctx context.Context, pattern string) (<-chan kv.Event, error) {
	if err := s.begin(ctx); err != nil {
		return nil, err
	}
	defer s.mu.Unlock()
	w := &refWatch{pattern: pattern, q: eventq.New(ctx, 0)}
	w.q.Push(kv.Event{Op: kv.OpResync})
	s.watches[w] = struct{}{}
	context.AfterFunc(ctx, func() {
		s.mu.Lock()
		delete(s.watches, w)
		s.mu.Unlock()
	})
	return w.q.C(), nil
}

func (s *refStore) Append(ctx context.Context, key string, value []byte) (int64, error) {
	if err := s.begin(ctx); err != nil {
		return 0, err
	}
	defer s.mu.Unlock()
	return s.appendTo(key, value), nil
}

// appendTo appends value to key's history, converting a plain value, and
// returns its version. Called locked.
func (s *refStore) appendTo(key string, value []byte) int64 {
	e := s.live(key)
	switch {
	case e == nil:
		e = &refEntry{}
		s.put(key, e)
	case e.hist == nil:
		e = &refEntry{hist: [][]byte{e.value}} // a conversion drops the expiry
		s.put(key, e)
		s.emit(kv.OpDelete, key)
	}
	e.hist = append(e.hist, nonNil(value))
	s.emit(kv.OpAppend, key)
	return int64(len(e.hist))
}

// entries returns key's history: a plain value counts as one entry. Called
// locked.
func (s *refStore) entries(key string) ([][]byte, error) {
	e := s.live(key)
	switch {
	case e == nil:
		return nil, fmt.Errorf("ref: %s: %w", kv.QuoteKey(key), kv.ErrNotFound)
	case e.hist == nil:
		return [][]byte{e.value}, nil
	}
	return e.hist, nil
}

func (s *refStore) Latest(ctx context.Context, key string) ([]byte, int64, error) {
	if err := s.begin(ctx); err != nil {
		return nil, 0, err
	}
	defer s.mu.Unlock()
	h, err := s.entries(key)
	if err != nil {
		return nil, 0, err
	}
	return slices.Clone(h[len(h)-1]), int64(len(h)), nil
}

func (s *refStore) LatestMulti(ctx context.Context, keys []string) ([]kv.LatestValue, error) {
	if err := s.begin(ctx); err != nil {
		return nil, err
	}
	defer s.mu.Unlock()
	out := make([]kv.LatestValue, len(keys))
	for i, k := range keys {
		if h, err := s.entries(k); err == nil {
			out[i] = kv.LatestValue{Value: slices.Clone(h[len(h)-1]), Version: int64(len(h)), Found: true}
		}
	}
	return out, nil
}

func (s *refStore) At(ctx context.Context, key string, version int64) ([]byte, error) {
	if version < 1 {
		return nil, fmt.Errorf("ref: version %d: %w", version, kv.ErrInvalid)
	}
	if err := s.begin(ctx); err != nil {
		return nil, err
	}
	defer s.mu.Unlock()
	h, err := s.entries(key)
	if err != nil {
		return nil, err
	}
	if version > int64(len(h)) {
		return nil, fmt.Errorf("ref: %s version %d: %w", kv.QuoteKey(key), version, kv.ErrNotFound)
	}
	return slices.Clone(h[version-1]), nil
}

func (s *refStore) History(ctx context.Context, key string) ([][]byte, error) {
	if err := s.begin(ctx); err != nil {
		return nil, err
	}
	defer s.mu.Unlock()
	h, err := s.entries(key)
	if err != nil {
		return nil, err
	}
	out := make([][]byte, len(h))
	for i, v := range h {
		out[i] = slices.Clone(v)
	}
	return out, nil
}

func (s *refStore) Prune(ctx context.Context, key string, before int64) (int, error) {
	if before < 1 {
		return 0, fmt.Errorf("ref: before %d: %w", before, kv.ErrInvalid)
	}
	if err := s.begin(ctx); err != nil {
		return 0, err
	}
	defer s.mu.Unlock()
	e := s.live(key)
	if e == nil || e.hist == nil {
		return 0, nil
	}
	n := pruneEntries(e.hist, before, false)
	if n > 0 {
		s.emit(kv.OpSet, key)
	}
	return n, nil
}

// pruneEntries empties, in place, the entries of h that Prune(before)
// empties, and returns how many: from version before-1 (or the one below
// the newest) down to the first entry already empty. newest says whether
// the newest entry may be emptied too, as only a broken store does.
func pruneEntries(h [][]byte, before int64, newest bool) int {
	high := int64(len(h))
	if !newest {
		high--
	}
	high = min(high, before-1)
	n := 0
	for v := high; v >= 1 && len(h[v-1]) > 0; v-- {
		h[v-1] = []byte{}
		n++
	}
	return n
}

func (s *refStore) SetIfAbsent(ctx context.Context, key string, value []byte, ttl time.Duration) (bool, error) {
	if ttl < 0 {
		return false, fmt.Errorf("ref: ttl %v: %w", ttl, kv.ErrInvalid)
	}
	if err := s.begin(ctx); err != nil {
		return false, err
	}
	defer s.mu.Unlock()
	if s.live(key) != nil {
		return false, nil
	}
	s.write(key, value, ttl)
	return true, nil
}

// plain returns key's entry if it holds a plain value equal to old. Called
// locked.
func (s *refStore) plain(key string, old []byte) (*refEntry, error) {
	e := s.live(key)
	switch {
	case e == nil:
		return nil, nil
	case e.hist != nil:
		return nil, fmt.Errorf("ref: %s: %w", kv.QuoteKey(key), kv.ErrWrongType)
	case !bytes.Equal(e.value, old):
		return nil, nil
	}
	return e, nil
}

func (s *refStore) CompareAndSwap(ctx context.Context, key string, old, new []byte, ttl time.Duration) (bool, error) {
	if ttl < 0 {
		return false, fmt.Errorf("ref: ttl %v: %w", ttl, kv.ErrInvalid)
	}
	if err := s.begin(ctx); err != nil {
		return false, err
	}
	defer s.mu.Unlock()
	e, err := s.plain(key, old)
	if e == nil {
		return false, err
	}
	if ttl == kv.KeepTTL {
		e.value = nonNil(new)
		s.emit(kv.OpSet, key)
	} else {
		s.write(key, new, ttl)
	}
	return true, nil
}

func (s *refStore) CompareAndDelete(ctx context.Context, key string, old []byte) (bool, error) {
	if err := s.begin(ctx); err != nil {
		return false, err
	}
	defer s.mu.Unlock()
	e, err := s.plain(key, old)
	if e == nil {
		return false, err
	}
	delete(s.data, key)
	s.emit(kv.OpDelete, key)
	return true, nil
}

// parseCounter returns the integer whose decimal text, as Redis writes it,
// is b.
func parseCounter(b []byte) (int64, bool) {
	n, err := strconv.ParseInt(string(b), 10, 64)
	return n, err == nil && strconv.FormatInt(n, 10) == string(b)
}

func (s *refStore) Incr(ctx context.Context, key string, delta int64) (int64, error) {
	if err := s.begin(ctx); err != nil {
		return 0, err
	}
	defer s.mu.Unlock()
	e := s.live(key)
	var n int64
	if e != nil {
		var ok bool
		if n, ok = parseCounter(e.value); e.hist != nil || !ok {
			return 0, fmt.Errorf("ref: incr %s: not an integer: %w", kv.QuoteKey(key), kv.ErrWrongType)
		}
	}
	if delta > 0 && n > math.MaxInt64-delta || delta < 0 && n < math.MinInt64-delta {
		return 0, fmt.Errorf("ref: incr %s by %d: overflow: %w", kv.QuoteKey(key), delta, kv.ErrInvalid)
	}
	n += delta
	if e == nil {
		s.write(key, strconv.AppendInt(nil, n, 10), 0)
	} else {
		e.value = strconv.AppendInt(nil, n, 10)
		s.emit(kv.OpSet, key)
	}
	return n, nil
}

func (s *refStore) Expire(ctx context.Context, key string, ttl time.Duration) (bool, error) {
	if ttl <= 0 {
		return false, fmt.Errorf("ref: ttl %v: %w", ttl, kv.ErrInvalid)
	}
	if err := s.begin(ctx); err != nil {
		return false, err
	}
	defer s.mu.Unlock()
	e := s.live(key)
	if e == nil {
		return false, nil
	}
	s.setExpiry(key, e, ttl)
	return true, nil
}

func (s *refStore) Persist(ctx context.Context, key string) (bool, error) {
	if err := s.begin(ctx); err != nil {
		return false, err
	}
	defer s.mu.Unlock()
	e := s.live(key)
	if e == nil {
		return false, nil
	}
	if !e.expires.IsZero() {
		e.expires = time.Time{}
		s.emit(kv.OpOther, key)
	}
	return true, nil
}

func (s *refStore) GetWithTTL(ctx context.Context, key string) ([]byte, time.Duration, error) {
	if err := s.begin(ctx); err != nil {
		return nil, 0, err
	}
	defer s.mu.Unlock()
	e := s.live(key)
	switch {
	case e == nil:
		return nil, 0, fmt.Errorf("ref: %s: %w", kv.QuoteKey(key), kv.ErrNotFound)
	case e.hist != nil:
		return nil, 0, fmt.Errorf("ref: %s: %w", kv.QuoteKey(key), kv.ErrWrongType)
	case e.expires.IsZero():
		return slices.Clone(e.value), kv.NoExpiry, nil
	}
	return slices.Clone(e.value), time.Until(e.expires), nil
}

func (s *refStore) SetMulti(ctx context.Context, items []kv.Item) error {
	for _, it := range items {
		if it.TTL < 0 {
			return fmt.Errorf("ref: set %s: ttl %v: %w", kv.QuoteKey(it.Key), it.TTL, kv.ErrInvalid)
		}
	}
	if err := s.begin(ctx); err != nil {
		return err
	}
	defer s.mu.Unlock()
	last := make(map[string]int, len(items))
	for i, it := range items {
		last[it.Key] = i
	}
	for i, it := range items {
		if last[it.Key] == i { // a key listed twice is written once
			s.write(it.Key, it.Value, it.TTL)
		}
	}
	return nil
}

func (s *refStore) DeleteMulti(ctx context.Context, keys []string) (int, error) {
	if err := s.begin(ctx); err != nil {
		return 0, err
	}
	defer s.mu.Unlock()
	n := 0
	for _, k := range keys {
		if s.live(k) != nil {
			delete(s.data, k)
			s.emit(kv.OpDelete, k)
			n++
		}
	}
	return n, nil
}

func (s *refStore) AppendIf(ctx context.Context, key string, value []byte, expect int64) (int64, error) {
	if expect < 0 {
		return 0, fmt.Errorf("ref: append %s at version %d: %w", kv.QuoteKey(key), expect, kv.ErrInvalid)
	}
	if err := s.begin(ctx); err != nil {
		return 0, err
	}
	defer s.mu.Unlock()
	var latest int64
	if h, err := s.entries(key); err == nil {
		latest = int64(len(h))
	}
	if latest != expect {
		return 0, fmt.Errorf("ref: %w", &kv.VersionConflict{Key: key, Expected: expect, Latest: latest})
	}
	return s.appendTo(key, value), nil
}
