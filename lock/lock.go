package lock

import (
	"context"
	"crypto/rand"
	"encoding/base32"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/cledar/storekit/internal/backoff"
	"github.com/cledar/storekit/kv"
)

var (
	// ErrHeld is matched by the error of [Locker.TryLock] when another
	// holder has the lock, and of [Locker.Lock] when its context ended
	// before the lock was free. It wraps kv.ErrConflict.
	ErrHeld = fmt.Errorf("lock: held by another holder: %w", kv.ErrConflict)

	// ErrLost is matched by the error of [Lease.Refresh] and
	// [Lease.Release] when the lease is no longer held: it expired (and
	// another holder may have the lock) or was released. It wraps
	// kv.ErrConflict.
	ErrLost = fmt.Errorf("lock: lease lost: %w", kv.ErrConflict)
)

// DefaultTTL is the lease of a lock whose [Options.TTL] is zero.
const DefaultTTL = 30 * time.Second

// Options configure a [Locker]. The zero value (or nil) is ready to use.
type Options struct {
	// TTL is how long a lease lasts unless refreshed. Zero means
	// DefaultTTL; a negative TTL is invalid.
	TTL time.Duration

	// FenceKey is the key of the counter that numbers acquisitions (see
	// [Lease.Fence]). Empty means the lock's key followed by ":fence".
	// Lockers of one key must use the same FenceKey.
	FenceKey string
}

// A store is what a Locker needs of a kv.Store.
type store interface {
	kv.Store
	kv.Conditional
	kv.Counter
	kv.Expirer
}

// A Locker takes the lease lock of one key. It holds no state of its own
// beyond its settings: any number of Lockers, in any number of processes,
// may compete for one key. A Locker is safe for concurrent use.
type Locker struct {
	s        store
	key      string
	fenceKey string
	ttl      time.Duration
}

// New returns a Locker for the lock at key in s. s must implement
// kv.Conditional, kv.Counter and kv.Expirer (every storekit backend does);
// otherwise New returns an error wrapping kv.ErrNotSupported. A negative
// opts.TTL is an error wrapping kv.ErrInvalid.
func New(s kv.Store, key string, opts *Options) (*Locker, error) {
	var o Options
	if opts != nil {
		o = *opts
	}
	st, ok := s.(store)
	if !ok {
		return nil, fmt.Errorf("lock: new %s: %T does not implement kv.Conditional, kv.Counter and kv.Expirer: %w",
			kv.QuoteKey(key), s, kv.ErrNotSupported)
	}
	if o.TTL < 0 {
		return nil, fmt.Errorf("lock: new %s: negative TTL %v: %w", kv.QuoteKey(key), o.TTL, kv.ErrInvalid)
	}
	if o.TTL == 0 {
		o.TTL = DefaultTTL
	}
	if o.FenceKey == "" {
		o.FenceKey = key + ":fence"
	}
	if o.FenceKey == key {
		return nil, fmt.Errorf("lock: new %s: the fence key is the lock's own key: %w", kv.QuoteKey(key), kv.ErrInvalid)
	}
	return &Locker{s: st, key: key, fenceKey: o.FenceKey, ttl: o.TTL}, nil
}

// TryLock takes the lock if it is free and returns its lease; if another
// holder has it, the error matches [ErrHeld]. Any other error is the
// store's, and the lock is not held: if it was taken before the failure, it
// is released, or expires after the TTL.
func (l *Locker) TryLock(ctx context.Context) (*Lease, error) {
	h := &Lease{l: l}
	newToken(&h.token)
	sent := time.Now()
	ok, err := l.s.SetIfAbsent(ctx, l.key, h.token[:], l.ttl)
	if err != nil {
		return nil, l.errorf("acquire", err)
	}
	if !ok {
		return nil, l.errorf("acquire", ErrHeld)
	}
	if h.fence, err = l.s.Incr(ctx, l.fenceKey, 1); err != nil {
		l.abandon(ctx, h.token[:])
		return nil, l.errorf("acquire: take a fencing token from "+kv.QuoteKey(l.fenceKey), err)
	}
	// The fence must be taken while the lease is held, so that a holder
	// who acquires the lock later increments the counter later and fences
	// follow the order of acquisition. When the counter answered within
	// the TTL of the moment the acquire was sent, the lease, which the
	// store started after that moment, still ran when the counter was
	// incremented. Otherwise confirm the lock with the store, which also
	// starts the lease afresh.
	if time.Since(sent) < l.ttl {
		h.expires = sent.Add(l.ttl)
		return h, nil
	}
	if err := h.extend(ctx); err != nil {
		if errors.Is(err, ErrLost) {
			err = fmt.Errorf("expired while taking a fencing token: %w", ErrHeld)
		} else {
			l.abandon(ctx, h.token[:])
		}
		return nil, l.errorf("acquire", err)
	}
	return h, nil
}

// abandon releases the lock taken with token by an acquisition that failed,
// if it can; otherwise the lock expires after the TTL.
func (l *Locker) abandon(ctx context.Context, token []byte) {
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
	defer cancel()
	_, _ = l.s.CompareAndDelete(ctx, l.key, token)
}

// poll paces the attempts of Lock.
var poll = backoff.Policy{Min: 2 * time.Millisecond, Max: 100 * time.Millisecond}

// Lock takes the lock, waiting until it is free, and returns its lease. It
// tries again after short random waits that grow up to 100ms, until it
// succeeds or ctx ends; once it found the lock held, the error of an ended
// ctx matches [ErrHeld] and ctx's error. Another error of the store ends
// the wait and is returned.
func (l *Locker) Lock(ctx context.Context) (*Lease, error) {
	for attempt := 0; ; attempt++ {
		lease, err := l.TryLock(ctx)
		switch {
		case err == nil:
			return lease, nil
		case errors.Is(err, ErrHeld):
			err = poll.Wait(ctx, attempt)
		case attempt == 0 || ctx.Err() == nil:
			return nil, err
		default:
			err = ctx.Err() // ended during an attempt, after the lock was seen held
		}
		if err != nil {
			return nil, fmt.Errorf("lock: lock %s: still held after %d attempts: %w: %w", kv.QuoteKey(l.key), attempt+1, ErrHeld, err)
		}
	}
}

// errorf wraps err with the operation and the lock's key.
func (l *Locker) errorf(op string, err error) error {
	return fmt.Errorf("lock: %s %s: %w", op, kv.QuoteKey(l.key), err)
}

// tokenLen is the length of a holder's token: 16 random bytes (128 bits)
// in unpadded base32, five bits a letter, as [rand.Text] writes them.
const tokenLen = (16*8 + 4) / 5

// tokenEncoding is the alphabet of [rand.Text].
var tokenEncoding = base32.StdEncoding.WithPadding(base32.NoPadding)

// newToken writes a new random token into t, in place: a lease holds it in
// an array of its own, which every call of the lease passes without a copy.
func newToken(t *[tokenLen]byte) {
	var b [16]byte
	_, _ = rand.Read(b[:]) // never fails (crypto/rand)
	tokenEncoding.Encode(t[:], b[:])
}

// A Lease is one holding of a lock, from [Locker.TryLock] or [Locker.Lock]
// until it is released or expires. It is safe for concurrent use.
type Lease struct {
	l     *Locker
	token [tokenLen]byte
	fence int64

	mu      sync.Mutex
	expires time.Time
}

// Fence returns the lease's fencing token: a number that grows with every
// acquisition of the lock, so that the protected resource can refuse the
// writes of a holder whose lease has been replaced (see the package
// documentation).
func (h *Lease) Fence() int64 { return h.fence }

// Expires returns the time, by the local clock, before which the lease is
// held unless the store lost it: the moment the last successful acquire or
// Refresh was sent, plus the TTL; the zero time after Release. Finish or
// Refresh before it, with a margin for pauses.
func (h *Lease) Expires() time.Time {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.expires
}

// Refresh extends the lease to a full TTL from now, if it is still held.
// When it is not (it expired, perhaps with another holder since, or was
// released) the error matches [ErrLost] and the lock is left alone.
func (h *Lease) Refresh(ctx context.Context) error {
	if err := h.extend(ctx); err != nil {
		return h.l.errorf("refresh", err)
	}
	return nil
}

// extend sets the lease's expiry a full TTL from now if the lock still
// holds its token, and returns ErrLost if not.
func (h *Lease) extend(ctx context.Context) error {
	sent := time.Now()
	ok, err := h.l.s.CompareAndSwap(ctx, h.l.key, h.token[:], h.token[:], h.l.ttl)
	if err != nil {
		return err
	}
	if !ok {
		return ErrLost
	}
	h.mu.Lock()
	h.expires = sent.Add(h.l.ttl)
	h.mu.Unlock()
	return nil
}

// Release frees the lock if the lease still holds it. When it does not (it
// expired, perhaps with another holder since, or was released already) the
// error matches [ErrLost] and the lock is left alone.
func (h *Lease) Release(ctx context.Context) error {
	ok, err := h.l.s.CompareAndDelete(ctx, h.l.key, h.token[:])
	if err != nil {
		return h.l.errorf("release", err)
	}
	if !ok {
		return h.l.errorf("release", ErrLost)
	}
	h.mu.Lock()
	h.expires = time.Time{}
	h.mu.Unlock()
	return nil
}
