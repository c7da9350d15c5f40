package configstore_test

import (
	"context"
	"errors"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/cledar/storekit/backends/memory"
	"github.com/cledar/storekit/codec"
	"github.com/cledar/storekit/configstore"
	"github.com/cledar/storekit/internal/backendtest"
	"github.com/cledar/storekit/kv"
)

// newMemory returns a memory store closed at the end of the test, after
// the Stores over it.
func newMemory(t *testing.T) *memory.Store {
	t.Helper()
	s := memory.New(nil)
	t.Cleanup(func() { _ = s.Close() })
	return s
}

// bump is a Modify function that adds one to Index.
func bump(old Conf, _ int64, _ bool) (Conf, error) {
	old.Index++
	old.Name = "counter"
	if old.Data == nil {
		old.Data = map[string]any{}
	}
	return old, nil
}

// Two Stores over one backend, as two processes, modify one key at once;
// every increment lands, each as its own version.
func TestModifyConcurrentEndsExact(t *testing.T) {
	ctx := backendtest.Context(t)
	s := newMemory(t)
	stores := []*configstore.Store[Conf]{open(t, s, nil), open(t, s, nil)}
	const each = 50
	var wg sync.WaitGroup
	errs := make(chan error, 2*len(stores))
	for _, c := range stores {
		for range 2 { // two goroutines per Store too
			wg.Go(func() {
				for range each {
					if _, _, err := c.Modify(ctx, "counter", bump); err != nil {
						errs <- err
						return
					}
				}
			})
		}
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	const total = 2 * 2 * each
	got, err := stores[0].At(ctx, "counter", total)
	if err != nil || got.Index != total {
		t.Fatalf("version %d = %+v, %v; want index %d", total, got, err, total)
	}
	if v, err := stores[1].Version(ctx, "counter"); err != nil || v != total {
		t.Errorf("Version = %d, %v; want %d: one version per increment", v, err, total)
	}
}

func TestUpdateIfConflictReportsLatest(t *testing.T) {
	ctx := backendtest.Context(t)
	s := newMemory(t)
	c := open(t, s, &configstore.Options[Conf]{Prefix: "app:"})
	if v, err := c.UpdateIf(ctx, "cfg", 0, conf(1)); err != nil || v != 1 {
		t.Fatalf("UpdateIf(0) of a missing key = %d, %v; want version 1", v, err)
	}
	if _, err := c.Update(ctx, "cfg", conf(2)); err != nil {
		t.Fatal(err)
	}
	for _, expect := range []int64{0, 1, 3} {
		_, err := c.UpdateIf(ctx, "cfg", expect, conf(9))
		var vc *kv.VersionConflict
		if !errors.Is(err, kv.ErrConflict) || !errors.As(err, &vc) {
			t.Fatalf("UpdateIf(%d) at version 2 = %v, want a *kv.VersionConflict", expect, err)
		}
		if *vc != (kv.VersionConflict{Key: "cfg", Expected: expect, Latest: 2}) {
			t.Errorf("conflict %+v, want key cfg (no prefix), expected %d, latest 2", *vc, expect)
		}
	}
	if v, err := c.Version(ctx, "cfg"); err != nil || v != 2 {
		t.Fatalf("Version after the conflicts = %d, %v; want 2", v, err)
	}
	if v, err := c.UpdateIf(ctx, "cfg", 2, conf(3)); err != nil || v != 3 {
		t.Fatalf("UpdateIf(2) at version 2 = %d, %v; want 3", v, err)
	}
	if v, ok := c.CachedVersion("cfg"); !ok || v != 3 {
		t.Errorf("CachedVersion = %d, %v; want the version written, 3", v, ok)
	}
	if got, v, err := c.Fetch(ctx, "cfg"); err != nil || v != 3 || got.Index != 3 {
		t.Errorf("Fetch = %+v, %d, %v; want conf(3) at 3", got, v, err)
	}
}

// A raceStore lets another writer append to a history between a Store's
// read and its AppendIf: in the next races AppendIfs, or in all of them
// with always.
type raceStore struct {
	*memory.Store
	races  atomic.Int64
	always atomic.Bool
}

func (r *raceStore) AppendIf(ctx context.Context, key string, value []byte, expect int64) (int64, error) {
	if r.always.Load() || r.races.Add(-1) >= 0 {
		if _, err := r.Append(ctx, key, []byte(encoded(100))); err != nil {
			return 0, err
		}
	}
	return r.Store.AppendIf(ctx, key, value, expect)
}

func TestUpdateIfLosesToAConcurrentAppend(t *testing.T) {
	ctx := backendtest.Context(t)
	r := &raceStore{Store: newMemory(t)}
	c := open(t, r, &configstore.Options[Conf]{Prefix: "app:"})
	if _, err := c.Update(ctx, "cfg", conf(1)); err != nil {
		t.Fatal(err)
	}
	r.races.Store(1)
	_, err := c.UpdateIf(ctx, "cfg", 1, conf(2))
	var vc *kv.VersionConflict
	if !errors.As(err, &vc) || *vc != (kv.VersionConflict{Key: "cfg", Expected: 1, Latest: 2}) {
		t.Fatalf("UpdateIf that lost the race = %v, want a conflict with latest version 2 under key cfg", err)
	}

	// Modify starts again, with the other writer's value.
	r.races.Store(2)
	var seen []int
	got, v, err := c.Modify(ctx, "cfg", func(old Conf, version int64, found bool) (Conf, error) {
		seen = append(seen, old.Index)
		return conf(old.Index + 1), nil
	})
	if err != nil || got.Index != 101 || v != 5 {
		t.Fatalf("Modify = %+v, %d, %v; want the other writer's 100 plus one, at version 5", got, v, err)
	}
	if len(seen) < 3 || seen[len(seen)-1] != 100 {
		t.Errorf("fn saw %v, want at least three calls, the last with the other writer's 100", seen)
	}
}

func TestModifyGivesUpWhenContextEnds(t *testing.T) {
	ctx := backendtest.Context(t)
	r := &raceStore{Store: newMemory(t)}
	r.always.Store(true)
	c := open(t, r, nil)
	if _, err := c.Update(ctx, "cfg", conf(1)); err != nil {
		t.Fatal(err)
	}
	short, cancel := context.WithTimeout(ctx, 100*time.Millisecond)
	defer cancel()
	_, _, err := c.Modify(short, "cfg", func(Conf, int64, bool) (Conf, error) { return conf(7), nil })
	if !errors.Is(err, kv.ErrConflict) || !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("Modify under constant conflicts = %v, want an error wrapping kv.ErrConflict and context.DeadlineExceeded", err)
	}
	h, err := c.History(ctx, "cfg")
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range h {
		if e.Value.Index == 7 {
			t.Fatalf("version %d holds Modify's value although every attempt conflicted", e.Version)
		}
	}
}

func TestModifySkipsAndRefuses(t *testing.T) {
	ctx := backendtest.Context(t)
	s := newMemory(t)
	c := open(t, s, nil)

	var gotFound bool
	var gotVersion int64 = -1
	got, v, err := c.Modify(ctx, "cfg", func(old Conf, version int64, found bool) (Conf, error) {
		gotFound, gotVersion = found, version
		return conf(1), nil
	})
	if err != nil || v != 1 || got.Index != 1 || gotFound || gotVersion != 0 {
		t.Fatalf("Modify of a missing key = %+v, %d, %v (fn got found %v, version %d); want version 1, fn given 0, false",
			got, v, err, gotFound, gotVersion)
	}

	got, v, err = c.Modify(ctx, "cfg", func(old Conf, _ int64, _ bool) (Conf, error) { return old, nil })
	if err != nil || v != 1 || got.Index != 1 {
		t.Fatalf("Modify to the same value = %+v, %d, %v; want version 1 unchanged", got, v, err)
	}

	errFn := errors.New("refused")
	if _, _, err := c.Modify(ctx, "cfg", func(Conf, int64, bool) (Conf, error) { return conf(5), errFn }); err != errFn {
		t.Fatalf("Modify whose fn fails = %v, want fn's error as it is", err)
	}
	if v, err := c.Version(ctx, "cfg"); err != nil || v != 1 {
		t.Fatalf("Version = %d, %v; want 1: nothing written", v, err)
	}

	if _, err := c.UpdateIf(ctx, "cfg", 1, conf(1)); err != nil {
		t.Fatalf("UpdateIf of the same value at its version: %v", err)
	}
	if _, err := c.UpdateIf(ctx, "cfg", -1, conf(2)); !errors.Is(err, kv.ErrInvalid) {
		t.Errorf("UpdateIf(-1) = %v, want kv.ErrInvalid", err)
	}
	if v, err := c.Version(ctx, "cfg"); err != nil || v != 1 {
		t.Fatalf("Version = %d, %v; want 1: an identical value writes nothing", v, err)
	}
}

func TestUpdateIfValidatesAndPrunes(t *testing.T) {
	ctx := backendtest.Context(t)
	s := newMemory(t)
	vc, err := configstore.New[ValidConf](ctx, s, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer vc.Close()
	if _, err := vc.UpdateIf(ctx, "v", 0, ValidConf{}); !errors.Is(err, codec.ErrValidation) {
		t.Errorf("UpdateIf of an invalid value = %v, want codec.ErrValidation", err)
	}
	if _, _, err := vc.Modify(ctx, "v", func(ValidConf, int64, bool) (ValidConf, error) { return ValidConf{}, nil }); !errors.Is(err, codec.ErrValidation) {
		t.Errorf("Modify to an invalid value = %v, want codec.ErrValidation", err)
	}
	if _, err := s.Get(ctx, "v"); !errors.Is(err, kv.ErrNotFound) {
		t.Errorf("v after refused writes: %v, want it missing", err)
	}

	c := open(t, s, &configstore.Options[Conf]{Prefix: "limited:", HistoryLimit: 1})
	for i := range int64(3) {
		if v, err := c.UpdateIf(ctx, "cfg", i, conf(int(i))); err != nil || v != i+1 {
			t.Fatalf("UpdateIf(%d) = %d, %v", i, v, err)
		}
	}
	if _, err := c.At(ctx, "cfg", 2); !errors.Is(err, configstore.ErrPruned) {
		t.Errorf("At(2) with HistoryLimit 1 = %v, want configstore.ErrPruned", err)
	}
}

func TestOptimisticNeedsConditionalHistorian(t *testing.T) {
	ctx := backendtest.Context(t)
	s := newMemory(t)
	c := open(t, noPruner{s, s, s}, nil) // history and watching, no AppendIf
	if _, err := c.UpdateIf(ctx, "cfg", 0, conf(1)); !errors.Is(err, kv.ErrNotSupported) {
		t.Errorf("UpdateIf = %v, want kv.ErrNotSupported", err)
	}
	called := false
	if _, _, err := c.Modify(ctx, "cfg", func(Conf, int64, bool) (Conf, error) { called = true; return conf(1), nil }); !errors.Is(err, kv.ErrNotSupported) || called {
		t.Errorf("Modify = %v, fn called %v; want kv.ErrNotSupported without calling fn", err, called)
	}
	if _, err := s.Get(ctx, "cfg"); !errors.Is(err, kv.ErrNotFound) {
		t.Errorf("cfg: %v, want nothing written", err)
	}
}
