package backendtest

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/cledar/storekit/internal/redistest"
	"github.com/cledar/storekit/kv"
)

// Bounds of the deadline tests.
const (
	// callDeadline is the deadline of each call made while the server
	// does not answer.
	callDeadline = 500 * time.Millisecond
	// deadlineSlack is how long after its deadline a call may return on a
	// loaded machine; a call that waits for the server instead (the pause
	// lasts pauseFor) takes far longer.
	deadlineSlack = 1500 * time.Millisecond
	// pauseFor is the length of the CLIENT PAUSE (which CLIENT UNPAUSE
	// cannot cut short: it is paused too).
	pauseFor = 3 * time.Second
)

// RunDeadlines checks that every call of a store returns by its context's
// deadline while its server does not answer: paused with CLIENT PAUSE ALL,
// killed, or behind a proxy that black-holes the connections (as a network
// partition does).
// newStore returns a store over a client of the server at addr; the test
// closes it.
func RunDeadlines(t *testing.T, newStore func(t *testing.T, addr string) kv.Store) {
	t.Run("Pause", func(t *testing.T) {
		srv := redistest.Start(t, nil)
		s := newStore(t, srv.Addr())
		warmUp(t, s)
		srv.MustDo("CLIENT", "PAUSE", fmt.Sprint(pauseFor.Milliseconds()), "ALL")
		CheckCallsWithin(t, s)
	})
	t.Run("Kill", func(t *testing.T) {
		srv := redistest.Start(t, nil)
		s := newStore(t, srv.Addr())
		warmUp(t, s)
		srv.Kill()
		CheckCallsWithin(t, s)
	})
	t.Run("Blackhole", func(t *testing.T) {
		srv := redistest.Start(t, nil)
		proxy := redistest.StartProxy(t, srv.Addr())
		s := newStore(t, proxy.Addr())
		warmUp(t, s)
		proxy.Blackhole()
		CheckCallsWithin(t, s)
	})
}

// warmUp makes s open its connections, so that the calls under test find
// them made.
func warmUp(t *testing.T, s kv.Store) {
	t.Helper()
	ctx := Context(t)
	if err := s.Set(ctx, "deadline:warm", []byte("v")); err != nil {
		t.Fatalf("Set before the fault: %v", err)
	}
	if _, err := s.Get(ctx, "deadline:warm"); err != nil {
		t.Fatalf("Get before the fault: %v", err)
	}
}

// A timedCall is the outcome of one call made with a deadline.
type timedCall struct {
	name string
	took time.Duration
	err  error
}

// CheckCallsWithin calls every method of s at once, each with a context
// whose deadline is callDeadline away, and checks that each returns an error
// within callDeadline + deadlineSlack. It logs the slowest call and the
// errors by kind.
func CheckCallsWithin(t *testing.T, s kv.Store) {
	t.Helper()
	var (
		mu    sync.Mutex
		calls []timedCall
		wg    sync.WaitGroup
	)
	ForEachCall(s, "deadline:k", func(name string, call func(ctx context.Context) error) {
		wg.Go(func() {
			ctx, cancel := context.WithTimeout(context.Background(), callDeadline)
			defer cancel()
			start := time.Now()
			err := call(ctx)
			took := time.Since(start)
			mu.Lock()
			calls = append(calls, timedCall{name, took, err})
			mu.Unlock()
		})
	})
	wg.Wait()
	slices.SortFunc(calls, func(a, b timedCall) int { return int(b.took - a.took) })
	kinds := make(map[string][]string)
	for _, c := range calls {
		if c.took > callDeadline+deadlineSlack {
			t.Errorf("%s returned %v after its start, its deadline being %v: %v", c.name, c.took, callDeadline, c.err)
		}
		if c.err == nil {
			t.Errorf("%s succeeded while the server did not answer", c.name)
		}
		kinds[ErrorKind(c.err)] = append(kinds[ErrorKind(c.err)], c.name)
	}
	t.Logf("%d calls with a %v deadline: slowest %s %v; errors by kind: %v", len(calls), callDeadline,
		calls[0].name, calls[0].took.Round(time.Millisecond), kinds)
}

// ErrorKind names the sentinel or context error err wraps, for reports.
func ErrorKind(err error) string {
	for _, k := range []struct {
		err  error
		name string
	}{
		{nil, "nil"},
		{context.DeadlineExceeded, "DeadlineExceeded"},
		{context.Canceled, "Canceled"},
		{kv.ErrNotFound, "ErrNotFound"},
		{kv.ErrUnavailable, "ErrUnavailable"},
		{kv.ErrClosed, "ErrClosed"},
		{kv.ErrNotSupported, "ErrNotSupported"},
		{kv.ErrWrongType, "ErrWrongType"},
		{kv.ErrInvalid, "ErrInvalid"},
	} {
		if (k.err == nil && err == nil) || (k.err != nil && errors.Is(err, k.err)) {
			return k.name
		}
	}
	return "other(" + strings.SplitN(err.Error(), ":", 3)[0] + ")"
}
