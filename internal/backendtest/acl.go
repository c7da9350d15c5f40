package backendtest

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/cledar/storekit/internal/redistest"
	"github.com/cledar/storekit/kv"
)

// An ACLDialer opens a store as an ACL user of the server at addr, with
// the options a test names: Dial, or whatever builds the backend's
// client from a user name and a password.
type ACLDialer func(ctx context.Context, addr, user, password string) (kv.Store, error)

// ACLRules are the rights of the restricted user of [RunACL]: every read
// and write command on its own keys, nothing dangerous, none of the
// connection or transaction commands.
var ACLRules = []string{"~app:*", "+@read", "+@write", "-@dangerous"}

// RunACL checks what a store does for an ACL user with too few rights:
// dial fails with an error that wraps kv.ErrPermission, names the command
// denied and the ACL SETUSER that grants it (wantDenied), and does not say
// "DisableCache must be true"; once the user is granted grant, dial works, a
// read of a key outside the user's key patterns fails with kv.ErrPermission
// (not kv.ErrUnavailable), and reads and writes of its own keys work.
func RunACL(t *testing.T, dial ACLDialer, wantDenied string, grant ...string) {
	srv := redistest.Start(t, nil)
	ctx := Context(t)
	const user, password = "app", "app-pw-7c1e"
	srv.MustDo(append([]string{"ACL", "SETUSER", user, "on", ">" + password}, ACLRules...)...)

	s, err := dial(ctx, srv.Addr(), user, password)
	if err == nil {
		_ = s.Close()
		t.Fatalf("dial as a user with %v succeeded; want it refused for want of %s", ACLRules, wantDenied)
	}
	text := err.Error()
	switch {
	case !errors.Is(err, kv.ErrPermission):
		t.Errorf("dial as a user without %s: err = %v, want one wrapping kv.ErrPermission", wantDenied, err)
	case errors.Is(err, kv.ErrUnavailable):
		t.Errorf("dial as a user without %s: err = %v wraps kv.ErrUnavailable: retrying cannot help", wantDenied, err)
	case !strings.Contains(text, "ACL SETUSER app +"+wantDenied):
		t.Errorf("dial as a user without %s: err = %q does not say how to grant it", wantDenied, text)
	case strings.Contains(text, "DisableCache must be true"), strings.Contains(text, password):
		t.Errorf("dial as a user without %s: err = %q", wantDenied, text)
	}
	t.Logf("dial as a user with %v: %v", ACLRules, err)

	srv.MustDo(append([]string{"ACL", "SETUSER", user}, grant...)...)
	s, err = dial(ctx, srv.Addr(), user, password)
	if err != nil {
		t.Fatalf("dial as a user granted %v: %v", grant, err)
	}
	defer s.Close()
	_, err = s.Get(ctx, "other:k")
	if !errors.Is(err, kv.ErrPermission) || errors.Is(err, kv.ErrUnavailable) || kv.Retryable(err) {
		t.Errorf("Get of a key outside the user's patterns: err = %v, want kv.ErrPermission", err)
	}
	if err := s.Set(ctx, "app:k", []byte("v")); err != nil {
		t.Errorf("Set of the user's own key: %v", err)
	}
	for range 2 {
		if v, err := s.Get(ctx, "app:k"); err != nil || string(v) != "v" {
			t.Errorf("Get of the user's own key = %q, %v", v, err)
		}
	}
	if m, ok := s.(kv.MultiGetter); ok {
		if vals, err := m.GetMulti(ctx, []string{"app:k", "app:missing"}); err != nil || !vals[0].Found || vals[1].Found {
			t.Errorf("GetMulti of the user's own keys = %v, %v", vals, err)
		}
	}
}
