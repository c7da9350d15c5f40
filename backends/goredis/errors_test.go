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

// TestErrorsWrongType: a key of another Redis type yields kv.ErrWrongType,
// wrapping the server's redis.Error, and bulk reads report it missing.
func TestErrorsWrongType(t *testing.T) { backendtest.RunWrongType(t, backend) }

// TestErrorsReplies: error replies map by code, on miniredis, which can
// answer every command with a given error.
func TestErrorsReplies(t *testing.T) { backendtest.RunReplies(t, backend) }

// TestErrorsServerDown: once the server is gone every call fails with
// kv.ErrUnavailable (not a hang, not the context's deadline), wrapping the
// client's network error; after a restart calls work again.
func TestErrorsServerDown(t *testing.T) {
	backendtest.RunServerDown(t, func(t *testing.T, addr string) kv.Store {
		return goredis.New(newClient(t, fastFail(addr)), nil)
	}, backendtest.ServerDown{
		NetError: true,
		// With go-redis's default retries too, and a deadline.
		WhileDown: func(ctx context.Context, addr string) {
			dctx, cancel := context.WithTimeout(ctx, 10*time.Second)
			defer cancel()
			if _, err := newStore(t, addr, nil).Get(dctx, "k"); !errors.Is(err, kv.ErrUnavailable) {
				t.Errorf("Get with default retries: err = %v, want kv.ErrUnavailable", err)
			}
		},
	})
}

// TestErrorsWrongPassword: an authentication failure is kv.ErrPermission,
// and the password never appears in error texts: at Dial, and at every
// call of a store over a client that New did not dial.
func TestErrorsWrongPassword(t *testing.T) {
	srv, wrong := backendtest.RunWrongPassword(t, backend)
	opts := fastFail(srv.Addr())
	opts.Password = wrong
	s := goredis.New(newClient(t, opts), nil)
	defer s.Close()
	for name, err := range backendtest.EachCall(testContext(t), s, "k") {
		if !errors.Is(err, kv.ErrPermission) || kv.Retryable(err) {
			t.Errorf("%s with a wrong password: err = %v, want kv.ErrPermission", name, err)
		}
		if err != nil && strings.Contains(err.Error(), wrong) {
			t.Errorf("%s: the error text holds the password: %v", name, err)
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
	backendtest.CheckCloseClient(ctx, t,
		func() *redis.Client { return newClient(t, &redis.Options{Addr: m.Addr()}) },
		func(closeClient bool) goredis.Options { return goredis.Options{CloseClient: closeClient} },
		func(c *redis.Client, o *goredis.Options) kv.Store { return goredis.New(c, o) },
		func(c *redis.Client) error { return c.Ping(ctx).Err() }, redis.ErrClosed)
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
