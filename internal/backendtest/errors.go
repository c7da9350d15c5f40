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
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	host, port := SplitHostPort(t, l.Addr().String())
	l.Close()
	err = dial(host, port, "pw-not-shown")
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
