package configstore_test

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/cledar/storekit/codec"
	"github.com/cledar/storekit/configstore"
	"github.com/cledar/storekit/internal/backendtest"
	"github.com/cledar/storekit/kv"
)

// Conf is the configuration type of the tests, the Python example's
// ExampleConfig.
type Conf struct {
	Name  string         `json:"name"`
	Index int            `json:"index"`
	Data  map[string]any `json:"data"`
}

func conf(i int) Conf { return Conf{Name: "c" + strconv.Itoa(i), Index: i, Data: map[string]any{}} }

// encoded is conf(i) as the Python store writes it.
func encoded(i int) string {
	return fmt.Sprintf(`{"name": "c%d", "index": %d, "data": {}}`, i, i)
}

// Hang bounds, not timing assertions.
const (
	waitBound = 15 * time.Second
)

// A writer changes keys in the backend without going through the Store
// under test: a raw Redis client, redis-cli, or the kv.Store itself.
// Keys are full keys, prefix included.
type writer struct {
	// Set writes a plain value (SET).
	Set func(t *testing.T, key, value string)
	// Push appends to a history (RPUSH).
	Push func(t *testing.T, key, value string)
	// Del removes a key (DEL).
	Del func(t *testing.T, key string)
	// Expire makes an existing key expire now or very soon (PEXPIRE).
	Expire func(t *testing.T, key string)
	// LSet rewrites entry index of a history in place; nil when the
	// backend cannot.
	LSet func(t *testing.T, key string, index int, value string)
	// HSet writes a hash (a key of another kind); nil when the backend
	// cannot.
	HSet func(t *testing.T, key, field, value string)
}

// A backend makes the kv.Store of a test and a writer for it.
type backend struct {
	// New returns a fresh kv.Store and an outside writer for it; the test's
	// cleanup closes both.
	New func(t *testing.T) (kv.Store, writer)
}

// runSuite runs the behaviour tests of package configstore against b.
func runSuite(t *testing.T, b backend) {
	tests := []struct {
		name string
		run  func(t *testing.T, b backend)
	}{
		{"UpdateFetchVersions", testUpdateFetchVersions},
		{"IdenticalUpdateSkipped", testIdenticalUpdateSkipped},
		{"IdenticalValueOtherBytes", testIdenticalValueOtherBytes},
		{"PlainValueConverted", testPlainValueConverted},
		{"PrefixOnce", testPrefixOnce},
		{"OutsideWriters", testOutsideWriters},
		{"DeleteEventForUncachedKey", testDeleteEventForUncachedKey},
		{"ExpiredKeyLeavesCache", testExpiredKeyLeavesCache},
		{"DeleteDoesNotWatch", testDeleteDoesNotWatch},
		{"BadValue", testBadValue},
		{"WrongType", testWrongType},
		{"PanickingCallback", testPanickingCallback},
		{"SlowCallback", testSlowCallback},
		{"OrderPerKey", testOrderPerKey},
		{"StopWatcher", testStopWatcher},
		{"CloseStopsWatchers", testCloseStopsWatchers},
		{"HistoryLimit", testHistoryLimit},
		{"Concurrent", testConcurrent},
		{"ReadYourOwnUpdates", testReadYourOwnUpdates},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) { tc.run(t, b) })
	}
}

// open returns a Store of Conf over s, closed at cleanup.
func open(t *testing.T, s kv.Store, opts *configstore.Options[Conf]) *configstore.Store[Conf] {
	t.Helper()
	c, err := configstore.New(backendtest.Context(t), s, opts)
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	t.Cleanup(func() { _ = c.Close() })
	return c
}

// A recorder collects the events of a watcher.
type recorder struct {
	mu     sync.Mutex
	events []configstore.Event[Conf]
	signal chan struct{}
}

func newRecorder() *recorder { return &recorder{signal: make(chan struct{}, 1)} }

func (r *recorder) fn(ev configstore.Event[Conf]) {
	r.mu.Lock()
	r.events = append(r.events, ev)
	r.mu.Unlock()
	select {
	case r.signal <- struct{}{}:
	default:
	}
}

func (r *recorder) all() []configstore.Event[Conf] {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]configstore.Event[Conf](nil), r.events...)
}

func (r *recorder) last() (configstore.Event[Conf], bool) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if len(r.events) == 0 {
		return configstore.Event[Conf]{}, false
	}
	return r.events[len(r.events)-1], true
}

// waitLast waits until the latest event satisfies ok.
func (r *recorder) waitLast(t *testing.T, what string, ok func(configstore.Event[Conf]) bool) configstore.Event[Conf] {
	t.Helper()
	deadline := time.After(waitBound)
	for {
		if ev, found := r.last(); found && ok(ev) {
			return ev
		}
		select {
		case <-r.signal:
		case <-deadline:
			t.Fatalf("no event %s within %v; events: %v", what, waitBound, r.all())
		}
	}
}

func isUpdated(version int64, index int) func(configstore.Event[Conf]) bool {
	return func(ev configstore.Event[Conf]) bool {
		return ev.Kind == configstore.Updated && ev.Version == version && ev.Value.Index == index
	}
}

func isDeleted(ev configstore.Event[Conf]) bool { return ev.Kind == configstore.Deleted }

// watch registers r for key, stopped at cleanup.
func watch(t *testing.T, c *configstore.Store[Conf], key string, r *recorder) {
	t.Helper()
	stop, err := c.Watch(backendtest.Context(t), key, r.fn)
	if err != nil {
		t.Fatalf("Watch(%q): %v", key, err)
	}
	t.Cleanup(stop)
}

// wantFetch checks what Fetch returns.
func wantFetch(t *testing.T, c *configstore.Store[Conf], key string, version int64, index int) {
	t.Helper()
	v, ver, err := c.Fetch(backendtest.Context(t), key)
	if err != nil || ver != version || v.Index != index {
		t.Fatalf("Fetch(%q) = index %d, version %d, %v; want index %d, version %d", key, v.Index, ver, err, index, version)
	}
}

// fetchIs returns an error until Fetch returns the version and index.
func fetchIs(c *configstore.Store[Conf], key string, version int64, index int) func() error {
	return func() error {
		v, ver, err := c.Fetch(context.Background(), key)
		if err != nil {
			return err
		}
		if ver != version || v.Index != index {
			return fmt.Errorf("Fetch = index %d, version %d; want index %d, version %d", v.Index, ver, index, version)
		}
		return nil
	}
}

func testUpdateFetchVersions(t *testing.T, b backend) {
	ctx := backendtest.Context(t)
	s, _ := b.New(t)
	c := open(t, s, nil)

	if _, _, err := c.Fetch(ctx, "cfg"); !errors.Is(err, kv.ErrNotFound) {
		t.Fatalf("Fetch of a missing key: %v, want kv.ErrNotFound", err)
	}
	if v, err := c.Version(ctx, "cfg"); err != nil || v != 0 {
		t.Fatalf("Version of a missing key = %d, %v; want 0", v, err)
	}
	if _, ok := c.CachedVersion("cfg"); ok {
		t.Fatal("CachedVersion of a missing key reports a version")
	}
	for i := 1; i <= 3; i++ {
		v, err := c.Update(ctx, "cfg", conf(i))
		if err != nil || v != int64(i) {
			t.Fatalf("Update %d = %d, %v; want version %d", i, v, err, i)
		}
	}
	wantFetch(t, c, "cfg", 3, 3)
	if v, err := c.Version(ctx, "cfg"); err != nil || v != 3 {
		t.Fatalf("Version = %d, %v; want 3", v, err)
	}
	if v, ok := c.CachedVersion("cfg"); !ok || v != 3 {
		t.Fatalf("CachedVersion = %d, %v; want 3", v, ok)
	}
	if v, ver, ok := c.Latest("cfg"); !ok || ver != 3 || v.Index != 3 {
		t.Fatalf("Latest = %+v, %d, %v; want index 3, version 3", v, ver, ok)
	}
	for i := int64(1); i <= 3; i++ {
		v, err := c.At(ctx, "cfg", i)
		if err != nil || v.Index != int(i) {
			t.Fatalf("At(%d) = %+v, %v", i, v, err)
		}
	}
	if _, err := c.At(ctx, "cfg", 4); !errors.Is(err, kv.ErrNotFound) {
		t.Fatalf("At(4): %v, want kv.ErrNotFound", err)
	}
	if _, err := c.At(ctx, "cfg", 0); !errors.Is(err, kv.ErrInvalid) {
		t.Fatalf("At(0): %v, want kv.ErrInvalid", err)
	}
	h, err := c.History(ctx, "cfg")
	if err != nil || len(h) != 3 {
		t.Fatalf("History = %v, %v; want 3 entries", h, err)
	}
	for i, e := range h {
		if e.Version != int64(i+1) || e.Value.Index != i+1 || e.Err != nil {
			t.Fatalf("History[%d] = %+v", i, e)
		}
	}
	if _, _, err := c.Fetch(ctx, ""); !errors.Is(err, kv.ErrInvalid) {
		t.Fatalf("Fetch of the empty key: %v, want kv.ErrInvalid", err)
	}
	removed, err := c.Delete(ctx, "cfg")
	if err != nil || !removed {
		t.Fatalf("Delete = %v, %v", removed, err)
	}
	if _, _, err := c.Fetch(ctx, "cfg"); !errors.Is(err, kv.ErrNotFound) {
		t.Fatalf("Fetch after Delete: %v, want kv.ErrNotFound", err)
	}
	if _, ok := c.CachedVersion("cfg"); ok {
		t.Fatal("CachedVersion after Delete reports a version")
	}
	if _, _, ok := c.Latest("cfg"); ok {
		t.Fatal("Latest after Delete reports a value")
	}
	if removed, err := c.Delete(ctx, "cfg"); err != nil || removed {
		t.Fatalf("second Delete = %v, %v; want false", removed, err)
	}
}

// The Python store's identical-value check could never succeed, so every
// update wrote a version.
func testIdenticalUpdateSkipped(t *testing.T, b backend) {
	ctx := backendtest.Context(t)
	s, _ := b.New(t)
	c := open(t, s, nil)
	r := newRecorder()
	watch(t, c, "cfg", r)

	if v, err := c.Update(ctx, "cfg", conf(1)); err != nil || v != 1 {
		t.Fatalf("Update = %d, %v", v, err)
	}
	r.waitLast(t, "updated to version 1", isUpdated(1, 1))
	for range 3 {
		if v, err := c.Update(ctx, "cfg", conf(1)); err != nil || v != 1 {
			t.Fatalf("identical Update = %d, %v; want version 1 and no write", v, err)
		}
	}
	if v, err := c.Version(ctx, "cfg"); err != nil || v != 1 {
		t.Fatalf("live Version after identical updates = %d, %v; want 1", v, err)
	}
	if v, err := c.Update(ctx, "cfg", conf(2)); err != nil || v != 2 {
		t.Fatalf("different Update = %d, %v; want 2", v, err)
	}
	r.waitLast(t, "updated to version 2", isUpdated(2, 2))
	for _, ev := range r.all() {
		if ev.Kind != configstore.Updated {
			t.Fatalf("unexpected event %+v", ev)
		}
	}
	if n := len(r.all()); n != 2 {
		t.Fatalf("%d events, want 2 (identical updates are not changes): %v", n, r.all())
	}
}

// An update is skipped when the latest version holds the same value in
// other bytes, as another writer may have written it (keys in another
// order, no spaces, escapes, another spelling of a float), but not when a
// number changed from an integer to a float: Python would read a change.
func testIdenticalValueOtherBytes(t *testing.T, b backend) {
	ctx := backendtest.Context(t)
	s, w := b.New(t)
	c := open(t, s, &configstore.Options[Conf]{Prefix: "p:"})
	same := []struct {
		stored string
		value  Conf
	}{
		{`{"data":{},"index":1,"name":"c1"}`, conf(1)},
		{`{"name": "\u0063\u0032", "index": 2, "data": {"b": [1, 2.50], "a": 1e16}}`,
			Conf{Name: "c2", Index: 2, Data: map[string]any{"a": 1e16, "b": []any{1, 2.5}}}},
		{`{"name": "c3", "index": 3, "data": {"n": 9223372036854775807, "f": 3.0}}`,
			Conf{Name: "c3", Index: 3, Data: map[string]any{"f": 3.0, "n": int64(9223372036854775807)}}},
	}
	for i, tc := range same {
		key := "cfg" + strconv.Itoa(i)
		w.Push(t, "p:"+key, tc.stored)
		if v, err := c.Update(ctx, key, tc.value); err != nil || v != 1 {
			t.Errorf("Update(%s) of the value of %s = %d, %v; want version 1, nothing written", key, tc.stored, v, err)
		}
		if v, err := c.Version(ctx, key); err != nil || v != 1 {
			t.Errorf("Version(%s) = %d, %v; want 1", key, v, err)
		}
	}
	// 1 and 1.0 are not the same value.
	w.Push(t, "p:int", `{"name": "c", "index": 1, "data": {"n": 1}}`)
	if v, err := c.Update(ctx, "int", Conf{Name: "c", Index: 1, Data: map[string]any{"n": 1.0}}); err != nil || v != 2 {
		t.Errorf("Update of 1 to 1.0 = %d, %v; want version 2", v, err)
	}
	if v, err := c.Update(ctx, "int", Conf{Name: "c", Index: 1, Data: map[string]any{"n": 1.0}}); err != nil || v != 2 {
		t.Errorf("Update of 1.0 to 1.0 = %d, %v; want version 2, nothing written", v, err)
	}
}

// A key that holds a plain value is version 1 and becomes a history on the
// next update.
func testPlainValueConverted(t *testing.T, b backend) {
	ctx := backendtest.Context(t)
	s, w := b.New(t)
	c := open(t, s, &configstore.Options[Conf]{Prefix: "p:"})
	w.Set(t, "p:cfg", encoded(7))

	wantFetch(t, c, "cfg", 1, 7)
	if v, err := c.Update(ctx, "cfg", conf(8)); err != nil || v != 2 {
		t.Fatalf("Update of a plain value = %d, %v; want version 2", v, err)
	}
	wantFetch(t, c, "cfg", 2, 8)
	h, err := c.History(ctx, "cfg")
	if err != nil || len(h) != 2 || h[0].Value.Index != 7 || h[1].Value.Index != 8 {
		t.Fatalf("History = %+v, %v; want versions 7 then 8", h, err)
	}
	// The Store's own writes are histories the kv.Store reads as such.
	hist := s.(kv.Historian)
	raw, ver, err := hist.Latest(ctx, "p:cfg")
	if err != nil || ver != 2 || string(raw) != encoded(8) {
		t.Fatalf("kv Latest = %q, %d, %v; want %q, 2", raw, ver, err, encoded(8))
	}
}

// The prefix is added once: to the keys written, and removed from the keys
// reported; a key outside the prefix is not seen.
func testPrefixOnce(t *testing.T, b backend) {
	ctx := backendtest.Context(t)
	s, w := b.New(t)
	c := open(t, s, &configstore.Options[Conf]{Prefix: "app:"})
	r := newRecorder()
	watch(t, c, "cfg", r)

	if _, err := c.Update(ctx, "cfg", conf(1)); err != nil {
		t.Fatal(err)
	}
	if _, err := s.(kv.Historian).At(ctx, "app:cfg", 1); err != nil {
		t.Fatalf("the key app:cfg was not written: %v", err)
	}
	for _, k := range []string{"cfg", "app:app:cfg"} {
		if _, _, err := s.(kv.Historian).Latest(ctx, k); !errors.Is(err, kv.ErrNotFound) {
			t.Fatalf("key %q exists (%v): the prefix was not applied exactly once", k, err)
		}
	}
	r.waitLast(t, "updated to 1", isUpdated(1, 1))
	// The cache is keyed without the prefix (the Python store's fallback
	// lookups added it and missed).
	if v, ok := c.CachedVersion("cfg"); !ok || v != 1 {
		t.Fatalf("CachedVersion(cfg) = %d, %v; want 1", v, ok)
	}
	if _, ver, ok := c.Latest("cfg"); !ok || ver != 1 {
		t.Fatalf("Latest(cfg) = version %d, %v; want 1", ver, ok)
	}
	if _, ok := c.CachedVersion("app:cfg"); ok {
		t.Fatal("CachedVersion(app:cfg) reports a version: the prefix leaked into the cache")
	}

	// Outside writes to the prefixed key are seen, with the key reported
	// without the prefix; a write to the bare key is not.
	w.Push(t, "cfg", encoded(99))
	w.Push(t, "app:cfg", encoded(2))
	ev := r.waitLast(t, "updated to 2", isUpdated(2, 2))
	if ev.Key != "cfg" {
		t.Fatalf("event key %q, want cfg", ev.Key)
	}
	backendtest.Eventually(t, "the cache follows the outside write", fetchIs(c, "cfg", 2, 2))
	for _, ev := range r.all() {
		if ev.Value.Index == 99 {
			t.Fatalf("a write outside the prefix was reported: %+v", ev)
		}
	}
	w.Del(t, "app:cfg")
	r.waitLast(t, "deleted", isDeleted)
}

// Changes made by others reach the cache and the watchers: RPUSH, SET,
// LSET of the latest entry, DEL, then a new RPUSH.
func testOutsideWriters(t *testing.T, b backend) {
	ctx := backendtest.Context(t)
	s, w := b.New(t)
	c := open(t, s, nil)
	r := newRecorder()
	watch(t, c, "cfg", r) // before the key exists
	if _, ok := c.CachedVersion("cfg"); ok {
		t.Fatal("a missing key is cached")
	}

	w.Push(t, "cfg", encoded(1))
	r.waitLast(t, "created by RPUSH", isUpdated(1, 1))
	w.Push(t, "cfg", encoded(2))
	r.waitLast(t, "second RPUSH", isUpdated(2, 2))
	wantFetch(t, c, "cfg", 2, 2)

	if w.LSet != nil {
		w.LSet(t, "cfg", -1, encoded(20))
		r.waitLast(t, "LSET of the latest entry", isUpdated(2, 20))
		backendtest.Eventually(t, "the cache follows LSET", fetchIs(c, "cfg", 2, 20))
		// Rewriting an older entry changes no latest state: no event.
		n := len(r.all())
		w.LSet(t, "cfg", 0, encoded(10))
		w.Push(t, "cfg", encoded(3))
		r.waitLast(t, "RPUSH after LSET", isUpdated(3, 3))
		if got := len(r.all()); got != n+1 {
			t.Fatalf("LSET of an old entry gave events: %v", r.all()[n:])
		}
	} else {
		w.Push(t, "cfg", encoded(3))
		r.waitLast(t, "third RPUSH", isUpdated(3, 3))
	}

	w.Set(t, "cfg", encoded(4))
	r.waitLast(t, "SET over the history", isUpdated(1, 4))
	backendtest.Eventually(t, "the cache follows SET", fetchIs(c, "cfg", 1, 4))

	w.Del(t, "cfg")
	r.waitLast(t, "DEL", isDeleted)
	backendtest.Eventually(t, "the key leaves the cache", func() error {
		if _, ok := c.CachedVersion("cfg"); ok {
			return errors.New("still cached")
		}
		return nil
	})
	if _, _, ok := c.Latest("cfg"); ok {
		t.Fatal("Latest reports a deleted key")
	}

	// The watcher lives on after the delete (the Python store's died).
	w.Push(t, "cfg", encoded(5))
	r.waitLast(t, "RPUSH after DEL", isUpdated(1, 5))
	if v, err := c.Update(ctx, "cfg", conf(6)); err != nil || v != 2 {
		t.Fatalf("Update = %d, %v", v, err)
	}
	r.waitLast(t, "own Update", isUpdated(2, 6))
}

// A del event for a key the Store does not cache raised KeyError in the
// Python store's watcher thread, which then died.
func testDeleteEventForUncachedKey(t *testing.T, b backend) {
	ctx := backendtest.Context(t)
	s, w := b.New(t)
	c := open(t, s, nil)
	r := newRecorder()
	watch(t, c, "watched", r)

	// Deletes of keys never cached, and of a key deleted through the Store.
	w.Push(t, "other", encoded(1))
	w.Del(t, "other")
	if _, err := c.Update(ctx, "mine", conf(1)); err != nil {
		t.Fatal(err)
	}
	if _, err := c.Delete(ctx, "mine"); err != nil {
		t.Fatal(err)
	}
	w.Del(t, "never-existed")
	// The Store still works.
	w.Push(t, "watched", encoded(1))
	r.waitLast(t, "update after deletes", isUpdated(1, 1))
	wantFetch(t, c, "watched", 1, 1)
}

// Expired keys stayed in the Python store's cache forever.
func testExpiredKeyLeavesCache(t *testing.T, b backend) {
	ctx := backendtest.Context(t)
	s, w := b.New(t)
	c := open(t, s, nil)
	if _, err := c.Update(ctx, "cfg", conf(1)); err != nil {
		t.Fatal(err)
	}
	if _, err := c.Update(ctx, "cached", conf(1)); err != nil {
		t.Fatal(err)
	}
	r := newRecorder()
	watch(t, c, "cfg", r)

	w.Expire(t, "cfg")
	w.Expire(t, "cached")
	r.waitLast(t, "expired", isDeleted)
	backendtest.Eventually(t, "expired keys leave the cache", func() error {
		for _, k := range []string{"cfg", "cached"} {
			if _, ok := c.CachedVersion(k); ok {
				return fmt.Errorf("%s still cached", k)
			}
			if _, _, ok := c.Latest(k); ok {
				return fmt.Errorf("Latest(%s) still reports a value", k)
			}
		}
		return nil
	})
	if _, _, err := c.Fetch(ctx, "cached"); !errors.Is(err, kv.ErrNotFound) {
		t.Fatalf("Fetch of an expired key: %v, want kv.ErrNotFound", err)
	}
}

// The Python store's delete() started watching the key it deleted.
func testDeleteDoesNotWatch(t *testing.T, b backend) {
	ctx := backendtest.Context(t)
	s, w := b.New(t)
	c := open(t, s, nil)
	w.Push(t, "cfg", encoded(1))
	if removed, err := c.Delete(ctx, "cfg"); err != nil || !removed {
		t.Fatalf("Delete = %v, %v", removed, err)
	}
	// A change event of the delete may still be queued for a re-read,
	// which finds the key gone and forgets it.
	backendtest.Eventually(t, "the Store forgets the deleted key", func() error {
		if keys := configstore.Tracked(c); len(keys) != 0 {
			return fmt.Errorf("the Store tracks %q", keys)
		}
		return nil
	})
	w.Push(t, "cfg", encoded(2))
	// Nothing re-reads the key: it is not cached until fetched.
	time.Sleep(50 * time.Millisecond)
	if _, ok := c.CachedVersion("cfg"); ok {
		t.Fatal("a deleted key became cached without a Fetch")
	}
	wantFetch(t, c, "cfg", 1, 2)
}

// A latest value that does not decode: Fetch fails with the codec's
// error, watchers hear Failed, Latest keeps the last good value.
func testBadValue(t *testing.T, b backend) {
	ctx := backendtest.Context(t)
	s, w := b.New(t)
	c := open(t, s, nil)
	r := newRecorder()
	watch(t, c, "cfg", r)
	if _, err := c.Update(ctx, "cfg", conf(1)); err != nil {
		t.Fatal(err)
	}
	r.waitLast(t, "updated", isUpdated(1, 1))

	w.Push(t, "cfg", "not json")
	ev := r.waitLast(t, "failed", func(ev configstore.Event[Conf]) bool { return ev.Kind == configstore.Failed })
	var de *codec.DeserializationError
	if !errors.As(ev.Err, &de) || de.Key != "cfg" || ev.Version != 2 {
		t.Fatalf("Failed event %+v: want a *codec.DeserializationError for cfg at version 2", ev)
	}
	backendtest.Eventually(t, "Fetch reports the bad value", func() error {
		_, ver, err := c.Fetch(ctx, "cfg")
		if !errors.As(err, &de) || ver != 2 {
			return fmt.Errorf("Fetch = version %d, %v", ver, err)
		}
		return nil
	})
	if v, ver, ok := c.Latest("cfg"); !ok || ver != 1 || v.Index != 1 {
		t.Fatalf("Latest = %+v, %d, %v; want the last good value, version 1", v, ver, ok)
	}
	h, err := c.History(ctx, "cfg")
	if err != nil || len(h) != 2 || h[0].Err != nil || !errors.As(h[1].Err, &de) {
		t.Fatalf("History = %+v, %v; want version 2 failed alone", h, err)
	}
	if _, err := c.At(ctx, "cfg", 2); !errors.As(err, &de) {
		t.Fatalf("At(2): %v, want a *codec.DeserializationError", err)
	}
	// Fixing it is a change again.
	if v, err := c.Update(ctx, "cfg", conf(3)); err != nil || v != 3 {
		t.Fatalf("Update = %d, %v", v, err)
	}
	r.waitLast(t, "repaired", isUpdated(3, 3))
}

// A key of another kind (a Redis hash) is an error, not a value.
func testWrongType(t *testing.T, b backend) {
	s, w := b.New(t)
	if w.HSet == nil {
		t.Skip("the backend has no keys of other kinds")
	}
	ctx := backendtest.Context(t)
	c := open(t, s, nil)
	r := newRecorder()
	watch(t, c, "cfg", r)
	w.HSet(t, "cfg", "f", "v")
	ev := r.waitLast(t, "failed", func(ev configstore.Event[Conf]) bool { return ev.Kind == configstore.Failed })
	if !errors.Is(ev.Err, kv.ErrWrongType) {
		t.Fatalf("Failed event %+v: want kv.ErrWrongType", ev)
	}
	if _, _, err := c.Fetch(ctx, "cfg"); !errors.Is(err, kv.ErrWrongType) {
		t.Fatalf("Fetch: %v, want kv.ErrWrongType", err)
	}
	if _, err := c.Version(ctx, "cfg"); !errors.Is(err, kv.ErrWrongType) {
		t.Fatalf("Version: %v, want kv.ErrWrongType", err)
	}
	if _, err := c.Update(ctx, "cfg", conf(1)); !errors.Is(err, kv.ErrWrongType) {
		t.Fatalf("Update: %v, want kv.ErrWrongType", err)
	}
	w.Del(t, "cfg")
	r.waitLast(t, "deleted", isDeleted)
}

// A panicking callback is recovered and its watcher lives on; the
// others are not disturbed.
func testPanickingCallback(t *testing.T, b backend) {
	ctx := backendtest.Context(t)
	s, _ := b.New(t)
	c := open(t, s, nil)
	var mu sync.Mutex
	calls := 0
	stop, err := c.Watch(ctx, "cfg", func(ev configstore.Event[Conf]) {
		mu.Lock()
		calls++
		mu.Unlock()
		panic("callback failure")
	})
	if err != nil {
		t.Fatal(err)
	}
	defer stop()
	r := newRecorder()
	watch(t, c, "cfg", r)
	for i := 1; i <= 3; i++ {
		if _, err := c.Update(ctx, "cfg", conf(i)); err != nil {
			t.Fatal(err)
		}
		r.waitLast(t, "updated", isUpdated(int64(i), i))
		backendtest.Eventually(t, "the panicking callback is called again", func() error {
			mu.Lock()
			defer mu.Unlock()
			if calls < i {
				return fmt.Errorf("%d calls", calls)
			}
			return nil
		})
	}
}

// A slow callback delays neither other keys nor its own final state.
func testSlowCallback(t *testing.T, b backend) {
	ctx := backendtest.Context(t)
	s, w := b.New(t)
	c := open(t, s, nil)
	release := make(chan struct{})
	slow := newRecorder()
	stop, err := c.Watch(ctx, "slow", func(ev configstore.Event[Conf]) {
		<-release
		slow.fn(ev)
	})
	if err != nil {
		t.Fatal(err)
	}
	defer stop()
	fast := newRecorder()
	watch(t, c, "fast", fast)

	for i := 1; i <= 20; i++ {
		w.Push(t, "slow", encoded(i))
	}
	for i := 1; i <= 5; i++ {
		w.Push(t, "fast", encoded(i))
		fast.waitLast(t, "fast key updated while the slow callback blocks", isUpdated(int64(i), i))
	}
	close(release)
	slow.waitLast(t, "slow key reaches its final state", isUpdated(20, 20))
	evs := slow.all()
	if len(evs) > 20 {
		t.Fatalf("%d events for 20 changes", len(evs))
	}
	t.Logf("slow callback received %d events for 20 changes (intermediate states skipped)", len(evs))
}

// Events of one key arrive in order: versions never go back.
func testOrderPerKey(t *testing.T, b backend) {
	ctx := backendtest.Context(t)
	s, w := b.New(t)
	c := open(t, s, nil)
	r := newRecorder()
	watch(t, c, "cfg", r)
	const n = 300
	var wg sync.WaitGroup
	wg.Go(func() {
		for i := 1; i <= n; i += 2 {
			w.Push(t, "cfg", encoded(i))
		}
	})
	wg.Go(func() {
		for i := 2; i <= n; i += 2 {
			if _, err := c.Update(ctx, "cfg", conf(i)); err != nil {
				t.Error(err)
				return
			}
		}
	})
	wg.Wait()
	r.waitLast(t, "final version", func(ev configstore.Event[Conf]) bool { return ev.Version == n })
	prev := int64(0)
	for _, ev := range r.all() {
		if ev.Kind != configstore.Updated || ev.Version <= prev {
			t.Fatalf("event %+v after version %d: out of order", ev, prev)
		}
		prev = ev.Version
	}
	h, err := c.History(ctx, "cfg")
	if err != nil || len(h) != n {
		t.Fatalf("History: %d entries, %v; want %d", len(h), err, n)
	}
	last, _ := r.last()
	if last.Value.Index != h[n-1].Value.Index {
		t.Fatalf("last event value %d, latest version holds %d", last.Value.Index, h[n-1].Value.Index)
	}
}

// After stop returns, the callback is not called again.
func testStopWatcher(t *testing.T, b backend) {
	ctx := backendtest.Context(t)
	s, _ := b.New(t)
	c := open(t, s, nil)
	stopped := newRecorder()
	stop, err := c.Watch(ctx, "cfg", stopped.fn)
	if err != nil {
		t.Fatal(err)
	}
	r := newRecorder()
	watch(t, c, "cfg", r)
	if _, err := c.Update(ctx, "cfg", conf(1)); err != nil {
		t.Fatal(err)
	}
	stopped.waitLast(t, "updated", isUpdated(1, 1))
	stop()
	stop() // idempotent
	n := len(stopped.all())
	for i := 2; i <= 5; i++ {
		if _, err := c.Update(ctx, "cfg", conf(i)); err != nil {
			t.Fatal(err)
		}
	}
	r.waitLast(t, "the other watcher sees version 5", isUpdated(5, 5))
	if got := len(stopped.all()); got != n {
		t.Fatalf("a stopped watcher received %d more events", got-n)
	}
}

// The Python store's watcher thread could not be stopped; Close stops
// everything (goleak, in TestMain, checks that no goroutine is left).
func testCloseStopsWatchers(t *testing.T, b backend) {
	ctx := backendtest.Context(t)
	s, w := b.New(t)
	c, err := configstore.New[Conf](ctx, s, nil)
	if err != nil {
		t.Fatal(err)
	}
	r := newRecorder()
	if _, err := c.Watch(ctx, "cfg", r.fn); err != nil {
		t.Fatal(err)
	}
	if _, err := c.Update(ctx, "cfg", conf(1)); err != nil {
		t.Fatal(err)
	}
	r.waitLast(t, "updated", isUpdated(1, 1))
	if err := c.Close(); err != nil {
		t.Fatal(err)
	}
	if err := c.Close(); err != nil {
		t.Fatalf("second Close: %v", err)
	}
	n := len(r.all())
	w.Push(t, "cfg", encoded(2))
	time.Sleep(50 * time.Millisecond)
	if got := len(r.all()); got != n {
		t.Fatalf("a watcher was called after Close: %v", r.all()[n:])
	}
	for name, err := range map[string]error{
		"Fetch":   func() error { _, _, err := c.Fetch(ctx, "cfg"); return err }(),
		"Update":  func() error { _, err := c.Update(ctx, "cfg", conf(3)); return err }(),
		"Delete":  func() error { _, err := c.Delete(ctx, "cfg"); return err }(),
		"Version": func() error { _, err := c.Version(ctx, "cfg"); return err }(),
		"At":      func() error { _, err := c.At(ctx, "cfg", 1); return err }(),
		"History": func() error { _, err := c.History(ctx, "cfg"); return err }(),
		"Watch":   func() error { _, err := c.Watch(ctx, "cfg", r.fn); return err }(),
	} {
		if !errors.Is(err, kv.ErrClosed) {
			t.Errorf("%s after Close: %v, want kv.ErrClosed", name, err)
		}
	}
	if _, _, ok := c.Latest("cfg"); ok {
		t.Error("Latest after Close reports a value")
	}
	// The kv.Store is not closed.
	if _, _, err := s.(kv.Historian).Latest(ctx, "cfg"); err != nil {
		t.Errorf("the kv.Store stopped working after the Store's Close: %v", err)
	}
}

// HistoryLimit keeps the newest versions' values and the version numbers.
func testHistoryLimit(t *testing.T, b backend) {
	ctx := backendtest.Context(t)
	s, _ := b.New(t)
	if _, ok := s.(kv.Pruner); !ok {
		t.Skip("the kv.Store does not implement kv.Pruner")
	}
	c := open(t, s, &configstore.Options[Conf]{HistoryLimit: 2})
	for i := 1; i <= 5; i++ {
		if v, err := c.Update(ctx, "cfg", conf(i)); err != nil || v != int64(i) {
			t.Fatalf("Update %d = %d, %v", i, v, err)
		}
	}
	for i := int64(1); i <= 3; i++ {
		if _, err := c.At(ctx, "cfg", i); !errors.Is(err, configstore.ErrPruned) {
			t.Fatalf("At(%d): %v, want ErrPruned", i, err)
		}
	}
	for i := int64(4); i <= 5; i++ {
		if v, err := c.At(ctx, "cfg", i); err != nil || v.Index != int(i) {
			t.Fatalf("At(%d) = %+v, %v", i, v, err)
		}
	}
	h, err := c.History(ctx, "cfg")
	if err != nil || len(h) != 2 || h[0].Version != 4 || h[1].Version != 5 {
		t.Fatalf("History = %+v, %v; want versions 4 and 5", h, err)
	}
	if v, err := c.Version(ctx, "cfg"); err != nil || v != 5 {
		t.Fatalf("Version = %d, %v; want 5", v, err)
	}
	all, err := s.(kv.Historian).History(ctx, "cfg")
	if err != nil || len(all) != 5 {
		t.Fatalf("kv History holds %d entries, %v; want 5 (pruned entries are kept, empty)", len(all), err)
	}
	if _, err := configstore.New[Conf](ctx, s, &configstore.Options[Conf]{HistoryLimit: -1}); !errors.Is(err, kv.ErrInvalid) {
		t.Fatalf("New with a negative HistoryLimit: %v, want kv.ErrInvalid", err)
	}
}

// Many goroutines use one Store at once (the race detector watches).
func testConcurrent(t *testing.T, b backend) {
	ctx := backendtest.Context(t)
	s, w := b.New(t)
	c := open(t, s, nil)
	keys := []string{"a", "b", "c"}
	recs := map[string]*recorder{}
	for _, k := range keys {
		recs[k] = newRecorder()
		watch(t, c, k, recs[k])
	}
	var wg sync.WaitGroup
	for g := range 6 {
		wg.Go(func() {
			for i := range 50 {
				k := keys[(g+i)%len(keys)]
				switch i % 4 {
				case 0:
					if _, err := c.Update(ctx, k, conf(g*1000+i)); err != nil {
						t.Error(err)
					}
				case 1:
					if _, _, err := c.Fetch(ctx, k); err != nil && !errors.Is(err, kv.ErrNotFound) {
						t.Error(err)
					}
				case 2:
					c.Latest(k)
					c.CachedVersion(k)
				case 3:
					stop, err := c.Watch(ctx, k, func(configstore.Event[Conf]) {})
					if err != nil {
						t.Error(err)
					} else {
						stop()
					}
				}
			}
		})
	}
	wg.Go(func() {
		for i := range 30 {
			w.Push(t, keys[i%len(keys)], encoded(-i))
		}
	})
	wg.Wait()
	// Every watcher and the cache end at the server's state.
	for _, k := range keys {
		raw, ver, err := s.(kv.Historian).Latest(ctx, k)
		if err != nil {
			t.Fatal(err)
		}
		want, err := codec.JSON[Conf](nil).Decode(raw)
		if err != nil {
			t.Fatal(err)
		}
		recs[k].waitLast(t, "final state of "+k, isUpdated(ver, want.Index))
		backendtest.Eventually(t, "cache of "+k, fetchIs(c, k, ver, want.Index))
	}
}

// An Update is seen by the Fetches that follow it, at once.
func testReadYourOwnUpdates(t *testing.T, b backend) {
	ctx := backendtest.Context(t)
	s, w := b.New(t)
	c := open(t, s, nil)
	done := make(chan struct{})
	var wg sync.WaitGroup
	wg.Go(func() {
		for i := 0; ; i++ {
			select {
			case <-done:
				return
			default:
			}
			w.Push(t, "other", encoded(i))
		}
	})
	for i := 1; i <= 100; i++ {
		v, err := c.Update(ctx, "cfg", conf(i))
		if err != nil {
			t.Fatal(err)
		}
		wantFetch(t, c, "cfg", v, i)
		if _, _, err := c.Fetch(ctx, "other"); err != nil && !errors.Is(err, kv.ErrNotFound) {
			t.Fatal(err)
		}
	}
	close(done)
	wg.Wait()
}
