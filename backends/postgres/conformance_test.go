package postgres_test

import (
	"context"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/cledar/storekit/backends/postgres"
	"github.com/cledar/storekit/backends/postgres/pgtest"
	"github.com/cledar/storekit/conformance"
	"github.com/cledar/storekit/kv"
)

// testPool returns a pool on the test server and the name of a new schema of
// its own, which is dropped, with everything in it, when t ends.
func testPool(t *testing.T) (*pgxpool.Pool, string) {
	t.Helper()
	return pgtest.Pool(t, "")
}

// newStore returns a store on pool with opts, closed when t ends.
func newStore(t *testing.T, pool *pgxpool.Pool, opts *postgres.Options) *postgres.Store {
	t.Helper()
	s, err := postgres.New(pool, opts)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

func TestConformance(t *testing.T) {
	pool, schema := testPool(t)
	opts := &postgres.Options{Schema: schema, Table: "kv", SweepInterval: 100 * time.Millisecond}
	if err := newStore(t, pool, opts).CreateSchema(context.Background()); err != nil {
		t.Fatal(err)
	}
	conformance.Run(t, func(t *testing.T) kv.Store { return newStore(t, pool, opts) })
}
