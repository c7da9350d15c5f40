package kv_test

import (
	"context"
	"errors"
	"runtime"
	"slices"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/cledar/storekit/kv"
)

// incr is an Update function that adds one to a decimal counter.
func incr(old []byte, found bool) ([]byte, error) {
	n := 0
	if found {
		var err error
		if n, err = strconv.Atoi(string(old)); err != nil {
			return nil, err
		}
	}
	return []byte(strconv.Itoa(n + 1)), nil
}

func TestUpdateConcurrentIncrementsEndExact(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	m := newMapStore()
	m.beforeCond = func(string) { runtime.Gosched() } // widen the window between read and write
	const workers, each = 8, 100
	var wg sync.WaitGroup
	errs := make(chan error, workers)
	for range workers {
		wg.Go(func() {
			for range each {
				if _, err := kv.Update(ctx, m, "n", incr); err != nil {
					errs <- err
					return
				}
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatalf("Update: %v", err)
	}
	if v, _ := m.value("n"); v != strconv.Itoa(workers*each) {
		t.Fatalf("counter = %s after %d increments", v, workers*each)
	}
}

func TestUpdateRetriesAfterAConflict(t *testing.T) {
	ctx := context.Background()
	m := newMapStore()
	_ = m.Set(ctx, "n", []byte("1"))
	var slipped atomic.Bool
	m.beforeCond = func(key string) {
		if slipped.CompareAndSwap(false, true) {
			_ = m.Set(ctx, key, []byte("10")) // another writer, between Update's read and write
		}
	}
	var seen []string
	got, err := kv.Update(ctx, m, "n", func(old []byte, found bool) ([]byte, error) {
		seen = append(seen, string(old))
		return incr(old, found)
	})
	if err != nil || string(got) != "11" {
		t.Fatalf("Update = %q, %v; want 11 (the other writer's 10, plus one)", got, err)
	}
	if !slices.Equal(seen, []string{"1", "10"}) {
		t.Errorf("fn saw %q, want [1 10]: called again with the newer value", seen)
	}
	if v, _ := m.value("n"); v != "11" {
		t.Errorf("stored %q, want 11", v)
	}
}

func TestUpdateFnErrorWritesNothing(t *testing.T) {
	ctx := context.Background()
	m := newMapStore()
	_ = m.Set(ctx, "k", []byte("v"))
	errFn := errors.New("refused")
	got, err := kv.Update(ctx, m, "k", func([]byte, bool) ([]byte, error) { return []byte("w"), errFn })
	if !errors.Is(err, errFn) || got != nil {
		t.Fatalf("Update = %q, %v; want nil and fn's error", got, err)
	}
	if w := m.writes(); !slices.Equal(w, []string{"set k"}) {
		t.Errorf("writes = %q, want only the test's own set", w)
	}
}

func TestUpdateUnchangedWritesNothing(t *testing.T) {
	ctx := context.Background()
	m := newMapStore()
	_ = m.Set(ctx, "k", []byte("v"))
	got, err := kv.Update(ctx, m, "k", func(old []byte, _ bool) ([]byte, error) { return []byte("v"), nil })
	if err != nil || string(got) != "v" {
		t.Fatalf("Update = %q, %v; want v, nil", got, err)
	}
	if w := m.writes(); !slices.Equal(w, []string{"set k"}) {
		t.Errorf("writes = %q, want only the test's own set", w)
	}
}

func TestUpdateMissingKeyUsesSetIfAbsent(t *testing.T) {
	m := newMapStore()
	var gotOld []byte
	var gotFound bool
	got, err := kv.Update(context.Background(), m, "k", func(old []byte, found bool) ([]byte, error) {
		gotOld, gotFound = old, found
		return nil, nil
	})
	if err != nil || got == nil || len(got) != 0 {
		t.Fatalf("Update = %q (nil: %v), %v; want an empty non-nil value", got, got == nil, err)
	}
	if gotOld != nil || gotFound {
		t.Errorf("fn got %q, %v; want nil, false for a missing key", gotOld, gotFound)
	}
	if w := m.writes(); !slices.Equal(w, []string{"sia k"}) {
		t.Errorf("writes = %q, want one SetIfAbsent", w)
	}
	if v, ok := m.value("k"); !ok || v != "" {
		t.Errorf("k = %q, %v; want an empty value", v, ok)
	}
}

func TestUpdateGivesUpWhenContextEnds(t *testing.T) {
	m := newMapStore()
	n := 0
	m.beforeCond = func(key string) { // every write loses to another writer
		n++
		_ = m.Set(context.Background(), key, []byte(strconv.Itoa(n)))
	}
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	_, err := kv.Update(ctx, m, "k", func(old []byte, found bool) ([]byte, error) {
		return []byte("mine"), nil
	})
	if !errors.Is(err, kv.ErrConflict) || !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("Update under constant conflicts = %v, want an error wrapping kv.ErrConflict and context.DeadlineExceeded", err)
	}
	if v, _ := m.value("k"); v == "mine" {
		t.Error("Update wrote its value although every attempt conflicted")
	}
}

func TestUpdateNeedsConditional(t *testing.T) {
	m := newMapStore()
	called := false
	_, err := kv.Update(context.Background(), plain{m}, "k", func([]byte, bool) ([]byte, error) {
		called = true
		return []byte("v"), nil
	})
	if !errors.Is(err, kv.ErrNotSupported) {
		t.Fatalf("Update on a store without kv.Conditional = %v, want kv.ErrNotSupported", err)
	}
	if called {
		t.Error("fn was called")
	}
	if w := m.writes(); len(w) != 0 {
		t.Errorf("writes = %q, want none", w)
	}
}
