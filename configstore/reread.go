package configstore

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"go.uber.org/zap"

	"github.com/cledar/storekit/kv"
)

// watch turns the backend's change events into re-reads. It never blocks
// on I/O: a re-read is queued for the readers.
func (s *Store[T]) watch(events <-chan kv.Event) {
	defer s.wg.Done()
	for ev := range events {
		s.mu.Lock()
		switch ev.Op {
		case kv.OpResync:
			s.resync(ev.Err)
		default:
			if key, ok := strings.CutPrefix(ev.Key, s.prefix); ok {
				if e := s.keys[key]; e != nil {
					e.dirty = true
					s.enqueue(key, e)
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
	for key, e := range s.keys {
		switch {
		case stale != nil:
			for w := range e.watchers {
				w.post(note{kind: Failed, version: e.view.version, err: stale})
			}
		case err == nil && !wasHealthy:
			// The watchers were told ErrStale: tell them the state now,
			// changed or not, once it is read.
			e.restored = true
		}
		e.dirty = true
		s.enqueue(key, e)
	}
}

// enqueue queues a re-read of key, once. s.mu must be held.
func (s *Store[T]) enqueue(key string, e *entry) {
	if e.queued || e.retry != nil || s.closed {
		return
	}
	e.queued = true
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
		e.queued = false
		select {
		case e.lock <- struct{}{}:
		default:
			// A call holds the key; it queues the re-read again when it
			// releases the key, since e.dirty is set.
			s.mu.Unlock()
			continue
		}
		e.refs++
		e.dirty = false
		s.mu.Unlock()

		s.refresh(key, e)
	}
}

// refresh re-reads key while holding its lock, then releases it.
func (s *Store[T]) refresh(key string, e *entry) {
	ctx, cancel := context.WithTimeout(s.ctx, readTimeout)
	_, _, err := s.load(ctx, "re-read", key, e)
	cancel()
	<-e.lock
	s.mu.Lock()
	defer s.mu.Unlock()
	e.refs--
	if err == nil {
		e.fails = 0
		s.settle(key, e)
		return
	}
	if s.closed {
		return
	}
	if errors.Is(err, kv.ErrClosed) {
		// The kv.Store was closed under the Store: retrying cannot help.
		s.forget(key, e)
		return
	}
	// Try again later. The key stays dirty, so that a call that takes it
	// before the retry reads it rather than trusting the cache.
	e.dirty = true
	e.fails++
	wait := retryMin << min(e.fails-1, 6)
	wait = min(wait, retryMax)
	if e.fails == 1 {
		s.log.Warn("configstore: could not re-read a changed key; retrying", zap.String("key", key), zap.Error(err))
	}
	e.retry = time.AfterFunc(wait, func() {
		s.mu.Lock()
		defer s.mu.Unlock()
		if s.keys[key] != e || e.retry == nil {
			return
		}
		e.retry = nil
		s.enqueue(key, e)
	})
}
