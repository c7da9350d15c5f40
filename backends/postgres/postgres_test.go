package postgres_test

import (
	"context"
	"errors"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/cledar/storekit/backends/postgres"
	"github.com/cledar/storekit/backends/postgres/pgtest"
	"github.com/cledar/storekit/kv"
)

func testContext(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	t.Cleanup(cancel)
	return ctx
}

func TestOpenUnreachable(t *testing.T) {
	// Nothing listens on port 1 of the loopback address.
	_, err := postgres.Open(testContext(t), "postgres://app:s3cret-pw@127.0.0.1:1/app?sslmode=disable&connect_timeout=5", nil)
	wantOpenError(t, err, kv.ErrUnavailable, "an unreachable server")
}

// wantOpenError checks that err, the error of an Open whose connection
// string holds the password s3cret-pw, wraps target and hides the password.
func wantOpenError(t *testing.T, err, target error, what string) {
	t.Helper()
	if !errors.Is(err, target) {
		t.Fatalf("Open of %s: %v, want errors.Is(_, %v)", what, err, target)
	}
	if strings.Contains(err.Error(), "s3cret-pw") {
		t.Errorf("Open's error shows the password: %v", err)
	}
}

func TestOpenInvalid(t *testing.T) {
	_, err := postgres.Open(testContext(t), "postgres://app:s3cret-pw@127.0.0.1:5432/app?sslmode=bogus", nil)
	wantOpenError(t, err, kv.ErrInvalid, "a malformed connection string")
}

func TestOpenRefused(t *testing.T) {
	pool, _ := testPool(t)
	ctx := testContext(t)
	role := pgtest.Name("storekit_test_nologin_")
	if _, err := pool.Exec(ctx, `CREATE ROLE `+pgx.Identifier{role}.Sanitize()+` NOLOGIN`); err != nil {
		var pgErr *pgconn.PgError
		if errors.As(err, &pgErr) && pgErr.Code == "42501" {
			t.Skip("the test server's user may not create the role this test logs in as: ", err)
		}
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if _, err := pool.Exec(context.Background(), `DROP ROLE `+pgx.Identifier{role}.Sanitize()); err != nil {
			t.Errorf("drop role %s: %v", role, err)
		}
	})
	cfg := pool.Config().ConnConfig
	url := "postgres://" + role + ":s3cret-pw@" + cfg.Host + ":" + strconv.Itoa(int(cfg.Port)) + "/" + cfg.Database + "?sslmode=disable"
	_, err := postgres.Open(ctx, url, nil)
	wantOpenError(t, err, kv.ErrPermission, "a role that may not log in")
}

func TestCreateSchemaOnFirstUse(t *testing.T) {
	pool, schema := testPool(t)
	ctx := testContext(t)
	a := newStore(t, pool, &postgres.Options{Schema: schema, Table: "app a", CreateSchema: true})
	b := newStore(t, pool, &postgres.Options{Schema: schema, Table: "app\"b", CreateSchema: true})
	if err := a.Set(ctx, "k", []byte("a")); err != nil {
		t.Fatalf("Set on a store that creates its table on first use: %v", err)
	}
	if err := b.Set(ctx, "k", []byte("b")); err != nil {
		t.Fatalf("Set on a second table of the same schema: %v", err)
	}
	for _, c := range []struct {
		s    *postgres.Store
		want string
	}{{a, "a"}, {b, "b"}} {
		if v, err := c.s.Get(ctx, "k"); err != nil || string(v) != c.want {
			t.Errorf("Get(k) = %q, %v; want %q: two tables share keys", v, err, c.want)
		}
	}
	var version int
	err := pool.QueryRow(ctx, `SELECT version FROM `+pgx.Identifier{schema, "app a_schema"}.Sanitize()).Scan(&version)
	if err != nil || version != postgres.SchemaVersion {
		t.Errorf("schema version row: %d, %v; want %d", version, err, postgres.SchemaVersion)
	}
}

func TestWithoutSchema(t *testing.T) {
	pool, schema := testPool(t)
	s := newStore(t, pool, &postgres.Options{Schema: schema, Table: "kv"})
	if _, err := s.Get(testContext(t), "k"); err == nil || errors.Is(err, kv.ErrNotFound) {
		t.Errorf("Get on a table that was never created: %v, want an error other than kv.ErrNotFound", err)
	}
}

func TestNewerSchemaRefused(t *testing.T) {
	pool, schema := testPool(t)
	ctx := testContext(t)
	opts := &postgres.Options{Schema: schema, Table: "kv"}
	if err := newStore(t, pool, opts).CreateSchema(ctx); err != nil {
		t.Fatal(err)
	}
	if _, err := pool.Exec(ctx, `UPDATE `+pgx.Identifier{schema, "kv_schema"}.Sanitize()+` SET version = version + 1`); err != nil {
		t.Fatal(err)
	}
	err := newStore(t, pool, opts).CreateSchema(ctx)
	if !errors.Is(err, kv.ErrNotSupported) {
		t.Errorf("CreateSchema on a table of a newer version: %v, want errors.Is(_, kv.ErrNotSupported)", err)
	}
}

// schemaStore returns a store on a table of its own, created.
func schemaStore(t *testing.T) (*postgres.Store, *pgxpool.Pool, string) {
	t.Helper()
	pool, schema := testPool(t)
	s := newStore(t, pool, &postgres.Options{Schema: schema, Table: "kv", CreateSchema: true, SweepInterval: 50 * time.Millisecond})
	return s, pool, schema
}

// nextEvent returns the next event of ch, failing t if none comes within
// five seconds.
func nextEvent(t *testing.T, ch <-chan kv.Event) kv.Event {
	t.Helper()
	select {
	case ev, ok := <-ch:
		if !ok {
			t.Fatal("watch channel closed")
		}
		return ev
	case <-time.After(5 * time.Second):
		t.Fatal("no event within 5s")
	}
	return kv.Event{}
}

func TestWatchResyncAfterReconnect(t *testing.T) {
	s, pool, schema := schemaStore(t)
	ctx := testContext(t)
	ch, err := s.Watch(ctx, "*")
	if err != nil {
		t.Fatal(err)
	}
	if ev := nextEvent(t, ch); ev.Op != kv.OpResync {
		t.Fatalf("first event %v, want resync", ev)
	}
	channel := ""
	err = pool.QueryRow(ctx, `SELECT pg_listening_channels()`).Scan(&channel)
	if err == nil {
		t.Fatalf("the pool's own connection listens on %q", channel)
	}
	// End the watch's connection from the server side, as a restart would.
	tag, err := pool.Exec(ctx, `SELECT pg_terminate_backend(pid) FROM pg_stat_activity
		WHERE query LIKE 'LISTEN %' AND pid <> pg_backend_pid() AND datname = current_database()
		AND query LIKE '%' || $1 || '%'`, channelOf(t, pool, schema))
	if err != nil || tag.RowsAffected() != 1 {
		t.Fatalf("terminate the listening connection: %v, %d rows", err, tag.RowsAffected())
	}
	if ev := nextEvent(t, ch); ev.Op != kv.OpResync {
		t.Fatalf("event after the connection ended: %v, want resync", ev)
	}
	if err := s.Set(ctx, "after", []byte("v")); err != nil {
		t.Fatal(err)
	}
	if ev := nextEvent(t, ch); ev.Op != kv.OpSet || ev.Key != "after" {
		t.Fatalf("event of a Set after the reconnect: %v, want set \"after\"", ev)
	}
}

// channelOf returns the NOTIFY channel that the table's trigger names.
func channelOf(t *testing.T, pool *pgxpool.Pool, schema string) string {
	t.Helper()
	var args []byte
	err := pool.QueryRow(testContext(t), `SELECT tgargs FROM pg_trigger
		WHERE tgrelid = $1::regclass AND NOT tgisinternal`, pgx.Identifier{schema, "kv"}.Sanitize()).Scan(&args)
	if err != nil {
		t.Fatal(err)
	}
	return strings.TrimRight(string(args), "\x00")
}

func TestWatchLongKeyResyncs(t *testing.T) {
	s, _, _ := schemaStore(t)
	ctx := testContext(t)
	ch, err := s.Watch(ctx, "short")
	if err != nil {
		t.Fatal(err)
	}
	nextEvent(t, ch)
	// A key of repeated bytes is compressed in the index, so PostgreSQL
	// stores it; its hex does not fit in a NOTIFY payload.
	long := strings.Repeat("k", 5000)
	if err := s.Set(ctx, long, []byte("v")); err != nil {
		t.Fatalf("Set of a %d-byte key: %v", len(long), err)
	}
	if ev := nextEvent(t, ch); ev.Op != kv.OpResync {
		t.Errorf("event of a key too long for a payload: %v, want resync", ev)
	}
	if err := s.Set(ctx, "short", []byte("v")); err != nil {
		t.Fatal(err)
	}
	if ev := nextEvent(t, ch); ev.Op != kv.OpSet || ev.Key != "short" {
		t.Errorf("next event %v, want set \"short\"", ev)
	}
}

func TestExpiredRowsSwept(t *testing.T) {
	s, pool, schema := schemaStore(t)
	ctx := testContext(t)
	if err := s.SetWithTTL(ctx, "k", []byte("v"), 10*time.Millisecond); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(10 * time.Second)
	for {
		var n int
		if err := pool.QueryRow(ctx, `SELECT count(*) FROM `+pgx.Identifier{schema, "kv"}.Sanitize()).Scan(&n); err != nil {
			t.Fatal(err)
		}
		if n == 0 {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("an expired row is still in the table after 10s")
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func TestWatchHearsOtherWriters(t *testing.T) {
	s, pool, schema := schemaStore(t)
	ctx := testContext(t)
	ch, err := s.Watch(ctx, "other:*")
	if err != nil {
		t.Fatal(err)
	}
	nextEvent(t, ch)
	// A write that does not go through any Store, as another program's.
	_, err = pool.Exec(ctx, `INSERT INTO `+pgx.Identifier{schema, "kv"}.Sanitize()+` (key, value) VALUES ($1, $2)`,
		[]byte("other:sql"), []byte("v"))
	if err != nil {
		t.Fatal(err)
	}
	if ev := nextEvent(t, ch); ev.Op != kv.OpSet || ev.Key != "other:sql" {
		t.Errorf("event of an INSERT by another client: %v, want set \"other:sql\"", ev)
	}
}

// TestWatchesShareOneConnection: the watches of a store listen on one
// connection, which the first watch opens and the end of the last closes;
// each watch gets the events of its own pattern.
func TestWatchesShareOneConnection(t *testing.T) {
	app := pgtest.Name("storekit_listen_")
	pool, schema := pgtest.Pool(t, app)
	s := newStore(t, pool, &postgres.Options{Schema: schema, Table: "kv", CreateSchema: true})
	ctx := testContext(t)
	if err := s.CreateSchema(ctx); err != nil {
		t.Fatal(err)
	}
	listening := func() int {
		t.Helper()
		var n int
		err := pool.QueryRow(ctx, `SELECT count(*) FROM pg_stat_activity
			WHERE application_name = $1 AND query LIKE 'LISTEN %'`, app).Scan(&n)
		if err != nil {
			t.Fatal(err)
		}
		return n
	}
	if n := listening(); n != 0 {
		t.Fatalf("%d listening connections before any watch, want 0", n)
	}
	const n = 5
	wctx, stop := context.WithCancel(ctx)
	chans := make([]<-chan kv.Event, n)
	for i := range chans {
		ch, err := s.Watch(wctx, "w"+strconv.Itoa(i)+":*")
		if err != nil {
			t.Fatal(err)
		}
		if ev := nextEvent(t, ch); ev.Op != kv.OpResync {
			t.Fatalf("first event of watch %d: %v, want resync", i, ev)
		}
		chans[i] = ch
	}
	if got := listening(); got != 1 {
		t.Errorf("%d watches listen on %d connections, want 1", n, got)
	}
	for i, ch := range chans {
		key := "w" + strconv.Itoa(i) + ":k"
		if err := s.Set(ctx, key, []byte("v")); err != nil {
			t.Fatal(err)
		}
		// Each watch hears its own key first: the keys of the watches
		// before it do not match its pattern.
		if ev := nextEvent(t, ch); ev.Op != kv.OpSet || ev.Key != key {
			t.Errorf("watch %d heard %v, want set %q", i, ev, key)
		}
	}
	stop()
	for _, ch := range chans {
		for range ch { // ends when the watch closes its channel
		}
	}
	deadline := time.Now().Add(10 * time.Second)
	for listening() != 0 {
		if time.Now().After(deadline) {
			t.Fatal("the listening connection is still open 10s after the last watch ended")
		}
		time.Sleep(20 * time.Millisecond)
	}
	// A watch after the last one ended listens again.
	ch, err := s.Watch(ctx, "again")
	if err != nil {
		t.Fatal(err)
	}
	nextEvent(t, ch)
	if err := s.Set(ctx, "again", []byte("v")); err != nil {
		t.Fatal(err)
	}
	if ev := nextEvent(t, ch); ev.Op != kv.OpSet || ev.Key != "again" {
		t.Errorf("a watch started after the others ended heard %v, want set \"again\"", ev)
	}
}

// TestPersistWithoutExpiryWritesNothing: Persist of a key without an expiry
// reports that it exists and leaves its row as it is (the row's xmin, the
// transaction that wrote it, stays); of a key with an expiry it writes the
// row without it.
func TestPersistWithoutExpiryWritesNothing(t *testing.T) {
	s, pool, schema := schemaStore(t)
	ctx := testContext(t)
	writer := func(key string) string {
		t.Helper()
		var xmin string
		err := pool.QueryRow(ctx, `SELECT xmin::text FROM `+pgx.Identifier{schema, "kv"}.Sanitize()+` WHERE key = $1`,
			[]byte(key)).Scan(&xmin)
		if err != nil {
			t.Fatal(err)
		}
		return xmin
	}
	if err := s.Set(ctx, "plain", []byte("v")); err != nil {
		t.Fatal(err)
	}
	before := writer("plain")
	if ok, err := s.Persist(ctx, "plain"); err != nil || !ok {
		t.Fatalf("Persist of a key without expiry: %v, %v; want true", ok, err)
	}
	if after := writer("plain"); after != before {
		t.Errorf("Persist of a key without expiry wrote its row: xmin %s, then %s", before, after)
	}
	if err := s.SetWithTTL(ctx, "expiring", []byte("v"), time.Hour); err != nil {
		t.Fatal(err)
	}
	before = writer("expiring")
	if ok, err := s.Persist(ctx, "expiring"); err != nil || !ok {
		t.Fatalf("Persist of a key with an expiry: %v, %v; want true", ok, err)
	}
	if after := writer("expiring"); after == before {
		t.Error("Persist of a key with an expiry did not write its row")
	}
	if ttl, err := s.TTL(ctx, "expiring"); err != nil || ttl != kv.NoExpiry {
		t.Errorf("TTL after Persist: %v, %v; want kv.NoExpiry", ttl, err)
	}
	if ok, err := s.Persist(ctx, "missing"); err != nil || ok {
		t.Errorf("Persist of a missing key: %v, %v; want false", ok, err)
	}
}

// TestAppendIfConflictReportsVersionLostTo: an AppendIf that loses reports
// the version it found, never the one it expected, while other writers
// append to the key and delete it. A version read after the lost
// statement, rather than by it, may be the expected one by then.
func TestAppendIfConflictReportsVersionLostTo(t *testing.T) {
	s, _, _ := schemaStore(t)
	ctx := testContext(t)
	const key = "h"
	stop := make(chan struct{})
	var writers sync.WaitGroup
	for w := range 3 {
		writers.Go(func() {
			for i := 0; ; i++ {
				select {
				case <-stop:
					return
				default:
				}
				var err error
				if w == 0 && i%20 == 19 {
					_, err = s.Delete(ctx, key)
				} else {
					_, err = s.Append(ctx, key, []byte("w"))
				}
				if err != nil {
					t.Errorf("writer %d: %v", w, err)
					return
				}
			}
		})
	}
	var checkers sync.WaitGroup
	var mu sync.Mutex
	conflicts := 0
	for c := range 3 {
		checkers.Go(func() {
			for i := range 300 {
				_, latest, err := s.Latest(ctx, key)
				if err != nil && !errors.Is(err, kv.ErrNotFound) {
					t.Errorf("Latest: %v", err)
					return
				}
				// Expect a version just ahead of the one read, which the
				// writers are about to reach, or none (0), which they
				// create after each delete.
				expect := latest + int64(1+(c+i)%3)
				if i%5 == 0 {
					expect = 0
				}
				_, err = s.AppendIf(ctx, key, []byte("c"), expect)
				var conflict *kv.VersionConflict
				switch {
				case err == nil:
				case errors.As(err, &conflict):
					mu.Lock()
					conflicts++
					mu.Unlock()
					if conflict.Latest == conflict.Expected {
						t.Errorf("AppendIf lost with %v: it reports the version it expected", err)
					}
				default:
					t.Errorf("AppendIf: %v", err)
					return
				}
			}
		})
	}
	checkers.Wait()
	close(stop)
	writers.Wait()
	if conflicts == 0 {
		t.Error("no AppendIf lost: the test tested nothing")
	}
	t.Logf("%d AppendIf calls lost", conflicts)
}
