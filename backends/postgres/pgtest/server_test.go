package pgtest_test

import (
	"context"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"go.uber.org/goleak"

	"github.com/cledar/storekit/backends/postgres/pgtest"
)

func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m)
}

// TestServer: a server of the test's own answers at its URL, keeps what was
// written across a restart and a stop and start, and refuses connections
// while stopped.
func TestServer(t *testing.T) {
	srv := pgtest.Start(t)
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	exec := func(sql string) error {
		conn, err := pgx.Connect(ctx, srv.URL())
		if err != nil {
			return err
		}
		defer conn.Close(ctx)
		_, err = conn.Exec(ctx, sql)
		return err
	}
	count := func() int {
		t.Helper()
		conn, err := pgx.Connect(ctx, srv.URL())
		if err != nil {
			t.Fatal(err)
		}
		defer conn.Close(ctx)
		var n int
		if err := conn.QueryRow(ctx, `SELECT count(*) FROM t`).Scan(&n); err != nil {
			t.Fatal(err)
		}
		return n
	}
	var fsync string
	if err := exec(`CREATE TABLE t (n int)`); err != nil {
		t.Fatal(err)
	}
	conn, err := pgx.Connect(ctx, srv.URL())
	if err != nil {
		t.Fatal(err)
	}
	if err := conn.QueryRow(ctx, `SHOW fsync`).Scan(&fsync); err != nil || fsync != "off" {
		t.Errorf("fsync = %q, %v; want off", fsync, err)
	}
	if err := exec(`INSERT INTO t VALUES (1)`); err != nil {
		t.Fatal(err)
	}

	srv.Restart(t)
	if _, err := conn.Exec(ctx, `SELECT 1`); err == nil {
		t.Error("a connection made before the restart still works after it")
	}
	conn.Close(ctx)
	if err := exec(`INSERT INTO t VALUES (2)`); err != nil {
		t.Fatalf("after Restart: %v", err)
	}

	srv.Stop(t)
	if err := exec(`SELECT 1`); err == nil {
		t.Fatal("a connection succeeded while the server was stopped")
	}
	srv.Start(t)
	if n := count(); n != 2 {
		t.Errorf("after a restart, a stop and a start the table holds %d rows, want 2", n)
	}
}
