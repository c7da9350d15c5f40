package configstore_test

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/cledar/storekit/backends/goredis"
	"github.com/cledar/storekit/backends/redisconf"
	"github.com/cledar/storekit/backends/rueidiskv"
	"github.com/cledar/storekit/codec"
	"github.com/cledar/storekit/configstore"
	"github.com/cledar/storekit/internal/backendtest"
	"github.com/cledar/storekit/internal/redistest"
	"github.com/cledar/storekit/internal/rediswatch"
	"github.com/cledar/storekit/kv"
)

// The tests in this file run package configstore on real Redis, through
// both Redis backends. Every test, and every subtest of the shared suite,
// gets a redis-server of its own from redistest.Start: the suite uses
// fixed key names, and the fault tests kill connections, restart the server
// or change its configuration. The outside writer is redistest's own RESP
// client (a new connection per command), and for goredis also redis-cli.

// A redisKind opens a store of one Redis backend over a server.
type redisKind struct {
	name string
	// open returns a kv.Store over srv, closed at the test's cleanup, with
	// the backend options o.
	open func(t *testing.T, srv *redistest.Server, o redisOptions) kv.Store
	// cli makes the suite's writer use redis-cli for Set, Push and Del.
	cli bool
}

// redisOptions are the backend options a test sets; both backends have
// them.
type redisOptions struct {
	enableKeyspaceEvents bool
	watchBuffer          int
}

var redisKinds = []redisKind{
	{name: "goredis", open: redisOpenGoredis, cli: true},
	{name: "rueidis", open: redisOpenRueidis},
}

// redisOpenGoredis returns a goredis store over a go-redis client of its
// own, which its Close closes.
func redisOpenGoredis(t *testing.T, srv *redistest.Server, o redisOptions) kv.Store {
	t.Helper()
	s := goredis.New(redis.NewClient(&redis.Options{Addr: srv.Addr()}),
		&goredis.Options{CloseClient: true, EnableKeyspaceEvents: o.enableKeyspaceEvents, WatchBuffer: o.watchBuffer})
	t.Cleanup(func() { _ = s.Close() })
	return s
}

// redisOpenRueidis returns a rueidiskv store made by Dial, with its
// client-side cache on (the default).
func redisOpenRueidis(t *testing.T, srv *redistest.Server, o redisOptions) kv.Store {
	t.Helper()
	host, portText, err := net.SplitHostPort(srv.Addr())
	if err != nil {
		t.Fatal(err)
	}
	port, err := strconv.Atoi(portText)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
	defer cancel()
	s, err := rueidiskv.Dial(ctx, rueidiskv.Config{Host: host, Port: port},
		&rueidiskv.Options{Options: redisconf.Options{EnableKeyspaceEvents: o.enableKeyspaceEvents, WatchBuffer: o.watchBuffer}})
	if err != nil {
		t.Fatalf("rueidiskv.Dial(%s): %v", srv.Addr(), err)
	}
	t.Cleanup(func() { _ = s.Close() })
	return s
}

// redisDo runs one command on srv through redistest's RESP client, failing
// t on any error, error replies included.
func redisDo(t *testing.T, srv *redistest.Server, args ...string) any {
	t.Helper()
	v, err := srv.Do(args...)
	if err != nil {
		t.Fatalf("redis %s: %v", strings.Join(args, " "), err)
	}
	return v
}

// redisInt runs a command whose reply is an integer.
func redisInt(t *testing.T, srv *redistest.Server, args ...string) int64 {
	t.Helper()
	v := redisDo(t, srv, args...)
	n, ok := v.(int64)
	if !ok {
		t.Fatalf("redis %s = %#v, want an integer", strings.Join(args, " "), v)
	}
	return n
}

// redisOK runs a command whose reply is OK.
func redisOK(t *testing.T, srv *redistest.Server, args ...string) {
	t.Helper()
	if v := redisDo(t, srv, args...); v != "OK" {
		t.Fatalf("redis %s = %#v, want OK", strings.Join(args, " "), v)
	}
}

// redisCLIPath returns the path of redis-cli. Without one the test is
// skipped, or fails when STOREKIT_REQUIRE_REDIS=1.
func redisCLIPath(t *testing.T) string {
	t.Helper()
	path, err := exec.LookPath("redis-cli")
	if err == nil {
		return path
	}
	msg := fmt.Sprintf("this test writes with redis-cli, which is not on PATH: %v", err)
	if os.Getenv(redistest.EnvRequire) == "1" {
		t.Fatalf("%s (%s=1 requires it)", msg, redistest.EnvRequire)
	}
	t.Skipf("SKIPPED, NO REDIS-CLI: %s (set %s=1 to make this a failure)", msg, redistest.EnvRequire)
	return ""
}

// redisCLI runs redis-cli against srv with args as one command and returns
// its output, trimmed. An error reply fails t: redis-cli prints it and,
// depending on its version, may still exit with 0, so the caller checks
// the output too.
func redisCLI(t *testing.T, cli string, srv *redistest.Server, args ...string) string {
	t.Helper()
	host, port, err := net.SplitHostPort(srv.Addr())
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(cli, append([]string{"-h", host, "-p", port}, args...)...)
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Run(); err != nil {
		t.Fatalf("redis-cli %s: %v: %s", strings.Join(args, " "), err, out.String())
	}
	return strings.TrimSpace(out.String())
}

// redisCLIInt runs redis-cli for a command whose reply is an integer.
func redisCLIInt(t *testing.T, cli string, srv *redistest.Server, args ...string) {
	t.Helper()
	out := redisCLI(t, cli, srv, args...)
	if _, err := strconv.ParseInt(out, 10, 64); err != nil {
		t.Fatalf("redis-cli %s printed %q, want an integer", strings.Join(args, " "), out)
	}
}

// redisWriter returns the suite's outside writer for srv: redistest's RESP
// client, and redis-cli for Set, Push and Del when cli is set.
func redisWriter(srv *redistest.Server, cli string) writer {
	w := writer{
		Set:  func(t *testing.T, key, value string) { redisOK(t, srv, "SET", key, value) },
		Push: func(t *testing.T, key, value string) { redisInt(t, srv, "RPUSH", key, value) },
		Del:  func(t *testing.T, key string) { redisInt(t, srv, "DEL", key) },
		Expire: func(t *testing.T, key string) {
			if n := redisInt(t, srv, "PEXPIRE", key, "1"); n != 1 {
				t.Fatalf("PEXPIRE %s 1 = %d: the key does not exist", key, n)
			}
		},
		LSet: func(t *testing.T, key string, index int, value string) {
			redisOK(t, srv, "LSET", key, strconv.Itoa(index), value)
		},
		HSet: func(t *testing.T, key, field, value string) { redisInt(t, srv, "HSET", key, field, value) },
	}
	if cli != "" {
		w.Set = func(t *testing.T, key, value string) {
			if out := redisCLI(t, cli, srv, "SET", key, value); out != "OK" {
				t.Fatalf("redis-cli SET %s printed %q, want OK", key, out)
			}
		}
		w.Push = func(t *testing.T, key, value string) { redisCLIInt(t, cli, srv, "RPUSH", key, value) }
		w.Del = func(t *testing.T, key string) { redisCLIInt(t, cli, srv, "DEL", key) }
	}
	return w
}

// redisBackend is the suite's backend for kind: each store gets a fresh
// redis-server.
func redisBackend(kind redisKind) backend {
	return backend{New: func(t *testing.T) (kv.Store, writer) {
		cli := ""
		if kind.cli {
			cli = redisCLIPath(t)
		}
		srv := redistest.Start(t, nil)
		return kind.open(t, srv, redisOptions{}), redisWriter(srv, cli)
	}}
}

// TestRedisSuite runs the behaviour suite on real Redis through both
// backends.
func TestRedisSuite(t *testing.T) {
	for _, kind := range redisKinds {
		t.Run(kind.name, func(t *testing.T) { runSuite(t, redisBackend(kind)) })
	}
}

// redisRun runs f for each backend, in a subtest named after it.
func redisRun(t *testing.T, f func(t *testing.T, kind redisKind)) {
	for _, kind := range redisKinds {
		t.Run(kind.name, func(t *testing.T) { f(t, kind) })
	}
}

// redisWaitSubscribed waits until some client of srv holds a pattern
// subscription (the store's watch, in these tests).
func redisWaitSubscribed(t *testing.T, srv *redistest.Server) {
	t.Helper()
	backendtest.Eventually(t, "the watch subscribes", func() error {
		if n := redisInt(t, srv, "PUBSUB", "NUMPAT"); n < 1 {
			return errors.New("no pattern subscription")
		}
		return nil
	})
}

// redisKillPubsub kills the pub/sub connections of srv and fails t unless
// there was one.
func redisKillPubsub(t *testing.T, srv *redistest.Server) {
	t.Helper()
	if n := redisInt(t, srv, "CLIENT", "KILL", "TYPE", "pubsub"); n < 1 {
		t.Fatalf("CLIENT KILL TYPE pubsub killed %d connections, want at least 1", n)
	}
}

// redisPipeline sends cmds to srv on one new connection in a single write
// and returns their replies. The server runs them back to back, serving no
// other client in between, which lets a test kill a subscription and change
// keys before the subscriber can possibly have subscribed again. Only
// status and integer replies are expected; an error reply fails t.
func redisPipeline(t *testing.T, srv *redistest.Server, cmds ...[]string) []any {
	t.Helper()
	conn, err := net.DialTimeout("tcp", srv.Addr(), 10*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	if err := conn.SetDeadline(time.Now().Add(10 * time.Second)); err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	for _, args := range cmds {
		fmt.Fprintf(&buf, "*%d\r\n", len(args))
		for _, a := range args {
			fmt.Fprintf(&buf, "$%d\r\n%s\r\n", len(a), a)
		}
	}
	if _, err := conn.Write(buf.Bytes()); err != nil {
		t.Fatal(err)
	}
	r := bufio.NewReader(conn)
	replies := make([]any, len(cmds))
	for i, args := range cmds {
		line, err := r.ReadString('\n')
		if err != nil {
			t.Fatalf("pipeline reply to %s: %v", strings.Join(args, " "), err)
		}
		line = strings.TrimSuffix(line, "\r\n")
		switch {
		case strings.HasPrefix(line, ":"):
			n, err := strconv.ParseInt(line[1:], 10, 64)
			if err != nil {
				t.Fatalf("pipeline reply to %s: %q", strings.Join(args, " "), line)
			}
			replies[i] = n
		case strings.HasPrefix(line, "+"):
			replies[i] = line[1:]
		default:
			t.Fatalf("pipeline reply to %s: %q", strings.Join(args, " "), line)
		}
	}
	return replies
}

// A redisState is the latest state of a history key on the server.
type redisState struct {
	version int64
	index   int
}

// redisLatest reads key's latest state with LLEN and LINDEX -1.
func redisLatest(t *testing.T, srv *redistest.Server, key string) redisState {
	t.Helper()
	n := redisInt(t, srv, "LLEN", key)
	raw, ok := redisDo(t, srv, "LINDEX", key, "-1").(string)
	if !ok || n < 1 {
		t.Fatalf("%s: LLEN %d, LINDEX -1 %q: not a history", key, n, raw)
	}
	v, err := codec.JSON[Conf](nil).Decode([]byte(raw))
	if err != nil {
		t.Fatalf("%s: latest entry %q: %v", key, raw, err)
	}
	return redisState{version: n, index: v.Index}
}

// TestRedisConvergence (R8): keys change continuously from outside while
// the store's subscription is killed, several times; once the writes stop,
// every watcher's last event and every Fetch reach the server's final state.
// The last kill is pipelined with a write of every key, so those changes
// are certainly made while nobody is subscribed: only the resync that
// follows the resubscription can bring them. The convergence time is
// logged (target: 2 s), and bounded only by a generous hang limit.
func TestRedisConvergence(t *testing.T) {
	redisRun(t, testRedisConvergence)
}

func testRedisConvergence(t *testing.T, kind redisKind) {
	const (
		prefix = "r8:"
		nKeys  = 20
		kills  = 3 // through Server.Do, with the writer running
		gap    = 150 * time.Millisecond
	)
	srv := redistest.Start(t, nil)
	c := open(t, kind.open(t, srv, redisOptions{}), &configstore.Options[Conf]{Prefix: prefix})

	keys := make([]string, nKeys)
	recs := make([]*recorder, nKeys)
	for i := range keys {
		keys[i] = fmt.Sprintf("k%02d", i)
		redisInt(t, srv, "RPUSH", prefix+keys[i], encoded(0))
		recs[i] = newRecorder()
		watch(t, c, keys[i], recs[i])
		wantFetch(t, c, keys[i], 1, 0)
	}

	// The writer appends to the keys in turn until told to stop, and
	// remembers when it sent its last write.
	var (
		writes    atomic.Int64
		lastWrite time.Time
		stop      = make(chan struct{})
		wg        sync.WaitGroup
	)
	wg.Go(func() {
		for i := 1; ; i++ {
			select {
			case <-stop:
				return
			default:
			}
			sent := time.Now()
			if _, err := srv.Do("RPUSH", prefix+keys[i%nKeys], encoded(i)); err != nil {
				t.Errorf("writer: %v", err)
				return
			}
			lastWrite = sent
			writes.Add(1)
		}
	})
	stopWriter := func() {
		select {
		case <-stop:
		default:
			close(stop)
		}
		wg.Wait()
	}
	defer stopWriter()

	for range kills {
		redisWaitSubscribed(t, srv)
		time.Sleep(gap)
		before := writes.Load()
		redisKillPubsub(t, srv)
		redisWaitSubscribed(t, srv)
		t.Logf("subscription killed; at most %d writes before it was back", writes.Load()-before)
	}
	redisWaitSubscribed(t, srv)
	time.Sleep(gap)
	// The last kill, with a change of every key right behind it.
	cmds := [][]string{{"CLIENT", "KILL", "TYPE", "pubsub"}}
	for i, k := range keys {
		cmds = append(cmds, []string{"RPUSH", prefix + k, encoded(-1 - i)})
	}
	pipelined := time.Now()
	if killed, _ := redisPipeline(t, srv, cmds...)[0].(int64); killed < 1 {
		t.Fatalf("the pipelined CLIENT KILL TYPE pubsub killed %d connections, want at least 1", killed)
	}
	stopWriter()
	if t.Failed() {
		t.FailNow()
	}
	last := lastWrite
	if pipelined.After(last) {
		last = pipelined
	}

	final := make([]redisState, nKeys)
	for i, k := range keys {
		final[i] = redisLatest(t, srv, prefix+k)
	}
	converged := func() error {
		for i, k := range keys {
			want := final[i]
			ev, ok := recs[i].last()
			if !ok || ev.Kind != configstore.Updated || ev.Version != want.version || ev.Value.Index != want.index {
				return fmt.Errorf("watcher of %s: last event %+v, want version %d index %d", k, ev, want.version, want.index)
			}
			if err := fetchIs(c, k, want.version, want.index)(); err != nil {
				return fmt.Errorf("%s: %w", k, err)
			}
		}
		return nil
	}
	waitConverged(t, converged)
	took := time.Since(last)
	t.Logf("R8 convergence (%s): %v from the last write to every watcher and Fetch at the server's state "+
		"(%d keys, %d writes, %d subscriptions killed; target 2s)", kind.name, took, nKeys, writes.Load()+nKeys, kills+1)
}

// TestRedisNotifyConfig (R9): on a server with notify-keyspace-events "Ex"
// (the Python README's setting, which delivers none of the events needed),
// New fails with an error that wraps kv.ErrNotSupported and names the
// missing classes and the fix, and leaves the setting alone; with the
// backend's EnableKeyspaceEvents option, New turns them on and events flow.
func TestRedisNotifyConfig(t *testing.T) {
	redisRun(t, testRedisNotifyConfig)
}

func testRedisNotifyConfig(t *testing.T, kind redisKind) {
	srv := redistest.Start(t, &redistest.Options{Args: []string{"--notify-keyspace-events", "Ex"}})
	ctx := backendtest.Context(t)
	notifySetting := func() string {
		t.Helper()
		v, _ := redisDo(t, srv, "CONFIG", "GET", "notify-keyspace-events").([]any)
		if len(v) != 2 {
			t.Fatalf("CONFIG GET notify-keyspace-events = %v", v)
		}
		return v[1].(string)
	}

	c, err := configstore.New[Conf](ctx, kind.open(t, srv, redisOptions{}), nil)
	if err == nil {
		_ = c.Close()
		t.Fatal(`New on a server with notify-keyspace-events "Ex" succeeded; want an error`)
	}
	if !errors.Is(err, kv.ErrNotSupported) {
		t.Errorf("New: %v; want an error wrapping kv.ErrNotSupported", err)
	}
	var nce *rediswatch.NotifyConfigError
	if !errors.As(err, &nce) || nce.Missing != "Kg$l" {
		t.Errorf("New: %v; want a NotifyConfigError missing Kg$l", err)
	}
	for _, want := range []string{"notify-keyspace-events", `"Kg$l"`, "CONFIG SET notify-keyspace-events KEA", "EnableKeyspaceEvents"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("New's error %q does not mention %s", err, want)
		}
	}
	if got := notifySetting(); got != "xE" {
		t.Errorf("notify-keyspace-events = %q after a failed New, want it left as xE", got)
	}

	// Opting in: New turns the missing classes on, and changes flow.
	c = open(t, kind.open(t, srv, redisOptions{enableKeyspaceEvents: true}), nil)
	if got := notifySetting(); rediswatch.MissingNotifyClasses(got) != "" {
		t.Errorf("notify-keyspace-events = %q with EnableKeyspaceEvents, missing %q", got, rediswatch.MissingNotifyClasses(got))
	}
	r := newRecorder()
	watch(t, c, "cfg", r)
	redisInt(t, srv, "RPUSH", "cfg", encoded(1))
	r.waitLast(t, "RPUSH seen", isUpdated(1, 1))
	backendtest.Eventually(t, "the cache follows RPUSH", fetchIs(c, "cfg", 1, 1))
	redisOK(t, srv, "SET", "cfg", encoded(2))
	r.waitLast(t, "SET seen", isUpdated(1, 2))
	redisInt(t, srv, "PEXPIRE", "cfg", "1")
	r.waitLast(t, "expiry seen", isDeleted)
}

// TestRedisRestart: after the server restarts (losing its data), the store
// resubscribes and resyncs: a watched key that is gone is reported deleted,
// and keys written again from outside reach the watchers and Fetch.
func TestRedisRestart(t *testing.T) {
	redisRun(t, testRedisRestart)
}

func testRedisRestart(t *testing.T, kind redisKind) {
	srv := redistest.Start(t, nil)
	s := kind.open(t, srv, redisOptions{})
	c := open(t, s, nil)
	keys := []string{"a", "b", "gone"}
	recs := map[string]*recorder{}
	for _, k := range keys {
		redisInt(t, srv, "RPUSH", k, encoded(1))
		redisInt(t, srv, "RPUSH", k, encoded(2))
		recs[k] = newRecorder()
		watch(t, c, k, recs[k])
		wantFetch(t, c, k, 2, 2)
	}

	srv.Restart()
	// The data is gone: write a and b again, leave "gone" missing.
	redisInt(t, srv, "RPUSH", "a", encoded(10))
	redisInt(t, srv, "RPUSH", "b", encoded(20))
	redisInt(t, srv, "RPUSH", "b", encoded(21))
	recs["a"].waitLast(t, "a written after the restart", isUpdated(1, 10))
	recs["b"].waitLast(t, "b written after the restart", isUpdated(2, 21))
	recs["gone"].waitLast(t, "the key the restart lost is deleted", isDeleted)
	backendtest.Eventually(t, "the cache of a", fetchIs(c, "a", 1, 10))
	backendtest.Eventually(t, "the cache of b", fetchIs(c, "b", 2, 21))
	backendtest.Eventually(t, "the key the restart lost leaves the cache", func() error {
		if _, _, err := c.Fetch(context.Background(), "gone"); !errors.Is(err, kv.ErrNotFound) {
			return fmt.Errorf("Fetch(gone): %v, want kv.ErrNotFound", err)
		}
		return nil
	})

	// Later changes come through the new subscription.
	redisInt(t, srv, "RPUSH", "a", encoded(11))
	recs["a"].waitLast(t, "a changed later", isUpdated(2, 11))
	backendtest.Eventually(t, "the cache of a", fetchIs(c, "a", 2, 11))
	redisInt(t, srv, "RPUSH", "gone", encoded(30))
	recs["gone"].waitLast(t, "gone written again", isUpdated(1, 30))
	// A call on a connection the restart broke, and not yet replaced, may
	// fail as unavailable, as the contract allows; a caller tries again (an
	// Update of the value the latest version holds writes nothing).
	backendtest.Eventually(t, "Update(b) after the restart", func() error {
		v, err := c.Update(backendtest.Context(t), "b", conf(22))
		switch {
		case err != nil && kv.Retryable(err):
			return err
		case err != nil || v != 3:
			t.Fatalf("Update(b) after the restart = %d, %v; want version 3", v, err)
		}
		return nil
	})
	recs["b"].waitLast(t, "own Update", isUpdated(3, 22))
}

// TestRedisConfigLost: when a resubscription finds keyspace notifications
// off, every watcher receives a Failed event matching ErrStale and Fetch
// reads from the server; once they are back, the keys that changed
// meanwhile are re-read and reported, and changes flow again.
func TestRedisConfigLost(t *testing.T) {
	redisRun(t, testRedisConfigLost)
}

func testRedisConfigLost(t *testing.T, kind redisKind) {
	srv := redistest.Start(t, nil)
	s := kind.open(t, srv, redisOptions{})
	c := open(t, s, nil)
	ra, rb := newRecorder(), newRecorder()
	for k, r := range map[string]*recorder{"a": ra, "b": rb} {
		redisInt(t, srv, "RPUSH", k, encoded(1))
		watch(t, c, k, r)
		wantFetch(t, c, k, 1, 1)
	}

	redisOK(t, srv, "CONFIG", "SET", "notify-keyspace-events", "")
	redisKillPubsub(t, srv)
	isStale := func(ev configstore.Event[Conf]) bool {
		return ev.Kind == configstore.Failed && errors.Is(ev.Err, configstore.ErrStale)
	}
	for name, r := range map[string]*recorder{"a": ra, "b": rb} {
		ev := r.waitLast(t, "stale on "+name, isStale)
		if !errors.Is(ev.Err, kv.ErrNotSupported) || !strings.Contains(ev.Err.Error(), "notify-keyspace-events") {
			t.Errorf("Failed event of %s: %v; want it to wrap kv.ErrNotSupported and name notify-keyspace-events", name, ev.Err)
		}
	}

	// No notifications now, yet Fetch sees a change: it reads through.
	redisInt(t, srv, "RPUSH", "a", encoded(2))
	wantFetch(t, c, "a", 2, 2)
	// A change nobody reads until the notifications are back.
	redisInt(t, srv, "RPUSH", "b", encoded(2))
	if ev, _ := rb.last(); !isStale(ev) {
		t.Fatalf("b's watcher heard %+v while notifications were off", ev)
	}

	redisOK(t, srv, "CONFIG", "SET", "notify-keyspace-events", "KEA")
	rb.waitLast(t, "b's change made while notifications were off", isUpdated(2, 2))
	backendtest.Eventually(t, "the cache of b", fetchIs(c, "b", 2, 2))
	redisInt(t, srv, "RPUSH", "a", encoded(3))
	ra.waitLast(t, "a change after the notifications are back", isUpdated(3, 3))
	backendtest.Eventually(t, "the cache of a", fetchIs(c, "a", 3, 3))
}

// TestRedisServerDown: while the server is down, Fetch keeps answering
// from the cache and Latest keeps its value, calls that need the server
// fail with kv.ErrUnavailable, and watchers hear nothing false; once it is
// back (empty, as it restarts without persistence), the watchers and the
// cache follow it.
func TestRedisServerDown(t *testing.T) {
	redisRun(t, testRedisServerDown)
}

func testRedisServerDown(t *testing.T, kind redisKind) {
	ctx := backendtest.Context(t)
	srv := redistest.Start(t, nil)
	s := kind.open(t, srv, redisOptions{})
	c := open(t, s, nil)
	// The watch's first event is a resync, which leaves every view taken
	// before it to be read again: taken after it, the Update's view is the
	// one Fetch serves once the server is gone.
	backendtest.Eventually(t, "the watch's first resync", func() error {
		if n := c.Metrics().Config.Resyncs; n == 0 {
			return errors.New("no resync yet")
		}
		return nil
	})
	r := newRecorder()
	watch(t, c, "cfg", r)
	if _, err := c.Update(ctx, "cfg", conf(1)); err != nil {
		t.Fatal(err)
	}
	r.waitLast(t, "created", isUpdated(1, 1))

	srv.Kill()
	for range 3 {
		wantFetch(t, c, "cfg", 1, 1)
	}
	if v, ver, ok := c.Latest("cfg"); !ok || ver != 1 || v.Index != 1 {
		t.Fatalf("Latest while the server is down = %+v, %d, %v", v, ver, ok)
	}
	down, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	if _, _, err := c.Fetch(down, "uncached"); !errors.Is(err, kv.ErrUnavailable) {
		t.Fatalf("Fetch of an uncached key while the server is down: %v, want kv.ErrUnavailable", err)
	}
	if _, err := c.Update(down, "cfg", conf(2)); !errors.Is(err, kv.ErrUnavailable) {
		t.Fatalf("Update while the server is down: %v, want kv.ErrUnavailable", err)
	}
	if _, err := c.Version(down, "cfg"); !errors.Is(err, kv.ErrUnavailable) {
		t.Fatalf("Version while the server is down: %v, want kv.ErrUnavailable", err)
	}
	for _, ev := range r.all() {
		if ev.Kind != configstore.Updated || ev.Version != 1 {
			t.Fatalf("a watcher heard %+v while the server was down", ev)
		}
	}

	srv.Restart()
	r.waitLast(t, "the key the restart lost is deleted", isDeleted)
	redisInt(t, srv, "RPUSH", "cfg", encoded(3))
	r.waitLast(t, "written after the restart", isUpdated(1, 3))
	backendtest.Eventually(t, "the cache follows", fetchIs(c, "cfg", 1, 3))
	backendtest.Eventually(t, "Update works again", func() error {
		v, err := c.Update(ctx, "cfg", conf(4))
		if err != nil {
			return err
		}
		if v != 2 {
			return fmt.Errorf("Update = version %d, want 2", v)
		}
		return nil
	})
	r.waitLast(t, "own Update", isUpdated(2, 4))
}

// TestRedisOverflow: the backend's watch buffer overflows while the Store
// is held (2 events of room, 200 changes), so the backend replaces the
// events with a resync; every key still ends at the server's state.
func TestRedisOverflow(t *testing.T) {
	redisRun(t, testRedisOverflow)
}

func testRedisOverflow(t *testing.T, kind redisKind) {
	srv := redistest.Start(t, nil)
	s := kind.open(t, srv, redisOptions{watchBuffer: 2})
	c := open(t, s, nil)
	const keys, changes = 20, 10
	recs := make([]*recorder, keys)
	for i := range keys {
		k := "k" + strconv.Itoa(i)
		redisInt(t, srv, "RPUSH", k, encoded(0))
		recs[i] = newRecorder()
		watch(t, c, k, recs[i])
		wantFetch(t, c, k, 1, 0)
	}

	release := configstore.Hold(c)
	var cmds [][]string
	for n := 1; n <= changes; n++ {
		for i := range keys {
			cmds = append(cmds, []string{"RPUSH", "k" + strconv.Itoa(i), encoded(n)})
		}
	}
	redisPipeline(t, srv, cmds...)
	time.Sleep(200 * time.Millisecond) // let the notifications reach the backend's full buffer
	release()

	for i := range keys {
		k := "k" + strconv.Itoa(i)
		recs[i].waitLast(t, k+" at its final state", isUpdated(changes+1, changes))
		backendtest.Eventually(t, "the cache of "+k, fetchIs(c, k, changes+1, changes))
	}
}

// waitConverged calls converged until it returns nil, failing the test if
// it still fails waitBound after the last write.
func waitConverged(t *testing.T, converged func() error) {
	t.Helper()
	deadline := time.Now().Add(waitBound)
	for {
		err := converged()
		if err == nil {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("no convergence within %v of the last write: %v", waitBound, err)
		}
		time.Sleep(time.Millisecond)
	}
}
