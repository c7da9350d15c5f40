package memory

import (
	"bytes"
	"context"
	"strconv"
	"time"

	"github.com/cledar/storekit/internal/validate"
	"github.com/cledar/storekit/kv"
	"github.com/cledar/storekit/metrics"
)

// The conditional writes below each hold the key's lock from the read of
// what it holds to the write, which is what makes them atomic; reads stay
// lock-free.

// SetIfAbsent implements [kv.Conditional].
func (s *Store) SetIfAbsent(ctx context.Context, key string, value []byte, ttl time.Duration) (_ bool, err error) {
	defer s.counters.Done(metrics.OpSetIfAbsent, &err)
	if err := s.check(ctx, "setifabsent", key); err != nil {
		return false, err
	}
	if err := validate.OptionalTTL(ttl); err != nil {
		return false, opError("setifabsent", key, err)
	}
	e := &entry{val: clone(value)}
	l := s.lock(key)
	if _, ok := s.lookup(key); ok {
		l.Unlock()
		return false, nil
	}
	s.putLocked(key, e, ttl)
	l.Unlock()
	s.schedule(key, e)
	return true, nil
}

// CompareAndSwap implements [kv.Conditional].
func (s *Store) CompareAndSwap(ctx context.Context, key string, old, new []byte, ttl time.Duration) (_ bool, err error) {
	defer s.counters.Done(metrics.OpCompareAndSwap, &err)
	if err := s.check(ctx, "compareandswap", key); err != nil {
		return false, err
	}
	if err := validate.OptionalTTL(ttl); err != nil {
		return false, opError("compareandswap", key, err)
	}
	e := &entry{val: clone(new)}
	l := s.lock(key)
	cur, ok := s.lookup(key)
	switch {
	case ok && cur.hist != nil:
		l.Unlock()
		return false, opError("compareandswap", key, kv.ErrWrongType)
	case !ok || !bytes.Equal(cur.val, old):
		l.Unlock()
		return false, nil
	}
	e.exp = cur.exp // kept unless ttl is positive
	s.putLocked(key, e, ttl)
	l.Unlock()
	if ttl > 0 {
		s.schedule(key, e)
	}
	return true, nil
}

// CompareAndDelete implements [kv.Conditional].
func (s *Store) CompareAndDelete(ctx context.Context, key string, old []byte) (_ bool, err error) {
	defer s.counters.Done(metrics.OpCompareAndDelete, &err)
	if err := s.check(ctx, "compareanddelete", key); err != nil {
		return false, err
	}
	l := s.lock(key)
	defer l.Unlock()
	cur, ok := s.lookup(key)
	switch {
	case ok && cur.hist != nil:
		return false, opError("compareanddelete", key, kv.ErrWrongType)
	case !ok || !bytes.Equal(cur.val, old):
		return false, nil
	}
	s.data.Delete(key)
	s.emit(kv.OpDelete, key)
	return true, nil
}

// Incr implements [kv.Counter], with the rule of [kv.AddCounter].
func (s *Store) Incr(ctx context.Context, key string, delta int64) (_ int64, err error) {
	defer s.counters.Done(metrics.OpIncr, &err)
	if err := s.check(ctx, "incr", key); err != nil {
		return 0, err
	}
	l := s.lock(key)
	defer l.Unlock()
	cur, ok := s.lookup(key)
	if !ok {
		s.putLocked(key, &entry{val: strconv.AppendInt(nil, delta, 10)}, 0)
		return delta, nil
	}
	if cur.hist != nil {
		return 0, opError("incr", key, kv.ErrWrongType)
	}
	n, err := kv.AddCounter(cur.val, delta)
	if err != nil {
		return 0, opError("incr", key, err)
	}
	s.putLocked(key, &entry{val: strconv.AppendInt(nil, n, 10), exp: cur.exp}, 0)
	return n, nil
}

// AppendIf implements [kv.ConditionalHistorian]. A conflict's error is the
// [*kv.VersionConflict] itself.
func (s *Store) AppendIf(ctx context.Context, key string, value []byte, expect int64) (_ int64, err error) {
	defer s.counters.Done(metrics.OpAppendIf, &err)
	if err := s.check(ctx, "appendif", key); err != nil {
		return 0, err
	}
	if err := validate.Expect(expect); err != nil {
		return 0, opError("appendif", key, err)
	}
	v := clone(value)
	l := s.lock(key)
	defer l.Unlock()
	cur, _ := s.lookup(key)
	if latest := version(cur); latest != expect {
		return 0, &kv.VersionConflict{Key: key, Expected: expect, Latest: latest}
	}
	return s.appendLocked(key, cur, v), nil
}

// version returns the latest version of the history in e: 0 for no key
// (nil), 1 for a plain value.
func version(e *entry) int64 {
	switch {
	case e == nil:
		return 0
	case e.hist == nil:
		return 1
	default:
		return int64(len(e.hist))
	}
}
