// Package backendtest holds the tests that every Redis backend of storekit
// shares beyond the conformance suite: what a watch does when its
// connection, its server or the server's notification settings change under
// it, what the calls return when the server is gone, answers with an error,
// refuses a login, the context is done or the store is closed, how a store
// spreads its work over a cluster, and the helpers of the backends' own
// tests and benchmarks. A [Backend] describes a backend to them. It is
// imported only by _test.go files.
package backendtest

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

	"github.com/cledar/storekit/internal/redistest"
	"github.com/cledar/storekit/internal/rediswatch"
	"github.com/cledar/storekit/kv"
)

// RunWatch runs the watch tests against b, each in a subtest with a
// redis-server of its own (the restart and configuration tests change it).
func RunWatch(t *testing.T, b Backend) {
	tests := []struct {
		name string
		run  func(t *testing.T, b Backend)
	}{
		{"KilledConnection", watchKilledConnection},
		{"Restart", watchRestart},
		{"NotifyOff", watchNotifyOff},
		{"EnableKeyspaceEvents", watchEnableKeyspaceEvents},
		{"ConfigLost", watchConfigLost},
		{"ConfigUnavailable", watchConfigUnavailable},
		{"MatchesLikeScan", watchMatchesLikeScan},
		{"Ends", watchEnds},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) { tt.run(t, b) })
	}
}

// Context returns a context that ends with the test, bounded by a generous
// hang limit.
func Context(t testing.TB) context.Context {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), testTimeout)
	t.Cleanup(cancel)
	return ctx
}

// Eventually calls f until it returns nil, failing the test if it still
// fails after 10 seconds.
func Eventually(t testing.TB, what string, f func() error) {
	t.Helper()
	deadline := time.Now().Add(retryBound)
	for {
		err := f()
		if err == nil {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s: still failing after %v: %v", what, retryBound, err)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// WaitEvent reads ch until an event satisfies match, and returns it. It
// fails the test if ch closes or nothing matches within the hang bound.
func WaitEvent(t testing.TB, ch <-chan kv.Event, what string, match func(kv.Event) bool) kv.Event {
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

// IsOp matches an event of op on key.
func IsOp(op kv.Op, key string) func(kv.Event) bool {
	return func(e kv.Event) bool { return e.Op == op && e.Key == key }
}

// IsResync matches an OpResync with, or without, an error.
func IsResync(withErr bool) func(kv.Event) bool {
	return func(e kv.Event) bool { return e.Op == kv.OpResync && (e.Err != nil) == withErr }
}

// StartWatch watches pattern on s and checks that the first event is an
// OpResync without an error.
func StartWatch(ctx context.Context, t testing.TB, s kv.Store, pattern string) <-chan kv.Event {
	t.Helper()
	w, ok := s.(kv.Watcher)
	if !ok {
		t.Fatalf("%T does not implement kv.Watcher", s)
	}
	ch, err := w.Watch(ctx, pattern)
	if err != nil {
		t.Fatalf("Watch(%q): %v", pattern, err)
	}
	if e := <-ch; e.Op != kv.OpResync || e.Err != nil {
		t.Fatalf("first event = %v, want a resync", e)
	}
	return ch
}

// SetAndSee sets key and waits for its OpSet. The Set is retried for a
// while: right after a server restart a client that does not retry writes
// (rueidis) may fail the first one on a connection it has not yet found
// closed.
func SetAndSee(ctx context.Context, t testing.TB, s kv.Store, ch <-chan kv.Event, key string) {
	t.Helper()
	Eventually(t, "Set("+key+")", func() error { return s.Set(ctx, key, []byte("v")) })
	WaitEvent(t, ch, "set "+key, IsOp(kv.OpSet, key))
}

// Drain reads ch until it closes, failing the test if it stays open past
// the hang bound.
func Drain(t testing.TB, ch <-chan kv.Event, when string) {
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

// watchKilledConnection: killing the subscriber's connection while keys
// change yields an OpResync, and events flow again afterwards.
func watchKilledConnection(t *testing.T, b Backend) {
	srv := redistest.Start(t, nil)
	s := b.New(t, srv.Addr(), Options{})
	ctx := Context(t)
	ch := StartWatch(ctx, t, s, "w:*")
	SetAndSee(ctx, t, s, ch, "w:before")

	writer, stop := context.WithCancel(ctx)
	var wg sync.WaitGroup
	wg.Go(func() {
		for writer.Err() == nil {
			_ = s.Set(writer, "w:during", []byte("v"))
			time.Sleep(time.Millisecond)
		}
	})
	srv.MustDo("CLIENT", "KILL", "TYPE", "pubsub")
	WaitEvent(t, ch, "a resync after the killed connection", IsResync(false))
	stop()
	wg.Wait()
	SetAndSee(ctx, t, s, ch, "w:after")
}

// watchRestart: after the server restarts, the watch resubscribes, reports
// a resync, and delivers events again.
func watchRestart(t *testing.T, b Backend) {
	srv := redistest.Start(t, nil)
	s := b.New(t, srv.Addr(), Options{})
	ctx := Context(t)
	ch := StartWatch(ctx, t, s, "r:*")
	SetAndSee(ctx, t, s, ch, "r:1")
	srv.Restart()
	WaitEvent(t, ch, "a resync after the restart", IsResync(false))
	SetAndSee(ctx, t, s, ch, "r:2")
}

// watchNotifyOff: with keyspace notifications off, Watch fails with an
// error that names the fix, and leaves the server's setting alone.
func watchNotifyOff(t *testing.T, b Backend) {
	srv := redistest.Start(t, &redistest.Options{Args: []string{"--notify-keyspace-events", "Ex"}})
	s := b.New(t, srv.Addr(), Options{})
	ch, err := s.(kv.Watcher).Watch(Context(t), "*")
	if ch != nil || err == nil {
		t.Fatalf("Watch with notify-keyspace-events Ex = %v, %v; want an error", ch, err)
	}
	var nce *rediswatch.NotifyConfigError
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

// watchEnableKeyspaceEvents: with the option set, Watch turns the classes
// on, and turns them on again after a restart undoes it.
func watchEnableKeyspaceEvents(t *testing.T, b Backend) {
	srv := redistest.Start(t, &redistest.Options{Args: []string{"--notify-keyspace-events", ""}})
	s := b.New(t, srv.Addr(), Options{EnableKeyspaceEvents: true})
	ctx := Context(t)
	ch := StartWatch(ctx, t, s, "e:*")
	checkNotifyOn(t, srv)
	SetAndSee(ctx, t, s, ch, "e:1")

	srv.Restart() // back to notify-keyspace-events ""
	WaitEvent(t, ch, "a resync after the restart", IsResync(false))
	checkNotifyOn(t, srv)
	SetAndSee(ctx, t, s, ch, "e:2")
}

func checkNotifyOn(t *testing.T, srv *redistest.Server) {
	t.Helper()
	got := srv.MustDo("CONFIG", "GET", "notify-keyspace-events").([]any)[1].(string)
	if missing := rediswatch.MissingNotifyClasses(got); missing != "" {
		t.Errorf("notify-keyspace-events = %q, missing %q", got, missing)
	}
}

// watchConfigLost: when a resubscription finds the classes gone, the watch
// sends an OpResync with Err set, and a plain OpResync once they are back.
func watchConfigLost(t *testing.T, b Backend) {
	srv := redistest.Start(t, nil)
	s := b.New(t, srv.Addr(), Options{})
	ctx := Context(t)
	ch := StartWatch(ctx, t, s, "c:*")

	srv.MustDo("CONFIG", "SET", "notify-keyspace-events", "")
	srv.MustDo("CLIENT", "KILL", "TYPE", "pubsub")
	e := WaitEvent(t, ch, "a resync with an error", IsResync(true))
	if !errors.Is(e.Err, kv.ErrNotSupported) || !strings.Contains(e.Err.Error(), "notify-keyspace-events") {
		t.Errorf("resync error = %v, want kv.ErrNotSupported naming notify-keyspace-events", e.Err)
	}

	srv.MustDo("CONFIG", "SET", "notify-keyspace-events", "KA")
	WaitEvent(t, ch, "a resync once the classes are back", IsResync(false))
	SetAndSee(ctx, t, s, ch, "c:1")
}

// watchConfigUnavailable: a server without CONFIG (miniredis here, a
// managed service in production) gets one warning, and the watch starts.
func watchConfigUnavailable(t *testing.T, b Backend) {
	m := miniredis.RunT(t)
	core, logs := observer.New(zap.WarnLevel)
	s := b.NewOnMiniredis(t, m, Options{Logger: zap.New(core)})
	ctx, cancel := context.WithCancel(Context(t))
	ch := StartWatch(ctx, t, s, "*")
	if logs.FilterMessageSnippet("notify-keyspace-events").Len() != 1 {
		t.Errorf("log = %v, want one warning about notify-keyspace-events", logs.All())
	}
	cancel()
	Drain(t, ch, "after its context ended")
}

// watchMatchesLikeScan: a watch reports the keys kv.Match accepts, even
// where Redis's channel matching differs ("**" matches the empty channel
// suffix, not the empty key).
func watchMatchesLikeScan(t *testing.T, b Backend) {
	srv := redistest.Start(t, nil)
	s := b.New(t, srv.Addr(), Options{})
	ctx := Context(t)
	ch := StartWatch(ctx, t, s, "**")
	if err := s.Set(ctx, "", []byte("v")); err != nil {
		t.Fatal(err)
	}
	if err := s.Set(ctx, "x", []byte("v")); err != nil {
		t.Fatal(err)
	}
	if e := WaitEvent(t, ch, "any event", func(kv.Event) bool { return true }); e.Key != "x" {
		t.Errorf("Watch(**) reported %v, want only the key x (kv.Match(**, \"\") is false)", e)
	}
}

// watchEnds: a watch channel closes when its context ends and when the
// store closes; the calling package's goleak check shows no goroutine is
// left.
func watchEnds(t *testing.T, b Backend) {
	srv := redistest.New(t)
	s := b.New(t, srv.Addr(), Options{})
	ctx, cancel := context.WithCancel(Context(t))
	byCtx := StartWatch(ctx, t, s, "end:ctx:*")
	byClose := StartWatch(Context(t), t, s, "end:close:*")
	cancel()
	Drain(t, byCtx, "after its context ended")
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	Drain(t, byClose, "after Close")
}
