package memory

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/cledar/storekit/kv"
)

func TestExpire(t *testing.T) {
	ctx := context.Background()
	s, clock := newManualStore(t)
	ch := startWatch(t, s, "*")

	if ok, err := s.Expire(ctx, "missing", time.Second); err != nil || ok {
		t.Fatalf("Expire of a missing key = %v, %v; want false", ok, err)
	}
	quiet(t, s, ch)

	_ = s.Set(ctx, "k", []byte("v"))
	expect(t, ch, set("k"))
	for _, bad := range []time.Duration{0, -time.Second} {
		if ok, err := s.Expire(ctx, "k", bad); !errors.Is(err, kv.ErrInvalid) || ok {
			t.Fatalf("Expire(%v) = %v, %v; want ErrInvalid", bad, ok, err)
		}
	}
	wantTTL(t, s, "k", kv.NoExpiry)
	quiet(t, s, ch)

	if ok, err := s.Expire(ctx, "k", time.Minute); err != nil || !ok {
		t.Fatalf("Expire = %v, %v; want true", ok, err)
	}
	expect(t, ch, expire("k"))
	wantTTL(t, s, "k", time.Minute)
	wantValue(t, s, "k", "v")

	// A second Expire replaces the first deadline, shorter or longer.
	if ok, err := s.Expire(ctx, "k", time.Second); err != nil || !ok {
		t.Fatalf("Expire = %v, %v; want true", ok, err)
	}
	expect(t, ch, expire("k"))
	clock.Advance(time.Second)
	expect(t, ch, expired("k"))

	// A history gets an expiry too, and keeps it through an Append.
	_, _ = s.Append(ctx, "h", []byte("v1"))
	expect(t, ch, appnd("h"))
	if ok, err := s.Expire(ctx, "h", time.Minute); err != nil || !ok {
		t.Fatalf("Expire of a history = %v, %v; want true", ok, err)
	}
	expect(t, ch, expire("h"))
	_, _ = s.Append(ctx, "h", []byte("v2"))
	expect(t, ch, appnd("h"))
	wantTTL(t, s, "h", time.Minute)
	clock.Advance(time.Minute)
	expect(t, ch, expired("h"))
	if _, _, err := s.Latest(ctx, "h"); !errors.Is(err, kv.ErrNotFound) {
		t.Fatalf("Latest of an expired history = %v, want ErrNotFound", err)
	}

	// An expired key does not exist.
	_ = s.SetWithTTL(ctx, "x", []byte("v"), time.Second)
	expect(t, ch, set("x"), expire("x"))
	passTime(clock, time.Second)
	if ok, err := s.Expire(ctx, "x", time.Hour); err != nil || ok {
		t.Fatalf("Expire of an expired key = %v, %v; want false", ok, err)
	}
	expect(t, ch, expired("x"))
	quiet(t, s, ch)
}

func TestPersist(t *testing.T) {
	ctx := context.Background()
	s, clock := newManualStore(t)
	ch := startWatch(t, s, "*")

	if ok, err := s.Persist(ctx, "missing"); err != nil || ok {
		t.Fatalf("Persist of a missing key = %v, %v; want false", ok, err)
	}
	_ = s.Set(ctx, "k", []byte("v"))
	expect(t, ch, set("k"))
	if ok, err := s.Persist(ctx, "k"); err != nil || !ok {
		t.Fatalf("Persist of a key without expiry = %v, %v; want true", ok, err)
	}
	quiet(t, s, ch) // no expiry removed: no event

	_ = s.SetWithTTL(ctx, "t", []byte("v"), time.Minute)
	expect(t, ch, set("t"), expire("t"))
	if ok, err := s.Persist(ctx, "t"); err != nil || !ok {
		t.Fatalf("Persist = %v, %v; want true", ok, err)
	}
	expect(t, ch, kv.Event{Op: kv.OpOther, Key: "t"})
	wantTTL(t, s, "t", kv.NoExpiry)
	clock.Advance(time.Hour)
	wantValue(t, s, "t", "v")
	quiet(t, s, ch) // no OpExpired came for the old deadline before this

	// A history's expiry is removed too.
	_, _ = s.Append(ctx, "h", []byte("v1"))
	_, _ = s.Expire(ctx, "h", time.Minute)
	expect(t, ch, appnd("h"), expire("h"))
	if ok, err := s.Persist(ctx, "h"); err != nil || !ok {
		t.Fatalf("Persist of a history = %v, %v; want true", ok, err)
	}
	expect(t, ch, kv.Event{Op: kv.OpOther, Key: "h"})
	wantTTL(t, s, "h", kv.NoExpiry)
}

func TestGetWithTTL(t *testing.T) {
	ctx := context.Background()
	s, clock := newManualStore(t)

	if _, _, err := s.GetWithTTL(ctx, "missing"); !errors.Is(err, kv.ErrNotFound) {
		t.Fatalf("GetWithTTL of a missing key = %v, want ErrNotFound", err)
	}
	_ = s.Set(ctx, "k", []byte("v"))
	if v, ttl, err := s.GetWithTTL(ctx, "k"); err != nil || string(v) != "v" || ttl != kv.NoExpiry {
		t.Fatalf("GetWithTTL = %q, %v, %v; want v, NoExpiry", v, ttl, err)
	}

	_ = s.SetWithTTL(ctx, "t", []byte("w"), time.Minute)
	clock.Advance(20 * time.Second)
	v, ttl, err := s.GetWithTTL(ctx, "t")
	if err != nil || string(v) != "w" || ttl != 40*time.Second {
		t.Fatalf("GetWithTTL = %q, %v, %v; want w, 40s", v, ttl, err)
	}
	v[0] = 'X' // the copy is the caller's
	wantValue(t, s, "t", "w")

	_, _ = s.Append(ctx, "h", []byte("v1"))
	if _, _, err := s.GetWithTTL(ctx, "h"); !errors.Is(err, kv.ErrWrongType) {
		t.Fatalf("GetWithTTL of a history = %v, want ErrWrongType", err)
	}

	passTime(clock, 40*time.Second)
	if _, _, err := s.GetWithTTL(ctx, "t"); !errors.Is(err, kv.ErrNotFound) {
		t.Fatalf("GetWithTTL of an expired key = %v, want ErrNotFound", err)
	}
	if _, held := s.data.Load("t"); held {
		t.Fatal("GetWithTTL met an expired key and did not free it")
	}
}

// TestWriteFreesExpiredKey checks that Set, SetWithTTL and SetMulti, like
// every other write, free an expired key that the expirer has not freed
// yet, and report its OpExpired before their own events, as Redis does.
func TestWriteFreesExpiredKey(t *testing.T) {
	ctx := context.Background()
	s, clock := newManualStore(t)
	ch := startWatch(t, s, "*")

	for _, w := range []struct {
		name   string
		write  func(key string) error
		events func(key string) []kv.Event
	}{
		{"Set", func(k string) error { return s.Set(ctx, k, []byte("new")) },
			func(k string) []kv.Event { return []kv.Event{set(k)} }},
		{"SetWithTTL", func(k string) error { return s.SetWithTTL(ctx, k, []byte("new"), time.Hour) },
			func(k string) []kv.Event { return []kv.Event{set(k), expire(k)} }},
		{"SetMulti", func(k string) error { return s.SetMulti(ctx, []kv.Item{{Key: k, Value: []byte("new")}}) },
			func(k string) []kv.Event { return []kv.Event{set(k)} }},
	} {
		key := "x-" + w.name
		_ = s.SetWithTTL(ctx, key, []byte("old"), time.Second)
		expect(t, ch, set(key), expire(key))
		passTime(clock, time.Second) // key has expired, and is not freed yet
		if err := w.write(key); err != nil {
			t.Fatalf("%s: %v", w.name, err)
		}
		expect(t, ch, append([]kv.Event{expired(key)}, w.events(key)...)...)
		wantValue(t, s, key, "new")
	}
	quiet(t, s, ch)
}
