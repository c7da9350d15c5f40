package postgres

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/cledar/storekit/kv"
	"github.com/cledar/storekit/metrics"
)

// Options configure a [Store]. The zero value is ready to use.
type Options struct {
	// Schema is the PostgreSQL schema that holds the store's tables.
	// Defaults to "public".
	Schema string
	// Table is the name of the store's table; its schema version is kept in
	// the table Table+"_schema". Defaults to "storekit". Two applications
	// that share a database use different tables (or schemas).
	Table string
	// CreateSchema makes the store create its schema and tables, as
	// [Store.CreateSchema] does, before its first call. Without it they must
	// exist already.
	CreateSchema bool
	// SweepInterval is how often the store deletes the rows of expired
	// keys. Reads never see an expired key, whenever it is deleted.
	// Defaults to one second.
	SweepInterval time.Duration
	// WatchBuffer is how many events a watch holds for a consumer that is
	// not reading. Past it the buffered events are replaced by one
	// OpResync. Defaults to 1024.
	WatchBuffer int
}

// A Store is a [kv.Store] on a PostgreSQL table. Create it with [New] or
// [Open]; it is safe for concurrent use.
type Store struct {
	pool    *pgxpool.Pool
	ownPool bool
	q       queries

	createOnUse bool
	schemaMu    sync.Mutex
	schemaReady atomic.Bool

	watchBuffer int

	counters metrics.Counters // metrics.go

	closed    atomic.Bool
	closeOnce sync.Once
	life      context.Context // ends at Close, and with it the sweep and the watches
	stop      context.CancelFunc
	swept     chan struct{}
	watchMu   sync.Mutex // orders a Watch's start against Close, and guards lis
	lis       *listener  // the watches' listening connection, nil without watches
	watchers  sync.WaitGroup
}

// New returns a store on the caller's pool, which Close leaves open. It
// fails only on invalid options.
func New(pool *pgxpool.Pool, opts *Options) (*Store, error) {
	if pool == nil {
		return nil, fmt.Errorf("postgres: nil pool: %w", kv.ErrInvalid)
	}
	return newStore(pool, false, opts)
}

// Open connects to the database that connString names (a postgres:// URL or
// keyword/value string, as pgxpool.ParseConfig reads it), checks that it
// answers, and returns a store whose Close closes the pool. A server that
// cannot be reached yields an error wrapping [kv.ErrUnavailable]; refused
// credentials one wrapping [kv.ErrPermission]; a malformed connString one
// wrapping [kv.ErrInvalid]. No error holds the password.
func Open(ctx context.Context, connString string, opts *Options) (*Store, error) {
	cfg, err := pgxpool.ParseConfig(connString)
	if err != nil {
		return nil, fmt.Errorf("postgres: %w: %w", kv.ErrInvalid, redact(err, passwordOf(connString)))
	}
	password := cfg.ConnConfig.Password
	pool, err := pgxpool.NewWithConfig(ctx, cfg)
	if err != nil {
		return nil, redact(wrap("open", "", err), password)
	}
	if err := pool.Ping(ctx); err != nil {
		pool.Close()
		return nil, redact(wrap("connect", "", err), password)
	}
	s, err := newStore(pool, true, opts)
	if err != nil {
		pool.Close()
		return nil, err
	}
	if s.createOnUse {
		if err := s.CreateSchema(ctx); err != nil {
			s.Close()
			return nil, redact(err, password)
		}
	}
	return s, nil
}

func newStore(pool *pgxpool.Pool, own bool, opts *Options) (*Store, error) {
	var o Options
	if opts != nil {
		o = *opts
	}
	if o.Schema == "" {
		o.Schema = "public"
	}
	if o.Table == "" {
		o.Table = "storekit"
	}
	if o.SweepInterval < 0 {
		return nil, fmt.Errorf("postgres: negative SweepInterval %v: %w", o.SweepInterval, kv.ErrInvalid)
	}
	if o.WatchBuffer < 0 {
		return nil, fmt.Errorf("postgres: negative WatchBuffer %d: %w", o.WatchBuffer, kv.ErrInvalid)
	}
	if o.WatchBuffer == 0 {
		o.WatchBuffer = 1024
	}
	if o.SweepInterval == 0 {
		o.SweepInterval = time.Second
	}
	ctx, stop := context.WithCancel(context.Background())
	s := &Store{
		pool:        pool,
		ownPool:     own,
		q:           newQueries(o.Schema, o.Table),
		createOnUse: o.CreateSchema,
		watchBuffer: o.WatchBuffer,
		life:        ctx,
		stop:        stop,
		swept:       make(chan struct{}),
	}
	go s.sweep(ctx, o.SweepInterval)
	return s, nil
}

// Close stops the expiry sweep, ends the watches and, for a store made by [Open], closes its
// pool. It is idempotent; afterwards every method returns an error wrapping
// [kv.ErrClosed].
func (s *Store) Close() error {
	s.closeOnce.Do(func() {
		s.watchMu.Lock()
		s.closed.Store(true)
		s.watchMu.Unlock()
		s.stop()
		<-s.swept
		s.watchers.Wait()
		if s.ownPool {
			s.pool.Close()
		}
	})
	return nil
}

// begin checks that a call may run: the store is open, ctx is not done, and
// the schema exists when the store creates it on first use.
func (s *Store) begin(ctx context.Context, op, key string) error {
	if s.closed.Load() {
		return fmt.Errorf("postgres: %s: %w", describe(op, key), kv.ErrClosed)
	}
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("postgres: %s: %w", describe(op, key), err)
	}
	if s.createOnUse && !s.schemaReady.Load() {
		return s.CreateSchema(ctx)
	}
	return nil
}

// describe names an operation and, when there is one, its key.
func describe(op, key string) string {
	if key == "" {
		return op
	}
	return op + " " + kv.QuoteKey(key)
}

// checkTTL rejects a ttl that is not positive.
func checkTTL(op, key string, ttl time.Duration) error {
	if ttl <= 0 {
		return fmt.Errorf("postgres: %s: ttl %v is not positive: %w", describe(op, key), ttl, kv.ErrInvalid)
	}
	return nil
}

// micros returns ttl in whole microseconds, PostgreSQL's precision,
// rounded up.
func micros(ttl time.Duration) int64 {
	return int64((ttl + time.Microsecond - 1) / time.Microsecond)
}

// noRows reports whether err says that a query returned no row.
func noRows(err error) bool { return errors.Is(err, pgx.ErrNoRows) }
