package rueidiskv_test

import (
	"context"
	"errors"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/alicebob/miniredis/v2"
	"go.uber.org/zap"
	"go.uber.org/zap/zaptest/observer"

	"github.com/cledar/storekit/backends/rueidiskv"
	"github.com/cledar/storekit/internal/redisproto"
	"github.com/cledar/storekit/internal/redistest"
	"github.com/cledar/storekit/kv"
)

// eventBound bounds the wait for one expected event: a hang bound, not a
// timing assertion.
const eventBound = 15 * time.Second

// waitEvent reads ch until an event satisfies match, and returns it. It
// fails the test if ch closes or nothing matches within eventBound.
func waitEvent(t *testing.T, ch <-chan kv.Event, what string, match func(kv.Event) bool) kv.Event {
	t.Helper()
	timer := time.NewTimer(eventBound)
	defer timer.Stop()
	for {
		select {
		case e, ok := <-ch:
			if !ok {
				t.Fatalf("waiting for %s: the watch channel closed", what)
			}
			if match(e) {
				return e
			}
			t.Logf("while waiting for %s: %v", what, e)
		case <-timer.C:
			t.Fatalf("no %s within %v", what, eventBound)
		}
	}
}

func isOp(op kv.Op, key string) func(kv.Event) bool {
	return func(e kv.Event) bool { return e.Op == op && e.Key == key }
}

func isResync(withErr bool) func(kv.Event) bool {
	return func(e kv.Event) bool { return e.Op == kv.OpResync && (e.Err != nil) == withErr }
}

// startWatch watches pattern on s and checks the first event is an OpResync.
func startWatch(ctx context.Context, t *testing.T, s *rueidiskv.Store, pattern string) <-chan kv.Event {
	t.Helper()
	ch, err := s.Watch(ctx, pattern)
	if err != nil {
		t.Fatalf("Watch(%q): %v", pattern, err)
	}
	if e := <-ch; e.Op != kv.OpResync || e.Err != nil {
		t.Fatalf("first event = %v, want a resync", e)
	}
	return ch
}

// setAndSee sets key and waits for its OpSet.
func setAndSee(ctx context.Context, t *testing.T, s *rueidiskv.Store, ch <-chan kv.Event, key string) {
	t.Helper()
	if err := s.Set(ctx, key, []byte("v")); err != nil {
		t.Fatalf("Set(%q): %v", key, err)
	}
	waitEvent(t, ch, "set "+key, isOp(kv.OpSet, key))
}

// TestWatchKilledConnection: killing the subscriber's connection while keys
// change yields an OpResync, and events flow again afterwards.
func TestWatchKilledConnection(t *testing.T) {
	srv := redistest.Start(t, nil)
	s := openStore(t, srv.Addr(), nil)
	ctx := testContext(t)
	ch := startWatch(ctx, t, s, "w:*")
	setAndSee(ctx, t, s, ch, "w:before")

	writer, stop := context.WithCancel(ctx)
	var wg sync.WaitGroup
	wg.Go(func() {
		for writer.Err() == nil {
			_ = s.Set(writer, "w:during", []byte("v"))
			time.Sleep(time.Millisecond)
		}
	})
	srv.MustDo("CLIENT", "KILL", "TYPE", "pubsub")
	waitEvent(t, ch, "a resync after the killed connection", isResync(false))
	stop()
	wg.Wait()
	setAndSee(ctx, t, s, ch, "w:after")
}

// TestWatchRestart: after the server restarts, the watch resubscribes,
// reports a resync, and delivers events again.
func TestWatchRestart(t *testing.T) {
	srv := redistest.Start(t, nil)
	s := openStore(t, srv.Addr(), nil)
	ctx := testContext(t)
	ch := startWatch(ctx, t, s, "r:*")
	setAndSee(ctx, t, s, ch, "r:1")
	srv.Restart()
	waitEvent(t, ch, "a resync after the restart", isResync(false))
	// rueidis does not retry writes, and the client's connection may not
	// have noticed the restart yet: the first Set may fail.
	eventually(t, "Set after the restart", func() error { return s.Set(ctx, "r:2", []byte("v")) })
	waitEvent(t, ch, "set r:2", isOp(kv.OpSet, "r:2"))
}

// TestWatchNotifyOff: with keyspace notifications off, Watch fails with an
// error that names the fix.
func TestWatchNotifyOff(t *testing.T) {
	srv := redistest.Start(t, &redistest.Options{Args: []string{"--notify-keyspace-events", "Ex"}})
	s := openStore(t, srv.Addr(), nil)
	ch, err := s.Watch(testContext(t), "*")
	if ch != nil || err == nil {
		t.Fatalf("Watch with notify-keyspace-events Ex = %v, %v; want an error", ch, err)
	}
	var nce *rueidiskv.NotifyConfigError
	if !errors.Is(err, kv.ErrNotSupported) || !errors.As(err, &nce) || nce.Missing != "Kg$l" {
		t.Errorf("Watch error %v: want kv.ErrNotSupported and a NotifyConfigError missing Kg$l", err)
	}
	if !strings.Contains(err.Error(), "CONFIG SET notify-keyspace-events KEA") {
		t.Errorf("Watch error %q does not say how to fix it", err)
	}
	if got := srv.MustDo("CONFIG", "GET", "notify-keyspace-events"); got.([]any)[1] != "xE" {
		t.Errorf("Watch changed notify-keyspace-events to %v without EnableKeyspaceEvents", got)
	}
}

// TestWatchEnableKeyspaceEvents: with the option set, Watch turns the
// classes on, and turns them on again after a restart undoes it.
func TestWatchEnableKeyspaceEvents(t *testing.T) {
	srv := redistest.Start(t, &redistest.Options{Args: []string{"--notify-keyspace-events", ""}})
	s := openStore(t, srv.Addr(), &rueidiskv.Options{EnableKeyspaceEvents: true})
	ctx := testContext(t)
	ch := startWatch(ctx, t, s, "e:*")
	checkNotifyOn(t, srv)
	setAndSee(ctx, t, s, ch, "e:1")

	srv.Restart() // back to notify-keyspace-events ""
	waitEvent(t, ch, "a resync after the restart", isResync(false))
	checkNotifyOn(t, srv)
	eventually(t, "Set after the restart", func() error { return s.Set(ctx, "e:2", []byte("v")) })
	waitEvent(t, ch, "set e:2", isOp(kv.OpSet, "e:2"))
}

func checkNotifyOn(t *testing.T, srv *redistest.Server) {
	t.Helper()
	got := srv.MustDo("CONFIG", "GET", "notify-keyspace-events").([]any)[1].(string)
	if missing := redisproto.MissingNotifyClasses(got); missing != "" {
		t.Errorf("notify-keyspace-events = %q, missing %q", got, missing)
	}
}

// TestWatchConfigLost: when a resubscription finds the classes gone, the
// watch sends an OpResync with Err set, and a plain OpResync once they are
// back.
func TestWatchConfigLost(t *testing.T) {
	srv := redistest.Start(t, nil)
	s := openStore(t, srv.Addr(), nil)
	ctx := testContext(t)
	ch := startWatch(ctx, t, s, "c:*")

	srv.MustDo("CONFIG", "SET", "notify-keyspace-events", "")
	srv.MustDo("CLIENT", "KILL", "TYPE", "pubsub")
	e := waitEvent(t, ch, "a resync with an error", isResync(true))
	if !errors.Is(e.Err, kv.ErrNotSupported) || !strings.Contains(e.Err.Error(), "notify-keyspace-events") {
		t.Errorf("resync error = %v, want kv.ErrNotSupported naming notify-keyspace-events", e.Err)
	}

	srv.MustDo("CONFIG", "SET", "notify-keyspace-events", "KA")
	waitEvent(t, ch, "a resync once the classes are back", isResync(false))
	setAndSee(ctx, t, s, ch, "c:1")
}

// TestWatchConfigUnavailable: a server without CONFIG (miniredis here, a
// managed service in production) gets a warning, and the watch starts.
func TestWatchConfigUnavailable(t *testing.T) {
	m := miniredis.RunT(t)
	core, logs := observer.New(zap.WarnLevel)
	s := openStoreWith(t, miniOption(m), &rueidiskv.Options{DisableCache: true, Logger: zap.New(core)})
	ctx, cancel := context.WithCancel(testContext(t))
	ch := startWatch(ctx, t, s, "*")
	if logs.FilterMessageSnippet("notify-keyspace-events").Len() != 1 {
		t.Errorf("log = %v, want one warning about notify-keyspace-events", logs.All())
	}
	cancel()
	for range ch {
	}
}

// TestWatchMatchesLikeScan: a watch reports the keys kv.Match accepts, even
// where Redis's channel matching differs ("**" matches the empty channel
// suffix, not the empty key).
func TestWatchMatchesLikeScan(t *testing.T) {
	srv := redistest.Start(t, nil)
	s := openStore(t, srv.Addr(), nil)
	ctx := testContext(t)
	ch := startWatch(ctx, t, s, "**")
	if err := s.Set(ctx, "", []byte("v")); err != nil {
		t.Fatal(err)
	}
	if err := s.Set(ctx, "x", []byte("v")); err != nil {
		t.Fatal(err)
	}
	if e := waitEvent(t, ch, "any event", func(kv.Event) bool { return true }); e.Key != "x" {
		t.Errorf("Watch(**) reported %v, want only the key x (kv.Match(**, \"\") is false)", e)
	}
}

// TestWatchDatabase: a store over a client of database 3 watches that
// database's notifications, whether Dial told it the database or New had
// to ask the server.
func TestWatchDatabase(t *testing.T) {
	srv := redistest.Start(t, nil)
	ctx := testContext(t)
	host, port := splitHostPort(t, srv.Addr())
	dialled, err := rueidiskv.Dial(ctx, rueidiskv.Config{Host: host, Port: port, DB: 3}, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer dialled.Close()
	wrapped := rueidiskv.New(dialled.Client(), nil)
	defer wrapped.Close()
	for name, s := range map[string]*rueidiskv.Store{"Dial": dialled, "New": wrapped} {
		ch := startWatch(ctx, t, s, "db:*")
		srv.MustDo("SET", "db:0", "v") // database 0: not reported
		setAndSee(ctx, t, s, ch, "db:"+name)
	}
}

// TestWatchEnds: a watch channel closes when its context ends and when the
// store closes; the package's goleak check shows no goroutine is left.
func TestWatchEnds(t *testing.T) {
	srv := realRedis(t)
	s := openStore(t, srv.Addr(), nil)
	ctx, cancel := context.WithCancel(testContext(t))
	byCtx := startWatch(ctx, t, s, "end:ctx:*")
	byClose := startWatch(testContext(t), t, s, "end:close:*")
	cancel()
	drain(t, byCtx, "after its context ended")
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	drain(t, byClose, "after Close")
}

func drain(t *testing.T, ch <-chan kv.Event, when string) {
	t.Helper()
	timer := time.NewTimer(eventBound)
	defer timer.Stop()
	for {
		select {
		case _, ok := <-ch:
			if !ok {
				return
			}
		case <-timer.C:
			t.Fatalf("the watch channel is still open %v", when)
		}
	}
}
