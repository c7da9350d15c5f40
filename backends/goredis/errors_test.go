package goredis_test

import (
	"context"
	"errors"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
	"github.com/redis/go-redis/v9/logging"
	"go.uber.org/zap"
	"go.uber.org/zap/zaptest/observer"

	"github.com/cledar/storekit/backends/goredis"
	"github.com/cledar/storekit/internal/backendtest"
	"github.com/cledar/storekit/internal/redistest"
	"github.com/cledar/storekit/kv"
)

// TestErrorsServerDown: once the server is gone every call fails with
// kv.ErrUnavailable (not a hang, not the context's deadline), wrapping the
// client's network error; after a restart calls work again.
func TestErrorsServerDown(t *testing.T) {
	srv := redistest.Start(t, nil)
	s := goredis.New(newClient(t, fastFail(srv.Addr())), nil)
	defer s.Close()
	ctx := testContext(t)
	if err := s.Set(ctx, "k", []byte("v")); err != nil {
		t.Fatal(err)
	}
	srv.Kill()
	for name, err := range backendtest.EachCall(ctx, s, "k") {
		if !errors.Is(err, kv.ErrUnavailable) {
			t.Errorf("%s with the server killed: err = %v, want kv.ErrUnavailable", name, err)
		}
		if errors.Is(err, context.DeadlineExceeded) {
			t.Errorf("%s with the server killed waited for the context's deadline: %v", name, err)
		}
		var nerr net.Error
		if !errors.As(err, &nerr) {
			t.Errorf("%s: err = %v does not wrap the client's net.Error", name, err)
		}
	}
	if ctx.Err() != nil {
		t.Fatal("the calls took the whole test deadline")
	}
	// With go-redis's default retries too, and a deadline.
	def := newStore(t, srv.Addr(), nil)
	dctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	if _, err := def.Get(dctx, "k"); !errors.Is(err, kv.ErrUnavailable) {
		t.Errorf("Get with default retries: err = %v, want kv.ErrUnavailable", err)
	}

	srv.Restart()
	// go-redis waits a moment before dialling again after failures.
	backendtest.Eventually(t, "Set after the restart", func() error { return s.Set(ctx, "k", []byte("again")) })
}

// TestErrorsWrongType: a key of another Redis type yields kv.ErrWrongType,
// wrapping the server's redis.Error, and bulk reads report it missing.
func TestErrorsWrongType(t *testing.T) {
	srv := realRedis(t)
	s := newStore(t, srv.Addr(), nil)
	ctx := testContext(t)
	key := "wrongtype:" + t.Name()
	t.Cleanup(func() { _, _ = s.Delete(context.Background(), key) })
	if err := s.Client().HSet(ctx, key, "f", "v").Err(); err != nil {
		t.Fatal(err)
	}
	checks := map[string]error{}
	_, checks["Get"] = s.Get(ctx, key)
	_, checks["Append"] = s.Append(ctx, key, []byte("x"))
	_, _, checks["Latest"] = s.Latest(ctx, key)
	_, checks["At"] = s.At(ctx, key, 1)
	_, checks["History"] = s.History(ctx, key)
	_, checks["Prune"] = s.Prune(ctx, key, 2)
	for name, err := range checks {
		var rerr redis.Error
		if !errors.Is(err, kv.ErrWrongType) || !errors.As(err, &rerr) || !strings.HasPrefix(rerr.Error(), "WRONGTYPE") {
			t.Errorf("%s of a hash: err = %v, want kv.ErrWrongType wrapping the WRONGTYPE redis.Error", name, err)
		}
	}
	vals, err := s.GetMulti(ctx, []string{key})
	if err != nil || len(vals) != 1 || vals[0].Found {
		t.Errorf("GetMulti of a hash = %v, %v; want one value with Found false", vals, err)
	}
}

// TestErrorsReplies: error replies map by code, on miniredis, which can
// answer every command with a given error.
func TestErrorsReplies(t *testing.T) {
	m := startMiniredis(t)
	s := newStore(t, m.Addr(), nil)
	ctx := testContext(t)
	for _, tt := range []struct {
		reply string
		want  error // nil: an operation error
	}{
		{"LOADING Redis is loading the dataset in memory", kv.ErrUnavailable},
		{"MASTERDOWN Link with MASTER is down", kv.ErrUnavailable},
		{"NOPERM this user has no permissions", kv.ErrPermission},
		{"OOM command not allowed when used memory > 'maxmemory'.", kv.ErrFull},
		{"ERR something else", nil},
	} {
		m.SetError(tt.reply)
		_, err := s.Get(ctx, "k")
		m.SetError("")
		var rerr redis.Error
		if !errors.As(err, &rerr) {
			t.Errorf("Get answered %q: err = %v does not wrap a redis.Error", tt.reply, err)
		}
		for _, sentinel := range []error{kv.ErrUnavailable, kv.ErrNotFound, kv.ErrWrongType, kv.ErrPermission, kv.ErrFull} {
			if errors.Is(err, sentinel) != (sentinel == tt.want) {
				t.Errorf("Get answered %q: err = %v; errors.Is(_, %v) = %v", tt.reply, err, sentinel, !(sentinel == tt.want))
			}
		}
	}
}

// TestErrorsWrongPassword: an authentication failure is kv.ErrPermission,
// and the password never appears in error texts.
func TestErrorsWrongPassword(t *testing.T) {
	const password, wrong = "correct-horse-battery", "wrong-staple-9f3a"
	srv := redistest.Start(t, &redistest.Options{Password: password})
	ctx := testContext(t)
	opts := fastFail(srv.Addr())
	opts.Password = wrong
	s := goredis.New(newClient(t, opts), nil)
	defer s.Close()
	for name, err := range backendtest.EachCall(ctx, s, "k") {
		if !errors.Is(err, kv.ErrPermission) || kv.Retryable(err) {
			t.Errorf("%s with a wrong password: err = %v, want kv.ErrPermission", name, err)
		}
		if err != nil && strings.Contains(err.Error(), wrong) {
			t.Errorf("%s: the error text holds the password: %v", name, err)
		}
	}

	host, port := backendtest.SplitHostPort(t, srv.Addr())
	_, err := goredis.Dial(ctx, goredis.Config{Host: host, Port: port, Password: wrong}, nil)
	backendtest.CheckDialError(t, "goredis", err, kv.ErrPermission, wrong)

	ds, err := goredis.Dial(ctx, goredis.Config{Host: host, Port: port, Password: password}, nil)
	if err != nil {
		t.Fatalf("Dial with the right password: %v", err)
	}
	defer ds.Close()
	if err := ds.Set(ctx, "k", []byte("v")); err != nil {
		t.Errorf("Set through a dialled store: %v", err)
	}
	// An ACL user: Username is sent, and a user without the right to a
	// command gets kv.ErrPermission, not kv.ErrUnavailable.
	srv.MustDo("ACL", "SETUSER", "alice", "on", ">alice-pw-1", "~*", "+@all", "-get")
	as, err := goredis.Dial(ctx, goredis.Config{Host: host, Port: port, Username: "alice", Password: "alice-pw-1"}, nil)
	if err != nil {
		t.Fatalf("Dial as an ACL user: %v", err)
	}
	defer as.Close()
	_, err = as.Get(ctx, "k")
	var rerr redis.Error
	if !errors.As(err, &rerr) || !strings.HasPrefix(rerr.Error(), "NOPERM") || !errors.Is(err, kv.ErrPermission) ||
		errors.Is(err, kv.ErrUnavailable) {
		t.Errorf("Get by a user without +get: err = %v, want kv.ErrPermission wrapping NOPERM", err)
	}
	_, err = goredis.Dial(ctx, goredis.Config{Host: host, Port: port, Username: "alice", Password: wrong}, nil)
	backendtest.CheckDialError(t, "goredis", err, kv.ErrPermission, wrong)

	cfg := goredis.Config{Host: host, Port: port, Password: password}
	for _, s := range []string{cfg.String(), cfg.GoString()} {
		if strings.Contains(s, password) {
			t.Errorf("Config formats with its password: %s", s)
		}
	}
}

// TestDialClosedPort: Dial fails at once when nothing listens.
func TestDialClosedPort(t *testing.T) {
	backendtest.CheckDialClosedPort(t, "goredis", func(host string, port int, password string) error {
		s, err := goredis.Dial(testContext(t), goredis.Config{Host: host, Port: port, Password: password}, nil)
		if s != nil {
			s.Close()
		}
		return err
	})
}

// TestDoneContext: a call with a done context returns the context's error
// and sends nothing to the server.
func TestDoneContext(t *testing.T) {
	m := startMiniredis(t)
	backendtest.CheckDoneContext(t, newStore(t, m.Addr(), nil), m)
}

// TestClose: after Close every call fails with kv.ErrClosed; a caller's
// client stays open unless CloseClient is set.
func TestClose(t *testing.T) {
	m := startMiniredis(t)
	ctx := testContext(t)
	for _, closeClient := range []bool{false, true} {
		client := newClient(t, &redis.Options{Addr: m.Addr()})
		opts := &goredis.Options{CloseClient: closeClient}
		backendtest.CheckClose(ctx, t, goredis.New(client, opts))
		err := client.Ping(ctx).Err()
		if closeClient != errors.Is(err, redis.ErrClosed) {
			t.Errorf("CloseClient=%v: client Ping after Close = %v", closeClient, err)
		}
		if *opts != (goredis.Options{CloseClient: closeClient}) {
			t.Errorf("New changed the caller's options: %+v", *opts)
		}
	}
}

// TestTTLEdges: SetWithTTL rejects non-positive TTLs without writing and
// rounds sub-millisecond ones up.
func TestTTLEdges(t *testing.T) {
	m := startMiniredis(t)
	backendtest.CheckTTLEdges(testContext(t), t, newStore(t, m.Addr(), nil), m)
}

// TestDeadlines: every call returns by its deadline while the server does
// not answer, on a store made by Dial and on one over a caller's client
// built with ContextTimeoutEnabled.
func TestDeadlines(t *testing.T) {
	t.Run("Dial", func(t *testing.T) {
		backendtest.RunDeadlines(t, func(t *testing.T, addr string) kv.Store {
			host, port := backendtest.SplitHostPort(t, addr)
			s, err := goredis.Dial(testContext(t), goredis.Config{Host: host, Port: port}, nil)
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { _ = s.Close() })
			return s
		})
	})
	t.Run("New", func(t *testing.T) {
		backendtest.RunDeadlines(t, func(t *testing.T, addr string) kv.Store { return newStore(t, addr, nil) })
	})
}

// TestNewWarnsWithoutContextTimeout: New warns about a client that does not
// bound its calls by their context, and not about one that does.
func TestNewWarnsWithoutContextTimeout(t *testing.T) {
	for _, enabled := range []bool{false, true} {
		core, logs := observer.New(zap.WarnLevel)
		c := newClient(t, &redis.Options{Addr: "127.0.0.1:1", ContextTimeoutEnabled: enabled})
		_ = goredis.New(c, &goredis.Options{Logger: zap.New(core)})
		warned := logs.FilterMessageSnippet("ContextTimeoutEnabled").Len() > 0
		if warned == enabled {
			t.Errorf("ContextTimeoutEnabled %v: warned %v", enabled, warned)
		}
	}
}

// TestReadsWhenFull: a server over its maxmemory with noeviction refuses
// writes but serves reads; so does the store.
func TestReadsWhenFull(t *testing.T) {
	srv := redistest.Start(t, nil)
	backendtest.CheckReadsWhenFull(t, newStore(t, srv.Addr(), nil), srv)
}

// TestACL: a user without +ping cannot Dial, and is told what to grant;
// once granted, a denied key is kv.ErrPermission.
func TestACL(t *testing.T) {
	backendtest.RunACL(t, func(ctx context.Context, addr, user, password string) (kv.Store, error) {
		host, port := backendtest.SplitHostPort(t, addr)
		return goredis.Dial(ctx, goredis.Config{Host: host, Port: port, Username: user, Password: password}, nil)
	}, "ping", "+ping")
}

// TestRouteClientLogs: go-redis's own messages, which it writes to standard
// error by default, reach the logger given to RouteClientLogs.
func TestRouteClientLogs(t *testing.T) {
	core, logs := observer.New(zap.WarnLevel)
	goredis.RouteClientLogs(zap.New(core))
	t.Cleanup(logging.Enable) // go-redis's default: standard error
	addr := closedAddr(t)
	c := newClient(t, &redis.Options{Addr: addr, MaxRetries: -1, DialerRetries: 2, ContextTimeoutEnabled: true})
	if err := c.Ping(testContext(t)).Err(); err == nil {
		t.Fatal("Ping of a closed port succeeded")
	}
	backendtest.Eventually(t, "go-redis's dial failure logged", func() error {
		if logs.FilterMessageSnippet("failed to dial").Len() == 0 {
			return errors.New("no message from go-redis yet")
		}
		return nil
	})
	for _, e := range logs.All() {
		if !strings.HasPrefix(e.Message, "go-redis: ") || strings.Contains(e.Message, "redis: redis:") {
			t.Errorf("message %q", e.Message)
		}
	}
}

// closedAddr returns a loopback address where nothing listens.
func closedAddr(t *testing.T) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	l.Close()
	return addr
}
