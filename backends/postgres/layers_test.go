package postgres_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/cledar/storekit/backends/postgres"
	"github.com/cledar/storekit/codec"
	"github.com/cledar/storekit/configstore"
	"github.com/cledar/storekit/kv"
	"github.com/cledar/storekit/lock"
)

// The tests in this file run storekit's layers, unchanged, on a Store.

type user struct {
	ID   int    `json:"id"`
	Name string `json:"name"`
}

func TestCodecStore(t *testing.T) {
	s, _, _ := schemaStore(t)
	ctx := testContext(t)
	users := codec.New[user](s, nil)
	if err := users.Set(ctx, "user:1", user{ID: 1, Name: "Alice"}); err != nil {
		t.Fatal(err)
	}
	got, found, err := users.Get(ctx, "user:1")
	if err != nil || !found || got != (user{ID: 1, Name: "Alice"}) {
		t.Fatalf("Get(user:1) = %+v, %v, %v; want Alice", got, found, err)
	}
	if raw, err := s.Get(ctx, "user:1"); err != nil || string(raw) != `{"id": 1, "name": "Alice"}` {
		t.Errorf("stored bytes %q, %v; want json.dumps's text", raw, err)
	}
	if _, found, err := users.Get(ctx, "user:none"); err != nil || found {
		t.Errorf("Get of a missing key: found %v, %v; want not found, no error", found, err)
	}
	if err := s.Set(ctx, "user:bad", []byte("{not json")); err != nil {
		t.Fatal(err)
	}
	results, err := users.GetMulti(ctx, []string{"user:1", "user:none", "user:bad"})
	if err != nil || len(results) != 3 {
		t.Fatalf("GetMulti: %d results, %v", len(results), err)
	}
	if r := results[0]; !r.Found || r.Value.Name != "Alice" || r.Err != nil {
		t.Errorf("GetMulti result of user:1: %+v", r)
	}
	if r := results[1]; r.Found || r.Err != nil {
		t.Errorf("GetMulti result of a missing key: %+v", r)
	}
	var decodeErr *codec.DeserializationError
	if r := results[2]; r.Found || !errors.As(r.Err, &decodeErr) {
		t.Errorf("GetMulti result of a value that does not decode: %+v, want a *DeserializationError", r)
	}
	// Concurrent Updates each add one: none is lost.
	const n = 8
	errs := make(chan error, n)
	for range n {
		go func() {
			_, err := users.Update(ctx, "user:1", func(old user, found bool) (user, error) {
				old.ID++
				return old, nil
			})
			errs <- err
		}()
	}
	for range n {
		if err := <-errs; err != nil {
			t.Errorf("Update: %v", err)
		}
	}
	if got, _, err := users.Get(ctx, "user:1"); err != nil || got.ID != 1+n {
		t.Errorf("after %d concurrent Updates: %+v, %v; want id %d", n, got, err, 1+n)
	}
}

type flags struct {
	Beta  bool `json:"beta"`
	Limit int  `json:"limit"`
}

func TestConfigStore(t *testing.T) {
	pool, schema := testPool(t)
	ctx := testContext(t)
	opts := &postgres.Options{Schema: schema, Table: "kv", CreateSchema: true}
	a, err := configstore.New[flags](ctx, newStore(t, pool, opts), &configstore.Options[flags]{Prefix: "config:"})
	if err != nil {
		t.Fatal(err)
	}
	defer a.Close()
	// A second Store on the same table, as another process's.
	b, err := configstore.New[flags](ctx, newStore(t, pool, opts), &configstore.Options[flags]{Prefix: "config:"})
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()

	events := make(chan configstore.Event[flags], 16)
	stop, err := a.Watch(ctx, "flags", func(ev configstore.Event[flags]) { events <- ev })
	if err != nil {
		t.Fatal(err)
	}
	defer stop()

	if v, err := b.Update(ctx, "flags", flags{Limit: 1}); err != nil || v != 1 {
		t.Fatalf("first Update: version %d, %v; want 1", v, err)
	}
	waitConfig(t, events, configstore.Updated, 1, flags{Limit: 1})
	if v, err := b.Update(ctx, "flags", flags{Beta: true, Limit: 2}); err != nil || v != 2 {
		t.Fatalf("second Update: version %d, %v; want 2", v, err)
	}
	waitConfig(t, events, configstore.Updated, 2, flags{Beta: true, Limit: 2})
	if v, err := b.Update(ctx, "flags", flags{Beta: true, Limit: 2}); err != nil || v != 2 {
		t.Errorf("Update with the latest value: version %d, %v; want 2, nothing written", v, err)
	}
	if got, v, err := a.Fetch(ctx, "flags"); err != nil || v != 2 || got != (flags{Beta: true, Limit: 2}) {
		t.Errorf("Fetch through the watching store: %+v, %d, %v", got, v, err)
	}
	if _, err := a.UpdateIf(ctx, "flags", 1, flags{}); err == nil {
		t.Errorf("UpdateIf expecting version 1 of a key at version 2 succeeded")
	}
	history, err := a.History(ctx, "flags")
	if err != nil || len(history) != 2 {
		t.Fatalf("History: %d entries, %v; want 2", len(history), err)
	}
	for i, want := range []flags{{Limit: 1}, {Beta: true, Limit: 2}} {
		if e := history[i]; e.Version != int64(i+1) || e.Value != want || e.Err != nil {
			t.Errorf("History[%d] = %+v, want version %d %+v", i, e, i+1, want)
		}
	}
	if got, err := b.At(ctx, "flags", 1); err != nil || got != (flags{Limit: 1}) {
		t.Errorf("At(flags, 1) = %+v, %v", got, err)
	}
	if ok, err := b.Delete(ctx, "flags"); err != nil || !ok {
		t.Fatalf("Delete: %v, %v", ok, err)
	}
	waitConfig(t, events, configstore.Deleted, 0, flags{})
}

// waitConfig waits for the watcher's event of kind with version and value,
// skipping none: the first event that comes must be it.
func waitConfig(t *testing.T, events <-chan configstore.Event[flags], kind configstore.Kind, version int64, value flags) {
	t.Helper()
	select {
	case ev := <-events:
		if ev.Kind != kind || ev.Version != version || ev.Value != value {
			t.Fatalf("watcher heard %+v, want kind %v, version %d, %+v", ev, kind, version, value)
		}
	case <-time.After(10 * time.Second):
		t.Fatalf("the watcher heard nothing within 10s; want kind %v, version %d", kind, version)
	}
}

// configPair opens a config store (prefix "config:") over s, with a
// watcher of the key "flags" whose events arrive on heard, and another over
// other, which a test updates "flags" through; all are closed when t ends.
func configPair(t *testing.T, ctx context.Context, s, other kv.Store) (cfg, otherCfg *configstore.Store[flags], heard <-chan configstore.Event[flags]) {
	t.Helper()
	open := func(st kv.Store) *configstore.Store[flags] {
		c, err := configstore.New[flags](ctx, st, &configstore.Options[flags]{Prefix: "config:"})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { c.Close() })
		return c
	}
	cfg, otherCfg = open(s), open(other)
	events := make(chan configstore.Event[flags], 64)
	stop, err := cfg.Watch(ctx, "flags", func(ev configstore.Event[flags]) { events <- ev })
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(stop)
	return cfg, otherCfg, events
}

// waitConfigState waits, 30s at most, for the watcher to hear the key at
// version with value; it ignores events of other states.
func waitConfigState(t *testing.T, events <-chan configstore.Event[flags], version int64, value flags) {
	t.Helper()
	timeout := time.After(30 * time.Second)
	for {
		select {
		case ev := <-events:
			if ev.Kind == configstore.Updated && ev.Version == version && ev.Value == value {
				return
			}
			t.Logf("the watcher heard %+v, waiting for version %d", ev, version)
		case <-timeout:
			t.Fatalf("the watcher did not hear version %d, %+v, within 30s", version, value)
		}
	}
}

// waitFetch waits, 30s at most, for Fetch of flags to return version with
// value.
func waitFetch(t *testing.T, ctx context.Context, cfg *configstore.Store[flags], version int64, value flags) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for {
		got, v, err := cfg.Fetch(ctx, "flags")
		if err == nil && v == version && got == value {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("Fetch(flags) = %+v, version %d, %v after 30s; want version %d, %+v", got, v, err, version, value)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

func TestLock(t *testing.T) {
	s, _, _ := schemaStore(t)
	ctx := testContext(t)
	a, err := lock.New(s, "lock:job", &lock.Options{TTL: 10 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	b, err := lock.New(s, "lock:job", &lock.Options{TTL: 10 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	first, err := a.TryLock(ctx)
	if err != nil {
		t.Fatalf("TryLock of a free lock: %v", err)
	}
	if _, err := b.TryLock(ctx); !errors.Is(err, lock.ErrHeld) {
		t.Fatalf("TryLock of a held lock: %v, want lock.ErrHeld", err)
	}
	if err := first.Refresh(ctx); err != nil {
		t.Errorf("Refresh of a held lease: %v", err)
	}
	if err := first.Release(ctx); err != nil {
		t.Fatalf("Release: %v", err)
	}
	if err := first.Release(ctx); !errors.Is(err, lock.ErrLost) {
		t.Errorf("second Release: %v, want lock.ErrLost", err)
	}
	second, err := b.TryLock(ctx)
	if err != nil {
		t.Fatalf("TryLock after the release: %v", err)
	}
	if second.Fence() <= first.Fence() {
		t.Errorf("fence of the second holder %d, not above the first's %d", second.Fence(), first.Fence())
	}

	// Contention: of many TryLocks at once on a free lock, exactly one wins.
	if err := second.Release(ctx); err != nil {
		t.Fatal(err)
	}
	const n = 6
	type result struct {
		lease *lock.Lease
		err   error
	}
	results := make(chan result, n)
	for range n {
		go func() {
			l, err := lock.New(s, "lock:race", &lock.Options{TTL: 10 * time.Second})
			if err != nil {
				results <- result{err: err}
				return
			}
			lease, err := l.TryLock(ctx)
			results <- result{lease, err}
		}()
	}
	won := 0
	for range n {
		r := <-results
		switch {
		case r.err == nil:
			won++
			defer r.lease.Release(ctx)
		case !errors.Is(r.err, lock.ErrHeld):
			t.Errorf("TryLock under contention: %v, want nil or lock.ErrHeld", r.err)
		}
	}
	if won != 1 {
		t.Errorf("%d of %d concurrent TryLocks won, want 1", won, n)
	}
}
