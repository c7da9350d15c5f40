package postgres_test

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"os"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/cledar/storekit/backends/postgres"
	"github.com/cledar/storekit/conformance"
	"github.com/cledar/storekit/kv"
)

// defaultURL is the server the tests use when STOREKIT_POSTGRES_URL is not
// set: a local one that trusts the postgres user.
const defaultURL = "postgres://postgres@127.0.0.1:5432/postgres?sslmode=disable"

// testURL returns the URL of the test server, or skips t when none answers
// (fails it instead when STOREKIT_REQUIRE_POSTGRES=1).
func testURL(t *testing.T) string {
	t.Helper()
	url := os.Getenv("STOREKIT_POSTGRES_URL")
	if url == "" {
		url = defaultURL
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	conn, err := pgx.Connect(ctx, url)
	if err != nil {
		msg := "no PostgreSQL server for the tests (set STOREKIT_POSTGRES_URL): " + err.Error()
		if os.Getenv("STOREKIT_REQUIRE_POSTGRES") == "1" {
			t.Fatal(msg)
		}
		t.Skip(msg)
	}
	conn.Close(ctx)
	return url
}

// testPool returns a pool on the test server and the name of a new schema of
// its own, which is dropped, with everything in it, when t ends.
func testPool(t *testing.T) (*pgxpool.Pool, string) {
	t.Helper()
	return testPoolNamed(t, "")
}

// testPoolNamed is testPool whose connections, when app is not empty, give
// the server the application_name app.
func testPoolNamed(t *testing.T, app string) (*pgxpool.Pool, string) {
	t.Helper()
	url := testURL(t)
	cfg, err := pgxpool.ParseConfig(url)
	if err != nil {
		t.Fatal(err)
	}
	if app != "" {
		cfg.ConnConfig.RuntimeParams["application_name"] = app
	}
	// Commits need not wait for the disk: durability is not under test, and
	// Watch/SlowConsumer makes 20,000 Sets, one after the other, within 20
	// seconds, which a busy machine's fsyncs may not allow.
	cfg.ConnConfig.RuntimeParams["synchronous_commit"] = "off"
	pool, err := pgxpool.NewWithConfig(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	b := make([]byte, 8)
	rand.Read(b)
	schema := "storekit_test_" + hex.EncodeToString(b)
	t.Cleanup(func() {
		defer pool.Close()
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		if _, err := pool.Exec(ctx, `DROP SCHEMA IF EXISTS `+pgx.Identifier{schema}.Sanitize()+` CASCADE`); err != nil {
			t.Errorf("drop schema %s: %v", schema, err)
		}
	})
	return pool, schema
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
