package rueidiskv_test

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"net"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/alicebob/miniredis/v2"
	"github.com/redis/rueidis"

	"github.com/cledar/storekit/backends/redisconf"
	"github.com/cledar/storekit/backends/rueidiskv"
	"github.com/cledar/storekit/internal/backendtest"
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

// TestErrorsServerDown: once the server is gone every call fails with
// kv.ErrUnavailable (not a hang, not the context's deadline), wrapping the
// client's error; after a restart calls work again.
func TestErrorsServerDown(t *testing.T) {
	srv := redistest.Start(t, nil)
	for _, cached := range []bool{true, false} {
		s := openStore(t, srv.Addr(), &rueidiskv.Options{DisableCache: !cached})
		ctx := testContext(t)
		if err := s.Set(ctx, "k", []byte("v")); err != nil {
			t.Fatal(err)
		}
		if _, err := s.Get(ctx, "k"); err != nil {
			t.Fatal(err)
		}
		srv.Kill()
		start := time.Now()
		for name, err := range backendtest.EachCall(ctx, s, "k") {
			if name == "Get" && cached && err == nil {
				// Served from the cache before the store noticed the
				// connection's end: the value is still the server's last.
				continue
			}
			if !errors.Is(err, kv.ErrUnavailable) {
				t.Errorf("cached=%v: %s with the server killed: err = %v, want kv.ErrUnavailable", cached, name, err)
			}
			if errors.Is(err, context.DeadlineExceeded) {
				t.Errorf("cached=%v: %s with the server killed waited for the context's deadline: %v", cached, name, err)
			}
		}
		t.Logf("cached=%v: every call failed within %v in all", cached, time.Since(start))
		srv.Restart()
		backendtest.Eventually(t, "Set after the restart", func() error { return s.Set(ctx, "k", []byte("again")) })
		if v, err := s.Get(ctx, "k"); err != nil || string(v) != "again" {
			t.Errorf("cached=%v: Get after the restart = %q, %v; want again", cached, v, err)
		}
	}
}

// TestErrorsWrongType: a key of another Redis type yields kv.ErrWrongType,
// wrapping the server's *rueidis.RedisError, and bulk reads report it
// missing; a bulk read's cached "missing" does not hide the type from Get.
func TestErrorsWrongType(t *testing.T) {
	srv := realRedis(t)
	s := openStore(t, srv.Addr(), nil)
	ctx := testContext(t)
	key := "wrongtype:" + t.Name()
	t.Cleanup(func() { _, _ = s.Delete(context.Background(), key) })
	c := s.Client()
	if err := c.Do(ctx, c.B().Hset().Key(key).FieldValue().FieldValue("f", "v").Build()).Error(); err != nil {
		t.Fatal(err)
	}
	for round := range 2 { // the second round after GetMulti cached the key as missing
		vals, err := s.GetMulti(ctx, []string{key})
		if err != nil || len(vals) != 1 || vals[0].Found {
			t.Errorf("GetMulti of a hash = %v, %v; want one value with Found false", vals, err)
		}
		checks := map[string]error{}
		_, checks["Get"] = s.Get(ctx, key)
		_, checks["Append"] = s.Append(ctx, key, []byte("x"))
		_, _, checks["Latest"] = s.Latest(ctx, key)
		_, checks["At"] = s.At(ctx, key, 1)
		_, checks["History"] = s.History(ctx, key)
		_, checks["Prune"] = s.Prune(ctx, key, 2)
		for name, err := range checks {
			var rerr *rueidis.RedisError
			if !errors.Is(err, kv.ErrWrongType) || !errors.As(err, &rerr) || !strings.HasPrefix(rerr.Error(), "WRONGTYPE") {
				t.Errorf("round %d: %s of a hash: err = %v, want kv.ErrWrongType wrapping the WRONGTYPE error", round, name, err)
			}
		}
	}
}

// TestErrorsReplies: error replies map by code, on miniredis, which can
// answer every command with a given error.
func TestErrorsReplies(t *testing.T) {
	m := miniredis.RunT(t)
	s := miniStore(t, m, nil)
	ctx := testContext(t)
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
		rctx, cancel := context.WithTimeout(ctx, time.Second) // rueidis retries LOADING
		_, err := s.Get(rctx, "k")
		cancel()
		m.SetError("")
		var rerr *rueidis.RedisError
		if !errors.As(err, &rerr) {
			t.Errorf("Get answered %q: err = %v does not wrap a *rueidis.RedisError", tt.reply, err)
		}
		for _, sentinel := range []error{kv.ErrUnavailable, kv.ErrNotFound, kv.ErrWrongType, kv.ErrPermission, kv.ErrFull} {
			if errors.Is(err, sentinel) != (sentinel == tt.want) {
				t.Errorf("Get answered %q: err = %v; errors.Is(_, %v) = %v", tt.reply, err, sentinel, !(sentinel == tt.want))
			}
		}
	}
}

// TestErrorsWrongPassword: an authentication failure makes Dial fail with
// kv.ErrPermission, and the password never appears in error texts; an ACL
// user lacking a command gets kv.ErrPermission.
func TestErrorsWrongPassword(t *testing.T) {
	const password, wrong = "correct-horse-battery", "wrong-staple-9f3a"
	srv := redistest.Start(t, &redistest.Options{Password: password})
	ctx := testContext(t)
	host, port := backendtest.SplitHostPort(t, srv.Addr())

	_, err := rueidiskv.Dial(ctx, rueidiskv.Config{Host: host, Port: port, Password: wrong}, nil)
	backendtest.CheckDialError(t, "rueidiskv", err, kv.ErrPermission, wrong)

	ds, err := rueidiskv.Dial(ctx, rueidiskv.Config{Host: host, Port: port, Password: password}, nil)
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
	as, err := rueidiskv.Dial(ctx, rueidiskv.Config{Host: host, Port: port, Username: "alice", Password: "alice-pw-1"}, nil)
	if err != nil {
		t.Fatalf("Dial as an ACL user: %v", err)
	}
	defer as.Close()
	_, err = as.Get(ctx, "k")
	var rerr *rueidis.RedisError
	if !errors.As(err, &rerr) || !strings.HasPrefix(rerr.Error(), "NOPERM") || !errors.Is(err, kv.ErrPermission) ||
		errors.Is(err, kv.ErrUnavailable) {
		t.Errorf("Get by a user without +get: err = %v, want kv.ErrPermission wrapping NOPERM", err)
	}
	_, err = rueidiskv.Dial(ctx, rueidiskv.Config{Host: host, Port: port, Username: "alice", Password: wrong}, nil)
	backendtest.CheckDialError(t, "rueidiskv", err, kv.ErrPermission, wrong)

	cfg := rueidiskv.Config{Host: host, Port: port, Password: password}
	for _, s := range []string{cfg.String(), cfg.GoString()} {
		if strings.Contains(s, password) {
			t.Errorf("Config formats with its password: %s", s)
		}
	}
}

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
	for _, closeClient := range []bool{false, true} {
		client := newClient(t, miniOption(m))
		opts := &rueidiskv.Options{Options: redisconf.Options{CloseClient: closeClient}}
		backendtest.CheckClose(ctx, t, rueidiskv.New(client, opts))
		err := client.Do(ctx, client.B().Ping().Build()).Error()
		if closeClient != errors.Is(err, rueidis.ErrClosing) {
			t.Errorf("CloseClient=%v: client Ping after Close = %v", closeClient, err)
		}
		if *opts != (rueidiskv.Options{Options: redisconf.Options{CloseClient: closeClient}}) {
			t.Errorf("New changed the caller's options: %+v", *opts)
		}
	}
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
