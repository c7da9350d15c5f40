package configstore

// This file holds the re-read machinery: the loop that turns the backend's
// change events and resyncs into re-reads, the queue of keys to re-read,
// the readers that work it, and the delays of retries. What it changes of
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

// resync re-reads every tracked key after events may have been missed.
// A non-nil err means that delivery is not guaranteed for now: watchers are
// told, and Fetch stops serving the cache until a resync without error.
// s.mu must be held.
func (s *Store[T]) resync(err error) {
	wasHealthy := s.healthy
	s.healthy = err == nil
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

// push adds key to the queue of re-reads and wakes a reader. Each key is
// in the queue at most once (entry.queued). s.mu must be held.
func (s *Store[T]) push(key string) {
	s.queue = append(s.queue, key)
	s.cond.Signal()
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

// reader re-reads queued keys until the Store closes.
func (s *Store[T]) reader() {
	defer s.wg.Done()
	for {
		s.mu.Lock()
		for len(s.queue) == 0 && !s.closed {
			s.cond.Wait()
		}
		if s.closed {
			s.mu.Unlock()
			return
		}
		key := s.queue[0]
		s.queue[0] = ""
		s.queue = s.queue[1:]
		e := s.keys[key]
		if e == nil {
			s.mu.Unlock()
			continue
		}
		if !e.startRead() {
			// A call holds the key; it queues the re-read again when it
			// releases the key, since e.dirty is set.
			s.mu.Unlock()
			continue
		}
		s.mu.Unlock()

		s.refresh(key, e)
	}
}

// refresh re-reads key while holding its lock, then releases it.
func (s *Store[T]) refresh(key string, e *entry) {
	ctx, cancel := context.WithTimeout(s.ctx, readTimeout)
	_, _, err := s.load(ctx, "re-read", key, e)
	cancel()
	if s.endRead(key, e, err) {
		s.log.Warn("configstore: could not re-read a changed key; retrying", zap.String("key", key), zap.Error(err))
	}
}
