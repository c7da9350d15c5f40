package main

import (
	"context"
	"net"
	"net/url"
	"strings"
	"sync"
	"testing"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/cledar/storekit/backends/postgres"
	"github.com/cledar/storekit/backends/postgres/pgtest"
)

// postgresTarget returns the PostgreSQL target: the commands run with -url
// on the test server and -pg-schema naming a fresh schema, whose table the
// test's own store has created, as an application would; set and push
// write through that store.
func postgresTarget(t *testing.T) target {
	pool, schema := pgtest.Pool(t, "storekit-cli-test")
	store, err := postgres.New(pool, &postgres.Options{Schema: schema})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = store.Close() })
	if err := store.CreateSchema(context.Background()); err != nil {
		t.Fatal(err)
	}
	return target{
		name: "postgres", cli: &cli{}, flags: []string{"-url", pgtest.URL(t), "-pg-schema", schema},
		set: func(t *testing.T, key, value string) {
			if err := store.Set(context.Background(), key, []byte(value)); err != nil {
				t.Fatal(err)
			}
		},
		push: func(t *testing.T, key, value string) {
			if _, err := store.Append(context.Background(), key, []byte(value)); err != nil {
				t.Fatal(err)
			}
		},
	}
}

// withPassword returns the test server's URL with a password: its own,
// or else one the server, which trusts the user, ignores. It returns the
// password too, which no output may show.
func withPassword(t *testing.T) (string, string) {
	u, err := url.Parse(pgtest.URL(t))
	if err != nil {
		t.Fatal(err)
	}
	if pw, ok := u.User.Password(); ok {
		return u.String(), pw
	}
	const pw = "pg-test-pw-6e1f"
	u.User = url.UserPassword(u.User.Username(), pw)
	return u.String(), pw
}

// rows counts the rows of the table schema.storekit.
func rows(t *testing.T, pool *pgxpool.Pool, schema string) int {
	t.Helper()
	var n int
	q := `SELECT count(*) FROM ` + pgx.Identifier{schema, "storekit"}.Sanitize()
	if err := pool.QueryRow(context.Background(), q).Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n
}

// TestDemoOnPostgres checks that the demo creates its table in the schema
// of -pg-schema, runs every step there (the watches and the config store
// included), deletes its keys, and never prints the password; and that
// postgresql:// with -backend postgres runs it too, on the table it found.
func TestDemoOnPostgres(t *testing.T) {
	pool, schema := pgtest.Pool(t, "")
	u, pw := withPassword(t)
	r := (&cli{}).run(t, "demo", "-url", u, "-pg-schema", schema)
	r.want(t, exitOK, "connecting to PostgreSQL at ", "table "+schema+".storekit", ":xxxxx@",
		" 7. session set with a 300ms TTL", " 8. watch user:* -> resync, then set user:3")
	checkConfigSection(t, r.stdout, "another PostgreSQL client on its own connections, kv.Historian.Append")
	if all := r.stdout + r.stderr; strings.Contains(all, pw) || r.stderr != "" {
		t.Errorf("demo on PostgreSQL printed the password or an error:\n%s", all)
	}
	if n := rows(t, pool, schema); n != 0 {
		t.Errorf("the demo left %d rows in its table", n)
	}

	u = "postgresql" + strings.TrimPrefix(u, "postgres")
	r = (&cli{}).run(t, "-backend", "postgres", "-url", u, "-pg-schema", schema, "demo")
	r.want(t, exitOK, "table "+schema+".storekit")
	checkConfigSection(t, r.stdout, "another PostgreSQL client on its own connections, kv.Historian.Append")
}

// TestPostgresTable checks that the commands other than the demo use the
// table of -pg-schema and -pg-table when it exists, and otherwise fail
// with exit code 3 and the fix, creating nothing, unless -pg-create is
// given; and that $STOREKIT_URL selects PostgreSQL as -url does.
func TestPostgresTable(t *testing.T) {
	pool, schema := pgtest.Pool(t, "")
	u := pgtest.URL(t)
	c := &cli{}
	args := []string{"-url", u, "-pg-schema", schema, "-pg-table", "kv"}
	for _, command := range [][]string{{"get", "k"}, {"set", "k", "v"}, {"watch", "k*"}, {"config", "get", "k"}} {
		c.run(t, append(args, command...)...).wantErr(t, exitBackend,
			"storekit: PostgreSQL at "+redactURL(u)+" has no table "+schema+".kv: no such table\n",
			"fix: check -pg-schema and -pg-table (default public.storekit), or give -pg-create to create the table\n")
	}
	var exists bool
	if err := pool.QueryRow(context.Background(), `SELECT EXISTS (SELECT FROM pg_namespace WHERE nspname = $1)`, schema).Scan(&exists); err != nil || exists {
		t.Fatalf("schema %s exists (%v) after commands without -pg-create; want nothing created", schema, err)
	}

	c.run(t, append(args, "-pg-create", "set", "k", "v")...).want(t, exitOK)
	c.run(t, append(args, "get", "k")...).want(t, exitOK, "v")
	env := &cli{env: map[string]string{envURL: u}}
	env.run(t, "-pg-schema", schema, "-pg-table", "kv", "-o", "json", "get", "k").want(t, exitOK, `{"key":"k","value":"v","encoding":"utf8"}`)
	env.run(t, "-pg-schema", schema, "-pg-table", "kv", "stats").want(t, exitOK, "PostgreSQL at "+redactURL(u)+", table "+schema+".kv")
	// The default table is another one, which this schema lacks.
	c.run(t, "-url", u, "-pg-schema", schema, "get", "k").wantErr(t, exitBackend, "has no table "+schema+".storekit")
}

// TestPostgresErrors checks what a server that cannot be used says: the
// cause and the fix, exit code 3, and never the password, for the demo and
// the other commands alike; and that a malformed URL is a usage error.
func TestPostgresErrors(t *testing.T) {
	const pw = "pg-err-pw-2a9c"
	refused := "postgres://app:" + pw + "@" + closedAddr(t) + "/app?sslmode=disable"
	silent := "postgres://app:" + pw + "@" + silentServer(t) + "/app?sslmode=disable"
	for _, tt := range []struct {
		name  string
		args  []string
		wants []string
	}{
		{"refused", []string{"-url", refused}, []string{
			"storekit: cannot use PostgreSQL at " + strings.Replace(refused, pw, "xxxxx", 1) + ": connection refused\n",
			"fix: check -url (or $STOREKIT_URL), or start PostgreSQL there\n"}},
		{"no answer", []string{"-url", silent, "-timeout", "1s"}, []string{
			"storekit: cannot use PostgreSQL at " + strings.Replace(silent, pw, "xxxxx", 1) + ": no answer in time\n",
			"fix: check -url (or $STOREKIT_URL) and that the server is up, or raise -timeout\n"}},
	} {
		for _, command := range [][]string{{"demo"}, {"get", "k"}} {
			r := (&cli{}).run(t, append(tt.args, command...)...)
			r.wantErr(t, exitBackend, tt.wants...)
			if all := r.stdout + r.stderr; strings.Count(r.stderr, "storekit:") != 1 || strings.Contains(all, pw) {
				t.Errorf("%s, %q:\n%s", tt.name, command, all)
			}
		}
	}

	// A URL from $STOREKIT_URL that does not fit -backend is named as such.
	env := &cli{env: map[string]string{envURL: refused}}
	env.run(t, "-backend", "goredis", "get", "k").wantErr(t, exitUsage, "-url (or $STOREKIT_URL) is a PostgreSQL URL")
	env = &cli{env: map[string]string{envURL: "redis://localhost:6379"}}
	env.run(t, "-backend", "postgres", "get", "k").wantErr(t, exitUsage, "needs a postgres:// or postgresql:// URL in -url (or $STOREKIT_URL)")

	r := (&cli{}).run(t, "-url", "postgres://app:"+pw+"@127.0.0.1:5432/app?sslmode=bogus", "get", "k")
	r.wantErr(t, exitUsage, "storekit: -url: ", "xxxxx", "sslmode")
	if strings.Contains(r.stderr, pw) {
		t.Errorf("a malformed URL's error printed its password: %s", r.stderr)
	}
}

// TestPostgresRefused checks, on the test server, a login it refuses and a
// database it lacks: exit code 3, the server's reason, the fix, and never
// the password.
func TestPostgresRefused(t *testing.T) {
	u, pw := withPassword(t)
	parsed, err := url.Parse(u)
	if err != nil {
		t.Fatal(err)
	}
	role := pgtest.Name("storekit_no_role_")
	noRole := *parsed
	noRole.User = url.UserPassword(role, pw)
	noDB := *parsed
	noDB.Path = "/" + pgtest.Name("storekit_no_db_")
	for _, tt := range []struct {
		name  string
		url   string
		wants []string
	}{
		{"unknown role", noRole.String(), []string{`the server refused user "` + role + `": `,
			"fix: check the URL's user and password (or $PGPASSWORD, ~/.pgpass)\n"}},
		{"no database", noDB.String(), []string{`: database "` + strings.TrimPrefix(noDB.Path, "/") + `" does not exist` + "\n",
			"fix: check the database named in -url (or $STOREKIT_URL)\n"}},
	} {
		for _, command := range [][]string{{"demo"}, {"get", "k"}} {
			r := (&cli{}).run(t, append([]string{"-url", tt.url}, command...)...)
			r.wantErr(t, exitBackend, tt.wants...)
			if all := r.stdout + r.stderr; strings.Count(r.stderr, "storekit:") != 1 || strings.Contains(all, pw) {
				t.Errorf("%s, %q:\n%s", tt.name, command, all)
			}
		}
	}
}

// closedAddr returns an address on which nothing listens.
func closedAddr(t *testing.T) string {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	_ = l.Close()
	return addr
}

// silentServer returns the address of a server that accepts connections
// and never answers, until t ends.
func silentServer(t *testing.T) string {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	var mu sync.Mutex
	var conns []net.Conn
	done := make(chan struct{})
	go func() {
		defer close(done)
		for {
			conn, err := l.Accept()
			if err != nil {
				return
			}
			mu.Lock()
			conns = append(conns, conn)
			mu.Unlock()
		}
	}()
	t.Cleanup(func() {
		_ = l.Close()
		<-done
		for _, conn := range conns {
			_ = conn.Close()
		}
	})
	return l.Addr().String()
}
