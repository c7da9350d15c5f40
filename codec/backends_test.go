package codec_test

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
	"golang.org/x/sync/errgroup"

	"github.com/cledar/storekit/backends/goredis"
	"github.com/cledar/storekit/backends/memory"
	"github.com/cledar/storekit/codec"
	"github.com/cledar/storekit/internal/backendtest"
	"github.com/cledar/storekit/internal/redistest"
	"github.com/cledar/storekit/kv"
)

// The behaviours of the Python original (seed-behaviour.md §2 and §3), and
// the Go additions, as a table of cases run against every backend: memory,
// goredis and rueidiskv on a real Redis.

// A backend is a kv.Store under test.
type backend struct {
	// store returns the store a case runs on; it may be shared by cases,
	// which keep to keys under their own prefix.
	store func(t *testing.T) kv.Store
	// makeList makes key hold a list, which GET rejects with WRONGTYPE (a
	// history on memory).
	makeList func(t *testing.T, key string)
	// host is the Options.Host the cases pass, "" for the default.
	host string
}

// A harness is what a case works with.
type harness struct {
	ctx    context.Context
	kv     kv.Store
	prefix string
	b      *backend
}

// key returns the case's key for name.
func (h *harness) key(name string) string { return h.prefix + name }

// pattern returns a pattern of the case's keys: its escaped prefix and glob.
func (h *harness) pattern(glob string) string { return kv.EscapePattern(h.prefix) + glob }

// raw writes data at key directly, as another client (a Python service)
// would.
func (h *harness) raw(t *testing.T, key, data string) {
	t.Helper()
	if err := h.kv.Set(h.ctx, key, []byte(data)); err != nil {
		t.Fatal(err)
	}
}

// rawValue returns what key holds, failing t if it does not exist.
func (h *harness) rawValue(t *testing.T, key string) string {
	t.Helper()
	b, err := h.kv.Get(h.ctx, key)
	if err != nil {
		t.Fatalf("kv Get(%q): %v", key, err)
	}
	return string(b)
}

func (h *harness) missing(t *testing.T, key string) {
	t.Helper()
	if b, err := h.kv.Get(h.ctx, key); !errors.Is(err, kv.ErrNotFound) {
		t.Fatalf("kv Get(%q) = %q, %v; want it missing", key, b, err)
	}
}

// users returns a Store of pyUser over the case's store.
func users(h *harness) *codec.Store[pyUser] {
	return codec.New(h.kv, &codec.Options[pyUser]{Host: h.b.host})
}

func fixture(t *testing.T, name string) string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(fixtureDir, name+".value"))
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func mustNil(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

var behaviours = []struct {
	name string
	run  func(t *testing.T, h *harness)
}{
	{"Set/ModelAsPythonJSON", func(t *testing.T, h *harness) {
		// §2.4: a model is dumped and written with json.dumps; the bytes are
		// the Python original's.
		s := codec.New[pyProfile](h.kv, nil)
		k := h.key("profile")
		mustNil(t, s.Set(h.ctx, k, pyProfileValue()))
		if got, want := h.rawValue(t, k), fixture(t, "profile"); got != want {
			t.Errorf("stored %s\nPython stores %s", got, want)
		}
		got, ok, err := s.Get(h.ctx, k)
		if err != nil || !ok {
			t.Fatalf("Get: %v %v", ok, err)
		}
		profileEqual(t, got, pyProfileValue())
	}},
	{"Set/ListAndDict", func(t *testing.T, h *harness) {
		mustNil(t, codec.New[[]pyUser](h.kv, nil).Set(h.ctx, h.key("list"), []pyUser{{1, "Alice"}, {2, "Bob"}}))
		if got, want := h.rawValue(t, h.key("list")), fixture(t, "users"); got != want {
			t.Errorf("stored %s, Python stores %s", got, want)
		}
		mustNil(t, codec.New[map[string]any](h.kv, nil).Set(h.ctx, h.key("dict"), map[string]any{"a": []int{1}, "b": nil}))
		if got := h.rawValue(t, h.key("dict")); got != `{"a": [1], "b": null}` {
			t.Errorf("stored %s", got)
		}
	}},
	{"Set/StringVerbatim", func(t *testing.T, h *harness) {
		// §2.4: a str is stored as it is, without JSON quotes; one that
		// holds JSON can be read as a model.
		strs := codec.New[string](h.kv, nil)
		mustNil(t, strs.Set(h.ctx, h.key("greeting"), "hello"))
		if got := h.rawValue(t, h.key("greeting")); got != "hello" {
			t.Errorf("stored %q", got)
		}
		mustNil(t, strs.Set(h.ctx, h.key("json"), `{"user_id": 5, "name": "Eve"}`))
		got, ok, err := users(h).Get(h.ctx, h.key("json"))
		if err != nil || !ok || got != (pyUser{5, "Eve"}) {
			t.Errorf("Get = %v, %v, %v", got, ok, err)
		}
	}},
	{"Set/Numbers", func(t *testing.T, h *harness) {
		// redis-py stores int and float as repr(v).
		mustNil(t, codec.New[int](h.kv, nil).Set(h.ctx, h.key("int"), 5))
		mustNil(t, codec.New[float64](h.kv, nil).Set(h.ctx, h.key("float"), 100))
		mustNil(t, codec.New[float64](h.kv, nil).Set(h.ctx, h.key("big"), 1e16))
		for k, want := range map[string]string{"int": "5", "float": "100.0", "big": "1e+16"} {
			if got := h.rawValue(t, h.key(k)); got != want {
				t.Errorf("%s: stored %q, want %q", k, got, want)
			}
		}
	}},
	{"Set/Replaces", func(t *testing.T, h *harness) {
		s, k := users(h), h.key("u")
		mustNil(t, s.Set(h.ctx, k, pyUser{1, "a"}))
		mustNil(t, s.Set(h.ctx, k, pyUser{2, "b"}))
		if got, _, _ := s.Get(h.ctx, k); got != (pyUser{2, "b"}) {
			t.Errorf("Get = %v", got)
		}
	}},
	{"Set/NilRejected", func(t *testing.T, h *harness) {
		// §2.4: None is refused (by redis-py in the original); nothing is
		// written.
		k := h.key("nil")
		err := codec.New[*pyUser](h.kv, nil).Set(h.ctx, k, nil)
		e := asError[*codec.SerializationError](t, err)
		if e.Key != k || !strings.HasPrefix(err.Error(), "Failed to serialize value for Redis key '"+k+"'") {
			t.Errorf("error %q, key %q", err, e.Key)
		}
		err = codec.New[map[string]int](h.kv, nil).Set(h.ctx, k, nil)
		asError[*codec.SerializationError](t, err)
		h.missing(t, k)
	}},
	{"Set/UnsupportedRejected", func(t *testing.T, h *harness) {
		// §2.4: {"x": {1}} (a set) cannot be serialized.
		k := h.key("bad")
		err := codec.New[map[string]any](h.kv, nil).Set(h.ctx, k, map[string]any{"x": make(chan int)})
		asError[*codec.SerializationError](t, err)
		if !strings.Contains(err.Error(), "Failed to serialize value") {
			t.Errorf("error %q", err)
		}
		h.missing(t, k)
	}},
	{"Get/Miss", func(t *testing.T, h *harness) {
		// §2.5: a missing key is None, not an error.
		v, ok, err := users(h).Get(h.ctx, h.key("nope"))
		if err != nil || ok || v != (pyUser{}) {
			t.Errorf("Get = %v, %v, %v; want zero, false, nil", v, ok, err)
		}
		b, ok, err := users(h).GetRaw(h.ctx, h.key("nope"))
		if err != nil || ok || b != nil {
			t.Errorf("GetRaw = %q, %v, %v; want nil, false, nil", b, ok, err)
		}
	}},
	{"Get/BadJSON", func(t *testing.T, h *harness) {
		k := h.key("bad")
		h.raw(t, k, "{not json")
		v, ok, err := users(h).Get(h.ctx, k)
		e := asError[*codec.DeserializationError](t, err)
		if ok || v != (pyUser{}) || e.Key != k || e.Model != "pyUser" || errors.Is(err, codec.ErrValidation) {
			t.Errorf("Get = %v, %v, %+v", v, ok, e)
		}
		if want := "Failed to decode JSON for key '" + k + "'"; !strings.HasPrefix(err.Error(), want) {
			t.Errorf("error %q, want it to start with %q", err, want)
		}
	}},
	{"Get/ValidationFailed", func(t *testing.T, h *harness) {
		k := h.key("invalid")
		h.raw(t, k, `{"age": -4}`)
		_, _, err := codec.New[validated](h.kv, nil).Get(h.ctx, k)
		asError[*codec.DeserializationError](t, err)
		want := "Validation failed for key '" + k + "' and model 'validated': age must not be negative"
		if err.Error() != want || !errors.Is(err, codec.ErrValidation) {
			t.Errorf("error %q, want %q", err, want)
		}
		h.raw(t, k, `{"user_id": "one"}`)
		_, _, err = users(h).Get(h.ctx, k)
		if !strings.HasPrefix(err.Error(), "Validation failed for key '"+k+"' and model 'pyUser'") {
			t.Errorf("error %q", err)
		}
	}},
	{"Get/Strict", func(t *testing.T, h *harness) {
		k := h.key("extra")
		h.raw(t, k, `{"user_id": 1, "name": "A", "admin": true}`)
		strict := codec.New(h.kv, &codec.Options[pyUser]{Codec: codec.JSON[pyUser](&codec.JSONOptions{Strict: true})})
		_, _, err := strict.Get(h.ctx, k)
		if !errors.Is(err, codec.ErrValidation) || !strings.Contains(err.Error(), `unknown field "admin"`) {
			t.Errorf("strict Get: %v", err)
		}
		if v, ok, err := users(h).Get(h.ctx, k); err != nil || !ok || v != (pyUser{1, "A"}) {
			t.Errorf("lenient Get = %v, %v, %v", v, ok, err)
		}
	}},
	{"Get/WrongType", func(t *testing.T, h *harness) {
		// §2.5: a key holding a list makes GET fail with WRONGTYPE.
		k := h.key("list")
		h.b.makeList(t, k)
		_, _, err := users(h).Get(h.ctx, k)
		e := asError[*codec.OperationError](t, err)
		if e.Op != codec.OperationGet || e.Key != k || !errors.Is(err, kv.ErrWrongType) ||
			!strings.HasPrefix(err.Error(), "Failed to get key '"+k+"'") {
			t.Errorf("Get error %q (%+v)", err, e)
		}
		_, _, err = users(h).GetRaw(h.ctx, k)
		asError[*codec.OperationError](t, err)
	}},
	{"GetRaw/Verbatim", func(t *testing.T, h *harness) {
		k := h.key("raw")
		h.raw(t, k, "{\"a\": 1}\x00\xff")
		b, ok, err := users(h).GetRaw(h.ctx, k)
		if err != nil || !ok || string(b) != "{\"a\": 1}\x00\xff" {
			t.Errorf("GetRaw = %q, %v, %v", b, ok, err)
		}
		h.raw(t, h.key("empty"), "")
		if b, ok, err := users(h).GetRaw(h.ctx, h.key("empty")); err != nil || !ok || len(b) != 0 {
			t.Errorf("GetRaw of an empty value = %q, %v, %v", b, ok, err)
		}
	}},
	{"Keys/Pattern", func(t *testing.T, h *harness) {
		// §2.7, with SCAN instead of KEYS.
		for _, k := range []string{"user:1", "user:2", "user:10", "order:1"} {
			h.raw(t, h.key(k), "x")
		}
		s := users(h)
		got, err := s.Keys(h.ctx, h.pattern("user:?"))
		if want := []string{h.key("user:1"), h.key("user:2")}; err != nil || !slices.Equal(got, want) {
			t.Errorf("Keys = %q, %v; want %q", got, err, want)
		}
		var scanned []string
		for k, err := range s.Scan(h.ctx, h.pattern("user:*")) {
			mustNil(t, err)
			scanned = append(scanned, k)
		}
		slices.Sort(scanned)
		scanned = slices.Compact(scanned)
		if want := []string{h.key("user:1"), h.key("user:10"), h.key("user:2")}; !slices.Equal(scanned, want) {
			t.Errorf("Scan = %q, want %q", scanned, want)
		}
		if got, err := s.Keys(h.ctx, h.pattern("none:*")); err != nil || got == nil || len(got) != 0 {
			t.Errorf("Keys of no match = %#v, %v; want an empty list", got, err)
		}
	}},
	{"GetMulti/PerKeyResults", func(t *testing.T, h *harness) {
		// §2.8: one result per key, in order; bad JSON and failed
		// validation fail their key only; a key of another type is missing.
		s := codec.New[validated](h.kv, nil)
		mustNil(t, s.Set(h.ctx, h.key("ok"), validated{7}))
		h.raw(t, h.key("badjson"), "nope")
		h.raw(t, h.key("invalid"), `{"age": -1}`)
		h.b.makeList(t, h.key("list"))
		keys := []string{h.key("ok"), h.key("missing"), h.key("badjson"), h.key("invalid"), h.key("list"), h.key("ok")}
		res, err := s.GetMulti(h.ctx, keys)
		if err != nil || len(res) != len(keys) {
			t.Fatalf("GetMulti = %v, %v", res, err)
		}
		for i, r := range res {
			if r.Key != keys[i] {
				t.Errorf("result %d is for %q, want %q", i, r.Key, keys[i])
			}
		}
		for _, i := range []int{0, 5} {
			if r := res[i]; !r.Found || r.Err != nil || r.Value != (validated{7}) {
				t.Errorf("result %d = %+v, want the value", i, r)
			}
		}
		for _, i := range []int{1, 4} {
			if r := res[i]; r.Found || r.Err != nil || r.Value != (validated{}) {
				t.Errorf("result %d = %+v, want missing", i, r)
			}
		}
		for i, validation := range map[int]bool{2: false, 3: true} {
			r := res[i]
			e := asError[*codec.DeserializationError](t, r.Err)
			if r.Found || e.Key != keys[i] || e.Model != "validated" || errors.Is(e, codec.ErrValidation) != validation {
				t.Errorf("result %d = %+v (%v), want a failed value", i, r, r.Err)
			}
		}
	}},
	{"GetMulti/Empty", func(t *testing.T, h *harness) {
		res, err := users(h).GetMulti(h.ctx, nil)
		if err != nil || res == nil || len(res) != 0 {
			t.Errorf("GetMulti(nil) = %#v, %v; want an empty list", res, err)
		}
	}},
	{"Delete", func(t *testing.T, h *harness) {
		// §2.9: true when a key was removed, false when there was none.
		s, k := users(h), h.key("gone")
		mustNil(t, s.Set(h.ctx, k, pyUser{1, "a"}))
		if ok, err := s.Delete(h.ctx, k); err != nil || !ok {
			t.Errorf("Delete = %v, %v; want true", ok, err)
		}
		if ok, err := s.Delete(h.ctx, k); err != nil || ok {
			t.Errorf("second Delete = %v, %v; want false", ok, err)
		}
		h.missing(t, k)
	}},
	{"Ping", func(t *testing.T, h *harness) {
		// §2.2
		if err := users(h).Ping(h.ctx); err != nil {
			t.Errorf("Ping: %v", err)
		}
		if !users(h).IsAlive(h.ctx) {
			t.Error("IsAlive = false")
		}
	}},
	{"SetWithTTL", func(t *testing.T, h *harness) {
		s, k := users(h), h.key("ttl")
		mustNil(t, s.SetWithTTL(h.ctx, k, pyUser{1, "a"}, time.Minute))
		if v, ok, err := s.Get(h.ctx, k); err != nil || !ok || v != (pyUser{1, "a"}) {
			t.Errorf("Get = %v, %v, %v", v, ok, err)
		}
		ttl, err := h.kv.(kv.Expirer).TTL(h.ctx, k)
		if err != nil || ttl <= 0 || ttl > time.Minute {
			t.Errorf("TTL = %v, %v", ttl, err)
		}
		mustNil(t, s.Set(h.ctx, k, pyUser{2, "b"}))
		if ttl, err := h.kv.(kv.Expirer).TTL(h.ctx, k); err != nil || ttl != kv.NoExpiry {
			t.Errorf("TTL after Set = %v, %v; want no expiry", ttl, err)
		}
	}},
	{"Concurrent", func(t *testing.T, h *harness) {
		// §3.2 test_concurrent_operations: 10 concurrent set + get_raw pairs
		// on distinct keys through one client; then mixed operations on
		// shared keys, for -race.
		s := codec.New[string](h.kv, nil)
		g, ctx := errgroup.WithContext(h.ctx)
		for i := range 10 {
			g.Go(func() error {
				k, v := h.key(fmt.Sprint("c:", i)), fmt.Sprint("value-", i)
				if err := s.Set(ctx, k, v); err != nil {
					return err
				}
				got, ok, err := s.GetRaw(ctx, k)
				if err != nil || !ok || string(got) != v {
					return fmt.Errorf("GetRaw(%q) = %q, %v, %v; want %q", k, got, ok, err, v)
				}
				return nil
			})
		}
		mustNil(t, g.Wait())
		us := users(h)
		g, ctx = errgroup.WithContext(h.ctx)
		for i := range 16 {
			g.Go(func() error {
				for j := range 20 {
					k := h.key(fmt.Sprint("shared:", j%4))
					if err := us.Set(ctx, k, pyUser{i, "n"}); err != nil {
						return err
					}
					if _, _, err := us.Get(ctx, k); err != nil {
						return err
					}
					if _, err := us.GetMulti(ctx, []string{k, h.key("shared:0")}); err != nil {
						return err
					}
					if j%5 == 0 {
						if _, err := us.Delete(ctx, k); err != nil {
							return err
						}
					}
				}
				return nil
			})
		}
		mustNil(t, g.Wait())
	}},
	{"InvalidKey", func(t *testing.T, h *harness) {
		s := users(h)
		_, _, err1 := s.Get(h.ctx, "")
		err2 := s.Set(h.ctx, "", pyUser{})
		_, err3 := s.Delete(h.ctx, "")
		_, err4 := s.Keys(h.ctx, "")
		_, err5 := s.GetMulti(h.ctx, []string{h.key("a"), ""})
		for i, err := range []error{err1, err2, err3, err4, err5} {
			if !errors.Is(err, kv.ErrInvalid) {
				t.Errorf("call %d: %v, want kv.ErrInvalid", i+1, err)
			}
		}
	}},
}

// runBehaviours runs every case of behaviours on b.
func runBehaviours(t *testing.T, b *backend) {
	for _, c := range behaviours {
		t.Run(c.name, func(t *testing.T) {
			h := &harness{ctx: backendtest.Context(t), kv: b.store(t), prefix: "codec-test:" + t.Name() + ":", b: b}
			t.Cleanup(func() { deletePrefix(t, h.kv, h.pattern("*")) })
			c.run(t, h)
		})
	}
}

// deletePrefix deletes the keys matching pattern; the server may be shared.
func deletePrefix(t *testing.T, s kv.Store, pattern string) {
	ctx := backendtest.Context(t)
	keys, err := kv.Keys(ctx, s, pattern)
	if err != nil {
		t.Errorf("cleanup: %v", err)
	}
	for _, k := range keys {
		if _, err := s.Delete(ctx, k); err != nil {
			t.Errorf("cleanup: %v", err)
		}
	}
}

// historyList makes key a history, which a plain Get rejects with
// kv.ErrWrongType (a Redis list on the Redis backends).
func historyList(s kv.Store) func(t *testing.T, key string) {
	return func(t *testing.T, key string) {
		t.Helper()
		if _, err := s.(kv.Historian).Append(backendtest.Context(t), key, []byte("x")); err != nil {
			t.Fatal(err)
		}
	}
}

func TestMemory(t *testing.T) {
	b := &backend{}
	b.store = func(t *testing.T) kv.Store {
		s := newMemory(t)
		b.makeList = historyList(s)
		return s
	}
	runBehaviours(t, b)
}

// redisBackend is a backend on the Redis server srv, through store; a list
// is made with RPUSH by a client of its own.
func redisBackend(srv *redistest.Server, store kv.Store) *backend {
	return &backend{
		store: func(*testing.T) kv.Store { return store },
		makeList: func(t *testing.T, key string) {
			t.Helper()
			if _, err := srv.Do("RPUSH", key, "x"); err != nil {
				t.Fatal(err)
			}
		},
		host: srv.Addr(),
	}
}

// newGoredis returns a goredis store over a new client of srv, closed (with
// its client) when t ends.
func newGoredis(t *testing.T, opts *redis.Options) *goredis.Store {
	t.Helper()
	s := goredis.New(redis.NewClient(opts), &goredis.Options{CloseClient: true})
	t.Cleanup(func() { _ = s.Close() })
	return s
}

func TestGoredis(t *testing.T) {
	srv := redistest.New(t)
	runBehaviours(t, redisBackend(srv, newGoredis(t, &redis.Options{Addr: srv.Addr()})))
}

// TestGoredisServerDown checks the connection error mapping of §2.2 and §2.4:
// a server that was killed makes every call a ConnectionError and IsAlive
// false.
func TestGoredisServerDown(t *testing.T) {
	srv := redistest.Start(t, nil)
	s := newGoredis(t, &redis.Options{Addr: srv.Addr(), MaxRetries: -1, DialerRetries: 1})
	serverDown(t, srv, s)
}

// serverDown kills srv and checks the errors of calls through s.
func serverDown(t *testing.T, srv *redistest.Server, s kv.Store) {
	t.Helper()
	ctx := backendtest.Context(t)
	us := codec.New(s, &codec.Options[pyUser]{Host: "localhost"})
	mustNil(t, us.Set(ctx, "k", pyUser{1, "a"}))
	if !us.IsAlive(ctx) {
		t.Fatal("IsAlive = false before the kill")
	}
	srv.Kill()
	if us.IsAlive(ctx) {
		t.Error("IsAlive = true after the kill")
	}
	_, _, errGet := us.Get(ctx, "k")
	errSet := us.Set(ctx, "k", pyUser{2, "b"})
	_, errDel := us.Delete(ctx, "k")
	_, errMulti := us.GetMulti(ctx, []string{"k"})
	_, errKeys := us.Keys(ctx, "*")
	errPing := us.Ping(ctx)
	for i, err := range []error{errGet, errSet, errDel, errMulti, errKeys, errPing} {
		e := asError[*codec.ConnectionError](t, err)
		if e.Host != "localhost" || !errors.Is(err, kv.ErrUnavailable) ||
			!strings.HasPrefix(err.Error(), "Error connecting to Redis host localhost: ") {
			t.Errorf("call %d: %q, want a connection error wrapping kv.ErrUnavailable", i+1, err)
		}
	}
}

// TestClosedStore checks that calls on a closed store are connection errors
// wrapping kv.ErrClosed.
func TestClosedStore(t *testing.T) {
	t.Run("memory", func(t *testing.T) {
		closedStore(t, func(*testing.T) kv.Store { return memory.New(nil) })
	})
	t.Run("goredis", func(t *testing.T) {
		srv := redistest.New(t)
		closedStore(t, func(t *testing.T) kv.Store { return newGoredis(t, &redis.Options{Addr: srv.Addr()}) })
	})
}

// closedStore closes a store made by open and checks the errors of calls
// through it.
func closedStore(t *testing.T, open func(t *testing.T) kv.Store) {
	ctx := backendtest.Context(t)
	s := open(t)
	mustNil(t, s.Close())
	us := codec.New[pyUser](s, nil)
	if us.IsAlive(ctx) {
		t.Error("IsAlive on a closed store")
	}
	_, _, errGet := us.Get(ctx, "k")
	errSet := us.Set(ctx, "k", pyUser{})
	_, errMulti := us.GetMulti(ctx, []string{"k"})
	for i, err := range []error{errGet, errSet, errMulti, us.Ping(ctx)} {
		asError[*codec.ConnectionError](t, err)
		if !errors.Is(err, kv.ErrClosed) {
			t.Errorf("call %d: %v, want kv.ErrClosed", i+1, err)
		}
	}
}
