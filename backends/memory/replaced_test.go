package memory

import (
	"context"
	"sync/atomic"
	"testing"
	"time"

	"github.com/cledar/storekit/kv"
)

// A hookClock is a ManualClock that runs a hook, once, inside a call of
// Now: between a read's load of an entry and its check of the entry's
// deadline.
type hookClock struct {
	*ManualClock
	hook atomic.Pointer[func()]
}

func (c *hookClock) Now() time.Time {
	if h := c.hook.Swap(nil); h != nil {
		(*h)()
	}
	return c.ManualClock.Now()
}

// TestReadOfReplacedExpiredEntry checks that a read which loaded an entry
// whose deadline passes while a write replaces it returns the new value:
// the key was never missing; every read of one key is checked, and Scan,
// which must yield a key present for the whole iteration.
func TestReadOfReplacedExpiredEntry(t *testing.T) {
	ctx := context.Background()
	reads := map[string]func(s *Store) (string, error){
		"Get": func(s *Store) (string, error) {
			v, err := s.Get(ctx, "k")
			return string(v), err
		},
		"Latest": func(s *Store) (string, error) {
			v, _, err := s.Latest(ctx, "k")
			return string(v), err
		},
		"GetWithTTL": func(s *Store) (string, error) {
			v, _, err := s.GetWithTTL(ctx, "k")
			return string(v), err
		},
		"GetMulti": func(s *Store) (string, error) {
			vals, err := s.GetMulti(ctx, []string{"k"})
			if err != nil || !vals[0].Found {
				return "", err
			}
			return string(vals[0].Data), nil
		},
		"Scan": func(s *Store) (string, error) {
			keys, err := kv.Keys(ctx, s, "k")
			if err != nil || len(keys) != 1 {
				return "", err
			}
			v, err := s.Get(ctx, keys[0]) // the scan yielded it: the value is the new one
			return string(v), err
		},
		"LatestMulti": func(s *Store) (string, error) {
			vals, err := s.LatestMulti(ctx, []string{"k"})
			if err != nil || !vals[0].Found {
				return "", err
			}
			return string(vals[0].Value), nil
		},
	}
	for name, read := range reads {
		t.Run(name, func(t *testing.T) {
			c := &hookClock{ManualClock: NewManualClock(t0)}
			s := New(&Options{Clock: c})
			t.Cleanup(func() { s.Close() })
			if err := s.SetWithTTL(ctx, "k", []byte("old"), time.Second); err != nil {
				t.Fatal(err)
			}
			// The expiry goroutine, which the TTL started and which asks
			// the clock for the time too, must not take the hook: stopped,
			// it leaves every call of Now to the read. Reads check
			// deadlines themselves and never depend on it.
			s.exp.stop()
			replace := func() {
				if err := s.Set(ctx, "k", []byte("new")); err != nil {
					t.Error(err)
				}
				c.Advance(2 * time.Second) // past the old value's deadline
			}
			c.hook.Store(&replace)
			if v, err := read(s); v != "new" || err != nil {
				t.Errorf("%s while the value was replaced and its deadline passed = %q, %v; want \"new\"", name, v, err)
			}
			if c.hook.Load() != nil {
				t.Fatal("the read did not ask the clock for the time")
			}
		})
	}
}
