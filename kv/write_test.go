package kv_test

import (
	"context"
	"errors"
	"slices"
	"testing"
	"time"

	"github.com/cledar/storekit/kv"
)

func TestSetMultiFallbackWritesInOrder(t *testing.T) {
	ctx := context.Background()
	m := newMapStore()
	items := []kv.Item{
		{Key: "a", Value: []byte("1")},
		{Key: "b", Value: []byte("2"), TTL: time.Second},
		{Key: "a", Value: []byte("3")},
	}
	if err := kv.SetMulti(ctx, ttlStore{m}, items); err != nil {
		t.Fatalf("SetMulti: %v", err)
	}
	// a, listed twice, is written once, with its last item, in that item's place.
	want := []string{"setttl b 1s", "set a"}
	if got := m.writes(); !slices.Equal(got, want) {
		t.Errorf("writes = %q, want %q", got, want)
	}
	if v, _ := m.value("a"); v != "3" {
		t.Errorf("a = %q, want the last item's 3", v)
	}
	if v, _ := m.value("b"); v != "2" {
		t.Errorf("b = %q, want 2", v)
	}
}

func TestSetMultiFallbackReportsWhatWasDone(t *testing.T) {
	ctx := context.Background()
	m := newMapStore()
	m.failOn = "b"
	items := []kv.Item{{Key: "a", Value: []byte("1")}, {Key: "b", Value: []byte("2")}, {Key: "c", Value: []byte("3")}}
	err := kv.SetMulti(ctx, m, items)
	var be *kv.BulkError
	if !errors.As(err, &be) {
		t.Fatalf("SetMulti failing on the second item = %v, want a *kv.BulkError", err)
	}
	if !slices.Equal(be.Done, []bool{true, false, false}) {
		t.Errorf("Done = %v, want [true false false]", be.Done)
	}
	if !slices.Equal(be.Failed(), []int{1, 2}) {
		t.Errorf("Failed() = %v, want [1 2]", be.Failed())
	}
	if !errors.Is(err, errBoom) {
		t.Errorf("err = %v, want it to wrap the store's error", err)
	}
	if got := m.writes(); !slices.Equal(got, []string{"set a"}) {
		t.Errorf("writes = %q, want only a: the items after the failing one are not written", got)
	}
}

func TestSetMultiFallbackFirstFailureIsPlain(t *testing.T) {
	m := newMapStore()
	m.failOn = "a"
	err := kv.SetMulti(context.Background(), m, []kv.Item{{Key: "a"}, {Key: "b"}})
	var be *kv.BulkError
	if !errors.Is(err, errBoom) || errors.As(err, &be) {
		t.Fatalf("SetMulti failing on the first item = %v, want the store's error, not a *kv.BulkError", err)
	}
	if got := m.writes(); len(got) != 0 {
		t.Errorf("writes = %q, want none", got)
	}
}

func TestSetMultiFallbackChecksBeforeWriting(t *testing.T) {
	ctx := context.Background()
	tests := []struct {
		name  string
		store func(*mapStore) kv.Store
		ttl   time.Duration
		want  error
	}{
		{"TTLWithoutExpirer", func(m *mapStore) kv.Store { return m }, time.Second, kv.ErrNotSupported},
		{"NegativeTTL", func(m *mapStore) kv.Store { return ttlStore{m} }, -time.Second, kv.ErrInvalid},
		{"NegativeTTLWithoutExpirer", func(m *mapStore) kv.Store { return m }, -time.Second, kv.ErrInvalid},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m := newMapStore()
			items := []kv.Item{{Key: "a", Value: []byte("1")}, {Key: "b", Value: []byte("2"), TTL: tt.ttl}}
			err := kv.SetMulti(ctx, tt.store(m), items)
			if !errors.Is(err, tt.want) {
				t.Fatalf("SetMulti = %v, want %v", err, tt.want)
			}
			if got := m.writes(); len(got) != 0 {
				t.Errorf("writes = %q, want none: the item before the bad one must not be written either", got)
			}
		})
	}
}

func TestSetMultiUsesBulkWriter(t *testing.T) {
	b := &bulkStore{mapStore: newMapStore()}
	items := []kv.Item{{Key: "a", Value: []byte("1")}, {Key: "b", Value: []byte("2"), TTL: time.Second}}
	if err := kv.SetMulti(context.Background(), b, items); err != nil {
		t.Fatal(err)
	}
	if len(b.items) != 2 || b.items[0].Key != "a" || b.items[1].TTL != time.Second {
		t.Errorf("BulkWriter got %+v, want the items as given", b.items)
	}
	if got := b.writes(); len(got) != 0 {
		t.Errorf("writes through Set = %q, want none", got)
	}
}

func TestDeleteMultiFallback(t *testing.T) {
	ctx := context.Background()
	m := newMapStore()
	_ = m.Set(ctx, "a", nil)
	_ = m.Set(ctx, "c", nil)
	n, err := kv.DeleteMulti(ctx, m, []string{"a", "b", "a", "c"})
	if err != nil || n != 2 {
		t.Fatalf("DeleteMulti = %d, %v; want 2 (a listed twice is removed once), nil", n, err)
	}
	want := []string{"set a", "set c", "del a", "del b", "del a", "del c"}
	if got := m.writes(); !slices.Equal(got, want) {
		t.Errorf("writes = %q, want %q", got, want)
	}
}

func TestDeleteMultiFallbackReportsWhatWasDone(t *testing.T) {
	ctx := context.Background()
	m := newMapStore()
	_ = m.Set(ctx, "a", nil)
	_ = m.Set(ctx, "c", nil)
	m.failOn = "c"
	n, err := kv.DeleteMulti(ctx, m, []string{"a", "b", "c", "d"})
	var be *kv.BulkError
	if !errors.As(err, &be) || !errors.Is(err, errBoom) {
		t.Fatalf("DeleteMulti failing on the third key = %v, want a *kv.BulkError wrapping the store's error", err)
	}
	if n != 1 {
		t.Errorf("count = %d, want 1 (a; b was missing)", n)
	}
	if !slices.Equal(be.Done, []bool{true, true, false, false}) {
		t.Errorf("Done = %v, want [true true false false]", be.Done)
	}
	if _, ok := m.value("c"); !ok {
		t.Error("c was deleted")
	}
}

func TestDeleteMultiUsesBulkWriter(t *testing.T) {
	b := &bulkStore{mapStore: newMapStore()}
	n, err := kv.DeleteMulti(context.Background(), b, []string{"a", "b"})
	if err != nil || n != 42 || !slices.Equal(b.keys, []string{"a", "b"}) {
		t.Fatalf("DeleteMulti = %d, %v with keys %q; want the BulkWriter's 42 for [a b]", n, err, b.keys)
	}
	if got := b.writes(); len(got) != 0 {
		t.Errorf("deletes through Delete = %q, want none", got)
	}
}
