package benchmarks

// BenchmarkPostgres: the PostgreSQL store against pgx running the store's
// own statements by hand; and the PostgreSQL target of
// BenchmarkConfigPropagation.

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/cledar/storekit/backends/postgres"
	"github.com/cledar/storekit/backends/postgres/pgtest"
	"github.com/cledar/storekit/conformance"
	"github.com/cledar/storekit/kv"
)

// pgTable is the table of every PostgreSQL store and raw client here, each
// in a schema of its own.
const pgTable = "storekit"

// BenchmarkPostgres runs the postgres store and the raw pgx client side by
// side on the PostgreSQL server that pgtest finds (skipped when there is
// none, unless STOREKIT_REQUIRE_POSTGRES=1); see the package documentation.
func BenchmarkPostgres(b *testing.B) {
	conformance.Compare(b,
		conformance.Contender{Name: "pgx-raw", Ops: benchOps, New: newRawPgx},
		conformance.Contender{Name: "postgres", Ops: benchOps, New: func(b *testing.B) kv.Store {
			pool, schema := pgtest.Pool(b, "storekit-bench-postgres")
			return newPostgresStore(b, pool, schema)
		}},
	)
}

// newPostgresStore returns a store on pool whose table it creates in
// schema; the store is not closed here: whoever uses it closes it.
func newPostgresStore(tb testing.TB, pool *pgxpool.Pool, schema string) *postgres.Store {
	tb.Helper()
	s, err := postgres.New(pool, &postgres.Options{Schema: schema, Table: pgTable})
	if err != nil {
		tb.Fatalf("postgres.New: %v", err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), setupBound)
	defer cancel()
	if err := s.CreateSchema(ctx); err != nil {
		_ = s.Close()
		tb.Fatalf("CreateSchema in %s: %v", schema, err)
	}
	tb.Logf("table %s in schema %s, on a pool of at most %d connections", pgTable, schema, pool.Config().MaxConns)
	return s
}

// newRawPgx returns a raw pgx client over a pool of its own (of the same
// size as the store's: pgxpool's default, from pgtest.Pool) and a table
// of its own that the store's CreateSchema made, so that its writes fire
// the same trigger (a NOTIFY per row) as the store's.
func newRawPgx(b *testing.B) kv.Store {
	pool, schema := pgtest.Pool(b, "storekit-bench-pgx-raw")
	if err := newPostgresStore(b, pool, schema).Close(); err != nil {
		b.Fatalf("closing the store that created the table: %v", err)
	}
	return newRawPgxOn(pool, pgx.Identifier{schema, pgTable}.Sanitize())
}

// rawPgx is a pgxpool.Pool behind the kv.Store methods that the
// benchmarks call, running the statements that backends/postgres runs for
// them. Those are unexported (store.go builds them from the quoted table
// name), so they are reproduced here: the same text, the same arguments
// (keys as bytea, the TTL of a Set as 0 microseconds), on a table of the
// same layout.
type rawPgx struct {
	pool                    *pgxpool.Pool
	get, set, del, getMulti string
}

// pgLive is the condition of the store's reads that a row of the table
// aliased t is not expired (live in queries.go).
const pgLive = `(t.expires_at IS NULL OR t.expires_at > now())`

// newRawPgxOn returns the raw client of the quoted table on pool.
func newRawPgxOn(pool *pgxpool.Pool, table string) rawPgx {
	return rawPgx{
		pool: pool,
		get:  `SELECT t.value, t.history IS NOT NULL FROM ` + table + ` AS t WHERE t.key = $1 AND ` + pgLive,
		set: `INSERT INTO ` + table + ` AS t (key, value, expires_at)
		VALUES ($1, $2, CASE WHEN $3::int8 > 0 THEN now() + $3::int8 * interval '1 microsecond' END)
		ON CONFLICT (key) DO UPDATE SET
	value = excluded.value, history = NULL, expires_at = excluded.expires_at, writes = t.writes + 1`,
		del: `DELETE FROM ` + table + ` AS t WHERE t.key = $1 RETURNING ` + pgLive,
		getMulti: `SELECT t.key, t.value FROM ` + table + ` AS t
		WHERE t.key = ANY($1) AND t.value IS NOT NULL AND ` + pgLive,
	}
}

func (r rawPgx) Get(ctx context.Context, key string) ([]byte, error) {
	var value []byte
	var history bool
	err := r.pool.QueryRow(ctx, r.get, []byte(key)).Scan(&value, &history)
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, kv.ErrNotFound
	}
	return value, err
}

func (r rawPgx) Set(ctx context.Context, key string, value []byte) error {
	_, err := r.pool.Exec(ctx, r.set, []byte(key), value, int64(0))
	return err
}

func (r rawPgx) Delete(ctx context.Context, key string) (bool, error) {
	var existed bool
	err := r.pool.QueryRow(ctx, r.del, []byte(key)).Scan(&existed)
	if errors.Is(err, pgx.ErrNoRows) {
		return false, nil
	}
	return existed, err
}

// GetMulti reads the rows of keys in one query, scanning each key and
// value, and checks that every key was found, without building results.
func (r rawPgx) GetMulti(ctx context.Context, keys []string) ([]kv.Value, error) {
	args := make([][]byte, len(keys))
	for i, k := range keys {
		args[i] = []byte(k)
	}
	rows, err := r.pool.Query(ctx, r.getMulti, args)
	if err != nil {
		return nil, err
	}
	n := 0
	var k, v []byte
	for rows.Next() {
		if err := rows.Scan(&k, &v); err != nil {
			rows.Close()
			return nil, err
		}
		n++
	}
	if err := rows.Err(); err != nil {
		return nil, err
	}
	if n != len(keys) {
		return nil, errMissing
	}
	return allFound[:len(keys)], nil
}

func (r rawPgx) Close() error { return nil }

var _ kv.MultiGetter = rawPgx{}

// postgresConfigTarget makes tg a target on a postgres store in a schema of
// its own: the other client that writes and reads is a second postgres
// store on the same table over a pool of its own (pgx's connections, with
// the settings of the first pool).
func postgresConfigTarget(tb testing.TB, tg *configTarget) {
	tb.Helper()
	pool, schema := pgtest.Pool(tb, "storekit-bench-config")
	s := newPostgresStore(tb, pool, schema)
	tb.Cleanup(func() { _ = s.Close() })
	tg.store = s

	ctx, cancel := context.WithTimeout(context.Background(), setupBound)
	defer cancel()
	wpool, err := pgxpool.NewWithConfig(ctx, pool.Config())
	if err != nil {
		tb.Fatalf("a second pool: %v", err)
	}
	tb.Cleanup(wpool.Close) // before pgtest drops the schema
	w, err := postgres.New(wpool, &postgres.Options{Schema: schema, Table: pgTable, SweepInterval: time.Hour})
	if err != nil {
		tb.Fatalf("postgres.New: %v", err)
	}
	tb.Cleanup(func() { _ = w.Close() })
	tg.push = func(ctx context.Context, keys []string, vals [][]byte) error {
		for i, key := range keys {
			if _, err := w.Append(ctx, key, vals[i]); err != nil {
				return err
			}
		}
		return nil
	}
	tg.state = func(ctx context.Context, key string) (int64, []byte, error) {
		last, version, err := w.Latest(ctx, key)
		return version, last, err
	}
}
