package rediswatch

import (
	"context"
	"errors"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"go.uber.org/zap"
	"go.uber.org/zap/zaptest/observer"

	"github.com/cledar/storekit/internal/eventq"
	"github.com/cledar/storekit/kv"
)

func TestEventOp(t *testing.T) {
	tests := []struct {
		event string
		op    kv.Op
		ok    bool
	}{
		{"set", kv.OpSet, true},
		{"setrange", kv.OpSet, true},
		{"incrby", kv.OpSet, true},
		{"incrbyfloat", kv.OpSet, true},
		{"append", kv.OpSet, true},
		{"lset", kv.OpSet, true},
		{"rename_to", kv.OpSet, true},
		{"copy_to", kv.OpSet, true},
		{"restore", kv.OpSet, true},
		{"del", kv.OpDelete, true},
		{"evicted", kv.OpDelete, true},
		{"rename_from", kv.OpDelete, true},
		{"move_from", kv.OpDelete, true},
		{"expire", kv.OpExpire, true},
		{"expired", kv.OpExpired, true},
		{"rpush", kv.OpAppend, true},
		{"lpush", kv.OpAppend, true},
		{"linsert", kv.OpAppend, true},
		{"persist", kv.OpOther, true},
		{"ltrim", kv.OpOther, true},
		{"hset", kv.OpOther, true},
		{"", kv.OpOther, true},
		{"new", 0, false},
		{"keymiss", 0, false},
	}
	for _, tt := range tests {
		op, ok := EventOp(tt.event)
		if op != tt.op || ok != tt.ok {
			t.Errorf("EventOp(%q) = %v, %v; want %v, %v", tt.event, op, ok, tt.op, tt.ok)
		}
	}
}

func TestKeyspaceChannel(t *testing.T) {
	if got, want := KeyspaceChannelPattern(0, "user:*"), "__keyspace@0__:user:*"; got != want {
		t.Errorf("KeyspaceChannelPattern(0, user:*) = %q, want %q", got, want)
	}
	if got, want := KeyspaceChannelPattern(15, ""), "__keyspace@15__:"; got != want {
		t.Errorf("KeyspaceChannelPattern(15, \"\") = %q, want %q", got, want)
	}
	for _, key := range []string{"", "k", "a__:b", "__keyspace@0__:x", "\x00\xff", "sp ace\n"} {
		for _, db := range []int{0, 3, 12} {
			ch := KeyspaceChannelPattern(db, key) // a key is also a literal channel suffix
			got, ok := KeyFromChannel(ch)
			if !ok || got != key {
				t.Errorf("KeyFromChannel(%q) = %q, %v; want %q, true", ch, got, ok, key)
			}
		}
	}
	for _, ch := range []string{"", "__keyspace@", "__keyspace@__:k", "__keyevent@0__:set", "__keyspace@0_:k", "__keyspace@x__:k", "other"} {
		if k, ok := KeyFromChannel(ch); ok {
			t.Errorf("KeyFromChannel(%q) = %q, true; want false", ch, k)
		}
	}
}

func TestKeyspaceEvent(t *testing.T) {
	for _, tt := range []struct {
		pattern, channel, message string
		want                      kv.Event
		ok                        bool
	}{
		{"user:*", "__keyspace@0__:user:1", "set", kv.Event{Op: kv.OpSet, Key: "user:1"}, true},
		{"user:*", "__keyspace@3__:user:1", "rpush", kv.Event{Op: kv.OpAppend, Key: "user:1"}, true},
		{"user:*", "__keyspace@0__:other", "set", kv.Event{}, false},  // key does not match
		{"user:*", "__keyspace@0__:user:1", "new", kv.Event{}, false}, // not a change
		{"user:*", "__keyevent@0__:set", "user:1", kv.Event{}, false}, // not a keyspace channel
		{"**", "__keyspace@0__:", "set", kv.Event{}, false},           // the server's match, not kv.Match's
		{"**", "__keyspace@0__:x", "del", kv.Event{Op: kv.OpDelete, Key: "x"}, true},
	} {
		got, ok := KeyspaceEvent(tt.pattern, tt.channel, tt.message)
		if got != tt.want || ok != tt.ok {
			t.Errorf("KeyspaceEvent(%q, %q, %q) = %v, %v; want %v, %v", tt.pattern, tt.channel, tt.message, got, ok, tt.want, tt.ok)
		}
	}
}

func TestNotifyConfig(t *testing.T) {
	tests := []struct{ value, missing string }{
		{"", "Kg$lx"},
		{"KEA", ""},
		{"AKE", ""},
		{"KA", ""},
		{"Kg$lx", ""},
		{"xl$gK", ""},
		{"EA", "K"},
		{"Ex", "Kg$l"},
		{"K$", "glx"},
		{"Kg$l", "x"},
		{"Kg$lshzted", "x"},
	}
	for _, tt := range tests {
		if got := MissingNotifyClasses(tt.value); got != tt.missing {
			t.Errorf("MissingNotifyClasses(%q) = %q, want %q", tt.value, got, tt.missing)
		}
		merged := MergeNotifyClasses(tt.value)
		if !strings.HasPrefix(merged, tt.value) || MissingNotifyClasses(merged) != "" {
			t.Errorf("MergeNotifyClasses(%q) = %q: lost the old classes or still misses some", tt.value, merged)
		}
		err := CheckNotifyConfig(tt.value)
		if (err == nil) != (tt.missing == "") {
			t.Errorf("CheckNotifyConfig(%q) = %v, want an error: %v", tt.value, err, tt.missing != "")
			continue
		}
		if err == nil {
			continue
		}
		var nce *NotifyConfigError
		if !errors.As(err, &nce) || nce.Missing != tt.missing || nce.Value != tt.value {
			t.Errorf("CheckNotifyConfig(%q) = %#v, want a *NotifyConfigError missing %q", tt.value, err, tt.missing)
		}
		if !errors.Is(err, kv.ErrNotSupported) {
			t.Errorf("CheckNotifyConfig(%q) does not wrap kv.ErrNotSupported", tt.value)
		}
		msg := err.Error()
		for _, want := range []string{"CONFIG SET notify-keyspace-events KEA", tt.missing, "EnableKeyspaceEvents"} {
			if !strings.Contains(msg, want) {
				t.Errorf("CheckNotifyConfig(%q) error %q does not mention %q", tt.value, msg, want)
			}
		}
	}
}

func TestEnsureNotify(t *testing.T) {
	ctx := context.Background()
	log := zap.NewNop()
	f := &fakeNotify{value: "KEA"}
	if err := EnsureNotify(ctx, f.access(), false, log, "b"); err != nil {
		t.Errorf("EnsureNotify(KEA) = %v", err)
	}
	f.value = "Ex"
	err := EnsureNotify(ctx, f.access(), false, log, "b")
	var nce *NotifyConfigError
	if !errors.As(err, &nce) || nce.Missing != "Kg$l" || f.sets != 0 {
		t.Errorf("EnsureNotify(Ex) = %v after %d sets, want a NotifyConfigError and no CONFIG SET", err, f.sets)
	}
	if err := EnsureNotify(ctx, f.access(), true, log, "b"); err != nil || f.value != "ExKg$l" || f.sets != 1 {
		t.Errorf("EnsureNotify(Ex, enable) = %v, value %q after %d sets", err, f.value, f.sets)
	}

	f.err = kv.ErrUnavailable
	if err := EnsureNotify(ctx, f.access(), true, log, "b"); !errors.Is(err, kv.ErrUnavailable) {
		t.Errorf("EnsureNotify of an unreachable server = %v", err)
	}
	core, logs := observer.New(zap.WarnLevel)
	f.err = errors.New("ERR unknown command 'config'")
	if err := EnsureNotify(ctx, f.access(), true, zap.New(core), "b"); err != nil {
		t.Errorf("EnsureNotify when CONFIG is refused = %v, want nil", err)
	}
	if logs.FilterMessageSnippet("b: cannot read notify-keyspace-events").Len() != 1 {
		t.Errorf("log = %v, want one warning", logs.All())
	}
	// A CONFIG GET reply without the setting is taken as a refusal too.
	core, logs = observer.New(zap.WarnLevel)
	noValue := NotifyAccess{
		Addr:        "fake:2",
		Get:         func(context.Context) (map[string]string, error) { return map[string]string{}, nil },
		Unreachable: func(context.Context, error) bool { return false },
	}
	if err := EnsureNotify(ctx, noValue, true, zap.New(core), "b"); err != nil {
		t.Errorf("EnsureNotify when CONFIG GET returns no value = %v, want nil", err)
	}
	if logs.FilterMessageSnippet("b: cannot read notify-keyspace-events").Len() != 1 {
		t.Errorf("log = %v, want one warning", logs.All())
	}
}

func TestResyncer(t *testing.T) {
	ctx := context.Background()
	q := eventq.New(ctx, 100)
	defer q.Close()
	var fail atomic.Bool
	checkErr := errors.New("classes missing")
	r := NewResyncer("b", q, zap.NewNop(), func(context.Context) error {
		if fail.Load() {
			return checkErr
		}
		return nil
	})
	defer r.Stop()
	r.min, r.max = time.Millisecond, 4*time.Millisecond

	next := func() kv.Event { t.Helper(); return nextEvent(t, q.C()) }
	none := func() {
		t.Helper()
		select {
		case e := <-q.C():
			t.Fatalf("unexpected event %v", e)
		case <-time.After(20 * time.Millisecond):
		}
	}

	r.Verify(ctx, false) // a healthy check that follows no resubscription: nothing to say
	none()
	r.Verify(ctx, true)
	if e := next(); e.Op != kv.OpResync || e.Err != nil {
		t.Fatalf("after a resubscription: %v, want a plain resync", e)
	}

	fail.Store(true)
	r.Verify(ctx, true)
	if e := next(); e.Op != kv.OpResync || !errors.Is(e.Err, checkErr) {
		t.Fatalf("after a failing resubscription: %v, want a resync with the error", e)
	}
	// Rechecks while failing say nothing more...
	for range 3 {
		select {
		case <-r.Recheck():
			r.Verify(ctx, false)
		case <-time.After(5 * time.Second):
			t.Fatal("no recheck while failing")
		}
	}
	none()
	if r.backoff != r.max {
		t.Errorf("backoff = %v after repeated failures, want the maximum %v", r.backoff, r.max)
	}
	// ...until the classes are back.
	fail.Store(false)
	<-r.Recheck()
	r.Verify(ctx, false)
	if e := next(); e.Op != kv.OpResync || e.Err != nil {
		t.Fatalf("once delivery is back: %v, want a plain resync", e)
	}
	select {
	case <-r.Recheck():
		t.Fatal("a recheck was armed after a successful check")
	case <-time.After(20 * time.Millisecond):
	}
}

// TestResyncerUnreachable: a check that cannot reach the server is tried
// again at once a few times; while it still cannot, a resubscription gets a
// plain OpResync (the subscription is live; nothing says the notifications
// are off) and the check runs again later; a check that then finds the
// classes missing reports it.
func TestResyncerUnreachable(t *testing.T) {
	ctx := context.Background()
	q := eventq.New(ctx, 100)
	defer q.Close()
	var calls atomic.Int32
	var state atomic.Int32 // 0: unreachable, 1: unreachable once, then fine, 2: classes missing
	missing := &NotifyConfigError{Value: "", Missing: "Kg$lx"}
	r := NewResyncer("b", q, zap.NewNop(), func(context.Context) error {
		n := calls.Add(1)
		switch state.Load() {
		case 0:
			return &UnreachableError{Err: kv.ErrUnavailable}
		case 1:
			if n == 1 {
				return &UnreachableError{Err: kv.ErrUnavailable}
			}
			return nil
		}
		return missing
	})
	defer r.Stop()
	next := func() kv.Event { t.Helper(); return nextEvent(t, q.C()) }

	state.Store(1)
	r.Verify(ctx, true)
	if e := next(); e.Op != kv.OpResync || e.Err != nil || calls.Load() != 2 {
		t.Fatalf("after a resubscription whose first check could not reach the server: %v after %d checks, "+
			"want a plain resync after 2", e, calls.Load())
	}

	calls.Store(0)
	state.Store(0)
	r.Verify(ctx, true)
	if e := next(); e.Op != kv.OpResync || e.Err != nil {
		t.Fatalf("after a resubscription whose checks cannot reach the server: %v, want a plain resync", e)
	}
	if calls.Load() < 2 {
		t.Errorf("%d checks, want a few tries before giving up", calls.Load())
	}
	state.Store(2)
	select {
	case <-r.Recheck():
		r.Verify(ctx, false)
	case <-time.After(5 * time.Second):
		t.Fatal("no recheck after a check that could not reach the server")
	}
	if e := next(); e.Op != kv.OpResync || !errors.Is(e.Err, kv.ErrNotSupported) {
		t.Fatalf("once the server answers that the classes are missing: %v, want a resync with the error", e)
	}
}

// fakeNotify is a server's notify-keyspace-events setting behind
// NotifyAccess functions.
type fakeNotify struct {
	mu    sync.Mutex
	value string
	err   error // returned by Get
	sets  int
}

func (f *fakeNotify) access() NotifyAccess {
	return NotifyAccess{
		Addr: "fake:1",
		Get: func(context.Context) (map[string]string, error) {
			f.mu.Lock()
			defer f.mu.Unlock()
			if f.err != nil {
				return nil, f.err
			}
			return map[string]string{NotifyParam: f.value}, nil
		},
		Set: func(_ context.Context, v string) error {
			f.mu.Lock()
			defer f.mu.Unlock()
			f.value = v
			f.sets++
			return nil
		},
		Unreachable: func(_ context.Context, err error) bool { return errors.Is(err, kv.ErrUnavailable) },
	}
}
