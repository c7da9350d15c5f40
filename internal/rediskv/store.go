package rediskv

import (
	"context"
	"errors"
	"fmt"
	"time"

	"go.uber.org/zap"

	"github.com/cledar/storekit/backends/redisconf"
	"github.com/cledar/storekit/internal/lifecycle"
	"github.com/cledar/storekit/internal/validate"
	"github.com/cledar/storekit/kv"
	"github.com/cledar/storekit/metrics"
)

// DefaultScanCount is the COUNT hint of each SCAN call when
// [Options.ScanCount] is zero.
const DefaultScanCount = 1000

// Hooks let a backend act on what the store does; each may be nil.
type Hooks struct {
	// Wrote is called with the key of every write once it returned (or
	// failed): a client-side cache drops the key there.
	Wrote func(key string)
	// Changed is called with the key of every watch event before the event
	// is queued.
	Changed func(key string)
	// Missed is called before a watch's OpResync after a gap.
	Missed func()
	// Unreachable is called when a call could not reach its server in
	// time, so that a cluster client reads its topology again.
	Unreachable func()
	// Topology is called before a watch lists the nodes, so that a client
	// can refresh what it knows of them.
	Topology func(ctx context.Context)
}

// A Store is a [kv.Store] with every optional capability of package kv over
// a Redis [Client]: the Redis rules (commands, scripts, replies, errors,
// history layout, scans, watches) written once for every client library.
// It is safe for concurrent use.
type Store struct {
	c        Client
	cc       ConditionalClient // c, when it is one; else nil
	backend  string
	log      *zap.Logger
	o        redisconf.Options
	h        Hooks
	life     lifecycle.Life
	counters metrics.Counters // stats.go
}

// New returns a store over c of the backend named backend (such as
// "goredis": errors start with it), with the options o and the hooks h.
func New(c Client, backend string, o redisconf.Options, h Hooks) *Store {
	if o.ScanCount <= 0 {
		o.ScanCount = DefaultScanCount
	}
	s := &Store{c: c, backend: backend, log: o.Log(), o: o, h: h}
	s.cc, _ = c.(ConditionalClient)
	s.life.Init()
	return s
}

// check returns the error a call must fail with before it touches the
// server: kv.ErrClosed after Close, or ctx's error once ctx is done.
func (s *Store) check(ctx context.Context) error { return s.life.Check(ctx) }

// fail formats err, found before a call reached the server, as the error
// of op on key.
func (s *Store) fail(op, key string, err error) error {
	return fmt.Errorf("%s: %s %s: %w", s.backend, op, kv.QuoteKey(key), err)
}

// err turns err, returned by the client for a call made with ctx, into the
// store's error for op (such as `get "k"`), wrapping both the sentinel or
// context error it stands for and the client's error, so that errors.Is and
// errors.As both work. An error that says the server could not be reached
// in time calls Options.Unreachable.
func (s *Store) err(ctx context.Context, op string, err error) error {
	c := s.c.Classify(ctx, err)
	if (c == kv.ErrUnavailable || c == context.DeadlineExceeded) && s.h.Unreachable != nil {
		s.h.Unreachable()
	}
	if c != nil && c != err {
		return fmt.Errorf("%s: %s: %w: %w", s.backend, op, c, err)
	}
	return fmt.Errorf("%s: %s: %w", s.backend, op, err)
}

// keyErr is err for an operation on key.
func (s *Store) keyErr(ctx context.Context, op, key string, err error) error {
	return s.err(ctx, op+" "+kv.QuoteKey(key), err)
}

// wrote tells Options.Wrote that a write of key returned.
func (s *Store) wrote(key string) {
	if s.h.Wrote != nil {
		s.h.Wrote(key)
	}
}

// isWrongType reports whether err is a WRONGTYPE error reply.
func (s *Store) isWrongType(err error) bool {
	return err != nil && s.c.Classify(context.Background(), err) == kv.ErrWrongType
}

// Ping checks with PING that the server answers and accepts the client's
// credentials.
func (s *Store) Ping(ctx context.Context) error {
	if err := s.life.Check(ctx); err != nil {
		return fmt.Errorf("%s: ping: %w", s.backend, err)
	}
	if r := s.c.Do(ctx, Cmd{Name: "PING", NoKey: true, ReadOnly: true}); r.Err != nil {
		return s.err(ctx, "ping", r.Err)
	}
	return nil
}

// Get implements [kv.Store] with GET. A key holding a history (a list) or
// another Redis type yields an error wrapping kv.ErrWrongType.
func (s *Store) Get(ctx context.Context, key string) (_ []byte, err error) {
	defer s.counters.Done(metrics.OpGet, &err)
	return s.get(ctx, key)
}

// get is Get, uncounted.
func (s *Store) get(ctx context.Context, key string) ([]byte, error) {
	if err := s.life.Check(ctx); err != nil {
		return nil, s.fail("get", key, err)
	}
	r := s.c.Get(ctx, key)
	if r.Err != nil {
		return nil, s.keyErr(ctx, "get", key, r.Err)
	}
	return r.Bytes(), nil
}

// Set implements [kv.Store] with SET, which replaces any value, history or
// other type at key and removes its expiry.
func (s *Store) Set(ctx context.Context, key string, value []byte) (err error) {
	defer s.counters.Done(metrics.OpSet, &err)
	if err := s.life.Check(ctx); err != nil {
		return s.fail("set", key, err)
	}
	r := s.c.Set(ctx, key, value, 0)
	s.wrote(key)
	if r.Err != nil {
		return s.keyErr(ctx, "set", key, r.Err)
	}
	return nil
}

// Delete implements [kv.Store] with DEL.
func (s *Store) Delete(ctx context.Context, key string) (_ bool, err error) {
	defer s.counters.Done(metrics.OpDelete, &err)
	if err := s.life.Check(ctx); err != nil {
		return false, s.fail("delete", key, err)
	}
	r := s.c.Del(ctx, key)
	s.wrote(key)
	if r.Err != nil {
		return false, s.keyErr(ctx, "delete", key, r.Err)
	}
	return r.Int > 0, nil
}

// SetWithTTL implements [kv.Expirer] with SET PX; ttl is rounded up to a
// whole millisecond.
func (s *Store) SetWithTTL(ctx context.Context, key string, value []byte, ttl time.Duration) (err error) {
	defer s.counters.Done(metrics.OpSetWithTTL, &err)
	if err := s.life.Check(ctx); err != nil {
		return s.fail("set", key, err)
	}
	if err := validate.TTL(ttl); err != nil {
		return s.fail("set", key, err)
	}
	r := s.c.Set(ctx, key, value, millis(ttl))
	s.wrote(key)
	if r.Err != nil {
		return s.keyErr(ctx, "set", key, r.Err)
	}
	return nil
}

// TTL implements [kv.Expirer] with PTTL, read from the server. A key with
// less than a millisecond left reports one millisecond.
func (s *Store) TTL(ctx context.Context, key string) (_ time.Duration, err error) {
	defer s.counters.Done(metrics.OpTTL, &err)
	if err := s.life.Check(ctx); err != nil {
		return 0, s.fail("ttl", key, err)
	}
	r := s.c.Do(ctx, Cmd{Name: "PTTL", Key: key, ReadOnly: true})
	if r.Err != nil {
		return 0, s.keyErr(ctx, "ttl", key, r.Err)
	}
	if r.Int == -2 {
		return 0, s.fail("ttl", key, kv.ErrNotFound)
	}
	return pttlDuration(r.Int), nil
}

// Close implements [kv.Store]. It ends every watch and waits for their
// goroutines, then closes the client if Options.CloseClient is set. It is
// idempotent.
func (s *Store) Close() error {
	if !s.life.Close() || !s.o.CloseClient {
		return nil
	}
	if err := s.c.Close(); err != nil {
		return fmt.Errorf("%s: close client: %w", s.backend, err)
	}
	return nil
}

// errUnexpected reports a reply of a shape the store does not expect.
var errUnexpected = errors.New("unexpected reply")

// The functions below are the Store's helpers for a backend that reads
// some keys its own way (rueidiskv's client-side cache). They are functions,
// not methods, so that they do not join the methods a backend's Store gets
// from the Store it embeds.

// Check returns the error a call of s must fail with before it touches the
// server: kv.ErrClosed after Close, or ctx's error once ctx is done.
func Check(ctx context.Context, s *Store) error { return s.check(ctx) }

// Fail formats err, found before a call reached the server, as s's error
// of op on key.
func Fail(s *Store, op, key string, err error) error { return s.fail(op, key, err) }

// KeyErr turns err, returned by the client for a call on key made with ctx,
// into s's error for op.
func KeyErr(ctx context.Context, s *Store, op, key string, err error) error {
	return s.keyErr(ctx, op, key, err)
}

// Err turns err, returned by the client for a call made with ctx, into s's
// error for op.
func Err(ctx context.Context, s *Store, op string, err error) error { return s.err(ctx, op, err) }
