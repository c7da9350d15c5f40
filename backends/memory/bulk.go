package memory

import (
	"context"
	"runtime"
	"sync/atomic"

	"github.com/cledar/storekit/internal/validate"
	"github.com/cledar/storekit/kv"
	"github.com/cledar/storekit/metrics"
)

// A bulk is one SetMulti or DeleteMulti, which the store applies atomically
// while reads stay lock-free. Holding the locks of all its keys, it stores
// each key's new entry marked as staged; readers look past a staged entry to
// the one it replaces until the bulk commits, which flips one flag, so every
// key changes for readers at the same instant. The bulk then clears the
// marks (or drops the deleted keys) before it unlocks: other writers, who
// hold a key's lock, never see a staged entry.
type bulk struct {
	committed atomic.Bool
}

// staged marks an entry of a bulk write that may not have committed yet.
type staged struct {
	bulk *bulk
	prev *entry // what readers see until the bulk commits; nil: no key
}

// stage stores e at key as part of b. The caller holds key's lock.
func (s *Store) stage(b *bulk, key string, e *entry) {
	prev, _ := s.load(key)
	e.staged.Store(&staged{bulk: b, prev: prev})
	s.data.Store(key, e)
}

// commit makes b's entries visible at once. s.commits is odd meanwhile, so
// that a read of several keys can tell whether one committed under it.
func (s *Store) commit(b *bulk) {
	s.commits.Add(1)
	b.committed.Store(true)
	s.commits.Add(1)
}

// optimisticReads is how many times snapshot reads without locks before it
// takes the keys' locks, so that a stream of bulk writes cannot starve it.
const optimisticReads = 4

// snapshot runs read, which loads keys, so that it sees each bulk write
// whole or not at all: it runs read again until no bulk write committed
// while it ran, and after a few tries holds the locks of keys instead, which
// keeps every bulk write on those keys out.
func (s *Store) snapshot(keys []string, read func()) {
	for range optimisticReads {
		c := s.commits.Load()
		if c%2 == 0 {
			read()
			if s.commits.Load() == c {
				return
			}
		}
		runtime.Gosched()
	}
	unlock := s.lockKeys(keys)
	defer unlock()
	read()
}

// lockKeys locks the stripes of keys, each once, in ascending order, the
// order of every multi-key lock, so that two never deadlock. It returns the
// function that unlocks them.
func (s *Store) lockKeys(keys []string) (unlock func()) {
	var held [lockStripes]bool
	for _, k := range keys {
		held[s.stripeOf(k)] = true
	}
	for i, h := range held {
		if h {
			s.locks[i].Lock()
		}
	}
	return func() {
		for i, h := range held {
			if h {
				s.locks[i].Unlock()
			}
		}
	}
}

// SetMulti implements [kv.BulkWriter]. It applies the whole call atomically:
// a reader sees every item written or none, and no writer of those keys
// comes in between. Watchers hear each item's events, in the order of
// items, as Set and SetWithTTL make them hear, once every item is visible.
func (s *Store) SetMulti(ctx context.Context, items []kv.Item) (err error) {
	defer s.counters.Done(metrics.OpSetMulti, &err)
	if err := s.check(ctx, "setmulti", ""); err != nil {
		return err
	}
	for _, it := range items {
		if err := validate.OptionalTTL(it.TTL); err != nil {
			return opError("setmulti", it.Key, err)
		}
	}
	// The last item of each key wins; keys lists each key once.
	last := make(map[string]int, len(items))
	keys := make([]string, 0, len(items))
	for i, it := range items {
		if _, dup := last[it.Key]; !dup {
			keys = append(keys, it.Key)
		}
		last[it.Key] = i
	}
	entries := make([]*entry, len(keys))
	for j, k := range keys {
		entries[j] = &entry{val: clone(items[last[k]].Value)}
	}

	b := &bulk{}
	unlock := s.lockKeys(keys)
	// Expired entries that the expirer has not freed yet are freed first,
	// with their OpExpired, as for Set.
	for _, k := range keys {
		s.lookup(k)
	}
	now := s.now()
	for j, k := range keys {
		if ttl := items[last[k]].TTL; ttl > 0 {
			entries[j].exp = now + int64(ttl)
		}
		s.stage(b, k, entries[j])
	}
	s.commit(b)
	for _, e := range entries {
		e.staged.Store(nil)
	}
	for _, k := range keys {
		s.emitWrite(k, items[last[k]].TTL > 0)
	}
	unlock()

	for j, k := range keys {
		s.schedule(k, entries[j])
	}
	return nil
}

// DeleteMulti implements [kv.BulkWriter]. It applies the whole call
// atomically: a reader sees every listed key removed or none. Watchers hear
// OpDelete for each removed key, in the order of keys, once all are gone.
func (s *Store) DeleteMulti(ctx context.Context, keys []string) (_ int, err error) {
	defer s.counters.Done(metrics.OpDeleteMulti, &err)
	if err := s.check(ctx, "deletemulti", ""); err != nil {
		return 0, err
	}
	unlock := s.lockKeys(keys)
	defer unlock()
	b := &bulk{}
	var removed []string
	seen := make(map[string]bool, len(keys))
	for _, k := range keys {
		if seen[k] {
			continue
		}
		seen[k] = true
		if _, ok := s.lookup(k); ok {
			s.stage(b, k, &entry{gone: true})
			removed = append(removed, k)
		}
	}
	if len(removed) == 0 {
		return 0, nil
	}
	s.commit(b)
	for _, k := range removed {
		s.data.Delete(k)
		s.emit(kv.OpDelete, k)
	}
	return len(removed), nil
}
