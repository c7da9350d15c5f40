package backendtest

import (
	"context"
	"errors"
	"net"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/alicebob/miniredis/v2"

	"github.com/cledar/storekit/backends/redisconf"
	"github.com/cledar/storekit/internal/redistest"
	"github.com/cledar/storekit/kv"
)

// A Pinger is a store that can check its server, as both Redis backends can.
type Pinger interface {
	Ping(ctx context.Context) error
}

// EachCall runs every method of s that talks to the server, on key, and
// returns the errors by method name. Optional interfaces s lacks are left
// out.
func EachCall(ctx context.Context, s kv.Store, key string) map[string]error {
	errs := make(map[string]error)
	ForEachCall(s, key, func(name string, call func(ctx context.Context) error) {
		errs[name] = call(ctx)
	})
	return errs
}

// ForEachCall calls run with the name of every method of s that talks to
// the server and a function that calls it on key with a context of run's
// choosing. Optional interfaces s lacks are left out.
func ForEachCall(s kv.Store, key string, run func(name string, call func(ctx context.Context) error)) {
	value := []byte("v")
	run("Get", func(ctx context.Context) error { _, err := s.Get(ctx, key); return err })
	run("Set", func(ctx context.Context) error { return s.Set(ctx, key, value) })
	run("Delete", func(ctx context.Context) error { _, err := s.Delete(ctx, key); return err })
	if e, ok := s.(kv.Expirer); ok {
		run("SetWithTTL", func(ctx context.Context) error { return e.SetWithTTL(ctx, key, value, time.Second) })
		run("TTL", func(ctx context.Context) error { _, err := e.TTL(ctx, key); return err })
	}
	if m, ok := s.(kv.MultiGetter); ok {
		run("GetMulti", func(ctx context.Context) error { _, err := m.GetMulti(ctx, []string{key, key + "2"}); return err })
	}
	if sc, ok := s.(kv.Scanner); ok {
		run("Scan", func(ctx context.Context) error {
			for _, err := range sc.Scan(ctx, "*") {
				if err != nil {
					return err
				}
			}
			return nil
		})
	}
	if h, ok := s.(kv.Historian); ok {
		run("Append", func(ctx context.Context) error { _, err := h.Append(ctx, key, value); return err })
		run("Latest", func(ctx context.Context) error { _, _, err := h.Latest(ctx, key); return err })
		run("At", func(ctx context.Context) error { _, err := h.At(ctx, key, 1); return err })
		run("History", func(ctx context.Context) error { _, err := h.History(ctx, key); return err })
	}
	if p, ok := s.(kv.Pruner); ok {
		run("Prune", func(ctx context.Context) error { _, err := p.Prune(ctx, key, 2); return err })
	}
	if w, ok := s.(kv.Watcher); ok {
		run("Watch", func(ctx context.Context) error { _, err := w.Watch(ctx, key); return err })
	}
	if p, ok := s.(Pinger); ok {
		run("Ping", p.Ping)
	}
}

// CheckDialError checks the error of a backend's Dial that could not reach
// its server: it starts with "<backend>: could not initialize Redis client:
// ", wraps want (kv.ErrUnavailable for a server that cannot be reached,
// kv.ErrPermission for credentials it refused) and does not hold password.
func CheckDialError(t testing.TB, backend string, err, want error, password string) {
	t.Helper()
	if err == nil {
		t.Fatal("Dial succeeded, want an error")
	}
	if !strings.HasPrefix(err.Error(), backend+": could not initialize Redis client: ") {
		t.Errorf("Dial error %q does not start with the documented text", err)
	}
	if !errors.Is(err, want) {
		t.Errorf("Dial error %v does not wrap %v", err, want)
	}
	if strings.Contains(err.Error(), password) {
		t.Errorf("Dial error holds the password: %v", err)
	}
}

// SplitHostPort splits a host:port address, failing the test if it cannot.
func SplitHostPort(t testing.TB, addr string) (string, int) {
	t.Helper()
	host, p, err := net.SplitHostPort(addr)
	if err != nil {
		t.Fatal(err)
	}
	port, err := strconv.Atoi(p)
	if err != nil {
		t.Fatal(err)
	}
	return host, port
}

// CheckDialClosedPort checks that a backend's Dial fails at once when
// nothing listens: its error is the one CheckDialError wants, and wraps the
// *net.OpError. dial calls Dial with host, port and password and closes the
// store if it gets one.
func CheckDialClosedPort(t *testing.T, backend string, dial func(host string, port int, password string) error) {
	t.Helper()
	host, port := SplitHostPort(t, closedAddr(t))
	err := dial(host, port, "pw-not-shown")
	CheckDialError(t, backend, err, kv.ErrUnavailable, "pw-not-shown")
	var nerr *net.OpError
	if !errors.As(err, &nerr) {
		t.Errorf("Dial error %v does not wrap the *net.OpError", err)
	}
}

// CheckDoneContext checks that every call of s with a done context returns
// the context's error and sends nothing to m, the server s uses.
func CheckDoneContext(t *testing.T, s kv.Store, m *miniredis.Miniredis) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	before := m.CommandCount()
	for name, err := range EachCall(ctx, s, "k") {
		if !errors.Is(err, context.Canceled) {
			t.Errorf("%s with a cancelled context: err = %v, want context.Canceled", name, err)
		}
	}
	if n := m.CommandCount() - before; n != 0 {
		t.Errorf("%d commands reached the server with a cancelled context, want 0", n)
	}
}

// CheckClose closes s twice, checking that both succeed and that every call
// fails with kv.ErrClosed after.
func CheckClose(ctx context.Context, t *testing.T, s kv.Store) {
	t.Helper()
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	if err := s.Close(); err != nil {
		t.Errorf("second Close: %v", err)
	}
	for name, err := range EachCall(ctx, s, "k") {
		if !errors.Is(err, kv.ErrClosed) {
			t.Errorf("%s after Close: err = %v, want kv.ErrClosed", name, err)
		}
	}
}

// CheckTTLEdges checks that SetWithTTL rejects TTLs of zero or less without
// writing, and rounds one below a millisecond up to one; m is the server s
// uses.
func CheckTTLEdges(ctx context.Context, t *testing.T, s kv.Expirer, m *miniredis.Miniredis) {
	t.Helper()
	for _, ttl := range []time.Duration{0, -time.Second} {
		err := s.SetWithTTL(ctx, "k", []byte("v"), ttl)
		if !errors.Is(err, kv.ErrInvalid) {
			t.Errorf("SetWithTTL(ttl=%v): err = %v, want kv.ErrInvalid", ttl, err)
		}
	}
	if m.Exists("k") {
		t.Error("a rejected SetWithTTL wrote the key")
	}
	if err := s.SetWithTTL(ctx, "k", []byte("v"), time.Nanosecond); err != nil {
		t.Fatal(err)
	}
	if got := m.TTL("k"); got <= 0 || got > time.Millisecond {
		t.Errorf("SetWithTTL(1ns) left a TTL of %v, want 1ms", got)
	}
}

// ServerDown says what a store does while its server is gone, beyond what
// [RunServerDown] checks of every store.
type ServerDown struct {
	// CachedGet: a Get of a key read before may still succeed, served from
	// a client-side cache before the store noticed the connection's end.
	CachedGet bool
	// NetError: every call's error wraps the client's net.Error.
	NetError bool
	// WhileDown, when set, makes checks of the backend's own while the
	// server, which was at addr, is down, after those of every call.
	WhileDown func(ctx context.Context, addr string)
}

// serverDownBound bounds the test of [RunServerDown]: the calls fail well
// before it.
const serverDownBound = 30 * time.Second

// RunServerDown starts a Redis server, writes and reads a key through the
// store that newStore makes over a client of it (and that RunServerDown
// closes), kills the server, and checks that every call then fails with
// kv.ErrUnavailable, not with a context's deadline, and that the calls
// together take less than 30 seconds; then it restarts the server and
// checks that a Set works again (within a while: a client may wait before
// it dials again) and that a Get returns the value set.
func RunServerDown(t *testing.T, newStore func(t *testing.T, addr string) kv.Store, o ServerDown) {
	srv := redistest.Start(t, nil)
	s := newStore(t, srv.Addr())
	defer s.Close()
	ctx, cancel := context.WithTimeout(context.Background(), serverDownBound)
	defer cancel()
	if err := s.Set(ctx, "k", []byte("v")); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Get(ctx, "k"); err != nil {
		t.Fatal(err)
	}
	srv.Kill()
	start := time.Now()
	for name, err := range EachCall(ctx, s, "k") {
		if name == "Get" && o.CachedGet && err == nil {
			// Served from the cache before the store noticed the
			// connection's end: the value is still the server's last.
			continue
		}
		if !errors.Is(err, kv.ErrUnavailable) {
			t.Errorf("%s with the server killed: err = %v, want kv.ErrUnavailable", name, err)
		}
		if errors.Is(err, context.DeadlineExceeded) {
			t.Errorf("%s with the server killed waited for the context's deadline: %v", name, err)
		}
		var nerr net.Error
		if o.NetError && !errors.As(err, &nerr) {
			t.Errorf("%s: err = %v does not wrap the client's net.Error", name, err)
		}
	}
	if ctx.Err() != nil {
		t.Fatalf("the calls took more than %v", serverDownBound)
	}
	t.Logf("every call failed within %v in all", time.Since(start))
	if o.WhileDown != nil {
		o.WhileDown(ctx, srv.Addr())
	}

	srv.Restart()
	Eventually(t, "Set after the restart", func() error { return s.Set(ctx, "k", []byte("again")) })
	if v, err := s.Get(ctx, "k"); err != nil || string(v) != "again" {
		t.Errorf("Get after the restart = %q, %v; want again", v, err)
	}
}

// RunWrongType makes a key a hash on a Redis server and checks, twice, that
// a GetMulti through a store of b reports it missing and that Get, Append,
// Latest, At, History and Prune fail with kv.ErrWrongType, wrapping the
// WRONGTYPE reply as the client library's own error: the second time after
// the GetMulti, which a client-side cache may have kept as a miss.
func RunWrongType(t *testing.T, b Backend) {
	srv := redistest.New(t)
	s := b.New(t, srv.Addr(), Options{})
	ctx := Context(t)
	key := "wrongtype:" + t.Name()
	t.Cleanup(func() { _, _ = s.Delete(context.Background(), key) })
	srv.MustDo("HSET", key, "f", "v")
	h, p, m := as[kv.Historian](t, s), as[kv.Pruner](t, s), as[kv.MultiGetter](t, s)
	for round := range 2 {
		vals, err := m.GetMulti(ctx, []string{key})
		if err != nil || len(vals) != 1 || vals[0].Found {
			t.Errorf("round %d: GetMulti of a hash = %v, %v; want one value with Found false", round, vals, err)
		}
		checks := map[string]error{}
		_, checks["Get"] = s.Get(ctx, key)
		_, checks["Append"] = h.Append(ctx, key, []byte("x"))
		_, _, checks["Latest"] = h.Latest(ctx, key)
		_, checks["At"] = h.At(ctx, key, 1)
		_, checks["History"] = h.History(ctx, key)
		_, checks["Prune"] = p.Prune(ctx, key, 2)
		for name, err := range checks {
			text, ok := b.ReplyError(err)
			if !errors.Is(err, kv.ErrWrongType) || !ok || !strings.HasPrefix(text, "WRONGTYPE") {
				t.Errorf("round %d: %s of a hash: err = %v, want kv.ErrWrongType wrapping the client's WRONGTYPE error",
					round, name, err)
			}
		}
	}
}

// as returns s as an I, failing the test if it is not one.
func as[I any](t testing.TB, s kv.Store) I {
	t.Helper()
	i, ok := s.(I)
	if !ok {
		var zero *I
		t.Fatalf("%T does not implement %T", s, zero)
	}
	return i
}

// RunReplies makes a miniredis answer every command of a store of b with an
// error reply, one code at a time, and checks that Get's error wraps the
// client library's own error for the reply and, of the kv sentinels,
// exactly the one that the code stands for. Each Get has a second: a client
// may retry a reply such as LOADING until its context ends (rueidis does).
func RunReplies(t *testing.T, b Backend) {
	m := miniredis.RunT(t)
	s := b.NewOnMiniredis(t, m, Options{})
	ctx := Context(t)
	for _, tt := range []struct {
		reply string
		want  error // nil: an operation error
	}{
		{"LOADING Redis is loading the dataset in memory", kv.ErrUnavailable},
		{"MASTERDOWN Link with MASTER is down", kv.ErrUnavailable},
		{"ERR max number of clients reached", kv.ErrUnavailable},
		{"NOPERM this user has no permissions", kv.ErrPermission},
		{"OOM command not allowed when used memory > 'maxmemory'.", kv.ErrFull},
		{"ERR something else", nil},
	} {
		m.SetError(tt.reply)
		rctx, cancel := context.WithTimeout(ctx, time.Second)
		_, err := s.Get(rctx, "k")
		cancel()
		m.SetError("")
		if _, ok := b.ReplyError(err); !ok {
			t.Errorf("Get answered %q: err = %v does not wrap the client's error for a reply", tt.reply, err)
		}
		for _, sentinel := range []error{kv.ErrUnavailable, kv.ErrNotFound, kv.ErrWrongType, kv.ErrPermission, kv.ErrFull} {
			if errors.Is(err, sentinel) != (sentinel == tt.want) {
				t.Errorf("Get answered %q: err = %v; errors.Is(_, %v) = %v", tt.reply, err, sentinel, !(sentinel == tt.want))
			}
		}
	}
}

// RunWrongPassword checks b's Dial against a server of its own, started
// with a password, and returns the server and wrong, another password: Dial
// with wrong fails with kv.ErrPermission and an error text without the
// password; Dial with the right one gives a store that writes and reads; an
// ACL user is logged in as, and gets kv.ErrPermission wrapping the NOPERM
// reply (not kv.ErrUnavailable) for a command it may not run, and is refused
// with wrong; and a Config does not format with its password.
func RunWrongPassword(t *testing.T, b Backend) (srv *redistest.Server, wrong string) {
	const password = "correct-horse-battery"
	wrong = "wrong-staple-9f3a"
	srv = redistest.Start(t, &redistest.Options{Password: password})
	ctx := Context(t)
	host, port := SplitHostPort(t, srv.Addr())
	_, err := b.Dial(ctx, redisconf.Config{Host: host, Port: port, Password: wrong})
	CheckDialError(t, b.Name, err, kv.ErrPermission, wrong)

	ds, err := b.Dial(ctx, redisconf.Config{Host: host, Port: port, Password: password})
	if err != nil {
		t.Fatalf("Dial with the right password: %v", err)
	}
	defer ds.Close()
	if err := ds.Set(ctx, "k", []byte("v")); err != nil {
		t.Errorf("Set through a dialled store: %v", err)
	}
	if v, err := ds.Get(ctx, "k"); err != nil || string(v) != "v" {
		t.Errorf("Get through a dialled store = %q, %v", v, err)
	}
	// An ACL user: Username is sent, and a user without the right to a
	// command gets kv.ErrPermission, not kv.ErrUnavailable.
	srv.MustDo("ACL", "SETUSER", "alice", "on", ">alice-pw-1", "~*", "+@all", "-get")
	user, err := b.Dial(ctx, redisconf.Config{Host: host, Port: port, Username: "alice", Password: "alice-pw-1"})
	if err != nil {
		t.Fatalf("Dial as an ACL user: %v", err)
	}
	defer user.Close()
	_, err = user.Get(ctx, "k")
	if text, ok := b.ReplyError(err); !ok || !strings.HasPrefix(text, "NOPERM") || !errors.Is(err, kv.ErrPermission) ||
		errors.Is(err, kv.ErrUnavailable) {
		t.Errorf("Get by a user without +get: err = %v, want kv.ErrPermission wrapping NOPERM", err)
	}
	_, err = b.Dial(ctx, redisconf.Config{Host: host, Port: port, Username: "alice", Password: wrong})
	CheckDialError(t, b.Name, err, kv.ErrPermission, wrong)

	cfg := redisconf.Config{Host: host, Port: port, Password: password}
	for _, s := range []string{cfg.String(), cfg.GoString()} {
		if strings.Contains(s, password) {
			t.Errorf("Config formats with its password: %s", s)
		}
	}
	return srv, wrong
}

// CheckCloseClient checks a backend's New over a caller's client, for
// CloseClient false and true: for each, it makes a client with newClient
// and a store over it with newStore and options of the backend's type O
// that options makes with only CloseClient set, closes the store
// ([CheckClose]), and checks that ping, a call of the client, then fails
// with closed, the client library's error for a closed client, exactly when
// CloseClient is set, and that New left the caller's options as they were.
func CheckCloseClient[C any, O comparable](ctx context.Context, t *testing.T, newClient func() C,
	options func(closeClient bool) O, newStore func(C, *O) kv.Store, ping func(C) error, closed error) {
	t.Helper()
	for _, closeClient := range []bool{false, true} {
		client := newClient()
		opts := options(closeClient)
		CheckClose(ctx, t, newStore(client, &opts))
		err := ping(client)
		if closeClient != errors.Is(err, closed) {
			t.Errorf("CloseClient=%v: client Ping after Close = %v", closeClient, err)
		}
		if opts != options(closeClient) {
			t.Errorf("New changed the caller's options: %+v", opts)
		}
	}
}
