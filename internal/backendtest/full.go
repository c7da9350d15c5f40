package backendtest

import (
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/cledar/storekit/internal/redistest"
	"github.com/cledar/storekit/kv"
)

// CheckReadsWhenFull makes srv, a server of the test's own, refuse writes
// for want of memory, and checks that s
// still reads keys it has not read before (Get, GetMulti, the history reads)
// and that its writes fail with an error wrapping kv.ErrFull.
func CheckReadsWhenFull(t *testing.T, s kv.Store, srv *redistest.Server) {
	t.Helper()
	ctx := Context(t)
	prefix := fmt.Sprintf("full:%s:", strings.ReplaceAll(t.Name(), "/", "."))
	keys := []string{prefix + "a", prefix + "b"}
	for _, k := range keys {
		if err := s.Set(ctx, k, []byte("value of "+k)); err != nil {
			t.Fatalf("Set(%q) before the server is full: %v", k, err)
		}
	}
	hist := prefix + "h"
	if h, ok := s.(kv.Historian); ok {
		if _, err := h.Append(ctx, hist, []byte("v1")); err != nil {
			t.Fatalf("Append before the server is full: %v", err)
		}
	}
	fill(t, srv)

	err := s.Set(ctx, prefix+"new", []byte("x"))
	if !errors.Is(err, kv.ErrFull) {
		t.Errorf("Set on a full server = %v, want an error wrapping kv.ErrFull", err)
	}
	for _, k := range keys {
		if v, err := s.Get(ctx, k); err != nil || string(v) != "value of "+k {
			t.Errorf("Get(%q) on a full server = %q, %v; want its value", k, v, err)
		}
	}
	if m, ok := s.(kv.MultiGetter); ok {
		vals, err := m.GetMulti(ctx, []string{keys[1], keys[0], prefix + "missing"})
		if err != nil || len(vals) != 3 || string(vals[0].Data) != "value of "+keys[1] || !vals[0].Found ||
			string(vals[1].Data) != "value of "+keys[0] || vals[2].Found {
			t.Errorf("GetMulti on a full server = %v, %v; want both values and a miss", vals, err)
		}
	}
	if h, ok := s.(kv.Historian); ok {
		if v, n, err := h.Latest(ctx, hist); err != nil || string(v) != "v1" || n != 1 {
			t.Errorf("Latest on a full server = %q, %d, %v; want v1, 1", v, n, err)
		}
		if _, err := h.History(ctx, hist); err != nil {
			t.Errorf("History on a full server: %v", err)
		}
	}
}

// fill makes srv refuse every write for want of memory, as a server over
// its maxmemory with noeviction does: maxmemory is set far below the memory
// in use.
func fill(t *testing.T, srv *redistest.Server) {
	t.Helper()
	srv.MustDo("CONFIG", "SET", "maxmemory-policy", "noeviction")
	srv.MustDo("CONFIG", "SET", "maxmemory", "1")
	if _, err := srv.Do("SET", "full:probe", "x"); err == nil || !strings.HasPrefix(err.Error(), "OOM") {
		t.Fatalf("SET on a server with maxmemory 1: %v, want an OOM reply", err)
	}
}
