package configstore_test

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"go.uber.org/goleak"
	"go.uber.org/zap"
	"go.uber.org/zap/zaptest/observer"

	"github.com/cledar/storekit/codec"
	"github.com/cledar/storekit/configstore"
	"github.com/cledar/storekit/internal/backendtest"

	"github.com/cledar/storekit/backends/memory"
	"github.com/cledar/storekit/kv"
)

func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m)
}

// memoryBackend runs the suite on the in-memory store; the outside writer
// is the kv.Store itself, used directly.
var memoryBackend = backend{
	New: func(t *testing.T) (kv.Store, writer) {
		clock := memory.NewManualClock(time.Now())
		s := memory.New(&memory.Options{Clock: clock})
		t.Cleanup(func() { _ = s.Close() })
		ctx := context.Background()
		must := func(t *testing.T, err error) {
			t.Helper()
			if err != nil {
				t.Fatal(err)
			}
		}
		return s, writer{
			Set: func(t *testing.T, key, value string) { must(t, s.Set(ctx, key, []byte(value))) },
			Push: func(t *testing.T, key, value string) {
				_, err := s.Append(ctx, key, []byte(value))
				must(t, err)
			},
			Del: func(t *testing.T, key string) {
				_, err := s.Delete(ctx, key)
				must(t, err)
			},
			// The memory store sets expiries with SetWithTTL only: the key
			// becomes a plain value with a TTL, and the clock moves past it.
			Expire: func(t *testing.T, key string) {
				raw, _, err := s.Latest(ctx, key)
				must(t, err)
				must(t, s.SetWithTTL(ctx, key, raw, time.Second))
				clock.Advance(time.Second)
			},
		}
	},
}

func TestMemory(t *testing.T) {
	runSuite(t, memoryBackend)
}

// A lossyStore is a memory store whose watch can be made to lose events,
// and to send resyncs, on demand: what a dropped Redis subscription or an
// overflowing consumer does.
type lossyStore struct {
	*memory.Store
	latestCalls atomic.Int64
	batchDelay  atomic.Int64 // a time.Duration each LatestMulti takes at least

	mu        sync.Mutex
	dropped   bool
	out       chan kv.Event  // unbuffered: a send returns once the Store took the event
	delivered map[string]int // events handed to the Store, by key
}

func newLossyStore(t *testing.T) *lossyStore {
	s := &lossyStore{Store: memory.New(nil), delivered: make(map[string]int)}
	t.Cleanup(func() { _ = s.Store.Close() })
	return s
}

func (s *lossyStore) Latest(ctx context.Context, key string) ([]byte, int64, error) {
	s.latestCalls.Add(1)
	return s.Store.Latest(ctx, key)
}

func (s *lossyStore) LatestMulti(ctx context.Context, keys []string) ([]kv.LatestValue, error) {
	time.Sleep(time.Duration(s.batchDelay.Load()))
	return s.Store.LatestMulti(ctx, keys)
}

// Watch forwards the memory store's events, except while drop is on.
func (s *lossyStore) Watch(ctx context.Context, pattern string) (<-chan kv.Event, error) {
	in, err := s.Store.Watch(ctx, pattern)
	if err != nil {
		return nil, err
	}
	out := make(chan kv.Event)
	s.mu.Lock()
	s.out = out
	s.mu.Unlock()
	go func() {
		defer close(out)
		for ev := range in {
			s.mu.Lock()
			drop := s.dropped && ev.Op != kv.OpResync
			s.mu.Unlock()
			if !drop {
				out <- ev
			}
			s.mu.Lock()
			s.delivered[ev.Key]++
			s.mu.Unlock()
		}
	}()
	return out, nil
}

// quiesce waits until the Store has taken every event of s so far, and has
// no re-read left: the event of a marker write was handed over, so the
// Store has handled the events before it (it takes them one at a time).
func (s *lossyStore) quiesce(t *testing.T, c *configstore.Store[Conf]) {
	t.Helper()
	if _, err := s.Append(backendtest.Context(t), "quiesce-marker", []byte(encoded(0))); err != nil {
		t.Fatal(err)
	}
	backendtest.Eventually(t, "the marker's event is handed over", func() error {
		s.mu.Lock()
		defer s.mu.Unlock()
		if s.delivered["quiesce-marker"] == 0 {
			return errors.New("not yet")
		}
		s.delivered["quiesce-marker"] = 0
		return nil
	})
	backendtest.Eventually(t, "no re-read left", func() error {
		if !configstore.Idle(c) {
			return errors.New("busy")
		}
		return nil
	})
}

// drop starts or ends losing events.
func (s *lossyStore) drop(on bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.dropped = on
}

// resync sends an OpResync with err, as a backend does after a reconnect.
func (s *lossyStore) resync(err error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.out <- kv.Event{Op: kv.OpResync, Err: err}
}

// After events were lost, a resync re-reads every cached and watched key.
func TestResyncRereadsEveryKey(t *testing.T) {
	ctx := backendtest.Context(t)
	s := newLossyStore(t)
	c := open(t, s, nil)
	const n = 20
	recs := make([]*recorder, n)
	for i := range n {
		k := "k" + strconv.Itoa(i)
		if _, err := c.Update(ctx, k, conf(1)); err != nil {
			t.Fatal(err)
		}
		if i%2 == 0 { // half watched, half only cached
			recs[i] = newRecorder()
			watch(t, c, k, recs[i])
		}
	}
	s.quiesce(t, c)
	n0 := s.latestCalls.Load()
	s.drop(true)
	for i := range n {
		k := "k" + strconv.Itoa(i)
		if _, err := s.Append(ctx, k, []byte(encoded(2))); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := s.Store.Delete(ctx, "k0"); err != nil {
		t.Fatal(err)
	}
	time.Sleep(20 * time.Millisecond)
	// Events were lost: the cache is stale and nobody was told.
	if v, _ := c.CachedVersion("k1"); v != 1 {
		t.Fatalf("cached version %d before the resync; the test lost no events (%d reads)", v, s.latestCalls.Load()-n0)
	}
	s.drop(false)
	s.resync(nil)

	recs[0].waitLast(t, "k0 deleted during the loss", isDeleted)
	for i := 1; i < n; i++ {
		k := "k" + strconv.Itoa(i)
		if recs[i] != nil {
			recs[i].waitLast(t, k+" updated during the loss", isUpdated(2, 2))
		}
		backendtest.Eventually(t, "cache of "+k, fetchIs(c, k, 2, 2))
	}
}

// When the backend cannot guarantee delivery, watchers are told with
// ErrStale and Fetch reads through until a clean resync.
func TestStaleReadsThrough(t *testing.T) {
	ctx := backendtest.Context(t)
	s := newLossyStore(t)
	c := open(t, s, nil)
	r := newRecorder()
	watch(t, c, "cfg", r)
	if _, err := c.Update(ctx, "cfg", conf(1)); err != nil {
		t.Fatal(err)
	}
	unchanged := newRecorder()
	watch(t, c, "unchanged", unchanged)
	if _, err := c.Update(ctx, "unchanged", conf(5)); err != nil {
		t.Fatal(err)
	}
	unchanged.waitLast(t, "created", isUpdated(1, 5))
	wantFetch(t, c, "cfg", 1, 1)
	s.quiesce(t, c)
	before := s.latestCalls.Load()
	for range 10 {
		wantFetch(t, c, "cfg", 1, 1)
	}
	if got := s.latestCalls.Load() - before; got != 0 {
		t.Fatalf("cached Fetches made %d reads", got)
	}

	cause := errors.New("notifications lost")
	s.drop(true)
	s.resync(cause)
	ev := r.waitLast(t, "stale", func(ev configstore.Event[Conf]) bool { return ev.Kind == configstore.Failed })
	if !errors.Is(ev.Err, configstore.ErrStale) || !errors.Is(ev.Err, cause) {
		t.Fatalf("Failed event error %v: want ErrStale wrapping the cause", ev.Err)
	}
	unchanged.waitLast(t, "stale", func(ev configstore.Event[Conf]) bool {
		return ev.Kind == configstore.Failed && errors.Is(ev.Err, configstore.ErrStale)
	})
	// Lost events no longer matter to Fetch: it reads through.
	if _, err := s.Append(ctx, "cfg", []byte(encoded(2))); err != nil {
		t.Fatal(err)
	}
	wantFetch(t, c, "cfg", 2, 2)

	s.drop(false)
	s.resync(nil)
	r.waitLast(t, "updated after the resync", isUpdated(2, 2))
	// A key that did not change is delivered again too, after its Failed
	// event: the watcher learns that its state is current.
	unchanged.waitLast(t, "current state after the resync", isUpdated(1, 5))
	evs := unchanged.all()
	if n := len(evs); n != 3 || evs[1].Kind != configstore.Failed {
		t.Fatalf("events of the unchanged key: %+v; want updated, failed (stale), updated", evs)
	}
	backendtest.Eventually(t, "Fetch serves the cache again", func() error {
		before := s.latestCalls.Load()
		wantFetch(t, c, "cfg", 2, 2)
		if got := s.latestCalls.Load() - before; got != 0 {
			return fmt.Errorf("Fetch made %d reads", got)
		}
		return nil
	})
}

// A kv.Store closed under the Store: watchers are told, calls fail with
// kv.ErrClosed, and Close still stops everything.
func TestBackendClosed(t *testing.T) {
	ctx := backendtest.Context(t)
	s := memory.New(nil)
	c := open(t, s, nil)
	r := newRecorder()
	watch(t, c, "cfg", r)
	if _, err := c.Update(ctx, "cfg", conf(1)); err != nil {
		t.Fatal(err)
	}
	_ = s.Close()
	ev := r.waitLast(t, "stale", func(ev configstore.Event[Conf]) bool { return ev.Kind == configstore.Failed })
	if !errors.Is(ev.Err, configstore.ErrStale) || !errors.Is(ev.Err, kv.ErrClosed) {
		t.Fatalf("Failed event error %v: want ErrStale wrapping kv.ErrClosed", ev.Err)
	}
	if _, _, err := c.Fetch(ctx, "cfg"); !errors.Is(err, kv.ErrClosed) {
		t.Fatalf("Fetch: %v, want kv.ErrClosed", err)
	}
	if v, ver, ok := c.Latest("cfg"); !ok || ver != 1 || v.Index != 1 {
		t.Fatalf("Latest = %+v, %d, %v; want the last good value", v, ver, ok)
	}
}

// bareStore has only the required methods of kv.Store.
type bareStore struct{ kv.Store }

// historyOnly adds history, without watching.
type historyOnly struct {
	kv.Store
	kv.Historian
}

// noPruner has history and watching, without pruning.
type noPruner struct {
	kv.Store
	kv.Historian
	kv.Watcher
}

func TestNewNeedsCapabilities(t *testing.T) {
	ctx := backendtest.Context(t)
	s := memory.New(nil)
	t.Cleanup(func() { _ = s.Close() })
	for name, tc := range map[string]struct {
		s    kv.Store
		opts *configstore.Options[Conf]
		want string
	}{
		"no history": {bareStore{s}, nil, "kv.Historian"},
		"no watch":   {historyOnly{s, s}, nil, "kv.Watcher"},
		"no pruning": {noPruner{s, s, s}, &configstore.Options[Conf]{HistoryLimit: 3}, "kv.Pruner"},
	} {
		_, err := configstore.New(ctx, tc.s, tc.opts)
		if !errors.Is(err, kv.ErrNotSupported) || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: New: %v; want kv.ErrNotSupported naming %s", name, err, tc.want)
		}
	}
	if c, err := configstore.New[Conf](ctx, noPruner{s, s, s}, nil); err != nil {
		t.Errorf("New without pruning and without HistoryLimit: %v", err)
	} else {
		_ = c.Close()
	}
	cancelled, cancel := context.WithCancel(ctx)
	cancel()
	if _, err := configstore.New[Conf](cancelled, s, nil); !errors.Is(err, context.Canceled) {
		t.Errorf("New with a cancelled context: %v, want context.Canceled", err)
	}
}

// A panicking callback is logged with its key.
func TestPanicLogged(t *testing.T) {
	ctx := backendtest.Context(t)
	core, logs := observer.New(zap.ErrorLevel)
	c := open(t, memory.New(nil), &configstore.Options[Conf]{Logger: zap.New(core)})
	done := make(chan struct{})
	stop, err := c.Watch(ctx, "cfg", func(configstore.Event[Conf]) {
		defer close(done)
		panic("boom")
	})
	if err != nil {
		t.Fatal(err)
	}
	defer stop()
	if _, err := c.Update(ctx, "cfg", conf(1)); err != nil {
		t.Fatal(err)
	}
	<-done
	backendtest.Eventually(t, "the panic is logged", func() error {
		for _, e := range logs.All() {
			if strings.Contains(e.Message, "panicked") && e.ContextMap()["key"] == "cfg" && e.ContextMap()["panic"] == "boom" {
				return nil
			}
		}
		return fmt.Errorf("logs: %v", logs.All())
	})
}

// Values that cannot be written are refused, and nothing is written.
func TestUpdateRefusesUnencodable(t *testing.T) {
	ctx := backendtest.Context(t)
	s := memory.New(nil)
	t.Cleanup(func() { _ = s.Close() })
	c, err := configstore.New[map[string]any](ctx, s, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	var se *codec.SerializationError
	if _, err := c.Update(ctx, "cfg", map[string]any{"f": func() {}}); !errors.As(err, &se) || se.Key != "cfg" {
		t.Fatalf("Update of a func: %v, want *codec.SerializationError", err)
	}
	if _, err := c.Update(ctx, "cfg", nil); !errors.As(err, &se) {
		t.Fatalf("Update of nil: %v, want *codec.SerializationError", err)
	}
	if _, _, err := s.Latest(ctx, "cfg"); !errors.Is(err, kv.ErrNotFound) {
		t.Fatalf("something was written: %v", err)
	}
	str, err := configstore.New[string](ctx, s, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer str.Close()
	if _, err := str.Update(ctx, "cfg", ""); !errors.As(err, &se) || !errors.Is(err, kv.ErrInvalid) {
		t.Fatalf("Update of a value encoding to nothing: %v, want *codec.SerializationError wrapping kv.ErrInvalid", err)
	}
	if _, err := str.Watch(ctx, "cfg", nil); !errors.Is(err, kv.ErrInvalid) {
		t.Fatalf("Watch with a nil callback: %v, want kv.ErrInvalid", err)
	}
}

// ValidConf has a Validate method, which Update calls before writing.
type ValidConf struct {
	Name string `json:"name"`
}

func (c ValidConf) Validate() error {
	if c.Name == "" {
		return errors.New("name must not be empty")
	}
	return nil
}

// An invalid value is refused with the validation error, and nothing is
// written: every read of it would fail.
func TestUpdateRefusesInvalid(t *testing.T) {
	ctx := backendtest.Context(t)
	s := memory.New(nil)
	t.Cleanup(func() { _ = s.Close() })
	c, err := configstore.New[ValidConf](ctx, s, &configstore.Options[ValidConf]{Prefix: "cfg:"})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if v, err := c.Update(ctx, "flags", ValidConf{Name: "ok"}); err != nil || v != 1 {
		t.Fatalf("Update of a valid value = %d, %v", v, err)
	}
	_, err = c.Update(ctx, "flags", ValidConf{})
	var se *codec.SerializationError
	if !errors.As(err, &se) || !errors.Is(err, codec.ErrValidation) || se.Key != "flags" || se.Model != "ValidConf" {
		t.Fatalf("Update of an invalid value: %v, want a *codec.SerializationError matching codec.ErrValidation", err)
	}
	if want := "Validation failed for key 'flags' and model 'ValidConf': name must not be empty"; err.Error() != want {
		t.Errorf("error %q, want %q", err, want)
	}
	if v, err := c.Version(ctx, "flags"); err != nil || v != 1 {
		t.Errorf("Version after the refused Update = %d, %v; want 1", v, err)
	}
	if got, v, err := c.Fetch(ctx, "flags"); err != nil || v != 1 || got.Name != "ok" {
		t.Errorf("Fetch after the refused Update = %+v, %d, %v; want the valid value", got, v, err)
	}
}
