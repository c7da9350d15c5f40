package codec_test

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/cledar/storekit/backends/memory"
	"github.com/cledar/storekit/codec"
	"github.com/cledar/storekit/internal/backendtest"
	"github.com/cledar/storekit/kv"
)

// counter is the value of the Update tests.
type counter struct {
	N int `json:"n"`
}

func TestUpdateConcurrentEndsExact(t *testing.T) {
	ctx := backendtest.Context(t)
	s := codec.New[counter](newMemory(t), nil)
	const workers, each = 4, 50
	var wg sync.WaitGroup
	errs := make(chan error, workers)
	for range workers {
		wg.Go(func() {
			for range each {
				if _, err := s.Update(ctx, "c", func(old counter, _ bool) (counter, error) {
					old.N++
					return old, nil
				}); err != nil {
					errs <- err
					return
				}
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	if got, _, err := s.Get(ctx, "c"); err != nil || got.N != workers*each {
		t.Fatalf("counter = %+v, %v; want %d", got, err, workers*each)
	}
}

func TestUpdateMissingAndUnchanged(t *testing.T) {
	ctx := backendtest.Context(t)
	m := newMemory(t)
	s := codec.New[counter](m, nil)
	got, err := s.Update(ctx, "c", func(old counter, found bool) (counter, error) {
		if found || old != (counter{}) {
			t.Errorf("fn got %+v, %v for a missing key; want the zero value, false", old, found)
		}
		return counter{N: 7}, nil
	})
	if err != nil || got.N != 7 {
		t.Fatalf("Update of a missing key = %+v, %v; want {N:7}", got, err)
	}
	if raw, _ := m.Get(ctx, "c"); string(raw) != `{"n": 7}` {
		t.Errorf("stored %s, want the codec's {\"n\": 7}", raw)
	}

	events := backendtest.StartWatch(ctx, t, m, "c")
	got, err = s.Update(ctx, "c", func(old counter, _ bool) (counter, error) { return old, nil })
	if err != nil || got.N != 7 {
		t.Fatalf("unchanged Update = %+v, %v; want {N:7}", got, err)
	}
	if _, err := m.Delete(ctx, "c"); err != nil {
		t.Fatal(err)
	}
	// The first event after the unchanged Update must be the delete.
	if e := backendtest.WaitEvent(t, events, "the delete of c", func(kv.Event) bool { return true }); e.Op != kv.OpDelete {
		t.Errorf("first event after an unchanged Update = %v, want the test's delete: the Update wrote", e)
	}
}

func TestUpdateErrorsWriteNothing(t *testing.T) {
	ctx := backendtest.Context(t)
	m := newMemory(t)
	if err := m.Set(ctx, "bad", []byte("not json")); err != nil {
		t.Fatal(err)
	}
	if err := m.Set(ctx, "v", []byte(`{"age": 1}`)); err != nil {
		t.Fatal(err)
	}
	s := codec.New[validated](m, nil)
	called := false
	_, err := s.Update(ctx, "bad", func(old validated, _ bool) (validated, error) {
		called = true
		return old, nil
	})
	de := asError[*codec.DeserializationError](t, err)
	if de.Key != "bad" || called {
		t.Errorf("Update of an undecodable value: key %q, fn called %v; want bad, not called", de.Key, called)
	}

	_, err = s.Update(ctx, "v", func(validated, bool) (validated, error) { return validated{Age: -1}, nil })
	if se := asError[*codec.SerializationError](t, err); !errors.Is(se, codec.ErrValidation) {
		t.Errorf("Update to an invalid value = %v, want a validation failure", err)
	}

	errFn := errors.New("refused")
	_, err = s.Update(ctx, "v", func(validated, bool) (validated, error) { return validated{Age: 2}, errFn })
	if err != errFn {
		t.Errorf("Update whose fn fails = %v, want fn's error as it is", err)
	}

	for _, key := range []string{"bad", "v"} {
		want := map[string]string{"bad": "not json", "v": `{"age": 1}`}[key]
		if raw, _ := m.Get(ctx, key); string(raw) != want {
			t.Errorf("%s = %s after failed Updates, want %s", key, raw, want)
		}
	}
}

func TestUpdateGivesUpWithContext(t *testing.T) {
	ctx := backendtest.Context(t)
	m := newMemory(t)
	s := codec.New[counter](m, nil)
	short, cancel := context.WithTimeout(ctx, 50*time.Millisecond)
	defer cancel()
	n := 0
	_, err := s.Update(short, "c", func(old counter, _ bool) (counter, error) {
		n++
		// Another writer changes the key between every read and write.
		if err := m.Set(ctx, "c", fmt.Appendf(nil, `{"n": %d}`, -n)); err != nil {
			return old, err
		}
		old.N = 1000
		return old, nil
	})
	oe := asError[*codec.OperationError](t, err)
	if oe.Op != codec.OperationUpdate || !errors.Is(err, kv.ErrConflict) || !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("Update under constant conflicts = %v (op %q); want an update error wrapping kv.ErrConflict and context.DeadlineExceeded", err, oe.Op)
	}
}

func TestAtomicWritesNeedCapabilities(t *testing.T) {
	ctx := backendtest.Context(t)
	cs := &countingStore{Store: newMemory(t)} // hides kv.Conditional and kv.BulkWriter
	s := codec.New[counter](cs, nil)
	called := false
	_, err := s.Update(ctx, "c", func(old counter, _ bool) (counter, error) { called = true; return old, nil })
	if oe := asError[*codec.OperationError](t, err); oe.Op != codec.OperationUpdate || !errors.Is(err, kv.ErrNotSupported) || called {
		t.Errorf("Update without kv.Conditional = %v, fn called %v; want an update error wrapping kv.ErrNotSupported, fn not called", err, called)
	}
	if _, err := s.SetIfAbsent(ctx, "c", counter{}, 0); !errors.Is(err, kv.ErrNotSupported) {
		t.Errorf("SetIfAbsent without kv.Conditional = %v, want kv.ErrNotSupported", err)
	}
	err = s.SetMulti(ctx, []codec.Item[counter]{{Key: "a"}, {Key: "b", TTL: time.Second}})
	if oe := asError[*codec.OperationError](t, err); oe.Op != codec.OperationSetMulti || !errors.Is(err, kv.ErrNotSupported) {
		t.Errorf("SetMulti with a TTL without kv.Expirer = %v, want an mset error wrapping kv.ErrNotSupported", err)
	}
	if n := cs.calls.Load(); n != 0 {
		t.Errorf("%d calls reached the store", n)
	}
}

func TestSetIfAbsent(t *testing.T) {
	ctx := backendtest.Context(t)
	clock := memory.NewManualClock(time.Now())
	m := memory.New(&memory.Options{Clock: clock})
	t.Cleanup(func() { _ = m.Close() })
	s := codec.New[counter](m, nil)

	if ok, err := s.SetIfAbsent(ctx, "c", counter{N: 1}, time.Second); !ok || err != nil {
		t.Fatalf("SetIfAbsent of a missing key = %v, %v; want true", ok, err)
	}
	if ok, err := s.SetIfAbsent(ctx, "c", counter{N: 2}, 0); ok || err != nil {
		t.Fatalf("SetIfAbsent of an existing key = %v, %v; want false", ok, err)
	}
	if got, _, _ := s.Get(ctx, "c"); got.N != 1 {
		t.Errorf("value %+v, want the first one", got)
	}
	clock.Advance(time.Second)
	if ok, err := s.SetIfAbsent(ctx, "c", counter{N: 3}, 0); !ok || err != nil {
		t.Fatalf("SetIfAbsent after the first value expired = %v, %v; want true", ok, err)
	}
	if ttl, err := m.TTL(ctx, "c"); ttl != kv.NoExpiry || err != nil {
		t.Errorf("TTL with ttl 0 = %v, %v; want none", ttl, err)
	}

	for name, call := range map[string]func() error{
		"negative TTL": func() error { _, err := s.SetIfAbsent(ctx, "d", counter{}, -time.Second); return err },
		"empty key":    func() error { _, err := s.SetIfAbsent(ctx, "", counter{}, 0); return err },
	} {
		if err := call(); !errors.Is(err, kv.ErrInvalid) {
			t.Errorf("SetIfAbsent with %s = %v, want kv.ErrInvalid", name, err)
		}
	}
	v := codec.New[validated](m, nil)
	if _, err := v.SetIfAbsent(ctx, "d", validated{Age: -1}, 0); !errors.Is(err, codec.ErrValidation) {
		t.Errorf("SetIfAbsent of an invalid value = %v, want a validation failure", err)
	}
	if _, err := m.Get(ctx, "d"); !errors.Is(err, kv.ErrNotFound) {
		t.Errorf("d after rejected SetIfAbsents: %v, want it missing", err)
	}
}

func TestSetMulti(t *testing.T) {
	ctx := backendtest.Context(t)
	m := newMemory(t)
	s := codec.New[counter](m, nil)
	err := s.SetMulti(ctx, []codec.Item[counter]{
		{Key: "a", Value: counter{N: 1}},
		{Key: "b", Value: counter{N: 2}, TTL: time.Minute},
		{Key: "a", Value: counter{N: 3}},
	})
	if err != nil {
		t.Fatal(err)
	}
	res, err := s.GetMulti(ctx, []string{"a", "b"})
	if err != nil || res[0].Value.N != 3 || res[1].Value.N != 2 {
		t.Fatalf("after SetMulti: %+v, %v; want a = 3 (the last item wins), b = 2", res, err)
	}
	if ttl, err := m.TTL(ctx, "b"); err != nil || ttl <= 0 || ttl > time.Minute {
		t.Errorf("TTL of b = %v, %v; want within a minute", ttl, err)
	}
	if err := s.SetMulti(ctx, nil); err != nil {
		t.Errorf("SetMulti of nothing: %v", err)
	}

	v := codec.New[validated](m, nil)
	bad := map[string][]codec.Item[validated]{
		"an empty key":     {{Key: "x"}, {Key: ""}},
		"a negative TTL":   {{Key: "x"}, {Key: "y", TTL: -time.Second}},
		"an invalid value": {{Key: "x"}, {Key: "y", Value: validated{Age: -1}}},
	}
	for name, items := range bad {
		err := v.SetMulti(ctx, items)
		if err == nil {
			t.Errorf("SetMulti with %s succeeded", name)
		}
		if _, err := m.Get(ctx, "x"); !errors.Is(err, kv.ErrNotFound) {
			t.Errorf("SetMulti with %s wrote x: %v", name, err)
		}
	}
}
