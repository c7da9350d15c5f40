package rueidiskv_test

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"net"
	"sync/atomic"
	"testing"
	"time"

	"github.com/alicebob/miniredis/v2"
	"github.com/redis/rueidis"

	"github.com/cledar/storekit/backends/redisconf"
	"github.com/cledar/storekit/backends/rueidiskv"
	"github.com/cledar/storekit/internal/backendtest"
	"github.com/cledar/storekit/internal/rediskv"
	"github.com/cledar/storekit/internal/redistest"
	"github.com/cledar/storekit/kv"
)

// miniOption is the client option for miniredis: it has no CLIENT
// TRACKING, so no caching, and it answers CLUSTER SLOTS, which would make
// rueidis build a cluster client.
func miniOption(m *miniredis.Miniredis) rueidis.ClientOption {
	return rueidis.ClientOption{InitAddress: []string{m.Addr()}, DisableCache: true, ForceSingleClient: true}
}

// miniStore returns a store over miniredis, without caching.
func miniStore(t *testing.T, m *miniredis.Miniredis, opts *rueidiskv.Options) *rueidiskv.Store {
	t.Helper()
	o := rueidiskv.Options{}
	if opts != nil {
		o = *opts
	}
	o.DisableCache = true
	return openStoreWith(t, miniOption(m), &o)
}

// backend makes the stores of the tests that the Redis backends share.
var backend = backendtest.Backend{
	Name: "rueidiskv",
	New: func(t *testing.T, addr string, o redisconf.Options) kv.Store {
		return openStore(t, addr, &rueidiskv.Options{Options: o})
	},
	NewOnMiniredis: func(t *testing.T, m *miniredis.Miniredis, o redisconf.Options) kv.Store {
		return miniStore(t, m, &rueidiskv.Options{Options: o})
	},
	Dial:       backendtest.Dialer(rueidiskv.Dial),
	ReplyError: rediskv.ReplyText[*rueidis.RedisError],
}

// TestErrorsWrongType: a key of another Redis type yields kv.ErrWrongType,
// wrapping the server's *rueidis.RedisError, and bulk reads report it
// missing; a bulk read's cached "missing" does not hide the type from Get.
func TestErrorsWrongType(t *testing.T) { backendtest.RunWrongType(t, backend) }

// TestErrorsReplies: error replies map by code, on miniredis, which can
// answer every command with a given error.
func TestErrorsReplies(t *testing.T) { backendtest.RunReplies(t, backend) }

// TestErrorsServerDown: once the server is gone every call fails with
// kv.ErrUnavailable (not a hang, not the context's deadline), cached and
// uncached, but for a cached Get that the store serves before it notices;
// after a restart calls work again.
func TestErrorsServerDown(t *testing.T) {
	for _, cached := range []bool{true, false} {
		t.Run(fmt.Sprintf("cached=%v", cached), func(t *testing.T) {
			backendtest.RunServerDown(t, func(t *testing.T, addr string) kv.Store {
				return openStore(t, addr, &rueidiskv.Options{DisableCache: !cached})
			}, backendtest.ServerDown{CachedGet: cached})
		})
	}
}

// TestErrorsWrongPassword: an authentication failure makes Dial fail with
// kv.ErrPermission, and the password never appears in error texts; an ACL
// user lacking a command gets kv.ErrPermission.
func TestErrorsWrongPassword(t *testing.T) { backendtest.RunWrongPassword(t, backend) }

// TestDialClosedPort: Dial fails at once when nothing listens, and before
// dialling when its context is done.
func TestDialClosedPort(t *testing.T) {
	var host string
	var port int
	backendtest.CheckDialClosedPort(t, "rueidiskv", func(h string, p int, password string) error {
		host, port = h, p
		s, err := rueidiskv.Dial(testContext(t), rueidiskv.Config{Host: host, Port: port, Password: password}, nil)
		if s != nil {
			s.Close()
		}
		return err
	})
	// A context already done fails before dialling.
	done, cancel := context.WithCancel(context.Background())
	cancel()
	_, err := rueidiskv.Dial(done, rueidiskv.Config{Host: host, Port: port}, nil)
	if !errors.Is(err, context.Canceled) || !errors.Is(err, kv.ErrUnavailable) {
		t.Errorf("Dial with a cancelled context: err = %v", err)
	}
}

// TestDoneContext: a call with a done context returns the context's error
// and sends nothing to the server.
func TestDoneContext(t *testing.T) {
	m := miniredis.RunT(t)
	backendtest.CheckDoneContext(t, miniStore(t, m, nil), m)
}

// TestClose: after Close every call fails with kv.ErrClosed; a caller's
// client stays open unless CloseClient is set, and Open's client is closed.
func TestClose(t *testing.T) {
	m := miniredis.RunT(t)
	ctx := testContext(t)
	backendtest.CheckCloseClient(ctx, t,
		func() rueidis.Client { return newClient(t, miniOption(m)) },
		func(closeClient bool) rueidiskv.Options {
			return rueidiskv.Options{Options: redisconf.Options{CloseClient: closeClient}}
		},
		func(c rueidis.Client, o *rueidiskv.Options) kv.Store { return rueidiskv.New(c, o) },
		func(c rueidis.Client) error { return c.Do(ctx, c.B().Ping().Build()).Error() }, rueidis.ErrClosing)
	s := miniStore(t, m, nil)
	c := s.Client()
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	if err := c.Do(ctx, c.B().Ping().Build()).Error(); !errors.Is(err, rueidis.ErrClosing) {
		t.Errorf("Ping on Open's client after Close = %v, want rueidis.ErrClosing", err)
	}
}

// TestTTLEdges: SetWithTTL rejects non-positive TTLs without writing and
// rounds sub-millisecond ones up.
func TestTTLEdges(t *testing.T) {
	m := miniredis.RunT(t)
	backendtest.CheckTTLEdges(testContext(t), t, miniStore(t, m, nil), m)
}

// TestDeadlines: every call returns by its deadline while the server does
// not answer, cached and uncached.
func TestDeadlines(t *testing.T) {
	for _, cached := range []bool{true, false} {
		t.Run(fmt.Sprintf("cached=%v", cached), func(t *testing.T) {
			backendtest.RunDeadlines(t, func(t *testing.T, addr string) kv.Store {
				return openStore(t, addr, &rueidiskv.Options{DisableCache: !cached})
			})
		})
	}
}

// TestReadsWhenFull: a server over its maxmemory with noeviction refuses
// writes but serves reads; so does the store, cached and uncached, for keys
// not cached yet. The writes fail with an error that says the server is
// full.
func TestReadsWhenFull(t *testing.T) {
	for _, cached := range []bool{true, false} {
		t.Run(fmt.Sprintf("cached=%v", cached), func(t *testing.T) {
			srv := redistest.Start(t, nil)
			s := openStore(t, srv.Addr(), &rueidiskv.Options{DisableCache: !cached})
			backendtest.CheckReadsWhenFull(t, s, srv)
		})
	}
}

// TestACL: a user without CLIENT TRACKING cannot Dial with caching on, and
// is told what to grant or turn off; once granted, a denied key is
// kv.ErrPermission, and cached reads work though the user may not run
// MULTI and EXEC, in which tracked reads are sent.
func TestACL(t *testing.T) {
	backendtest.RunACL(t, func(ctx context.Context, addr, user, password string) (kv.Store, error) {
		host, port := backendtest.SplitHostPort(t, addr)
		return rueidiskv.Dial(ctx, rueidiskv.Config{Host: host, Port: port, Username: user, Password: password}, nil)
	}, "client|tracking", "+ping", "+client|tracking", "+client|caching")
}

// TestSharedDialAbandoned: rueidis dials a connection with the context of
// the first call that needs it and gives the outcome to every call that
// waited for it. A call whose own context is live is made again when the
// call that dialled gave up, instead of failing for another call's deadline.
func TestSharedDialAbandoned(t *testing.T) {
	srv := realRedis(t)
	var slow atomic.Bool
	dialling := make(chan struct{}, 10)
	opt := rueidis.ClientOption{
		InitAddress:       []string{srv.Addr()},
		PipelineMultiplex: -1, // one connection, which every call waits for
		DialCtxFn: func(ctx context.Context, addr string, d *net.Dialer, _ *tls.Config) (net.Conn, error) {
			if slow.Load() {
				dialling <- struct{}{}
				select {
				case <-time.After(300 * time.Millisecond):
				case <-ctx.Done():
					return nil, ctx.Err()
				}
			}
			return d.DialContext(ctx, "tcp", addr)
		},
	}
	s := openStoreWith(t, opt, &rueidiskv.Options{DisableCache: true})
	ctx := testContext(t)
	if err := s.Set(ctx, "shared-dial", []byte("v")); err != nil {
		t.Fatal(err)
	}
	// Drop the store's connection. The next call, a read, finds it gone
	// and dials again after rueidis's retry pause, with its own short
	// deadline; a write made meanwhile waits for that dial.
	slow.Store(true)
	srv.MustDo("CLIENT", "KILL", "TYPE", "normal")
	short, cancel := context.WithTimeout(ctx, 100*time.Millisecond)
	defer cancel()
	first := make(chan error, 1)
	go func() { _, err := s.Get(short, "shared-dial"); first <- err }()
	<-dialling
	if err := s.Set(ctx, "shared-dial", []byte("long")); err != nil {
		t.Errorf("Set with a live context, while a call with a short deadline dialled: %v", err)
	}
	if err := <-first; !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("Get with a 100 ms deadline during a 300 ms dial: %v, want the deadline", err)
	}
}
