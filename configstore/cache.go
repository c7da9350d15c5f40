package configstore

// This file holds the cache: the state the Store keeps for each tracked
// key, the states that state can be in, and every change to it.

import (
	"bytes"
	"context"
	"errors"
	"time"

	"github.com/cledar/storekit/kv"
)

// An entry is the Store's state for one tracked key: what the cache holds
// of the key, who uses it, and where its re-read stands. Its fields are
// guarded by Store.mu, except that I/O for the key happens while holding
// lock. They are changed only by the functions of this file, as the tables
// below say.
//
// What the entry holds of the key, in view:
//
//	state    view             meaning
//	unread   !known           created by a call; its first read or write has not
//	                          finished
//	cached   present          the latest version as last read or written; Fetch
//	                          answers from it, without I/O, while Store.healthy
//	                          and the view is current
//	missing  known, !present  the last read found no key, or one holding another
//	                          kind of data (view.fail); kept only while held
//
// The view is current when epoch, the Store.epoch at which the I/O behind
// it started, is Store.epoch: no resync came since. A resync increments
// Store.epoch, so that at once no view is current: until its key is read
// again (by its re-read, or by a call that reads through), Fetch reads the
// server rather than answer from a view that may miss a change.
//
// good is the newest view that decodes, which Latest answers from: view
// when view decodes, nil when view is not present, and left as it was when
// the latest version does not decode.
//
// Where the key's re-read stands, independently of the above:
//
//	state    fields              meaning
//	clean    none of these set   no change announced since the last read started
//	dirty    dirty, prio         a change was announced since the last read started:
//	                             a call holding lock reads rather than trusting view;
//	                             the key is also queued, in backoff, or held by a
//	                             call whose release queues it; prio is the most
//	                             urgent tier asked for since (see below)
//	queued   queued              the key is in Store.queues[queued-1]; it may also
//	                             have stale places in less urgent tiers, which the
//	                             readers skip
//	reading  refs counts it      a reader holds lock; dirty was cleared as it started
//	backoff  retry, fails > 0    the last re-read failed: dirty is set, and the timer
//	                             queues the key again after retryDelay(fails); fails
//	                             counts failed re-reads until one succeeds
//
// A re-read has one of three tiers, most urgent first: live (a change
// event, a retry of one), watched (a resync of a watched key) and backlog
// (a resync of any other key). Readers take the keys of the most urgent
// tier first, so that after a resync live changes and watched keys go ahead
// of the backlog; a key asked for at a more urgent tier while queued at a
// less urgent one is queued again at the more urgent one.
//
// queued and backoff overlap only when a change is announced during a
// re-read that then fails. restored is set after a resync that ended an
// interruption (see [ErrStale]): the next read is delivered to the watchers
// even if the key did not change.
//
// The events, and what they change:
//
//	event                         function        change
//	a call takes the key (Fetch   acquire, track  the entry is created, unread, if there
//	  miss, Update, Delete,                       is none; refs++ while the call waits for
//	  Version, Watch)                             or holds lock
//	the call gives up waiting     acquire         refs--; forget
//	a call starts its read or     startIO         dirty and prio cleared unless in backoff
//	  write (load, Update,                        (the I/O sees every change announced
//	  Delete)                                     before it)
//	the call's read, a re-read    load, apply     view = what was read; epoch = Store.epoch
//	                                              when the I/O started; good as above;
//	                                              restored cleared; the watchers told when
//	                                              view differs from an earlier one, or
//	                                              when restored was set
//	Update wrote a version        apply           view = that version: cached
//	Delete                        apply           view = nothing: missing
//	the call ends                 release,        refs--; if dirty, queued; forget
//	                              settle
//	a watch event for the key     announce        dirty, prio live; queued unless queued
//	                                              at that tier or in backoff
//	a reader takes it from the    startRead       queued cleared; if lock is free, reading
//	  queue (take)                                (refs++, dirty and prio cleared); if a
//	                                              call holds it, it stays dirty for release
//	                                              to queue; a key no longer dirty (a call
//	                                              read it meanwhile) is not read again
//	the re-read succeeded         endRead         fails = 0; refs--; settle
//	the re-read failed            endRead         refs--; backoff (dirty, prio its tier,
//	                                              fails++, retry); on kv.ErrClosed no
//	                                              retry, but forget
//	the backoff timer fires       retryDue        retry = nil; queued
//	a resync                      resync,         Store.epoch++ (no view is current); every
//	                              resynced        entry dirty and queued, at tier watched
//	                                              or backlog; after an interruption,
//	                                              restored too (a resync with Err tells
//	                                              the watchers ErrStale and clears
//	                                              Store.healthy: reread.go)
//	Watch, and its stop function  addWatcher,     a watcher added, removed; forget
//	                              dropWatcher
//	nothing holds the entry       forget          removed once refs == 0, queued == 0,
//	                                              retry == nil, no watchers and
//	                                              !view.present
//	Close                         drop            retry timers and watchers stopped;
//	                                              every entry removed
type entry struct {
	// lock serializes the I/O of the key's Fetch, Update, Delete, Version,
	// Watch and re-reads, so that their results are applied to the cache in
	// the order the server ran them. It is a channel so that waiting for it
	// honours a context.
	lock chan struct{}

	view     reading     // what the last I/O for the key found
	epoch    uint64      // Store.epoch when the I/O behind view started
	good     *reading    // the newest view that decodes
	refs     int         // calls holding or waiting for lock, and a reader holding it
	dirty    bool        // a change was announced after the last read started
	prio     tier        // the most urgent tier asked for while dirty
	queued   tier        // the tier of Store.queues the key is in, 0 if none
	retry    *time.Timer // queues the key again after a failed re-read
	fails    int         // consecutive failed re-reads, for the retry backoff
	restored bool        // the next read is delivered even if unchanged

	watchers map[*watcher]struct{}
}

// A reading is the state of a key as one read from the backend found it.
type reading struct {
	known   bool  // a read has completed
	present bool  // the key exists and holds a history or plain value
	version int64 // when present
	raw     []byte
	decErr  error // raw is not a valid T (a *codec.DeserializationError)
	fail    error // the key holds something else (wraps kv.ErrWrongType)
}

// same reports whether a and b show the same state of the key.
func (a reading) same(b reading) bool {
	if a.present != b.present || errText(a.fail) != errText(b.fail) {
		return false
	}
	return !a.present || a.version == b.version && bytes.Equal(a.raw, b.raw)
}

func errText(err error) string {
	if err == nil {
		return ""
	}
	return err.Error()
}

// servable returns the view of e, which may be nil, and whether Fetch may
// answer from it: the key exists, change notifications are guaranteed, and
// no resync came since the view was read. s.mu must be held.
func (s *Store[T]) servable(e *entry) (reading, bool) {
	if e == nil || !s.healthy || !e.view.present || e.epoch != s.epoch {
		return reading{}, false
	}
	return e.view, true
}

// found returns the reading of key holding raw as its version, and raw
// decoded when it decodes.
func (s *Store[T]) found(key string, version int64, raw []byte) (reading, T) {
	v, err := s.decode(key, raw)
	return reading{known: true, present: true, version: version, raw: raw, decErr: err}, v
}

// load reads the latest state of key from the backend and applies it to e,
// whose lock the caller holds. It also returns the latest value decoded,
// when it decodes. It returns an error only when the backend could not
// answer; a missing key or a key of the wrong kind is a reading.
func (s *Store[T]) load(ctx context.Context, op, key string, e *entry) (reading, T, error) {
	var (
		r reading
		v T
	)
	epoch := s.startIO(e)
	raw, version, err := s.hist.Latest(ctx, s.prefix+key)
	switch {
	case err == nil:
		r, v = s.found(key, version, raw)
	case errors.Is(err, kv.ErrNotFound):
		r = reading{known: true}
	case errors.Is(err, kv.ErrWrongType):
		r = reading{known: true, fail: s.errorf(op, key, err)}
	default:
		return r, v, s.errorf(op, key, err)
	}
	s.apply(key, e, r, epoch)
	return r, v, nil
}

// startIO records that a read or write of the key of e, whose lock the
// caller holds, is about to start, and returns the epoch to apply its
// result with. The read sees every change announced before it, so the key
// is no longer dirty; if it is queued, its reader finds it clean and skips
// it.
func (s *Store[T]) startIO(e *entry) uint64 {
	s.mu.Lock()
	defer s.mu.Unlock()
	if e.retry == nil {
		e.dirty, e.prio = false, 0
	}
	return s.epoch
}

// loaded turns one result of a batched latest-read of key into a reading,
// as load does. The caller holds e.lock, so that e.view is stable: a value
// the view holds already is not decoded again.
func (s *Store[T]) loaded(key string, e *entry, l kv.LatestValue) reading {
	switch {
	case l.Found && e.view.present && bytes.Equal(e.view.raw, l.Value):
		return reading{known: true, present: true, version: l.Version, raw: e.view.raw, decErr: e.view.decErr}
	case l.Found:
		r, _ := s.found(key, l.Version, l.Value)
		return r
	case l.Err != nil:
		return reading{known: true, fail: s.errorf("re-read", key, l.Err)}
	}
	return reading{known: true}
}

// apply records r, the result of I/O done while holding e.lock that
// started at epoch, and tells the key's watchers when it is a change. A
// key that no longer exists leaves the cache.
func (s *Store[T]) apply(key string, e *entry, r reading, epoch uint64) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.applyLocked(e, r, epoch)
}

// applyLocked is apply with s.mu held.
func (s *Store[T]) applyLocked(e *entry, r reading, epoch uint64) {
	old := e.view
	s.counted(old, r)
	e.view = r
	e.epoch = epoch
	switch {
	case r.present && r.decErr == nil:
		g := r
		e.good = &g
	case !r.present:
		e.good = nil
	}
	restored := e.restored
	e.restored = false
	if s.closed || !old.known || old.same(r) && !restored || len(e.watchers) == 0 {
		return
	}
	e.notify(noteOf(r))
}

// acquire tracks key and takes its I/O lock, waiting at most until ctx ends.
func (s *Store[T]) acquire(ctx context.Context, op, key string) (*entry, error) {
	if err := ctx.Err(); err != nil {
		return nil, s.errorf(op, key, err)
	}
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		return nil, s.errorf(op, key, kv.ErrClosed)
	}
	e := s.track(key)
	e.refs++
	s.mu.Unlock()
	select {
	case e.lock <- struct{}{}:
		return e, nil
	case <-ctx.Done():
		s.mu.Lock()
		e.refs--
		s.forget(key, e)
		s.mu.Unlock()
		return nil, s.errorf(op, key, ctx.Err())
	}
}

// release gives back the lock taken by acquire.
func (s *Store[T]) release(key string, e *entry) {
	<-e.lock
	s.mu.Lock()
	e.refs--
	s.settle(key, e)
	s.mu.Unlock()
}

// track returns the entry of key, creating it. s.mu must be held.
func (s *Store[T]) track(key string) *entry {
	e := s.keys[key]
	if e == nil {
		e = &entry{lock: make(chan struct{}, 1)}
		s.keys[key] = e
	}
	return e
}

// settle queues a re-read of key if a change was announced while its lock
// was held, then forgets the key if nothing needs it. s.mu must be held.
func (s *Store[T]) settle(key string, e *entry) {
	if e.dirty {
		s.enqueue(key, e)
	}
	s.forget(key, e)
}

// forget drops the entry of key when nothing needs it any more: no call
// uses it, no re-read is due, nobody watches it and it caches nothing.
// s.mu must be held.
func (s *Store[T]) forget(key string, e *entry) {
	if e.refs > 0 || e.queued != 0 || e.retry != nil || len(e.watchers) > 0 || e.view.present {
		return
	}
	if s.keys[key] == e {
		delete(s.keys, key)
	}
}

// announce records a change event for key: what the cache holds of it may
// be out of date, so it is re-read, ahead of any resync backlog. s.mu must
// be held.
func (s *Store[T]) announce(key string, e *entry) {
	s.mark(key, e, live)
}

// resynced records a resync for key, after which events may have been
// missed: it is re-read, at tier watched if it has watchers and backlog
// otherwise, and with restored, which marks the end of an interruption the
// watchers were told of, the read is delivered to them even if the key did
// not change. s.mu must be held.
func (s *Store[T]) resynced(key string, e *entry, restored bool) {
	if restored {
		e.restored = true
	}
	t := backlog
	if len(e.watchers) > 0 {
		t = watched
	}
	s.mark(key, e, t)
}

// mark makes key dirty, wanting a re-read at tier t or a more urgent one,
// and queues it. s.mu must be held.
func (s *Store[T]) mark(key string, e *entry, t tier) {
	e.dirty = true
	if e.prio == 0 || t < e.prio {
		e.prio = t
	}
	s.enqueue(key, e)
}

// enqueue queues a re-read of key at its tier, e.prio, unless it is queued
// at that tier or a more urgent one, or a retry of it is due. s.mu must be
// held.
func (s *Store[T]) enqueue(key string, e *entry) {
	if e.retry != nil || s.closed {
		return
	}
	t := e.prio
	if t == 0 {
		t = backlog
	}
	if e.queued != 0 && e.queued <= t {
		return
	}
	e.queued = t
	s.push(key, t)
}

// startRead records that a reader took e from the queue, and takes e.lock
// for the re-read if no call holds it. It reports whether it did; if not,
// e stays dirty and the call queues it again when it releases the key.
// s.mu must be held.
func (e *entry) startRead() bool {
	e.queued = 0
	select {
	case e.lock <- struct{}{}:
	default:
		return false
	}
	e.refs++
	e.dirty, e.prio = false, 0
	return true
}

// endRead gives back the lock that startRead took, and records how the
// re-read ended: err is what it failed with, if it did. A failed re-read
// is retried after retryDelay, and the key stays dirty meanwhile, so that a
// call that takes it before the retry reads it rather than trusting the
// cache. endRead reports whether the re-read failed and the one before it
// did not.
func (s *Store[T]) endRead(key string, e *entry, t tier, err error) (firstFailure bool) {
	<-e.lock
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.endReadLocked(key, e, t, err)
}

// endReadLocked is endRead once e.lock is given back, with s.mu held.
func (s *Store[T]) endReadLocked(key string, e *entry, t tier, err error) (firstFailure bool) {
	e.refs--
	if err == nil {
		e.fails = 0
		s.settle(key, e)
		return false
	}
	if s.closed {
		return false
	}
	if errors.Is(err, kv.ErrClosed) {
		// The kv.Store was closed under the Store: retrying cannot help.
		s.forget(key, e)
		return false
	}
	e.dirty = true
	if e.prio == 0 || t < e.prio {
		e.prio = t
	}
	e.fails++
	e.retry = time.AfterFunc(retryDelay(e.fails), func() { s.retryDue(key, e) })
	return e.fails == 1
}

// retryDue queues the re-read of key when its backoff timer fires, unless
// Close dropped the entry or another of its timers already fired.
func (s *Store[T]) retryDue(key string, e *entry) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.keys[key] != e || e.retry == nil {
		return
	}
	e.retry = nil
	s.enqueue(key, e)
}

// addWatcher registers w on e. s.mu must be held.
func (e *entry) addWatcher(w *watcher) {
	if e.watchers == nil {
		e.watchers = make(map[*watcher]struct{})
	}
	e.watchers[w] = struct{}{}
}

// dropWatcher unregisters w from e, the entry of key, if the Store still
// tracks it, and forgets the key if nothing else needs it. s.mu must be
// held.
func (s *Store[T]) dropWatcher(key string, e *entry, w *watcher) {
	if _, ok := e.watchers[w]; ok && s.keys[key] == e {
		delete(e.watchers, w)
		s.forget(key, e)
	}
}

// drop stops every entry's retry timer and watchers and forgets every
// entry, for Close. s.mu must be held.
func (s *Store[T]) drop() {
	for _, e := range s.keys {
		if e.retry != nil {
			e.retry.Stop()
			e.retry = nil
		}
		for w := range e.watchers {
			w.stop()
		}
	}
	s.keys = make(map[string]*entry)
}
