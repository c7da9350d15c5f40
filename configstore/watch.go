package configstore

// This file holds the watchers: Watch, the events it reports, and their
// delivery to callbacks, one goroutine per watcher while events are
// pending.

import (
	"context"
	"fmt"
	"runtime/debug"
	"sync"

	"go.uber.org/zap"

	"github.com/cledar/storekit/kv"
)

// A Kind says what an [Event] reports.
type Kind uint8

const (
	// Updated means the key has a new latest value, Event.Value, with
	// version Event.Version: it was created, updated by any writer, or its
	// latest version was rewritten in place.
	Updated Kind = iota + 1
	// Deleted means the key no longer exists: it was deleted or it expired.
	Deleted
	// Failed means the key's state cannot be delivered as a value: its
	// latest version is not a valid T (Err is a *codec.DeserializationError
	// and Version is set), it holds another kind of data (Err wraps
	// kv.ErrWrongType), or changes may currently be missed (Err matches
	// [ErrStale]).
	Failed
)

// String returns "updated", "deleted" or "failed".
func (k Kind) String() string {
	switch k {
	case Updated:
		return "updated"
	case Deleted:
		return "deleted"
	case Failed:
		return "failed"
	}
	return fmt.Sprintf("Kind(%d)", uint8(k))
}

// An Event tells a watcher about a change to its key.
type Event[T any] struct {
	// Key is the key, without the Store's prefix.
	Key string
	// Kind says what happened.
	Kind Kind
	// Version is the new latest version (for Updated, and for Failed when
	// the latest version does not decode); zero otherwise.
	Version int64
	// Value is the new latest value, for Updated. Each call gets a value
	// of its own.
	Value T
	// Err says why, for Failed.
	Err error
}

// A note is an event before its value is decoded, which happens in the
// watcher's goroutine rather than on the notification path.
type note struct {
	kind    Kind
	version int64
	raw     []byte
	err     error
}

// noteOf returns the note that tells a watcher of r.
func noteOf(r reading) note {
	switch {
	case r.fail != nil:
		return note{kind: Failed, err: r.fail}
	case !r.present:
		return note{kind: Deleted}
	case r.decErr != nil:
		return note{kind: Failed, version: r.version, err: r.decErr}
	}
	return note{kind: Updated, version: r.version, raw: r.raw}
}

// notify posts n to every watcher of e. Store.mu is held, and the Store is
// open.
func (e *entry) notify(n note) {
	for w := range e.watchers {
		w.post(n)
	}
}

// A watcher delivers the notes of one key to one callback, one at a time
// and in order, from a goroutine of its own that runs only while notes are
// pending. A note that arrives while the callback runs replaces any
// undelivered one: a slow callback skips intermediate states but always
// receives the latest.
type watcher struct {
	key     string
	deliver func(note) // decodes and calls the callback, recovering panics
	wg      *sync.WaitGroup

	mu      sync.Mutex
	pending *note
	running bool
	stopped bool
}

// post queues n for delivery. Store.mu is held, and the Store is open.
func (w *watcher) post(n note) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.stopped {
		return
	}
	w.pending = &n
	if !w.running {
		w.running = true
		w.wg.Add(1)
		go w.run()
	}
}

func (w *watcher) run() {
	defer w.wg.Done()
	for {
		w.mu.Lock()
		n := w.pending
		w.pending = nil
		if n == nil || w.stopped {
			w.running = false
			w.mu.Unlock()
			return
		}
		w.mu.Unlock()
		w.deliver(*n)
	}
}

// stop ends deliveries: no callback starts after it returns.
func (w *watcher) stop() {
	w.mu.Lock()
	w.stopped = true
	w.pending = nil
	w.mu.Unlock()
}

// Watch calls fn whenever the latest state of key changes, whoever changed
// it: a new version or an in-place rewrite (Updated, with the value), a
// removal or expiry (Deleted), or a latest value that cannot be delivered
// (Failed). It reads the key's current state first, when the Store does
// not hold it yet, and reports changes from that state on; call Fetch after
// Watch for the current value. Watch also works for a key that does not
// exist yet: its creation is an Updated event.
//
// Calls to fn come one at a time, in the order the changes happened, from
// a goroutine of the watcher's own, never from the notification path: a
// slow fn delays only itself, and when changes come faster
// than fn returns, the intermediate states are skipped and fn receives the
// latest one (read History for every version). A panic in fn is recovered
// and logged, and the watcher lives on. After a resync (see the package
// documentation) fn hears of a change that it would otherwise have missed
// as one event for the key's state now.
//
// The returned stop function ends the watcher: no call of fn starts after
// it returns, though one already running may still be finishing. It is
// idempotent. Watchers end when the Store is closed, too.
func (s *Store[T]) Watch(ctx context.Context, key string, fn func(Event[T])) (stop func(), err error) {
	if err := s.checkKey("watch", key); err != nil {
		return nil, err
	}
	if fn == nil {
		return nil, s.errorf("watch", key, fmt.Errorf("nil callback: %w", kv.ErrInvalid))
	}
	e, err := s.acquire(ctx, "watch", key)
	if err != nil {
		return nil, err
	}
	defer s.release(key, e)
	s.mu.Lock()
	fresh := s.healthy && e.view.known && !e.dirty && e.epoch == s.epoch
	s.mu.Unlock()
	if !fresh {
		if _, _, err := s.load(ctx, "watch", key, e); err != nil {
			return nil, err
		}
	}

	w := &watcher{key: key, wg: &s.wg}
	w.deliver = func(n note) { s.deliver(w, fn, n) }
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return nil, s.errorf("watch", key, kv.ErrClosed)
	}
	e.addWatcher(w)
	return func() {
		w.stop()
		s.mu.Lock()
		defer s.mu.Unlock()
		s.dropWatcher(key, e, w)
	}, nil
}

// deliver decodes n and calls fn, recovering and logging a panic.
func (s *Store[T]) deliver(w *watcher, fn func(Event[T]), n note) {
	ev := Event[T]{Key: w.key, Kind: n.kind, Version: n.version, Err: n.err}
	if n.kind == Updated {
		v, err := s.decode(w.key, n.raw)
		if err != nil {
			ev.Kind, ev.Err = Failed, err
		}
		ev.Value = v
	}
	defer func() {
		if p := recover(); p != nil {
			s.counters.Panicked()
			s.log.Error("configstore: a watch callback panicked; the watcher goes on",
				zap.String("key", w.key), zap.String("event", ev.Kind.String()),
				zap.Any("panic", p), zap.ByteString("stack", debug.Stack()))
		}
	}()
	s.counters.Called()
	fn(ev)
}
