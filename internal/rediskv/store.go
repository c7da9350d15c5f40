package rediskv

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"time"

	"go.uber.org/zap"

	"github.com/cledar/storekit/internal/lifecycle"
	"github.com/cledar/storekit/internal/validate"
	"github.com/cledar/storekit/kv"
)

// DefaultScanCount is the COUNT hint of each SCAN call when
// [Options.ScanCount] is zero.
const DefaultScanCount = 1000

// Options configure a [Store].
type Options struct {
	// Backend names the backend, such as "goredis": errors start with it
	// and logs carry it.
	Backend string
	// Log receives the store's messages.
	Log *zap.Logger
	// ScanCount is the COUNT hint of every SCAN.
	ScanCount int
	// EnableKeyspaceEvents lets Watch turn the notifications it needs on.
	EnableKeyspaceEvents bool
	// WatchBuffer is the number of events a watch holds for a slow
	// consumer.
	WatchBuffer int
	// TopologyInterval is how often a watch reads the servers.
	TopologyInterval time.Duration
	// Wrote, if set, is called with the key of every write once it
	// returned (or failed): a client-side cache drops the key there.
	Wrote func(key string)
	// Changed, if set, is called with the key of every watch event before
	// the event is queued.
	Changed func(key string)
	// Missed, if set, is called before a watch's OpResync after a gap.
	Missed func()
	// Unreachable, if set, is called when a call could not reach its
	// server in time, so that a cluster client reads its topology again.
	Unreachable func()
}

// A Store is a [kv.Store] with every optional capability of package kv over
// a Redis [Client]: the Redis rules (commands, scripts, replies, errors,
// history layout, scans, watches) written once for every client library.
// It is safe for concurrent use.
type Store struct {
	c    Client
	o    Options
	life lifecycle.Life
}

// New returns a store over c. o.Backend must be set.
func New(c Client, o Options) *Store {
	if o.Log == nil {
		o.Log = zap.NewNop()
	}
	if o.ScanCount <= 0 {
		o.ScanCount = DefaultScanCount
	}
	s := &Store{c: c, o: o}
	s.life.Init()
	return s
}

// Check returns the error a call must fail with before it touches the
// server: kv.ErrClosed after Close, or ctx's error once ctx is done.
func (s *Store) Check(ctx context.Context) error { return s.life.Check(ctx) }

// Fail formats err, found before a call reached the server, as the error
// of op on key.
func (s *Store) Fail(op, key string, err error) error {
	return fmt.Errorf("%s: %s %s: %w", s.o.Backend, op, kv.QuoteKey(key), err)
}

// Err turns err, returned by the client for a call made with ctx, into the
// store's error for op (such as `get "k"`), wrapping both the sentinel or
// context error it stands for and the client's error, so that errors.Is and
// errors.As both work. An error that says the server could not be reached
// in time calls Options.Unreachable.
func (s *Store) Err(ctx context.Context, op string, err error) error {
	c := s.c.Classify(ctx, err)
	if (c == kv.ErrUnavailable || c == context.DeadlineExceeded) && s.o.Unreachable != nil {
		s.o.Unreachable()
	}
	if c != nil && c != err {
		return fmt.Errorf("%s: %s: %w: %w", s.o.Backend, op, c, err)
	}
	return fmt.Errorf("%s: %s: %w", s.o.Backend, op, err)
}

// KeyErr is Err for an operation on key.
func (s *Store) KeyErr(ctx context.Context, op, key string, err error) error {
	return s.Err(ctx, op+" "+kv.QuoteKey(key), err)
}

// wrote tells Options.Wrote that a write of key returned.
func (s *Store) wrote(key string) {
	if s.o.Wrote != nil {
		s.o.Wrote(key)
	}
}

// IsWrongType reports whether err is a WRONGTYPE error reply.
func (s *Store) IsWrongType(err error) bool {
	return err != nil && s.c.Classify(context.Background(), err) == kv.ErrWrongType
}

// Ping checks with PING that the server answers and accepts the client's
// credentials.
func (s *Store) Ping(ctx context.Context) error {
	if err := s.life.Check(ctx); err != nil {
		return fmt.Errorf("%s: ping: %w", s.o.Backend, err)
	}
	if r := s.c.Do(ctx, Cmd{Name: "PING", NoKey: true, ReadOnly: true}); r.Err != nil {
		return s.Err(ctx, "ping", r.Err)
	}
	return nil
}

// Get implements [kv.Store] with GET. A key holding a history (a list) or
// another Redis type yields an error wrapping kv.ErrWrongType.
func (s *Store) Get(ctx context.Context, key string) ([]byte, error) {
	if err := s.life.Check(ctx); err != nil {
		return nil, s.Fail("get", key, err)
	}
	r := s.c.Do(ctx, Cmd{Name: "GET", Key: key, ReadOnly: true})
	if r.Err != nil {
		return nil, s.KeyErr(ctx, "get", key, r.Err)
	}
	return r.Bytes(), nil
}

// Set implements [kv.Store] with SET, which replaces any value, history or
// other type at key and removes its expiry.
func (s *Store) Set(ctx context.Context, key string, value []byte) error {
	if err := s.life.Check(ctx); err != nil {
		return s.Fail("set", key, err)
	}
	r := s.c.Do(ctx, Cmd{Name: "SET", Key: key, Args: []string{string(value)}})
	s.wrote(key)
	if r.Err != nil {
		return s.KeyErr(ctx, "set", key, r.Err)
	}
	return nil
}

// Delete implements [kv.Store] with DEL.
func (s *Store) Delete(ctx context.Context, key string) (bool, error) {
	if err := s.life.Check(ctx); err != nil {
		return false, s.Fail("delete", key, err)
	}
	r := s.c.Do(ctx, Cmd{Name: "DEL", Key: key})
	s.wrote(key)
	if r.Err != nil {
		return false, s.KeyErr(ctx, "delete", key, r.Err)
	}
	return r.Int > 0, nil
}

// SetWithTTL implements [kv.Expirer] with SET PX; ttl is rounded up to a
// whole millisecond.
func (s *Store) SetWithTTL(ctx context.Context, key string, value []byte, ttl time.Duration) error {
	if err := s.life.Check(ctx); err != nil {
		return s.Fail("set", key, err)
	}
	if err := validate.TTL(ttl); err != nil {
		return s.Fail("set", key, err)
	}
	ms := (ttl + time.Millisecond - 1) / time.Millisecond
	r := s.c.Do(ctx, Cmd{Name: "SET", Key: key, Args: []string{string(value), "PX", strconv.FormatInt(int64(ms), 10)}})
	s.wrote(key)
	if r.Err != nil {
		return s.KeyErr(ctx, "set", key, r.Err)
	}
	return nil
}

// TTL implements [kv.Expirer] with PTTL, read from the server. A key with
// less than a millisecond left reports one millisecond.
func (s *Store) TTL(ctx context.Context, key string) (time.Duration, error) {
	if err := s.life.Check(ctx); err != nil {
		return 0, s.Fail("ttl", key, err)
	}
	r := s.c.Do(ctx, Cmd{Name: "PTTL", Key: key, ReadOnly: true})
	if r.Err != nil {
		return 0, s.KeyErr(ctx, "ttl", key, r.Err)
	}
	switch ms := r.Int; {
	case ms == -2:
		return 0, s.Fail("ttl", key, kv.ErrNotFound)
	case ms == -1:
		return kv.NoExpiry, nil
	case ms < 1:
		return time.Millisecond, nil
	default:
		return time.Duration(ms) * time.Millisecond, nil
	}
}

// Close ends every watch and waits for their goroutines, then closes the
// client if closeClient is set. It is idempotent.
func (s *Store) Close(closeClient bool) error {
	if !s.life.Close() || !closeClient {
		return nil
	}
	if err := s.c.Close(); err != nil {
		return fmt.Errorf("%s: close client: %w", s.o.Backend, err)
	}
	return nil
}

// errUnexpected reports a reply of a shape the store does not expect.
var errUnexpected = errors.New("unexpected reply")
