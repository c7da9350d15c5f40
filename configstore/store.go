package configstore

// This file holds the Store: its type, its Options, New, and the methods
// that read and write keys. The cache is in cache.go, the re-reads that
// keep it fresh in reread.go, and the watchers in watch.go.

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"strconv"
	"sync"

	"go.uber.org/zap"

	"github.com/cledar/storekit/codec"
	"github.com/cledar/storekit/internal/typename"
	"github.com/cledar/storekit/kv"
	"github.com/cledar/storekit/metrics"
)

// ErrPruned is matched by the error of At for a version whose value was
// emptied by the history bound ([Options.HistoryLimit]).
var ErrPruned = errors.New("configstore: version pruned")

// ErrStale is matched by the Err of a [Failed] event sent to every watcher
// when the store's change notifications stop being guaranteed: the backend's
// watch reported that it may miss changes (for example a Redis server that
// lost its notify-keyspace-events setting after a restart), or it ended. The
// error wraps the backend's reason. Until delivery is guaranteed again, Fetch
// reads every value from the backend instead of the cache; once it is,
// every tracked key is re-read and each watcher receives its key's current
// state, changed or not.
var ErrStale = errors.New("configstore: change notifications interrupted, cached values may be stale")

// Options configure a [Store]. The zero value (or nil) is ready to use.
type Options[T any] struct {
	// Prefix is prepended, exactly once, to every key the Store reads and
	// writes in the kv.Store. Keys given to the Store's methods and reported
	// in events are without it. The Store watches the keys that start with
	// Prefix, so a prefix also keeps it from hearing of unrelated keys.
	Prefix string

	// Codec encodes configuration values. Nil means codec.JSON[T](nil),
	// the format of the Python config store (json.dumps of the dataclass).
	Codec codec.Codec[T]

	// HistoryLimit, when positive, bounds the history of each key: after an
	// Update the values of versions older than the newest HistoryLimit ones
	// are emptied with kv.Pruner, which the kv.Store must then implement.
	// Version numbers keep growing (see the package documentation). Zero
	// keeps every version.
	HistoryLimit int

	// Readers is how many re-reads the Store runs at once after change
	// events and resyncs; zero means 4. When the kv.Store implements
	// kv.MultiLatest each re-read reads up to 256 keys in one call;
	// otherwise one key.
	Readers int

	// Logger receives what the Store cannot return to a caller: a
	// callback's panic, a re-read that failed, a prune that failed. Nil
	// means no logging. Values are never logged.
	Logger *zap.Logger
}

// A Store holds typed, versioned configuration values of type T in a
// kv.Store, keeps the values it has read in a local cache that change
// notifications keep fresh, and calls watchers back when a value changes.
//
// A Store is safe for concurrent use. Create it with [New] and release it
// with [Store.Close].
type Store[T any] struct {
	kv     kv.Store
	hist   kv.Historian
	pruner kv.Pruner
	codec  codec.Codec[T]
	same   func(a, b []byte) bool // whether two encodings hold the same value
	prefix string
	limit  int64
	model  string
	log    *zap.Logger

	ctx    context.Context // ends at Close
	cancel context.CancelFunc
	wg     sync.WaitGroup // the watch loop, the readers and running callbacks

	batch int // keys per re-read: maxBatch with kv.MultiLatest, else 1

	mu      sync.Mutex
	cond    *sync.Cond // signals s.queues and s.closed to readers
	closed  bool
	healthy bool              // the watch guarantees delivery: the cache may be served
	epoch   uint64            // resyncs so far: a view read before the last is not served
	keys    map[string]*entry // tracked keys: cached, watched or in use (cache.go)
	queues  [3][]string       // keys to re-read by tier, most urgent first (reread.go)

	counters      metrics.ConfigCounters // metrics.go
	codecCounters metrics.CodecCounters
}

// maxBatch is how many keys one re-read reads with kv.MultiLatest.
const maxBatch = 256

// New returns a Store of values of type T kept in s, and starts watching
// s for changes to the keys under opts.Prefix. It returns once the watch
// is established, so that every change made after New returns is seen.
//
// s must implement [kv.Historian] (versions) and [kv.Watcher] (change
// notifications), and [kv.Pruner] when opts.HistoryLimit is set; otherwise
// New returns an error wrapping [kv.ErrNotSupported]. On Redis, New fails
// with a clear error, wrapping kv.ErrNotSupported, when the server's
// notify-keyspace-events setting lacks the classes a watch needs (see the
// backend's documentation); it never starts a store that would miss changes
// silently. ctx bounds the setup only.
//
// Closing the Store does not close s.
func New[T any](ctx context.Context, s kv.Store, opts *Options[T]) (*Store[T], error) {
	if opts == nil {
		opts = &Options[T]{}
	}
	hist, ok := s.(kv.Historian)
	if !ok {
		return nil, fmt.Errorf("configstore: the store does not implement kv.Historian: %w", kv.ErrNotSupported)
	}
	w, ok := s.(kv.Watcher)
	if !ok {
		return nil, fmt.Errorf("configstore: the store does not implement kv.Watcher: %w", kv.ErrNotSupported)
	}
	st := &Store[T]{
		kv:      s,
		hist:    hist,
		codec:   opts.Codec,
		prefix:  opts.Prefix,
		model:   typename.Of[T](),
		log:     opts.Logger,
		keys:    make(map[string]*entry),
		healthy: true,
		batch:   1,
	}
	if _, ok := s.(kv.MultiLatest); ok {
		st.batch = maxBatch
	}
	if opts.HistoryLimit < 0 {
		return nil, fmt.Errorf("configstore: HistoryLimit %d is negative: %w", opts.HistoryLimit, kv.ErrInvalid)
	}
	if opts.HistoryLimit > 0 {
		p, ok := s.(kv.Pruner)
		if !ok {
			return nil, fmt.Errorf("configstore: HistoryLimit needs a store that implements kv.Pruner: %w", kv.ErrNotSupported)
		}
		st.pruner, st.limit = p, int64(opts.HistoryLimit)
	}
	if st.codec == nil {
		st.codec = codec.JSON[T](nil)
	}
	st.same = bytes.Equal
	if c, ok := st.codec.(codec.Comparer); ok {
		st.same = c.Equal
	}
	if st.log == nil {
		st.log = zap.NewNop()
	}
	st.cond = sync.NewCond(&st.mu)

	// The watch lives until Close; ctx bounds only its setup.
	st.ctx, st.cancel = context.WithCancel(context.Background())
	stop := context.AfterFunc(ctx, st.cancel)
	events, err := w.Watch(st.ctx, kv.EscapePattern(st.prefix)+"*")
	if !stop() {
		st.cancel()
		if err == nil {
			err = ctx.Err()
		}
	}
	if err != nil {
		st.cancel()
		return nil, fmt.Errorf("configstore: watch keys under prefix %q: %w", st.prefix, err)
	}

	readers := opts.Readers
	if readers <= 0 {
		readers = 4
	}
	st.wg.Add(1 + readers)
	go st.listen(events)
	for range readers {
		go st.reader()
	}
	return st, nil
}

// Fetch returns the latest value of key and its version. After the first
// read of a key, Fetch answers from the local cache, which change
// notifications keep fresh, without I/O; an Update through this Store is
// seen by the Fetches that follow it. While notifications are interrupted
// (see [ErrStale]) Fetch reads from the backend.
//
// A missing key is an error wrapping [kv.ErrNotFound]; a latest value that
// is not a valid T is a [*codec.DeserializationError] (see [Store.Latest]
// for the last good value); a key holding something other than a history
// or a plain value is an error wrapping [kv.ErrWrongType].
func (s *Store[T]) Fetch(ctx context.Context, key string) (T, int64, error) {
	var zero T
	if err := s.checkKey("fetch", key); err != nil {
		return zero, 0, err
	}
	s.mu.Lock()
	e := s.keys[key]
	r, hit := s.servable(e)
	s.mu.Unlock()
	if hit {
		return s.result("fetch", key, r)
	}

	e, err := s.acquire(ctx, "fetch", key)
	if err != nil {
		return zero, 0, err
	}
	defer s.release(key, e)
	s.mu.Lock()
	r, hit = s.servable(e)
	hit = hit && !e.dirty // filled while this call waited for the key
	s.mu.Unlock()
	if hit {
		return s.result("fetch", key, r)
	}
	r, v, err := s.load(ctx, "fetch", key, e)
	if err != nil {
		return zero, 0, err
	}
	if r.present && r.decErr == nil {
		return v, r.version, nil
	}
	return s.result("fetch", key, r)
}

// result turns r into what Fetch returns, decoding a value of the caller's
// own.
func (s *Store[T]) result(op, key string, r reading) (T, int64, error) {
	var zero T
	switch {
	case r.fail != nil:
		return zero, 0, r.fail
	case !r.present:
		return zero, 0, s.errorf(op, key, kv.ErrNotFound)
	case r.decErr != nil:
		return zero, r.version, r.decErr
	}
	v, err := s.decode(key, r.raw)
	if err != nil {
		return zero, r.version, err
	}
	return v, r.version, nil
}

// Latest returns the latest good value of key that the Store holds, its
// version and true, without I/O and without blocking on any other call. A
// good value is one that decoded into a valid T: when the newest version
// does not, Latest keeps returning the one before. It returns false for a
// key the Store has not read (Fetch, Update, Watch) or that was deleted or
// expired since.
func (s *Store[T]) Latest(key string) (T, int64, bool) {
	var zero T
	s.mu.Lock()
	var g *reading
	if e := s.keys[key]; e != nil {
		g = e.good
	}
	s.mu.Unlock()
	if g == nil {
		return zero, 0, false
	}
	v, err := s.decode(key, g.raw)
	if err != nil {
		return zero, 0, false
	}
	return v, g.version, true
}

// Update makes v the latest value of key: it appends v as a new version
// and returns that version. When v is the same value as the latest version,
// whoever wrote it, nothing is written and that version is returned: with
// codec.JSON, when both are the same JSON value as Python's json.loads reads
// it, whatever the order of keys and the spelling of numbers and strings
// (see the package documentation); with a codec that does not implement
// [codec.Comparer], when both are the same bytes. A key holding a plain
// value (version 1) is first converted into a history, atomically. With
// [Options.HistoryLimit] set, older versions are then emptied; a failure to
// do so is logged, not returned.
//
// A value that cannot be encoded, encodes to no bytes at all, or fails its
// Validate method (see [codec.Validator]; the error then matches
// [codec.ErrValidation]), is a [*codec.SerializationError] and nothing is
// written.
func (s *Store[T]) Update(ctx context.Context, key string, v T) (int64, error) {
	return s.write(ctx, key, v, false, 0)
}

// write makes v the latest value of key, as Update does; with cond, only if
// the latest version is expect, as UpdateIf does.
func (s *Store[T]) write(ctx context.Context, key string, v T, cond bool, expect int64) (int64, error) {
	const op = "update"
	if err := s.checkKey(op, key); err != nil {
		return 0, err
	}
	var ch kv.ConditionalHistorian
	if cond {
		var err error
		if ch, err = s.conditional(op, key); err != nil {
			return 0, err
		}
		if expect < 0 {
			return 0, s.errorf(op, key, fmt.Errorf("expected version %d is negative: %w", expect, kv.ErrInvalid))
		}
	}
	data, err := s.codec.Encode(v)
	if err == nil && len(data) == 0 {
		err = fmt.Errorf("the value encodes to no bytes, which a history cannot hold: %w", kv.ErrInvalid)
	}
	if err != nil {
		s.codecCounters.EncodeFailed()
		return 0, &codec.SerializationError{Key: key, Model: s.model, Err: err}
	}
	e, err := s.acquire(ctx, op, key)
	if err != nil {
		return 0, err
	}
	defer s.release(key, e)

	cur, _, err := s.load(ctx, op, key, e)
	if err != nil {
		return 0, err
	}
	if cur.fail != nil {
		return 0, cur.fail
	}
	if cond && cur.version != expect {
		return 0, s.errorf(op, key, &kv.VersionConflict{Key: key, Expected: expect, Latest: cur.version})
	}
	if cur.present && s.same(cur.raw, data) {
		return cur.version, nil
	}
	var version int64
	epoch := s.startIO(e)
	if cond {
		version, err = ch.AppendIf(ctx, s.prefix+key, data, expect)
	} else {
		version, err = s.hist.Append(ctx, s.prefix+key, data)
	}
	var vc *kv.VersionConflict
	if errors.As(err, &vc) {
		err = &kv.VersionConflict{Key: key, Expected: vc.Expected, Latest: vc.Latest} // the key without the prefix
	}
	if err != nil {
		return 0, s.errorf(op, key, err)
	}
	written, _ := s.found(key, version, data)
	s.apply(key, e, written, epoch)
	if s.limit > 0 && version > s.limit {
		if _, err := s.pruner.Prune(ctx, s.prefix+key, version-s.limit+1); err != nil {
			s.log.Warn("configstore: could not empty old versions", zap.String("key", key),
				zap.Int64("version", version), zap.Error(err))
		}
	}
	return version, nil
}

// Delete removes key and its whole history. It reports whether the key
// existed. Watchers of the key stay registered and hear of its removal; a
// key that is not watched leaves the cache.
func (s *Store[T]) Delete(ctx context.Context, key string) (bool, error) {
	if err := s.checkKey("delete", key); err != nil {
		return false, err
	}
	e, err := s.acquire(ctx, "delete", key)
	if err != nil {
		return false, err
	}
	defer s.release(key, e)
	epoch := s.startIO(e)
	removed, err := s.kv.Delete(ctx, s.prefix+key)
	if err != nil {
		return false, s.errorf("delete", key, err)
	}
	s.apply(key, e, reading{known: true}, epoch)
	return removed, nil
}

// Version returns the live version of key, read from the backend: the
// number of versions of a history, 1 for a plain value and 0 for a missing
// key. A key holding something else is an error wrapping [kv.ErrWrongType].
// The read also refreshes the cache.
func (s *Store[T]) Version(ctx context.Context, key string) (int64, error) {
	if err := s.checkKey("version", key); err != nil {
		return 0, err
	}
	e, err := s.acquire(ctx, "version", key)
	if err != nil {
		return 0, err
	}
	defer s.release(key, e)
	r, _, err := s.load(ctx, "version", key, e)
	if err != nil {
		return 0, err
	}
	if r.fail != nil {
		return 0, r.fail
	}
	return r.version, nil
}

// CachedVersion returns the version of key held in the cache, without I/O,
// and whether the cache holds the key: it does after a Fetch, Update or
// Watch of an existing key, until the key is deleted or expires.
func (s *Store[T]) CachedVersion(key string) (int64, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if e := s.keys[key]; e != nil && e.view.present {
		return e.view.version, true
	}
	return 0, false
}

// At returns version n of key, read from the backend. A version beyond the
// latest is an error wrapping [kv.ErrNotFound], one below 1 wraps
// [kv.ErrInvalid], and one emptied by [Options.HistoryLimit] wraps
// [ErrPruned].
func (s *Store[T]) At(ctx context.Context, key string, n int64) (T, error) {
	var zero T
	if err := s.checkKey("at", key); err != nil {
		return zero, err
	}
	if err := s.alive("at", key); err != nil {
		return zero, err
	}
	raw, err := s.hist.At(ctx, s.prefix+key, n)
	if err != nil {
		return zero, s.errorf("at", key, err)
	}
	if len(raw) == 0 {
		return zero, s.errorf("at", key, fmt.Errorf("version %d: %w", n, ErrPruned))
	}
	return s.decode(key, raw)
}

// An Entry is one version of a key's history.
type Entry[T any] struct {
	// Version is the entry's version, from 1.
	Version int64
	// Value is the entry's value, when Err is nil.
	Value T
	// Err is a *codec.DeserializationError when the entry is not a valid T.
	Err error
}

// History returns the versions of key that hold a value, oldest first:
// every version, or with [Options.HistoryLimit] the ones not yet emptied.
// An entry that does not decode has its Err set; the others are still
// returned. A missing key is an error wrapping [kv.ErrNotFound].
func (s *Store[T]) History(ctx context.Context, key string) ([]Entry[T], error) {
	if err := s.checkKey("history", key); err != nil {
		return nil, err
	}
	if err := s.alive("history", key); err != nil {
		return nil, err
	}
	raws, err := s.hist.History(ctx, s.prefix+key)
	if err != nil {
		return nil, s.errorf("history", key, err)
	}
	out := make([]Entry[T], 0, len(raws))
	for i, raw := range raws {
		if len(raw) == 0 {
			continue // pruned
		}
		v, err := s.decode(key, raw)
		out = append(out, Entry[T]{Version: int64(i + 1), Value: v, Err: err})
	}
	return out, nil
}

// Close stops the Store's watch, its re-reads and its watchers, and waits
// for callbacks already running to return (a callback must not call Close).
// It does not close the kv.Store. Close is idempotent; after it every method
// that needs the backend returns an error wrapping [kv.ErrClosed], and
// Latest and CachedVersion report nothing.
func (s *Store[T]) Close() error {
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		return nil
	}
	s.closed = true
	s.drop()
	s.queues = [3][]string{}
	s.cond.Broadcast()
	s.mu.Unlock()
	s.cancel()
	s.wg.Wait()
	return nil
}

// checkKey rejects an empty key.
func (s *Store[T]) checkKey(op, key string) error {
	if key == "" {
		return fmt.Errorf("configstore: %s: the key must be a non-empty string: %w", op, kv.ErrInvalid)
	}
	return nil
}

// alive returns an error wrapping kv.ErrClosed after Close.
func (s *Store[T]) alive(op, key string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return s.errorf(op, key, kv.ErrClosed)
	}
	return nil
}

// errorf wraps err with the operation and the key.
func (s *Store[T]) errorf(op, key string, err error) error {
	return fmt.Errorf("configstore: %s %s: %w", op, strconv.Quote(key), err)
}

// decode decodes raw into a T, or returns a *codec.DeserializationError.
func (s *Store[T]) decode(key string, raw []byte) (T, error) {
	v, err := s.codec.Decode(raw)
	if err != nil {
		s.codecCounters.DecodeFailed()
		return v, &codec.DeserializationError{Key: key, Model: s.model, Err: err}
	}
	return v, nil
}
