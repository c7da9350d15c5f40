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
	_, errs["Get"] = s.Get(ctx, key)
	errs["Set"] = s.Set(ctx, key, []byte("v"))
	_, errs["Delete"] = s.Delete(ctx, key)
	if e, ok := s.(kv.Expirer); ok {
		errs["SetWithTTL"] = e.SetWithTTL(ctx, key, []byte("v"), time.Second)
		_, errs["TTL"] = e.TTL(ctx, key)
	}
	if m, ok := s.(kv.MultiGetter); ok {
		_, errs["GetMulti"] = m.GetMulti(ctx, []string{key, key + "2"})
	}
	if sc, ok := s.(kv.Scanner); ok {
		for _, err := range sc.Scan(ctx, "*") {
			if err != nil {
				errs["Scan"] = err
				break
			}
		}
	}
	if h, ok := s.(kv.Historian); ok {
		_, errs["Append"] = h.Append(ctx, key, []byte("v"))
		_, _, errs["Latest"] = h.Latest(ctx, key)
		_, errs["At"] = h.At(ctx, key, 1)
		_, errs["History"] = h.History(ctx, key)
	}
	if p, ok := s.(kv.Pruner); ok {
		_, errs["Prune"] = p.Prune(ctx, key, 2)
	}
	if w, ok := s.(kv.Watcher); ok {
		_, errs["Watch"] = w.Watch(ctx, key)
	}
	if p, ok := s.(Pinger); ok {
		errs["Ping"] = p.Ping(ctx)
	}
	return errs
}

// CheckDialError checks the error of a backend's Dial that could not reach
// its server: it starts with "<backend>: could not initialize Redis client:
// ", wraps kv.ErrUnavailable and does not hold password.
func CheckDialError(t testing.TB, backend string, err error, password string) {
	t.Helper()
	if err == nil {
		t.Fatal("Dial succeeded, want an error")
	}
	if !strings.HasPrefix(err.Error(), backend+": could not initialize Redis client: ") {
		t.Errorf("Dial error %q does not start with the documented text", err)
	}
	if !errors.Is(err, kv.ErrUnavailable) {
		t.Errorf("Dial error %v does not wrap kv.ErrUnavailable", err)
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
	CheckDialError(t, backend, err, "pw-not-shown")
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
