// Package pgtest finds a PostgreSQL server for tests and gives each test a
// schema of its own on it. It is meant for _test.go files: those of this
// module, and those of any code that runs storekit's PostgreSQL backend in
// its tests.
//
// [URL] returns the server to run tests against, found in this order:
//
//  1. the connection string in the environment variable
//     STOREKIT_POSTGRES_URL, used as is;
//  2. a local server on 127.0.0.1:5432 that trusts the user postgres;
//  3. when PostgreSQL's programs are installed (initdb and pg_ctl, found
//     as [Start] finds them), a server of the test's own started by
//     [Start], stopped when the test ends;
//  4. when a Docker engine answers, a container of the official postgres
//     image through testcontainers-go, removed when the test ends: the
//     command in storekit's internal/redistest/rediscontainer, a module of
//     its own so that testcontainers stays out of every other module
//     graph, run with `go run` from storekit's source tree (when pgtest
//     runs from the module cache, where that module is not, this step is
//     left out);
//  5. none: the test is skipped with the reasons, or fails when the
//     environment variable STOREKIT_REQUIRE_POSTGRES is set to 1.
//
// The servers of steps 3 and 4 are started for each test that asks, which
// takes seconds: set STOREKIT_POSTGRES_URL, or run a local server, for
// runs of many tests.
//
// [Pool] returns a pool on that server and the name of a fresh schema, which
// is dropped, with everything in it, when the test ends; tests never touch
// anything they did not create.
//
// [Start] starts a server of the test's own, in a temporary directory, for
// tests that restart, stop or otherwise harm the server; [PoolOn] gives a
// schema on it.
package pgtest

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"os"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
)

// DefaultURL is the server used when STOREKIT_POSTGRES_URL is not set: a
// local one that trusts the postgres user.
const DefaultURL = "postgres://postgres@127.0.0.1:5432/postgres?sslmode=disable"

// URL returns the connection string of the test server (see the package
// documentation for where it comes from), or skips tb when there is none
// (fails it instead when STOREKIT_REQUIRE_POSTGRES=1). A server it starts
// is stopped when tb ends.
func URL(tb testing.TB) string {
	tb.Helper()
	if url := os.Getenv("STOREKIT_POSTGRES_URL"); url != "" {
		if err := ping(url); err != nil {
			unavailable(tb, "no PostgreSQL server for the tests at STOREKIT_POSTGRES_URL: "+err.Error())
		}
		return url
	}
	return fallback(tb, DefaultURL, binDir())
}

// ping connects to the server at url, within 10 seconds, and hangs up.
func ping(url string) error {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	conn, err := pgx.Connect(ctx, url)
	if err != nil {
		return err
	}
	return conn.Close(ctx)
}

// Pool returns a pool on the test server of [URL] and the name of a new
// schema of its own (not yet created), which is dropped, with everything
// in it, when tb ends; the pool is closed then too. When app is not empty,
// the pool's connections give the server the application_name app, so that
// a test can find them in pg_stat_activity.
//
// The pool's sessions commit without waiting for the disk
// (synchronous_commit off): durability is not what tests check, and a busy
// machine's fsyncs would otherwise bound how many writes a test can make.
func Pool(tb testing.TB, app string) (*pgxpool.Pool, string) {
	tb.Helper()
	return PoolOn(tb, URL(tb), app)
}

// PoolOn is [Pool] on the server at url rather than the one [URL] finds.
func PoolOn(tb testing.TB, url, app string) (*pgxpool.Pool, string) {
	tb.Helper()
	cfg, err := pgxpool.ParseConfig(url)
	if err != nil {
		tb.Fatal(err)
	}
	if app != "" {
		cfg.ConnConfig.RuntimeParams["application_name"] = app
	}
	cfg.ConnConfig.RuntimeParams["synchronous_commit"] = "off"
	pool, err := pgxpool.NewWithConfig(context.Background(), cfg)
	if err != nil {
		tb.Fatal(err)
	}
	schema := Name("storekit_test_")
	tb.Cleanup(func() {
		defer pool.Close()
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		if _, err := pool.Exec(ctx, `DROP SCHEMA IF EXISTS `+pgx.Identifier{schema}.Sanitize()+` CASCADE`); err != nil {
			tb.Errorf("drop schema %s: %v", schema, err)
		}
	})
	return pool, schema
}

// Name returns prefix followed by 16 random hexadecimal digits: a name no
// other test run uses.
func Name(prefix string) string {
	b := make([]byte, 8)
	rand.Read(b)
	return prefix + hex.EncodeToString(b)
}
