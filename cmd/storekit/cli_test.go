package main

import (
	"bufio"
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"io"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/cledar/storekit/backends/memory"
	"github.com/cledar/storekit/internal/redistest"
)

// A cli runs command lines in-process, as main does, with an environment of
// its own and, on memory, one store shared by every run.
type cli struct {
	env map[string]string
	// mem, when set, is the store of every run on memory.
	mem   *memory.Store
	stdin string
}

// A ran is what one command line printed, and its exit code.
type ran struct {
	stdout, stderr string
	code           int
}

func (c *cli) app(stdout, stderr io.Writer) *app {
	a := &app{stdin: strings.NewReader(c.stdin), stdout: stdout, stderr: stderr, open: openStore,
		getenv: func(name string) string { return c.env[name] }}
	if c.mem != nil {
		a.open = func(ctx context.Context, conn connection, def string, status func(string)) (*opened, error) {
			if err := conn.check("memory"); err != nil {
				return nil, err
			}
			return &opened{Store: c.mem, kind: "memory", name: "the in-memory store", close: func() error { return nil }}, nil
		}
	}
	return a
}

// run runs args, bounded in time so that a hang fails the test.
func (c *cli) run(t *testing.T, args ...string) ran {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	var out, errOut bytes.Buffer
	code := c.app(&out, &errOut).run(ctx, args)
	return ran{out.String(), errOut.String(), code}
}

// want fails the test unless r exited with code and its standard output
// holds each of wants.
func (r ran) want(t *testing.T, code int, wants ...string) {
	t.Helper()
	r.check(t, code, "stdout", r.stdout, wants)
}

// wantErr fails the test unless r exited with code and its standard error
// holds each of wants.
func (r ran) wantErr(t *testing.T, code int, wants ...string) {
	t.Helper()
	r.check(t, code, "stderr", r.stderr, wants)
}

func (r ran) check(t *testing.T, code int, name, got string, wants []string) {
	t.Helper()
	if r.code != code {
		t.Errorf("exit code %d, want %d\nstdout:\n%s\nstderr:\n%s", r.code, code, r.stdout, r.stderr)
	}
	for _, w := range wants {
		if !strings.Contains(got, w) {
			t.Errorf("%s lacks %q:\nstdout:\n%s\nstderr:\n%s", name, w, r.stdout, r.stderr)
		}
	}
}

// lines returns the lines of r's standard output, sorted.
func (r ran) lines() []string {
	lines := strings.Split(strings.TrimSuffix(r.stdout, "\n"), "\n")
	slices.Sort(lines)
	return lines
}

// A target is a store the commands run against: its flags, and a way to
// write to it as another client would.
type target struct {
	name string
	cli  *cli
	// flags select the store.
	flags []string
	// set and push write a value and append a version, as another client.
	set  func(t *testing.T, key, value string)
	push func(t *testing.T, key, value string)
}

func (tg target) run(t *testing.T, args ...string) ran {
	t.Helper()
	return tg.cli.run(t, append(slices.Clone(tg.flags), args...)...)
}

// targets names the stores the commands' tests run on, each in a subtest
// of its own that makes it with newTarget: memory and, unless -short,
// goredis and rueidis on a Redis server and postgres.
func targets() []string {
	if testing.Short() {
		return []string{"memory"}
	}
	return []string{"memory", "goredis", "rueidis", "postgres"}
}

// newTarget returns the target of the backend name, on a server of t's own
// (Redis) or in a schema of t's own (PostgreSQL). Without the server, it
// skips t, or fails it with STOREKIT_REQUIRE_REDIS=1 or
// STOREKIT_REQUIRE_POSTGRES=1.
func newTarget(t *testing.T, name string) target {
	switch name {
	case "memory":
		mem := memory.New(nil)
		t.Cleanup(func() { _ = mem.Close() })
		return target{
			name: name, cli: &cli{mem: mem}, flags: []string{"-backend", "memory"},
			set: func(t *testing.T, key, value string) {
				if err := mem.Set(context.Background(), key, []byte(value)); err != nil {
					t.Fatal(err)
				}
			},
			push: func(t *testing.T, key, value string) {
				if _, err := mem.Append(context.Background(), key, []byte(value)); err != nil {
					t.Fatal(err)
				}
			},
		}
	case "postgres":
		return postgresTarget(t)
	}
	srv := redistest.New(t)
	return target{
		name: name, cli: &cli{}, flags: []string{"-backend", name, "-redis", srv.Addr()},
		set:  func(t *testing.T, key, value string) { srv.MustDo("SET", key, value) },
		push: func(t *testing.T, key, value string) { srv.MustDo("RPUSH", key, value) },
	}
}

// testPrefix returns a prefix of keys of the test's own, for a shared server.
func testPrefix() string {
	var b [4]byte
	_, _ = rand.Read(b[:])
	return "storekit-cli-test:" + hex.EncodeToString(b[:]) + ":"
}

// decodeRecords reads JSON lines.
func decodeRecords(t *testing.T, out string) []map[string]any {
	t.Helper()
	var recs []map[string]any
	for line := range strings.Lines(out) {
		var rec map[string]any
		if err := json.Unmarshal([]byte(line), &rec); err != nil {
			t.Fatalf("line %q is not JSON: %v", line, err)
		}
		recs = append(recs, rec)
	}
	return recs
}

func TestGetSetDel(t *testing.T) {
	for _, name := range targets() {
		t.Run(name, func(t *testing.T) {
			tg := newTarget(t, name)
			p := testPrefix()
			tg.run(t, "set", p+"user:1", `{"name": "Alice", "score": 1.0}`).want(t, exitOK)
			if r := tg.run(t, "get", p+"user:1"); r.code != exitOK || r.stdout != `{"name": "Alice", "score": 1.0}` {
				t.Errorf("get = %q, exit %d (%s); want the value's bytes, 0", r.stdout, r.code, r.stderr)
			}
			tg.run(t, "get", p+"user:1", "-decode").want(t, exitOK, "{\n  \"name\": \"Alice\",\n  \"score\": 1.0\n}\n")
			tg.run(t, "-o", "json", "get", "-json", p+"user:1").
				want(t, exitOK, `{"key":"`+p+`user:1","json":{"name":"Alice","score":1.0}}`+"\n")
			tg.run(t, "get", p+"user:404").wantErr(t, exitNotFound, p+"user:404: not found")

			tg.set(t, p+"greeting", "hello")
			tg.run(t, "get", "-decode", p+"greeting").wantErr(t, exitFailed, "not JSON", "fix: read it without -decode")

			// Binary values through standard input come back as base64.
			bin := &cli{mem: tg.cli.mem, stdin: "\xff\x00<&>"}
			bin.run(t, append(slices.Clone(tg.flags), "set", p+"bin", "-")...).want(t, exitOK)
			tg.run(t, "get", p+"bin", "-o", "json").want(t, exitOK, `{"key":"`+p+`bin","value":"/wA8Jj4=","encoding":"base64"}`)
			tg.run(t, "get", p+"greeting", "-o", "json").want(t, exitOK, `"value":"hello","encoding":"utf8"`)

			tg.run(t, "del", p+"bin").want(t, exitOK)
			tg.run(t, "del", p+"bin").wantErr(t, exitNotFound, "not found")
			tg.run(t, "get", p+"bin").wantErr(t, exitNotFound)

			tg.run(t, "set", "-ttl", "1h", p+"session", "token").want(t, exitOK)
			r := tg.run(t, "-o", "json", "ttl", p+"session")
			var rec struct {
				TTL int64 `json:"ttl_ms"`
			}
			if err := json.Unmarshal([]byte(r.stdout), &rec); r.code != exitOK || err != nil || rec.TTL <= 0 || rec.TTL > 3600_000 {
				t.Errorf("ttl of a key set with -ttl 1h = %q, exit %d, %v", r.stdout, r.code, err)
			}
			tg.run(t, "ttl", p+"greeting").want(t, exitOK, "no expiry\n")
			tg.run(t, "ttl", p+"nothing").wantErr(t, exitNotFound)
		})
	}
}

func TestKeys(t *testing.T) {
	for _, name := range targets() {
		t.Run(name, func(t *testing.T) {
			tg := newTarget(t, name)
			p := testPrefix()
			for _, k := range []string{"user:1", "user:2", "user:10", "order:1", "users"} {
				tg.set(t, p+k, "v")
			}
			if got, want := tg.run(t, "keys", p+"user:?").lines(), []string{p + "user:1", p + "user:2"}; !slices.Equal(got, want) {
				t.Errorf("keys user:? = %q, want %q", got, want)
			}
			r := tg.run(t, "-o", "json", "keys", p+"user:*")
			var got []string
			for _, rec := range decodeRecords(t, r.stdout) {
				got = append(got, rec["key"].(string))
			}
			slices.Sort(got)
			if want := []string{p + "user:1", p + "user:10", p + "user:2"}; r.code != exitOK || !slices.Equal(got, want) {
				t.Errorf("keys -o json user:* = %q, exit %d; want %q", got, r.code, want)
			}
			if r := tg.run(t, "keys", p+"nothing:*"); r.code != exitOK || r.stdout != "" {
				t.Errorf("keys of no match = %q, exit %d; want nothing, 0", r.stdout, r.code)
			}
		})
	}
}

// watchLines runs args in the background and returns its standard output's
// lines as they come, and its exit code once it ends.
func watchLines(t *testing.T, c *cli, args ...string) (<-chan string, <-chan int) {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	pr, pw := io.Pipe()
	var errOut bytes.Buffer
	lines, code := make(chan string, 16), make(chan int, 1)
	go func() {
		code <- c.app(pw, &errOut).run(ctx, args)
		_ = pw.Close()
	}()
	go func() {
		defer close(lines)
		sc := bufio.NewScanner(pr)
		for sc.Scan() {
			lines <- sc.Text()
		}
	}()
	t.Cleanup(func() {
		cancel()
		for range lines {
		}
	})
	return lines, code
}

// next returns the next line, failing the test after a generous bound.
func next(t *testing.T, lines <-chan string) string {
	t.Helper()
	select {
	case l, ok := <-lines:
		if !ok {
			t.Fatal("the command ended early")
		}
		return l
	case <-time.After(30 * time.Second):
		t.Fatal("no line within 30s")
	}
	return ""
}

func TestWatch(t *testing.T) {
	for _, name := range targets() {
		t.Run(name, func(t *testing.T) {
			tg := newTarget(t, name)
			p := testPrefix()
			lines, code := watchLines(t, tg.cli, append(slices.Clone(tg.flags), "-o", "json", "watch", p+"user:*", "-n", "2")...)
			if l := next(t, lines); !strings.Contains(l, `"op":"resync"`) {
				t.Fatalf("first line %q, want the resync that says the watch is live", l)
			}
			tg.set(t, p+"other", "v") // does not match
			tg.set(t, p+"user:1", "v")
			tg.push(t, p+"user:2", "v")
			for _, want := range []string{`"op":"set","key":"` + p + `user:1"`, `"op":"append","key":"` + p + `user:2"`} {
				if l := next(t, lines); !strings.Contains(l, want) || !strings.Contains(l, `"time":"`) {
					t.Errorf("line %q, want %s with its time", l, want)
				}
			}
			if c := <-code; c != exitOK {
				t.Errorf("watch -n 2 exited %d, want 0", c)
			}
		})
	}
}

func TestWatchFor(t *testing.T) {
	c := &cli{mem: memory.New(nil)}
	defer c.mem.Close()
	// A second: long enough for the watch's first event on a busy machine.
	if r := c.run(t, "watch", "-for", "1s", "x*"); r.code != exitOK || r.stdout != "" || !strings.Contains(r.stderr, "watching x*") {
		t.Errorf("watch -for 1s = %q, %q, exit %d; want nothing printed but the watch, 0", r.stdout, r.stderr, r.code)
	}
}

func TestConfig(t *testing.T) {
	for _, name := range targets() {
		t.Run(name, func(t *testing.T) {
			tg := newTarget(t, name)
			p := testPrefix()
			for i := 1; i <= 3; i++ {
				tg.push(t, p+"cfg:flags", `{"beta": `+strings.Repeat("1", i)+`}`)
			}
			r := tg.run(t, "-o", "json", "config", "history", "-prefix", p+"cfg:", "flags")
			recs := decodeRecords(t, r.stdout)
			if r.code != exitOK || len(recs) != 3 {
				t.Fatalf("config history = %q, exit %d (%s); want 3 versions", r.stdout, r.code, r.stderr)
			}
			for i, rec := range recs {
				want := map[string]any{"key": "flags", "version": float64(i + 1), "value": `{"beta": ` + strings.Repeat("1", i+1) + `}`, "encoding": "utf8"}
				if !mapsEqual(rec, want) {
					t.Errorf("version %d: %v, want %v", i+1, rec, want)
				}
			}
			tg.run(t, "config", "history", "-prefix", p+"cfg:", "flags").
				want(t, exitOK, "VERSION  VALUE\n1        {\"beta\": 1}\n2        {\"beta\": 11}\n3        {\"beta\": 111}\n")
			tg.run(t, "config", "versions", "-prefix", p+"cfg:", "flags").want(t, exitOK, "flags: version 3\n")
			tg.run(t, "config", "get", "-prefix", p+"cfg:", "flags").want(t, exitOK, `{"beta": 111}`)
			tg.run(t, "-o", "json", "config", "get", "-prefix", p+"cfg:", "flags", "2", "-decode").
				want(t, exitOK, `{"key":"flags","version":2,"json":{"beta":11}}`)
			tg.run(t, "config", "get", "-prefix", p+"cfg:", "flags", "4").wantErr(t, exitNotFound, "flags version 4: not found")
			tg.run(t, "config", "versions", "-prefix", p+"cfg:", "nothing").wantErr(t, exitNotFound, "nothing: not found")
			tg.run(t, "config", "get", "-prefix", p+"cfg:", "flags", "zero").wantErr(t, exitUsage)
			tg.run(t, "get", p+"cfg:flags").wantErr(t, exitFailed, "fix: a history is read with 'storekit config get KEY'")
		})
	}
}

func mapsEqual(a, b map[string]any) bool {
	if len(a) != len(b) {
		return false
	}
	for k, v := range a {
		if b[k] != v {
			return false
		}
	}
	return true
}

func TestConfigWatch(t *testing.T) {
	for _, name := range targets() {
		t.Run(name, func(t *testing.T) {
			tg := newTarget(t, name)
			p := testPrefix()
			tg.push(t, p+"cfg:a", `{"v": 1}`)
			lines, code := watchLines(t, tg.cli, append(slices.Clone(tg.flags), "-o", "json", "config", "watch", "-prefix", p+"cfg:", "*", "-n", "2")...)
			if l := next(t, lines); !strings.Contains(l, `"op":"resync"`) {
				t.Fatalf("first line %q, want the resync that says the watch is live", l)
			}
			tg.push(t, p+"cfg:a", `{"v": 2}`)
			if l := next(t, lines); !strings.Contains(l, `"op":"updated","key":"a","version":2,"value":"{\"v\": 2}","encoding":"utf8"`) {
				t.Errorf("line %q, want a at version 2", l)
			}
			tg.push(t, p+"cfg:a", `{"v": 3}`)
			if l := next(t, lines); !strings.Contains(l, `"op":"updated","key":"a","version":3,`) {
				t.Errorf("line %q, want a at version 3", l)
			}
			if c := <-code; c != exitOK {
				t.Errorf("config watch -n 2 exited %d, want 0", c)
			}
		})
	}
}

func TestUsage(t *testing.T) {
	c := &cli{mem: memory.New(nil)}
	defer c.mem.Close()
	for _, args := range [][]string{
		{},
		{"nonsense"},
		{"-bogus", "get", "k"},
		{"get", "k", "-bogus"},
		{"get"},
		{"get", "a", "b"},
		{"set", "k"},
		{"config"},
		{"config", "nonsense", "k"},
		{"-o", "yaml", "get", "k"},
		{"-backend", "cassandra", "get", "k"},
		{"-redis", "no-port", "get", "k"},
		{"-backend", "memory", "-redis", "localhost:6379", "get", "k"},
		{"demo", "extra"},
		{"watch", "-n", "-1", "x"},
		// PostgreSQL: a URL of its own, none of the Redis flags.
		{"-backend", "postgres", "get", "k"},
		{"-backend", "postgres", "-url", "redis://localhost:6379", "get", "k"},
		{"-backend", "goredis", "-url", "postgres://app@localhost/app", "get", "k"},
		{"-backend", "rueidis", "-url", "postgresql://app@localhost/app", "demo"},
		{"-url", "postgres://app@localhost/app", "-redis", "localhost:6379", "get", "k"},
		{"-url", "postgres://app@localhost/app", "-db", "1", "get", "k"},
		{"-url", "postgres://app@localhost/app", "-user", "alice", "get", "k"},
		{"-url", "postgres://app@localhost/app", "-enable-keyspace-events", "watch", "x"},
		{"-pg-schema", "app", "get", "k"},
		{"-backend", "memory", "-pg-create", "demo"},
		{"demo", "-redis", "localhost:6379", "-pg-table", "kv"},
	} {
		r := c.run(t, args...)
		if r.code != exitUsage || !strings.Contains(r.stderr, "Run 'storekit -h' for usage.") || strings.Count(r.stderr, "storekit:") != 1 {
			t.Errorf("run(%q) exited %d, stderr %q; want 2 and one error", args, r.code, r.stderr)
		}
	}
	r := (&cli{}).run(t, "-h")
	r.want(t, exitOK, "get KEY", "config history KEY", "-redis host:port", "(default localhost:6379)", "Exit codes:",
		"1  not found", "3  the store could not be used")
	(&cli{}).run(t, "config", "get", "-h").want(t, exitOK, "usage: storekit config get KEY [VERSION]", "-prefix")
}

// TestUserWithoutPassword checks that -user without a password is a usage
// error that says where the password goes.
func TestUserWithoutPassword(t *testing.T) {
	(&cli{}).run(t, "-user", "alice", "get", "k").wantErr(t, exitUsage, "-user alice needs a password: set $STOREKIT_REDIS_PASSWORD")
}

func TestParseArgs(t *testing.T) {
	a := &app{}
	for _, tt := range []struct {
		args, pos []string
		output    string
	}{
		{[]string{"k", "-o", "json"}, []string{"k"}, "json"},
		{[]string{"-o", "json", "k", "v"}, []string{"k", "v"}, "json"},
		{[]string{"k", "--", "-o", "json"}, []string{"k", "-o", "json"}, "text"},
		{[]string{"k", "-"}, []string{"k", "-"}, "text"},
	} {
		a.output = "text"
		fs := a.flagSet("t")
		pos, err := parseArgs(fs, tt.args)
		if err != nil || !slices.Equal(pos, tt.pos) || a.output != tt.output {
			t.Errorf("parseArgs(%q) = %q, -o %s, %v; want %q, -o %s", tt.args, pos, a.output, err, tt.pos, tt.output)
		}
	}
}

func TestStats(t *testing.T) {
	for _, name := range targets() {
		t.Run(name, func(t *testing.T) {
			tg := newTarget(t, name)
			p := testPrefix()
			tg.set(t, p+"k", "v")
			tg.run(t, "get", p+"k").want(t, exitOK)
			r := tg.run(t, "-o", "json", "stats")
			recs := decodeRecords(t, r.stdout)
			if r.code != exitOK || len(recs) != 1 || recs[0]["backend"] != tg.name ||
				!strings.Contains(recs[0]["capabilities"].(string), "Watcher") {
				t.Fatalf("stats = %q, exit %d", r.stdout, r.code)
			}
			if _, ok := recs[0]["cache_hits"]; ok != (tg.name == "rueidis") {
				t.Errorf("stats of %s: cache counters %v, want them for rueidis only", tg.name, ok)
			}
			if _, ok := recs[0]["watch_resyncs"]; !ok {
				t.Errorf("stats of %s lack the watch counters: %q", tg.name, r.stdout)
			}
			// On memory every run shares one store, which counted the get.
			if n, _ := recs[0]["ops_get"].(float64); tg.name == "memory" && n < 1 {
				t.Errorf("stats of memory after a get: ops_get %v", recs[0]["ops_get"])
			}
			if r := tg.run(t, "stats"); r.code != exitOK || !regexp.MustCompile(`(?m)^backend +`+tg.name+`$`).MatchString(r.stdout) {
				t.Errorf("stats = %q, exit %d; want the backend, aligned", r.stdout, r.code)
			}
		})
	}
}
