package memory

import (
	"context"
	"time"

	"github.com/cledar/storekit/internal/validate"
	"github.com/cledar/storekit/kv"
	"github.com/cledar/storekit/metrics"
)

// schedule has the expirer free key when e, just stored at key, expires; an
// entry without expiry needs nothing.
func (s *Store) schedule(key string, e *entry) {
	if e.exp != 0 {
		s.exp.schedule(key, e.exp)
	}
}

// withExpiry returns a copy of e, whatever it holds, that expires at exp
// (0: never). The copy shares e's value or history, which nothing modifies.
func withExpiry(e *entry, exp int64) *entry {
	return &entry{val: e.val, hist: e.hist, exp: exp}
}

// Expire implements [kv.ExpiryChanger].
func (s *Store) Expire(ctx context.Context, key string, ttl time.Duration) (_ bool, err error) {
	defer s.counters.Done(metrics.OpExpire, &err)
	if err := s.check(ctx, "expire", key); err != nil {
		return false, err
	}
	if err := validate.TTL(ttl); err != nil {
		return false, opError("expire", key, err)
	}
	l := s.lock(key)
	cur, ok := s.lookup(key)
	if !ok {
		l.Unlock()
		return false, nil
	}
	e := withExpiry(cur, s.now()+int64(ttl))
	s.data.Store(key, e)
	s.emit(kv.OpExpire, key)
	l.Unlock()
	s.schedule(key, e)
	return true, nil
}

// Persist implements [kv.ExpiryChanger].
func (s *Store) Persist(ctx context.Context, key string) (_ bool, err error) {
	defer s.counters.Done(metrics.OpPersist, &err)
	if err := s.check(ctx, "persist", key); err != nil {
		return false, err
	}
	l := s.lock(key)
	defer l.Unlock()
	cur, ok := s.lookup(key)
	if !ok {
		return false, nil
	}
	if cur.exp != 0 {
		s.data.Store(key, withExpiry(cur, 0))
		s.emit(kv.OpOther, key) // Redis reports PERSIST as "persist"
	}
	return true, nil
}

// GetWithTTL implements [kv.ExpiryChanger]. Like Get it takes no lock: the
// value and the expiry come from the same immutable entry.
func (s *Store) GetWithTTL(ctx context.Context, key string) (_ []byte, _ time.Duration, err error) {
	defer s.counters.Done(metrics.OpGetWithTTL, &err)
	if err := s.check(ctx, "getwithttl", key); err != nil {
		return nil, 0, err
	}
	e, now, ok := s.loadLive(key) // the TTL from that reading is positive
	switch {
	case !ok:
		return nil, 0, opError("getwithttl", key, kv.ErrNotFound)
	case e.hist != nil:
		return nil, 0, opError("getwithttl", key, kv.ErrWrongType)
	case e.exp == 0:
		return clone(e.val), kv.NoExpiry, nil
	default:
		return clone(e.val), time.Duration(e.exp - now), nil
	}
}
