package configstore

// This file holds the re-read machinery: the loop that turns the backend's
// change events and resyncs into re-reads, the queues of keys to re-read,
// the readers that work them, in batches when the backend reads many keys
// at once (kv.MultiLatest), and the delays of retries. What it changes of
// each key's state is in cache.go.

import (
	"context"
	"fmt"
	"strings"
	"time"

	"go.uber.org/zap"

	"github.com/cledar/storekit/kv"
)

// listen turns the backend's change events into re-reads. It never blocks
// on I/O: a re-read is queued for the readers.
func (s *Store[T]) listen(events <-chan kv.Event) {
	defer s.wg.Done()
	for ev := range events {
		s.mu.Lock()
		switch ev.Op {
		case kv.OpResync:
			s.resync(ev.Err)
		default:
			if key, ok := strings.CutPrefix(ev.Key, s.prefix); ok {
				if e := s.keys[key]; e != nil {
					s.announce(key, e)
				}
			}
		}
		s.mu.Unlock()
	}
	// The channel closes when the Store is closed, or when the kv.Store is
	// closed under it: then nothing guarantees the cache any more.
	s.mu.Lock()
	defer s.mu.Unlock()
	if !s.closed {
		s.log.Warn("configstore: the backend's watch ended; the cache is no longer used")
		s.resync(fmt.Errorf("the backend's watch ended: %w", kv.ErrClosed))
	}
}

// resync re-reads every tracked key after events may have been missed:
// the watched keys first, then the others, behind any change event. Until
// a key is read again, Fetch reads it from the backend rather than from the
// cache (see servable). A non-nil err means that delivery is not guaranteed
// for now: watchers are told, and Fetch stops serving the cache until a
// resync without error. s.mu must be held.
func (s *Store[T]) resync(err error) {
	s.counters.Resynced()
	wasHealthy := s.healthy
	s.healthy = err == nil
	s.epoch++
	var stale error
	if err != nil && wasHealthy {
		s.log.Warn("configstore: change notifications interrupted; reading through until they resume", zap.Error(err))
		stale = fmt.Errorf("%w: %w", ErrStale, err)
	}
	// After watchers were told ErrStale, tell them the state now, changed
	// or not, once it is read.
	restored := err == nil && !wasHealthy
	for key, e := range s.keys {
		if stale != nil {
			e.notify(note{kind: Failed, version: e.view.version, err: stale})
		}
		s.resynced(key, e, restored)
	}
}

// A tier is the urgency of a re-read (see cache.go): readers take the keys
// of live before those of watched, and those before backlog's.
type tier uint8

const (
	live    tier = iota + 1 // a change event, or the retry of a failed re-read of one
	watched                 // a resync of a watched key
	backlog                 // a resync of any other key
)

// push adds key to the queue of tier t and wakes a reader. Each key is
// queued at most once (entry.queued) but for stale places in less urgent
// tiers, which take skips. s.mu must be held.
func (s *Store[T]) push(key string, t tier) {
	s.queues[t-1] = append(s.queues[t-1], key)
	s.cond.Signal()
}

// queuedKeys returns how many places the queues hold. s.mu must be held.
func (s *Store[T]) queuedKeys() int {
	n := 0
	for _, q := range s.queues {
		n += len(q)
	}
	return n
}

// A taken is a key a reader took from the queues to re-read, holding its
// lock.
type taken struct {
	key string
	e   *entry
	t   tier
}

// take takes up to s.batch keys to re-read from the queues, the most urgent
// tier first, and the lock of each. It skips stale places, keys no longer
// tracked, keys that a call read since they were queued, and keys a call
// holds (which the call queues again when it releases them). s.mu must be
// held.
func (s *Store[T]) take(batch []taken) []taken {
	for t := live; t <= backlog; t++ {
		q := s.queues[t-1]
		i := 0
		for ; i < len(q) && len(batch) < s.batch; i++ {
			key := q[i]
			q[i] = ""
			e := s.keys[key]
			if e == nil || e.queued != t {
				continue
			}
			if !e.dirty {
				e.queued = 0
				s.forget(key, e)
				continue
			}
			if e.startRead() {
				batch = append(batch, taken{key, e, t})
			}
		}
		s.queues[t-1] = q[i:]
		if len(s.queues[t-1]) == 0 {
			s.queues[t-1] = nil // let the backing array go
		}
		if len(batch) == s.batch {
			break
		}
	}
	return batch
}

// Re-read timings.
const (
	// readTimeout bounds one re-read.
	readTimeout = 10 * time.Second
	// retryMin and retryMax bound the wait before re-reading a key whose
	// re-read failed; the wait doubles with each failure.
	retryMin = 50 * time.Millisecond
	retryMax = 2 * time.Second
)

// retryDelay returns how long to wait before re-reading a key after fails
// failed re-reads in a row.
func retryDelay(fails int) time.Duration {
	return min(retryMin<<min(fails-1, 6), retryMax)
}

// reader re-reads queued keys until the Store closes, a batch at a time.
func (s *Store[T]) reader() {
	defer s.wg.Done()
	batch := make([]taken, 0, s.batch)
	for {
		s.mu.Lock()
		for s.queuedKeys() == 0 && !s.closed {
			s.cond.Wait()
		}
		if s.closed {
			s.mu.Unlock()
			return
		}
		batch = s.take(batch[:0])
		s.mu.Unlock()

		switch {
		case len(batch) == 1:
			s.refresh(batch[0])
		case len(batch) > 1:
			s.refreshBatch(batch)
		}
		clear(batch)
	}
}

// refresh re-reads one key while holding its lock, then releases it.
func (s *Store[T]) refresh(k taken) {
	ctx, cancel := context.WithTimeout(s.ctx, readTimeout)
	_, _, err := s.load(ctx, "re-read", k.key, k.e)
	cancel()
	if s.endRead(k.key, k.e, k.t, err) {
		s.log.Warn("configstore: could not re-read a changed key; retrying", zap.String("key", k.key), zap.Error(err))
	}
}

// refreshBatch re-reads the keys of batch, whose locks it holds, with one
// kv.LatestMulti, then releases them.
func (s *Store[T]) refreshBatch(batch []taken) {
	keys := make([]string, len(batch))
	for i, k := range batch {
		keys[i] = s.prefix + k.key
	}
	s.mu.Lock()
	epoch := s.epoch
	s.mu.Unlock()
	ctx, cancel := context.WithTimeout(s.ctx, readTimeout)
	res, err := kv.LatestMulti(ctx, s.hist, keys)
	cancel()
	if err == nil && len(res) != len(batch) {
		err = fmt.Errorf("the store returned %d results for %d keys", len(res), len(batch))
	}
	if err != nil {
		err = fmt.Errorf("configstore: re-read %d keys: %w", len(batch), err)
	}
	readings := make([]reading, len(batch))
	if err == nil {
		for i, k := range batch {
			readings[i] = s.loaded(k.key, k.e, res[i]) // decoding, outside s.mu
		}
	}
	warn := false
	s.mu.Lock()
	for i, k := range batch {
		if err == nil {
			s.applyLocked(k.e, readings[i], epoch)
		}
		<-k.e.lock
		if s.endReadLocked(k.key, k.e, k.t, err) {
			warn = true
		}
	}
	s.mu.Unlock()
	if warn {
		s.log.Warn("configstore: could not re-read changed keys; retrying", zap.Int("keys", len(batch)), zap.Error(err))
	}
}
