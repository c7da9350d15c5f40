package memory

import (
	"context"
	"errors"
	"math"
	"testing"
	"time"

	"github.com/cledar/storekit/kv"
)

// expect fails the test unless the next events on ch are want, in order.
func expect(t *testing.T, ch <-chan kv.Event, want ...kv.Event) {
	t.Helper()
	for _, w := range want {
		if got := next(t, ch); got != w {
			t.Fatalf("event %v, want %v", got, w)
		}
	}
}

// quiet fails the test if ch holds an event: it writes a marker key and
// expects its OpSet to be the next event.
func quiet(t *testing.T, s *Store, ch <-chan kv.Event) {
	t.Helper()
	if err := s.Set(context.Background(), "marker", nil); err != nil {
		t.Fatal(err)
	}
	expect(t, ch, kv.Event{Op: kv.OpSet, Key: "marker"})
}

// passTime moves clock past d without firing its timers, so that the
// expirer does not free expired keys: the call under test meets them.
func passTime(clock *ManualClock, d time.Duration) {
	clock.mu.Lock()
	clock.now = clock.now.Add(d)
	clock.mu.Unlock()
}

// wantValue fails the test unless key holds the plain value want.
func wantValue(t *testing.T, s *Store, key, want string) {
	t.Helper()
	got, err := s.Get(context.Background(), key)
	if err != nil || string(got) != want {
		t.Fatalf("Get(%q) = %q, %v; want %q", key, got, err, want)
	}
}

// wantTTL fails the test unless key's TTL is want.
func wantTTL(t *testing.T, s *Store, key string, want time.Duration) {
	t.Helper()
	got, err := s.TTL(context.Background(), key)
	if err != nil || got != want {
		t.Fatalf("TTL(%q) = %v, %v; want %v", key, got, err, want)
	}
}

func set(k string) kv.Event     { return kv.Event{Op: kv.OpSet, Key: k} }
func del(k string) kv.Event     { return kv.Event{Op: kv.OpDelete, Key: k} }
func expire(k string) kv.Event  { return kv.Event{Op: kv.OpExpire, Key: k} }
func expired(k string) kv.Event { return kv.Event{Op: kv.OpExpired, Key: k} }
func appnd(k string) kv.Event   { return kv.Event{Op: kv.OpAppend, Key: k} }

func TestSetIfAbsent(t *testing.T) {
	ctx := context.Background()
	s, clock := newManualStore(t)
	ch := startWatch(t, s, "*")

	ok, err := s.SetIfAbsent(ctx, "k", []byte("first"), 0)
	if err != nil || !ok {
		t.Fatalf("SetIfAbsent on a missing key = %v, %v; want true", ok, err)
	}
	expect(t, ch, set("k"))
	wantTTL(t, s, "k", kv.NoExpiry)

	ok, err = s.SetIfAbsent(ctx, "k", []byte("second"), time.Second)
	if err != nil || ok {
		t.Fatalf("SetIfAbsent on an existing key = %v, %v; want false", ok, err)
	}
	wantValue(t, s, "k", "first")
	wantTTL(t, s, "k", kv.NoExpiry)
	quiet(t, s, ch)

	_, _ = s.Append(ctx, "h", []byte("v1"))
	expect(t, ch, appnd("h"))
	if ok, err := s.SetIfAbsent(ctx, "h", []byte("x"), 0); err != nil || ok {
		t.Fatalf("SetIfAbsent on a history = %v, %v; want false: a history exists", ok, err)
	}

	ok, err = s.SetIfAbsent(ctx, "t", []byte("v"), time.Minute)
	if err != nil || !ok {
		t.Fatalf("SetIfAbsent with a TTL = %v, %v; want true", ok, err)
	}
	expect(t, ch, set("t"), expire("t"))
	wantTTL(t, s, "t", time.Minute)

	// An expired key is absent, even before the expirer frees it.
	passTime(clock, time.Minute)
	ok, err = s.SetIfAbsent(ctx, "t", []byte("again"), 0)
	if err != nil || !ok {
		t.Fatalf("SetIfAbsent on an expired key = %v, %v; want true", ok, err)
	}
	expect(t, ch, expired("t"), set("t"))
	wantValue(t, s, "t", "again")
	wantTTL(t, s, "t", kv.NoExpiry)

	ok, err = s.SetIfAbsent(ctx, "neg", []byte("v"), -time.Second)
	if !errors.Is(err, kv.ErrInvalid) || ok {
		t.Fatalf("SetIfAbsent with a negative TTL = %v, %v; want ErrInvalid", ok, err)
	}
	if _, err := s.Get(ctx, "neg"); !errors.Is(err, kv.ErrNotFound) {
		t.Fatalf("a rejected SetIfAbsent wrote: Get = %v", err)
	}
	quiet(t, s, ch)
}

func TestSetIfAbsentExpiresWithItsTTL(t *testing.T) {
	ctx := context.Background()
	s, clock := newManualStore(t)
	ch := startWatch(t, s, "*")
	if _, err := s.SetIfAbsent(ctx, "k", []byte("v"), time.Second); err != nil {
		t.Fatal(err)
	}
	expect(t, ch, set("k"), expire("k"))
	clock.Advance(time.Second)
	expect(t, ch, expired("k"))
}

func TestCompareAndSwap(t *testing.T) {
	ctx := context.Background()
	s, clock := newManualStore(t)
	ch := startWatch(t, s, "*")

	if ok, err := s.CompareAndSwap(ctx, "k", []byte("a"), []byte("b"), 0); err != nil || ok {
		t.Fatalf("CompareAndSwap on a missing key = %v, %v; want false", ok, err)
	}
	if _, err := s.Get(ctx, "k"); !errors.Is(err, kv.ErrNotFound) {
		t.Fatalf("CompareAndSwap created a missing key: Get = %v", err)
	}
	quiet(t, s, ch)

	_ = s.SetWithTTL(ctx, "k", []byte("a"), time.Minute)
	expect(t, ch, set("k"), expire("k"))

	if ok, err := s.CompareAndSwap(ctx, "k", []byte("x"), []byte("b"), 0); err != nil || ok {
		t.Fatalf("CompareAndSwap with the wrong old value = %v, %v; want false", ok, err)
	}
	wantValue(t, s, "k", "a")
	quiet(t, s, ch)

	// KeepTTL keeps the expiry, and the key still expires at its deadline.
	clock.Advance(10 * time.Second)
	if ok, err := s.CompareAndSwap(ctx, "k", []byte("a"), []byte("b"), kv.KeepTTL); err != nil || !ok {
		t.Fatalf("CompareAndSwap = %v, %v; want true", ok, err)
	}
	expect(t, ch, set("k"))
	quiet(t, s, ch)
	wantValue(t, s, "k", "b")
	wantTTL(t, s, "k", 50*time.Second)

	// A positive ttl sets a new expiry, even when the value does not change.
	if ok, err := s.CompareAndSwap(ctx, "k", []byte("b"), []byte("b"), time.Hour); err != nil || !ok {
		t.Fatalf("CompareAndSwap refreshing the expiry = %v, %v; want true", ok, err)
	}
	expect(t, ch, set("k"), expire("k"))
	wantTTL(t, s, "k", time.Hour)
	clock.Advance(time.Minute) // the old deadline passes: the key stays
	wantValue(t, s, "k", "b")
	clock.Advance(time.Hour)
	expect(t, ch, expired("k"))

	// KeepTTL on a key without expiry keeps it without one.
	_ = s.Set(ctx, "p", []byte("1"))
	expect(t, ch, set("p"))
	if ok, err := s.CompareAndSwap(ctx, "p", []byte("1"), []byte("2"), kv.KeepTTL); err != nil || !ok {
		t.Fatalf("CompareAndSwap = %v, %v; want true", ok, err)
	}
	expect(t, ch, set("p"))
	wantTTL(t, s, "p", kv.NoExpiry)

	// Empty values compare equal, however the caller spells them.
	_ = s.Set(ctx, "e", []byte{})
	expect(t, ch, set("e"))
	if ok, err := s.CompareAndSwap(ctx, "e", nil, []byte("x"), 0); err != nil || !ok {
		t.Fatalf("CompareAndSwap of an empty value with nil old = %v, %v; want true", ok, err)
	}
	expect(t, ch, set("e"))

	_ = s.Set(ctx, "neg", []byte("1"))
	expect(t, ch, set("neg"))
	if ok, err := s.CompareAndSwap(ctx, "neg", []byte("1"), []byte("2"), -time.Second); !errors.Is(err, kv.ErrInvalid) || ok {
		t.Fatalf("CompareAndSwap with a negative TTL = %v, %v; want ErrInvalid", ok, err)
	}
	wantValue(t, s, "neg", "1")

	_, _ = s.Append(ctx, "h", []byte("v1"))
	expect(t, ch, appnd("h"))
	if ok, err := s.CompareAndSwap(ctx, "h", []byte("v1"), []byte("x"), 0); !errors.Is(err, kv.ErrWrongType) || ok {
		t.Fatalf("CompareAndSwap on a history = %v, %v; want ErrWrongType", ok, err)
	}
	quiet(t, s, ch)

	// An expired key is missing.
	_ = s.SetWithTTL(ctx, "x", []byte("v"), time.Second)
	expect(t, ch, set("x"), expire("x"))
	passTime(clock, time.Second)
	if ok, err := s.CompareAndSwap(ctx, "x", []byte("v"), []byte("w"), 0); err != nil || ok {
		t.Fatalf("CompareAndSwap on an expired key = %v, %v; want false", ok, err)
	}
	expect(t, ch, expired("x"))
	quiet(t, s, ch)
}

func TestCompareAndDelete(t *testing.T) {
	ctx := context.Background()
	s, clock := newManualStore(t)
	ch := startWatch(t, s, "*")

	if ok, err := s.CompareAndDelete(ctx, "k", []byte("a")); err != nil || ok {
		t.Fatalf("CompareAndDelete on a missing key = %v, %v; want false", ok, err)
	}
	_ = s.Set(ctx, "k", []byte("a"))
	expect(t, ch, set("k"))
	if ok, err := s.CompareAndDelete(ctx, "k", []byte("b")); err != nil || ok {
		t.Fatalf("CompareAndDelete with the wrong value = %v, %v; want false", ok, err)
	}
	wantValue(t, s, "k", "a")
	quiet(t, s, ch)

	if ok, err := s.CompareAndDelete(ctx, "k", []byte("a")); err != nil || !ok {
		t.Fatalf("CompareAndDelete = %v, %v; want true", ok, err)
	}
	expect(t, ch, del("k"))
	if _, err := s.Get(ctx, "k"); !errors.Is(err, kv.ErrNotFound) {
		t.Fatalf("Get after CompareAndDelete = %v, want ErrNotFound", err)
	}

	_, _ = s.Append(ctx, "h", []byte("v1"))
	expect(t, ch, appnd("h"))
	if ok, err := s.CompareAndDelete(ctx, "h", []byte("v1")); !errors.Is(err, kv.ErrWrongType) || ok {
		t.Fatalf("CompareAndDelete on a history = %v, %v; want ErrWrongType", ok, err)
	}

	_ = s.SetWithTTL(ctx, "x", []byte("v"), time.Second)
	expect(t, ch, set("x"), expire("x"))
	passTime(clock, time.Second)
	if ok, err := s.CompareAndDelete(ctx, "x", []byte("v")); err != nil || ok {
		t.Fatalf("CompareAndDelete on an expired key = %v, %v; want false", ok, err)
	}
	expect(t, ch, expired("x"))
	quiet(t, s, ch)
}

func TestIncr(t *testing.T) {
	ctx := context.Background()
	s, clock := newManualStore(t)
	ch := startWatch(t, s, "*")

	for _, step := range []struct {
		delta, want int64
	}{{5, 5}, {-7, -2}, {0, -2}, {2, 0}} {
		n, err := s.Incr(ctx, "c", step.delta)
		if err != nil || n != step.want {
			t.Fatalf("Incr(%d) = %d, %v; want %d", step.delta, n, err, step.want)
		}
		expect(t, ch, set("c"))
	}
	wantValue(t, s, "c", "0")

	// The expiry is kept.
	_ = s.SetWithTTL(ctx, "t", []byte("41"), time.Minute)
	expect(t, ch, set("t"), expire("t"))
	if n, err := s.Incr(ctx, "t", 1); err != nil || n != 42 {
		t.Fatalf("Incr = %d, %v; want 42", n, err)
	}
	expect(t, ch, set("t"))
	wantValue(t, s, "t", "42")
	wantTTL(t, s, "t", time.Minute)

	// An expired counter counts as missing.
	passTime(clock, time.Minute)
	if n, err := s.Incr(ctx, "t", 3); err != nil || n != 3 {
		t.Fatalf("Incr of an expired key = %d, %v; want 3", n, err)
	}
	expect(t, ch, expired("t"), set("t"))
	wantTTL(t, s, "t", kv.NoExpiry)

	for _, bad := range []struct {
		value string
		delta int64
		err   error
	}{
		{"007", 1, kv.ErrWrongType},
		{"1.5", 1, kv.ErrWrongType},
		{"", 1, kv.ErrWrongType},
		{"9223372036854775807", 1, kv.ErrInvalid},
		{"-9223372036854775808", -1, kv.ErrInvalid},
		{"-1", math.MinInt64, kv.ErrInvalid},
	} {
		_ = s.Set(ctx, "b", []byte(bad.value))
		expect(t, ch, set("b"))
		if n, err := s.Incr(ctx, "b", bad.delta); !errors.Is(err, bad.err) {
			t.Errorf("Incr(%q, %d) = %d, %v; want an error wrapping %v", bad.value, bad.delta, n, err, bad.err)
		}
		wantValue(t, s, "b", bad.value)
		quiet(t, s, ch)
	}

	_, _ = s.Append(ctx, "h", []byte("1"))
	expect(t, ch, appnd("h"))
	if _, err := s.Incr(ctx, "h", 1); !errors.Is(err, kv.ErrWrongType) {
		t.Fatalf("Incr on a history = %v, want ErrWrongType", err)
	}
	quiet(t, s, ch)
}

func TestAppendIf(t *testing.T) {
	ctx := context.Background()
	s, clock := newManualStore(t)
	ch := startWatch(t, s, "*")

	for before, want := range []int64{1, 2, 3} {
		v, err := s.AppendIf(ctx, "h", []byte{byte('a' + before)}, int64(before))
		if err != nil || v != want {
			t.Fatalf("AppendIf(expect %d) = %d, %v; want %d", before, v, err, want)
		}
		expect(t, ch, appnd("h"))
	}

	for _, stale := range []int64{0, 2, 4} {
		v, err := s.AppendIf(ctx, "h", []byte("x"), stale)
		var vc *kv.VersionConflict
		if !errors.Is(err, kv.ErrConflict) || !errors.As(err, &vc) || v != 0 {
			t.Fatalf("AppendIf(expect %d) on version 3 = %d, %v; want a *kv.VersionConflict", stale, v, err)
		}
		if *vc != (kv.VersionConflict{Key: "h", Expected: stale, Latest: 3}) {
			t.Fatalf("conflict %+v, want key h, expected %d, latest 3", *vc, stale)
		}
	}
	if h, _ := s.History(ctx, "h"); len(h) != 3 {
		t.Fatalf("history has %d entries after conflicts, want 3", len(h))
	}
	quiet(t, s, ch)

	if _, err := s.AppendIf(ctx, "h", []byte("x"), -1); !errors.Is(err, kv.ErrInvalid) {
		t.Fatalf("AppendIf(expect -1) = %v, want ErrInvalid", err)
	}

	// A plain value is version 1 and is converted as Append converts it,
	// dropping its expiry.
	_ = s.SetWithTTL(ctx, "p", []byte("v1"), time.Minute)
	expect(t, ch, set("p"), expire("p"))
	if _, err := s.AppendIf(ctx, "p", []byte("v2"), 0); !errors.Is(err, kv.ErrConflict) {
		t.Fatalf("AppendIf(expect 0) on a plain value = %v, want a conflict", err)
	}
	if v, err := s.AppendIf(ctx, "p", []byte("v2"), 1); err != nil || v != 2 {
		t.Fatalf("AppendIf(expect 1) on a plain value = %d, %v; want 2", v, err)
	}
	expect(t, ch, del("p"), appnd("p"))
	wantTTL(t, s, "p", kv.NoExpiry)
	if h, _ := s.History(ctx, "p"); len(h) != 2 || string(h[0]) != "v1" || string(h[1]) != "v2" {
		t.Fatalf("history %q, want [v1 v2]", h)
	}

	// An expired key is version 0.
	_ = s.SetWithTTL(ctx, "x", []byte("old"), time.Second)
	expect(t, ch, set("x"), expire("x"))
	passTime(clock, time.Second)
	if v, err := s.AppendIf(ctx, "x", []byte("new"), 0); err != nil || v != 1 {
		t.Fatalf("AppendIf(expect 0) on an expired key = %d, %v; want 1", v, err)
	}
	expect(t, ch, expired("x"), appnd("x"))
}

// TestNewCallsCheckContextAndClose checks that each method of the atomic and
// bulk capabilities, called with a cancelled context or on a closed store,
// fails with the context's error or ErrClosed and writes nothing.
func TestNewCallsCheckContextAndClose(t *testing.T) {
	s := New(nil)
	bg := context.Background()
	_ = s.Set(bg, "k", []byte("1"))
	done, cancel := context.WithCancel(bg)
	cancel()
	calls := map[string]func(ctx context.Context) error{
		"SetIfAbsent": func(ctx context.Context) error {
			_, err := s.SetIfAbsent(ctx, "new", nil, 0)
			return err
		},
		"CompareAndSwap": func(ctx context.Context) error {
			_, err := s.CompareAndSwap(ctx, "k", []byte("1"), []byte("2"), 0)
			return err
		},
		"CompareAndDelete": func(ctx context.Context) error {
			_, err := s.CompareAndDelete(ctx, "k", []byte("1"))
			return err
		},
		"Incr": func(ctx context.Context) error {
			_, err := s.Incr(ctx, "k", 1)
			return err
		},
		"Expire": func(ctx context.Context) error {
			_, err := s.Expire(ctx, "k", time.Hour)
			return err
		},
		"Persist": func(ctx context.Context) error {
			_, err := s.Persist(ctx, "k")
			return err
		},
		"GetWithTTL": func(ctx context.Context) error {
			_, _, err := s.GetWithTTL(ctx, "k")
			return err
		},
		"SetMulti": func(ctx context.Context) error {
			return s.SetMulti(ctx, []kv.Item{{Key: "k", Value: []byte("2")}})
		},
		"DeleteMulti": func(ctx context.Context) error {
			_, err := s.DeleteMulti(ctx, []string{"k"})
			return err
		},
		"AppendIf": func(ctx context.Context) error {
			_, err := s.AppendIf(ctx, "new", nil, 0)
			return err
		},
	}
	for name, call := range calls {
		if err := call(done); !errors.Is(err, context.Canceled) {
			t.Errorf("%s with a cancelled context = %v, want context.Canceled", name, err)
		}
	}
	wantValue(t, s, "k", "1")
	if ttl, _ := s.TTL(bg, "k"); ttl != kv.NoExpiry {
		t.Errorf("a cancelled call changed the expiry: TTL = %v", ttl)
	}
	if _, err := s.Get(bg, "new"); !errors.Is(err, kv.ErrNotFound) {
		t.Errorf("a cancelled call wrote a key: Get = %v", err)
	}
	s.Close()
	for name, call := range calls {
		if err := call(bg); !errors.Is(err, kv.ErrClosed) {
			t.Errorf("%s on a closed store = %v, want ErrClosed", name, err)
		}
	}
}
