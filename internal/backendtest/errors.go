package backendtest

import (
	"context"
	"errors"
	"net"
	"strconv"
	"strings"
	"testing"
	"time"

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
