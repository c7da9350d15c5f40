package main

import (
	"strings"
	"testing"

	"github.com/cledar/storekit/internal/redistest"
)

// configLines are the lines of the demo's config store section that show it
// worked, in order.
var configLines = []string{
	`configstore under prefix "config:": update example_config with {Name:demo Index:1 Data:map[]} -> version 1`,
	`configstore fetch example_config (answered from the cache, which already held version 1) -> {Name:demo Index:1 Data:map[]}, version 1`,
	// The other client's write, and the watcher's call with its version.
	`writes version 2:`,
	`{"name": "demo", "index": 2, "data": {"owner": "other client"}}`,
	`-> watcher: updated example_config, version 2, {Name:demo Index:2 Data:map[owner:other client]}`,
	// The identical update wrote nothing.
	`configstore update example_config with the same value -> version 2: identical, skipped (nothing written); live Version 2, CachedVersion 2`,
	`version 1: {Name:demo Index:1 Data:map[]}`,
	`version 2: {Name:demo Index:2 Data:map[owner:other client]}`,
	`latest (no I/O) -> {Name:demo Index:2 Data:map[owner:other client]}, version 2`,
	`configstore delete example_config -> removed: true; watcher: deleted example_config; the key left the cache`,
	`configstore closed (the kv.Store stays open); fetch after Close -> kv.ErrClosed`,
	`demo finished: all 17 steps passed`,
}

// checkConfigSection checks that out holds configLines in order, and that
// the outside write was made by writer.
func checkConfigSection(t *testing.T, out, writer string) {
	t.Helper()
	if want := "the other client (" + writer + ") writes version 2"; !strings.Contains(out, want) {
		t.Errorf("demo output lacks %q:\n%s", want, out)
	}
	rest := out
	for _, want := range configLines {
		i := strings.Index(rest, want)
		if i < 0 {
			t.Errorf("demo output lacks %q after the config section's earlier lines:\n%s", want, out)
			return
		}
		rest = rest[i+len(want):]
	}
}

func TestDemoOnMemory(t *testing.T) {
	r := (&cli{}).run(t, "demo")
	r.want(t, exitOK, "in-memory store", "stored as {\"user_id\": 1, \"name\": \"Alice\"}",
		"user:broken failed: Failed to decode JSON", " 8. watch user:* -> resync, then set user:3")
	if strings.Contains(r.stdout, "skipped:") || strings.Contains(r.stdout, "connecting") || r.stderr != "" {
		t.Errorf("demo on memory:\n%s\nstderr: %s", r.stdout, r.stderr)
	}
	checkConfigSection(t, r.stdout, "kv.Historian.Append on the kv.Store directly")
}

func TestDemoOnRedis(t *testing.T) {
	srv := redistest.New(t)
	for _, tt := range []struct{ backend, want string }{
		{"", "through go-redis"},
		{"rueidis", "through rueidis, with client-side caching"},
	} {
		args := []string{"demo", "-redis", srv.Addr()}
		if tt.backend != "" {
			args = append(args, "-backend", tt.backend)
		}
		r := (&cli{}).run(t, args...)
		r.want(t, exitOK, "connecting to Redis at "+srv.Addr(), tt.want, "watch user:* -> resync, then set user:3")
		checkConfigSection(t, r.stdout, "another Redis client on its own connection, RPUSH")
	}
}

// TestDemoWithoutKeyspaceEvents checks that on a server without keyspace
// events the demo says which steps it skipped and the fix, once, counts
// them, does not say all is well, and exits 5; with the fix, all passes.
func TestDemoWithoutKeyspaceEvents(t *testing.T) {
	srv := redistest.Start(t, &redistest.Options{Args: []string{"--notify-keyspace-events", ""}})
	for _, backend := range []string{"goredis", "rueidis"} {
		r := (&cli{}).run(t, "demo", "-redis", srv.Addr(), "-backend", backend)
		r.want(t, exitIncomplete,
			" 7. session set with a 300ms TTL",
			" 8. watch: skipped: the server sends no keyspace events (notify-keyspace-events lacks classes a watch needs); "+
				"fix: -enable-keyspace-events, or CONFIG SET notify-keyspace-events KEA on the server\n",
			" 9. config history: version 2 is",
			"11. config store: open and update: skipped: as step 8\n",
			"12-17. config store: fetch, watch, identical update, history, delete, close: skipped: needs the config store (step 11)\n",
			"demo incomplete: 17 steps: 9 passed, 8 skipped\n",
			"skipped: watch (step 8), config store (steps 11-17)\n",
			"to run them: -enable-keyspace-events, or CONFIG SET notify-keyspace-events KEA on the server\n")
		if strings.Contains(r.stdout, "all 17 steps passed") || strings.Contains(r.stdout, "lacks the classes") ||
			strings.Count(r.stdout, "fix: ") != 1 || r.stderr != "" {
			t.Errorf("demo on %s without keyspace events:\n%s\nstderr: %s", backend, r.stdout, r.stderr)
		}
		t.Logf("demo on %s without keyspace events:\n%s", backend, r.stdout)
	}
	r := (&cli{}).run(t, "demo", "-redis", srv.Addr(), "-enable-keyspace-events")
	r.want(t, exitOK, "watch user:* -> resync, then set user:3")
	checkConfigSection(t, r.stdout, "another Redis client on its own connection, RPUSH")
}

// TestCredentials checks what a refused login, a missing password and a
// server that does not answer say, for both Redis backends and for the
// demo and the other commands alike: the cause, the flag or variable that
// fixes it, exit code 3, and never the password.
func TestCredentials(t *testing.T) {
	const password, userPassword, wrong = "srv-pw-4d2e", "alice-pw-81c3", "wrong-pw-93f1"
	srv := redistest.Start(t, &redistest.Options{Password: password})
	srv.MustDo("ACL", "SETUSER", "alice", "on", ">"+userPassword, "~*", "&*", "+@all")
	srv.MustDo("ACL", "SETUSER", "dave", "on", ">"+userPassword, "~*", "resetchannels", "+@all")
	proxy := redistest.StartProxy(t, srv.Addr())
	proxy.Blackhole()
	for _, backend := range []string{"goredis", "rueidis"} {
		for _, tt := range []struct {
			name  string
			env   string
			args  []string
			wants []string
		}{
			{"wrong password", wrong, nil, []string{
				"storekit: cannot use Redis at " + srv.Addr() + ": the server refused the password of the default user\n",
				"fix: check $STOREKIT_REDIS_PASSWORD (and -user, for an ACL user)\n"}},
			{"unknown user", userPassword, []string{"-user", "bob"}, []string{
				`the server refused user "bob" with the password given (no such user, a wrong password, or the user is off)`,
				"fix: check -user and $STOREKIT_REDIS_PASSWORD\n"}},
			{"user's wrong password", wrong, []string{"-user", "alice"}, []string{`the server refused user "alice"`}},
			{"no password", "", nil, []string{"the server requires a password\n", "fix: set $STOREKIT_REDIS_PASSWORD"}},
			{"no answer", password, []string{"-redis", proxy.Addr(), "-timeout", "1s"}, []string{
				"cannot use Redis at " + proxy.Addr() + ": no answer in time\n",
				"fix: check -redis (default localhost:6379) and that the server is up, or raise -timeout\n"}},
		} {
			for _, command := range [][]string{{"demo"}, {"get", "k"}} {
				c := &cli{env: map[string]string{envPassword: tt.env}}
				args := append([]string{"-backend", backend, "-redis", srv.Addr()}, tt.args...)
				r := c.run(t, append(args, command...)...)
				r.wantErr(t, exitBackend, tt.wants...)
				all := r.stdout + r.stderr
				if strings.Count(r.stderr, "storekit:") != 1 || strings.Contains(all, password) ||
					strings.Contains(all, userPassword) || strings.Contains(all, wrong) {
					t.Errorf("%s, %s %q:\n%s%s", backend, tt.name, command, r.stdout, r.stderr)
				}
			}
		}
		c := &cli{env: map[string]string{envPassword: userPassword}}
		c.run(t, "-backend", backend, "-redis", srv.Addr(), "-user", "alice", "get", "k").wantErr(t, exitNotFound, "k: not found")
		c.run(t, "-backend", backend, "-redis", srv.Addr(), "-user", "alice", "demo").want(t, exitOK, "demo finished: all 17 steps passed")

		// A user who may not subscribe to the keyspace event channels.
		const fix = "fix: ACL SETUSER dave allchannels (an ACL matches the patterns a watch subscribes to literally)"
		args := []string{"-backend", backend, "-redis", srv.Addr(), "-user", "dave"}
		c.run(t, append(args, "demo")...).want(t, exitBackend, " 8. watch: FAILED: ", "; "+fix+"\n",
			"demo failed: 17 steps: 7 passed, 0 skipped, 1 failed (watch), 9 not run\n")
		c.run(t, append(args, "watch", "x*")...).wantErr(t, exitBackend, "NOPERM", "\n"+fix+"\n")
		c.run(t, append(args, "config", "get", "x")...).wantErr(t, exitBackend, "\n"+fix+"\n")
	}
}

// TestURL checks -url and $STOREKIT_URL on both Redis backends: the URL's
// user, password and database are used, the password is never printed, a
// refused login names the URL as the fix, and a bad URL or one given with
// -redis is a usage error.
func TestURL(t *testing.T) {
	const password, wrong = "url-pw-5b7a", "wrong-url-pw-0c2d"
	srv := redistest.Start(t, &redistest.Options{Password: password})
	srv.MustDo("ACL", "SETUSER", "carol", "on", ">"+password, "~*", "&*", "+@all")
	url := "redis://carol:" + password + "@" + srv.Addr() + "/3"
	for _, backend := range []string{"goredis", "rueidis"} {
		p := testPrefix()
		c := &cli{}
		c.run(t, "-backend", backend, "-url", url, "set", p+"k", "v").want(t, exitOK)
		if got := srv.MustDo("EVAL", "redis.call('SELECT', 3) return redis.call('GET', KEYS[1])", "1", p+"k"); got != "v" {
			t.Errorf("%s: the key in database 3 holds %v, want v", backend, got)
		}
		env := &cli{env: map[string]string{envURL: url}}
		env.run(t, "-backend", backend, "get", p+"k").want(t, exitOK, "v")
		env.run(t, "-backend", backend, "stats").want(t, exitOK, "redis://carol:xxxxx@"+srv.Addr()+"/3")

		bad := "redis://carol:" + wrong + "@" + srv.Addr() + "/3"
		for _, r := range []ran{
			c.run(t, "-backend", backend, "-url", bad, "get", p+"k"),
			c.run(t, "-backend", backend, "-url", bad, "-timeout", "5s", "demo"),
		} {
			r.wantErr(t, exitBackend, `the server refused user "carol"`, "fix: check the URL's user and password\n")
			if all := r.stdout + r.stderr; strings.Contains(all, wrong) || strings.Contains(all, password) {
				t.Errorf("%s: printed a password:\n%s", backend, all)
			}
		}
	}
	c := &cli{}
	r := c.run(t, "-url", "redis://u:"+wrong+"@host:6379/x", "get", "k")
	r.wantErr(t, exitUsage, "-url: ", "xxxxx")
	if strings.Contains(r.stderr, wrong) {
		t.Errorf("a bad URL's error printed its password: %s", r.stderr)
	}
	c.run(t, "-url", url, "-redis", srv.Addr(), "get", "k").wantErr(t, exitUsage, "give -redis, -db and -user only without it")
	c.run(t, "-backend", "memory", "-url", url, "get", "k").wantErr(t, exitUsage, "given with -backend memory")
}
