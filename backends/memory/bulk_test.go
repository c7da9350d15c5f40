package memory

import (
	"context"
	"errors"
	"slices"
	"testing"
	"time"

	"github.com/cledar/storekit/kv"
)

func TestSetMulti(t *testing.T) {
	ctx := context.Background()
	s, clock := newManualStore(t)
	ch := startWatch(t, s, "*")

	_ = s.SetWithTTL(ctx, "a", []byte("old"), time.Hour)
	expect(t, ch, set("a"), expire("a"))

	value := []byte("b1")
	err := s.SetMulti(ctx, []kv.Item{
		{Key: "a", Value: []byte("a1")}, // removes a's expiry, as Set does
		{Key: "b", Value: value, TTL: time.Minute},
		{Key: "c", Value: []byte("c1")},
		{Key: "c", Value: []byte("c2"), TTL: time.Second}, // the last item of c wins
	})
	if err != nil {
		t.Fatal(err)
	}
	// Each key's events, in order, as Set and SetWithTTL report them; c once,
	// for its last item.
	expect(t, ch, set("a"), set("b"), expire("b"), set("c"), expire("c"))
	value[0] = 'X' // values are copied in
	wantValue(t, s, "a", "a1")
	wantValue(t, s, "b", "b1")
	wantValue(t, s, "c", "c2")
	wantTTL(t, s, "a", kv.NoExpiry)
	wantTTL(t, s, "b", time.Minute)
	wantTTL(t, s, "c", time.Second)

	clock.Advance(time.Second)
	expect(t, ch, expired("c"))
	clock.Advance(time.Minute)
	expect(t, ch, expired("b"))

	if err := s.SetMulti(ctx, nil); err != nil {
		t.Fatalf("SetMulti of no items = %v", err)
	}
	quiet(t, s, ch)
}

func TestSetMultiWithABadItemWritesNothing(t *testing.T) {
	ctx := context.Background()
	s, _ := newManualStore(t)
	ch := startWatch(t, s, "*")
	err := s.SetMulti(ctx, []kv.Item{
		{Key: "a", Value: []byte("1")},
		{Key: "b", Value: []byte("2"), TTL: -time.Second},
		{Key: "c", Value: []byte("3")},
	})
	if !errors.Is(err, kv.ErrInvalid) {
		t.Fatalf("SetMulti with a negative TTL = %v, want ErrInvalid", err)
	}
	var be *kv.BulkError
	if errors.As(err, &be) {
		t.Fatalf("SetMulti error is a *kv.BulkError (%v): nothing was written", be)
	}
	vals, _ := s.GetMulti(ctx, []string{"a", "b", "c"})
	for i, v := range vals {
		if v.Found {
			t.Errorf("item %d was written by a rejected SetMulti", i)
		}
	}
	quiet(t, s, ch)
}

func TestSetMultiReplacesAHistory(t *testing.T) {
	ctx := context.Background()
	s, _ := newManualStore(t)
	_, _ = s.Append(ctx, "h", []byte("v1"))
	if err := s.SetMulti(ctx, []kv.Item{{Key: "h", Value: []byte("plain")}}); err != nil {
		t.Fatal(err)
	}
	wantValue(t, s, "h", "plain")
}

func TestDeleteMulti(t *testing.T) {
	ctx := context.Background()
	s, clock := newManualStore(t)
	ch := startWatch(t, s, "*")

	_ = s.Set(ctx, "a", []byte("1"))
	_, _ = s.Append(ctx, "h", []byte("v1"))
	_ = s.Set(ctx, "b", []byte("2"))
	_ = s.SetWithTTL(ctx, "x", []byte("3"), time.Second)
	expect(t, ch, set("a"), appnd("h"), set("b"), set("x"), expire("x"))
	passTime(clock, time.Second) // x has expired, and is not freed yet

	n, err := s.DeleteMulti(ctx, []string{"h", "missing", "a", "x", "a"})
	if err != nil || n != 2 {
		t.Fatalf("DeleteMulti = %d, %v; want 2 (h and a, once)", n, err)
	}
	// The expired key is freed as any write meets it; then one OpDelete per
	// removed key, in order.
	expect(t, ch, expired("x"), del("h"), del("a"))
	quiet(t, s, ch)
	for _, k := range []string{"a", "h", "x"} {
		if _, _, err := s.Latest(ctx, k); !errors.Is(err, kv.ErrNotFound) {
			t.Errorf("key %q after DeleteMulti: %v, want ErrNotFound", k, err)
		}
		if _, held := s.data.Load(k); held {
			t.Errorf("key %q still held after DeleteMulti", k)
		}
	}
	wantValue(t, s, "b", "2")

	if n, err := s.DeleteMulti(ctx, nil); err != nil || n != 0 {
		t.Fatalf("DeleteMulti of no keys = %d, %v", n, err)
	}
	quiet(t, s, ch)
}

// TestBulkWriteIsInvisibleUntilCommitted stops a bulk write between staging
// and commit, which the store never does, and checks what every read sees.
func TestBulkWriteIsInvisibleUntilCommitted(t *testing.T) {
	ctx := context.Background()
	s, _ := newManualStore(t)
	_ = s.Set(ctx, "a", []byte("old"))
	_ = s.Set(ctx, "gone", []byte("old"))

	b := &bulk{}
	unlock := s.lockKeys([]string{"a", "new", "gone"})
	s.stage(b, "a", &entry{val: []byte("a1")})
	s.stage(b, "new", &entry{val: []byte("n1")})
	s.stage(b, "gone", &entry{gone: true})

	keys := []string{"a", "new", "gone"}
	read := func() []string {
		vals, err := s.GetMulti(ctx, keys)
		if err != nil {
			t.Fatal(err)
		}
		got := make([]string, len(vals))
		for i, v := range vals {
			got[i] = "-"
			if v.Found {
				got[i] = string(v.Data)
			}
		}
		return got
	}
	scan := func() []string {
		ks, err := kv.Keys(ctx, s, "*")
		if err != nil {
			t.Fatal(err)
		}
		slices.Sort(ks)
		return ks
	}

	if got := read(); !slices.Equal(got, []string{"old", "-", "old"}) {
		t.Fatalf("GetMulti before commit = %q, want the old state", got)
	}
	if got := scan(); !slices.Equal(got, []string{"a", "gone"}) {
		t.Fatalf("Scan before commit = %q, want the old keys", got)
	}
	wantValue(t, s, "a", "old")

	s.commit(b)
	if got := read(); !slices.Equal(got, []string{"a1", "n1", "-"}) {
		t.Fatalf("GetMulti after commit = %q, want the new state", got)
	}
	if got := scan(); !slices.Equal(got, []string{"a", "new"}) {
		t.Fatalf("Scan after commit = %q, want the new keys", got)
	}
	if _, err := s.Get(ctx, "gone"); !errors.Is(err, kv.ErrNotFound) {
		t.Fatalf("Get of a deleted key after commit = %v, want ErrNotFound", err)
	}
	unlock()
}

// TestGetMultiFallsBackToLocks checks that GetMulti still answers, from
// under the keys' locks, when bulk writes keep committing under it (here a
// commit that never ends).
func TestGetMultiFallsBackToLocks(t *testing.T) {
	ctx := context.Background()
	s, _ := newManualStore(t)
	_ = s.Set(ctx, "a", []byte("1"))
	s.commits.Add(1) // a commit in progress, forever
	done := make(chan []kv.Value)
	go func() {
		vals, _ := s.GetMulti(ctx, []string{"a", "b"})
		done <- vals
	}()
	select {
	case vals := <-done:
		if !vals[0].Found || string(vals[0].Data) != "1" || vals[1].Found {
			t.Fatalf("GetMulti = %+v, want a=1 and b missing", vals)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("GetMulti spun while a commit was in progress instead of locking")
	}
}
