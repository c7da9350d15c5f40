package backendtest

import (
	"bytes"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/cledar/storekit/internal/redistest"
	"github.com/cledar/storekit/kv"
)

// An AtomicBackend makes the stores of [RunAtomic]. Each function returns
// a store over a new client, logged in as user with password when user is
// not empty; the test closes it. A store with a client-side cache has it
// on.
type AtomicBackend struct {
	// New makes a store of the one server at addr.
	New func(t *testing.T, addr, user, password string) kv.Store
	// NewCluster makes a store of the cluster whose masters are at addrs.
	NewCluster func(t *testing.T, addrs []string, user, password string) kv.Store
}

// An atomicEnv is where the tests of RunAtomic run: one server, or a
// cluster of three masters.
type atomicEnv struct {
	cluster bool
	// masters are the servers that hold keys.
	masters []*redistest.Server
	// store makes a store of the default user; asUser one of user.
	store  func(t *testing.T) kv.Store
	asUser func(t *testing.T, user, password string) kv.Store
	// do runs a command on the server that holds key, on a connection of
	// its own: a client independent of any store.
	do func(t *testing.T, key string, args ...string) (any, error)
	// keys returns one key of the form prefix+number per master.
	keys func(prefix string) []string
}

// RunAtomic runs the tests of the conditional writes, counters, expiry
// changes, bulk writes and conditional appends of a Redis backend, on one
// redis-server and (unless the tests are short) on a cluster of three
// masters: what each call does and yields, the events watchers hear, bulk
// writes of 200 keys over many slots, a bulk write that fails for some
// slots only, races between writers, with and without a client-side
// cache, and every call made with a script after the server forgot its
// scripts.
func RunAtomic(t *testing.T, b AtomicBackend) {
	tests := []struct {
		name string
		run  func(t *testing.T, e atomicEnv)
	}{
		{"Conditional", checkConditional},
		{"Counter", checkCounter},
		{"Expiry", checkExpiry},
		{"AppendIf", checkAppendIf},
		{"Events", checkAtomicEvents},
		{"BulkWrite", checkBulkWrite},
		{"BulkPartial", checkBulkPartial},
		{"CASRace", checkCASRace},
		{"SetIfAbsentRace", checkSetIfAbsentRace},
		{"FailedWriteDropsStaleView", checkFailedWriteDropsStale},
		{"UpdateWithAnotherClient", checkUpdateWithAnotherClient},
		{"ScriptsFlushed", checkScriptsFlushed},
	}
	t.Run("Server", func(t *testing.T) {
		srv := redistest.Start(t, nil)
		e := atomicEnv{
			masters: []*redistest.Server{srv},
			store:   func(t *testing.T) kv.Store { return b.New(t, srv.Addr(), "", "") },
			asUser: func(t *testing.T, user, password string) kv.Store {
				return b.New(t, srv.Addr(), user, password)
			},
			do: func(_ *testing.T, _ string, args ...string) (any, error) { return srv.Do(args...) },
			keys: func(prefix string) []string {
				return []string{prefix + "0"}
			},
		}
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) { tt.run(t, e) })
		}
	})
	t.Run("Cluster", func(t *testing.T) {
		if testing.Short() {
			t.Skip("starts a Redis Cluster")
		}
		cl := redistest.StartCluster(t, 3)
		e := atomicEnv{
			cluster: true,
			masters: cl.Servers,
			store:   func(t *testing.T) kv.Store { return b.NewCluster(t, cl.Addrs(), "", "") },
			asUser: func(t *testing.T, user, password string) kv.Store {
				return b.NewCluster(t, cl.Addrs(), user, password)
			},
			do: func(_ *testing.T, key string, args ...string) (any, error) {
				return cl.MasterOf(key).Do(args...)
			},
			keys: func(prefix string) []string { return KeyPerMaster(len(cl.Servers), prefix) },
		}
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) { tt.run(t, e) })
		}
	})
}

// wantValue checks that key holds the plain value want in s.
func wantValue(t *testing.T, s kv.Store, key, want string) {
	t.Helper()
	if got, err := s.Get(Context(t), key); err != nil || string(got) != want {
		t.Errorf("Get(%q) = %q, %v; want %q", key, got, err, want)
	}
}

// wantMissing checks that key does not exist in s.
func wantMissing(t *testing.T, s kv.Store, key string) {
	t.Helper()
	if got, err := s.Get(Context(t), key); !errors.Is(err, kv.ErrNotFound) {
		t.Errorf("Get(%q) = %q, %v; want kv.ErrNotFound", key, got, err)
	}
}

// wantTTL checks that key's time to live is in (0, max], or is
// kv.NoExpiry when max is.
func wantTTL(t *testing.T, s kv.Store, key string, max time.Duration) {
	t.Helper()
	ttl, err := as[kv.Expirer](t, s).TTL(Context(t), key)
	if err != nil || (max == kv.NoExpiry) != (ttl == kv.NoExpiry) || (max != kv.NoExpiry && (ttl <= 0 || ttl > max)) {
		t.Errorf("TTL(%q) = %v, %v; want %v or less", key, ttl, err, max)
	}
}

// wantErr checks that err wraps target and quotes key.
func wantErr(t *testing.T, what string, err, target error, key string) {
	t.Helper()
	if !errors.Is(err, target) || !strings.Contains(fmt.Sprint(err), kv.QuoteKey(key)) {
		t.Errorf("%s: err = %v, want one wrapping %v that quotes %s", what, err, target, kv.QuoteKey(key))
	}
}

// checkConditional: SetIfAbsent, CompareAndSwap and CompareAndDelete on a
// key of every master, with their expiries, a history, and bad TTLs.
func checkConditional(t *testing.T, e atomicEnv) {
	s := e.store(t)
	c := as[kv.Conditional](t, s)
	h := as[kv.Historian](t, s)
	ctx := Context(t)
	for _, k := range e.keys("cond:") {
		if ok, err := c.SetIfAbsent(ctx, k, []byte("v1"), 0); !ok || err != nil {
			t.Errorf("SetIfAbsent(%q) of a missing key = %v, %v", k, ok, err)
		}
		if ok, err := c.SetIfAbsent(ctx, k, []byte("other"), time.Hour); ok || err != nil {
			t.Errorf("SetIfAbsent(%q) of an existing key = %v, %v", k, ok, err)
		}
		wantValue(t, s, k, "v1")
		wantTTL(t, s, k, kv.NoExpiry)

		if ok, err := c.CompareAndSwap(ctx, k, []byte("wrong"), []byte("v2"), 0); ok || err != nil {
			t.Errorf("CompareAndSwap(%q) with a wrong old value = %v, %v", k, ok, err)
		}
		if ok, err := c.CompareAndSwap(ctx, k, []byte("v1"), []byte("v2"), time.Hour); !ok || err != nil {
			t.Errorf("CompareAndSwap(%q) with a TTL = %v, %v", k, ok, err)
		}
		wantTTL(t, s, k, time.Hour)
		if ok, err := c.CompareAndSwap(ctx, k, []byte("v2"), []byte(""), kv.KeepTTL); !ok || err != nil {
			t.Errorf("CompareAndSwap(%q) keeping the TTL = %v, %v", k, ok, err)
		}
		wantValue(t, s, k, "")
		wantTTL(t, s, k, time.Hour)
		_, err := c.CompareAndSwap(ctx, k, []byte(""), []byte("v3"), -time.Second)
		wantErr(t, "CompareAndSwap with a negative TTL", err, kv.ErrInvalid, k)
		_, err = c.SetIfAbsent(ctx, k+"new", []byte("v"), -time.Second)
		wantErr(t, "SetIfAbsent with a negative TTL", err, kv.ErrInvalid, k+"new")
		wantMissing(t, s, k+"new")
		wantValue(t, s, k, "")

		if ok, err := c.CompareAndDelete(ctx, k, []byte("v2")); ok || err != nil {
			t.Errorf("CompareAndDelete(%q) with a wrong old value = %v, %v", k, ok, err)
		}
		if ok, err := c.CompareAndDelete(ctx, k, []byte("")); !ok || err != nil {
			t.Errorf("CompareAndDelete(%q) = %v, %v", k, ok, err)
		}
		wantMissing(t, s, k)
		if ok, err := c.CompareAndSwap(ctx, k, []byte(""), []byte("x"), 0); ok || err != nil {
			t.Errorf("CompareAndSwap(%q) of a missing key = %v, %v", k, ok, err)
		}
		if ok, err := c.CompareAndDelete(ctx, k, []byte("")); ok || err != nil {
			t.Errorf("CompareAndDelete(%q) of a missing key = %v, %v", k, ok, err)
		}

		if ok, err := c.SetIfAbsent(ctx, k, []byte("t"), 5*time.Second); !ok || err != nil {
			t.Errorf("SetIfAbsent(%q) with a TTL = %v, %v", k, ok, err)
		}
		wantTTL(t, s, k, 5*time.Second)

		hk := k + ":h"
		if _, err := h.Append(ctx, hk, []byte("a")); err != nil {
			t.Fatal(err)
		}
		if ok, err := c.SetIfAbsent(ctx, hk, []byte("v"), 0); ok || err != nil {
			t.Errorf("SetIfAbsent(%q) of a history = %v, %v", hk, ok, err)
		}
		_, err = c.CompareAndSwap(ctx, hk, []byte("a"), []byte("b"), 0)
		wantErr(t, "CompareAndSwap of a history", err, kv.ErrWrongType, hk)
		_, err = c.CompareAndDelete(ctx, hk, []byte("a"))
		wantErr(t, "CompareAndDelete of a history", err, kv.ErrWrongType, hk)
	}
}

// checkCounter: Incr counts from a missing key, keeps the expiry, and
// rejects every value Redis does not count (kv.ErrWrongType), a history
// (kv.ErrWrongType) and an overflow (kv.ErrInvalid), writing nothing.
func checkCounter(t *testing.T, e atomicEnv) {
	s := e.store(t)
	n := as[kv.Counter](t, s)
	ctx := Context(t)
	for _, k := range e.keys("ctr:") {
		for _, step := range []struct{ delta, want int64 }{{5, 5}, {-12, -7}, {0, -7}, {7, 0}} {
			if got, err := n.Incr(ctx, k, step.delta); got != step.want || err != nil {
				t.Errorf("Incr(%q, %d) = %d, %v; want %d", k, step.delta, got, err, step.want)
			}
		}
		wantValue(t, s, k, "0")
		if err := as[kv.Expirer](t, s).SetWithTTL(ctx, k, []byte("-7"), time.Hour); err != nil {
			t.Fatal(err)
		}
		if got, err := n.Incr(ctx, k, 10); got != 3 || err != nil {
			t.Errorf("Incr(%q, 10) of -7 = %d, %v; want 3", k, got, err)
		}
		wantTTL(t, s, k, time.Hour)

		for _, bad := range []string{"abc", "", "007", "+1", " 1", "1 ", "-0", "1.5", "99999999999999999999"} {
			if err := s.Set(ctx, k, []byte(bad)); err != nil {
				t.Fatal(err)
			}
			_, err := n.Incr(ctx, k, 1)
			wantErr(t, fmt.Sprintf("Incr of %q", bad), err, kv.ErrWrongType, k)
			wantValue(t, s, k, bad)
		}
		if err := s.Set(ctx, k, []byte("9223372036854775806")); err != nil {
			t.Fatal(err)
		}
		if got, err := n.Incr(ctx, k, 1); got != 1<<63-1 || err != nil {
			t.Errorf("Incr to the int64 maximum = %d, %v", got, err)
		}
		_, err := n.Incr(ctx, k, 1)
		wantErr(t, "Incr beyond the int64 maximum", err, kv.ErrInvalid, k)
		if err != nil && errors.Is(err, kv.ErrWrongType) {
			t.Errorf("Incr beyond the int64 maximum: err = %v wraps kv.ErrWrongType", err)
		}
		wantValue(t, s, k, "9223372036854775807")
		if err := s.Set(ctx, k, []byte("-9223372036854775808")); err != nil {
			t.Fatal(err)
		}
		_, err = n.Incr(ctx, k, -1)
		wantErr(t, "Incr below the int64 minimum", err, kv.ErrInvalid, k)

		hk := k + ":h"
		if _, err := as[kv.Historian](t, s).Append(ctx, hk, []byte("1")); err != nil {
			t.Fatal(err)
		}
		_, err = n.Incr(ctx, hk, 1)
		wantErr(t, "Incr of a history", err, kv.ErrWrongType, hk)
	}
}

// checkExpiry: Expire, Persist and GetWithTTL on keys with and without an
// expiry, a history and a missing key.
func checkExpiry(t *testing.T, e atomicEnv) {
	s := e.store(t)
	x := as[kv.ExpiryChanger](t, s)
	ctx := Context(t)
	for _, k := range e.keys("exp:") {
		if ok, err := x.Expire(ctx, k, time.Hour); ok || err != nil {
			t.Errorf("Expire(%q) of a missing key = %v, %v", k, ok, err)
		}
		if ok, err := x.Persist(ctx, k); ok || err != nil {
			t.Errorf("Persist(%q) of a missing key = %v, %v", k, ok, err)
		}
		if _, _, err := x.GetWithTTL(ctx, k); !errors.Is(err, kv.ErrNotFound) {
			t.Errorf("GetWithTTL(%q) of a missing key: err = %v, want kv.ErrNotFound", k, err)
		}
		if err := s.Set(ctx, k, []byte("v")); err != nil {
			t.Fatal(err)
		}
		if v, ttl, err := x.GetWithTTL(ctx, k); string(v) != "v" || ttl != kv.NoExpiry || err != nil {
			t.Errorf("GetWithTTL(%q) = %q, %v, %v; want v, NoExpiry", k, v, ttl, err)
		}
		if ok, err := x.Persist(ctx, k); !ok || err != nil {
			t.Errorf("Persist(%q) of a key without an expiry = %v, %v; want true: it exists", k, ok, err)
		}
		if ok, err := x.Expire(ctx, k, time.Hour); !ok || err != nil {
			t.Errorf("Expire(%q) = %v, %v", k, ok, err)
		}
		if v, ttl, err := x.GetWithTTL(ctx, k); string(v) != "v" || ttl <= time.Hour-time.Minute || ttl > time.Hour || err != nil {
			t.Errorf("GetWithTTL(%q) = %q, %v, %v; want v and about an hour", k, v, ttl, err)
		}
		if ok, err := x.Persist(ctx, k); !ok || err != nil {
			t.Errorf("Persist(%q) of a key with an expiry = %v, %v", k, ok, err)
		}
		wantTTL(t, s, k, kv.NoExpiry)
		for _, bad := range []time.Duration{0, -time.Second} {
			_, err := x.Expire(ctx, k, bad)
			wantErr(t, fmt.Sprintf("Expire(%v)", bad), err, kv.ErrInvalid, k)
		}
		wantTTL(t, s, k, kv.NoExpiry)

		if ok, err := x.Expire(ctx, k, 50*time.Millisecond); !ok || err != nil {
			t.Errorf("Expire(%q, 50ms) = %v, %v", k, ok, err)
		}
		Eventually(t, k+" expired", func() error {
			if _, err := s.Get(ctx, k); !errors.Is(err, kv.ErrNotFound) {
				return fmt.Errorf("the key is still there: Get = %v", err)
			}
			return nil
		})

		hk := k + ":h"
		if _, err := as[kv.Historian](t, s).Append(ctx, hk, []byte("a")); err != nil {
			t.Fatal(err)
		}
		if ok, err := x.Expire(ctx, hk, time.Hour); !ok || err != nil {
			t.Errorf("Expire(%q) of a history = %v, %v", hk, ok, err)
		}
		wantTTL(t, s, hk, time.Hour)
		if ok, err := x.Persist(ctx, hk); !ok || err != nil {
			t.Errorf("Persist(%q) of a history = %v, %v", hk, ok, err)
		}
		_, _, err := x.GetWithTTL(ctx, hk)
		wantErr(t, "GetWithTTL of a history", err, kv.ErrWrongType, hk)
	}
}

// checkAppendIf: AppendIf appends at the expected version only, converts a
// plain value as Append does, and otherwise returns a *kv.VersionConflict
// that holds the latest version, writing nothing.
func checkAppendIf(t *testing.T, e atomicEnv) {
	s := e.store(t)
	a := as[kv.ConditionalHistorian](t, s)
	ctx := Context(t)
	conflict := func(key string, err error, expected, latest int64) {
		t.Helper()
		var vc *kv.VersionConflict
		if !errors.As(err, &vc) || !errors.Is(err, kv.ErrConflict) || vc.Key != key || vc.Expected != expected || vc.Latest != latest {
			t.Errorf("AppendIf(%q, expect %d): err = %v, want a *kv.VersionConflict with Latest %d", key, expected, err, latest)
		}
	}
	for _, k := range e.keys("hist:") {
		_, err := a.AppendIf(ctx, k, []byte("x"), 1)
		conflict(k, err, 1, 0)
		wantMissing(t, s, k)
		for v := int64(0); v < 3; v++ {
			if got, err := a.AppendIf(ctx, k, []byte{byte('a' + v)}, v); got != v+1 || err != nil {
				t.Errorf("AppendIf(%q, expect %d) = %d, %v; want %d", k, v, got, err, v+1)
			}
		}
		for _, stale := range []int64{0, 2, 4, 1 << 62} {
			_, err = a.AppendIf(ctx, k, []byte("x"), stale)
			conflict(k, err, stale, 3)
		}
		if all, err := a.History(ctx, k); err != nil || !bytes.Equal(bytes.Join(all, []byte(",")), []byte("a,b,c")) {
			t.Errorf("History(%q) = %q, %v; want [a b c]", k, all, err)
		}
		_, err = a.AppendIf(ctx, k, []byte("x"), -1)
		wantErr(t, "AppendIf with a negative version", err, kv.ErrInvalid, k)

		pk := k + ":plain"
		if err := s.Set(ctx, pk, []byte("old")); err != nil {
			t.Fatal(err)
		}
		_, err = a.AppendIf(ctx, pk, []byte("new"), 0)
		conflict(pk, err, 0, 1)
		wantValue(t, s, pk, "old")
		if got, err := a.AppendIf(ctx, pk, []byte("new"), 1); got != 2 || err != nil {
			t.Errorf("AppendIf(%q, expect 1) of a plain value = %d, %v; want 2", pk, got, err)
		}
		if all, err := a.History(ctx, pk); err != nil || !bytes.Equal(bytes.Join(all, []byte(",")), []byte("old,new")) {
			t.Errorf("History(%q) = %q, %v; want [old new]", pk, all, err)
		}

		hk := k + ":hash"
		if _, err := e.do(t, hk, "HSET", hk, "f", "v"); err != nil {
			t.Fatal(err)
		}
		_, err = a.AppendIf(ctx, hk, []byte("x"), 0)
		wantErr(t, "AppendIf onto a hash", err, kv.ErrWrongType, hk)
	}
}

// checkAtomicEvents: the events of each call, in order, on keys of one
// slot: a conditional write that does not happen, a Persist of a key
// without expiry and a conflicting AppendIf are heard as nothing.
func checkAtomicEvents(t *testing.T, e atomicEnv) {
	s := e.store(t)
	ctx := Context(t)
	c, x, n := as[kv.Conditional](t, s), as[kv.ExpiryChanger](t, s), as[kv.Counter](t, s)
	a, bw := as[kv.ConditionalHistorian](t, s), as[kv.BulkWriter](t, s)
	const k, h, ctr, b1, b2, marker = "ev:{e}k", "ev:{e}h", "ev:{e}ctr", "ev:{e}b1", "ev:{e}b2", "ev:{e}end"
	ch := StartWatch(ctx, t, s, "ev:*")
	steps := []struct {
		do   func() error
		want string
	}{
		{func() error { _, err := c.SetIfAbsent(ctx, k, []byte("1"), 0); return err }, "set k"},
		{func() error { _, err := c.SetIfAbsent(ctx, k, []byte("1"), time.Hour); return err }, ""},
		{func() error { _, err := c.CompareAndSwap(ctx, k, []byte("0"), []byte("2"), 0); return err }, ""},
		{func() error { _, err := c.CompareAndSwap(ctx, k, []byte("1"), []byte("2"), kv.KeepTTL); return err }, "set k"},
		{func() error { _, err := c.CompareAndSwap(ctx, k, []byte("2"), []byte("3"), time.Hour); return err }, "set k, expire k"},
		{func() error { _, err := x.Persist(ctx, k); return err }, "other k"},
		{func() error { _, err := x.Persist(ctx, k); return err }, ""},
		{func() error { _, err := x.Expire(ctx, k, time.Hour); return err }, "expire k"},
		{func() error { _, err := x.Expire(ctx, "ev:{e}missing", time.Hour); return err }, ""},
		{func() error { _, _, err := x.GetWithTTL(ctx, k); return err }, ""},
		{func() error { _, err := n.Incr(ctx, ctr, 2); return err }, "set ctr"},
		{func() error { _, err := c.CompareAndDelete(ctx, k, []byte("2")); return err }, ""},
		{func() error { _, err := c.CompareAndDelete(ctx, k, []byte("3")); return err }, "delete k"},
		{func() error { _, err := c.SetIfAbsent(ctx, k, []byte("4"), time.Hour); return err }, "set k, expire k"},
		{func() error { _, err := a.AppendIf(ctx, h, []byte("a"), 0); return err }, "append h"},
		{func() error {
			if _, err := a.AppendIf(ctx, h, []byte("b"), 0); !errors.Is(err, kv.ErrConflict) {
				return fmt.Errorf("the AppendIf at a stale version: err = %v, want kv.ErrConflict", err)
			}
			return nil
		}, ""},
		{func() error { _, err := a.AppendIf(ctx, k, []byte("5"), 1); return err }, "delete k, append k"},
		{func() error {
			return bw.SetMulti(ctx, []kv.Item{{Key: b1, Value: []byte("x")}, {Key: b2, Value: []byte("y")}})
		}, "set b1, set b2"},
		{func() error {
			return bw.SetMulti(ctx, []kv.Item{{Key: b1, Value: []byte("x")}, {Key: b2, Value: []byte("y"), TTL: time.Hour}})
		}, "set b1, set b2, expire b2"},
		{func() error { _, err := bw.DeleteMulti(ctx, []string{b1, "ev:{e}missing", b2, b1}); return err }, "delete b1, delete b2"},
		{func() error { return s.Set(ctx, marker, nil) }, "set end"},
	}
	var want []string
	for i, st := range steps {
		if err := st.do(); err != nil {
			t.Fatalf("step %d: %v", i, err)
		}
		if st.want != "" {
			want = append(want, strings.Split(st.want, ", ")...)
		}
	}
	var got []string
	for len(got) == 0 || got[len(got)-1] != "set end" {
		ev := WaitEvent(t, ch, "the event of the last step", func(e kv.Event) bool { return strings.HasPrefix(e.Key, "ev:{e}") })
		got = append(got, ev.Op.String()+" "+strings.TrimPrefix(ev.Key, "ev:{e}"))
	}
	if strings.Join(got, ", ") != strings.Join(want, ", ") {
		t.Errorf("events:\n got %s\nwant %s", strings.Join(got, ", "), strings.Join(want, ", "))
	}
}
