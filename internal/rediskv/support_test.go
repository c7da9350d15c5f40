package rediskv

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/cledar/storekit/kv"
)

func TestRedact(t *testing.T) {
	if got := Redact("a secret and a secret", "secret"); got != "a REDACTED and a REDACTED" {
		t.Errorf("Redact = %q", got)
	}
	if got := Redact("text", ""); got != "text" {
		t.Errorf("Redact with no secret = %q", got)
	}
}

func TestInitError(t *testing.T) {
	native := errors.New("auth failed for hunter2-pw")
	cancelled, cancel := context.WithCancel(context.Background())
	cancel()
	err := InitError(cancelled, "somebackend", nil, native, "", "hunter2-pw")
	if strings.Contains(err.Error(), "hunter2-pw") {
		t.Errorf("InitError text holds the password: %v", err)
	}
	for _, target := range []error{kv.ErrUnavailable, native, context.Canceled} {
		if !errors.Is(err, target) {
			t.Errorf("InitError %v does not wrap %v", err, target)
		}
	}
	if !strings.HasPrefix(err.Error(), "somebackend: could not initialize Redis client: ") {
		t.Errorf("InitError text = %q", err)
	}
	// The context's error is not repeated when the native error holds it.
	err = InitError(cancelled, "b", context.Canceled, context.Canceled, "", "")
	if strings.Count(err.Error(), "context canceled") != 1 || !errors.Is(err, kv.ErrUnavailable) {
		t.Errorf("InitError text = %q, want the context error once and kv.ErrUnavailable", err)
	}
	// A denial wraps kv.ErrPermission, says what to grant, and keeps only
	// the first line of the native text.
	native = errors.New("NOPERM this user has no permissions to run the 'client|tracking' command: [CLIENT TRACKING ON OPTIN]\nset DisableCache")
	err = InitError(context.Background(), "b", kv.ErrPermission, native, "app", "")
	want := `b: could not initialize Redis client: kv: permission denied: the ACL user "app" may not run CLIENT TRACKING, ` +
		"which the store needs: grant it with ACL SETUSER app +client|tracking (client-side caching needs " +
		"+client|tracking and +client|caching), or set DisableCache: NOPERM this user has no permissions to run " +
		"the 'client|tracking' command: [CLIENT TRACKING ON OPTIN]"
	if err.Error() != want || !errors.Is(err, kv.ErrPermission) || errors.Is(err, kv.ErrUnavailable) || !errors.Is(err, native) {
		t.Errorf("InitError of a denial = %q\nwant %q, wrapping kv.ErrPermission and the native error only", err, want)
	}
}

func TestInitHint(t *testing.T) {
	for _, tt := range []struct{ msg, user, want string }{
		{"WRONGPASS invalid username-password pair or user is disabled.", "u",
			"the server refused the user name and password: check Username and Password"},
		{"NOAUTH Authentication required.", "", "the server requires a password: set Password"},
		{"NOPERM this user has no permissions to run the 'ping' command", "",
			`the ACL user "default" may not run PING, which the store needs: grant it with ACL SETUSER default +ping`},
		{"NOPERM User app has no permissions to run the 'config|get' command", "app",
			`the ACL user "app" may not run CONFIG GET, which the store needs: grant it with ACL SETUSER app +config|get`},
		{"NOPERM no permissions", "app",
			`the ACL user "app" may not run a command the store needs: grant it with ACL SETUSER app`},
		{"ERR something else", "app", ""},
		{"dial tcp: connection refused", "", ""},
	} {
		if got := InitHint(tt.msg, tt.user); got != tt.want {
			t.Errorf("InitHint(%q, %q) = %q, want %q", tt.msg, tt.user, got, tt.want)
		}
	}
}

func TestClientInfoDB(t *testing.T) {
	for _, tt := range []struct {
		info string
		db   int
		ok   bool
	}{
		{"id=3 addr=127.0.0.1:5000 laddr=127.0.0.1:6379 fd=8 name= age=0 idle=0 flags=N db=0 sub=0 psub=0\n", 0, true},
		{"id=3 db=12 sub=0", 12, true},
		{"id=3 name=db=7 db=2", 2, true}, // fields are matched whole
		{"id=3 sub=0", 0, false},
		{"db=x", 0, false},
		{"db=-1", 0, false},
		{"", 0, false},
	} {
		db, ok := ClientInfoDB(tt.info)
		if db != tt.db || ok != tt.ok {
			t.Errorf("ClientInfoDB(%q) = %d, %v; want %d, %v", tt.info, db, ok, tt.db, tt.ok)
		}
	}
}
