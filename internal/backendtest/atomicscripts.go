package backendtest

import (
	"testing"
	"time"

	"github.com/cledar/storekit/kv"
)

// checkScriptsFlushed runs every call that the store makes with a Lua
// script right after SCRIPT FLUSH on every master, as after a restart or a
// failover to a server that never ran them: each must load its script again
// and do its work, on its own and in a bulk call.
func checkScriptsFlushed(t *testing.T, e atomicEnv) {
	s := e.store(t)
	c := as[kv.Conditional](t, s)
	x := as[kv.ExpiryChanger](t, s)
	h := as[kv.Historian](t, s)
	ch := as[kv.ConditionalHistorian](t, s)
	p := as[kv.Pruner](t, s)
	bw := as[kv.BulkWriter](t, s)
	lm := as[kv.MultiLatest](t, s)
	ctx := Context(t)
	flush := func() {
		t.Helper()
		for _, m := range e.masters {
			if _, err := m.Do("SCRIPT", "FLUSH"); err != nil {
				t.Fatalf("SCRIPT FLUSH on %s: %v", m.Addr(), err)
			}
		}
	}
	keys := e.keys("flushed:")
	for _, k := range keys {
		if err := s.Set(ctx, k, []byte("v1")); err != nil {
			t.Fatalf("Set(%q): %v", k, err)
		}
		flush()
		if ok, err := c.CompareAndSwap(ctx, k, []byte("v1"), []byte("v2"), time.Hour); !ok || err != nil {
			t.Errorf("CompareAndSwap(%q) after SCRIPT FLUSH = %v, %v, want true", k, ok, err)
		}
		flush()
		if v, ttl, err := x.GetWithTTL(ctx, k); string(v) != "v2" || ttl <= 0 || ttl > time.Hour || err != nil {
			t.Errorf("GetWithTTL(%q) after SCRIPT FLUSH = %q, %v, %v, want \"v2\" and at most an hour", k, v, ttl, err)
		}
		flush()
		if ok, err := x.Persist(ctx, k); !ok || err != nil {
			t.Errorf("Persist(%q) after SCRIPT FLUSH = %v, %v, want true", k, ok, err)
		}
		wantTTL(t, s, k, kv.NoExpiry)
		flush()
		if ok, err := c.CompareAndDelete(ctx, k, []byte("v2")); !ok || err != nil {
			t.Errorf("CompareAndDelete(%q) after SCRIPT FLUSH = %v, %v, want true", k, ok, err)
		}
		wantMissing(t, s, k)

		flush()
		if v, err := h.Append(ctx, k, []byte("h1")); v != 1 || err != nil {
			t.Errorf("Append(%q) after SCRIPT FLUSH = %d, %v, want version 1", k, v, err)
		}
		flush()
		if v, err := ch.AppendIf(ctx, k, []byte("h2"), 1); v != 2 || err != nil {
			t.Errorf("AppendIf(%q, 1) after SCRIPT FLUSH = %d, %v, want version 2", k, v, err)
		}
		flush()
		if n, err := p.Prune(ctx, k, 2); n != 1 || err != nil {
			t.Errorf("Prune(%q, 2) after SCRIPT FLUSH = %d, %v, want 1 entry emptied", k, n, err)
		}
		flush()
		if v, ver, err := h.Latest(ctx, k); string(v) != "h2" || ver != 2 || err != nil {
			t.Errorf("Latest(%q) after SCRIPT FLUSH = %q, %d, %v, want \"h2\" at version 2", k, v, ver, err)
		}
	}

	flush()
	latest, err := lm.LatestMulti(ctx, keys)
	if err != nil || len(latest) != len(keys) {
		t.Fatalf("LatestMulti(%q) after SCRIPT FLUSH = %v, %v", keys, latest, err)
	}
	for i, l := range latest {
		if string(l.Value) != "h2" || l.Version != 2 {
			t.Errorf("LatestMulti after SCRIPT FLUSH: %q = %q at version %d, want \"h2\" at version 2", keys[i], l.Value, l.Version)
		}
	}

	// Items with a TTL go through a script; one per master, so that a
	// cluster sends several at once.
	items := make([]kv.Item, len(keys))
	for i, k := range keys {
		items[i] = kv.Item{Key: k + ":ttl", Value: []byte("b"), TTL: time.Hour}
	}
	flush()
	if err := bw.SetMulti(ctx, items); err != nil {
		t.Fatalf("SetMulti of items with a TTL after SCRIPT FLUSH: %v", err)
	}
	for _, it := range items {
		wantValue(t, s, it.Key, "b")
		wantTTL(t, s, it.Key, time.Hour)
	}
}
